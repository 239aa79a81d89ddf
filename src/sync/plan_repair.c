/*
 * plan_repair: when a side's UIDs cannot be trusted (its UIDVALIDITY
 * changed, or its server went back in time), the records that name its
 * UIDs are dissolved and the two sides are compared by fingerprint
 * instead. A match becomes a new record (keeping the old base when the
 * trusted side's message had one); an unmatched message is copied like a
 * new one. Nothing is ever deleted on this basis: a record whose message
 * cannot be found again simply stops existing, and its surviving message
 * on the trusted side is copied back.
 *
 * The same matching serves first contact (DESIGN invariant 9): whenever
 * both sides hold new messages that no record holds (a first sync of two
 * mailboxes that already share mail, a lost or outdated state file, a
 * lost journal whose copies did arrive), those are compared by
 * fingerprint before anything is copied, and a match becomes a record
 * whose base is the flags both sides share, so that the merge unites
 * them. Only those messages are fetched, and only when both sides have
 * some: a sync into an empty side, or new mail on one side, costs
 * nothing more.
 */
#include "sync/plan_int.h"

#include <inttypes.h>
#include <stdlib.h>

static enum plan_distrust
side_distrust(const struct sync_state *st, const struct mbox_status *now,
    enum side s)
{
	if (st->uidvalidity[s] != 0 &&
	    now->uidvalidity != st->uidvalidity[s])
		return DISTRUST_UIDVALIDITY;
	if (st->maxuid[s] > 0 && now->uidnext != 0 &&
	    now->uidnext <= st->maxuid[s])
		return DISTRUST_UIDNEXT;
	if (st->highestmodseq[s] > 0 && now->highestmodseq > 0 &&
	    now->highestmodseq < st->highestmodseq[s])
		return DISTRUST_MODSEQ;
	return DISTRUST_NONE;
}

void
plan_detect_distrust(const struct plan_input *in, struct plan_repair *rep)
{
	for (int s = 0; s < 2; s++)
		rep->reason[s] = in->side[s].status == NULL ? DISTRUST_NONE :
		    side_distrust(in->state, in->side[s].status, s);
}

void
plan_why_fingerprints(const struct plan_input *in,
    const struct plan_repair *rep, struct buf *why)
{
	const struct sync_state *st = in->state;

	for (int s = 0; s < 2; s++) {
		const struct mbox_status *now = in->side[s].status;
		const char *name = side_names[s];

		switch (rep->reason[s]) {
		case DISTRUST_UIDVALIDITY:
			buf_addf(why, "%s UIDVALIDITY changed (%" PRIu32
			    " -> %" PRIu32 "); ", name, st->uidvalidity[s],
			    now->uidvalidity);
			break;
		case DISTRUST_UIDNEXT:
			buf_addf(why, "%s UIDNEXT %" PRIu32 " is not above "
			    "the recorded UID %" PRIu32 "; ", name,
			    now->uidnext, st->maxuid[s]);
			break;
		case DISTRUST_MODSEQ:
			buf_addf(why, "%s HIGHESTMODSEQ %" PRIu64 " is below "
			    "the recorded %" PRIu64 "; ", name,
			    now->highestmodseq, st->highestmodseq[s]);
			break;
		case DISTRUST_NONE:
			break;
		}
	}
	buf_adds(why, "fingerprints of every message of both sides are "
	    "needed");
}

static int
touches_distrusted(const struct plan_work *w, const struct pair_rec *rec)
{
	for (int s = 0; s < 2; s++)
		if (rec->uid[s] != 0 && (w->distrusted & (1u << s)))
			return 1;
	return 0;
}

