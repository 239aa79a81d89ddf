/*
 * lock: one twinbox process at a time per mailbox pair.
 *
 * Contract:
 *  - pair_lock() takes an exclusive flock() on the lock file (created 0600
 *    if missing) without waiting. The lock belongs to the open file, so it
 *    is released by pair_unlock() or when the process ends in any way
 *    (kill -9 included): a crash never leaves a stale lock behind, and the
 *    lock file itself is never removed (removing it would let two
 *    processes lock two different files of the same name).
 *  - flock() locks conflict between two opens in the same process too, so
 *    parallel workers of one process are kept apart as well.
 *  - On success *fd_out holds the descriptor, owned by the caller until
 *    pair_unlock(). On failure -1 is returned with err set; when another
 *    process holds the lock the text says so and names the lock file.
 */
#ifndef TWINBOX_SYNC_LOCK_H
#define TWINBOX_SYNC_LOCK_H

#include "util/buf.h"

int pair_lock(const char *lock_path, int *fd_out, struct buf *err);
void pair_unlock(int fd);

#endif
