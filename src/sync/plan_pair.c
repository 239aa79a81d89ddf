/*
 * plan_pair: the rules for messages the state already pairs (DESIGN.md
 * §2): merge flags when both sides hold the message, propagate a
 * disappearance as \Deleted (Gone), expunge where the policy allows, and
 * forget a record once its message is gone from both sides.
 *
 * An expunge planned on one side in this run is treated at once as that
 * side's message being gone, so the gone rule for the other side is
 * applied in the same run and the next plan is empty.
 *
 * ExpungeSolo (mbsync 1.5) expunges a \Deleted message of its side only
 * when it stands alone: the record holds no counterpart, the counterpart
 * is gone, or it is being expunged in this run.
 *
 * MaxMessages (plan_expire.c) removes a near copy in two steps, so that a
 * run cut between them never takes the removal for a user's deletion:
 * the record first gets PAIR_EXPIRED with both UIDs ("expiring"), then
 * the near copy is marked \Deleted and expunged, whatever Expunge says
 * (far keeps the message), and the record keeps the far UID alone. An
 * expiring record found by a later run is finished the same way, and its
 * near copy's disappearance never propagates to far. The record is
 * durable before the near copy is marked (exec.c flushes the journal
 * before flag changes), a repair that dissolves it keeps the pair it
 * makes again expiring (plan_repair.c), and a near-only \Deleted beyond
 * the window expires rather than propagates (plan_expire.c).
 */
#include "sync/plan_int.h"

static void
emit_flags(struct plan_work *w, enum side s, uint32_t uid, unsigned cur,
    unsigned target)
{
	struct plan_op *op;

	if (cur == target)
		return;
	op = work_emit(w, PHASE_FLAGS, PLAN_SET_FLAGS);
	op->side = s;
	op->uid = uid;
	op->add = target & ~cur;
	op->del = cur & ~target;
}

static void
emit_forget(struct plan_work *w, const struct pair_rec *rec)
{
	struct plan_op *op = work_emit(w, PHASE_RECORD, PLAN_FORGET);

	op->key[SIDE_FAR] = rec->uid[SIDE_FAR];
	op->key[SIDE_NEAR] = rec->uid[SIDE_NEAR];
}

static void
emit_update(struct plan_work *w, const struct pair_rec *old,
    const struct pair_rec *rec)
{
	struct plan_op *op = work_emit(w, PHASE_RECORD, PLAN_UPDATE_PAIR);

	op->key[SIDE_FAR] = old->uid[SIDE_FAR];
	op->key[SIDE_NEAR] = old->uid[SIDE_NEAR];
	op->rec = *rec;
}

static unsigned
gone_status(const struct plan_work *w, enum side gone)
{
	return work_allows(w, gone, SYNC_GONE) ? PAIR_GONE_MARKED : 0;
}

/* The record once side gone has lost the message and other keeps it. */
static void
record_one_side_gone(struct plan_work *w, const struct pair_rec *old,
    enum side gone, unsigned other_flags)
{
	struct pair_rec rec = *old;

	rec.uid[gone] = 0;
	rec.flags = other_flags;
	rec.status = gone_status(w, gone);
	emit_update(w, old, &rec);
}

void
plan_pair_merge(const struct plan_work *w, const struct work_pair *p,
    struct flag_merge *m)
{
	unsigned cur[2];
	int propagate[2];

	for (int s = 0; s < 2; s++) {
		cur[s] = work_msg(w, s, p->idx[s])->flags;
		propagate[s] = work_allows(w, s, SYNC_FLAGS);
	}
	plan_merge_flags(p->rec.flags, cur, propagate, m);
}

/* The near copy of an expiring pair goes; far keeps the merged flags
 * (near's \Deleted, set for the expiry, is none of far's business). */
