/* channel: run one configured channel; see channel.h. */
#include "channel.h"
#include "channel_adopt.h"
#include "channel_workers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imap/store_imap.h"
#include "maildir/maildir.h"
#include "store_names.h"
#include "sync/mailbox.h"
#include "sync/plan_mbox.h"
#include "sync/select.h"
#include "sync/state_path.h"
#include "sync/verify_mailbox.h"
#include "util/units.h"

/* What one run of a channel holds. */
struct chan_run {
	const struct config *cfg;
	const struct channel_conf *ch;
	const struct channel_run_opts *opts;
	struct store *store[2];
	struct strlist listed[2];	/* what each store holds */
	struct channel_opts opt;	/* the channel's, with the command
					   line's overrides */
	struct sync_policy policy;
	int named;	/* the mailboxes were named, not found by Patterns */
	int failed;
	int stopped;		/* a store is unusable for the rest of
				   the run */
	int adopted;		/* pairs that took over mbsync's state */
};

static unsigned
core_ops(unsigned conf_ops)
{
	unsigned ops = 0;

	if (conf_ops & SYNC_OP_NEW)
		ops |= SYNC_NEW;
	if (conf_ops & SYNC_OP_UPGRADE)
		ops |= SYNC_RENEW;
	if (conf_ops & SYNC_OP_GONE)
		ops |= SYNC_GONE;
	if (conf_ops & SYNC_OP_FLAGS)
		ops |= SYNC_FLAGS;
	return ops;
}

void
channel_policy(const struct channel_conf *ch,
    const struct channel_run_opts *opts, struct sync_policy *out)
{
	struct channel_opts opt = ch->opt;

	override_apply(opts->ovr, &opt);
	sync_policy_default(out);
	for (int s = 0; s < 2; s++) {
		/* ops[s] are the operations whose source is s, so they land
		 * on the other side. */
		out->ops[s] = core_ops(sync_ops_to(opt.sync, !s));
		out->max_size[s] = ch->max_size_set ? ch->max_size :
		    ch->end[s].store->max_size;
	}
	out->expunge = opt.expunge & SIDE_BIT_BOTH;
	out->expunge_solo = opt.expunge_solo & SIDE_BIT_BOTH;
	out->max_messages = ch->opt.max_messages;
	out->expire_unread = ch->opt.expire_unread;
	for (int s = 0; s < 2; s++) {
		const struct store_conf *sc = ch->end[s].store;

		out->trash_box[s] = sc->trash;
		if (sc->trash_new_only)
			out->trash_new_only |= SYNC_EXPUNGE_SIDE(s);
		if (sc->trash_remote_new)
			out->trash_remote_new |= SYNC_EXPUNGE_SIDE(s);
	}
	out->guard_wiped_over = ch->opt.mass_delete_count;
	out->guard_wiped_percent = ch->opt.mass_delete_percent;
	out->guard_large_over = ch->opt.mass_delete_large;
	out->guard_large_percent = ch->opt.mass_delete_large_percent;
	out->allow_mass_delete = opts->allow_mass_delete;
}

struct store *
channel_open_store(const struct store_conf *sc,
    const struct store_open *how, const struct logger *lg, struct buf *err)
{
	struct maildir_options mo;
	struct imap_store_options io;
	struct store *s;

	if (sc->kind == STORE_IMAP) {
		imap_store_options_from_conf(sc, &io);
		io.stop = how->stop;
		io.secrets = how->secrets;
		io.no_list = how->no_list;
		io.label = how->label;
		io.hierarchy = how->hierarchy;
		s = imap_store_new(&io, lg, err);
	} else {
		mo = sc->maildir;
		mo.read_only = how->dry_run;
		mo.info_delimiter = sc->info_delimiter;
		/* Flattened folders are all at the top (mbsync: SubFolders
		 * has no effect with Flatten). */
		if (sc->flatten != NULL)
			mo.subfolders = MAILDIR_SUB_NONE;
		s = maildir_store_new(&mo, lg, err);
		if (s == NULL)
			buf_addf(err, " (store '%s', line %d)", sc->name,
			    sc->line);
	}
	if (s == NULL)
		return NULL;
	return store_names_wrap(s, sc->name, sc->flatten, sc->map_inbox);
}

/* The mailbox of a side for a channel-relative name: with Patterns the
 * end's box is a prefix; without, the end's box is the mailbox. */
char *
channel_side_box(const struct channel_conf *ch, enum side s,
    const char *name)
{
	const char *box = ch->end[s].box;
	struct buf b = BUF_INIT;

	if (ch->patterns.n == 0 && name[0] == '\0')
		return xstrdup(box ? box : "INBOX");
	buf_adds(&b, box ? box : "");
	buf_adds(&b, name);
	return buf_detach(&b);
}

static char *
side_box(const struct chan_run *r, enum side s, const char *name)
{
	return channel_side_box(r->ch, s, name);
}

/* Channel-relative names of a side's mailboxes that carry its prefix. */
static void
strip_prefix(const struct chan_run *r, enum side s, struct strlist *out)
{
	const char *prefix = r->ch->end[s].box ? r->ch->end[s].box : "";
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < r->listed[s].n; i++) {
		const char *n = r->listed[s].v[i];

		if (strncmp(n, prefix, plen) == 0 && n[plen] != '\0')
			strlist_add(out, n + plen);
	}
}

/* The channel-relative names this run considers. */
static void
candidate_names(const struct chan_run *r, const struct strlist *boxes,
    struct strlist *out)
{
	struct strlist rel[2] = { { 0 }, { 0 } };

