/* watch_notify: one NOTIFY (RFC 5465) connection per IMAPStore for every
 * watched mailbox on it; see watch.h. */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

#include "imap/store_imap.h"
#include "store_names.h"

/* The group of the store of box's side s, made when missing. */
static struct watch_notify *
group_of(struct watcher *w, const struct store_conf *sc)
{
	struct watch_notify *g;

	for (size_t k = 0; k < w->nnotify; k++)
		if (w->notify[k].sc == sc)
			return &w->notify[k];
	w->notify = xreallocarray(w->notify, w->nnotify + 1,
	    sizeof(*w->notify));
	g = &w->notify[w->nnotify++];
	memset(g, 0, sizeof(*g));
	g->sc = sc;
	g->retry_at = watch_now();
	return g;
}

void
watch_notify_add(struct watcher *w, size_t box, enum side s)
{
	const struct channel_conf *ch = w->chans[w->boxes[box].chan].ch;
	struct watch_notify *g = group_of(w, ch->end[s].store);

	g->box = xreallocarray(g->box, g->n + 1, sizeof(*g->box));
	g->side = xreallocarray(g->side, g->n + 1, sizeof(*g->side));
	g->box[g->n] = box;
	g->side[g->n++] = s;
}

void
watch_notify_free(struct watcher *w)
{
	for (size_t k = 0; k < w->nnotify; k++) {
		if (w->notify[k].store != NULL)
			w->notify[k].store->ops->free(w->notify[k].store);
		free(w->notify[k].box);
		free(w->notify[k].side);
		strlist_free(&w->notify[k].names);
	}
	free(w->notify);
	w->notify = NULL;
	w->nnotify = 0;
}

static void
mark_all(struct watcher *w, const struct watch_notify *g)
{
	for (size_t i = 0; i < g->n; i++)
		watch_mark(w, w->boxes[g->box[i]].chan,
		    w->boxes[g->box[i]].name, WATCH_DEBOUNCE_SERVER_MS);
}

/* NOTIFY is not to be had: each mailbox IDLEs on a connection of its
 * own (watch_idle.c), as on a server without NOTIFY. */
static void
fall_back(struct watcher *w, struct watch_notify *g, int why,
    const struct buf *err)
{
	if (why == IMAP_NOTIFY_REFUSED)	/* offered, yet refused: say so */
		log_warn(w->lg, "watch: store %s: %s; each watched mailbox "
		    "IDLEs on a connection of its own", g->sc->name,
		    buf_cstr(err));
	else	/* most servers: nothing to warn about */
		log_verbose(w->lg, "watch: store %s: %s; each watched mailbox "
		    "IDLEs on a connection of its own", g->sc->name,
		    buf_cstr(err));
	g->off = 1;
	for (size_t i = 0; i < g->n; i++) {
		struct watch_side *d = &w->boxes[g->box[i]].side[g->side[i]];

		d->imap = 1;
		d->retry_at = watch_now();
	}
}

/* Close the connection and try again after a back-off. */
static void
drop(struct watcher *w, struct watch_notify *g, const struct buf *err)
{
	unsigned wait;

	if (g->store != NULL)
		g->store->ops->free(g->store);
	g->store = NULL;
	if (interrupted(w->o->run->stop))
		return;
	wait = watch_backoff(w, &g->backoff);
	g->retry_at = watch_now() + wait;
	log_warn(w->lg, "watch: store %s: NOTIFY: no connection; the watcher "
	    "tries again in a while: %s", g->sc->name, buf_cstr(err));
	log_verbose(w->lg, "watch: next attempt in %u ms", wait);
}

/* The server's names of the members, as the store's open() takes them. */
static int
member_names(struct watcher *w, struct watch_notify *g, struct buf *err)
{
	int rc = 0;

	strlist_free(&g->names);
	for (size_t i = 0; rc == 0 && i < g->n; i++) {
		const struct watch_box *b = &w->boxes[g->box[i]];
		char *box = channel_side_box(w->chans[b->chan].ch,
		    g->side[i], b->name), *inner = NULL;

		rc = store_names_to_inner(g->store, box, &inner, err);
		if (rc == 0)
			strlist_add(&g->names, inner);
		free(box);
		free(inner);
	}
	return rc;
}

void
watch_notify_connect(struct watcher *w, size_t k)
{
	struct watch_notify *g = &w->notify[k];
	struct buf err = BUF_INIT;
	int rc;

	g->store = watch_open_idle_store(w, g->sc, &err);
	rc = g->store == NULL ? -1 : member_names(w, g, &err);
	if (rc == 0)
		rc = imap_store_notify_start(store_names_inner(g->store),
		    &g->names, &err);
	if (rc == IMAP_NOTIFY_REFUSED || rc == IMAP_NOTIFY_NOT_OFFERED) {
		g->store->ops->free(g->store);
		g->store = NULL;
		fall_back(w, g, rc, &err);
	} else if (rc != 0)
		drop(w, g, &err);
	else {
		log_verbose(w->lg, "watch: store %s: NOTIFY for %zu "
		    "mailbox(es), then IDLE", g->sc->name, g->n);
		g->backoff = 0;
		g->refresh_at = watch_now() +
		    (int64_t)w->chans[w->boxes[g->box[0]].chan].ch->
		    opt.watch_refresh * 1000;
		mark_all(w, g);	/* what came before NOTIFY began */
	}
	buf_free(&err);
}

/* The members whose mailbox is in changed. */
static void
mark_changed(struct watcher *w, const struct watch_notify *g,
    const struct strlist *changed)
{
	for (size_t i = 0; i < g->n; i++)
		for (size_t c = 0; c < changed->n; c++)
			if (strcmp(g->names.v[i], changed->v[c]) == 0)
				watch_mark(w, w->boxes[g->box[i]].chan,
				    w->boxes[g->box[i]].name,
				    WATCH_DEBOUNCE_SERVER_MS);
}

void
watch_notify_read(struct watcher *w, size_t k, int readable)
{
	struct watch_notify *g = &w->notify[k];
	struct store *inner = store_names_inner(g->store);
	struct strlist changed = { 0 };
	struct buf err = BUF_INIT;
	int buffered;

	(void)imap_store_idle_fd(inner, &buffered);
	if (!readable && !buffered)
		return;
	if (imap_store_notify_read(inner, &changed, &err) != 0)
		drop(w, g, &err);
	mark_changed(w, g, &changed);
	strlist_free(&changed);
	buf_free(&err);
}

/* DONE, then IDLE again (watch_idle_refresh()'s reasons). */
void
watch_notify_refresh(struct watcher *w, size_t k)
{
	struct watch_notify *g = &w->notify[k];
	struct store *inner = store_names_inner(g->store);
	struct strlist changed = { 0 };
	struct buf err = BUF_INIT;
	int rc;

	log_debug(w->lg, "watch: store %s: refreshing NOTIFY's IDLE",
	    g->sc->name);
	rc = imap_store_notify_done(inner, &changed, &err);
	if (rc == 0)
		rc = imap_store_notify_again(inner, &err);
	mark_changed(w, g, &changed);
	if (rc != 0)
		drop(w, g, &err);
	else
		g->refresh_at = watch_now() +
		    (int64_t)w->chans[w->boxes[g->box[0]].chan].ch->
		    opt.watch_refresh * 1000;
	strlist_free(&changed);
	buf_free(&err);
}
