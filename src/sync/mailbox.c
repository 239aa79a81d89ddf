/* mailbox: one sync of one mailbox pair; see mailbox.h. */
#include "sync/mailbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sync/clash.h"
#include "sync/fingerprint.h"
#include "sync/journal.h"
#include "sync/lock.h"
#include "sync/mbsync_state.h"
#include "sync/plan.h"

/*
 * How a run writes what it does, decided before recovery from what the
 * last run left, or else from the plan (mode_of_plan()).
 */
enum journal_mode {
	JOURNAL_NONE,		/* nothing is written: a dry run, or a
				   plan with nothing to do or record */
	JOURNAL_BY_PLAN,	/* nothing to resume: the plan decides */
	JOURNAL_STATE_ONLY,	/* no journal; the state file once, at
				   the end */
	JOURNAL_WRITE,		/* every change journalled first, the
				   journal folded into the state file at
				   the end */
};

/*
 * How far a run got. mailbox_begin() takes the steps up to the opens sent
 * ahead, or fewer (an early begin whose lock is busy stops before it);
 * mailbox_finish() takes the rest, from where it stopped.
 */
enum run_stage {
	STAGE_START,		/* nothing done */
	STAGE_SKIPPED,		/* quiet: nothing else happens */
	STAGE_CHECKED,		/* to be synced; not yet locked */
	STAGE_LOCKED,		/* the pair lock held (no lock: dry run) */
	STAGE_LOADED,		/* the state loaded */
	STAGE_OPENING		/* the opens that can be sent ahead sent
				   (begun[]); the rest is mailbox_finish()'s */
};

/* Everything one run of a pair holds, released by run_free(). */
struct mailbox_run {
	const struct mailbox_job *job;
	enum run_stage stage;
	int lock_fd;
	int rc;			/* mailbox_begin() failed: see err */
	struct buf err;
	int begun[2];		/* side s's open() sent ahead */
	int stores_told;	/* job->next was called */
	struct sync_state state;
	struct journal_info info;
	enum journal_mode mode;
	struct journal *journal;	/* open in JOURNAL_WRITE */
	struct mbox_status status[2];
	struct pair_listing listed;	/* a hint for the opens */
	struct msg_list scan[2];
	struct fingerprint *fp[2];
	struct header_hash *hh[2];
	int fp_early[2];	/* fp[s] was read whole in the header pass
				 * (a store without fetch_headers()) */
	struct plan plan;
	struct exec exec;
};

static void
run_free(struct mailbox_run *r)
{
	if (r->lock_fd >= 0)
		pair_unlock(r->lock_fd);
	buf_free(&r->err);
	state_free(&r->state);
	for (int s = 0; s < 2; s++) {
		msg_list_free(&r->scan[s]);
		free(r->fp[s]);
		free(r->hh[s]);
	}
	plan_free(&r->plan);
	exec_free(&r->exec);
}

/* A side whose settled mark still holds is not scanned: the state
 * stands in for it, and only flags changed since are asked for. */
static int
scan_side(struct mailbox_run *r, enum side s, const struct scan_hint *hint,
    struct buf *err)
{
	struct store *st = r->job->store[s];
	struct msg_list known = { 0 };
	uint64_t since;
	int rc;

	if (st->ops->scan_changes == NULL || !plan_known_scan(&r->state,
	    &r->status[s], s, hint, &known, &since))
		return st->ops->scan(st, hint, &r->scan[s], err);
	if (r->status[s].highestmodseq == 0)
		log_debug(r->job->lg, "%s: %s side unchanged since its stamp "
		    "%llu: not listed", r->job->label, side_names[s],
		    (unsigned long long)since);
	else
		log_debug(r->job->lg, "%s: %s side unchanged but for flags "
		    "since HIGHESTMODSEQ %llu: no scan", r->job->label,
		    side_names[s], (unsigned long long)since);
	rc = st->ops->scan_changes(st, &known, since, &r->scan[s], err);
	msg_list_free(&known);
	/* The store found its server's answers inconsistent (warned). */
	if (rc > 0)
		rc = st->ops->scan(st, hint, &r->scan[s], err);
	return rc;
}

/* What the state holds of the side, told to its store for the open()
 * that follows: the recorded UIDVALIDITY (a new one must differ), and the
 * settled mark to a store that can ask what changed since it (QRESYNC). */