	if (boxes != NULL && boxes->n > 0) {
		for (size_t i = 0; i < boxes->n; i++)
			strlist_add(out, boxes->v[i]);
		return;
	}
	if (r->ch->patterns.n == 0) {
		strlist_add(out, "");
		return;
	}
	strip_prefix(r, SIDE_FAR, &rel[SIDE_FAR]);
	strip_prefix(r, SIDE_NEAR, &rel[SIDE_NEAR]);
	select_boxes(&r->ch->patterns, &rel[SIDE_FAR], &rel[SIDE_NEAR], out);
	strlist_free(&rel[SIDE_FAR]);
	strlist_free(&rel[SIDE_NEAR]);
}

/* A MaildirStore's Path must be an existing directory. A missing one is
 * not created: a mistyped Path would receive a whole account. */
static int
check_maildir_path(const struct config *cfg, const struct store_conf *sc,
    struct buf *err)
{
	struct stat st;
	char *dir;
	size_t len;
	int e = 0;

	if (sc->kind != STORE_MAILDIR || sc->path == NULL)
		return 0;
	/* Without its trailing '/', a file in its place is seen as one. */
	len = strlen(sc->path);
	while (len > 1 && sc->path[len - 1] == '/')
		len--;
	dir = xstrndup(sc->path, len);
	if (stat(dir, &st) != 0)
		e = errno;
	free(dir);
	if (e == 0 && S_ISDIR(st.st_mode))
		return 0;
	buf_setf(err, "MaildirStore '%s' (%s:%d): Path '%s' ", sc->name,
	    cfg->file, sc->path_line ? sc->path_line : sc->line, sc->path);
	if (e != 0 && e != ENOENT && e != ENOTDIR) {
		buf_addf(err, "cannot be read: %s", strerror(e));
		return -1;
	}
	buf_addf(err, "%s: create the directory, or correct Path",
	    e == 0 ? "is not a directory" : "does not exist");
	return -1;
}

/*
 * Borrow side s's store and list it. A connection kept from an earlier
 * channel that died meanwhile is replaced once, with a new login.
 * listed (NULL: none) is what another connection of this channel listed
 * (a worker's): a new connection takes it instead of listing again; one
 * kept from an earlier channel still lists, which tells whether it is
 * alive.
 */
static int
open_side(struct chan_run *r, enum side s, const struct strlist *listed,
    const interrupt_flag *stop, struct buf *err)
{
	const struct store_conf *sc = r->ch->end[s].store;
	const struct channel_run_opts *o = r->opts;
	struct store_open how = { .dry_run = o->dry_run || o->list ||
	    o->verify, .stop = stop, .no_list = listed != NULL };
	int reused;

	for (;;) {
		r->store[s] = store_pool_get(o->pool, sc, &how, o->lg,
		    &reused, err);
		if (r->store[s] == NULL)
			return -1;
		if (r->store[s]->ops->copy_arrival_date != NULL)
			r->store[s]->ops->copy_arrival_date(r->store[s],
			    r->ch->opt.copy_arrival_date);
		if (listed != NULL && !reused) {
			for (size_t i = 0; i < listed->n; i++)
				strlist_add(&r->listed[s], listed->v[i]);
			return 0;
		}
		if (r->store[s]->ops->list(r->store[s], &r->listed[s],
		    err) == 0)
			return 0;
		if (!reused || interrupted(stop) ||
		    store_failure(r->store[s]) == STORE_FAIL_MAILBOX)
			return -1;
		log_verbose(o->lg, "channel %s: the connection to store '%s' "
		    "was lost since the last channel (%s); logging in again",
		    r->ch->name, sc->name, buf_cstr(err));
		store_pool_put(o->pool, r->store[s]);
		r->store[s] = NULL;
		strlist_free(&r->listed[s]);
		buf_reset(err);
	}
}

static int
open_stores(struct chan_run *r, struct buf *err)
{
	for (int s = 0; s < 2; s++)
		if (check_maildir_path(r->cfg, r->ch->end[s].store, err) != 0)
			return -1;
	for (int s = 0; s < 2; s++)
		if (open_side(r, s, NULL, r->opts->stop, err) != 0)
			return -1;
	return 0;
}

static int
compute_paths(const struct chan_run *r, char *const box[2],
    struct state_paths *paths, struct buf *err)
{
	const struct channel_conf *ch = r->ch;
	struct state_location loc = { 0 };
	struct store *near = r->store[SIDE_NEAR];
	char *near_dir = NULL;
	int rc;

	loc.sync_state = ch->sync_state ? ch->sync_state : r->cfg->sync_state;
	loc.far_store = ch->end[SIDE_FAR].store_name;
	loc.far_box = box[SIDE_FAR];
	loc.near_store = ch->end[SIDE_NEAR].store_name;
	loc.near_box = box[SIDE_NEAR];
	if (near->ops->local_dir != NULL &&
	    near->ops->local_dir(near, box[SIDE_NEAR], &near_dir, err) != 0)
		return -1;
	loc.near_dir = near_dir;
	loc.home = r->opts->home;
	loc.xdg_state_home = r->opts->xdg_state_home;
	loc.field_delim = r->cfg->field_delimiter;
	rc = state_paths_compute(&loc, paths, err);
	free(near_dir);
	return rc;
}

/* "CHANNEL" or "CHANNEL:NAME", how messages name a mailbox pair. */
static void
pair_label(const struct chan_run *r, const char *name, struct buf *out)
{
	buf_adds(out, r->ch->name);
	if (name[0] != '\0')
		buf_addf(out, ":%s", name);
}

/* For --ext-exit: the sides a step changed. */
static void
note_change(const struct chan_run *r, enum side s)
{
	if (r->opts->changed != NULL)
		*r->opts->changed |= 1u << s;
}

static void
note_changes(const struct chan_run *r, const struct exec_stats *st)
{
	for (int s = 0; s < 2; s++)
		if (st->copied[s] + st->flagged[s] + st->expunged[s] > 0)
			note_change(r, s);
}

/* What sync_mailbox() is given for one pair: the job and what it points
 * to (pair_job_init(); pair_job_free()). Not to be moved once made. */
struct pair_job {
	struct mailbox_job job;
	struct state_paths paths;
	struct sync_policy policy;
	struct strlist mbsync;
	struct buf label, kept;
};

