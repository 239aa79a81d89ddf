/*
 * watch_int: the watcher's private state, shared by watch.c (the loop,
 * signals, reload), watch_chan.c (targets, dirty pairs, syncs) and
 * watch_src.c (IDLE and NOTIFY connections, inotify).
 *
 * Contract:
 *  - The watcher owns its channels, boxes, stores and fs watch; chans[].ch
 *    point into the configuration the watcher was started with, which
 *    outlives it (watcher_stop() comes before any config_free()).
 *  - Times are milliseconds of watch_now() (tw_clock_with_suspend(),
 *    compat.h: suspended time counts where the platform can); 0 means
 *    "not scheduled".
 */
#ifndef TWINBOX_WATCH_INT_H
#define TWINBOX_WATCH_INT_H

#include <poll.h>
#include <stdint.h>

#include "watch.h"
#include "watch_fs.h"

/* One side of a watched pair. */
struct watch_side {
	struct store *store;	/* IDLE-ing (IMAP), or NULL */
	int imap;		/* an IMAP side: store is wanted */
	int given_up;		/* cannot IDLE there: periodic sync only */
	int fs_lost;		/* Maildir: its folder went away, watched
				   again at retry_at */
	int64_t retry_at;	/* next connection attempt, store NULL */
	int64_t refresh_at;	/* DONE + IDLE due, store set */
	unsigned backoff;	/* the last wait, ms */
};

struct watch_box {
	size_t chan;		/* index into chans */
	char *name;		/* the channel's pair name */
	struct watch_side side[2];
};

/* The NOTIFY connection of one IMAPStore: every watched mailbox on it. */
struct watch_notify {
	const struct store_conf *sc;
	struct store *store;	/* NOTIFY + IDLE, or NULL */
	size_t *box;		/* members: box index and side */
	enum side *side;
	size_t n;
	struct strlist names;	/* the members' names, the store's form */
	int off;		/* no NOTIFY: members IDLE one by one */
	int64_t retry_at;	/* next connection attempt, store NULL */
	int64_t refresh_at;	/* DONE + IDLE due, store set */
	unsigned backoff;	/* the last wait, ms */
};

struct watch_chan {
	const struct channel_conf *ch;
	struct strlist boxes;	/* the command line's; empty: all */
	struct strlist dirty;	/* pair names waiting for a sync */
	int64_t first;		/* first change of the waiting ones */
	int64_t due;		/* when they are synced */
	int64_t full_at;	/* next full sync */
	unsigned backoff;	/* after a failed sync, ms */
};

struct watcher {
	const struct config *cfg;
	const struct watch_opts *o;
	const struct logger *lg;
	struct watch_chan *chans;
	size_t nchans;
	struct watch_box *boxes;
	size_t nboxes;
	struct watch_notify *notify;	/* one per watched IMAPStore */
	size_t nnotify;
	struct fs_watch *fs;	/* NULL: no inotify */
	uint64_t rng;
};

/* watch.c */
int64_t watch_now(void);
unsigned watch_backoff(struct watcher *w, unsigned *last);

/* watch_chan.c */
int watch_targets(struct watcher *w, const struct config *cfg);
void watch_chans_free(struct watcher *w);
/* Pair name of chan changed; synced after debounce_ms of quiet. */
void watch_mark(struct watcher *w, size_t chan, const char *name,
    unsigned debounce_ms);
void watch_sync_full(struct watcher *w, size_t chan);
void watch_sync_due(struct watcher *w, int64_t now);
int64_t watch_chan_deadline(const struct watcher *w);

/* watch_src.c */
void watch_sources_start(struct watcher *w);
void watch_sources_stop(struct watcher *w);
size_t watch_src_count(const struct watcher *w);
size_t watch_src_pollfds(const struct watcher *w, struct pollfd *fds,
    size_t *owner, int *ready);
void watch_src_events(struct watcher *w, const struct pollfd *fds,
    const size_t *owner, size_t n);
void watch_src_timers(struct watcher *w, int64_t now);
int64_t watch_src_deadline(const struct watcher *w);

/* watch_idle.c: one IMAP side's IDLE connection. */
void watch_idle_connect(struct watcher *w, size_t box, enum side s);
/* readable: poll() said so; bytes already buffered are read anyway. */
void watch_idle_read(struct watcher *w, size_t box, enum side s,
    int readable);
void watch_idle_refresh(struct watcher *w, size_t box, enum side s);
/* A connection of its own to sc, for IDLE or NOTIFY; NULL and err. */
struct store *watch_open_idle_store(const struct watcher *w,
    const struct store_conf *sc, struct buf *err);

/* watch_notify.c: one store's NOTIFY connection (group k); a store
 * without NOTIFY hands its members to watch_idle.c. */
void watch_notify_add(struct watcher *w, size_t box, enum side s);
void watch_notify_free(struct watcher *w);
void watch_notify_connect(struct watcher *w, size_t k);
void watch_notify_read(struct watcher *w, size_t k, int readable);
void watch_notify_refresh(struct watcher *w, size_t k);

#endif
