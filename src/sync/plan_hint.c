/*
 * plan_hint: which sizes and dates the planner and recovery will read,
 * so that a scan fetches no more than that (see struct scan_hint).
 *
 * The planner reads a message's size only to apply MaxSize before a
 * copy, and copies only what is new (above maxuid), what a PAIR_TOO_BIG
 * record held back, and, when a side's UIDs are distrusted, anything.
 * Recovery compares sizes of the target's messages at or above the
 * UIDNEXT an intent recorded. The copy's arrival date comes from the
 * same scan, so the same messages need their dates.
 */
#include "sync/plan_int.h"

#include <stdlib.h>

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
any_distrust(const struct sync_state *st, const struct mbox_status *status[2])
{
	struct plan_input in = { .state = st };
	struct plan_repair rep = { 0 };

	for (int s = 0; s < 2; s++)
		in.side[s].status = status[s];
	plan_detect_distrust(&in, &rep);
	return rep.reason[SIDE_FAR] != DISTRUST_NONE ||
	    rep.reason[SIDE_NEAR] != DISTRUST_NONE;
}

/* Lowest UID at which recovery looks for copies that went to side s. */
static uint32_t
recovery_from(const struct sync_state *st, enum side s, uint32_t from)
{
	for (size_t i = 0; i < st->nintents; i++) {
		const struct copy_intent *c = &st->intents[i];

		if ((enum side)!c->src == s && c->planned_uid == 0 &&
		    c->uidnext != 0 && c->uidnext < from)
			from = c->uidnext;
	}
	return from;
}

static void
add_held_back(const struct sync_state *st, enum side s,
    struct plan_scan_hint *h)
{
	size_t cap = 0;

	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *p = &st->pairs[i];

		if (!(p->status & PAIR_TOO_BIG) || p->uid[s] == 0 ||
		    p->uid[s] >= h->hint.sizes_from)
			continue;
		if (h->nuids == cap) {
			cap = cap ? cap * 2 : 16;
			h->uids = xreallocarray(h->uids, cap, sizeof(*h->uids));
		}
		h->uids[h->nuids++] = p->uid[s];
	}
	if (h->nuids > 1)
		qsort(h->uids, h->nuids, sizeof(*h->uids), cmp_u32);
	h->hint.size_uids = h->uids;
	h->hint.nsize_uids = h->nuids;
}

void
plan_scan_hint(const struct sync_state *st,
    const struct mbox_status *status[2], enum side s,
    struct plan_scan_hint *out)
{
	out->uids = NULL;
	out->nuids = 0;
	out->hint.size_uids = NULL;
	out->hint.nsize_uids = 0;
	out->hint.sizes_from = 1;
	if (any_distrust(st, status) || st->maxuid[s] == UINT32_MAX)
		return;
	out->hint.sizes_from = recovery_from(st, s, st->maxuid[s] + 1);
	if (out->hint.sizes_from > 1)
		add_held_back(st, s, out);
}

void
plan_scan_hint_free(struct plan_scan_hint *h)
{
	free(h->uids);
	h->uids = NULL;
	h->nuids = 0;
	h->hint.size_uids = NULL;
	h->hint.nsize_uids = 0;
}
