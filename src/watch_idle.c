/* watch_idle: one IMAP side of a watched pair, IDLE-ing on its mailbox
 * over a connection of its own; see watch.h. */
#include "watch_int.h"

#include <stdlib.h>

#include "imap/store_imap.h"
#include "store_names.h"

static const struct channel_conf *
box_chan(const struct watcher *w, size_t box)
{
	return w->chans[w->boxes[box].chan].ch;
}

static void
say(const struct watcher *w, size_t box, enum side s, const char *what,
    const struct buf *err)
{
	const struct watch_box *b = &w->boxes[box];

	log_warn(w->lg, "watch: channel %s mailbox '%s', %s side: %s: %s",
	    box_chan(w, box)->name, b->name, side_names[s],
	    what, buf_cstr(err));
}

/* Close the connection; a later attempt opens it again, unless the
 * failure says it never will work (the server has no IDLE, the mailbox
 * does not exist): then the periodic sync alone serves this side. */
static void
drop(struct watcher *w, size_t box, enum side s, const struct buf *err,
    int for_good)
{
	struct watch_side *d = &w->boxes[box].side[s];
	unsigned wait;

	if (d->store != NULL)
		d->store->ops->free(d->store);
	d->store = NULL;
	if (interrupted(w->o->run->stop))
		return;
	if (for_good) {
		d->given_up = 1;
		say(w, box, s, "not watched; its changes wait for the "
		    "periodic sync", err);
		return;
	}
	wait = watch_backoff(w, &d->backoff);
	d->retry_at = watch_now() + wait;
	say(w, box, s, "no connection; the watcher tries again in a while",
	    err);
	log_verbose(w->lg, "watch: next attempt in %u ms", wait);
}

/* Whether a failure of st is for good: the store itself still works. */
static int
for_good(const struct store *st)
{
	return st != NULL && store_failure(st) == STORE_FAIL_MAILBOX;
}

/* The store's own connection options, but every wait bounded even where
 * Timeout is 0 (none): the answer to DONE must prove the connection. */
struct store *
watch_open_idle_store(const struct watcher *w, const struct store_conf *sc,
    struct buf *err)
{
	struct imap_store_options io;
	struct buf label = BUF_INIT;
	struct store *st;

	imap_store_options_from_conf(sc, &io);
	io.stop = w->o->run->stop;
	if (io.timeout == 0)
		io.timeout = WATCH_TIMEOUT_S;
	/* The trace names an IDLE connection apart from the sync's. */
	buf_setf(&label, "%s#idle", sc->account->name);
	io.label = label.data;
	st = imap_store_new(&io, w->lg, err);
	buf_free(&label);
	return st == NULL ? NULL : store_names_wrap(st, sc->name, sc->flatten,
	    sc->map_inbox);
}

void
watch_idle_connect(struct watcher *w, size_t box, enum side s)
{
	struct watch_side *d = &w->boxes[box].side[s];
	const struct channel_conf *ch = box_chan(w, box);
	char *name = channel_side_box(ch, s, w->boxes[box].name);
	struct buf err = BUF_INIT;
	struct mbox_status st;
	struct store *store = watch_open_idle_store(w, ch->end[s].store,
	    &err);
	int rc = store == NULL ? -1 : 0;

	if (rc == 0)
		rc = store->ops->open(store, name, &st, &err);
	if (rc == 0)
		rc = imap_store_idle_start(store_names_inner(store), &err);
	d->store = store;
	if (rc != 0)
		drop(w, box, s, &err, for_good(store));
	else {
		log_verbose(w->lg, "watch: channel %s mailbox '%s': IDLE",
		    ch->name, name);
		d->backoff = 0;
		d->refresh_at = watch_now() +
		    (int64_t)ch->opt.watch_refresh * 1000;
		/* What came before IDLE began (while it was away, or since
		 * the full sync) is synced now. */
		watch_mark(w, w->boxes[box].chan, w->boxes[box].name,
		    WATCH_DEBOUNCE_SERVER_MS);
	}
	free(name);
	buf_free(&err);
}

void
watch_idle_read(struct watcher *w, size_t box, enum side s, int readable)
{
	struct watch_side *d = &w->boxes[box].side[s];
	struct store *inner = store_names_inner(d->store);
	struct buf err = BUF_INIT;
	unsigned changed = 0;
	int buffered;

	(void)imap_store_idle_fd(inner, &buffered);
	if (!readable && !buffered)
		return;
	if (imap_store_idle_read(inner, &changed, &err) != 0)
		drop(w, box, s, &err, 0);
	if (changed > 0)
		watch_mark(w, w->boxes[box].chan, w->boxes[box].name,
		    WATCH_DEBOUNCE_SERVER_MS);
	buf_free(&err);
}

/* DONE, then IDLE again: RFC 2177's 29 minutes, and the proof that the
 * connection still works (a suspended laptop's is long dead). */
void
watch_idle_refresh(struct watcher *w, size_t box, enum side s)
{
	struct watch_side *d = &w->boxes[box].side[s];
	struct store *inner = store_names_inner(d->store);
	struct buf err = BUF_INIT;
	unsigned changed = 0;
	int rc;

	log_debug(w->lg, "watch: channel %s mailbox '%s': refreshing IDLE",
	    box_chan(w, box)->name, w->boxes[box].name);
	rc = imap_store_idle_done(inner, &changed, &err);
	if (rc == 0)
		rc = imap_store_idle_start(inner, &err);
	if (changed > 0)
		watch_mark(w, w->boxes[box].chan, w->boxes[box].name,
		    WATCH_DEBOUNCE_SERVER_MS);
	if (rc != 0)
		drop(w, box, s, &err, 0);
	else
		d->refresh_at = watch_now() +
		    (int64_t)box_chan(w, box)->opt.watch_refresh * 1000;
	buf_free(&err);
}
