/* watch_src: what tells the watcher that a mailbox changed: an IDLE
 * connection per IMAP side, inotify per Maildir side; see watch.h. */
#include "watch_int.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "imap/store_imap.h"
#include "store_names.h"
#include "sync/select.h"

static void
add_box(struct watcher *w, size_t chan, const char *name)
{
	struct watch_box *b;

	w->boxes = xreallocarray(w->boxes, w->nboxes + 1, sizeof(*w->boxes));
	b = &w->boxes[w->nboxes++];
	memset(b, 0, sizeof(*b));
	b->chan = chan;
	b->name = xstrdup(name);
}

/* The channel's mailboxes cannot be listed (a server down at start):
 * the patterns that are plain names are watched all the same, and their
 * IDLE connections are tried until the server is back. */
static void
add_literal_boxes(struct watcher *w, size_t i, const struct strlist *pats)
{
	log_warn(w->lg, "watch: channel %s: its mailboxes cannot be listed; "
	    "watching those WatchMailboxes names without wildcards",
	    w->chans[i].ch->name);
	for (size_t k = 0; k < pats->n; k++)
		if (pats->v[k][0] != '!' && strpbrk(pats->v[k], "*%") == NULL)
			add_box(w, i, pats->v[k]);
}

/* The pairs of channel i that are watched (watch.h). */
static void
choose_boxes(struct watcher *w, size_t i)
{
	const struct watch_chan *c = &w->chans[i];
	struct strlist names = { 0 }, inbox = { 0 };
	const struct strlist *pats = &c->ch->watch_boxes;
	struct channel_run_opts ro = *w->o->run;

	if (c->boxes.n > 0 || c->ch->patterns.n == 0) {
		for (size_t k = 0; k < c->boxes.n; k++)
			add_box(w, i, c->boxes.v[k]);
		if (c->boxes.n == 0)
			add_box(w, i, "");
		return;
	}
	strlist_add(&inbox, "INBOX");
	if (pats->n == 0)
		pats = &inbox;
	ro.pool = store_pool_new();
	if (channel_pair_names(w->cfg, c->ch, &ro, &names) == 0) {
		for (size_t k = 0; k < names.n; k++)
			if (select_match(pats, names.v[k]))
				add_box(w, i, names.v[k]);
	} else
		add_literal_boxes(w, i, pats);
	store_pool_free(ro.pool);
	strlist_free(&names);
	strlist_free(&inbox);
}

/* The folder of mailbox box on store st, into *dir. */
static int
local_dir(struct store *st, const char *box, char **dir, struct buf *err)
{
	if (st->ops->local_dir == NULL) {
		buf_setf(err, "the store keeps no folder of this machine");
		return -1;
	}
	return st->ops->local_dir(st, box, dir, err);
}

/* inotify on the cur/ and new/ of a Maildir side, tagged 2 * box +
 * side; a failure is a warning, or under -V only when the folder is
 * watched again (again: it may not be back yet). The callers try a
 * side that failed again later (lose_maildir()). */
static int
watch_maildir(struct watcher *w, size_t bi, enum side s, int again)
{
	const struct watch_box *b = &w->boxes[bi];
	const struct channel_conf *ch = w->chans[b->chan].ch;
	char *box = channel_side_box(ch, s, b->name), *dir = NULL;
	struct buf err = BUF_INIT, sub = BUF_INIT;
	const struct store_open how = { .dry_run = 1 };
	struct store *st = channel_open_store(ch->end[s].store, &how, w->lg,
	    &err);
	int rc = st == NULL ? -1 : local_dir(st, box, &dir, &err);

	for (int k = 0; rc == 0 && k < 2; k++) {
		buf_setf(&sub, "%s/%s", dir, k == 0 ? "cur" : "new");
		rc = fs_watch_add(w->fs, sub.data, 2 * bi + (size_t)s, &err);
	}
	buf_setf(&sub, "watch: channel %s mailbox '%s' (%s side): %s; its "
	    "changes wait for the %s", ch->name, box, side_names[s],
	    buf_cstr(&err), again ? "folder to be back" : "periodic sync "
	    "until it can be watched (tried again from time to time)");
	if (rc != 0 && again)
		log_verbose(w->lg, "%s", sub.data);
	else if (rc != 0)
		log_warn(w->lg, "%s", sub.data);
	else	/* what changed since the full sync, before the watch */
		watch_mark(w, b->chan, b->name, WATCH_DEBOUNCE_FS_MS);
	if (st != NULL)
		st->ops->free(st);
	free(box);
	free(dir);
	buf_free(&sub);
	buf_free(&err);
	return rc;
}