static void
mark_side(struct mailbox_run *r, enum side s)
{
	struct store *st = r->job->store[s];
	struct store_mark mark;
	struct msg_list known = { 0 };

	if (st->ops->recorded != NULL)
		st->ops->recorded(st, r->state.uidvalidity[s]);
	if (st->ops->mark != NULL && plan_known_mark(&r->state, s, &mark,
	    &known)) {
		mark.listed = r->listed.known[s] ? &r->listed.st[s] : NULL;
		st->ops->mark(st, &mark);
	}
	msg_list_free(&known);
}

/* Side s's open() sent ahead where its store can (begun[s] = 1). */
static int
begin_side(struct mailbox_run *r, enum side s, int *begun, struct buf *err)
{
	struct store *st = r->job->store[s];

	if (st->ops->open_begin == NULL)
		return 0;
	mark_side(r, s);
	if (st->ops->open_begin(st, r->job->box[s], err) != 0)
		return -1;
	*begun = 1;
	return 0;
}

static int
open_side(struct mailbox_run *r, enum side s, int begun, struct buf *err)
{
	struct store *st = r->job->store[s];

	if (!begun)
		mark_side(r, s);
	return st->ops->open(st, r->job->box[s], &r->status[s], err);
}

/* A begun open() is finished even after a failure (rc != 0), whose
 * error stands: the store's answers are waited for either way. */
static int
finish_side(struct mailbox_run *r, enum side s, int rc, int *known,
    struct buf *err)
{
	struct buf ignored = BUF_INIT;
	int got = open_side(r, s, 1, rc == 0 ? err : &ignored);

	buf_free(&ignored);
	*known = got == 0;
	return rc != 0 ? rc : got;
}

/* The scan hint of side s from the statuses known so far (known[x]:
 * status[x] came). */
static void
hint_of(struct mailbox_run *r, enum side s, const int known[2],
    struct plan_scan_hint *h)
{
	const struct mbox_status *status[2];

	for (int x = 0; x < 2; x++)
		status[x] = known[x] ? &r->status[x] : NULL;
	plan_scan_hint(&r->state, status, s, h);
}

static int
scan_with_hint(struct mailbox_run *r, enum side s, const struct scan_hint *hint,
    struct buf *err)
{
	msg_list_free(&r->scan[s]);
	if (scan_side(r, s, hint, err) != 0)
		return -1;
	/* The planner's rules hold only for a scan that names each
	 * message once, in UID order: a store that breaks this is a bug
	 * to report, never a plan to make. */
	if (msg_list_check(&r->scan[s], err) != 0) {
		buf_addf(err, " (the %s side's %s store); nothing was planned",
		    side_names[s], r->job->store[s]->ops->kind);
		return -1;
	}
	return 0;
}

/* Side s scanned with the hint the statuses known so far give (both,
 * or only its own while the other side's open() is under way); the hint
 * is kept in h. */
static int
scan_as_known(struct mailbox_run *r, enum side s, const int known[2],
    struct plan_scan_hint *h, struct buf *err)
{
	hint_of(r, s, known, h);
	return scan_with_hint(r, s, &h->hint, err);
}

/* Side s scanned again if the hint made with both statuses is not the
 * one its scan had (early): a side found distrusted meanwhile asks for
 * every size. */
static int
scan_again_if_needed(struct mailbox_run *r, enum side s,
    const struct plan_scan_hint *early, struct buf *err)
{
	const int known[2] = { 1, 1 };
	struct plan_scan_hint h;
	int rc = 0;

	hint_of(r, s, known, &h);
	if (!plan_scan_hint_same(&h.hint, &early->hint)) {
		log_debug(r->job->lg, "%s: the %s side is scanned again, for "
		    "what the other side's status asks", r->job->label,
		    side_names[s]);
		rc = scan_with_hint(r, s, &h.hint, err);
	}
	plan_scan_hint_free(&h);
	return rc;
}

/* The opens that can be sent ahead sent (r->begun[]); on a failure the
 * sides begun before it stay begun, for open_and_scan() to finish. */
static int
begin_sides(struct mailbox_run *r, struct buf *err)
{
	int rc = 0;

	for (int s = 0; rc == 0 && s < 2; s++)
		rc = begin_side(r, (enum side)s, &r->begun[s], err);
	return rc;
}

