/*
 * plan_hint: which sizes and dates the planner will read,
 * so that a scan fetches no more than that (see struct scan_hint).
 *
 * The planner reads a message's size only to apply MaxSize before a
 * copy, and copies only what is new (above maxuid), what a PAIR_TOO_BIG
 * record held back, and, when a side's UIDs are distrusted, anything.
 * A message that a record holds is not new, whatever its UID (copies
 * land above maxuid and are recorded, not counted in it). Recovery reads
 * no sizes: it fetches its candidates (exec_recover.c). The copy's
 * arrival date comes from the same scan, so the same messages need their
 * dates.
 */
#include "sync/plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/u32.h"

static int
any_distrust(const struct sync_state *st, const struct mbox_status *status[2])
{
	struct plan_input in = { .state = st };
	struct plan_repair rep = { 0 };

	for (int s = 0; s < 2; s++)
		in.side[s].status = status[s];
	plan_detect_distrust(&in, &rep);	/* NULL: trusted */
	return rep.reason[SIDE_FAR] != DISTRUST_NONE ||
	    rep.reason[SIDE_NEAR] != DISTRUST_NONE;
}

/* Records hold messages the planner copies only when MaxSize held them
 * back; the others above sizes_from are skipped. */
static void
add_records(const struct sync_state *st, enum side s, struct plan_scan_hint *h)
{
	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *p = &st->pairs[i];

		if (p->uid[s] == 0)
			continue;
		if (p->status & PAIR_TOO_BIG)
			uid_vec_push(&h->sizes, p->uid[s]);
		if (p->uid[s] >= h->hint.sizes_from)
			uid_vec_push(&h->skip, p->uid[s]);
	}
	u32_sort(h->sizes.v, h->sizes.n);
	u32_sort(h->skip.v, h->skip.n);
	h->hint.size_uids = h->sizes.v;
	h->hint.nsize_uids = h->sizes.n;
	h->hint.skip_uids = h->skip.v;
	h->hint.nskip_uids = h->skip.n;
}

void
plan_scan_hint(const struct sync_state *st,
    const struct mbox_status *status[2], enum side s,
    struct plan_scan_hint *out)
{
	memset(out, 0, sizeof(*out));
	out->hint.sizes_from = 1;
	if (any_distrust(st, status) || st->maxuid[s] == UINT32_MAX)
		return;
	out->hint.sizes_from = st->maxuid[s] + 1;
	add_records(st, s, out);
}

void
plan_scan_hint_free(struct plan_scan_hint *h)
{
	free(h->sizes.v);
	free(h->skip.v);
	memset(h, 0, sizeof(*h));
}

static int
same_uids(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

int
plan_scan_hint_same(const struct scan_hint *a, const struct scan_hint *b)
{
	return a->sizes_from == b->sizes_from &&
	    same_uids(a->size_uids, a->nsize_uids, b->size_uids,
	    b->nsize_uids) &&
	    same_uids(a->skip_uids, a->nskip_uids, b->skip_uids,
	    b->nskip_uids);
}
