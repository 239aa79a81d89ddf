/*
 * exec_recover: settling the copies a killed run left pending (exec.h).
 *
 * Each pending intent is looked for in its target's scan: at its planned
 * UID (a Maildir target names the file before delivery), or among the
 * unpaired messages at or above the UIDNEXT recorded before the APPEND
 * (an IMAP target). Either way the message must carry the intent's
 * fingerprint, canonical size and header hash (sync/fingerprint.h). The
 * size a store's scan reports is in that store's own form (a server may
 * have turned a bare CR into CRLF, a Maildir file has LF line ends), so it
 * is never compared with a fingerprint: the candidates are fetched
 * instead. Every candidate of a side is fetched once, in one fetch,
 * however many intents there are, and each matches at most one intent.
 *
 * A copy found becomes its pair, with the flags that were sent as its
 * base (invariant: the base is what was sent). A target that dropped some
 * of them on the way (a server whose APPEND ignores flags) did not have
 * them removed by a user, so they are set on the target before the plan
 * is made; otherwise the three-way merge would take the loss for a change
 * and clear them on the source.
 */
#include "sync/exec.h"

#include <stdlib.h>
#include <string.h>

#include "sync/fingerprint.h"
#include "util/u32.h"

/* The messages of one target side that pending intents may have become,
 * with their fingerprints. */
struct cand_set {
	struct msg_list list;		/* sorted by UID */
	struct fingerprint *fp;		/* aligned with list */
	unsigned char *used;		/* taken by an intent */
};

/* The target UIDs the pairs hold, and those the intents planned, sorted;
 * *from is the lowest UIDNEXT an intent recorded (UINT32_MAX: none). */
static void
target_uids(const struct sync_state *st, enum side target,
    struct uid_vec *paired, struct uid_vec *planned, uint32_t *from)
{
	*from = UINT32_MAX;
	paired->v = xcalloc(st->npairs + 1, sizeof(uint32_t));
	planned->v = xcalloc(st->nintents + 1, sizeof(uint32_t));
	for (size_t i = 0; i < st->npairs; i++)
		if (st->pairs[i].uid[target] != 0)
			paired->v[paired->n++] = st->pairs[i].uid[target];
	for (size_t i = 0; i < st->nintents; i++) {
		const struct copy_intent *c = &st->intents[i];

		if (c->src == target)
			continue;
		if (c->planned_uid != 0)
			planned->v[planned->n++] = c->planned_uid;
		else if (c->uidnext != 0 && c->uidnext < *from)
			*from = c->uidnext;
	}
	u32_sort(paired->v, paired->n);
	u32_sort(planned->v, planned->n);
}

static int
cand_load(struct exec *x, enum side target, struct cand_set *cs,
    struct buf *err)
{
	const struct msg_list *scan = x->scan[target];
	struct uid_vec paired = { 0 }, planned = { 0 };
	uint32_t from;
	int rc = 0;

	target_uids(x->state, target, &paired, &planned, &from);
	for (size_t i = 0; i < scan->n; i++) {
		uint32_t uid = scan->v[i].uid;

		/* A message a pair holds is no interrupted copy. */
		if (u32_sorted_has(paired.v, paired.n, uid) || (uid < from &&
		    !u32_sorted_has(planned.v, planned.n, uid)))
			continue;
		msg_list_add(&cs->list, &scan->v[i]);
	}
	cs->fp = xcalloc(cs->list.n + 1, sizeof(*cs->fp));
	cs->used = xcalloc(cs->list.n + 1, 1);
	if (cs->list.n > 0)
		rc = fingerprint_scan(x->store[target], &cs->list, cs->fp, err);
	free(paired.v);
	free(planned.v);
	return rc;
}

static void
cand_free(struct cand_set *cs)
{
	msg_list_free(&cs->list);
	free(cs->fp);
	free(cs->used);
}

/*
 * The candidate (no pair holds any) that is c's copy: the planned UID if
 * it carries c's fingerprint (a run killed before the target's commit
 * leaves that UID unused, and other mail may take it since), else the
 * lowest UID at or above c's UIDNEXT that does. NULL if none.
 */
static const struct msg_meta *
cand_take(struct cand_set *cs, const struct copy_intent *c)
{
	for (size_t i = 0; i < cs->list.n; i++) {
		uint32_t uid = cs->list.v[i].uid;

		if (cs->used[i] || cs->fp[i].size != c->size ||
		    cs->fp[i].hash != c->hash)
			continue;
		if (c->planned_uid != 0 ? uid != c->planned_uid :
		    c->uidnext == 0 || uid < c->uidnext)
			continue;
		cs->used[i] = 1;
		return &cs->list.v[i];
	}
	return NULL;
}

/* The copy is there (done) or not (it never became visible: abort; the
 * plan then copies the message again). A found copy that lacks flags
 * that were sent gets an operation in restore. */
static int
settle_intent(struct exec *x, const struct copy_intent *c,
    struct cand_set *cs, struct plan_op *restore, size_t *nrestore,
    struct buf *err)
{
	struct journal_rec rec = { .kind = JR_COPY_ABORT, .copy = *c };
	const struct msg_meta *m = cand_take(&cs[!c->src], c);

	if (m != NULL) {
		rec.kind = JR_COPY_DONE;
		rec.target_uid = m->uid;
		x->stats.recovered++;
		log_verbose(x->lg, "%s: interrupted copy of %s UID %u had "
		    "arrived as UID %u", x->box, side_names[c->src],
		    c->src_uid, m->uid);
		if ((c->flags & ~m->flags) != 0) {
			struct plan_op *op = &restore[(*nrestore)++];

			op->kind = PLAN_SET_FLAGS;
			op->side = !c->src;
			op->uid = m->uid;
			op->add = c->flags & ~m->flags;
		}
	}
	return exec_record(x, &rec, err);
}

/* Flags a target dropped from a recovered copy. A dry run (no journal)
 * only shows them in the scan the plan is made from. */
static int
restore_flags(struct exec *x, struct plan_op *ops, size_t n,
    struct buf *err)
{
	if (n == 0)
		return 0;
	if (x->journal != NULL)
		return exec_update_run(x, ops, n, NULL, 0, err);
	for (size_t i = 0; i < n; i++) {
		struct msg_list *l = x->scan[ops[i].side];
		const struct msg_meta *m = msg_list_find(l, ops[i].uid);

		if (m != NULL)
			l->v[m - l->v].flags |= ops[i].add;
	}
	return 0;
}

int
exec_recover(struct exec *x, struct buf *err)
{
	struct cand_set cs[2];
	struct plan_op *restore;
	size_t nrestore = 0;
	int rc = 0;

	if (x->state->nintents == 0)
		return 0;
	memset(cs, 0, sizeof(cs));
	restore = xcalloc(x->state->nintents, sizeof(*restore));
	for (int s = 0; s < 2 && rc == 0; s++)
		rc = cand_load(x, (enum side)s, &cs[s], err);
	while (rc == 0 && x->state->nintents > 0) {
		struct copy_intent c = x->state->intents[0];

		rc = settle_intent(x, &c, cs, restore, &nrestore, err);
	}
	if (rc == 0 && x->journal != NULL)
		rc = journal_flush(x->journal, err);
	if (rc == 0)
		rc = restore_flags(x, restore, nrestore, err);
	for (int s = 0; s < 2; s++)
		cand_free(&cs[s]);
	free(restore);
	return rc;
}
