/*
 * plan_guard: DESIGN.md invariant 7. Deletions propagate from a side only
 * if that side does not look wiped: a side the state says held more than
 * guard_empty_over messages that now appears empty, or a side of more than
 * guard_large_over recorded messages that lost more than guard_percent of
 * them, stops the whole mailbox with an explanation. Only deletions that
 * would actually propagate count (the Gone operation is on for that
 * direction and the other side still has the message), so ordinary
 * deletions, even of every message of a small mailbox, pass.
 */
#include "sync/plan_int.h"

#include <inttypes.h>

struct loss {
	size_t held;		/* records with a UID on the side */
	size_t vanished;	/* ... whose message is gone there but not
				 * on the other side */
};

static struct loss
count_loss(const struct plan_work *w, enum side s)
{
	struct loss l = { 0, 0 };

	for (size_t i = 0; i < w->npairs; i++) {
		const struct work_pair *p = &w->pairs[i];

		if (p->rec.uid[s] == 0)
			continue;
		l.held++;
		if (p->idx[s] < 0 && p->idx[!s] >= 0)
			l.vanished++;
	}
	return l;
}

static int
side_refuses(const struct plan_work *w, enum side s, struct buf *why)
{
	const struct sync_policy *pol = w->pol;
	struct loss l;

	if (!work_allows(w, s, SYNC_GONE))
		return 0;
	l = count_loss(w, s);
	if (l.vanished == 0)
		return 0;
	if (w->in->side[s].scan->n == 0 && l.held > pol->guard_empty_over) {
		buf_addf(why, "%s side appears empty but the state records "
		    "%zu messages there; refusing to propagate %zu deletions "
		    "to %s (force to override)", plan_side_name(s), l.held,
		    l.vanished, plan_side_name(!s));
		return 1;
	}
	if (l.held > pol->guard_large_over &&
	    (uint64_t)l.vanished * 100 > (uint64_t)l.held * pol->guard_percent) {
		buf_addf(why, "%zu of %zu messages recorded on %s vanished "
		    "(more than %u%%); refusing to propagate the deletions to "
		    "%s (force to override)", l.vanished, l.held,
		    plan_side_name(s), pol->guard_percent, plan_side_name(!s));
		return 1;
	}
	return 0;
}

int
plan_guard_refuses(const struct plan_work *w, struct buf *why)
{
	return side_refuses(w, SIDE_FAR, why) ||
	    side_refuses(w, SIDE_NEAR, why);
}
