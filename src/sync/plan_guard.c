/*
 * plan_guard: DESIGN.md invariant 7. Deletions propagate from a side only
 * if that side does not look wiped. What a side lost is counted against
 * the records that hold a UID on it, whatever its scan still shows (new
 * mail delivered meanwhile does not hide a wipe): the mailbox stops with
 * an explanation when the side lost more than guard_wiped_percent of its
 * recorded messages and more than guard_wiped_over of them, or, with more
 * than guard_large_over records, more than guard_large_percent. Only a
 * side whose losses would propagate is judged (the Gone operation is on
 * for that direction and the other side still has one of the messages),
 * so ordinary deletions, and a small mailbox emptied, pass.
 */
#include "sync/plan_int.h"

#include <inttypes.h>

struct loss {
	size_t held;	/* records with a UID on the side */
	size_t lost;	/* ... whose message is gone from it */
	size_t doomed;	/* ... of those, still on the other side: the
			 * deletions that would propagate */
};

static struct loss
count_loss(const struct plan_work *w, enum side s)
{
	struct loss l = { 0, 0, 0 };

	for (size_t i = 0; i < w->npairs; i++) {
		const struct work_pair *p = &w->pairs[i];

		/* An expiring record's near copy goes by MaxMessages,
		 * not by a user's deletion: it never propagates. */
		if (p->rec.uid[s] == 0 || (p->rec.status & PAIR_EXPIRED))
			continue;
		l.held++;
		if (p->idx[s] >= 0)
			continue;
		l.lost++;
		if (p->idx[!s] >= 0)
			l.doomed++;
	}
	return l;
}

/* part is more than percent % of whole. */
static int
above(size_t part, size_t whole, unsigned percent)
{
	return (uint64_t)part * 100 > (uint64_t)whole * percent;
}

/* The percentage the loss is above, or -1 if the side does not look
 * wiped. */
static int
wipe_threshold(const struct sync_policy *pol, const struct loss *l)
{
	if (l->lost > pol->guard_wiped_over &&
	    above(l->lost, l->held, pol->guard_wiped_percent))
		return (int)pol->guard_wiped_percent;
	if (l->held > pol->guard_large_over &&
	    above(l->lost, l->held, pol->guard_large_percent))
		return (int)pol->guard_large_percent;
	return -1;
}

static int
side_refuses(const struct plan_work *w, enum side s, struct buf *why)
{
	struct loss l;
	int percent;

	if (!work_allows(w, s, SYNC_GONE))
		return 0;
	l = count_loss(w, s);
	if (l.doomed == 0)
		return 0;
	percent = wipe_threshold(w->pol, &l);
	if (percent < 0)
		return 0;
	buf_addf(why, "%zu of the %zu messages recorded on %s are gone from "
	    "it (more than %d%%); refusing to propagate %zu deletion%s to %s "
	    "(if they were meant, sync with --allow-mass-delete)", l.lost,
	    l.held, side_names[s], percent, l.doomed,
	    l.doomed == 1 ? "" : "s", side_names[!s]);
	return 1;
}

int
plan_guard_refuses(const struct plan_work *w, struct buf *why)
{
	return side_refuses(w, SIDE_FAR, why) ||
	    side_refuses(w, SIDE_NEAR, why);
}
