/* plan_work: the planner's working view and its operation lists. */
#include "sync/plan_int.h"

#include <stdlib.h>
#include <string.h>

static size_t
scan_len(const struct plan_input *in, enum side s)
{
	return in->side[s].scan->n;
}

void
work_init(struct plan_work *w, const struct plan_input *in)
{
	memset(w, 0, sizeof(*w));
	w->in = in;
	w->pol = in->policy;
	for (int s = 0; s < 2; s++) {
		size_t n = scan_len(in, s) + 1;

		w->claimed[s] = xcalloc(n, 1);
		w->orphan[s] = xcalloc(n, 1);
		w->orphan_base[s] = xcalloc(n, sizeof(unsigned));
		w->orphan_expiring[s] = xcalloc(n, 1);
		w->renew[s] = xcalloc(n, sizeof(long));
		for (size_t i = 0; i < n; i++)
			w->renew[s][i] = -1;
		w->maxuid[s] = in->state->maxuid[s];
	}
	w->expire = xcalloc(scan_len(in, SIDE_FAR) + 1, 1);
}

void
work_free(struct plan_work *w)
{
	for (int s = 0; s < 2; s++) {
		free(w->claimed[s]);
		free(w->orphan[s]);
		free(w->orphan_base[s]);
		free(w->orphan_expiring[s]);
		free(w->renew[s]);
	}
	for (int i = 0; i < PHASE_COUNT; i++)
		free(w->phase[i].v);
	free(w->expire);
	free(w->pairs);
	memset(w, 0, sizeof(*w));
}

struct work_pair *
work_add_pair(struct plan_work *w, const struct pair_rec *rec)
{
	struct work_pair *p;

	w->pairs = xgrow(w->pairs, &w->cap, w->npairs + 1, 64,
	    sizeof(*w->pairs));
	p = &w->pairs[w->npairs++];
	p->rec = *rec;
	p->idx[SIDE_FAR] = work_find(w, SIDE_FAR, rec->uid[SIDE_FAR]);
	p->idx[SIDE_NEAR] = work_find(w, SIDE_NEAR, rec->uid[SIDE_NEAR]);
	return p;
}

struct plan_op *
work_emit(struct plan_work *w, enum plan_phase phase, enum plan_op_kind kind)
{
	struct op_list *l = &w->phase[phase];
	struct plan_op *op;

	l->v = xgrow(l->v, &l->cap, l->n + 1, 32, sizeof(*l->v));
	op = &l->v[l->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

const struct msg_meta *
work_msg(const struct plan_work *w, enum side s, long idx)
{
	return &w->in->side[s].scan->v[idx];
}

long
work_find(const struct plan_work *w, enum side s, uint32_t uid)
{
	const struct msg_list *l = w->in->side[s].scan;
	const struct msg_meta *m;

	if (uid == 0)
		return -1;
	m = msg_list_find(l, uid);
	return m ? (long)(m - l->v) : -1;
}

int
work_expunges(const struct plan_work *w, enum side s)
{
	return (w->pol->expunge & SYNC_EXPUNGE_SIDE(s)) != 0;
}

int
work_expunges_alone(const struct plan_work *w, enum side s)
{
	return ((w->pol->expunge | w->pol->expunge_solo) &
	    SYNC_EXPUNGE_SIDE(s)) != 0;
}

int
work_is_new(const struct plan_work *w, enum side s, size_t i)
{
	return w->orphan[s][i] ||
	    w->in->side[s].scan->v[i].uid > w->maxuid[s];
}

int
work_is_empty(const struct plan_work *w, enum side s, size_t i)
{
	return work_is_new(w, s, i) && w->in->side[s].scan->v[i].size == 0;
}

int
work_allows(const struct plan_work *w, enum side source, unsigned op)
{
	return (w->pol->ops[source] & op) != 0;
}

int
work_fits(const struct plan_work *w, enum side target, uint64_t size)
{
	uint64_t limit = w->pol->max_size[target];

	return limit == 0 || size <= limit;
}

void
work_emit_copy(struct plan_work *w, enum side s, const struct msg_meta *m)
{
	struct plan_op *op = work_emit(w, PHASE_COPY, PLAN_COPY);

	op->side = s;
	op->uid = m->uid;
	op->flags = m->flags;
}

void
work_emit_expunge(struct plan_work *w, enum side s, uint32_t uid)
{
	struct plan_op *op = work_emit(w, PHASE_EXPUNGE, PLAN_EXPUNGE);

	op->side = s;
	op->uid = uid;
}
