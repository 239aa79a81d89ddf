/*
 * plan: the planner's entry point. It builds the working view (re-pairing
 * by fingerprint when a side's UIDs cannot be trusted), applies the guard,
 * runs the per-pair and per-message rules, and lays the operations out in
 * crash-safety order.
 */
#include "sync/plan.h"

#include <stdlib.h>
#include <string.h>

#include "sync/plan_int.h"

void
plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->why);
}

void
plan_free(struct plan *p)
{
	free(p->ops);
	free(p->fp_uids[SIDE_FAR].v);
	free(p->fp_uids[SIDE_NEAR].v);
	free(p->empty[SIDE_FAR].v);
	free(p->empty[SIDE_NEAR].v);
	buf_free(&p->why);
	memset(p, 0, sizeof(*p));
}

static void
plan_reset(struct plan *p)
{
	p->status = PLAN_OK;
	p->n = 0;
	buf_reset(&p->why);
	p->need_fp = 0;
	p->fp_some = 0;
	p->fp_headers = 0;
	p->fp_uids[SIDE_FAR].n = p->fp_uids[SIDE_NEAR].n = 0;
	p->empty[SIDE_FAR].n = p->empty[SIDE_NEAR].n = 0;
	memset(&p->repair, 0, sizeof(p->repair));
}

size_t
plan_count(const struct plan *p, enum plan_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->ops[i].kind == kind)
			n++;
	return n;
}

int
plan_leaves_side(const struct plan *p, enum side s)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];

		switch (op->kind) {
		case PLAN_NEW_PAIR:
		case PLAN_SKIP:
		case PLAN_UPDATE_PAIR:
		case PLAN_FORGET:
		case PLAN_SET_MAXUID:
		case PLAN_SET_UIDVALIDITY:
			continue;	/* the state alone */
		case PLAN_SET_FLAGS:
		case PLAN_EXPUNGE:
			if (op->side != s)
				continue;
			return 0;
		default:		/* a copy reads one side and writes
					   the other; so may any kind added */
			return 0;
		}
	}
	return 1;
}

static void
plan_append(struct plan *p, const struct op_list *l)
{
	if (p->n + l->n > p->cap) {
		p->cap = p->n + l->n;
		p->ops = xreallocarray(p->ops, p->cap, sizeof(*p->ops));
	}
	if (l->n > 0)
		memcpy(p->ops + p->n, l->v, l->n * sizeof(*l->v));
	p->n += l->n;
}

static int
fingerprints_missing(const struct plan_input *in)
{
	return in->side[SIDE_FAR].fp == NULL ||
	    in->side[SIDE_NEAR].fp == NULL;
}

static unsigned
distrusted_sides(const struct plan_repair *rep)
{
	unsigned mask = 0;

	for (int s = 0; s < 2; s++)
		if (rep->reason[s] != DISTRUST_NONE)
			mask |= 1u << s;
	return mask;
}

static void
run_rules(struct plan_work *w)
{
	for (size_t i = 0; i < w->npairs; i++)
		plan_pair_rules(w, &w->pairs[i]);
	plan_new_rules(w, SIDE_FAR);
	plan_new_rules(w, SIDE_NEAR);
	plan_limits(w);
}

static int
header_hashes_missing(const struct plan_input *in)
{
	return in->side[SIDE_FAR].hh == NULL ||
	    in->side[SIDE_NEAR].hh == NULL;
}

static void
ask_fingerprints(struct plan *p, int headers, const char *what)
{
	p->need_fp = (1u << SIDE_FAR) | (1u << SIDE_NEAR);
	p->fp_some = 1;
	p->fp_headers = headers;
	buf_setf(&p->why, "%zu far and %zu near messages %s",
	    p->fp_uids[SIDE_FAR].n, p->fp_uids[SIDE_NEAR].n, what);
}

/*
 * First contact: both sides hold new messages no record holds. They are
 * compared in two passes, so that a message nothing on the other side
 * resembles is read once, when it is copied: without header hashes, ask
 * for those (1); with them, ask for the fingerprints of the messages
 * whose header hash a new message of the other side shares (1), if any;
 * with fingerprints, pair by content. A message whose header hash
 * nothing shares cannot match: its fingerprint has that hash.
 */
static int
first_contact(struct plan_work *w, struct plan *p)
{
	if (!plan_contact_wanted(w, NULL))
		return 0;
	if (!fingerprints_missing(w->in)) {
		plan_repair_match(w, &p->repair);
		return 0;
	}
	if (header_hashes_missing(w->in)) {
		plan_contact_wanted(w, p->fp_uids);
		ask_fingerprints(p, 1, "would be copied: comparing their "
		    "header hashes first");
		return 1;
	}
	if (!plan_contact_candidates(w, p->fp_uids))
		return 0;
	ask_fingerprints(p, 0, "share a header hash with the other side: "
	    "comparing their fingerprints");
	return 1;
}

enum plan_status
plan_mailbox(const struct plan_input *in, struct plan *p)
{
	struct plan_work w;

	plan_reset(p);
	plan_detect_distrust(in, &p->repair);
	if (distrusted_sides(&p->repair) && fingerprints_missing(in)) {
		p->need_fp = (1u << SIDE_FAR) | (1u << SIDE_NEAR);
		plan_why_fingerprints(in, &p->repair, &p->why);
		return p->status = PLAN_NEED_FINGERPRINTS;
	}
	work_init(&w, in);
	w.empty = p->empty;
	w.distrusted = distrusted_sides(&p->repair);
	plan_load_pairs(&w);
	if (w.distrusted)
		plan_repair_match(&w, &p->repair);
	else if (first_contact(&w, p)) {
		work_free(&w);
		return p->status = PLAN_NEED_FINGERPRINTS;
	}
	if (!in->policy->allow_mass_delete && plan_guard_refuses(&w, &p->why)) {
		work_free(&w);
		return p->status = PLAN_REFUSED;
	}
	if (plan_expire(&w, &p->why)) {
		work_free(&w);
		return p->status = PLAN_REFUSED;
	}
	run_rules(&w);
	for (int i = 0; i < PHASE_COUNT; i++)
		plan_append(p, &w.phase[i]);
	work_free(&w);
	return p->status = PLAN_OK;
}
