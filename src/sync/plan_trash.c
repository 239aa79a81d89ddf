/*
 * plan_trash: mbsync's Trash. A message about to be expunged on side S is
 * first copied into S's Trash mailbox when S has one: every such message,
 * or with TrashNewOnly those never propagated (no record, or a record
 * holding it alone because MaxSize held it back). A message MaxMessages
 * expires from near is not trashed: far keeps it.
 *
 * The copy is recorded (PAIR_TRASHED of that side) once it is committed,
 * before the expunge, so that a run cut between the two does not trash
 * the message a second time: the next run expunges it without copying.
 * A message no record holds gets a one-sided record for that, forgotten
 * after its expunge.
 */
#include "sync/plan_int.h"

static int
wants_trash(const struct plan_work *w, enum side s, int is_new)
{
	if (w->pol->trash_box[s] == NULL)
		return 0;
	return is_new || !(w->pol->trash_new_only & SYNC_EXPUNGE_SIDE(s));
}

void
plan_trash(struct plan_work *w, enum side s, const struct msg_meta *m,
    const struct pair_rec *rec, int is_new)
{
	struct plan_op *op;

	if (!wants_trash(w, s, is_new) ||
	    (rec != NULL && (rec->status & PAIR_TRASHED(s))))
		return;
	op = work_emit(w, PHASE_TRASH, PLAN_TRASH);
	op->side = s;
	op->uid = m->uid;
	if (rec != NULL) {
		op->key[SIDE_FAR] = rec->uid[SIDE_FAR];
		op->key[SIDE_NEAR] = rec->uid[SIDE_NEAR];
		op->rec = *rec;
		op->rec.status |= PAIR_TRASHED(s);
		return;
	}
	op->rec.uid[s] = m->uid;
	op->rec.flags = m->flags;
	op->rec.status = PAIR_TRASHED(s);
	op = work_emit(w, PHASE_RECORD, PLAN_FORGET);
	op->key[s] = m->uid;
}
