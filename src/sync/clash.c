/* clash: settle the UID clashes a scan found; see clash.h. */
#include "sync/clash.h"

#include <stdlib.h>
#include <string.h>

#include "sync/fingerprint.h"
#include "sync/plan.h"

/* The pair record holding uid on side s, or NULL. */
static const struct pair_rec *
pair_on(const struct sync_state *st, enum side s, uint32_t uid)
{
	if (s == SIDE_FAR)
		return state_find_far(st, uid);
	for (size_t i = 0; i < st->npairs; i++)
		if (st->pairs[i].uid[s] == uid)
			return &st->pairs[i];
	return NULL;
}

static int
fingerprint_one(struct store *st, uint32_t uid, struct fingerprint *fp,
    struct buf *err)
{
	struct msg_list l = { 0 };
	struct msg_meta m = { .uid = uid };
	int rc;

	msg_list_add(&l, &m);
	rc = fingerprint_scan(st, &l, fp, err);
	msg_list_free(&l);
	return rc;
}

/* A vanished message has the fingerprint {0, 0}, which matches nothing. */
static int
same(const struct fingerprint *a, const struct fingerprint *b)
{
	return a->size != 0 && a->size == b->size && a->hash == b->hash;
}

/*
 * *known = 1 if the contents tell whose message c->uid is (the state
 * pairs it with a message of the other side that one of the two files
 * matches); *swap = 1 if that is the file reported as c->other. *swap = 2
 * when a record holds c->uid but the other side has no message of it (a
 * one-sided record, or its message there is gone): nothing tells which
 * file the record means, and the one that kept the UID would take its
 * place, to be deleted as the survivor of the pair, or left uncopied
 * under a one-sided record, though it may be the moved one, never
 * synced. So neither keeps it: the record's message is gone from both
 * sides, and both files are new.
 */
static int
decide(const struct clash_job *job, enum side s, const struct uid_clash *c,
    int *known, int *swap, struct buf *err)
{
	enum side t = s == SIDE_FAR ? SIDE_NEAR : SIDE_FAR;
	const struct pair_rec *p = pair_on(job->state, s, c->uid);
	struct fingerprint ref, mine, other;

	*known = *swap = 0;
	if (p != NULL && (p->uid[t] == 0 ||
	    msg_list_find(job->scan[t], p->uid[t]) == NULL))
		*swap = 2;
	if (p == NULL || *swap == 2)
		return 0;
	if (fingerprint_one(job->store[t], p->uid[t], &ref, err) != 0 ||
	    fingerprint_one(job->store[s], c->uid, &mine, err) != 0 ||
	    fingerprint_one(job->store[s], c->other, &other, err) != 0)
		return -1;
	*swap = same(&other, &ref) && !same(&mine, &ref);
	*known = *swap || same(&mine, &ref);
	return 0;
}

static struct msg_meta *
find_meta(struct msg_list *l, uint32_t uid)
{
	const struct msg_meta *m = msg_list_find(l, uid);

	return m != NULL ? &l->v[m - l->v] : NULL;
}

/* The message that had uid has moved (0: its file vanished); moved is
 * above every UID, so its entry goes to the end of the scan list, with
 * the size and date the scan reported for it (a clashing message's
 * are always there: store.h, clashes()). */
static void
move_scan(struct msg_list *l, uint32_t uid, uint32_t moved)
{
	const struct msg_meta *m = msg_list_find(l, uid);
	struct msg_meta t;
	size_t i;

	if (m == NULL)
		return;
	t = *m;
	i = (size_t)(m - l->v);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	if (moved == 0)
		return;
	t.uid = moved;
	msg_list_add(l, &t);
}

/* What the scan list holds for the two UIDs changes places, too. */
static void
swap_scan(struct msg_list *l, const struct uid_clash *c)
{
	struct msg_meta *a = find_meta(l, c->uid);
	struct msg_meta *b = find_meta(l, c->other);
	struct msg_meta t;

	if (a == NULL || b == NULL)
		return;
	t = *a;
	*a = *b;
	*b = t;
	a->uid = c->uid;
	b->uid = c->other;
}

static int
settle_side(const struct clash_job *job, enum side s, struct buf *err)
{
	struct store *st = job->store[s];
	const struct uid_clash *v;
	size_t n = st->ops->clashes != NULL ? st->ops->clashes(st, &v) : 0;
	/* settle_clash() changes the store's array: work on a copy. */
	struct uid_clash *todo = xcalloc(n ? n : 1, sizeof(*todo));
	int rc = 0, known, swap;
	uint32_t moved;

	for (size_t i = 0; i < n; i++)
		todo[i] = v[i];
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct uid_clash *c = &todo[i];

		if ((rc = decide(job, s, c, &known, &swap, err)) != 0)
			break;
		crash_step(job->crash);
		if ((rc = st->ops->settle_clash(st, c, swap, &moved,
		    err)) != 0)
			break;
		if (swap == 1)
			swap_scan(job->scan[s], c);
		if (swap == 2) {
			move_scan(job->scan[s], c->uid, moved);
			log_warn(job->lg, "%s: two %s messages claimed UID %u, "
			    "which has no %s copy; neither keeps it, both are "
			    "new (UIDs %u and %u)", job->label,
			    side_names[s], c->uid, side_names[!s], c->other,
			    moved);
			continue;
		}
		log_verbose(job->lg, "%s: two %s messages claimed UID %u; "
		    "%s keeps it, the other is new as UID %u", job->label,
		    side_names[s], c->uid, known ? "the recorded one" :
		    "the first found", c->other);
	}
	free(todo);
	return rc;
}

int
clash_settle(const struct clash_job *job, struct buf *err)
{
	for (int s = 0; s < 2; s++)
		if (settle_side(job, (enum side)s, err) != 0)
			return -1;
	return 0;
}
