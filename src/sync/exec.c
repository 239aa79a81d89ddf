/* exec: carry out a plan and journal it; see exec.h. State records here,
 * store batches in exec_store.c, recovery in exec_recover.c. */
#include "sync/exec.h"

#include <stdlib.h>
#include <string.h>

int
exec_record(struct exec *x, const struct journal_rec *rec, struct buf *err)
{
	crash_step(x->crash);
	/* No journal: a dry run, or a run without copies whose state is
	 * written whole at its end. */
	if (x->journal == NULL)
		return state_apply(x->state, rec, err);
	return journal_append(x->journal, rec, err);
}

static int
record_pair(struct exec *x, enum journal_kind kind, const struct pair_rec *p,
    struct buf *err)
{
	struct journal_rec rec = { .kind = kind, .pair = *p };

	return exec_record(x, &rec, err);
}

static int
record_value(struct exec *x, enum journal_kind kind, enum side side,
    uint64_t value, struct buf *err)
{
	struct journal_rec rec = { .kind = kind, .side = side,
	    .value = value };

	return exec_record(x, &rec, err);
}

/* Replace the record named by op->key with op->rec: in place when the UIDs
 * stay, else by forgetting the old record and adding the new one. */
static int
update_pair(struct exec *x, const struct plan_op *op, struct buf *err)
{
	const struct pair_rec *cur = state_find_pair(x->state,
	    op->key[SIDE_FAR], op->key[SIDE_NEAR]);
	struct pair_rec key = { .uid = { op->key[0], op->key[1] } };

	if (cur == NULL) {
		buf_setf(err, "plan updates a pair the state does not hold "
		    "(far UID %u, near UID %u)", op->key[0], op->key[1]);
		return -1;
	}
	if (op->rec.uid[0] != op->key[0] || op->rec.uid[1] != op->key[1]) {
		if (record_pair(x, JR_PAIR_FORGET, &key, err) != 0)
			return -1;
		return record_pair(x, JR_PAIR_NEW, &op->rec, err);
	}
	if (cur->flags != op->rec.flags &&
	    record_pair(x, JR_PAIR_FLAGS, &op->rec, err) != 0)
		return -1;
	if (cur->status != op->rec.status &&
	    record_pair(x, JR_PAIR_STATUS, &op->rec, err) != 0)
		return -1;
	return 0;
}

/* The record as it is now (an earlier operation of the plan, the other
 * side's Trash copy, may have changed it) with the trashed bit of the
 * side whose Trash got the copy. */
int
exec_record_trashed(struct exec *x, const struct plan_op *op,
    struct buf *err)
{
	struct plan_op up = *op;
	const struct pair_rec *cur;

	if (op->key[SIDE_FAR] == 0 && op->key[SIDE_NEAR] == 0)
		return record_pair(x, JR_PAIR_NEW, &op->rec, err);
	cur = state_find_pair(x->state, op->key[SIDE_FAR], op->key[SIDE_NEAR]);
	if (cur != NULL) {
		up.rec = *cur;
		up.rec.status |= PAIR_TRASHED(op->kind == PLAN_TRASH_REMOTE ?
		    !op->side : op->side);
	}
	return update_pair(x, &up, err);
}

/* 1 if a record, one-sided or not, holds uid on side. */
static int
paired_on(const struct sync_state *st, enum side side, uint32_t uid)
{
	for (size_t i = 0; i < st->npairs; i++)
		if (st->pairs[i].uid[side] == uid)
			return 1;
	return 0;
}

/* The lowest UID of side s whose copy failed this run and that no record
 * holds (a record, one-sided or not, keeps its message wanted by itself);
 * 0 if none. */
static uint32_t
lowest_unheld(const struct exec *x, enum side s)
{
	uint32_t low = 0;

	for (size_t i = 0; i < x->nfailed[s]; i++) {
		uint32_t u = x->failed[s][i];

		if ((low == 0 || u < low) && !paired_on(x->state, s, u))
			low = u;
	}
	return low;
}

