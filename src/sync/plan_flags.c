/*
 * plan_flags: the three-way flag merge of a pair present on both sides.
 *
 * Both directions propagate: result = B - (removed on F or N) + (added on
 * F or N). A flag one side added and the other removed ends up set (an
 * addition wins), so the rule is deterministic and never loses \Flagged.
 *
 * One direction propagates (say Pull Flags only): the source side is the
 * master. The target receives the source's changes on top of its own
 * state and keeps its own unpropagated changes; the recorded base is the
 * source's flags, so the target's own changes stay "changes" that the
 * next run again does not propagate, and the next plan is empty.
 *
 * Neither direction: nothing is written and the base is kept.
 */
#include "sync/plan_int.h"

static unsigned
apply_changes(unsigned cur, unsigned added, unsigned removed)
{
	return (cur & ~removed) | added;
}

void
plan_merge_flags(unsigned base, const unsigned cur[2],
    const int propagate[2], struct flag_merge *out)
{
	unsigned added[2], removed[2];

	for (int s = 0; s < 2; s++) {
		added[s] = cur[s] & ~base & MSG_ALL_FLAGS;
		removed[s] = base & ~cur[s] & MSG_ALL_FLAGS;
		out->target[s] = cur[s];
	}
	out->base = base;
	if (propagate[SIDE_FAR] && propagate[SIDE_NEAR]) {
		out->base = apply_changes(base,
		    added[SIDE_FAR] | added[SIDE_NEAR],
		    removed[SIDE_FAR] | removed[SIDE_NEAR]);
		out->target[SIDE_FAR] = out->target[SIDE_NEAR] = out->base;
		return;
	}
	for (int s = 0; s < 2; s++) {
		int o = !s;

		if (!propagate[s])
			continue;
		out->target[o] = apply_changes(cur[o], added[s], removed[s]);
		out->base = cur[s];
	}
}