static int
pair_job_init(struct chan_run *r, const char *name, char *const box[2],
    struct pair_job *pj, struct buf *err)
{
	struct mailbox_job *job = &pj->job;

	memset(pj, 0, sizeof(*pj));
	pj->policy = r->policy;
	/* The Trash mailbox is not its own Trash: a copy there would come
	 * back as a new message after every expunge. */
	for (int s = 0; s < 2; s++)
		if (pj->policy.trash_box[s] != NULL &&
		    strcmp(pj->policy.trash_box[s], box[s]) == 0)
			pj->policy.trash_box[s] = NULL;
	pair_label(r, name, &pj->label);
	channel_mbsync_states(r->cfg, r->ch, r->store[SIDE_NEAR], box,
	    r->opts->home, r->opts->xdg_state_home, &pj->mbsync);
	job->mbsync_states = &pj->mbsync;
	job->adopted = &r->adopted;
	for (int s = 0; s < 2; s++) {
		job->store[s] = r->store[s];
		job->box[s] = box[s];
	}
	job->label = pj->label.data;
	job->policy = &pj->policy;
	job->paths = &pj->paths;
	job->dry_run = r->opts->dry_run;
	job->lock_wait = r->ch->opt.lock_wait;
	job->crash = r->opts->crash;
	job->stop = r->opts->stop;
	job->lg = r->opts->lg;
	if (compute_paths(r, box, &pj->paths, err) != 0)
		return -1;
	if (r->opts->keep_journal) {
		buf_addf(&pj->kept, "%s.folded", pj->paths.journal);
		job->keep_journal = pj->kept.data;
	}
	return 0;
}

static void
pair_job_free(struct pair_job *pj)
{
	state_paths_free(&pj->paths);
	strlist_free(&pj->mbsync);
	buf_free(&pj->label);
	buf_free(&pj->kept);
}

/* The status line's hooks for one pair (progress.h). */
struct pair_progress {
	struct progress *p;
	int slot;
};

static void
progress_planned(void *ctx, size_t msgs, uint64_t bytes)
{
	struct pair_progress *pp = ctx;

	progress_plan(pp->p, pp->slot, msgs, bytes);
}

static void
progress_copied(void *ctx, uint64_t bytes)
{
	struct pair_progress *pp = ctx;

	progress_step(pp->p, pp->slot, bytes);
}

/* One pair's outcome for the run's report (report.h); st may be NULL. */
static void
report_pair(const struct chan_run *r, const char *name, char *const box[2],
    enum pair_result res, const struct exec_stats *st, double started,
    const char *error)
{
	struct pair_outcome o;

	memset(&o, 0, sizeof(o));
	o.channel = r->ch->name;
	o.name = name;
	o.box[0] = box[0];
	o.box[1] = box[1];
	o.result = res;
	o.error = error;
	if (st != NULL)
		o.stats = *st;
	if (started > 0)
		o.seconds = units_now() - started;
	report_add(r->opts->report, &o);
}

/* A pair synced, or failed: its line, its outcome. */
static void
tell_pair(struct chan_run *r, const struct pair_job *pj, const char *name,
    char *const box[2], const struct exec_stats *st, int rc,
    const struct buf *err, double started)
{
	struct buf line = BUF_INIT;

	if (rc != 0) {
		/* Cut short by a signal: main() says so, once. */
		if (interrupted(r->opts->stop))
			log_verbose(r->opts->lg, "%s: %s", pj->label.data,
			    buf_cstr(err));
		else
			log_error(r->opts->lg, "%s: %s", pj->label.data,
			    buf_cstr(err));
		report_pair(r, name, box, PAIR_FAILED, st, started,
		    buf_cstr(err));
		return;
	}
	report_pair(r, name, box, PAIR_OK, st, started, NULL);
	if (r->opts->dry_run)
		return;
	sync_describe_stats(st, &line);
	if (line.len > 0)
		log_info(r->opts->lg, "%s: %s", pj->label.data, line.data);
	else
		log_verbose(r->opts->lg, "%s: up to date", pj->label.data);
	buf_free(&line);
}

/*
 * One pair's sync from mailbox_begin() to its outcome (pair_sync_start(),
 * pair_sync_end()); on the heap, for the job points into it.
 */
struct pair_sync {
	struct pair_job pj;
	const char *name;
	char *box[2];
	struct pair_progress pp;
	struct sync_progress hook;
	struct mailbox_run *run;	/* NULL: pair_job_init() failed */
	double started;
	struct buf err;
};

/* listed: NULL, or what the channel's listing told of the pair
 * (sync_mailbox_quiet()); next and early: see mailbox.h. */
static struct pair_sync *
pair_sync_start(struct chan_run *r, const char *name,
    const struct pair_listing *listed, const struct mailbox_next *next,
    int early)
{
	struct pair_sync *ps = xcalloc(1, sizeof(*ps));

	ps->name = name;
	ps->box[0] = side_box(r, SIDE_FAR, name);
	ps->box[1] = side_box(r, SIDE_NEAR, name);
	ps->started = units_now();
	ps->pp.p = r->opts->progress;
	ps->pp.slot = -1;
	ps->hook.planned = progress_planned;
	ps->hook.copied = progress_copied;
	ps->hook.ctx = &ps->pp;
	if (pair_job_init(r, name, ps->box, &ps->pj, &ps->err) != 0)
		return ps;
	ps->pp.slot = progress_begin(ps->pp.p, ps->pj.label.data);
	ps->pj.job.progress = &ps->hook;
	ps->pj.job.listed = listed;
	ps->pj.job.next = next;
	ps->run = mailbox_begin(&ps->pj.job, early);
	return ps;
}