/*
 * Invariant 8, checked before a maxuid or UIDVALIDITY is recorded: no
 * message whose copy failed this run may end up at or below its side's
 * maxuid without a record, where no later plan would look at it again.
 * maxuid[s] is the value about to be recorded for side s.
 */
static int
check_wanted(const struct exec *x, const uint32_t maxuid[2],
    struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		uint32_t low = lowest_unheld(x, (enum side)s);

		if (low == 0 || low > maxuid[s])
			continue;
		buf_setf(err, "%s UID %u was neither copied nor confirmed "
		    "gone; refusing to record a state that passes it (maxuid "
		    "%u)",
		    side_names[s], low, maxuid[s]);
		return -1;
	}
	return 0;
}

/* maxuid stops below the first message whose copy failed this run, so
 * that the next run sees it as new again. */
static int
record_maxuid(struct exec *x, const struct plan_op *op, struct buf *err)
{
	uint32_t maxuid[2] = { x->state->maxuid[0], x->state->maxuid[1] };
	uint32_t low = lowest_unheld(x, op->side);
	uint32_t v = op->value;

	if (low != 0 && v >= low) {
		log_verbose(x->lg, "%s: %s maxuid stays at %u, below UID %u "
		    "that failed", x->box, side_names[op->side], low - 1,
		    low);
		v = low - 1;
	}
	if (v == maxuid[op->side])
		return 0;
	maxuid[op->side] = v;
	if (check_wanted(x, maxuid, err) != 0)
		return -1;
	return record_value(x, JR_MAXUID, op->side, v, err);
}

/* A failed message that was new only because its side was distrusted
 * (a repair) may lie below maxuid, where no PLAN_SET_MAXUID op moves it:
 * maxuid goes below it all the same. */
static int
keep_failed_wanted(struct exec *x, struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		struct plan_op op = { .kind = PLAN_SET_MAXUID,
		    .side = (enum side)s, .value = x->state->maxuid[s] };

		if (x->nfailed[s] != 0 && record_maxuid(x, &op, err) != 0)
			return -1;
	}
	return 0;
}

/* A new UIDVALIDITY ends a repair: whatever it left at or below maxuid
 * without a record is never compared again. So a message of a trusted
 * side whose copy failed in the repair (one whose record it dissolved,
 * at or below maxuid) first gets maxuid below it, as at the end of the
 * plan: the repair completes, and the next run copies it. */
static int
record_uidvalidity(struct exec *x, const struct plan_op *op, struct buf *err)
{
	if (keep_failed_wanted(x, err) != 0 ||
	    check_wanted(x, x->state->maxuid, err) != 0)
		return -1;
	return record_value(x, JR_UIDVALIDITY, op->side, op->value, err);
}

/*
 * 1 if op would drop from a record a message that an expunge of this run
 * left in place (another client took its \Deleted back in between): the
 * record stays as it was, so that the message is never left on its side
 * with no record and no copy (the next run plans the deletion again).
 */
static int
drops_kept(const struct exec *x, const struct plan_op *op)
{
	if (op->kind != PLAN_FORGET && op->kind != PLAN_UPDATE_PAIR)
		return 0;
	for (int s = 0; s < 2; s++) {
		if (op->key[s] == 0 ||
		    (op->kind == PLAN_UPDATE_PAIR && op->rec.uid[s] != 0))
			continue;
		for (size_t i = 0; i < x->nkept[s]; i++)
			if (x->kept[s][i] == op->key[s])
				return 1;
	}
	return 0;
}

/* One operation that changes only the state. */
static int
exec_state_op(struct exec *x, const struct plan_op *op, struct buf *err)
{
	struct pair_rec key = { .uid = { op->key[0], op->key[1] } };

	if (drops_kept(x, op))
		return 0;
	switch (op->kind) {
	case PLAN_NEW_PAIR:
	case PLAN_SKIP:
		return record_pair(x, JR_PAIR_NEW, &op->rec, err);
	case PLAN_UPDATE_PAIR:
		return update_pair(x, op, err);
	case PLAN_FORGET:
		return record_pair(x, JR_PAIR_FORGET, &key, err);
	case PLAN_SET_MAXUID:
		return record_maxuid(x, op, err);
	case PLAN_SET_UIDVALIDITY:
		return record_uidvalidity(x, op, err);
	default:
		buf_setf(err, "operation kind %d is not a state change",
		    (int)op->kind);
		return -1;
	}
}