static void
expire_near(struct plan_work *w, const struct work_pair *p)
{
	unsigned cur[2];
	int propagate[2];
	struct flag_merge m;
	struct pair_rec rec = p->rec;

	for (int s = 0; s < 2; s++) {
		cur[s] = work_msg(w, s, p->idx[s])->flags;
		propagate[s] = work_allows(w, s, SYNC_FLAGS);
	}
	cur[SIDE_NEAR] &= ~MSG_DELETED;
	plan_merge_flags(p->rec.flags & ~MSG_DELETED, cur, propagate, &m);
	emit_flags(w, SIDE_FAR, p->rec.uid[SIDE_FAR], cur[SIDE_FAR],
	    m.target[SIDE_FAR]);
	emit_flags(w, SIDE_NEAR, p->rec.uid[SIDE_NEAR],
	    work_msg(w, SIDE_NEAR, p->idx[SIDE_NEAR])->flags,
	    cur[SIDE_NEAR] | MSG_DELETED);
	work_emit_expunge(w, SIDE_NEAR, p->rec.uid[SIDE_NEAR]);
	if ((m.target[SIDE_FAR] & MSG_DELETED) &&
	    work_expunges(w, SIDE_FAR)) {
		work_emit_expunge(w, SIDE_FAR, p->rec.uid[SIDE_FAR]);
		emit_forget(w, &p->rec);
		return;
	}
	rec.uid[SIDE_NEAR] = 0;
	rec.flags = m.target[SIDE_FAR];
	rec.status = PAIR_EXPIRED;
	emit_update(w, &p->rec, &rec);
}

/* Start expiring a pair: its record says so before anything is done. */
static void
expire_pair(struct plan_work *w, const struct work_pair *p)
{
	struct plan_op *op = work_emit(w, PHASE_COPY, PLAN_UPDATE_PAIR);

	op->key[SIDE_FAR] = p->rec.uid[SIDE_FAR];
	op->key[SIDE_NEAR] = p->rec.uid[SIDE_NEAR];
	op->rec = p->rec;
	op->rec.status = PAIR_EXPIRED;
	expire_near(w, p);
}

/* A record left expiring by an earlier run: finish it. */
static void
expiring(struct plan_work *w, const struct work_pair *p)
{
	struct pair_rec rec = p->rec;

	if (p->idx[SIDE_FAR] >= 0 && p->idx[SIDE_NEAR] >= 0) {
		expire_near(w, p);
		return;
	}
	if (p->idx[SIDE_NEAR] >= 0) {
		const struct msg_meta *m = work_msg(w, SIDE_NEAR,
		    p->idx[SIDE_NEAR]);

		emit_flags(w, SIDE_NEAR, m->uid, m->flags,
		    m->flags | MSG_DELETED);
		work_emit_expunge(w, SIDE_NEAR, m->uid);
		emit_forget(w, &p->rec);
		return;
	}
	if (p->idx[SIDE_FAR] < 0) {
		emit_forget(w, &p->rec);
		return;
	}
	rec.uid[SIDE_NEAR] = 0;
	emit_update(w, &p->rec, &rec);
}