/*
 * Both sides opened and scanned, after begin_sides() (rc: its result). A
 * store that can send its open() ahead (open_begin(), an IMAP SELECT)
 * did so, and the other side is opened and scanned while that server
 * answers. What a scan must fetch depends on the state and on both
 * sides' status (plan_scan_hint()): a side scanned before the other's
 * status came is scanned again in the rare case that status asks for
 * more (the other side distrusted). A begun open() is always finished,
 * whatever failed meanwhile.
 */
static int
open_and_scan(struct mailbox_run *r, int rc, struct buf *err)
{
	const int *begun = r->begun;
	int known[2] = { 0, 0 };
	struct plan_scan_hint h[2] = { 0 };

	for (int s = 0; rc == 0 && s < 2; s++)
		if (!begun[s]) {
			rc = open_side(r, (enum side)s, 0, err);
			known[s] = rc == 0;
		}
	for (int s = 0; rc == 0 && s < 2; s++)
		if (!begun[s])
			rc = scan_as_known(r, (enum side)s, known, &h[s], err);
	/* The wait for a begun open() hides what the other side would
	 * read at its first operation (a settled Maildir's file names). */
	for (int s = 0; rc == 0 && s < 2; s++)
		if (!begun[s] && begun[!s] && r->job->store[s]->ops->prefetch)
			r->job->store[s]->ops->prefetch(r->job->store[s]);
	/* A step inside the window a begun open() leaves: the crash and
	 * mutation sweeps meet the other side listed and the answer not
	 * yet read. */
	if (rc == 0 && (begun[0] || begun[1]))
		crash_step(r->job->crash);
	for (int s = 0; s < 2; s++)
		if (begun[s])
			rc = finish_side(r, (enum side)s, rc, &known[s], err);
	for (int s = 0; rc == 0 && s < 2; s++)
		if (begun[s])
			rc = scan_as_known(r, (enum side)s, known, &h[s], err);
		else if (begun[!s])
			rc = scan_again_if_needed(r, (enum side)s, &h[s], err);
	for (int s = 0; s < 2; s++)
		plan_scan_hint_free(&h[s]);
	return rc;
}

static int
settle_clashes(struct mailbox_run *r, struct buf *err)
{
	struct clash_job cj = { .state = &r->state, .crash = r->job->crash,
	    .lg = r->job->lg, .label = r->job->label };

	for (int s = 0; s < 2; s++) {
		cj.store[s] = r->job->store[s];
		cj.scan[s] = &r->scan[s];
	}
	return clash_settle(&cj, err);
}

static void *
fresh(void *old, size_t n, size_t size)
{
	free(old);
	return xcalloc(n ? n : 1, size);
}

/* First contact's cheap pass: header hashes of side s's listed messages,
 * or from a store that cannot read headers alone, their fingerprints,
 * whose hashes serve as well (and then need no second reading). */