/* The rest of the pair's sync, its outcome told, ps freed. */
static void
pair_sync_end(struct chan_run *r, struct pair_sync *ps)
{
	struct exec_stats stats = { 0 };
	int rc = -1;

	if (ps->run != NULL) {
		rc = mailbox_finish(ps->run, &stats, &ps->err);
		progress_end(ps->pp.p, ps->pp.slot);
		note_changes(r, &stats);
	}
	tell_pair(r, &ps->pj, ps->name, ps->box, &stats, rc, &ps->err,
	    ps->started);
	if (rc != 0) {
		r->failed = 1;
		/* Decided by the failure's type, never by its text. */
		r->stopped = store_failure(r->store[0]) != STORE_FAIL_MAILBOX ||
		    store_failure(r->store[1]) != STORE_FAIL_MAILBOX;
	}
	pair_job_free(&ps->pj);
	buf_free(&ps->err);
	free(ps->box[0]);
	free(ps->box[1]);
	free(ps);
}

/* next: NULL, or the look-ahead of run_plan(). */
static void
sync_one(struct chan_run *r, const char *name,
    const struct mailbox_next *next)
{
	pair_sync_end(r, pair_sync_start(r, name, NULL, next, 0));
}

/* How much work a pair to sync is likely to be: the size of its state
 * file, which holds a line per pair of messages; the most when it has
 * none (a first sync copies every message). Only an order, never a
 * decision. */
static uint64_t
pair_weight(const struct pair_job *pj)
{
	struct stat sb;

	if (stat(pj->paths.state, &sb) != 0)
		return UINT64_MAX;
	return (uint64_t)sb.st_size;
}

/* 1 if the pair of name needs nothing this run (sync_mailbox_quiet()),
 * said as sync_one() says it; 0 if it is to be synced, also when that
 * cannot be told (the sync then meets the cause again), with *weight
 * set by pair_weight() and *listed by the peeks. */
static int
pair_quiet(struct chan_run *r, const char *name, uint64_t *weight,
    struct pair_listing *listed)
{
	struct buf err = BUF_INIT;
	struct pair_job pj;
	char *box[2];
	int quiet = 0;

	box[0] = side_box(r, SIDE_FAR, name);
	box[1] = side_box(r, SIDE_NEAR, name);
	*weight = UINT64_MAX;
	if (pair_job_init(r, name, box, &pj, &err) == 0) {
		quiet = sync_mailbox_quiet(&pj.job, listed, &err) == 1;
		*weight = pair_weight(&pj);
	}
	if (quiet) {
		report_pair(r, name, box, PAIR_OK, NULL, 0, NULL);
		if (!r->opts->dry_run)
			log_verbose(r->opts->lg, "%s: up to date",
			    pj.label.data);
	}
	pair_job_free(&pj);
	buf_free(&err);
	free(box[0]);
	free(box[1]);
	return quiet;
}

/* A pair was synced before when its state file exists. */
static int
was_synced(const struct chan_run *r, char *const box[2])
{
	struct state_paths paths = { 0 };
	struct buf err = BUF_INIT;
	struct strlist mbsync = { 0 };
	struct stat st;
	int known = 0;

	if (compute_paths(r, box, &paths, &err) == 0)
		known = stat(paths.state, &st) == 0 ||
		    stat(paths.journal, &st) == 0;
	if (!known) {
		channel_mbsync_states(r->cfg, r->ch, r->store[SIDE_NEAR], box,
		    r->opts->home, r->opts->xdg_state_home, &mbsync);
		known = channel_mbsync_known(&mbsync);
		strlist_free(&mbsync);
	}
	state_paths_free(&paths);
	buf_free(&err);
	return known;
}

/* Sort the candidates into present-on-far, present-on-near and known. */
static void
classify(const struct chan_run *r, const struct strlist *names,
    struct strlist present[2], struct strlist *known)
{
	for (size_t i = 0; i < names->n; i++) {
		char *box[2];

		box[0] = side_box(r, SIDE_FAR, names->v[i]);
		box[1] = side_box(r, SIDE_NEAR, names->v[i]);
		for (int s = 0; s < 2; s++)
			if (strlist_contains(&r->listed[s], box[s]))
				strlist_add(&present[s], names->v[i]);
		if (was_synced(r, box))
			strlist_add(known, names->v[i]);
		free(box[0]);
		free(box[1]);
	}
}

/* A mailbox the user named (Far and Near without Patterns, or the command
 * line) cannot be opened: step says why, NULL when it exists on neither
 * side. An error, as in mbsync. */
static void
report_unopenable(struct chan_run *r, const char *name,
    const struct mbox_step *step)
{
	struct buf label = BUF_INIT, msg = BUF_INIT;
	const struct channel_end *end = r->ch->end;
	char *box[2];
	enum side s;

	box[SIDE_FAR] = side_box(r, SIDE_FAR, name);
	box[SIDE_NEAR] = side_box(r, SIDE_NEAR, name);
	pair_label(r, name, &label);
	if (step == NULL) {
		buf_addf(&msg, "mailbox '%s' of store '%s' and mailbox '%s' of "
		    "store '%s' cannot be opened: neither exists", box[SIDE_FAR],
		    end[SIDE_FAR].store_name, box[SIDE_NEAR],
		    end[SIDE_NEAR].store_name);
	} else {
		s = step->action == MBOX_SKIP_GONE ? !step->side : step->side;
		buf_addf(&msg, "%s mailbox '%s' of store '%s' cannot be "
		    "opened: %s", side_names[s], box[s], end[s].store_name,
		    step->action == MBOX_SKIP_NEW ? "it does not exist, and "
		    "Create does not allow creating it there" : "it was "
		    "deleted since the last sync, and Remove does not allow "
		    "deleting the other one");
	}
	log_error(r->opts->lg, "%s: %s", label.data, msg.data);
	report_pair(r, name, box, PAIR_FAILED, NULL, 0, msg.data);
	r->failed = 1;
	free(box[SIDE_FAR]);
	free(box[SIDE_NEAR]);
	buf_free(&label);
	buf_free(&msg);
}