static void
dissolve(struct plan_work *w, const struct pair_rec *rec)
{
	struct plan_op *op = work_emit(w, PHASE_REPAIR, PLAN_FORGET);

	op->key[SIDE_FAR] = rec->uid[SIDE_FAR];
	op->key[SIDE_NEAR] = rec->uid[SIDE_NEAR];
	for (int s = 0; s < 2; s++) {
		long i;

		if (w->distrusted & (1u << s))
			continue;
		i = work_find(w, s, rec->uid[s]);
		if (i < 0 || w->claimed[s][i])
			continue;
		w->orphan[s][i] = 1;
		w->orphan_base[s][i] = rec->flags;
		w->orphan_expiring[s][i] = (rec->status & PAIR_EXPIRED) &&
		    rec->uid[SIDE_FAR] != 0 && rec->uid[SIDE_NEAR] != 0;
	}
}

/*
 * A repair cut short by a crash leaves its forget records in the journal
 * but not the new UIDVALIDITY, so the next run repairs again from fewer
 * records: a trusted message whose record was forgotten (its partner was
 * gone from the distrusted side) is then unrecorded and below maxuid, and
 * would be left alone for good. So during a repair every such message is
 * compared and, unmatched, copied like one that just lost its record.
 * Without a base the merge unites both sides' flags, as when both sides
 * are distrusted.
 */
static void
orphan_unrecorded(struct plan_work *w)
{
	for (int s = 0; s < 2; s++) {
		const struct msg_list *l = w->in->side[s].scan;

		if (w->distrusted & (1u << s))
			continue;
		for (size_t i = 0; i < l->n; i++)
			if (!w->claimed[s][i] && !w->orphan[s][i] &&
			    l->v[i].uid <= w->maxuid[s])
				w->orphan[s][i] = 1;
	}
}

/*
 * A message MaxSize held back (a one-sided PAIR_TOO_BIG record) that ReNew
 * copies now is compared on first contact like a new one: a run that
 * copied it and lost its journal left the copy new on the other side.
 * The same conditions as plan_pair.c's one_sided().
 */
static void
note_renew(struct plan_work *w, const struct work_pair *p)
{
	for (int s = 0; s < 2; s++) {
		const struct msg_meta *m;

		if (p->rec.uid[!s] != 0 || p->idx[s] < 0 ||
		    !(p->rec.status & PAIR_TOO_BIG))
			continue;
		m = work_msg(w, s, p->idx[s]);
		if (!work_allows(w, s, SYNC_RENEW) || !work_fits(w, !s, m->size) ||
		    ((m->flags & MSG_DELETED) && (work_expunges_alone(w, s) ||
		    work_expunges(w, !s))))
			continue;
		w->renew[s][p->idx[s]] = p - w->pairs;
	}
}

void
plan_load_pairs(struct plan_work *w)
{
	const struct sync_state *st = w->in->state;

	for (int s = 0; s < 2; s++)
		if (w->distrusted & (1u << s))
			w->maxuid[s] = 0;
	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *rec = &st->pairs[i];
		struct work_pair *p;

		if (touches_distrusted(w, rec)) {
			dissolve(w, rec);
			continue;
		}
		p = work_add_pair(w, rec);
		for (int s = 0; s < 2; s++)
			if (p->idx[s] >= 0)
				w->claimed[s][p->idx[s]] = 1;
		note_renew(w, p);
	}
	if (w->distrusted != 0)
		orphan_unrecorded(w);
}

struct candidate {
	struct fingerprint fp;
	uint32_t uid;
	long idx;
};

static int
cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->fp.size != y->fp.size)
		return x->fp.size < y->fp.size ? -1 : 1;
	if (x->fp.hash != y->fp.hash)
		return x->fp.hash < y->fp.hash ? -1 : 1;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* 1 if message i of side s is compared: no record holds it and a side
 * is distrusted (then all such are) or it is new; or ReNew copies it.
 * An empty one (size 0; the scan reports the size of every message
 * compared, struct scan_hint) is no message and is compared with
 * nothing: it makes no first contact either. */