static int
header_pass(struct mailbox_run *r, enum side s, struct buf *err)
{
	size_t n = r->scan[s].n;
	struct store *st = r->job->store[s];
	const struct uid_vec *want = &r->plan.fp_uids[s];

	r->hh[s] = fresh(r->hh[s], n, sizeof(*r->hh[s]));
	if (st->ops->fetch_headers != NULL)
		return fingerprint_headers(st, &r->scan[s], want->v, want->n,
		    r->hh[s], err);
	r->fp[s] = fresh(r->fp[s], n, sizeof(*r->fp[s]));
	if (fingerprint_some(st, &r->scan[s], want->v, want->n, r->fp[s],
	    err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		r->hh[s][i].hash = r->fp[s][i].hash;
		r->hh[s][i].have = r->fp[s][i].size != 0 ||
		    r->fp[s][i].hash != 0;
	}
	r->fp_early[s] = 1;
	return 0;
}

/* What the plan asked for: header hashes or fingerprints of the messages
 * it listed (first contact), or fingerprints of every message. */
static int
compute_fingerprints(struct mailbox_run *r, struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		size_t n = r->scan[s].n;
		int rc;

		if (r->plan.fp_some && r->plan.fp_headers) {
			rc = header_pass(r, s, err);
		} else if (r->plan.fp_some) {
			if (r->fp_early[s])
				continue;
			r->fp[s] = fresh(r->fp[s], n, sizeof(*r->fp[s]));
			rc = fingerprint_some(r->job->store[s], &r->scan[s],
			    r->plan.fp_uids[s].v, r->plan.fp_uids[s].n,
			    r->fp[s], err);
		} else {
			r->fp[s] = fresh(r->fp[s], n, sizeof(*r->fp[s]));
			rc = fingerprint_scan(r->job->store[s], &r->scan[s],
			    r->fp[s], err);
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The arrays the planner reads: header hashes once read; fingerprints
 * once both sides have them for what was asked last. */
static void
plan_inputs(const struct mailbox_run *r, struct plan_input *in, int fp_ready)
{
	for (int s = 0; s < 2; s++) {
		in->side[s].hh = r->hh[s];
		in->side[s].fp = fp_ready ? r->fp[s] : NULL;
	}
}

static int
make_plan(struct mailbox_run *r, struct buf *err)
{
	struct plan_input in = { .state = &r->state,
	    .policy = r->job->policy };
	enum plan_status ps;

	for (int s = 0; s < 2; s++) {
		in.side[s].scan = &r->scan[s];
		in.side[s].status = &r->status[s];
	}
	plan_inputs(r, &in, 1);
	ps = plan_mailbox(&in, &r->plan);
	/* At most two passes: header hashes, then fingerprints. */
	for (int pass = 0; pass < 2 && ps == PLAN_NEED_FINGERPRINTS; pass++) {
		log_verbose(r->job->lg, "%s: %s", r->job->label,
		    buf_cstr(&r->plan.why));
		if (compute_fingerprints(r, err) != 0)
			return -1;
		plan_inputs(r, &in, !r->plan.fp_headers);
		ps = plan_mailbox(&in, &r->plan);
	}
	if (ps == PLAN_REFUSED || ps == PLAN_NEED_FINGERPRINTS) {
		/* The caller prefixes the mailbox's label. */
		buf_setf(err, "%s", buf_cstr(&r->plan.why));
		return -1;
	}
	return 0;
}

static void
print_plan(const struct mailbox_run *r)
{
	int dry_run = r->job->dry_run;
	struct buf line = BUF_INIT;

	if (!dry_run && !log_enabled(r->job->lg, LOG_VERBOSE))
		return;
	for (size_t i = 0; i < r->plan.n; i++) {
		buf_reset(&line);
		plan_describe_op(&r->plan.ops[i], &line);
		if (dry_run)
			log_info(r->job->lg, "%s: would %s", r->job->label,
			    line.data);
		else
			log_verbose(r->job->lg, "%s: %s", r->job->label,
			    line.data);
	}
	buf_reset(&line);
	plan_describe_summary(&r->plan, &line);
	if (dry_run)
		log_info(r->job->lg, "%s: dry run: %s", r->job->label,
		    line.len ? line.data : "nothing to do");
	buf_free(&line);
}

/* The executor, without a journal until open_journal() gives it one. */
static void
setup_exec(struct mailbox_run *r)
{
	const struct mailbox_job *job = r->job;
	struct exec *x = &r->exec;

	x->store[0] = job->store[0];
	x->store[1] = job->store[1];
	for (int s = 0; s < 2; s++) {
		x->status[s] = &r->status[s];
		x->scan[s] = &r->scan[s];
	}
	x->state = &r->state;
	x->journal = NULL;
	x->crash = job->crash;
	x->stop = job->stop;
	x->lg = job->lg;
	x->box = job->label;
	x->progress = job->progress;
	x->trash_box[0] = job->policy->trash_box[0];
	x->trash_box[1] = job->policy->trash_box[1];
	x->empty = r->plan.empty;
}

static int
open_journal(struct mailbox_run *r, struct buf *err)
{
	if (journal_open(r->job->paths->journal, &r->state, &r->info,
	    r->job->lg, &r->journal, err) != 0)
		return -1;
	r->exec.journal = r->journal;
	return 0;
}

/* Closes a journal left open by a run that failed: what it holds is
 * flushed, and the next run resumes it. */
static void
close_journal(struct mailbox_run *r)
{
	struct buf ignored = BUF_INIT;

	if (r->journal != NULL)
		journal_close(r->journal, &ignored);
	r->journal = NULL;
	r->exec.journal = NULL;
	buf_free(&ignored);
}

/*
 * Before recovery: a dry run writes nothing; a journal or pending copies
 * that an earlier run left are resumed in the journal, which recovery
 * writes to. Otherwise there is nothing to recover and the plan decides.
 */
static enum journal_mode
mode_before_plan(const struct mailbox_run *r)
{
	if (r->job->dry_run)
		return JOURNAL_NONE;
	if (r->info.found || r->state.nintents > 0)
		return JOURNAL_WRITE;
	return JOURNAL_BY_PLAN;
}

/*
 * A plan without copies needs no journal: whatever it records (new base
 * flags, forgotten pairs, pairs re-made by fingerprint, maxuid) the next
 * plan derives again from the stores if this run dies before the state
 * file is written. So it is written once at the end: two fsyncs instead
 * of the journal's four. The replay tests ask for the journal anyway.
 * Two records cannot be derived again and need it: a Trash copy's
 * (without it the next run would trash the message twice) and a
 * MaxMessages expiry's start (without it the next run would take the
 * expired near copy for a deletion to propagate).
 */
static int
records_before_acting(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];

		if (op->kind == PLAN_TRASH || op->kind == PLAN_TRASH_REMOTE ||
		    ((op->kind == PLAN_UPDATE_PAIR ||
		    op->kind == PLAN_NEW_PAIR) &&
		    (op->rec.status & PAIR_EXPIRED) &&
		    op->rec.uid[SIDE_NEAR] != 0))
			return 1;
	}
	return 0;
}

/*
 * After planning, with nothing to resume: a pair with nothing to do
 * writes nothing at all (no journal, no new state file, no fsync),
 * unless a side earned a new settled mark or the state was written
 * under another policy; copies go through the journal.
 */
static enum journal_mode
mode_of_plan(const struct mailbox_run *r)
{
	if (r->plan.n == 0 && !exec_settle_due(&r->exec) &&
	    r->state.policy == sync_policy_digest(r->job->policy))
		return JOURNAL_NONE;
	if (plan_count(&r->plan, PLAN_COPY) > 0 ||
	    records_before_acting(&r->plan) || r->job->keep_journal != NULL)
		return JOURNAL_WRITE;
	return JOURNAL_STATE_ONLY;
}

/*
 * The policy digest the state file is written with: this run's policy
 * when its whole plan was carried out, else none. A message that failed
 * (a copy, a Trash copy, an expunge left undone) is still wanted, so the
 * next run must open the pair whatever its marks say (invariant 8).
 */
static void
record_policy(struct mailbox_run *r)
{
	const struct exec *x = &r->exec;
	size_t failed = x->nfailed[SIDE_FAR] + x->nfailed[SIDE_NEAR] +
	    x->nkept[SIDE_FAR] + x->nkept[SIDE_NEAR] + x->ntrash_failed;

	r->state.policy = failed == 0 ? sync_policy_digest(r->job->policy) :
	    0;
}

/*
 * The run's end: the state file written (from the journal, or alone).
 * Copies that failed are kept wanted by the state just written; the run
 * still fails, so that the user hears of them.
 */
static int
commit(struct mailbox_run *r, struct buf *err)
{
	struct journal *j = r->journal;

	record_policy(r);
	if (r->mode == JOURNAL_STATE_ONLY) {
		r->state.generation++;
		if (state_write_rebuildable(r->job->paths->state, &r->state,
		    err) != 0)
			return -1;
	} else {
		r->journal = r->exec.journal = NULL;
		if (journal_fold(j, r->job->paths->state, r->job->keep_journal,
		    err) != 0)
			return -1;
	}
	return exec_failures(&r->exec, err);
}

/*
 * A pair twinbox never synced (no state file, no journal) takes over the
 * state mbsync left, if any: the first run after a switch then finds the
 * pairs mbsync made and copies nothing. A state mbsync left that cannot
 * be taken over is reported, and the pair is met by content instead.
 */
static int
adopt_mbsync(struct mailbox_run *r, struct buf *err)
{
	const struct mailbox_job *job = r->job;
	const struct strlist *c = job->mbsync_states;
	struct buf why = BUF_INIT;
	int found = 0;

	if (c == NULL || r->info.found || r->state.generation != 0)
		return 0;
	for (size_t i = 0; i < c->n && !found; i++) {
		if (mbsync_state_read(c->v[i], &r->state, &found, &why) == 0) {
			if (found)
				log_verbose(job->lg, "%s: adopted mbsync's "
				    "state %s (%zu messages)", job->label,
				    c->v[i], r->state.npairs);
			continue;
		}
		log_warn(job->lg, "%s: mbsync's state is not adopted: %s; "
		    "this mailbox pair is compared by content instead",
		    job->label, why.data);
		buf_free(&why);
		return 0;
	}
	buf_free(&why);
	if (!found)
		return 0;
	if (job->adopted != NULL)
		(*job->adopted)++;
	if (job->dry_run)
		return 0;
	r->state.generation = 1;
	return state_write(job->paths->state, &r->state, err);
}

/*
 * The state file and the journal replayed over it, or mbsync's state.
 * A state file of a twinbox that did not yet end these names in
 * .twinboxstate is the pair's state: it takes the current name (a dry
 * run reads it where it is).
 */
static int
load_state(struct mailbox_run *r, struct buf *err)
{
	const struct mailbox_job *job = r->job;
	const char *state = job->paths->state, *journal = job->paths->journal;
	struct buf legacy_journal = BUF_INIT;
	int rc;

	if (state_paths_legacy_found(job->paths)) {
		log_verbose(job->lg, "%s: state file %s %s %s", job->label,
		    job->paths->legacy, job->dry_run ? "would be renamed to" :
		    "renamed to", job->paths->state);
		if (job->dry_run) {
			buf_setf(&legacy_journal, "%s" STATE_JOURNAL_SUFFIX,
			    job->paths->legacy);
			state = job->paths->legacy;
			journal = legacy_journal.data;
		} else if (state_paths_take_legacy(job->paths, err) != 0)
			return -1;
	}
	rc = state_load(state, journal, &r->state, &r->info, job->lg, err);
	buf_free(&legacy_journal);
	if (rc != 0)
		return -1;
	return adopt_mbsync(r, err);
}

/*
 * The run calls no store that sends its open() ahead any more: the
 * caller may begin the next pair's run over them (mailbox.h). Said once.
 */
static void
tell_stores_free(struct mailbox_run *r)
{
	const struct mailbox_next *n = r->job->next;

	if (n == NULL || r->stores_told)
		return;
	r->stores_told = 1;
	n->stores_free(n->ctx);
}

/* 1 if carrying out the plan calls no store that can send its open()
 * ahead: only the other store, and the state, are still written. */
static int
plan_frees_stores(const struct mailbox_run *r)
{
	for (int s = 0; s < 2; s++)
		if (r->job->store[s]->ops->open_begin != NULL &&
		    !plan_leaves_side(&r->plan, (enum side)s))
			return 0;
	return 1;
}

/*
 * Plan and execute with the state loaded and both sides scanned: the
 * journal mode is decided as early as it can be, recovery and the plan
 * run the same in every mode, and the mode alone says what is written.
 */
static int
plan_and_execute(struct mailbox_run *r, struct buf *err)
{
	setup_exec(r);
	r->mode = mode_before_plan(r);
	if (r->mode == JOURNAL_WRITE && open_journal(r, err) != 0)
		return -1;
	if (exec_recover(&r->exec, err) != 0 || make_plan(r, err) != 0)
		return -1;
	if (r->mode == JOURNAL_BY_PLAN) {
		r->mode = mode_of_plan(r);
		if (r->mode == JOURNAL_WRITE && open_journal(r, err) != 0)
			return -1;
	}
	print_plan(r);
	exec_warn_empty(&r->exec);
	if (r->mode == JOURNAL_NONE || plan_frees_stores(r))
		tell_stores_free(r);
	if (r->mode == JOURNAL_NONE)
		return 0;
	if (exec_plan(&r->exec, &r->plan, err) != 0 ||
	    exec_settle(&r->exec, err) != 0)
		return -1;
	tell_stores_free(r);
	return commit(r, err);
}

/* The steps after the opens sent ahead (begin_sides() gave rc), in
 * order; see mailbox.h. */
static int
run_opened(struct mailbox_run *r, int rc, struct buf *err)
{
	rc = open_and_scan(r, rc, err);
	if (rc == 0)
		rc = settle_clashes(r, err);
	if (rc == 0)
		rc = plan_and_execute(r, err);
	close_journal(r);
	return rc;
}

/* What a side's mark value is, for messages. */
static const char *
mark_kind(const struct mbox_status *st)
{
	return st->highestmodseq != 0 ? "HIGHESTMODSEQ" : "stamp";
}

/* Both sides' statuses as the job's listing or the stores' peek() tell
 * them; a store that cannot tell leaves its side unknown. */
static int
peek_sides(const struct mailbox_job *job, struct pair_listing *l,
    struct buf *err)
{
	if (job->listed != NULL) {
		*l = *job->listed;
		return 0;
	}
	for (int s = 0; s < 2; s++) {
		struct store *st = job->store[s];
		int rc;

		if (st->ops->peek == NULL)
			continue;
		rc = st->ops->peek(st, job->box[s], &l->st[s], err);
		if (rc < 0)
			return -1;
		l->known[s] = rc == 1;
	}
	return 0;
}

/*
 * A pair whose state file's head calls it up to date (plan_pair_quiet())
 * is neither locked nor opened, and its pairs are not read: both stores
 * peek() at their side, and nothing else happens. Without the lock a
 * concurrent run may be busy with the pair; then the state file is the
 * one before it or after it (renamed whole), and a journal shows it: the
 * pair is not skipped. Anything the head cannot vouch for (no head, a
 * store that cannot peek, a status that moved) runs the pair as before.
 * What the peeks told is left in *l (nothing, without a head or with a
 * journal), a hint for the opens.
 */
static int
skip_if_quiet(const struct mailbox_job *job, int *skipped,
    struct pair_listing *l, struct buf *err)
{
	struct state_head h;
	const struct mbox_status *pnow[2] = { &l->st[0], &l->st[1] };
	struct stat sb;

	*skipped = 0;
	memset(l, 0, sizeof(*l));
	if (state_read_head(job->paths->state, &h, err) != 1) {
		buf_reset(err);
		return 0;
	}
	if (lstat(job->paths->journal, &sb) == 0 || errno != ENOENT)
		return 0;
	if (peek_sides(job, l, err) != 0)
		return -1;
	if (!l->known[SIDE_FAR] || !l->known[SIDE_NEAR] ||
	    !plan_pair_quiet(&h, pnow, sync_policy_digest(job->policy)))
		return 0;
	*skipped = 1;
	log_debug(job->lg, "%s: both sides as the last run left them (far "
	    "UIDNEXT %u %s %llu, near UIDNEXT %u %s %llu): not opened",
	    job->label, l->st[SIDE_FAR].uidnext, mark_kind(&l->st[SIDE_FAR]),
	    (unsigned long long)plan_mark_value(&l->st[SIDE_FAR]),
	    l->st[SIDE_NEAR].uidnext, mark_kind(&l->st[SIDE_NEAR]),
	    (unsigned long long)plan_mark_value(&l->st[SIDE_NEAR]));
	if (job->dry_run)
		log_info(job->lg, "%s: dry run: nothing to do", job->label);
	return 0;
}

static int64_t
lock_clock_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The pair lock, waiting up to wait seconds while another process holds
 * it (a watcher's sync is short): tried again after 50 ms, then at
 * doubling intervals of at most 500 ms. A stop request ends the wait; so
 * does the bound, with the lock's own error (PAIR_LOCK_BUSY).
 */
static enum pair_lock_result
lock_pair(const struct mailbox_job *job, unsigned wait, int *fd,
    struct buf *err)
{
	int64_t until = lock_clock_ms() + (int64_t)wait * 1000;
	long step = 50;
	int rc;

	while ((rc = pair_lock(job->paths->lock, fd, err)) == PAIR_LOCK_BUSY &&
	    lock_clock_ms() < until && !interrupted(job->stop)) {
		struct timespec ts = { 0, step * 1000000L };

		if (step == 50)
			log_verbose(job->lg, "%s: %s; waiting up to %u s for "
			    "it", job->label, buf_cstr(err), wait);
		(void)nanosleep(&ts, NULL);
		step = step * 2 > 500 ? 500 : step * 2;
	}
	return rc;
}

/* The pair lock, or with early only tried: *busy when another holds it
 * (err reset), for the run's finish to wait for. */
static int
take_lock(struct mailbox_run *r, int early, int *busy, struct buf *err)
{
	const struct mailbox_job *job = r->job;
	int rc;

	*busy = 0;
	if (state_paths_mkdir(job->paths, err) != 0)
		return -1;
	rc = lock_pair(job, early ? 0 : job->lock_wait, &r->lock_fd, err);
	if (early && rc == PAIR_LOCK_BUSY) {
		log_debug(job->lg, "%s: %s; not begun early: waited for when "
		    "its turn comes", job->label, buf_cstr(err));
		buf_reset(err);
		*busy = 1;
		return 0;
	}
	return rc == PAIR_LOCK_TAKEN ? 0 : -1;
}

/* The run's steps from where it stands up to the opens sent ahead; with
 * early, not waiting for the lock (the run stays STAGE_CHECKED). */
static int
advance(struct mailbox_run *r, int early, struct buf *err)
{
	const struct mailbox_job *job = r->job;
	int skipped, busy = 0;

	if (r->stage == STAGE_START) {
		if (skip_if_quiet(job, &skipped, &r->listed, err) != 0)
			return -1;
		r->stage = skipped ? STAGE_SKIPPED : STAGE_CHECKED;
	}
	if (r->stage == STAGE_CHECKED) {
		if (!job->dry_run && take_lock(r, early, &busy, err) != 0)
			return -1;
		if (busy)
			return 0;
		r->stage = STAGE_LOCKED;
	}
	if (r->stage == STAGE_LOCKED) {
		if (load_state(r, err) != 0)
			return -1;
		r->stage = STAGE_LOADED;
	}
	if (r->stage == STAGE_LOADED) {
		r->stage = STAGE_OPENING;
		return begin_sides(r, err);
	}
	return 0;
}

struct mailbox_run *
mailbox_begin(const struct mailbox_job *job, int early)
{
	struct mailbox_run *r = xcalloc(1, sizeof(*r));

	r->job = job;
	r->lock_fd = -1;
	state_init(&r->state);
	plan_init(&r->plan);
	r->rc = advance(r, early, &r->err);
	/* A kill while the next pair's open is on the wire and the last
	 * pair's state is not yet written. */
	if (early && r->rc == 0 && (r->begun[0] || r->begun[1]))
		crash_step(job->crash);
	return r;
}

int
mailbox_finish(struct mailbox_run *r, struct exec_stats *stats,
    struct buf *err)
{
	int rc = r->rc;

	if (rc != 0)
		buf_setf(err, "%s", buf_cstr(&r->err));
	else
		rc = advance(r, 0, err);
	if (r->stage == STAGE_OPENING)
		rc = run_opened(r, rc, err);
	*stats = r->exec.stats;
	run_free(r);
	free(r);
	return rc;
}

int
sync_mailbox(const struct mailbox_job *job, struct exec_stats *stats,
    struct buf *err)
{
	return mailbox_finish(mailbox_begin(job, 0), stats, err);
}

int
sync_mailbox_quiet(const struct mailbox_job *job,
    struct pair_listing *listed, struct buf *err)
{
	int skipped = 0;

	if (skip_if_quiet(job, &skipped, listed, err) != 0)
		return -1;
	return skipped;
}

void
sync_describe_stats(const struct exec_stats *st, struct buf *out)
{
	if (!exec_stats_changed(st))
		return;
	buf_addf(out, "far->near: %zu copied, %zu flagged, %zu expunged; "
	    "near->far: %zu copied, %zu flagged, %zu expunged",
	    st->copied[SIDE_NEAR], st->flagged[SIDE_NEAR],
	    st->expunged[SIDE_NEAR], st->copied[SIDE_FAR],
	    st->flagged[SIDE_FAR], st->expunged[SIDE_FAR]);
	if (st->recovered > 0)
		buf_addf(out, "; %zu interrupted copies recovered",
		    st->recovered);
	for (int s = 0; s < 2; s++)
		if (st->trashed[s] > 0)
			buf_addf(out, "; %zu copied to Trash on %s",
			    st->trashed[s], side_names[s]);
}