/* Named mailboxes on neither side; the plan only forgets them. */
static void
report_absent(struct chan_run *r, const struct strlist *names,
    const struct strlist present[2])
{
	for (size_t i = 0; r->named && i < names->n; i++)
		if (!strlist_contains(&present[SIDE_FAR], names->v[i]) &&
		    !strlist_contains(&present[SIDE_NEAR], names->v[i]))
			report_unopenable(r, names->v[i], NULL);
}

/* A step that would skip (or forget) a named mailbox is an error instead;
 * 1 if it was reported. What Patterns did not find is only skipped. */
static int
named_but_missing(struct chan_run *r, const struct mbox_step *step)
{
	if (!r->named)
		return 0;
	if (step->action == MBOX_FORGET)
		return 1;	/* report_absent() */
	if (step->action != MBOX_SKIP_NEW && step->action != MBOX_SKIP_GONE)
		return 0;
	report_unopenable(r, step->name, step);
	return 1;
}

/* Create step's mailbox: 1 if it is there to sync; 0 with the error
 * logged and the pair reported failed. */
static int
create_box(struct chan_run *r, const struct mbox_step *step,
    char *const box[2], const struct buf *what)
{
	struct store *s = r->store[step->side];
	struct buf err = BUF_INIT;

	log_verbose(r->opts->lg, "%s: %s", r->ch->name, what->data);
	if (s->ops->create(s, box[step->side], &err) == 0) {
		note_change(r, step->side);
		buf_free(&err);
		return 1;
	}
	log_error(r->opts->lg, "%s: %s", r->ch->name, buf_cstr(&err));
	report_pair(r, step->name, box, PAIR_FAILED, NULL, 0, buf_cstr(&err));
	r->failed = 1;
	buf_free(&err);
	return 0;
}

/* Carry out one step of the mailbox plan. With defer, a pair to sync is
 * added there instead, for the workers; next: see sync_one(). */
static void
run_step(struct chan_run *r, const struct mbox_step *step,
    struct strlist *defer, const struct mailbox_next *next)
{
	struct buf err = BUF_INIT, what = BUF_INIT;
	char *box[2];
	struct store *s = r->store[step->side];
	int ready = step->action == MBOX_SYNC;

	box[0] = side_box(r, SIDE_FAR, step->name);
	box[1] = side_box(r, SIDE_NEAR, step->name);
	mbox_describe_step(step, &what);
	if (step->action == MBOX_CREATE && r->opts->dry_run) {
		log_info(r->opts->lg, "%s: would %s", r->ch->name, what.data);
	} else if (step->action == MBOX_CREATE) {
		ready = create_box(r, step, box, &what);
	} else if (step->action == MBOX_REMOVE && !r->opts->dry_run) {
		if (s->ops->remove(s, box[step->side], &err) != 0)
			log_warn(r->opts->lg, "%s: %s", r->ch->name,
			    buf_cstr(&err));
		else
			note_change(r, step->side);
	} else if (step->action == MBOX_SKIP_NEW ||
	    step->action == MBOX_SKIP_GONE) {
		/* What the configuration asks for, every run: not news. */
		log_verbose(r->opts->lg, "%s: %s", r->ch->name, what.data);
		report_pair(r, step->name, box, PAIR_SKIPPED, NULL, 0,
		    what.data);
	} else if (step->action != MBOX_SYNC) {
		log_info(r->opts->lg, "%s: %s", r->ch->name, what.data);
	}
	if (ready && defer != NULL)
		strlist_add(defer, step->name);
	else if (ready)
		sync_one(r, step->name, next);
	free(box[0]);
	free(box[1]);
	buf_free(&err);
	buf_free(&what);
}

/* -l: a mailbox that a sync would sync (or create first), one a line:
 * its name in the channel, or the far mailbox of a channel without
 * Patterns. */
static void
list_step(const struct chan_run *r, const struct mbox_step *step)
{
	char *far;

	if (step->action != MBOX_SYNC && step->action != MBOX_CREATE)
		return;
	far = side_box(r, SIDE_FAR, step->name);
	printf("%s\n", step->name[0] != '\0' ? step->name : far);
	free(far);
}

/* --verify of one name: a mailbox on one side only is a difference. */
static void
verify_one(struct chan_run *r, const char *name,
    const struct strlist present[2])
{
	struct buf err = BUF_INIT, label = BUF_INIT;
	struct verify_job job = { .lg = r->opts->lg };
	char *box[2];
	int on[2], rc = 1;

	pair_label(r, name, &label);
	for (int s = 0; s < 2; s++) {
		box[s] = side_box(r, (enum side)s, name);
		on[s] = strlist_contains(&present[s], name);
		job.store[s] = r->store[s];
		job.box[s] = box[s];
	}
	job.label = label.data;
	job.compare_sizes = r->ch->end[SIDE_FAR].store->kind == STORE_IMAP &&
	    r->ch->end[SIDE_NEAR].store->kind == STORE_IMAP;
	if (on[SIDE_FAR] && on[SIDE_NEAR])
		rc = verify_mailbox(&job, &err);
	else if (on[SIDE_FAR] || on[SIDE_NEAR])
		log_info(r->opts->lg, "%s: mailbox '%s' exists on %s only: "
		    "differ", label.data, box[on[SIDE_FAR] ? SIDE_FAR :
		    SIDE_NEAR], on[SIDE_FAR] ? "far" : "near");
	if (rc < 0) {
		log_error(r->opts->lg, "%s: %s", label.data, buf_cstr(&err));
		r->stopped = store_failure(r->store[0]) != STORE_FAIL_MAILBOX ||
		    store_failure(r->store[1]) != STORE_FAIL_MAILBOX;
	}
	if (rc != 0)
		r->failed = 1;
	free(box[0]);
	free(box[1]);
	buf_free(&err);
	buf_free(&label);
}