/* Length of the run of operations starting at ops[0] that one store call
 * can carry: same kind, and for copies the same direction, at most
 * EXEC_COPY_BATCH. */
static size_t
run_length(const struct plan_op *ops, size_t n)
{
	size_t k = 1;

	while (k < n && ops[k].kind == ops[0].kind) {
		if (ops[0].kind == PLAN_COPY &&
		    (ops[k].side != ops[0].side || k == EXEC_COPY_BATCH))
			break;
		k++;
	}
	return k;
}

/* A flag run and the expunge run right after it, if any, as one update
 * (exec_update.c): *k grows by the expunges. Only a Trash run can stand
 * between the two (plan.h, "Order"), and its copies must be committed
 * and recorded before anything is expunged: then they stay apart. */
static int
flags_then_expunges(struct exec *x, const struct plan *p, size_t i,
    size_t *k, struct buf *err)
{
	const struct plan_op *op = &p->ops[i];
	size_t next = i + *k, ne = 0;

	if (next < p->n && p->ops[next].kind == PLAN_EXPUNGE)
		ne = run_length(&p->ops[next], p->n - next);
	*k += ne;
	return exec_update_run(x, op, next - i, &p->ops[next], ne, err);
}

int
exec_stats_changed(const struct exec_stats *st)
{
	size_t total = st->recovered;

	for (int s = 0; s < 2; s++)
		total += st->copied[s] + st->flagged[s] + st->expunged[s] +
		    st->trashed[s];
	return total > 0;
}

/* Tell the progress hook what the plan copies. */
static void
announce_copies(const struct exec *x, const struct plan *p)
{
	const struct sync_progress *pg = x->progress;
	uint64_t bytes = 0;
	size_t n = 0;

	if (pg == NULL || pg->planned == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];
		const struct msg_meta *m;

		if (op->kind != PLAN_COPY)
			continue;
		n++;
		m = msg_list_find(x->scan[op->side], op->uid);
		if (m != NULL)
			bytes += m->size;
	}
	if (n > 0)
		pg->planned(pg->ctx, n, bytes);
}

int
exec_plan(struct exec *x, const struct plan *p, struct buf *err)
{
	size_t i = 0;

	announce_copies(x, p);

	while (i < p->n) {
		const struct plan_op *op = &p->ops[i];
		size_t k = run_length(op, p->n - i);
		int rc;

		/* A durable point: what the plan did so far is journalled
		 * (or, in a run without copies, planned again next time). */
		if (interrupted(x->stop)) {
			buf_setf(err, "interrupted");
			return -1;
		}
		if (op->kind == PLAN_COPY)
			rc = exec_copy_run(x, op, k, err);
		else if (op->kind == PLAN_SET_FLAGS)
			rc = flags_then_expunges(x, p, i, &k, err);
		else if (op->kind == PLAN_EXPUNGE)
			rc = exec_update_run(x, NULL, 0, op, k, err);
		else if (op->kind == PLAN_TRASH)
			rc = exec_trash_run(x, op, k, err);
		else if (op->kind == PLAN_TRASH_REMOTE)
			rc = exec_trash_remote_run(x, op, k, err);
		else {
			rc = 0;
			for (size_t j = 0; j < k && rc == 0; j++)
				rc = exec_state_op(x, &op[j], err);
		}
		if (rc != 0)
			return -1;
		i += k;
	}
	if (keep_failed_wanted(x, err) != 0)
		return -1;
	return x->journal ? journal_flush(x->journal, err) : 0;
}

/* A stamp (no HIGHESTMODSEQ) read at open() says nothing of a folder
 * this run changed: the change gave the folder another stamp, so a mark
 * would never hold again. No mark is recorded for it. */
static int
stamp_outdated(const struct exec *x, enum side s)
{
	const struct exec_stats *st = &x->stats;

	return x->status[s]->highestmodseq == 0 && (st->copied[s] != 0 ||
	    st->flagged[s] != 0 || st->expunged[s] != 0 ||
	    st->trashed[s] != 0);
}

