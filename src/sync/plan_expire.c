/*
 * plan_expire: MaxMessages, as mbsync defines it. The near side keeps the
 * newest max_messages of the far messages it holds or receives in this
 * run, counted in far UID order (the order of arrival there, whatever a
 * message's Date says). Older ones expire, unless they are important:
 * flagged, or unread while ExpireUnread is not yes. An expired message is
 * never copied to near, and a copy near already holds is removed there
 * (plan_pair.c); far keeps it, and a PAIR_EXPIRED record keeps it from
 * being copied again.
 *
 * Counted: far messages paired with a near copy (neither side about to
 * get \Deleted), far messages this run copies to near, and near messages
 * this run copies to far, which will be the newest far messages. Walking
 * from the oldest, each message in excess of the window either expires or,
 * being important, is kept in place of one (mbsync's rule), so the
 * window of the newest stays whole.
 *
 * A near copy marked \Deleted beyond the window, while its far message
 * and its record's base are not, is what an expiry leaves between its
 * two steps. Its record says so, unless the journal holding it was lost
 * with the run: the mark would then be taken for the user's and reach
 * far. Such a copy expires again (far keeps its message, whoever set the
 * mark: no expiry ever deletes on far, and a user who meant the deletion
 * makes it on far, where the message is). Within the window, the mark is
 * the user's and propagates.
 *
 * ExpireUnread not set: when the unread messages kept beyond the window
 * are more than half of it, the mailbox stops with an explanation, as
 * mbsync does, so that the user decides whether they expire.
 */
#include "sync/plan_int.h"

#include <stdlib.h>

/* -1 if far message i does not count, else its flags as near will have
 * them. */
static long
new_far_flags(const struct plan_work *w, size_t i)
{
	const struct msg_meta *m = work_msg(w, SIDE_FAR, (long)i);

	if (w->claimed[SIDE_FAR][i] || !work_is_new(w, SIDE_FAR, i) ||
	    !work_allows(w, SIDE_FAR, SYNC_NEW) ||
	    !work_fits(w, SIDE_NEAR, m->size) || (m->flags & MSG_DELETED))
		return -1;
	return (long)m->flags;
}

/* Near messages that this run copies to far. */
static size_t
count_pushed(const struct plan_work *w)
{
	const struct msg_list *l = w->in->side[SIDE_NEAR].scan;
	size_t n = 0;

	if (!work_allows(w, SIDE_NEAR, SYNC_NEW))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (!w->claimed[SIDE_NEAR][i] &&
		    work_is_new(w, SIDE_NEAR, i) &&
		    work_fits(w, SIDE_FAR, l->v[i].size) &&
		    !(l->v[i].flags & MSG_DELETED))
			n++;
	return n;
}

/* flags[i]: what near holds (or gets) of far message i, -1 if it does not
 * count. Returns how many count. */
static size_t
counted_flags(const struct plan_work *w, long *flags)
{
	size_t nfar = w->in->side[SIDE_FAR].scan->n, n = 0;

	for (size_t i = 0; i < nfar; i++)
		flags[i] = new_far_flags(w, i);
	for (size_t k = 0; k < w->npairs; k++) {
		const struct work_pair *p = &w->pairs[k];
		struct flag_merge m;

		if (p->idx[SIDE_FAR] < 0 || p->idx[SIDE_NEAR] < 0 ||
		    (p->rec.status & ~PAIR_TRASHED_BOTH) != 0)
			continue;
		plan_pair_merge(w, p, &m);
		if ((m.target[SIDE_FAR] | m.target[SIDE_NEAR]) & MSG_DELETED)
			continue;
		flags[p->idx[SIDE_FAR]] = (long)m.target[SIDE_NEAR];
	}
	for (size_t i = 0; i < nfar; i++)
		if (flags[i] >= 0)
			n++;
	return n;
}

static int
important(const struct plan_work *w, unsigned flags)
{
	if (flags & MSG_FLAGGED)
		return 1;
	return !(flags & MSG_SEEN) && w->pol->expire_unread != 1;
}

/* The far index where the window of the newest max counted messages
 * starts (the pushed ones, bound for far, are the newest); 0 when fewer
 * count (nothing lies beyond it). */
static size_t
window_start(const long *flags, size_t nfar, size_t pushed, uint32_t max)
{
	size_t i = nfar, seen = pushed;

	while (i > 0 && seen < max) {
		i--;
		if (flags[i] >= 0)
			seen++;
	}
	return seen >= max ? i : 0;
}

/* Pairs beyond the window whose near copy alone carries a new \Deleted
 * expire (see above). */
static void
expire_marked(struct plan_work *w, size_t start)
{
	for (size_t k = 0; k < w->npairs; k++) {
		const struct work_pair *p = &w->pairs[k];
		unsigned far, near;
		struct flag_merge m;

		if (p->idx[SIDE_FAR] < 0 || p->idx[SIDE_NEAR] < 0 ||
		    (size_t)p->idx[SIDE_FAR] >= start ||
		    (p->rec.status & ~PAIR_TRASHED_BOTH) != 0)
			continue;
		far = work_msg(w, SIDE_FAR, p->idx[SIDE_FAR])->flags;
		near = work_msg(w, SIDE_NEAR, p->idx[SIDE_NEAR])->flags;
		if (!(near & MSG_DELETED) || (far & MSG_DELETED) ||
		    (p->rec.flags & MSG_DELETED))
			continue;
		plan_pair_merge(w, p, &m);
		if (!important(w, m.target[SIDE_NEAR] & ~MSG_DELETED))
			w->expire[p->idx[SIDE_FAR]] = 1;
	}
}

int
plan_expire(struct plan_work *w, struct buf *why)
{
	size_t nfar = w->in->side[SIDE_FAR].scan->n, alive, pushed, unread = 0;
	uint32_t max = w->pol->max_messages;
	long *flags, excess;

	if (max == 0 || nfar == 0)
		return 0;
	flags = xcalloc(nfar, sizeof(*flags));
	pushed = count_pushed(w);
	alive = counted_flags(w, flags) + pushed;
	excess = (long)alive - (long)max;
	for (size_t i = 0; i < nfar && excess > 0; i++) {
		if (flags[i] < 0)
			continue;
		if (!important(w, (unsigned)flags[i]))
			w->expire[i] = 1;
		else if (!((unsigned)flags[i] & (MSG_FLAGGED | MSG_SEEN)))
			unread++;
		excess--;
	}
	expire_marked(w, window_start(flags, nfar, pushed, max));
	free(flags);
	if (w->pol->expire_unread >= 0 || unread * 2 <= max)
		return 0;
	buf_setf(why, "%zu unread messages are beyond MaxMessages (%u); "
	    "set ExpireUnread to yes (they expire from near) or no (near "
	    "keeps them) in the channel to decide; mailbox skipped", unread,
	    max);
	return 1;
}