/* The rest of the channel's mailboxes cannot be done in this run. */
static void
report_stopped(struct chan_run *r, const char *doing, size_t left)
{
	log_error(r->opts->lg, "%s: a store can no longer be used in this "
	    "run; %s the channel's %zu remaining mailbox%s", r->ch->name,
	    doing, left, left == 1 ? "" : "es");
	r->failed = 1;
}

/* A pair not synced because a store can no longer be used. */
static void
report_skipped(const struct chan_run *r, const char *name)
{
	char *box[2];

	box[0] = side_box(r, SIDE_FAR, name);
	box[1] = side_box(r, SIDE_NEAR, name);
	report_pair(r, name, box, PAIR_SKIPPED, NULL, 0, "a store can no "
	    "longer be used in this run");
	free(box[0]);
	free(box[1]);
}

static void
verify_boxes(struct chan_run *r, const struct strlist *names,
    const struct strlist present[2])
{
	for (size_t i = 0; i < names->n && !interrupted(r->opts->stop); i++) {
		if (r->stopped) {
			report_stopped(r, "not verifying", names->n - i);
			break;
		}
		verify_one(r, names->v[i], present);
	}
}

/*
 * The workers of run_parallel() (channel_workers.h). Each works on a copy
 * of the channel's chan_run with its own stores, outcome and --ext-exit
 * bits, touched by its thread only and added to the channel's after all
 * have ended; what the copies share is read-only here (configuration,
 * policy, the listing) or safe for threads (logger, pool, crash point).
 * Worker 0 syncs over the stores that listed the mailboxes, so that one
 * worker never waits for a login; the others borrow their own from the
 * pool. Two workers never sync one pair: each pair is one job, and its
 * lock and journal are the pair's.
 */
struct chan_worker {
	struct chan_run r;
	struct channel_run_opts opts;
	unsigned changed;
	struct chan_crew *c;
	struct worker_crew *crew;	/* in worker_run() */
	struct mailbox_next next;	/* begin_next() */
	struct pair_sync *begun;	/* the next pair, begun early */
};

struct chan_crew {
	struct chan_run *r;
	const struct strlist *names;
	const struct pair_listing *listed;	/* one a name */
	struct chan_worker *w;
};

/* A worker's connection to sc could not be opened: the others sync its
 * mailboxes. Said once a run per account, with what to set; the others
 * under -V. */
static void
extra_failed(const struct chan_run *r, const struct store_conf *sc,
    const struct buf *err)
{
	if (!store_pool_extra_failed(r->opts->pool, sc)) {
		log_verbose(r->opts->lg, "channel %s: one more connection "
		    "cannot be opened either (%s)", r->ch->name,
		    buf_cstr(err));
		return;
	}
	log_warn(r->opts->lg, "channel %s: an extra connection could not be "
	    "opened (%s); the run goes on over the connections it has (if "
	    "the server allows only one, set 'Connections 1' in the "
	    "IMAPAccount of store '%s')", r->ch->name, buf_cstr(err),
	    sc->name);
}

/* The pair syncing on this worker leaves its IMAP stores alone from now
 * on (mailbox.h): the next job is taken and its SELECT sent now. Of the
 * Maildir, which that pair still uses, pair_job_init() only asks where a
 * mailbox's directory is (local_dir(): a path and a stat()). The same
 * holds for begin_ahead(). */
static void
begin_next(void *ctx)
{
	struct chan_worker *cw = ctx;
	size_t job;

	if (cw->begun != NULL || !workers_take(cw->crew, &job))
		return;
	cw->begun = pair_sync_start(&cw->r, cw->c->names->v[job],
	    &cw->c->listed[job], &cw->next, 1);
}

static int
worker_start(void *ctx, size_t w, const interrupt_flag *stop)
{
	struct chan_crew *c = ctx;
	struct chan_worker *cw = &c->w[w];
	struct buf err = BUF_INIT;
	int rc = 0, s;

	cw->r = *c->r;
	cw->opts = *c->r->opts;
	cw->c = c;
	cw->next.stores_free = begin_next;
	cw->next.ctx = cw;
	cw->opts.changed = &cw->changed;
	cw->r.opts = &cw->opts;
	cw->r.failed = cw->r.stopped = cw->r.adopted = 0;
	if (w == 0)
		return 0;
	for (s = 0; s < 2; s++) {
		cw->r.store[s] = NULL;
		memset(&cw->r.listed[s], 0, sizeof(cw->r.listed[s]));
	}
	for (s = 0; s < 2 && rc == 0; s++)
		rc = open_side(&cw->r, s, &c->r->listed[s], stop, &err);
	if (rc != 0 && !interrupted(stop))
		extra_failed(&cw->r, cw->r.ch->end[s - 1].store, &err);
	else if (rc != 0 && !interrupted(cw->opts.stop))
		log_debug(cw->opts.lg, "channel %s: no mailbox is left for "
		    "one more connection; not waiting for it (%s)",
		    cw->r.ch->name, buf_cstr(&err));
	/* stop lives as long as the worker; its stores may outlive it in
	 * the pool. */
	for (s = 0; s < 2; s++)
		if (cw->r.store[s] != NULL)
			imap_store_set_stop(store_names_inner(cw->r.store[s]),
			    cw->opts.stop);
	buf_free(&err);
	return rc;
}

/* The job given, then each job begun early by the one before it. */
static enum worker_next
worker_run(void *ctx, size_t w, size_t job, struct worker_crew *crew)
{
	struct chan_crew *c = ctx;
	struct chan_worker *cw = &c->w[w];
	struct chan_run *r = &cw->r;
	struct pair_sync *ps;

	cw->crew = crew;
	ps = pair_sync_start(r, c->names->v[job], &c->listed[job], &cw->next,
	    0);
	while (ps != NULL) {
		pair_sync_end(r, ps);
		ps = cw->begun;
		cw->begun = NULL;
	}
	if (!r->stopped)
		return WORKER_GO_ON;
	if (store_failure(r->store[0]) == STORE_FAIL_FATAL ||
	    store_failure(r->store[1]) == STORE_FAIL_FATAL)
		return WORKER_STOP_ALL;
	return WORKER_RETIRE;
}