static void
both_present(struct plan_work *w, const struct work_pair *p)
{
	unsigned cur[2];
	int expunge[2];
	struct flag_merge m;

	if (w->expire[p->idx[SIDE_FAR]]) {
		expire_pair(w, p);
		return;
	}
	for (int s = 0; s < 2; s++)
		cur[s] = work_msg(w, s, p->idx[s])->flags;
	plan_pair_merge(w, p, &m);
	for (int s = 0; s < 2; s++)
		expunge[s] = (m.target[s] & MSG_DELETED) && work_expunges(w, s);
	for (int s = 0; s < 2; s++) {
		if (!expunge[s] || expunge[!s] || !work_allows(w, s, SYNC_GONE))
			continue;
		m.target[!s] |= MSG_DELETED;
		expunge[!s] = work_expunges(w, !s);
	}
	/* ExpungeSolo: a \Deleted copy whose counterpart goes now. */
	for (int s = 0; s < 2; s++)
		if (!expunge[s] && expunge[!s] &&
		    (m.target[s] & MSG_DELETED) && work_expunges_alone(w, s))
			expunge[s] = 1;
	for (int s = 0; s < 2; s++)
		emit_flags(w, s, p->rec.uid[s], cur[s],
		    expunge[s] ? cur[s] | MSG_DELETED : m.target[s]);
	for (int s = 0; s < 2; s++) {
		if (!expunge[s])
			continue;
		plan_trash(w, s, work_msg(w, s, p->idx[s]), &p->rec, 0);
		work_emit_expunge(w, s, p->rec.uid[s]);
	}
	if (expunge[SIDE_FAR] && expunge[SIDE_NEAR]) {
		emit_forget(w, &p->rec);
	} else if (expunge[SIDE_FAR] || expunge[SIDE_NEAR]) {
		enum side gone = expunge[SIDE_FAR] ? SIDE_FAR : SIDE_NEAR;

		record_one_side_gone(w, &p->rec, gone, m.target[!gone]);
	} else if (m.base != p->rec.flags || p->rec.status != 0) {
		struct pair_rec rec = p->rec;

		rec.flags = m.base;
		rec.status = 0;
		emit_update(w, &p->rec, &rec);
	}
}

/* The record names both sides; side gone no longer has the message. */
static void
gone_on(struct plan_work *w, const struct work_pair *p, enum side gone)
{
	enum side other = !gone;
	unsigned cur = work_msg(w, other, p->idx[other])->flags;
	unsigned target = cur;

	if (work_allows(w, gone, SYNC_GONE))
		target |= MSG_DELETED;
	emit_flags(w, other, p->rec.uid[other], cur, target);
	if ((target & MSG_DELETED) && work_expunges_alone(w, other)) {
		plan_trash(w, other, work_msg(w, other, p->idx[other]),
		    &p->rec, 0);
		work_emit_expunge(w, other, p->rec.uid[other]);
		emit_forget(w, &p->rec);
		return;
	}
	record_one_side_gone(w, &p->rec, gone, target);
}

/* The record names side s only (skipped, or the other side was lost). */
static void
one_sided(struct plan_work *w, const struct work_pair *p, enum side s)
{
	const struct msg_meta *m = work_msg(w, s, p->idx[s]);

	if ((m->flags & MSG_DELETED) && work_expunges_alone(w, s)) {
		plan_trash(w, s, m, &p->rec,
		    (p->rec.status & PAIR_TOO_BIG) != 0);
		work_emit_expunge(w, s, m->uid);
		emit_forget(w, &p->rec);
		return;
	}
	if (!(p->rec.status & PAIR_TOO_BIG) ||
	    !work_allows(w, s, SYNC_RENEW) || !work_fits(w, !s, m->size))
		return;
	if ((m->flags & MSG_DELETED) && work_expunges(w, !s))
		return;
	work_emit_copy(w, s, m);
}

void
plan_pair_rules(struct plan_work *w, struct work_pair *p)
{
	int has[2], here[2];

	for (int s = 0; s < 2; s++) {
		has[s] = p->rec.uid[s] != 0;
		here[s] = p->idx[s] >= 0;
	}
	if (has[SIDE_FAR] && has[SIDE_NEAR] &&
	    (p->rec.status & PAIR_EXPIRED)) {
		expiring(w, p);
		return;
	}
	if (has[SIDE_FAR] && has[SIDE_NEAR]) {
		if (here[SIDE_FAR] && here[SIDE_NEAR])
			both_present(w, p);
		else if (here[SIDE_FAR])
			gone_on(w, p, SIDE_NEAR);
		else if (here[SIDE_NEAR])
			gone_on(w, p, SIDE_FAR);
		else
			emit_forget(w, &p->rec);
		return;
	}
	for (int s = 0; s < 2; s++) {
		if (!has[s])
			continue;
		if (here[s])
			one_sided(w, p, s);
		else
			emit_forget(w, &p->rec);
		return;
	}
	emit_forget(w, &p->rec);
}