static int
compared(const struct plan_work *w, enum side s, size_t i)
{
	if (w->distrusted == 0 && w->renew[s][i] >= 0)
		return 1;
	if (w->claimed[s][i] ||
	    (w->distrusted == 0 && !work_is_new(w, s, i)))
		return 0;
	return w->in->side[s].scan->v[i].size != 0;
}

int
plan_contact_wanted(const struct plan_work *w, struct uid_vec want[2])
{
	size_t n[2] = { 0, 0 };

	/* Distrusted: all is compared anyway. No New either way: nothing
	 * is copied, so nothing needs comparing. */
	if (w->distrusted != 0 || (!work_allows(w, SIDE_FAR, SYNC_NEW) &&
	    !work_allows(w, SIDE_NEAR, SYNC_NEW)))
		return 0;
	for (int s = 0; s < 2; s++) {
		const struct msg_list *l = w->in->side[s].scan;

		for (size_t i = 0; i < l->n; i++) {
			if (!compared(w, s, i))
				continue;
			n[s]++;
			if (want != NULL)
				uid_vec_push(&want[s], l->v[i].uid);
		}
	}
	return n[SIDE_FAR] > 0 && n[SIDE_NEAR] > 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The header hashes of side s's compared messages, sorted. */
static uint64_t *
compared_hashes(const struct plan_work *w, enum side s, size_t *n)
{
	const struct plan_side *ps = &w->in->side[s];
	uint64_t *v = xcalloc(ps->scan->n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < ps->scan->n; i++)
		if (compared(w, s, i) && ps->hh[i].have)
			v[(*n)++] = ps->hh[i].hash;
	qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

int
plan_contact_candidates(const struct plan_work *w, struct uid_vec want[2])
{
	size_t nh[2];
	uint64_t *h[2] = { compared_hashes(w, SIDE_FAR, &nh[SIDE_FAR]),
	    compared_hashes(w, SIDE_NEAR, &nh[SIDE_NEAR]) };
	size_t found = 0;

	for (int s = 0; s < 2; s++) {
		const struct plan_side *ps = &w->in->side[s];

		for (size_t i = 0; i < ps->scan->n; i++) {
			if (!compared(w, s, i) || !ps->hh[i].have ||
			    nh[!s] == 0 || bsearch(&ps->hh[i].hash, h[!s],
			    nh[!s], sizeof(uint64_t), cmp_u64) == NULL)
				continue;
			uid_vec_push(&want[s], ps->scan->v[i].uid);
			found++;
		}
	}
	free(h[SIDE_FAR]);
	free(h[SIDE_NEAR]);
	return found > 0;
}

/* Compared messages of side s, sorted by fingerprint then UID. A message
 * without a fingerprint (not fetched, or vanished: {0, 0}) matches
 * nothing, nor does an empty one (size 0: an empty Maildir file, which
 * is no message and is never copied; paired with another, a deletion of
 * either would be carried to the other). */
static struct candidate *
candidates(const struct plan_work *w, enum side s, size_t *n)
{
	const struct plan_side *ps = &w->in->side[s];
	struct candidate *v = xcalloc(ps->scan->n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < ps->scan->n; i++) {
		if (!compared(w, s, i) || ps->fp[i].size == 0)
			continue;
		v[*n].fp = ps->fp[i];
		v[*n].uid = ps->scan->v[i].uid;
		v[(*n)++].idx = (long)i;
	}
	qsort(v, *n, sizeof(*v), cmp_candidate);
	return v;
}

static unsigned
matched_base(const struct plan_work *w, const long idx[2])
{
	for (int s = 0; s < 2; s++)
		if (w->orphan[s][idx[s]])
			return w->orphan_base[s][idx[s]];
	return work_msg(w, SIDE_FAR, idx[SIDE_FAR])->flags &
	    work_msg(w, SIDE_NEAR, idx[SIDE_NEAR])->flags;
}

/*
 * The status a match inherits: an expiring record (plan_pair.c) that a
 * repair dissolved stays expiring in the pair made again of its trusted
 * message. A repair cut short by a crash records the new pairs and the
 * start of their expiry, but not the new UIDVALIDITY, so the next run
 * repairs again; without the status its near copy, already marked
 * \Deleted for the expiry, would look deleted by the user, and the merge
 * would carry \Deleted to far.
 */
static unsigned
matched_status(const struct plan_work *w, const long idx[2])
{
	for (int s = 0; s < 2; s++)
		if (w->orphan[s][idx[s]] && w->orphan_expiring[s][idx[s]])
			return PAIR_EXPIRED;
	return 0;
}

/* The held-back record of a message ReNew would copy becomes the pair,
 * with the base of any pair found by content. 1 if it did. */
static int
complete_held_back(struct plan_work *w, const long idx[2],
    const struct pair_rec *rec)
{
	for (int s = 0; s < 2; s++) {
		long k = w->renew[s][idx[s]];
		struct work_pair *p;
		struct plan_op *op;

		if (k < 0)
			continue;
		p = &w->pairs[k];
		op = work_emit(w, PHASE_REPAIR, PLAN_UPDATE_PAIR);
		op->key[SIDE_FAR] = p->rec.uid[SIDE_FAR];
		op->key[SIDE_NEAR] = p->rec.uid[SIDE_NEAR];
		op->rec = *rec;
		p->rec = *rec;
		p->idx[!s] = idx[!s];
		w->renew[s][idx[s]] = -1;
		return 1;
	}
	return 0;
}

/* Make the pair of idx; 0 if it cannot be made. */
static int
pair_up(struct plan_work *w, const long idx[2])
{
	struct pair_rec rec = { .status = 0 };
	struct plan_op *op;

	/* Held back on both sides: two records would name the pair. They
	 * stay, and ReNew copies both (the rarest case, left as it was). */
	if (w->renew[SIDE_FAR][idx[SIDE_FAR]] >= 0 &&
	    w->renew[SIDE_NEAR][idx[SIDE_NEAR]] >= 0)
		return 0;
	for (int s = 0; s < 2; s++)
		rec.uid[s] = work_msg(w, s, idx[s])->uid;
	rec.flags = matched_base(w, idx);
	rec.status = matched_status(w, idx);
	for (int s = 0; s < 2; s++) {
		w->claimed[s][idx[s]] = 1;
		w->orphan[s][idx[s]] = 0;
		/* maxuid covers a new message paired here, as one copied */
		if (rec.uid[s] > w->top_unpaired[s])
			w->top_unpaired[s] = rec.uid[s];
	}
	if (complete_held_back(w, idx, &rec))
		return 1;
	work_add_pair(w, &rec);
	op = work_emit(w, PHASE_REPAIR, PLAN_NEW_PAIR);
	op->rec = rec;
	return 1;
}

static void
count_unmatched(const struct plan_work *w, struct plan_repair *rep)
{
	for (int s = 0; s < 2; s++) {
		const struct msg_list *l = w->in->side[s].scan;
		int all = (w->distrusted & (1u << s)) != 0;

		for (size_t i = 0; i < l->n; i++)
			if (!w->claimed[s][i] && (all || w->orphan[s][i]))
				rep->unmatched[s]++;
	}
}

void
plan_repair_match(struct plan_work *w, struct plan_repair *rep)
{
	size_t nf, nn, i = 0, j = 0;
	struct candidate *f = candidates(w, SIDE_FAR, &nf);
	struct candidate *n = candidates(w, SIDE_NEAR, &nn);

	while (i < nf && j < nn) {
		int c = cmp_candidate(&f[i], &n[j]);
		long idx[2] = { f[i].idx, n[j].idx };

		if (f[i].fp.size == n[j].fp.size &&
		    f[i].fp.hash == n[j].fp.hash) {
			rep->repaired += (size_t)pair_up(w, idx);
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	free(f);
	free(n);
	count_unmatched(w, rep);
}
