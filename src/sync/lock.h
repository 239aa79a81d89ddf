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
 *  - On success (PAIR_LOCK_TAKEN) *fd_out holds the descriptor, owned by
 *    the caller until pair_unlock(). When another holder has the lock,
 *    PAIR_LOCK_BUSY is returned with err saying so and naming the lock
 *    file: the caller may try again later (how long to wait is its
 *    policy). Any other failure is PAIR_LOCK_FAILED with err set.
 */
#ifndef TWINBOX_SYNC_LOCK_H
#define TWINBOX_SYNC_LOCK_H

#include "util/buf.h"

enum pair_lock_result {
	PAIR_LOCK_TAKEN = 0,
	PAIR_LOCK_FAILED = -1,
	PAIR_LOCK_BUSY = -2
};

int pair_lock(const char *lock_path, int *fd_out, struct buf *err);
void pair_unlock(int fd);

#endif