/* 1 if the scan lists a message at or above UIDNEXT: it came after
 * open() reported the status, which then does not describe what the
 * scan (and the pairs made of it) hold. */
static int
scan_passes_status(const struct msg_list *scan, uint32_t uidnext)
{
	for (size_t i = 0; i < scan->n; i++)
		if (scan->v[i].uid >= uidnext)
			return 1;
	return 0;
}

/* A side earns a settled mark when its scan showed what the pairs now
 * say of it, at a status with modification sequences (or a stamp) that
 * the mark does not hold already, and no message came after that
 * status (a mark below a pair's UID would never hold). */
static int
settle_due(const struct exec *x, enum side s)
{
	const struct mbox_status *now = x->status[s];
	const struct side_mark *mk = &x->state->settled[s];
	const struct uid_vec *left;
	uint64_t value = plan_mark_value(now);

	if (value == 0 || now->uidnext == 0 ||
	    now->uidvalidity != x->state->uidvalidity[s] ||
	    x->state->nintents > 0 || stamp_outdated(x, s))
		return 0;
	if (mk->uidnext == now->uidnext && mk->modseq == value)
		return 0;
	/* A stamp vouches for every name in the folder, the empty
	 * messages left included; a count does not. */
	left = now->highestmodseq == 0 && x->empty != NULL ? &x->empty[s] :
	    NULL;
	return !scan_passes_status(x->scan[s], now->uidnext) &&
	    plan_side_settled(x->state, x->scan[s], s, left);
}

int
exec_settle_due(const struct exec *x)
{
	return settle_due(x, SIDE_FAR) || settle_due(x, SIDE_NEAR);
}

/* The HIGHESTMODSEQ open() reported, as the lower bound a server
 * restored from a backup would fall below (plan_repair.c). Recorded only
 * after a complete run, so that it never precedes the UIDVALIDITY and
 * re-pairing that run recorded. */
static int
record_modseq(struct exec *x, enum side s, struct buf *err)
{
	uint64_t now = x->status[s]->highestmodseq;

	if (now == x->state->highestmodseq[s] ||
	    x->status[s]->uidvalidity != x->state->uidvalidity[s])
		return 0;
	return record_value(x, JR_HIGHESTMODSEQ, s, now, err);
}

int
exec_settle(struct exec *x, struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		struct journal_rec rec = { .kind = JR_SETTLED,
		    .side = (enum side)s };

		if (record_modseq(x, (enum side)s, err) != 0)
			return -1;
		if (!settle_due(x, (enum side)s))
			continue;
		rec.mark.uidnext = x->status[s]->uidnext;
		rec.mark.modseq = plan_mark_value(x->status[s]);
		if (exec_record(x, &rec, err) != 0)
			return -1;
	}
	return x->journal ? journal_flush(x->journal, err) : 0;
}

void
exec_free(struct exec *x)
{
	for (int s = 0; s < 2; s++) {
		free(x->failed[s]);
		x->failed[s] = NULL;
		x->nfailed[s] = 0;
		free(x->kept[s]);
		x->kept[s] = NULL;
		x->nkept[s] = 0;
	}
	x->nfailed_empty = 0;
}

int
exec_failures(const struct exec *x, struct buf *err)
{
	/* Empty messages stay wanted in failed[] but fail nothing. */
	size_t n = x->nfailed[SIDE_FAR] + x->nfailed[SIDE_NEAR] -
	    x->nfailed_empty;

	if (n == 0 && x->ntrash_failed > 0) {
		buf_setf(err, "%zu message%s could not be copied to Trash in "
		    "this run (see above); %s not expunged", x->ntrash_failed,
		    x->ntrash_failed == 1 ? "" : "s",
		    x->ntrash_failed == 1 ? "it was" : "they were");
		return -1;
	}
	if (n == 0)
		return 0;
	buf_setf(err, "%zu message%s could not be copied in this run (see "
	    "above); %s wanted and the next run tries again", n,
	    n == 1 ? "" : "s", n == 1 ? "it stays" : "they stay");
	return -1;
}