/* Side s of box bi is not watched (its folder went away, or was not
 * there to watch): tried again after a wait that grows like a
 * reconnection's. */
static void
lose_maildir(struct watcher *w, size_t bi, enum side s)
{
	struct watch_side *d = &w->boxes[bi].side[s];

	d->fs_lost = 1;
	d->retry_at = watch_now() + watch_backoff(w, &d->backoff);
}

/* A Maildir side whose folder went away: watched again once it is back
 * (the sync that the removal caused may create it again). */
static void
rewatch_maildir(struct watcher *w, size_t bi, enum side s)
{
	struct watch_side *d = &w->boxes[bi].side[s];

	if (watch_maildir(w, bi, s, 1) == 0) {
		d->fs_lost = 0;
		d->backoff = 0;
		return;
	}
	lose_maildir(w, bi, s);
}

static void
start_side(struct watcher *w, size_t bi, enum side s)
{
	struct watch_box *b = &w->boxes[bi];
	const struct store_conf *sc = w->chans[b->chan].ch->end[s].store;

	if (sc->kind == STORE_IMAP)	/* NOTIFY first, else IDLE */
		watch_notify_add(w, bi, s);
	else if (w->fs != NULL && watch_maildir(w, bi, s, 0) != 0)
		lose_maildir(w, bi, s);	/* not there yet: as if removed */
}

void
watch_sources_start(struct watcher *w)
{
	struct buf err = BUF_INIT;

	w->fs = fs_watch_new(&err);
	if (w->fs == NULL)
		log_warn(w->lg, "watch: %s", buf_cstr(&err));
	for (size_t i = 0; i < w->nchans; i++)
		choose_boxes(w, i);
	for (size_t bi = 0; bi < w->nboxes; bi++) {
		const struct channel_conf *ch = w->chans[w->boxes[bi].chan].ch;
		char *far = channel_side_box(ch, SIDE_FAR, w->boxes[bi].name);

		log_info(w->lg, "watch: channel %s: watching mailbox '%s'",
		    ch->name, far);
		free(far);
		for (int s = 0; s < 2; s++)
			start_side(w, bi, s);
	}
	buf_free(&err);
}

void
watch_sources_stop(struct watcher *w)
{
	for (size_t bi = 0; bi < w->nboxes; bi++) {
		for (int s = 0; s < 2; s++)
			if (w->boxes[bi].side[s].store != NULL)
				w->boxes[bi].side[s].store->ops->free(
				    w->boxes[bi].side[s].store);
		free(w->boxes[bi].name);
	}
	watch_notify_free(w);
	free(w->boxes);
	w->boxes = NULL;
	w->nboxes = 0;
	fs_watch_free(w->fs);
	w->fs = NULL;
}

/* An fs event for side tag (2 * box + side; FS_WATCH_ALL: any); lost:
 * that side's folder is watched no more (watch_fs.h). */
static void
on_fs_event(void *ctx, size_t tag, int lost)
{
	struct watcher *w = ctx;
	struct watch_side *d;

	for (size_t bi = 0; bi < w->nboxes; bi++)
		if (tag == FS_WATCH_ALL || tag / 2 == bi)
			watch_mark(w, w->boxes[bi].chan, w->boxes[bi].name,
			    WATCH_DEBOUNCE_FS_MS);
	if (!lost || tag == FS_WATCH_ALL || tag / 2 >= w->nboxes)
		return;
	d = &w->boxes[tag / 2].side[tag % 2];
	if (d->fs_lost)
		return;
	lose_maildir(w, tag / 2, (enum side)(tag % 2));
	log_verbose(w->lg, "watch: channel %s mailbox '%s' (%s side): its "
	    "folder was removed or renamed; watching it again once it is "
	    "back", w->chans[w->boxes[tag / 2].chan].ch->name,
	    w->boxes[tag / 2].name, side_names[tag % 2]);
}

