/* state: the in-memory state of a mailbox pair and state_apply(); see
 * state.h for the contract. */
#include "sync/state.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util/u32.h"

const char *const side_names[2] = { "far", "near" };

void
state_init(struct sync_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
state_free(struct sync_state *st)
{
	free(st->pairs);
	free(st->intents);
	state_init(st);
}

static int
cmp_pair_key(uint32_t far_a, uint32_t near_a, const struct pair_rec *b)
{
	if (far_a != b->uid[SIDE_FAR])
		return far_a < b->uid[SIDE_FAR] ? -1 : 1;
	if (near_a != b->uid[SIDE_NEAR])
		return near_a < b->uid[SIDE_NEAR] ? -1 : 1;
	return 0;
}

/* Index of the first pair not below (far, near); *found if it is equal. */
static size_t
pair_lower_bound(const struct sync_state *st, uint32_t far, uint32_t near,
    int *found)
{
	size_t lo = 0, hi = st->npairs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_pair_key(far, near, &st->pairs[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < st->npairs &&
	    cmp_pair_key(far, near, &st->pairs[lo]) == 0;
	return lo;
}

const struct pair_rec *
state_find_pair(const struct sync_state *st, uint32_t far_uid,
    uint32_t near_uid)
{
	int found;
	size_t i = pair_lower_bound(st, far_uid, near_uid, &found);

	return found ? &st->pairs[i] : NULL;
}

const struct pair_rec *
state_find_far(const struct sync_state *st, uint32_t far_uid)
{
	int found;
	size_t i;

	if (far_uid == 0)
		return NULL;
	i = pair_lower_bound(st, far_uid, 0, &found);
	if (i < st->npairs && st->pairs[i].uid[SIDE_FAR] == far_uid)
		return &st->pairs[i];
	return NULL;
}

static int
cmp_intent_key(enum side src, uint32_t uid, const struct copy_intent *b)
{
	if (src != b->src)
		return src < b->src ? -1 : 1;
	if (uid != b->src_uid)
		return uid < b->src_uid ? -1 : 1;
	return 0;
}

static size_t
intent_lower_bound(const struct sync_state *st, enum side src, uint32_t uid,
    int *found)
{
	size_t lo = 0, hi = st->nintents;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_intent_key(src, uid, &st->intents[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < st->nintents &&
	    cmp_intent_key(src, uid, &st->intents[lo]) == 0;
	return lo;
}

const struct copy_intent *
state_find_intent(const struct sync_state *st, enum side src,
    uint32_t src_uid)
{
	int found;
	size_t i = intent_lower_bound(st, src, src_uid, &found);

	return found ? &st->intents[i] : NULL;
}

static int
check_pair_values(const struct pair_rec *p, struct buf *err)
{
	if (p->flags & ~MSG_ALL_FLAGS) {
		buf_setf(err, "unknown flag bits 0x%x", p->flags);
		return -1;
	}
	if (p->status & ~(unsigned)PAIR_ALL_STATUS) {
		buf_setf(err, "unknown status bits 0x%x", p->status);
		return -1;
	}
	return 0;
}

static int
insert_pair(struct sync_state *st, const struct pair_rec *p, struct buf *err)
{
	uint32_t far = p->uid[SIDE_FAR], near = p->uid[SIDE_NEAR];
	int found;
	size_t i;

	if (far == 0 && near == 0) {
		buf_setf(err, "pair with no UID on either side");
		return -1;
	}
	if (check_pair_values(p, err) != 0)
		return -1;
	if (st->npairs == 0 || far > st->pairs[st->npairs - 1].uid[SIDE_FAR]) {
		/* Above every pair, as a state file's pairs come: nothing
		 * to search. */
		i = st->npairs;
	} else if (state_find_far(st, far) != NULL) {
		buf_setf(err, "far UID %u is already paired", far);
		return -1;
	} else {
		i = pair_lower_bound(st, far, near, &found);
		if (far == 0 && found) {
			buf_setf(err, "near UID %u is already recorded", near);
			return -1;
		}
	}
	st->pairs = xgrow(st->pairs, &st->cap, st->npairs + 1, 64,
	    sizeof(*st->pairs));
	memmove(&st->pairs[i + 1], &st->pairs[i],
	    (st->npairs - i) * sizeof(*st->pairs));
	st->pairs[i] = *p;
	st->npairs++;
	return 0;
}

static struct pair_rec *
lookup_pair(struct sync_state *st, const struct pair_rec *key, size_t *idx,
    struct buf *err)
{
	int found;
	size_t i = pair_lower_bound(st, key->uid[SIDE_FAR],
	    key->uid[SIDE_NEAR], &found);

	if (!found) {
		buf_setf(err, "no pair far UID %u / near UID %u",
		    key->uid[SIDE_FAR], key->uid[SIDE_NEAR]);
		return NULL;
	}
	if (idx != NULL)
		*idx = i;
	return &st->pairs[i];
}

static int
change_pair(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	struct pair_rec *p;
	size_t i;

	if (check_pair_values(&rec->pair, err) != 0)
		return -1;
	p = lookup_pair(st, &rec->pair, &i, err);
	if (p == NULL)
		return -1;
	if (rec->kind == JR_PAIR_FLAGS) {
		p->flags = rec->pair.flags;
	} else if (rec->kind == JR_PAIR_STATUS) {
		p->status = rec->pair.status;
	} else {
		memmove(&st->pairs[i], &st->pairs[i + 1],
		    (st->npairs - i - 1) * sizeof(*st->pairs));
		st->npairs--;
	}
	return 0;
}

static int
add_intent(struct sync_state *st, const struct copy_intent *c,
    struct buf *err)
{
	int found;
	size_t i;

	if (c->src_uid == 0) {
		buf_setf(err, "copy of UID 0");
		return -1;
	}
	if (c->flags & ~MSG_ALL_FLAGS) {
		buf_setf(err, "unknown flag bits 0x%x", c->flags);
		return -1;
	}
	i = intent_lower_bound(st, c->src, c->src_uid, &found);
	if (found) {
		buf_setf(err, "copy of %s UID %u is already pending",
		    side_names[c->src], c->src_uid);
		return -1;
	}
	st->intents = xgrow(st->intents, &st->intents_cap, st->nintents + 1, 16,
	    sizeof(*st->intents));
	memmove(&st->intents[i + 1], &st->intents[i],
	    (st->nintents - i) * sizeof(*st->intents));
	st->intents[i] = *c;
	st->nintents++;
	return 0;
}

static void
drop_intent(struct sync_state *st, size_t i)
{
	memmove(&st->intents[i], &st->intents[i + 1],
	    (st->nintents - i - 1) * sizeof(*st->intents));
	st->nintents--;
}

/* A message recorded on one side only (skipped for MaxSize, expired) that
 * is now copied: its one-sided record gives way to the new pair. Returns
 * 1 with the record and its index in *old and *at if there was one, so
 * that put_back() can undo the removal. */
static int
drop_one_sided(struct sync_state *st, enum side src, uint32_t uid,
    struct pair_rec *old, size_t *at)
{
	uint32_t far = src == SIDE_FAR ? uid : 0;
	uint32_t near = src == SIDE_FAR ? 0 : uid;
	size_t i;
	int found;

	if (src == SIDE_FAR) {
		const struct pair_rec *p = state_find_far(st, uid);

		if (p == NULL || p->uid[SIDE_NEAR] != 0)
			return 0;
	}
	i = pair_lower_bound(st, far, near, &found);
	if (!found)
		return 0;
	*old = st->pairs[i];
	*at = i;
	memmove(&st->pairs[i], &st->pairs[i + 1],
	    (st->npairs - i - 1) * sizeof(*st->pairs));
	st->npairs--;
	return 1;
}

/* Undo drop_one_sided(): nothing else changed, so index at is still the
 * record's place, and the array still has room for it. */
static void
put_back(struct sync_state *st, const struct pair_rec *old, size_t at)
{
	memmove(&st->pairs[at + 1], &st->pairs[at],
	    (st->npairs - at) * sizeof(*st->pairs));
	st->pairs[at] = *old;
	st->npairs++;
}

/* A finished copy becomes a pair of the source and target UIDs,
 * replacing a one-sided record of the source message if there is one. */
static int
finish_copy(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	enum side src = rec->copy.src;
	struct pair_rec p, old;
	int found, dropped;
	size_t at = 0;
	size_t i = intent_lower_bound(st, src, rec->copy.src_uid, &found);

	if (!found) {
		buf_setf(err, "no pending copy of %s UID %u", side_names[src],
		    rec->copy.src_uid);
		return -1;
	}
	if (rec->kind == JR_COPY_ABORT) {
		drop_intent(st, i);
		return 0;
	}
	if (rec->target_uid == 0) {
		buf_setf(err, "copy done with target UID 0");
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.uid[src] = rec->copy.src_uid;
	p.uid[!src] = rec->target_uid;
	p.flags = st->intents[i].flags;
	/* st is unchanged on failure (state_apply()'s contract): a pair
	 * that does not fit gives the one-sided record back. */
	dropped = drop_one_sided(st, src, rec->copy.src_uid, &old, &at);
	if (insert_pair(st, &p, err) != 0) {
		if (dropped)
			put_back(st, &old, at);
		return -1;
	}
	drop_intent(st, i);
	return 0;
}

static int
set_header_value(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	if (rec->kind == JR_HIGHESTMODSEQ) {
		st->highestmodseq[rec->side] = rec->value;
		return 0;
	}
	if (rec->value > UINT32_MAX) {
		buf_setf(err, "value %llu is not a 32-bit number",
		    (unsigned long long)rec->value);
		return -1;
	}
	if (rec->kind == JR_UIDVALIDITY)
		st->uidvalidity[rec->side] = (uint32_t)rec->value;
	else
		st->maxuid[rec->side] = (uint32_t)rec->value;
	return 0;
}

static int
set_mark(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	if (rec->mark.uidnext == 0 || rec->mark.modseq == 0) {
		buf_setf(err, "settled mark with UIDNEXT %u and HIGHESTMODSEQ "
		    "%llu (both must be above 0)", rec->mark.uidnext,
		    (unsigned long long)rec->mark.modseq);
		return -1;
	}
	st->settled[rec->side] = rec->mark;
	return 0;
}

static int
apply_one(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	switch (rec->kind) {
	case JR_UIDVALIDITY:
	case JR_MAXUID:
	case JR_HIGHESTMODSEQ:
		return set_header_value(st, rec, err);
	case JR_PAIR_NEW:
		return insert_pair(st, &rec->pair, err);
	case JR_PAIR_FLAGS:
	case JR_PAIR_STATUS:
	case JR_PAIR_FORGET:
		return change_pair(st, rec, err);
	case JR_COPY_INTENT:
		return add_intent(st, &rec->copy, err);
	case JR_COPY_DONE:
	case JR_COPY_ABORT:
		return finish_copy(st, rec, err);
	case JR_SETTLED:
		return set_mark(st, rec, err);
	}
	buf_setf(err, "unknown record kind %d", (int)rec->kind);
	return -1;
}

/* The records after which the pairs may no longer describe a side as a
 * settled mark says they do. */
static int
unsettles(enum journal_kind kind)
{
	return kind == JR_UIDVALIDITY || kind == JR_PAIR_NEW ||
	    kind == JR_PAIR_FLAGS || kind == JR_PAIR_STATUS ||
	    kind == JR_PAIR_FORGET || kind == JR_COPY_DONE;
}

int
state_apply(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err)
{
	if (apply_one(st, rec, err) != 0)
		return -1;
	if (unsettles(rec->kind))
		memset(st->settled, 0, sizeof(st->settled));
	return 0;
}

int
state_check(const struct sync_state *st, struct buf *err)
{
	uint32_t *near = xreallocarray(NULL, st->npairs, sizeof(*near));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < st->npairs; i++)
		if (st->pairs[i].uid[SIDE_NEAR] != 0)
			near[n++] = st->pairs[i].uid[SIDE_NEAR];
	u32_sort(near, n);
	for (size_t i = 1; i < n; i++) {
		if (near[i] == near[i - 1]) {
			buf_setf(err, "near UID %u is in two pairs", near[i]);
			rc = -1;
			break;
		}
	}
	free(near);
	return rc;
}

size_t
state_count_side(const struct sync_state *st, enum side s)
{
	size_t n = 0;

	for (size_t i = 0; i < st->npairs; i++)
		n += st->pairs[i].uid[s] != 0;
	return n;
}

int
state_equal(const struct sync_state *a, const struct sync_state *b)
{
	if (memcmp(a->uidvalidity, b->uidvalidity, sizeof(a->uidvalidity)) ||
	    memcmp(a->maxuid, b->maxuid, sizeof(a->maxuid)) ||
	    memcmp(a->highestmodseq, b->highestmodseq,
	    sizeof(a->highestmodseq)) || a->generation != b->generation)
		return 0;
	for (int s = 0; s < 2; s++)
		if (a->settled[s].uidnext != b->settled[s].uidnext ||
		    a->settled[s].modseq != b->settled[s].modseq)
			return 0;
	if (a->npairs != b->npairs || a->nintents != b->nintents)
		return 0;
	for (size_t i = 0; i < a->npairs; i++) {
		const struct pair_rec *x = &a->pairs[i], *y = &b->pairs[i];

		if (x->uid[0] != y->uid[0] || x->uid[1] != y->uid[1] ||
		    x->flags != y->flags || x->status != y->status)
			return 0;
	}
	for (size_t i = 0; i < a->nintents; i++) {
		const struct copy_intent *x = &a->intents[i];
		const struct copy_intent *y = &b->intents[i];

		if (x->src != y->src || x->src_uid != y->src_uid ||
		    x->flags != y->flags || x->planned_uid != y->planned_uid ||
		    x->uidnext != y->uidnext || x->size != y->size ||
		    x->hash != y->hash)
			return 0;
	}
	return 1;
}
