/*
 * plan_trash: mbsync's Trash. A message about to be expunged on side S is
 * first copied into S's Trash mailbox when S has one: every such message,
 * or with TrashNewOnly those never propagated (no record, or a record
 * holding it alone because MaxSize held it back). A message MaxMessages
 * expires from near is not trashed: far keeps it.
 *
 * TrashRemoteNew: when S has no Trash, a message never propagated that S
 * expunges goes instead into the Trash of the other side O, if O asks for
 * it (TrashRemoteNew on O's store) and the message fits O's MaxSize.
 *
 * The copy is recorded (PAIR_TRASHED of the side whose Trash got it) once
 * it is committed, before the expunge, so that a run cut between the two
 * does not trash the message a second time: the next run expunges it
 * without copying. A message no record holds gets a one-sided record for
 * that, forgotten after its expunge.
 */
#include "sync/plan_int.h"

static int
wants_trash(const struct plan_work *w, enum side s, int is_new)
{
	if (w->pol->trash_box[s] == NULL)
		return 0;
	return is_new || !(w->pol->trash_new_only & SYNC_EXPUNGE_SIDE(s));
}

/* TrashRemoteNew of the other side o for message m of side !o. */
static int
wants_remote(const struct plan_work *w, enum side o,
    const struct msg_meta *m, int is_new)
{
	return is_new && w->pol->trash_box[o] != NULL &&
	    (w->pol->trash_remote_new & SYNC_EXPUNGE_SIDE(o)) &&
	    work_fits(w, o, m->size);
}

/* Message m of side s goes into the Trash of side t (s or !s). */
static void
emit(struct plan_work *w, enum plan_op_kind kind, enum side s, enum side t,
    const struct msg_meta *m, const struct pair_rec *rec)
{
	struct plan_op *op = work_emit(w, PHASE_TRASH, kind);

	op->side = s;
	op->uid = m->uid;
	if (rec != NULL) {
		op->key[SIDE_FAR] = rec->uid[SIDE_FAR];
		op->key[SIDE_NEAR] = rec->uid[SIDE_NEAR];
		op->rec = *rec;
		op->rec.status |= PAIR_TRASHED(t);
		return;
	}
	op->rec.uid[s] = m->uid;
	op->rec.flags = m->flags;
	op->rec.status = PAIR_TRASHED(t);
	op = work_emit(w, PHASE_RECORD, PLAN_FORGET);
	op->key[s] = m->uid;
}

void
plan_trash(struct plan_work *w, enum side s, const struct msg_meta *m,
    const struct pair_rec *rec, int is_new)
{
	enum side o = !s;

	if (wants_trash(w, s, is_new)) {
		if (rec == NULL || !(rec->status & PAIR_TRASHED(s)))
			emit(w, PLAN_TRASH, s, s, m, rec);
		return;
	}
	if (w->pol->trash_box[s] == NULL && wants_remote(w, o, m, is_new) &&
	    (rec == NULL || !(rec->status & PAIR_TRASHED(o))))
		emit(w, PLAN_TRASH_REMOTE, s, o, m, rec);
}