/* The descriptors to poll: the fs watch's (owner FS_WATCH_ALL), then
 * one per IDLE connection (owner 2 * box + side), then one per NOTIFY
 * connection (owner 2 * nboxes + group); *ready is set when one has
 * bytes waiting already (poll without waiting). */
size_t
watch_src_pollfds(const struct watcher *w, struct pollfd *fds,
    size_t *owner, int *ready)
{
	size_t n = 0;
	int buffered;

	if (w->fs != NULL) {
		fds[n] = (struct pollfd){ fs_watch_fd(w->fs), POLLIN, 0 };
		owner[n++] = FS_WATCH_ALL;
	}
	for (size_t bi = 0; bi < w->nboxes; bi++)
		for (int s = 0; s < 2; s++) {
			struct store *st = w->boxes[bi].side[s].store;

			if (st == NULL)
				continue;
			fds[n] = (struct pollfd){ imap_store_idle_fd(
			    store_names_inner(st), &buffered), POLLIN, 0 };
			if (buffered)	/* read it without waiting */
				*ready = 1;
			owner[n++] = 2 * bi + (size_t)s;
		}
	for (size_t k = 0; k < w->nnotify; k++) {
		struct store *st = w->notify[k].store;

		if (st == NULL)
			continue;
		fds[n] = (struct pollfd){ imap_store_idle_fd(
		    store_names_inner(st), &buffered), POLLIN, 0 };
		if (buffered)
			*ready = 1;
		owner[n++] = 2 * w->nboxes + k;
	}
	return n;
}

/* How many descriptors watch_src_pollfds() may fill. */
size_t
watch_src_count(const struct watcher *w)
{
	return 1 + 2 * w->nboxes + w->nnotify;
}

void
watch_src_events(struct watcher *w, const struct pollfd *fds,
    const size_t *owner, size_t n)
{
	struct buf err = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (owner[i] != FS_WATCH_ALL && owner[i] >= 2 * w->nboxes) {
			watch_notify_read(w, owner[i] - 2 * w->nboxes,
			    fds[i].revents != 0);
			continue;
		}
		if (owner[i] != FS_WATCH_ALL) {
			watch_idle_read(w, owner[i] / 2,
			    (enum side)(owner[i] % 2), fds[i].revents != 0);
			continue;
		}
		if (fds[i].revents != 0) {
			if (fs_watch_read(w->fs, on_fs_event, w, &err) != 0)
				log_warn(w->lg, "watch: %s", buf_cstr(&err));
		}
	}
	buf_free(&err);
}

/* Connections to open again and IDLEs to refresh. */
void
watch_src_timers(struct watcher *w, int64_t now)
{
	for (size_t k = 0; k < w->nnotify; k++) {
		struct watch_notify *g = &w->notify[k];

		if (g->off)
			continue;
		if (g->store == NULL && g->retry_at <= now)
			watch_notify_connect(w, k);
		else if (g->store != NULL && g->refresh_at <= now)
			watch_notify_refresh(w, k);
	}
	for (size_t bi = 0; bi < w->nboxes; bi++)
		for (int s = 0; s < 2; s++) {
			struct watch_side *d = &w->boxes[bi].side[s];

			if (d->fs_lost && d->retry_at <= now)
				rewatch_maildir(w, bi, s);
			if (!d->imap || d->given_up)
				continue;
			if (d->store == NULL && d->retry_at <= now)
				watch_idle_connect(w, bi, s);
			else if (d->store != NULL && d->refresh_at <= now)
				watch_idle_refresh(w, bi, s);
		}
}

/* The nearest timer of the sources; 0: none. */
int64_t
watch_src_deadline(const struct watcher *w)
{
	int64_t t = 0;

	for (size_t k = 0; k < w->nnotify; k++) {
		const struct watch_notify *g = &w->notify[k];
		int64_t at = g->store ? g->refresh_at : g->retry_at;

		if (!g->off && (t == 0 || at < t))
			t = at;
	}
	for (size_t bi = 0; bi < w->nboxes; bi++)
		for (int s = 0; s < 2; s++) {
			const struct watch_side *d = &w->boxes[bi].side[s];
			int64_t at = d->store ? d->refresh_at : d->retry_at;

			if ((!d->imap || d->given_up) && !d->fs_lost)
				continue;
			if (t == 0 || at < t)
				t = at;
		}
	return t;
}
