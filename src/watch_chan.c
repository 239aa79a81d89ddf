/* watch_chan: the watcher's channels: targets, changed pairs, syncs; see
 * watch.h. */
#include "watch_int.h"

#include <stdlib.h>
#include <string.h>

static void
add_chan(struct watcher *w, const struct channel_conf *ch,
    const struct strlist *boxes)
{
	struct watch_chan *c;

	w->chans = xreallocarray(w->chans, w->nchans + 1, sizeof(*w->chans));
	c = &w->chans[w->nchans++];
	memset(c, 0, sizeof(*c));
	c->ch = ch;
	for (size_t i = 0; boxes != NULL && i < boxes->n; i++)
		strlist_add(&c->boxes, boxes->v[i]);
}

static int
add_target(struct watcher *w, const struct config *cfg,
    const struct cli_target *t)
{
	const struct channel_conf *ch = config_find_channel(cfg, t->name);
	const struct group_conf *g = config_find_group(cfg, t->name);

	if (ch != NULL) {
		add_chan(w, ch, &t->boxes);
		return 0;
	}
	if (g == NULL || t->boxes.n > 0) {
		log_error(w->lg, g == NULL ? "no channel or group named '%s' "
		    "in the configuration" : "'%s' is a group: mailboxes can "
		    "be named only after a channel", t->name);
		return -1;
	}
	for (size_t i = 0; i < g->nentries; i++)
		add_chan(w, g->entries[i].channel, &g->entries[i].boxes);
	return 0;
}

/* The command line's targets as channels; -1 (logged) when one is not in
 * cfg. */
int
watch_targets(struct watcher *w, const struct config *cfg)
{
	const struct cli_options *cli = w->o->cli;
	int rc = 0;

	if (cli->all) {
		for (size_t i = 0; i < cfg->nchannels; i++)
			add_chan(w, cfg->channels[i], NULL);
		return 0;
	}
	for (size_t i = 0; i < cli->ntargets; i++)
		if (add_target(w, cfg, &cli->targets[i]) != 0)
			rc = -1;
	return rc;
}

void
watch_chans_free(struct watcher *w)
{
	for (size_t i = 0; i < w->nchans; i++) {
		strlist_free(&w->chans[i].boxes);
		strlist_free(&w->chans[i].dirty);
	}
	free(w->chans);
	w->chans = NULL;
	w->nchans = 0;
}

static int
has_name(const struct strlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 1;
	return 0;
}

/* Pair name changed: synced once the changes settle (debounce). A
 * change also cuts short the wait after a failed sync. */
void
watch_mark(struct watcher *w, size_t chan, const char *name,
    unsigned debounce_ms)
{
	struct watch_chan *c = &w->chans[chan];
	int64_t now = watch_now();

	if (!has_name(&c->dirty, name))
		strlist_add(&c->dirty, name);
	if (c->first == 0)
		c->first = now;
	c->due = now + debounce_ms;
	if (c->due > c->first + WATCH_DEBOUNCE_MAX_MS)
		c->due = c->first + WATCH_DEBOUNCE_MAX_MS;
}

/* One channel_run() over a pool of its own. */
static int
sync_boxes(struct watcher *w, struct watch_chan *c,
    const struct strlist *boxes)
{
	struct channel_run_opts ro = *w->o->run;
	int rc;

	if (interrupted(ro.stop))
		return -1;
	ro.pool = store_pool_new();
	rc = channel_run(w->cfg, c->ch, boxes, &ro);
	store_pool_free(ro.pool);
	return rc;
}

void
watch_sync_full(struct watcher *w, size_t chan)
{
	struct watch_chan *c = &w->chans[chan];
	unsigned interval = c->ch->opt.watch_interval;

	log_verbose(w->lg, "watch: syncing channel %s", c->ch->name);
	if (sync_boxes(w, c, &c->boxes) == 0) {	/* it took every change */
		strlist_free(&c->dirty);
		c->due = 0;
		c->first = 0;
		c->backoff = 0;
	}
	c->full_at = interval > 0 ? watch_now() + (int64_t)interval * 1000 :
	    0;
}

/* The pairs of c waiting for a sync; a failure puts them back for a
 * retry after a back-off. */
static void
sync_dirty(struct watcher *w, struct watch_chan *c)
{
	struct strlist todo = c->dirty;
	const struct strlist *boxes = &todo;
	int rc;

	memset(&c->dirty, 0, sizeof(c->dirty));
	c->due = 0;
	c->first = 0;
	if (has_name(&todo, ""))	/* a channel without Patterns */
		boxes = &c->boxes;
	log_verbose(w->lg, "watch: changes in channel %s; syncing",
	    c->ch->name);
	rc = sync_boxes(w, c, boxes);
	if (rc == 0 || interrupted(w->o->run->stop)) {
		c->backoff = 0;
		strlist_free(&todo);
		return;
	}
	for (size_t i = 0; i < todo.n; i++)
		if (!has_name(&c->dirty, todo.v[i]))
			strlist_add(&c->dirty, todo.v[i]);
	c->due = watch_now() + watch_backoff(w, &c->backoff);
	log_info(w->lg, "watch: channel %s will be synced again in %lld s",
	    c->ch->name, (long long)((c->due - watch_now() + 999) / 1000));
	strlist_free(&todo);
}

void
watch_sync_due(struct watcher *w, int64_t now)
{
	for (size_t i = 0; i < w->nchans; i++) {
		struct watch_chan *c = &w->chans[i];

		if (interrupted(w->o->run->stop))
			return;
		if (c->full_at != 0 && c->full_at <= now) {
			watch_sync_full(w, i);
			continue;
		}
		if (c->due != 0 && c->due <= now)
			sync_dirty(w, c);
	}
}

int64_t
watch_chan_deadline(const struct watcher *w)
{
	int64_t t = 0;

	for (size_t i = 0; i < w->nchans; i++) {
		const struct watch_chan *c = &w->chans[i];

		if (c->full_at != 0 && (t == 0 || c->full_at < t))
			t = c->full_at;
		if (c->due != 0 && (t == 0 || c->due < t))
			t = c->due;
	}
	return t;
}
