/*
 * plan_new: messages no record holds, and the state's limits.
 *
 * A message is new on side s when its UID is above the recorded maxuid of
 * s (or it lost its record to a distrusted side). Below maxuid and
 * unrecorded, it is one an earlier run chose to leave: nothing happens to
 * it but the Expunge policy.
 *
 * maxuid of a side rises to the highest UID no record held when New is on
 * for that side; copies arriving there are recorded, so they never need
 * it, and with New off every unrecorded message stays new until it is. A new message is copied if New is on for its
 * direction, unless it is too big for the target (recorded PAIR_TOO_BIG),
 * expired by MaxMessages (recorded PAIR_EXPIRED; plan_expire.c), or
 * marked \Deleted where either side's Expunge would remove it anyway (then
 * it is not copied). An empty one (size 0: an empty Maildir file, no
 * message) is not copied either: it goes to the plan's empty list, and
 * maxuid of its side stays below it, so that it stays new and is copied
 * once it has content (a file written again in place keeps its UID).
 * Nothing about it is recorded, so a pair whose only news are empty
 * messages has an empty plan: no journal, no state to write.
 */
#include "sync/plan_int.h"

/* MaxMessages: plan_expire() chose the far messages near does not get. */
static int
is_expired(const struct plan_work *w, enum side s, size_t i)
{
	return s == SIDE_FAR && w->expire[i];
}

static void
emit_skip(struct plan_work *w, enum side s, const struct msg_meta *m,
    unsigned status)
{
	struct plan_op *op = work_emit(w, PHASE_COPY, PLAN_SKIP);

	op->side = s;
	op->rec.uid[s] = m->uid;
	op->rec.flags = m->flags;
	op->rec.status = status;
}

static void
new_message(struct plan_work *w, enum side s, size_t i)
{
	const struct msg_meta *m = &w->in->side[s].scan->v[i];

	if (!work_allows(w, s, SYNC_NEW))
		return;
	if ((m->flags & MSG_DELETED) && work_expunges(w, !s))
		return;
	if (!work_fits(w, !s, m->size))
		emit_skip(w, s, m, PAIR_TOO_BIG);
	else if (is_expired(w, s, i))
		emit_skip(w, s, m, PAIR_EXPIRED);
	else if (work_is_empty(w, s, i))
		uid_vec_push(&w->empty[s], m->uid);
	else
		work_emit_copy(w, s, m);
}

void
plan_new_rules(struct plan_work *w, enum side s)
{
	const struct msg_list *l = w->in->side[s].scan;

	for (size_t i = 0; i < l->n; i++) {
		if (w->claimed[s][i])
			continue;
		if (l->v[i].uid > w->top_unpaired[s])
			w->top_unpaired[s] = l->v[i].uid;
		if ((l->v[i].flags & MSG_DELETED) &&
		    work_expunges_alone(w, s)) {
			plan_trash(w, s, &l->v[i], NULL, 1);
			work_emit_expunge(w, s, l->v[i].uid);
		}
		else if (work_is_new(w, s, i))
			new_message(w, s, i);
	}
}

static void
emit_state_value(struct plan_work *w, enum plan_op_kind kind, enum side s,
    uint32_t value)
{
	struct plan_op *op = work_emit(w, PHASE_LIMITS, kind);

	op->side = s;
	op->value = value;
}

void
plan_limits(struct plan_work *w)
{
	const struct sync_state *st = w->in->state;

	for (int s = 0; s < 2; s++) {
		const struct msg_list *l = w->in->side[s].scan;
		uint32_t maxuid = w->maxuid[s];

		/* A distrusted side was compared whole: all of it is dealt
		 * with, the re-paired messages included. */
		if ((w->distrusted & (1u << s)) && l->n > 0)
			w->top_unpaired[s] = l->v[l->n - 1].uid;
		if (work_allows(w, s, SYNC_NEW) && w->top_unpaired[s] > maxuid)
			maxuid = w->top_unpaired[s];
		/* Below the first empty message left, as the executor keeps
		 * it below a failed copy (exec.c, record_maxuid()). */
		if (w->empty[s].n > 0 && maxuid >= w->empty[s].v[0])
			maxuid = w->empty[s].v[0] - 1;
		if (maxuid != st->maxuid[s])
			emit_state_value(w, PLAN_SET_MAXUID, s, maxuid);
	}
	for (int s = 0; s < 2; s++) {
		uint32_t now = w->in->side[s].status->uidvalidity;

		if (now != st->uidvalidity[s])
			emit_state_value(w, PLAN_SET_UIDVALIDITY, s, now);
	}
}