static void
worker_finish(void *ctx, size_t w)
{
	struct chan_worker *cw = &((struct chan_crew *)ctx)->w[w];

	if (w == 0)
		return;
	for (int s = 0; s < 2; s++) {
		store_pool_put(cw->opts.pool, cw->r.store[s]);
		strlist_free(&cw->r.listed[s]);
	}
}

/* Sync the pairs named on up to nworkers workers (listed: what the
 * listing told of each), then add up what they did. Worker 0's stores
 * are the channel's: when they failed, the removals that follow are
 * skipped as after a sequential sync. */
static void
run_parallel(struct chan_run *r, const struct strlist *names,
    const struct pair_listing *listed, size_t nworkers)
{
	static const struct worker_ops ops = { worker_start, worker_run,
	    worker_finish };
	struct chan_crew c = { r, names, listed, NULL };
	size_t left;

	if (names->n < nworkers)
		nworkers = names->n;
	c.w = xcalloc(nworkers > 0 ? nworkers : 1, sizeof(*c.w));
	left = workers_run(nworkers, names->n, &ops, &c, r->opts->stop,
	    r->opts->lg);
	for (size_t i = 0; i < nworkers; i++) {
		r->failed |= c.w[i].r.failed;
		r->adopted += c.w[i].r.adopted;
		if (r->opts->changed != NULL)
			*r->opts->changed |= c.w[i].changed;
	}
	r->stopped = nworkers > 0 && c.w[0].r.stopped;
	if (left > 0 && !interrupted(r->opts->stop)) {
		report_stopped(r, "skipping", left);
		/* The jobs are taken in order: the last ones were left. */
		for (size_t i = names->n - left; i < names->n; i++)
			report_skipped(r, names->v[i]);
	}
	free(c.w);
}

/* Which steps of the plan a pass carries out: all in order, or, when
 * workers sync the pairs, first all but the removals (creations before
 * the syncs that need them), then the removals (a mailbox removed only
 * after the syncs that may still copy into it, such as a Trash). */
enum plan_pass { PASS_ALL, PASS_BEFORE_SYNCS, PASS_REMOVALS };

/* The pairs of steps from..n that a stop leaves unsynced; the workers'
 * own were reported by run_parallel(). */
static void
report_skipped_steps(const struct chan_run *r, const struct mbox_plan *mplan,
    size_t from, enum plan_pass pass)
{
	if (pass != PASS_ALL)
		return;
	for (size_t j = from; j < mplan->n; j++)
		if (mplan->v[j].action == MBOX_SYNC ||
		    mplan->v[j].action == MBOX_CREATE)
			report_skipped(r, mplan->v[j].name);
}

/*
 * The look-ahead of a run without workers (Connections 1): while the pair
 * of step `next - 1` leaves its IMAP stores alone (mailbox.h), step `next`
 * is begun when it is a pair to sync and nothing was begun yet, so that
 * its SELECT is answered meanwhile; run_plan() then finishes it.
 */
struct plan_ahead {
	struct chan_run *r;
	const struct mbox_plan *mplan;
	size_t next;
	struct mailbox_next hook;
	struct pair_sync *begun;	/* step next, begun */
};

static void
begin_ahead(void *ctx)
{
	struct plan_ahead *a = ctx;
	const struct mbox_step *st;

	if (a->begun != NULL || a->next >= a->mplan->n || a->r->stopped ||
	    interrupted(a->r->opts->stop))
		return;
	st = &a->mplan->v[a->next];
	if (st->action == MBOX_SYNC)
		a->begun = pair_sync_start(a->r, st->name, NULL, &a->hook, 1);
}

/* Step i's pair, begun early, finished; 1 if there was one. */
static int
finish_ahead(struct plan_ahead *a, size_t i)
{
	struct pair_sync *ps = a->begun;

	if (ps == NULL || a->next != i)
		return 0;
	a->begun = NULL;
	a->next = i + 1;	/* what its own look-ahead begins */
	pair_sync_end(a->r, ps);
	return 1;
}

static void
run_plan(struct chan_run *r, const struct mbox_plan *mplan,
    enum plan_pass pass, struct strlist *defer)
{
	struct plan_ahead a = { r, mplan, 0, { begin_ahead, NULL }, NULL };
	const struct mailbox_next *next = NULL;
	size_t i;

	a.hook.ctx = &a;
	/* Only a run that syncs its pairs itself, in the plan's order. */
	if (pass == PASS_ALL && defer == NULL && !r->opts->list)
		next = &a.hook;
	for (i = 0; i < mplan->n && !interrupted(r->opts->stop); i++) {
		const struct mbox_step *st = &mplan->v[i];

		if (pass != PASS_ALL && (st->action == MBOX_REMOVE) !=
		    (pass == PASS_REMOVALS))
			continue;
		if (r->stopped) {
			/* A pair begun is finished, as a pair started. */
			if (finish_ahead(&a, i))
				i++;
			if (i == mplan->n)
				break;
			report_stopped(r, "skipping", mplan->n - i);
			report_skipped_steps(r, mplan, i, pass);
			break;
		}
		if (named_but_missing(r, st))
			continue;
		if (finish_ahead(&a, i))
			continue;
		a.next = i + 1;
		if (r->opts->list)
			list_step(r, st);
		else
			run_step(r, st, defer, next);
	}
	finish_ahead(&a, i);
}

/* A pair with work for the workers, and where it stands in the plan. */
struct busy_pair {
	const char *name;
	uint64_t weight;
	size_t order;
	struct pair_listing listed;
};

