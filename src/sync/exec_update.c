/*
 * exec_update: the executor's flag changes and expunges; see exec.h.
 *
 * A plan's flag changes come before its expunges (plan.h, "Order"), and
 * the executor keeps the order of the separate runs, side by side: far's
 * flags, near's flags, far's expunge, near's expunge (steps 1 to 4). A
 * store with update() (IMAP) carries its two steps as one call and one
 * round trip, with the step between them run as its between(): far does
 * 1, 2 (near's flags, between), 3, and near then 4; or, when only near
 * has update(), far does 1 and near 2, 3 (far's expunge, between), 4.
 * What the order guarantees stays as it was:
 *  - a side's marks go before its expunge (the planner marks \Deleted
 *    first; the store sends them first, and the server runs them so);
 *  - every flag change goes before every expunge of either side;
 *  - what the plan recorded before is durable before any of it: an
 *    expiry's start (plan_pair.c) must never be lost while the near copy
 *    it marks \Deleted stays, nor a Trash copy's record once its message
 *    is expunged; a plan with copies flushed the journal already with
 *    their intents, one without (a plan that only expires, or repairs)
 *    did not. Nothing is recorded between the flags and the expunges
 *    that this call carries (Trash copies, which are, come between two
 *    separate calls).
 * A store that refuses one change carries out the rest all the same and
 * the call fails: the mailbox's records are then not written, and the
 * next run plans again from what each side holds, as after a crash.
 */
#include "sync/exec.h"

#include <inttypes.h>
#include <stdlib.h>

static int
cmp_flag_ops(const void *a, const void *b)
{
	const struct plan_op *x = *(const struct plan_op *const *)a;
	const struct plan_op *y = *(const struct plan_op *const *)b;

	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->add != y->add)
		return x->add < y->add ? -1 : 1;
	if (x->del != y->del)
		return x->del < y->del ? -1 : 1;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

int
exec_store_update(struct exec *x, struct store *s,
    const struct store_update *u, struct buf *err)
{
	if (s->ops->update != NULL) {
		crash_step(x->crash);
		return s->ops->update(s, u, err);
	}
	for (size_t i = 0; i < u->nchg; i++) {
		const struct flag_change *c = &u->chg[i];

		crash_step(x->crash);
		if (s->ops->set_flags(s, c->uids, c->n, c->add, c->del,
		    c->results, err) != 0)
			return -1;
	}
	if (u->between != NULL && u->between(u->ctx, err) != 0)
		return -1;
	if (u->nexp == 0)
		return 0;
	crash_step(x->crash);
	return s->ops->expunge(s, u->exp, u->nexp, u->exp_results, err);
}

/* One side's share: its flag changes, one per (add, del), and the UIDs
 * it expunges. */
struct side_work {
	struct flag_change *chg;
	size_t nchg;
	uint32_t *uids;		/* the changes' UIDs, back to back */
	int *results;
	uint32_t *exp;
	int *exp_results;
	size_t nexp;
};

/* sorted: the flag operations of one side, ordered by (add, del). */
static void
build_changes(struct side_work *w, const struct plan_op *const *sorted,
    size_t n)
{
	w->chg = xcalloc(n ? n : 1, sizeof(*w->chg));
	w->uids = xcalloc(n ? n : 1, sizeof(*w->uids));
	w->results = xcalloc(n ? n : 1, sizeof(*w->results));
	for (size_t i = 0; i < n; i++) {
		struct flag_change *c = &w->chg[w->nchg];

		w->uids[i] = sorted[i]->uid;
		if (i > 0 && sorted[i]->add == sorted[i - 1]->add &&
		    sorted[i]->del == sorted[i - 1]->del) {
			w->chg[w->nchg - 1].n++;
			continue;
		}
		*c = (struct flag_change){ &w->uids[i], 1, sorted[i]->add,
		    sorted[i]->del, &w->results[i] };
		w->nchg++;
	}
}

static int
is_kept(const struct exec *x, enum side side, uint32_t uid)
{
	for (size_t i = 0; i < x->nkept[side]; i++)
		if (x->kept[side][i] == uid)
			return 1;
	return 0;
}

static void
build_work(struct exec *x, const struct plan_op *fops, size_t nf,
    const struct plan_op *eops, size_t ne, struct side_work w[2])
{
	const struct plan_op **sorted = xcalloc(nf ? nf : 1, sizeof(*sorted));
	size_t split = 0;

	for (size_t k = 0; k < nf; k++)
		sorted[k] = &fops[k];
	qsort(sorted, nf, sizeof(*sorted), cmp_flag_ops);
	while (split < nf && sorted[split]->side == SIDE_FAR)
		split++;
	build_changes(&w[SIDE_FAR], sorted, split);
	build_changes(&w[SIDE_NEAR], sorted + split, nf - split);
	free(sorted);
	for (int s = 0; s < 2; s++) {
		w[s].exp = xcalloc(ne ? ne : 1, sizeof(*w[s].exp));
		w[s].exp_results = xcalloc(ne ? ne : 1,
		    sizeof(*w[s].exp_results));
	}
	/* A message whose trash copy failed stays (exec_trash.c). */
	for (size_t i = 0; i < ne; i++)
		if (!is_kept(x, eops[i].side, eops[i].uid))
			w[eops[i].side].exp[w[eops[i].side].nexp++] =
			    eops[i].uid;
}

static void
free_work(struct side_work w[2])
{
	for (int s = 0; s < 2; s++) {
		free(w[s].chg);
		free(w[s].uids);
		free(w[s].results);
		free(w[s].exp);
		free(w[s].exp_results);
	}
}

