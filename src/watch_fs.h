/*
 * watch_fs: notice changes to directories (the cur/ and new/ of watched
 * Maildir folders), for watch mode.
 *
 * Contract:
 *  - On Linux this is inotify: a file created, renamed into, out of or
 *    within, or removed from a watched directory is an event carrying
 *    the tag the directory was added with. Elsewhere, and in the portable
 *    build (TW_COMPAT_INOTIFY, compat.h), fs_watch_new() fails saying so,
 *    and watch mode falls back to its periodic sync alone.
 *  - fs_watch_fd() is the descriptor to poll; fs_watch_read() reads every
 *    event waiting (it never blocks) and calls fn once for each event's
 *    tag (repeats included), lost 0. An event queue overflow calls fn
 *    with FS_WATCH_ALL: anything may have changed.
 *  - A watched directory that is removed, or renamed (the watch would
 *    follow it under its new name), is watched no more: fn is called
 *    with its tag and lost 1, once, and the caller adds it again when
 *    the directory is back (fs_watch_add() on a directory watched
 *    already changes nothing).
 *  - Every failure is -1 with a message in err naming the directory.
 *  - The object is the caller's, released by fs_watch_free().
 */
#ifndef TWINBOX_WATCH_FS_H
#define TWINBOX_WATCH_FS_H

#include <stddef.h>

#include "util/buf.h"

#define FS_WATCH_ALL ((size_t)-1)

struct fs_watch;

struct fs_watch *fs_watch_new(struct buf *err);
void fs_watch_free(struct fs_watch *w);
int fs_watch_add(struct fs_watch *w, const char *dir, size_t tag,
    struct buf *err);
int fs_watch_fd(const struct fs_watch *w);
int fs_watch_read(struct fs_watch *w,
    void (*fn)(void *ctx, size_t tag, int lost), void *ctx, struct buf *err);

#endif
