/*
 * state_file: the files of a pair's state on disk. state_file.c reads
 * and writes the state file (state_read(), state_read_head() and
 * state_write(), declared in state.h); these helpers are the whole of
 * its file I/O, which the journal and the reader of mbsync's state use
 * too. Records are encoded and decoded by state_rec.h, never here.
 *
 * Contract: every error names the path and strerror(errno); nothing
 * allocates except into the caller's bufs.
 */
#ifndef TWINBOX_SYNC_STATE_FILE_H
#define TWINBOX_SYNC_STATE_FILE_H

#include <stddef.h>

#include "util/buf.h"

/* Append the whole file to out; a missing file sets *found = 0. */
int state_file_read(const char *path, struct buf *out, int *found,
    struct buf *err);
/* As state_file_read(), but at most head_max bytes into head (the head
 * of a file), and from the same open file its last tail_max bytes (fewer
 * for a shorter file) into tail: the two ends of a file, read without
 * what lies between them. */
int state_file_read_ends(const char *path, struct buf *head,
    size_t head_max, struct buf *tail, size_t tail_max, int *found,
    struct buf *err);
/* Write all len bytes of p to fd (path names it in errors). */
int state_file_write_all(int fd, const char *p, size_t len,
    const char *path, struct buf *err);
/* fsync the directory holding path, so a rename or unlink is durable. */
int state_file_sync_dir(const char *path, struct buf *err);

#endif