/* Heaviest first; pairs alike keep the plan's order. */
static int
busy_pair_cmp(const void *a, const void *b)
{
	const struct busy_pair *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * The pairs of syncs with work to do, into busy, the likely longest
 * first. Pairs with nothing to do are told apart first, over the stores
 * that listed them, so that only pairs with work take a worker (and a
 * connection of their own): a run where little changed logs in no more
 * often than one connection would. The workers take the pairs in
 * order, and the others start later than the first (each logs in
 * first): a large pair taken last would keep one worker busy long
 * after the others ran out of work.
 */
static void
busy_pairs(struct chan_run *r, const struct strlist *syncs,
    struct strlist *busy, struct pair_listing **listed)
{
	struct busy_pair *bp = xcalloc(syncs->n > 0 ? syncs->n : 1,
	    sizeof(*bp));
	size_t n = 0;

	for (size_t i = 0; i < syncs->n && !interrupted(r->opts->stop); i++) {
		uint64_t weight;

		if (pair_quiet(r, syncs->v[i], &weight, &bp[n].listed))
			continue;
		bp[n].name = syncs->v[i];
		bp[n].weight = weight;
		bp[n].order = n;
		n++;
	}
	qsort(bp, n, sizeof(*bp), busy_pair_cmp);
	*listed = xcalloc(n > 0 ? n : 1, sizeof(**listed));
	for (size_t i = 0; i < n; i++) {
		strlist_add(busy, bp[i].name);
		(*listed)[i] = bp[i].listed;
	}
	free(bp);
}

static void
run_steps(struct chan_run *r, const struct mbox_plan *mplan)
{
	struct strlist syncs = { 0 }, busy = { 0 };
	struct pair_listing *listed = NULL;
	size_t nworkers = r->opts->dry_run || r->opts->list ||
	    r->opts->verify ? 1 : channel_worker_count(r->ch);

	if (nworkers <= 1) {
		run_plan(r, mplan, PASS_ALL, NULL);
		return;
	}
	run_plan(r, mplan, PASS_BEFORE_SYNCS, &syncs);
	busy_pairs(r, &syncs, &busy, &listed);
	run_parallel(r, &busy, listed, nworkers);
	run_plan(r, mplan, PASS_REMOVALS, NULL);
	strlist_free(&syncs);
	strlist_free(&busy);
	free(listed);
}

static void
run_boxes(struct chan_run *r, const struct strlist *boxes)
{
	struct strlist names = { 0 }, present[2] = { { 0 }, { 0 } };
	struct strlist known = { 0 };
	struct mbox_policy mpol = { r->opt.create & SIDE_BIT_BOTH,
	    r->opt.remove & SIDE_BIT_BOTH };
	struct mbox_plan mplan = { 0 };

	r->named = (boxes != NULL && boxes->n > 0) || r->ch->patterns.n == 0;
	candidate_names(r, boxes, &names);
	classify(r, &names, present, &known);
	report_absent(r, &names, present);
	if (r->opts->verify)
		verify_boxes(r, &names, present);
	else
		plan_mailboxes(&present[SIDE_FAR], &present[SIDE_NEAR],
		    &known, &mpol, &mplan);
	run_steps(r, &mplan);
	mbox_plan_free(&mplan);
	strlist_free(&names);
	strlist_free(&present[SIDE_FAR]);
	strlist_free(&present[SIDE_NEAR]);
	strlist_free(&known);
}

int
channel_pair_names(const struct config *cfg, const struct channel_conf *ch,
    const struct channel_run_opts *opts, struct strlist *out)
{
	struct chan_run r = { .cfg = cfg, .ch = ch, .opts = opts };
	struct buf err = BUF_INIT;
	int rc = 0;

	if (open_stores(&r, &err) != 0) {
		if (!interrupted(opts->stop))
			log_error(opts->lg, "channel %s: %s", ch->name,
			    buf_cstr(&err));
		rc = -1;
	} else
		candidate_names(&r, NULL, out);
	for (int s = 0; s < 2; s++) {
		store_pool_put(opts->pool, r.store[s]);
		strlist_free(&r.listed[s]);
	}
	buf_free(&err);
	return rc;
}

int
channel_run(const struct config *cfg, const struct channel_conf *ch,
    const struct strlist *boxes, const struct channel_run_opts *opts)
{
	struct chan_run r = { .cfg = cfg, .ch = ch, .opts = opts };
	struct buf err = BUF_INIT;
	int rc = 0;

	r.opt = ch->opt;
	override_apply(opts->ovr, &r.opt);
	channel_policy(ch, opts, &r.policy);
	if (!opts->list && r.opt.sync & (SYNC_PULL_OLD | SYNC_PUSH_OLD))
		log_warn(opts->lg, "channel %s (line %d): Sync Old is not "
		    "implemented yet; messages skipped in earlier runs are not "
		    "retried", ch->name, ch->line);
	if (open_stores(&r, &err) != 0) {
		/* A server that is down, refuses the login or drops the
		 * connection is a failed sync (1), not a configuration error
		 * (2): the configuration was checked before this point. */
		char *none[2] = { NULL, NULL };

		if (!interrupted(opts->stop))
			log_error(opts->lg, "channel %s: %s", ch->name,
			    buf_cstr(&err));
		report_pair(&r, NULL, none, PAIR_FAILED, NULL, 0,
		    buf_cstr(&err));
		rc = 1;
	} else {
		run_boxes(&r, boxes);
		rc = r.failed ? 1 : 0;
	}
	if (r.adopted > 0)
		log_info(opts->lg, "channel %s: %s mbsync's state of %d "
		    "mailbox pair%s; mbsync's files are left as they were",
		    ch->name, opts->dry_run ? "would adopt" : "adopted",
		    r.adopted, r.adopted == 1 ? "" : "s");
	for (int s = 0; s < 2; s++) {
		store_pool_put(opts->pool, r.store[s]);
		strlist_free(&r.listed[s]);
	}
	buf_free(&err);
	return rc;
}