/*
 * The scan now shows the flags the store set. A server that answers a
 * STORE with OK is taken at its word here as everywhere (the pair's new
 * base says the same); a CONDSTORE server gives the changed message a
 * MODSEQ above the settled mark this run may record, so the next run's
 * CHANGEDSINCE reads it back anyway.
 */
static void
note_flags(struct msg_list *scan, uint32_t uid, unsigned add, unsigned del)
{
	const struct msg_meta *m = msg_list_find(scan, uid);

	if (m != NULL)
		scan->v[m - scan->v].flags = (m->flags | add) & ~del;
}

static void
count_flags(struct exec *x, enum side side, const struct side_work *w)
{
	for (size_t i = 0; i < w->nchg; i++) {
		const struct flag_change *c = &w->chg[i];

		for (size_t k = 0; k < c->n; k++) {
			if (c->results[k] != STORE_OK)
				continue;
			x->stats.flagged[side]++;
			note_flags(x->scan[side], c->uids[k], c->add, c->del);
		}
	}
}

/* The store still holds uid after its expunge: another client cleared
 * its \Deleted in between. Its record stays (exec.c, drops_kept()). */
static void
keep_unexpunged(struct exec *x, enum side side, uint32_t uid)
{
	log_warn(x->lg, "%s: %s UID %" PRIu32 " was not expunged: it is no "
	    "longer marked \\Deleted there (another client?); its record "
	    "stays and the next run looks at it again", x->box,
	    side_names[side], uid);
	exec_keep(x, side, uid);
}

static void
count_expunged(struct exec *x, enum side side, const struct side_work *w)
{
	for (size_t i = 0; i < w->nexp; i++) {
		if (w->exp_results[i] == STORE_OK)
			x->stats.expunged[side]++;
		if (w->exp_results[i] == STORE_FAILED)
			keep_unexpunged(x, side, w->exp[i]);
	}
}

void
exec_keep(struct exec *x, enum side side, uint32_t uid)
{
	x->kept[side] = xreallocarray(x->kept[side], x->nkept[side] + 1,
	    sizeof(*x->kept[side]));
	x->kept[side][x->nkept[side]++] = uid;
}

/* A step of one side, run by itself or as another store's between(). */
struct step {
	struct exec *x;
	struct side_work *w;
	enum side side;
	int flags, expunge;	/* which of the side's two steps */
	struct step *between;
};

static int run_step(void *ctx, struct buf *err);

/* The step between a store's flags and its expunge; once *x->stop is
 * set, no expunge follows it (exec.h). Its crash point is a kill while
 * the store's first commands are on the wire, unanswered. */
static int
run_between(void *ctx, struct buf *err)
{
	const struct step *st = ctx;

	crash_step(st->x->crash);
	if (run_step(ctx, err) != 0)
		return -1;
	if (interrupted(st->x->stop)) {
		buf_setf(err, "interrupted");
		return -1;
	}
	return 0;
}

static int
run_step(void *ctx, struct buf *err)
{
	const struct step *st = ctx;
	struct exec *x = st->x;
	struct side_work *w = st->w;
	struct store_update u = { NULL, 0, NULL, NULL, NULL, 0, NULL };

	if (st->flags) {
		u.chg = w->chg;
		u.nchg = w->nchg;
	}
	if (st->between != NULL) {
		u.between = run_between;
		u.ctx = st->between;
	}
	if (st->expunge) {
		u.exp = w->exp;
		u.nexp = w->nexp;
		u.exp_results = w->exp_results;
	}
	if (u.nchg == 0 && u.nexp == 0)
		return u.between != NULL ? run_between(u.ctx, err) : 0;
	if (exec_store_update(x, x->store[st->side], &u, err) != 0)
		return -1;
	if (st->flags)
		count_flags(x, st->side, w);
	if (st->expunge)
		count_expunged(x, st->side, w);
	return 0;
}

/* Steps 1 to 4 (see the top of this file) in their order. */
static int
run_steps(struct exec *x, struct side_work w[2], struct buf *err)
{
	struct step ff = { x, &w[SIDE_FAR], SIDE_FAR, 1, 0, NULL };
	struct step nf = { x, &w[SIDE_NEAR], SIDE_NEAR, 1, 0, NULL };
	struct step fe = { x, &w[SIDE_FAR], SIDE_FAR, 0, 1, NULL };
	struct step ne = { x, &w[SIDE_NEAR], SIDE_NEAR, 0, 1, NULL };
	struct step far_all = { x, &w[SIDE_FAR], SIDE_FAR, 1, 1, &nf };
	struct step near_all = { x, &w[SIDE_NEAR], SIDE_NEAR, 1, 1, &fe };

	if (x->store[SIDE_NEAR]->ops->update != NULL &&
	    x->store[SIDE_FAR]->ops->update == NULL)
		return run_step(&ff, err) != 0 ? -1 :
		    run_step(&near_all, err);
	return run_step(&far_all, err) != 0 ? -1 : run_step(&ne, err);
}

int
exec_update_run(struct exec *x, const struct plan_op *fops, size_t nf,
    const struct plan_op *eops, size_t ne, struct buf *err)
{
	struct side_work w[2] = { { 0 }, { 0 } };
	int rc;

	if (x->journal != NULL && journal_flush(x->journal, err) != 0)
		return -1;
	build_work(x, fops, nf, eops, ne, w);
	rc = run_steps(x, w, err);
	free_work(w);
	return rc;
}
