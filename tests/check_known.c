/*
 * Unit tests: settled marks and the scans the state stands in for
 * (sync/plan_known.c), first as pure functions, then through the
 * mailbox driver on two in-memory stores with modification sequences,
 * whose scan_changes() fails the sync when it is told a list of
 * messages that is not the mailbox's.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/memstore.h"
#include "support/records.h"
#include "support/testlib.h"
#include "sync/journal.h"
#include "sync/mailbox.h"
#include "sync/plan.h"
#include "sync/policy.h"
#include "sync/state.h"

/* ---- part A: plan_side_settled() and plan_known_scan() ---- */

#define FAR_MARK_UIDNEXT 10
#define FAR_MARK_MODSEQ 500
#define NEAR_MARK_UIDNEXT 31
#define NEAR_MARK_MODSEQ 600

/*
 * Pairs sorted by far UID whose near UIDs are in another order, a
 * near-only gone-marked record and a far-only expired one; both sides
 * settled, and a status of each side that matches its mark.
 */
static void
pure_state(struct sync_state *st, struct mbox_status now[2])
{
	state_init(st);
	apply_ok(st, r_header(JR_UIDVALIDITY, SIDE_FAR, 100));
	apply_ok(st, r_header(JR_UIDVALIDITY, SIDE_NEAR, 200));
	apply_ok(st, r_header(JR_MAXUID, SIDE_FAR, 9));
	apply_ok(st, r_header(JR_MAXUID, SIDE_NEAR, 30));
	apply_ok(st, r_pair(JR_PAIR_NEW, 1, 30, MSG_SEEN, 0));
	apply_ok(st, r_pair(JR_PAIR_NEW, 2, 10, MSG_FLAGGED, 0));
	apply_ok(st, r_pair(JR_PAIR_NEW, 3, 20, 0, 0));
	apply_ok(st, r_pair(JR_PAIR_NEW, 0, 5, MSG_DELETED | MSG_SEEN,
	    PAIR_GONE_MARKED));
	apply_ok(st, r_pair(JR_PAIR_NEW, 9, 0, MSG_DRAFT, PAIR_EXPIRED));
	apply_ok(st, r_settled(SIDE_FAR, FAR_MARK_UIDNEXT, FAR_MARK_MODSEQ));
	apply_ok(st, r_settled(SIDE_NEAR, NEAR_MARK_UIDNEXT,
	    NEAR_MARK_MODSEQ));
	memset(now, 0, 2 * sizeof(*now));
	now[SIDE_FAR].uidvalidity = 100;
	now[SIDE_FAR].uidnext = FAR_MARK_UIDNEXT;
	now[SIDE_FAR].highestmodseq = FAR_MARK_MODSEQ;
	now[SIDE_FAR].count = 4;
	now[SIDE_NEAR].uidvalidity = 200;
	now[SIDE_NEAR].uidnext = NEAR_MARK_UIDNEXT;
	now[SIDE_NEAR].highestmodseq = NEAR_MARK_MODSEQ;
	now[SIDE_NEAR].count = 4;
}

/* What each side of pure_state() holds, sorted by that side's UID. */
static const struct msg_meta pure_far[] = {
	{ .uid = 1, .flags = MSG_SEEN },
	{ .uid = 2, .flags = MSG_FLAGGED },
	{ .uid = 3, .flags = 0 },
	{ .uid = 9, .flags = MSG_DRAFT },
};
static const struct msg_meta pure_near[] = {
	{ .uid = 5, .flags = MSG_DELETED | MSG_SEEN },
	{ .uid = 10, .flags = MSG_FLAGGED },
	{ .uid = 20, .flags = 0 },
	{ .uid = 30, .flags = MSG_SEEN },
};
#define NPURE 4

static const struct msg_meta *
pure_side(enum side s)
{
	return s == SIDE_FAR ? pure_far : pure_near;
}

static void
list_of(struct msg_list *l, const struct msg_meta *v, size_t n)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++)
		msg_list_add(l, &v[i]);
	msg_list_sort(l);
}

/* l holds exactly want (uid and flags, no sizes), in ascending order. */
static void
assert_list(const struct msg_list *l, const struct msg_meta *want, size_t n,
    const char *what)
{
	ck_assert_msg(l->n == n, "%s: %zu messages, want %zu", what, l->n, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(l->v[i].uid == want[i].uid &&
		    l->v[i].flags == want[i].flags,
		    "%s: [%zu] is uid %u flags %x, want uid %u flags %x", what,
		    i, l->v[i].uid, l->v[i].flags, want[i].uid,
		    want[i].flags);
		ck_assert_msg(l->v[i].size == 0 && l->v[i].date == 0,
		    "%s: [%zu] has a size or date", what, i);
	}
}

/* The hint the driver would give side s. */
static int
known_with_real_hint(const struct sync_state *st,
    const struct mbox_status now[2], enum side s, struct msg_list *known,
    uint64_t *since)
{
	const struct mbox_status *status[2] = { &now[0], &now[1] };
	struct plan_scan_hint h;
	int r;

	plan_scan_hint(st, status, s, &h);
	r = plan_known_scan(st, &now[s], s, &h.hint, known, since);
	plan_scan_hint_free(&h);
	return r;
}

START_TEST(test_side_settled)
{
	struct sync_state st;
	struct mbox_status now[2];
	struct msg_meta v[NPURE + 1];
	struct msg_list l;
	enum side s = (enum side)_i;
	const struct msg_meta *want = pure_side(s);
	const struct msg_meta extra = { .uid = 77, .flags = 0 };
	uint32_t left_uid = extra.uid, paired_uid = want[1].uid;
	const struct uid_vec left = { &left_uid, 1, 1 };
	const struct uid_vec left_paired = { &paired_uid, 1, 1 };

	pure_state(&st, now);

	/* Exactly the pairs' messages with the pairs' flags; a size or a
	 * date is no part of it. */
	memcpy(v, want, NPURE * sizeof(*v));
	v[2].size = 1234;
	v[3].date = 99;
	list_of(&l, v, NPURE);
	ck_assert(plan_side_settled(&st, &l, s, NULL));
	msg_list_free(&l);

	/* One message more, one less, one other, other flags. */
	memcpy(v, want, NPURE * sizeof(*v));
	v[NPURE] = extra;
	list_of(&l, v, NPURE + 1);
	ck_assert(!plan_side_settled(&st, &l, s, NULL));
	msg_list_free(&l);
	for (size_t skip = 0; skip < NPURE; skip++) {
		size_t n = 0;

		for (size_t i = 0; i < NPURE; i++)
			if (i != skip)
				v[n++] = want[i];
		list_of(&l, v, n);
		ck_assert_msg(!plan_side_settled(&st, &l, s, NULL),
		    "without %zu", skip);
		msg_list_free(&l);
		memcpy(v, want, NPURE * sizeof(*v));
		v[skip].uid = extra.uid;
		list_of(&l, v, NPURE);
		ck_assert_msg(!plan_side_settled(&st, &l, s, NULL),
		    "%zu replaced", skip);
		msg_list_free(&l);
		memcpy(v, want, NPURE * sizeof(*v));
		v[skip].flags ^= MSG_ANSWERED;
		list_of(&l, v, NPURE);
		ck_assert_msg(!plan_side_settled(&st, &l, s, NULL),
		    "%zu reflagged", skip);
		msg_list_free(&l);
	}

	/* The other side's list, where the UIDs differ. */
	list_of(&l, pure_side(!s), NPURE);
	ck_assert(!plan_side_settled(&st, &l, s, NULL));
	msg_list_free(&l);

	/* A message no pair holds that the plan left (an empty one): the
	 * pairs and it, exactly; not it without the pairs, not the pairs
	 * without it, not a pair's message named as left. */
	memcpy(v, want, NPURE * sizeof(*v));
	v[NPURE] = extra;
	list_of(&l, v, NPURE + 1);
	ck_assert(plan_side_settled(&st, &l, s, &left));
	msg_list_free(&l);
	list_of(&l, &extra, 1);
	ck_assert(!plan_side_settled(&st, &l, s, &left));
	msg_list_free(&l);
	list_of(&l, want, NPURE);
	ck_assert(!plan_side_settled(&st, &l, s, &left));
	ck_assert(!plan_side_settled(&st, &l, s, &left_paired));
	msg_list_free(&l);

	/* No pairs: settled when empty, and only then. */
	state_free(&st);
	state_init(&st);
	list_of(&l, NULL, 0);
	ck_assert(plan_side_settled(&st, &l, s, NULL));
	list_of(&l, &extra, 1);
	ck_assert(!plan_side_settled(&st, &l, s, NULL));
	msg_list_free(&l);
	state_free(&st);
}
END_TEST

START_TEST(test_known_scan_fills_known)
{
	struct sync_state st;
	struct mbox_status now[2];
	struct msg_list known = { 0 };
	uint64_t since = 0;
	enum side s = (enum side)_i;
	uint64_t mark = s == SIDE_FAR ? FAR_MARK_MODSEQ : NEAR_MARK_MODSEQ;
	const uint32_t skip_far[] = { 3, 9 }, skip_near[] = { 20, 30 };
	struct scan_hint hint = { 0 };

	pure_state(&st, now);
	ck_assert(known_with_real_hint(&st, now, s, &known, &since));
	assert_list(&known, pure_side(s), NPURE, side_names[s]);
	ck_assert_uint_eq(since, mark);
	msg_list_free(&known);

	/* Flags changed since the mark: still known, since the mark. */
	now[s].highestmodseq = mark + 1000;
	since = 0;
	ck_assert(known_with_real_hint(&st, now, s, &known, &since));
	assert_list(&known, pure_side(s), NPURE, side_names[s]);
	ck_assert_uint_eq(since, mark);
	msg_list_free(&known);

	/* A hint that wants sizes from a paired UID on, but skips the
	 * paired ones there. */
	hint.sizes_from = s == SIDE_FAR ? 3 : 20;
	hint.skip_uids = s == SIDE_FAR ? skip_far : skip_near;
	hint.nskip_uids = 2;
	ck_assert(plan_known_scan(&st, &now[s], s, &hint, &known, &since));
	assert_list(&known, pure_side(s), NPURE, side_names[s]);
	msg_list_free(&known);

	/* The other side's status and mark make no difference (to the
	 * real hint they would: a distrusted side wants every size). */
	now[!s].uidvalidity = 1;
	now[!s].count = 0;
	st.settled[!s].uidnext = 0;
	st.settled[!s].modseq = 0;
	hint.sizes_from = 1000;
	hint.nskip_uids = 0;
	ck_assert(plan_known_scan(&st, &now[s], s, &hint, &known, &since));
	assert_list(&known, pure_side(s), NPURE, side_names[s]);
	msg_list_free(&known);
	state_free(&st);
}
END_TEST

/* Each condition of plan_known_scan() failing on its own. */
enum refusal {
	REF_NONE,		/* the control: known */
	REF_NO_MARK,
	REF_NO_MARK_NO_UIDNEXT,	/* a status without UIDNEXT: 0 */
	REF_UIDVALIDITY,
	REF_UIDNEXT_UP,
	REF_UIDNEXT_DOWN,
	REF_COUNT_UP,
	REF_COUNT_DOWN,
	REF_MODSEQ_LOWER,
	REF_MODSEQ_NONE,
	REF_INTENT,
	REF_HINT_NULL,
	REF_HINT_FROM,
	REF_HINT_SIZE_UID,
	REF_HINT_ZERO,
	REF_COUNT
};

static const char *const refusal_names[REF_COUNT] = {
	"none", "no mark", "no mark, no uidnext", "uidvalidity",
	"uidnext up", "uidnext down",
	"count up", "count down", "modseq lower", "modseq none", "intent",
	"NULL hint", "hint from", "hint size uid", "zero hint",
};

START_TEST(test_known_scan_refusals)
{
	enum side s = (enum side)(_i % 2);
	enum refusal ref = (enum refusal)(_i / 2);
	struct sync_state st;
	struct mbox_status now[2];
	struct msg_list known = { 0 };
	uint64_t since = 7;
	const uint32_t one_far[] = { 2 }, one_near[] = { 10 };
	struct scan_hint hint = { .sizes_from = 1000 };
	const struct scan_hint *hp = &hint;
	struct journal_rec intent = { .kind = JR_COPY_INTENT };
	int r;

	pure_state(&st, now);
	switch (ref) {
	case REF_NONE:
	case REF_COUNT:
		break;
	case REF_NO_MARK:
		st.settled[s].uidnext = 0;
		st.settled[s].modseq = 0;
		break;
	case REF_NO_MARK_NO_UIDNEXT:
		st.settled[s].uidnext = 0;
		st.settled[s].modseq = 0;
		now[s].uidnext = 0;
		break;
	case REF_UIDVALIDITY:
		now[s].uidvalidity++;
		break;
	case REF_UIDNEXT_UP:
		now[s].uidnext++;
		break;
	case REF_UIDNEXT_DOWN:
		now[s].uidnext--;
		break;
	case REF_COUNT_UP:
		now[s].count++;
		break;
	case REF_COUNT_DOWN:
		now[s].count--;
		break;
	case REF_MODSEQ_LOWER:
		now[s].highestmodseq--;
		break;
	case REF_MODSEQ_NONE:
		now[s].highestmodseq = 0;
		break;
	case REF_INTENT:
		/* A pending copy keeps the marks but not their use. */
		intent.copy.src = (enum side)!s;
		intent.copy.src_uid = 40;
		apply_ok(&st, intent);
		ck_assert_uint_ne(st.settled[s].uidnext, 0);
		break;
	case REF_HINT_NULL:
		hp = NULL;
		break;
	case REF_HINT_FROM:
		hint.sizes_from = s == SIDE_FAR ? 9 : 30;
		break;
	case REF_HINT_SIZE_UID:
		hint.size_uids = s == SIDE_FAR ? one_far : one_near;
		hint.nsize_uids = 1;
		break;
	case REF_HINT_ZERO:
		hint.sizes_from = 0;
		break;
	}
	r = plan_known_scan(&st, &now[s], s, hp, &known, &since);
	if (ref == REF_NONE) {
		ck_assert_msg(r == 1, "%s: the control was refused",
		    side_names[s]);
		assert_list(&known, pure_side(s), NPURE, "control");
		msg_list_free(&known);
	} else {
		ck_assert_msg(r == 0, "%s: known despite %s",
		    side_names[s], refusal_names[ref]);
		ck_assert_msg(known.n == 0 && known.v == NULL,
		    "%s: %s left %zu messages in known", side_names[s],
		    refusal_names[ref], known.n);
		ck_assert_uint_eq(since, 7);
	}
	state_free(&st);
}
END_TEST

/*
 * With QRESYNC (open() said changes_known after a mark) messages may have
 * come and gone: a UIDNEXT above the mark's and any count are accepted;
 * everything else refuses as before. plan_known_mark() gives the mark
 * exactly when a settled side may be asked.
 */
enum qr_case {
	QR_NEW_AND_GONE,	/* uidnext up, count down: known */
	QR_COUNT_UP,		/* known */
	QR_SAME,		/* known */
	QR_UIDNEXT_DOWN,
	QR_UIDVALIDITY,
	QR_MODSEQ_LOWER,
	QR_INTENT,
	QR_NO_MARK,
	QR_CASES
};

START_TEST(test_known_scan_qresync)
{
	enum side s = (enum side)(_i % 2);
	enum qr_case c = (enum qr_case)(_i / 2);
	struct sync_state st;
	struct mbox_status now[2];
	struct msg_list known = { 0 }, mknown = { 0 };
	struct store_mark mark;
	struct scan_hint hint = { .sizes_from = 1000 };
	struct journal_rec intent = { .kind = JR_COPY_INTENT };
	uint64_t since = 7;
	int r, m, want = c <= QR_SAME;

	pure_state(&st, now);
	now[s].changes_known = 1;
	if (c == QR_NEW_AND_GONE) {
		now[s].uidnext += 5;
		now[s].count -= 2;
	} else if (c == QR_COUNT_UP) {
		now[s].uidnext += 1;
		now[s].count += 1;
	} else if (c == QR_UIDNEXT_DOWN) {
		now[s].uidnext--;
	} else if (c == QR_UIDVALIDITY) {
		now[s].uidvalidity++;
	} else if (c == QR_MODSEQ_LOWER) {
		now[s].highestmodseq--;
	} else if (c == QR_INTENT) {
		intent.copy.src = (enum side)!s;
		intent.copy.src_uid = 40;
		apply_ok(&st, intent);
	} else if (c == QR_NO_MARK) {
		st.settled[s].uidnext = 0;
		st.settled[s].modseq = 0;
	}
	m = plan_known_mark(&st, s, &mark, &mknown);
	ck_assert_int_eq(m, c != QR_INTENT && c != QR_NO_MARK);
	if (m) {
		ck_assert_uint_eq(mark.uidvalidity, s == SIDE_FAR ? 100 : 200);
		ck_assert_uint_eq(mark.uidnext, s == SIDE_FAR ?
		    FAR_MARK_UIDNEXT : NEAR_MARK_UIDNEXT);
		ck_assert(mark.modseq == (s == SIDE_FAR ? FAR_MARK_MODSEQ :
		    NEAR_MARK_MODSEQ));
		ck_assert_ptr_eq(mark.known, &mknown);
		assert_list(&mknown, pure_side(s), NPURE, "mark");
	}
	r = plan_known_scan(&st, &now[s], s, &hint, &known, &since);
	ck_assert_msg(r == want, "%s case %d: %d", side_names[s], c, r);
	if (want) {
		assert_list(&known, pure_side(s), NPURE, "known");
		ck_assert(since == (s == SIDE_FAR ? FAR_MARK_MODSEQ :
		    NEAR_MARK_MODSEQ));
	} else {
		ck_assert_uint_eq(known.n, 0);
	}
	/* Without changes_known the same status needs equal counts. */
	now[s].changes_known = 0;
	msg_list_free(&known);
	if (c == QR_NEW_AND_GONE || c == QR_COUNT_UP)
		ck_assert(!plan_known_scan(&st, &now[s], s, &hint, &known,
		    &since));
	msg_list_free(&known);
	msg_list_free(&mknown);
	state_free(&st);
}
END_TEST

/*
 * A message MaxSize held back (PAIR_TOO_BIG, one-sided) may be copied
 * once it fits, so the hint wants its size: its side must be scanned.
 * The other side, which does not hold it, may still skip its scan.
 */
/* The head of pure_state()'s file, as state_read_head() gives it. */
static void
pure_head(const struct sync_state *st, struct state_head *h)
{
	memset(h, 0, sizeof(*h));
	for (int s = 0; s < 2; s++) {
		h->uidvalidity[s] = st->uidvalidity[s];
		h->settled[s] = st->settled[s];
		h->count[s] = 4;
	}
	h->policy = 0x5eed;
}

/*
 * plan_side_quiet() and plan_pair_quiet(): a status equal to the mark in
 * every field, with as many messages as the pairs hold, and the same
 * policy; any one difference opens the pair. _i picks the field.
 */
START_TEST(test_pair_quiet)
{
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *pnow[2] = { &now[0], &now[1] };
	struct state_head h;
	enum side s = (enum side)(_i % 2);

	pure_state(&st, now);
	pure_head(&st, &h);
	ck_assert_int_eq(plan_side_quiet(&h, &now[SIDE_FAR], SIDE_FAR), 1);
	ck_assert_int_eq(plan_side_quiet(&h, &now[SIDE_NEAR], SIDE_NEAR), 1);
	ck_assert_int_eq(plan_pair_quiet(&h, pnow, 0x5eed), 1);
	switch (_i / 2) {
	case 0:
		now[s].uidvalidity++;
		break;
	case 1:
		now[s].uidnext++;
		break;
	case 2:
		now[s].highestmodseq++;	/* above is not equal */
		break;
	case 3:
		now[s].highestmodseq--;
		break;
	case 4:
		now[s].count--;		/* an expunge */
		break;
	case 5:
		now[s].highestmodseq = 0;	/* CONDSTORE gone */
		h.settled[s].modseq = 0;
		break;
	case 6:
		h.settled[s].uidnext = 0;	/* no mark */
		break;
	case 7:
		now[s].stamp = 1;	/* a stamp side: not this rule's */
		break;
	}
	ck_assert_int_eq(plan_side_quiet(&h, &now[s], s), 0);
	ck_assert_int_eq(plan_side_quiet(&h, &now[!s], (enum side)!s), 1);
	ck_assert_int_eq(plan_pair_quiet(&h, pnow, 0x5eed), 0);
	state_free(&st);
}
END_TEST

/* The pair as a whole: pending copies, another policy or none. */
START_TEST(test_pair_quiet_needs_policy)
{
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *pnow[2] = { &now[0], &now[1] };
	struct state_head h;

	pure_state(&st, now);
	pure_head(&st, &h);
	ck_assert_int_eq(plan_pair_quiet(&h, pnow, 0x5eee), 0);
	h.policy = 0;
	ck_assert_int_eq(plan_pair_quiet(&h, pnow, 0), 0);
	h.policy = 0x5eed;
	h.nintents = 1;
	ck_assert_int_eq(plan_pair_quiet(&h, pnow, 0x5eed), 0);
	state_free(&st);
}
END_TEST

/* Every field of the policy that a plan reads moves its digest; the
 * mass-deletion guard, which a pair without losses never meets, not. */
START_TEST(test_policy_digest)
{
	struct sync_policy base, p;
	uint64_t d;

	sync_policy_default(&base);
	d = sync_policy_digest(&base);
	ck_assert_uint_ne(d, 0);
	p = base;
	ck_assert_uint_eq(sync_policy_digest(&p), d);
	for (int field = 0; field < 12; field++) {
		p = base;
		switch (field) {
		case 0: p.ops[SIDE_FAR] &= ~SYNC_GONE; break;
		case 1: p.ops[SIDE_NEAR] &= ~SYNC_NEW; break;
		case 2: p.expunge = SYNC_EXPUNGE_SIDE(SIDE_NEAR); break;
		case 3: p.expunge_solo = SYNC_EXPUNGE_SIDE(SIDE_FAR); break;
		case 4: p.max_size[SIDE_FAR] = 1000; break;
		case 5: p.max_size[SIDE_NEAR] = 1000; break;
		case 6: p.max_messages = 50; break;
		case 7: p.expire_unread = 1; break;
		case 8: p.trash_box[SIDE_FAR] = "Trash"; break;
		case 9: p.trash_box[SIDE_NEAR] = ""; break;
		case 10: p.trash_new_only = 1; break;
		case 11: p.trash_remote_new = 2; break;
		}
		ck_assert_msg(sync_policy_digest(&p) != d, "field %d", field);
	}
	p = base;
	p.guard_wiped_over = 11;
	p.guard_wiped_percent = 91;
	p.guard_large_over = 101;
	p.guard_large_percent = 51;
	p.allow_mass_delete = 1;
	ck_assert_uint_eq(sync_policy_digest(&p), d);
	/* The Trash by name, on its side. */
	p = base;
	p.trash_box[SIDE_FAR] = "Trash";
	d = sync_policy_digest(&p);
	p.trash_box[SIDE_FAR] = NULL;
	p.trash_box[SIDE_NEAR] = "Trash";
	ck_assert_uint_ne(sync_policy_digest(&p), d);
}
END_TEST

START_TEST(test_known_scan_too_big_record)
{
	enum side s = (enum side)_i;
	struct sync_state st;
	struct mbox_status now[2];
	struct msg_list known = { 0 };
	uint64_t since = 0;
	struct journal_rec big = r_pair(JR_PAIR_NEW, 0, 0, MSG_SEEN,
	    PAIR_TOO_BIG);

	pure_state(&st, now);
	big.pair.uid[s] = s == SIDE_FAR ? 11 : 40;
	apply_ok(&st, big);
	/* The new record cleared both marks: settle again, as a run whose
	 * scans matched would. */
	ck_assert_uint_eq(st.settled[SIDE_FAR].uidnext, 0);
	ck_assert_uint_eq(st.settled[SIDE_NEAR].uidnext, 0);
	now[s].uidnext = big.pair.uid[s] + 1;
	now[s].count++;
	apply_ok(&st, r_settled(s, now[s].uidnext, now[s].highestmodseq));
	apply_ok(&st, r_settled(!s, now[!s].uidnext,
	    now[!s].highestmodseq));

	ck_assert(!known_with_real_hint(&st, now, s, &known, &since));
	ck_assert_uint_eq(known.n, 0);
	ck_assert(known_with_real_hint(&st, now, !s, &known, &since));
	assert_list(&known, pure_side(!s), NPURE, "other side");
	msg_list_free(&known);
	state_free(&st);
}
END_TEST

/* ---- part B: through sync_mailbox() on two memstores ---- */

struct fixture {
	char *dir;
	char *trap;
	struct state_paths paths;
	struct store *store[2];
	struct sync_policy policy;
	struct buf log, err;
	struct logger lg;
	struct mailbox_job job;
	struct exec_stats stats;
};

static void
fx_init_in(struct fixture *fx, const char *dir)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = xstrdup(dir);
	fx->trap = tl_path(fx->dir, "journal-trap");
	fx->paths.dir = xstrdup(fx->dir);
	fx->paths.state = tl_path(fx->dir, "state");
	fx->paths.journal = tl_path(fx->dir, "state.journal");
	fx->paths.lock = tl_path(fx->dir, "state.lock");
	fx->store[SIDE_FAR] = memstore_new(100);
	fx->store[SIDE_NEAR] = memstore_new(200);
	for (int s = 0; s < 2; s++) {
		ck_assert_int_eq(fx->store[s]->ops->create(fx->store[s],
		    "INBOX", &fx->err), 0);
		memstore_modseqs(fx->store[s], 1);
		fx->job.store[s] = fx->store[s];
	}
	sync_policy_default(&fx->policy);
	fx->lg.level = LOG_DEBUG;
	fx->lg.capture = &fx->log;
	fx->job.box[0] = fx->job.box[1] = "INBOX";
	fx->job.label = "test:INBOX";
	fx->job.policy = &fx->policy;
	fx->job.paths = &fx->paths;
	fx->job.lg = &fx->lg;
}

static void
fx_init(struct fixture *fx)
{
	char *dir = tl_mkdtemp("known");

	fx_init_in(fx, dir);
	free(dir);
}

/* Release everything; the directory itself is the caller's. */
static void
fx_release(struct fixture *fx)
{
	for (int s = 0; s < 2; s++)
		fx->store[s]->ops->free(fx->store[s]);
	free(fx->dir);
	free(fx->trap);
	state_paths_free(&fx->paths);
	buf_free(&fx->log);
	buf_free(&fx->err);
}

static void
fx_free(struct fixture *fx)
{
	tl_rmtree(fx->dir);
	fx_release(fx);
}

static void
deliver_n(struct store *s, int first, int n, unsigned flags)
{
	char body[64];

	for (int i = first; i < first + n; i++) {
		snprintf(body, sizeof(body), "Message-ID: <%d@t>\r\n\r\n%d\r\n",
		    i, i);
		memstore_deliver(s, "INBOX", body, flags);
	}
}

/* What one sync asked of each store; skipped: it opened neither side
 * (a quiet pair, plan_pair_quiet()). */
struct scans {
	unsigned scan[2], changes[2];
	int skipped;
};

static size_t
stats_total(const struct exec_stats *st)
{
	size_t n = st->recovered;

	for (int s = 0; s < 2; s++)
		n += st->copied[s] + st->flagged[s] + st->expunged[s];
	return n;
}

static struct scans
sync_ok(struct fixture *fx)
{
	struct memstore_calls before[2], after;
	struct scans d;

	for (int s = 0; s < 2; s++)
		before[s] = memstore_calls(fx->store[s]);
	buf_reset(&fx->log);
	buf_reset(&fx->err);
	ck_assert_msg(sync_mailbox(&fx->job, &fx->stats, &fx->err) == 0,
	    "sync failed: %s", buf_cstr(&fx->err));
	d.skipped = 1;
	for (int s = 0; s < 2; s++) {
		after = memstore_calls(fx->store[s]);
		d.scan[s] = after.scan - before[s].scan;
		d.changes[s] = after.scan_changes - before[s].scan_changes;
		d.skipped &= after.open == before[s].open;
	}
	return d;
}

/* scan and scan_changes calls of one sync, far then near. */
#define assert_scans(d, fs, fc, ns, nc) do {				\
	ck_assert_msg((d).scan[SIDE_FAR] == (fs) &&			\
	    (d).changes[SIDE_FAR] == (fc) &&				\
	    (d).scan[SIDE_NEAR] == (ns) &&				\
	    (d).changes[SIDE_NEAR] == (nc),				\
	    "line %d: scans far %u+%u near %u+%u, want %u+%u %u+%u",	\
	    __LINE__, (d).scan[SIDE_FAR], (d).changes[SIDE_FAR],	\
	    (d).scan[SIDE_NEAR], (d).changes[SIDE_NEAR], (fs), (fc),	\
	    (ns), (nc));						\
} while (0)

/*
 * Whether a run wrote a journal at all: the journal's name is made a
 * dangling symbolic link, which a journal opened for writing follows,
 * creating the trap file; the fold later unlinks the name, not the trap.
 * A run that writes no journal leaves both as they were.
 */
static void
trap_arm(struct fixture *fx)
{
	unlink(fx->trap);
	unlink(fx->paths.journal);
	ck_assert_int_eq(symlink(fx->trap, fx->paths.journal), 0);
}

static int
trap_sprung(struct fixture *fx)
{
	int sprung = tl_exists(fx->trap);

	unlink(fx->trap);
	unlink(fx->paths.journal);
	return sprung;
}

static void
load_state(struct fixture *fx, struct sync_state *st)
{
	state_init(st);
	ck_assert_msg(state_load(fx->paths.state, fx->paths.journal, st, NULL,
	    NULL, &fx->err) == 0, "load: %s", buf_cstr(&fx->err));
}

#define assert_mark(st, s, un, ms) do {					\
	ck_assert_msg((st).settled[s].uidnext == (un) &&		\
	    (st).settled[s].modseq == (ms),				\
	    "line %d: %s mark %u/%" PRIu64 ", want %u/%u", __LINE__,	\
	    side_names[s], (st).settled[s].uidnext,			\
	    (st).settled[s].modseq, (unsigned)(un), (unsigned)(ms));	\
} while (0)

/* Flags of one message (-1 if absent), by a scan the counts ignore. */
static int
flags_of(struct store *s, uint32_t uid)
{
	struct mbox_status st;
	struct msg_list l = { 0 };
	struct buf err = BUF_INIT;
	const struct msg_meta *m;
	int flags;

	ck_assert_int_eq(s->ops->open(s, "INBOX", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	m = msg_list_find(&l, uid);
	flags = m ? (int)m->flags : -1;
	msg_list_free(&l);
	buf_free(&err);
	return flags;
}

static int
logged(const struct fixture *fx, const char *line)
{
	return strstr(buf_cstr(&fx->log), line) != NULL;
}

#define FAR_SKIPPED(ms) "test:INBOX: far side unchanged but for flags " \
	"since HIGHESTMODSEQ " #ms ": no scan\n"
#define NEAR_SKIPPED(ms) "test:INBOX: near side unchanged but for " \
	"flags since HIGHESTMODSEQ " #ms ": no scan\n"

/*
 * far -> near copies, then nothing to do. A side earns its mark when
 * its scan matched the pairs: far, the source, at once; near, which
 * received the copies, only at the next run, which scans it in full
 * and writes the state file for the mark alone, without a journal.
 */
START_TEST(test_noop_syncs_skip_scans)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;
	char *before, *after;

	fx_init(&fx);
	deliver_n(fx.store[SIDE_FAR], 1, 5, MSG_SEEN);
	trap_arm(&fx);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 1, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 5);
	ck_assert(trap_sprung(&fx));
	load_state(&fx, &st);
	/* Both boxes: HIGHESTMODSEQ 1, plus one per message. */
	assert_mark(st, SIDE_FAR, 6, 6);
	assert_mark(st, SIDE_NEAR, 0, 0);
	ck_assert_uint_eq(st.generation, 1);
	state_free(&st);

	trap_arm(&fx);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	ck_assert(logged(&fx, FAR_SKIPPED(6)));
	ck_assert(!logged(&fx, "near side unchanged"));
	ck_assert_msg(!trap_sprung(&fx), "a run with only a mark to record "
	    "wrote a journal");
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 6, 6);
	assert_mark(st, SIDE_NEAR, 6, 6);
	ck_assert_uint_eq(st.generation, 2);
	ck_assert_uint_eq(st.npairs, 5);
	state_free(&st);

	/* Settled on both sides: no scan, and nothing written. */
	for (int run = 0; run < 3; run++) {
		before = tl_read_file(fx.paths.state, NULL);
		trap_arm(&fx);
		d = sync_ok(&fx);
		assert_scans(d, 0, 1, 0, 1);
		ck_assert_uint_eq(stats_total(&fx.stats), 0);
		ck_assert(logged(&fx, FAR_SKIPPED(6)));
		ck_assert(logged(&fx, NEAR_SKIPPED(6)));
		ck_assert(!trap_sprung(&fx));
		after = tl_read_file(fx.paths.state, NULL);
		ck_assert_str_eq(before, after);
		free(before);
		free(after);
	}
	fx_free(&fx);
}
END_TEST

/* Copies both ways: neither side is settled after the first run. */
START_TEST(test_copies_both_ways)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;

	fx_init(&fx);
	deliver_n(fx.store[SIDE_FAR], 1, 3, 0);
	deliver_n(fx.store[SIDE_NEAR], 10, 2, MSG_FLAGGED);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 1, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 3);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 2);
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 0, 0);
	assert_mark(st, SIDE_NEAR, 0, 0);
	state_free(&st);

	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 1, 0);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 6, 6);
	assert_mark(st, SIDE_NEAR, 6, 6);
	state_free(&st);

	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	fx_free(&fx);
}
END_TEST

/* Both sides settled, five messages each, HIGHESTMODSEQ 6 on both. */
static void
settled_pair(struct fixture *fx)
{
	struct scans d;

	deliver_n(fx->store[SIDE_FAR], 1, 5, 0);
	sync_ok(fx);
	sync_ok(fx);
	d = sync_ok(fx);
	assert_scans(d, 0, 1, 0, 1);
}

/*
 * A flag changed behind the sync's back is found by scan_changes() and
 * propagated without a full scan of the side it changed on. The side
 * that received the change settles in the same run; its next run reads
 * the stored flag back with CHANGEDSINCE, without a full scan either.
 */
START_TEST(test_flag_change_without_scan)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;

	fx_init(&fx);
	settled_pair(&fx);
	ck_assert_int_eq(memstore_set(fx.store[SIDE_FAR], "INBOX", 2,
	    MSG_FLAGGED | MSG_SEEN), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, FAR_SKIPPED(6)));
	ck_assert_uint_eq(fx.stats.flagged[SIDE_NEAR], 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_NEAR], 2),
	    MSG_FLAGGED | MSG_SEEN);
	load_state(&fx, &st);
	ck_assert_uint_eq(state_find_far(&st, 2)->flags,
	    MSG_FLAGGED | MSG_SEEN);
	/* far's changes showed what the pairs now say; so does near's
	 * scan with the flag this run stored, at the status from before. */
	assert_mark(st, SIDE_FAR, 6, 7);
	assert_mark(st, SIDE_NEAR, 6, 6);
	state_free(&st);

	/* near's CHANGEDSINCE reads the stored flag back. */
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, NEAR_SKIPPED(6)));
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, NEAR_SKIPPED(7)));

	/* The same from near, a flag removed. */
	ck_assert_int_eq(memstore_set(fx.store[SIDE_NEAR], "INBOX", 2,
	    MSG_SEEN), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_FAR], 2), MSG_SEEN);

	/* Changed and changed back: HIGHESTMODSEQ moved, the flags did
	 * not; nothing to do but to move the mark. */
	d = sync_ok(&fx);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert_int_eq(memstore_set(fx.store[SIDE_FAR], "INBOX", 4,
	    MSG_DRAFT), 0);
	ck_assert_int_eq(memstore_set(fx.store[SIDE_FAR], "INBOX", 4, 0), 0);
	trap_arm(&fx);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	ck_assert(!trap_sprung(&fx));
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 6, 10);
	state_free(&st);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, FAR_SKIPPED(10)));
	fx_free(&fx);
}
END_TEST

/*
 * An expunge behind the sync's back does not raise HIGHESTMODSEQ here;
 * the count gives it away and the side is scanned in full. With the
 * default policy the other copy is marked \Deleted and kept.
 */
START_TEST(test_expunge_forces_scan)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;

	fx_init(&fx);
	settled_pair(&fx);
	ck_assert_int_eq(memstore_remove(fx.store[SIDE_FAR], "INBOX", 3), 0);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 0, 1);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_NEAR], 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_NEAR], 3), MSG_DELETED);
	load_state(&fx, &st);
	ck_assert_ptr_null(state_find_far(&st, 3));
	ck_assert_uint_eq(st.npairs, 5);
	ck_assert_uint_eq(state_find_pair(&st, 0, 3)->status,
	    PAIR_GONE_MARKED);
	ck_assert_uint_eq(state_find_pair(&st, 0, 3)->flags, MSG_DELETED);
	/* far's scan, made after the expunge, holds what the pairs now
	 * say; so does near's with the \Deleted this run stored. */
	assert_mark(st, SIDE_FAR, 6, 6);
	assert_mark(st, SIDE_NEAR, 6, 6);
	state_free(&st);

	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	load_state(&fx, &st);
	assert_mark(st, SIDE_NEAR, 6, 7);
	state_free(&st);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	fx_free(&fx);
}
END_TEST

/* With Expunge Near the other copy goes too, and the pair with it. */
START_TEST(test_expunge_propagated)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;

	fx_init(&fx);
	fx.policy.expunge = SYNC_EXPUNGE_SIDE(SIDE_NEAR);
	settled_pair(&fx);
	ck_assert_int_eq(memstore_remove(fx.store[SIDE_FAR], "INBOX", 3), 0);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 0, 1);
	ck_assert_uint_eq(fx.stats.expunged[SIDE_NEAR], 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_NEAR], 3), -1);
	load_state(&fx, &st);
	ck_assert_uint_eq(st.npairs, 4);
	/* far's scan, made after the user's expunge, matches the pairs;
	 * near's showed a message the pairs no longer hold. */
	assert_mark(st, SIDE_FAR, 6, 6);
	assert_mark(st, SIDE_NEAR, 0, 0);
	state_free(&st);

	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);

	/* From near, onto the side with Expunge off: marked, not removed. */
	ck_assert_int_eq(memstore_remove(fx.store[SIDE_NEAR], "INBOX", 1), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_FAR], 1), MSG_DELETED);
	fx_free(&fx);
}
END_TEST

/* New mail raises UIDNEXT: a full scan, and the message is copied. A
 * delivery and an expunge together keep the count but not UIDNEXT. */
START_TEST(test_delivery_forces_scan)
{
	struct fixture fx;
	struct scans d;

	fx_init(&fx);
	settled_pair(&fx);
	deliver_n(fx.store[SIDE_FAR], 6, 1, MSG_ANSWERED);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 0, 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 1);
	ck_assert_str_eq(memstore_body(fx.store[SIDE_NEAR], "INBOX", 6),
	    "Message-ID: <6@t>\r\n\r\n6\r\n");
	ck_assert_int_eq(flags_of(fx.store[SIDE_NEAR], 6), MSG_ANSWERED);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);

	deliver_n(fx.store[SIDE_NEAR], 7, 1, 0);
	ck_assert_int_eq(memstore_remove(fx.store[SIDE_NEAR], "INBOX", 2), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 1);
	ck_assert_str_eq(memstore_body(fx.store[SIDE_FAR], "INBOX", 7),
	    "Message-ID: <7@t>\r\n\r\n7\r\n");
	ck_assert_int_eq(flags_of(fx.store[SIDE_FAR], 2), MSG_DELETED);
	fx_free(&fx);
}
END_TEST

/*
 * A message that arrives after open() reported the status and before the
 * scan lists the mailbox is copied by that run, so the pairs end up with
 * a UID at the status's UIDNEXT. A mark earned at that status would say
 * the pairs are the mailbox below its UIDNEXT, which they are not: the
 * next QRESYNC answer was refused ("the mark holds a UID above its
 * UIDNEXT", a warning and a full scan). No mark is earned then; the next
 * run earns it.
 */
START_TEST(test_arrival_during_scan_earns_no_mark)
{
	struct fixture fx;
	struct sync_state st;

	fx_init(&fx);
	settled_pair(&fx);
	memstore_arrive_on_scan(fx.store[SIDE_FAR],
	    "Message-ID: <late@t>\r\n\r\nlate\r\n");
	deliver_n(fx.store[SIDE_FAR], 6, 1, 0);
	sync_ok(&fx);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 2);
	load_state(&fx, &st);
	for (size_t i = 0; i < st.npairs; i++)
		ck_assert_msg(st.settled[SIDE_FAR].uidnext == 0 ||
		    st.pairs[i].uid[SIDE_FAR] < st.settled[SIDE_FAR].uidnext,
		    "far mark UIDNEXT %u, yet a pair holds far UID %u",
		    st.settled[SIDE_FAR].uidnext, st.pairs[i].uid[SIDE_FAR]);
	state_free(&st);
	sync_ok(&fx);
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 8, 8);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/* A store that reports no HIGHESTMODSEQ is never asked for changes,
 * and earns no mark; the other side still does. */
START_TEST(test_no_modseqs_no_changes)
{
	enum side plain = (enum side)_i;
	struct fixture fx;
	struct sync_state st;
	struct scans d;
	unsigned changes[2] = { 0, 0 };

	fx_init(&fx);
	memstore_modseqs(fx.store[plain], 0);
	/* Far only, so that a UID names the same message on both sides. */
	deliver_n(fx.store[SIDE_FAR], 1, 4, 0);
	for (int run = 0; run < 8; run++) {
		if (run == 4)
			memstore_set(fx.store[!plain], "INBOX", 1, MSG_SEEN);
		if (run == 6)
			memstore_set(fx.store[plain], "INBOX", 2, MSG_SEEN);
		d = sync_ok(&fx);
		ck_assert_uint_eq(d.changes[plain], 0);
		ck_assert_uint_eq(d.scan[plain], 1);
		for (int s = 0; s < 2; s++)
			changes[s] += d.changes[s];
		load_state(&fx, &st);
		assert_mark(st, plain, 0, 0);
		state_free(&st);
	}
	ck_assert_uint_eq(changes[plain], 0);
	ck_assert_uint_ge(changes[!plain], 4);
	ck_assert_int_eq(flags_of(fx.store[plain], 1), MSG_SEEN);
	ck_assert_int_eq(flags_of(fx.store[!plain], 2), MSG_SEEN);

	fx_free(&fx);

	/* Neither side: no mark is ever written. */
	fx_init(&fx);
	memstore_modseqs(fx.store[SIDE_FAR], 0);
	memstore_modseqs(fx.store[SIDE_NEAR], 0);
	deliver_n(fx.store[SIDE_FAR], 1, 4, 0);
	for (int run = 0; run < 3; run++) {
		d = sync_ok(&fx);
		assert_scans(d, 1, 0, 1, 0);
	}
	load_state(&fx, &st);
	assert_mark(st, SIDE_FAR, 0, 0);
	assert_mark(st, SIDE_NEAR, 0, 0);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/*
 * MaxSize held a far message back: the hint wants its size at every run
 * (it may fit later), so far is scanned in full although settled; near
 * skips its scan.
 */
START_TEST(test_too_big_keeps_scanning)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;
	char big[512];
	const char *head = "Message-ID: <big@t>\r\n\r\n";

	fx_init(&fx);
	fx.policy.max_size[SIDE_NEAR] = 200;
	deliver_n(fx.store[SIDE_FAR], 1, 3, 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, head, strlen(head));
	memstore_deliver(fx.store[SIDE_FAR], "INBOX", big, MSG_SEEN);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 1, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 3);
	for (int run = 0; run < 3; run++) {
		d = sync_ok(&fx);
		ck_assert_uint_eq(d.scan[SIDE_FAR], 1);
		ck_assert_uint_eq(d.changes[SIDE_FAR], 0);
		ck_assert_uint_eq(stats_total(&fx.stats), 0);
	}
	assert_scans(d, 1, 0, 0, 1);
	load_state(&fx, &st);
	/* Settled all the same: the hint alone refuses. */
	assert_mark(st, SIDE_FAR, 5, 5);
	ck_assert_uint_eq(state_find_far(&st, 4)->status, PAIR_TOO_BIG);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

#define NEAR_NOT_LISTED(stamp) "test:INBOX: near side unchanged since " \
	"its stamp " #stamp ": not listed\n"

/*
 * A near side like a Maildir (no HIGHESTMODSEQ, a coarse stamp): its
 * copies are too recent for a stamp, so no mark; once the clock moved
 * on it earns one and is not listed; a flag change made in the granule
 * that mark was earned in is too recent to vouch for, so the next run
 * lists the side, finds it and carries it to far.
 */
START_TEST(test_stamp_side_skips_listing)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;

	fx_init(&fx);
	memstore_modseqs(fx.store[SIDE_NEAR], 0);
	memstore_stamps(fx.store[SIDE_NEAR], MEMSTORE_STAMP_COARSE);
	deliver_n(fx.store[SIDE_FAR], 1, 5, MSG_SEEN);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 1, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 5);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	load_state(&fx, &st);
	assert_mark(st, SIDE_NEAR, 0, 0);
	state_free(&st);

	/* The copies' granule is over: stamp 2 (granule 1, plus one). */
	memstore_tick(fx.store[SIDE_NEAR]);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	load_state(&fx, &st);
	assert_mark(st, SIDE_NEAR, 6, 2);
	state_free(&st);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, NEAR_NOT_LISTED(2)));

	/* Same granule as the mark: no stamp, a listing, the change. */
	ck_assert_int_eq(memstore_set(fx.store[SIDE_NEAR], "INBOX", 3,
	    MSG_SEEN | MSG_FLAGGED), 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 1);
	ck_assert_int_eq(flags_of(fx.store[SIDE_FAR], 3),
	    MSG_SEEN | MSG_FLAGGED);
	memstore_tick(fx.store[SIDE_NEAR]);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 0, 1);
	ck_assert(logged(&fx, NEAR_NOT_LISTED(3)));
	fx_free(&fx);
}
END_TEST

#define NEAR_EMPTY_WARNED "test:INBOX: near message UID 2 is empty " \
	"(0 bytes): not copied"

/*
 * An empty message (an empty Maildir file: no message, never copied)
 * does not keep its pair from settling. Near is a Maildir (a stamp, no
 * HIGHESTMODSEQ) holding one beside a message. The first run copies the
 * message each way and warns of it; the second lists near again (the
 * copy changed it), warns, and earns both marks without a journal; the
 * third opens neither side. The empty message stays wanted (near maxuid
 * below it) and unrecorded throughout. Once far brings a message, near
 * is not listed (its stamp holds, the empty message aside) and takes the
 * copy; the next run lists it, warns again and settles; with the empty
 * message gone nothing is left to do and nothing is said of it.
 */
START_TEST(test_empty_message_settles)
{
	struct fixture fx;
	struct sync_state st;
	struct scans d;
	char *before, *after;
	size_t len, len2;

	fx_init(&fx);
	memstore_modseqs(fx.store[SIDE_NEAR], 0);
	memstore_stamps(fx.store[SIDE_NEAR], MEMSTORE_STAMP_TRUE);
	for (int s = 0; s < 2; s++)
		memstore_peek(fx.store[s], 1);
	deliver_n(fx.store[SIDE_FAR], 1, 1, MSG_SEEN);
	deliver_n(fx.store[SIDE_NEAR], 10, 1, 0);
	ck_assert_uint_eq(memstore_deliver(fx.store[SIDE_NEAR], "INBOX", "",
	    MSG_SEEN), 2);
	sync_ok(&fx);
	ck_assert(logged(&fx, NEAR_EMPTY_WARNED));
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);

	trap_arm(&fx);
	d = sync_ok(&fx);
	ck_assert_msg(!trap_sprung(&fx), "the second run wrote a journal");
	assert_scans(d, 1, 0, 1, 0);
	ck_assert(logged(&fx, NEAR_EMPTY_WARNED));
	ck_assert_uint_eq(fx.stats.empty[SIDE_FAR], 1);
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	load_state(&fx, &st);
	ck_assert_uint_ne(st.settled[SIDE_FAR].uidnext, 0);
	ck_assert_uint_ne(st.settled[SIDE_NEAR].uidnext, 0);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 1);
	ck_assert_uint_eq(st.npairs, 2);
	state_free(&st);

	/* Not opened (a journal's name, the trap's too, would open it). */
	before = tl_read_file(fx.paths.state, &len);
	d = sync_ok(&fx);
	ck_assert_msg(d.skipped, "the settled pair was opened");
	ck_assert(!logged(&fx, "empty"));
	after = tl_read_file(fx.paths.state, &len2);
	ck_assert(len == len2 && memcmp(before, after, len) == 0);
	free(before);
	free(after);

	deliver_n(fx.store[SIDE_FAR], 20, 1, 0);
	d = sync_ok(&fx);
	assert_scans(d, 1, 0, 0, 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	d = sync_ok(&fx);
	assert_scans(d, 0, 1, 1, 0);
	ck_assert(logged(&fx, NEAR_EMPTY_WARNED));
	d = sync_ok(&fx);
	ck_assert_msg(d.skipped, "the settled pair was opened");

	ck_assert_int_eq(memstore_remove(fx.store[SIDE_NEAR], "INBOX", 2), 0);
	d = sync_ok(&fx);
	ck_assert(!logged(&fx, "empty"));
	ck_assert_uint_eq(stats_total(&fx.stats), 0);
	load_state(&fx, &st);
	ck_assert_uint_eq(st.npairs, 3);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 1);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/*
 * An empty message on a side with modification sequences (a server
 * holding one) keeps that side from settling, as its count then differs
 * from the pairs', but costs nothing more: after the first run, no run
 * writes a journal, and each warns of it.
 */
START_TEST(test_empty_message_no_journal)
{
	struct fixture fx;
	struct sync_state st;

	fx_init(&fx);
	deliver_n(fx.store[SIDE_FAR], 1, 2, MSG_SEEN);
	memstore_deliver(fx.store[SIDE_FAR], "INBOX", "", 0);
	sync_ok(&fx);
	for (int run = 2; run <= 3; run++) {
		trap_arm(&fx);
		sync_ok(&fx);
		ck_assert_msg(!trap_sprung(&fx), "run %d wrote a journal",
		    run);
		ck_assert(logged(&fx, "test:INBOX: far message UID 3 is "
		    "empty (0 bytes): not copied"));
		ck_assert_uint_eq(stats_total(&fx.stats), 0);
	}
	load_state(&fx, &st);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 2);
	assert_mark(st, SIDE_FAR, 0, 0);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/*
 * A pair the head calls quiet is not opened only while the file proves
 * it was written to its end: the same file cut short by a byte, or with
 * its last bytes zeroed (a crash before the data reached the disk), opens
 * the pair, whose full read then reports the damage; the file whole
 * again, the pair is skipped again.
 */
START_TEST(test_damaged_body_not_skipped)
{
	static const char *const ways[] = { "cut", "zeroed" };
	struct fixture fx;
	struct scans d;
	char *text, *bad;
	size_t len;

	fx_init(&fx);
	for (int s = 0; s < 2; s++)
		memstore_peek(fx.store[s], 1);
	deliver_n(fx.store[SIDE_FAR], 1, 5, MSG_SEEN);
	sync_ok(&fx);
	sync_ok(&fx);
	d = sync_ok(&fx);
	ck_assert_msg(d.skipped, "a settled pair was opened");
	text = tl_read_file(fx.paths.state, &len);
	for (size_t w = 0; w < 2; w++) {
		bad = xmalloc(len);
		memcpy(bad, text, len);
		if (w == 1)
			memset(bad + len - 9, 0, 9);
		tl_write_file(fx.paths.state, bad, w == 0 ? len - 1 : len);
		free(bad);
		buf_reset(&fx.err);
		ck_assert_msg(sync_mailbox(&fx.job, &fx.stats, &fx.err) == -1,
		    "%s state file: the sync did not fail", ways[w]);
		ck_assert_msg(strstr(buf_cstr(&fx.err), fx.paths.state) !=
		    NULL, "%s state file: %s", ways[w], buf_cstr(&fx.err));
		tl_write_file(fx.paths.state, text, len);
		d = sync_ok(&fx);
		ck_assert_msg(d.skipped, "%s state file: once whole again, the "
		    "pair was opened", ways[w]);
	}
	free(text);
	fx_free(&fx);
}
END_TEST

/* ---- random histories ---- */

#define HIST_SEEDS 3
#define HIST_PER_SEED 100
#define HIST_STEPS 30
#define HIST_MAX_MSGS 18	/* a history's deliveries; at most as many
				   records a side */
#define HIST_MSG_FORMAT "Message-ID: <m%u@known.test>\r\n\r\nbody %u\r\n"

struct hist_policy {
	const char *name;
	unsigned expunge;
};

static const struct hist_policy hist_policies[] = {
	{ "Sync All, Expunge None", 0 },
	{ "Sync All, Expunge Both", SYNC_EXPUNGE_SIDE(SIDE_FAR) |
	    SYNC_EXPUNGE_SIDE(SIDE_NEAR) },
	{ "Sync All, Expunge Near", SYNC_EXPUNGE_SIDE(SIDE_NEAR) },
	{ "Sync All, Expunge Far", SYNC_EXPUNGE_SIDE(SIDE_FAR) },
};
#define NHIST_POLICIES (sizeof(hist_policies) / sizeof(hist_policies[0]))

/* What all histories did, so that the test cannot pass vacuously. */
struct hist_cov {
	unsigned long syncs;
	unsigned long scans, changes;	/* per side and sync */
	unsigned long changes_carrying;	/* a skipped side's flags moved */
	unsigned long qresync_moved;	/* skipped although mail came/went */
	unsigned long checkpoints, identical;
	unsigned long delivered, flagged, removed, renumbered;	/* user */
	unsigned long faulty, faulty_failed;	/* syncs with a fault */
	unsigned long refused;	/* syncs failed by an update()'s refusal */
	unsigned long stamp_skips;	/* a stamp side not listed */
	unsigned long same_granule;	/* a user's change to a coarse
					   stamp side in the granule of
					   the last sync */
	unsigned long skips;		/* syncs that opened neither side */
	unsigned long policy_changes;
};

struct history {
	uint64_t seed;
	unsigned index;
	struct tl_rng rng;
	const struct hist_policy *policy;
	int modseqs[2];			/* side reports HIGHESTMODSEQ */
	enum memstore_stamp stamps[2];	/* side reports a stamp */
	struct tl_rng ticks;		/* when a coarse clock moves on */
	int ticked;			/* since the last sync */
	int peek;			/* both stores answer peek() */
	int policy_changed;		/* Expunge changed at least once */
	int qresync[2];			/* side answers as QRESYNC does */
	struct fixture fx;
	unsigned nmsgs;			/* messages delivered so far */
	unsigned renumbered;		/* UIDVALIDITY changes so far */
	unsigned char removed[HIST_MAX_MSGS];	/* by the user, some side */
	unsigned char deleted[HIST_MAX_MSGS];	/* user gave it \Deleted */
	struct buf log;			/* the actions, for a failure */
	struct hist_cov *cov;
};

/* Fail the test naming the seed and history; the action log that led
 * there goes to stderr. */
static _Noreturn void
hist_fail(struct history *h, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "known: FAILED: seed %" PRIu64 " history %u (%s): "
	    "%s\nknown: action log:\n%s", h->seed, h->index, h->policy->name,
	    why, buf_cstr(&h->log));
	ck_abort_msg("seed %" PRIu64 " history %u: %s (action log on "
	    "stderr)", h->seed, h->index, why);
}

/* The open mailbox of side s, by a scan with no hint. */
static void
hist_list(struct history *h, enum side s, struct msg_list *l)
{
	struct store *st = h->fx.store[s];
	struct mbox_status status;

	memset(l, 0, sizeof(*l));
	if (st->ops->open(st, "INBOX", &status, &h->fx.err) != 0 ||
	    st->ops->scan(st, NULL, l, &h->fx.err) != 0)
		hist_fail(h, "listing %s: %s", side_names[s],
		    buf_cstr(&h->fx.err));
}

/* Which delivery a message of side s is, from its body, which must be
 * exactly what the test wrote. */
static unsigned
hist_msg_number(struct history *h, enum side s, uint32_t uid)
{
	const char *body = memstore_body(h->fx.store[s], "INBOX", uid);
	char want[128];
	unsigned m = 0;

	if (body == NULL || sscanf(body, "Message-ID: <m%u@", &m) != 1 ||
	    m >= h->nmsgs)
		hist_fail(h, "%s UID %u: no body this test wrote",
		    side_names[s], uid);
	snprintf(want, sizeof(want), HIST_MSG_FORMAT, m, m);
	if (strcmp(body, want) != 0)
		hist_fail(h, "%s UID %u: body of m%u altered",
		    side_names[s], uid, m);
	return m;
}

/* A user's change to side s; one to a coarse stamp side in the granule
 * of the last sync is the race the stamp rule must not lose. */
static void
hist_changed(struct history *h, enum side s)
{
	if (h->stamps[s] == MEMSTORE_STAMP_COARSE && !h->ticked)
		h->cov->same_granule++;
}

/* Half the syncs of a history with a coarse clock come a granule later
 * than the last one, the others within it. */
static void
hist_maybe_tick(struct history *h)
{
	h->ticked = 0;
	if (tl_rng_below(&h->ticks, 2) == 0)
		return;
	for (int s = 0; s < 2; s++)
		memstore_tick(h->fx.store[s]);
	h->ticked = 1;
}

static unsigned
random_flags(struct history *h)
{
	return tl_rng_below(&h->rng, 1u << MSG_FLAG_COUNT);
}

static void
act_deliver(struct history *h, enum side s)
{
	char body[128];
	unsigned flags = random_flags(h);
	uint32_t uid;

	if (h->nmsgs == HIST_MAX_MSGS)
		return;
	snprintf(body, sizeof(body), HIST_MSG_FORMAT, h->nmsgs, h->nmsgs);
	uid = memstore_deliver(h->fx.store[s], "INBOX", body, flags);
	hist_changed(h, s);
	h->deleted[h->nmsgs] = (flags & MSG_DELETED) != 0;
	h->cov->delivered++;
	buf_addf(&h->log, "  deliver m%u to %s as UID %u, flags %x\n",
	    h->nmsgs, side_names[s], uid, flags);
	h->nmsgs++;
}

/* Set the flags of, or remove, a random message of side s. */
static void
act_touch(struct history *h, enum side s, int remove)
{
	struct msg_list l;
	uint32_t uid;
	unsigned m, flags;

	hist_list(h, s, &l);
	if (l.n == 0) {
		msg_list_free(&l);
		return;
	}
	uid = l.v[tl_rng_below(&h->rng, (unsigned)l.n)].uid;
	msg_list_free(&l);
	m = hist_msg_number(h, s, uid);
	hist_changed(h, s);
	if (remove) {
		if (memstore_remove(h->fx.store[s], "INBOX", uid) != 0)
			hist_fail(h, "cannot remove %s UID %u",
			    side_names[s], uid);
		h->removed[m] = 1;
		h->cov->removed++;
		buf_addf(&h->log, "  remove m%u (%s UID %u)\n", m,
		    side_names[s], uid);
		return;
	}
	flags = random_flags(h);
	if (memstore_set(h->fx.store[s], "INBOX", uid, flags) != 0)
		hist_fail(h, "cannot flag %s UID %u", side_names[s], uid);
	if (flags & MSG_DELETED)
		h->deleted[m] = 1;
	h->cov->flagged++;
	buf_addf(&h->log, "  flags of m%u (%s UID %u) := %x\n", m,
	    side_names[s], uid, flags);
}

/* The server lost its UIDs (a restore, a rebuilt index): a new
 * UIDVALIDITY, messages renumbered from 1. */
static void
act_renumber(struct history *h, enum side s)
{
	uint32_t uidvalidity = 1000 + h->renumbered++;

	memstore_reset_uids(h->fx.store[s], "INBOX", uidvalidity);
	hist_changed(h, s);
	h->cov->renumbered++;
	buf_addf(&h->log, "  renumber %s, UIDVALIDITY %u\n", side_names[s],
	    uidvalidity);
}

/* A sync with a fault: a message one side cannot read, the answers of a
 * commit lost past the first few, an APPEND that drops flags, the state
 * and journal lost first, or an update() that refuses one of its flag
 * changes (the others and the expunge go on). It may fail; the faults are then
 * cleared, and the next checkpoint must converge all the same. */
static void
act_faulty_sync(struct history *h, enum side s)
{
	struct fixture *fx = &h->fx;
	unsigned kind = tl_rng_below(&h->rng, 6);
	struct msg_list l;
	uint32_t uid = 0;
	int rc;

	hist_list(h, s, &l);
	if (l.n > 0)
		uid = l.v[tl_rng_below(&h->rng, (unsigned)l.n)].uid;
	msg_list_free(&l);
	if (kind == 0 || kind == 2)
		memstore_fail_fetch(fx->store[s], uid);
	if (kind == 1 || kind == 2)
		memstore_lose_answers_after(fx->store[!s],
		    1 + tl_rng_below(&h->rng, 3));
	if (kind == 3)
		memstore_drop_flags(fx->store[!s], 1);
	if (kind == 4) {
		unlink(fx->paths.state);
		unlink(fx->paths.journal);
	}
	/* Refused by an update(): mostly the first change, else the
	 * second (a sync seldom has more than one). */
	for (int t = 0; kind == 5 && t < 2; t++)
		memstore_refuse_change(fx->store[t],
		    1 + (tl_rng_below(&h->rng, 4) == 0));
	buf_reset(&fx->err);
	buf_reset(&fx->log);
	rc = sync_mailbox(&fx->job, &fx->stats, &fx->err);
	h->cov->faulty++;
	h->cov->faulty_failed += rc != 0;
	h->cov->refused += rc != 0 &&
	    strstr(buf_cstr(&fx->err), "flag change") != NULL;
	buf_addf(&h->log, "  faulty sync (kind %u, %s UID %u): %s\n", kind,
	    side_names[s], uid, rc == 0 ? "ok" : buf_cstr(&fx->err));
	for (int t = 0; t < 2; t++) {
		memstore_fail_fetch(fx->store[t], 0);
		memstore_lose_answers_after(fx->store[t], 0);
		memstore_drop_flags(fx->store[t], 0);
		memstore_refuse_change(fx->store[t], 0);
	}
}

/* The user edits the channel: another Expunge. Marks earned under the
 * old policy must not let the next sync skip the pair (\Deleted copies
 * that Expunge Both now removes would stay). */
static void
act_policy(struct history *h)
{
	h->policy = &hist_policies[tl_rng_below(&h->rng, NHIST_POLICIES)];
	h->policy_changed |= h->fx.policy.expunge != h->policy->expunge;
	h->fx.policy.expunge = h->policy->expunge;
	h->cov->policy_changes++;
	buf_addf(&h->log, "  policy: %s\n", h->policy->name);
}

/*
 * The oracle of a skip: the pair was really as its state says. Each side
 * holds exactly the pairs' messages with the pairs' flags, no copy is
 * pending, and the state was written under the policy of this sync.
 */
static void
hist_check_skip(struct history *h)
{
	struct sync_state st;

	load_state(&h->fx, &st);
	if (st.nintents != 0 ||
	    st.policy != sync_policy_digest(&h->fx.policy))
		hist_fail(h, "skipped a pair with pending copies or another "
		    "policy");
	for (int s = 0; s < 2; s++) {
		struct store *store = h->fx.store[s];
		struct mbox_status now;
		struct msg_list l;

		if (store->ops->open(store, "INBOX", &now, &h->fx.err) != 0)
			hist_fail(h, "open: %s", buf_cstr(&h->fx.err));
		hist_list(h, (enum side)s, &l);
		if (now.uidvalidity != st.uidvalidity[s] ||
		    !plan_side_settled(&st, &l, (enum side)s, NULL))
			hist_fail(h, "skipped a pair whose %s side is not "
			    "what its state says", side_names[s]);
		msg_list_free(&l);
	}
	state_free(&st);
}

static struct exec_stats
hist_sync(struct history *h, struct scans *d)
{
	struct memstore_calls before[2], after;
	struct fixture *fx = &h->fx;

	for (int s = 0; s < 2; s++)
		before[s] = memstore_calls(fx->store[s]);
	hist_maybe_tick(h);
	buf_reset(&fx->err);
	buf_reset(&fx->log);
	if (sync_mailbox(&fx->job, &fx->stats, &fx->err) != 0)
		hist_fail(h, "sync failed: %s", buf_cstr(&fx->err));
	d->skipped = 1;
	for (int s = 0; s < 2; s++) {
		after = memstore_calls(fx->store[s]);
		d->skipped &= after.open == before[s].open;
		d->scan[s] = after.scan - before[s].scan;
		d->changes[s] = after.scan_changes - before[s].scan_changes;
	}
	if (d->skipped && !h->peek)
		hist_fail(h, "a sync opened neither side without peek()");
	if (d->skipped)
		hist_check_skip(h);
	h->cov->skips += d->skipped;
	for (int s = 0; s < 2; s++) {
		if (d->scan[s] + d->changes[s] != !d->skipped)
			hist_fail(h, "%s: %u scans and %u scan_changes in one "
			    "sync", side_names[s], d->scan[s],
			    d->changes[s]);
		if (d->changes[s] > 0 && fx->stats.flagged[!s] > 0)
			h->cov->changes_carrying++;
		h->cov->scans += d->scan[s];
		h->cov->changes += d->changes[s];
		if (h->stamps[s])
			h->cov->stamp_skips += d->changes[s];
		after = memstore_calls(fx->store[s]);
		h->cov->qresync_moved += after.qresync_moved -
		    before[s].qresync_moved;
	}
	h->cov->syncs++;
	buf_addf(&h->log, "  sync%s: far %s, near %s; copied %zu/%zu, flagged "
	    "%zu/%zu, expunged %zu/%zu (far/near)\n",
	    h->ticked ? " (a granule later)" : "",
	    d->skipped ? "skipped" : d->changes[SIDE_FAR] ? "changes" : "scan",
	    d->skipped ? "skipped" : d->changes[SIDE_NEAR] ? "changes" :
	    "scan",
	    fx->stats.copied[SIDE_FAR], fx->stats.copied[SIDE_NEAR],
	    fx->stats.flagged[SIDE_FAR], fx->stats.flagged[SIDE_NEAR],
	    fx->stats.expunged[SIDE_FAR], fx->stats.expunged[SIDE_NEAR]);
	return fx->stats;
}

/* A sync that must do nothing at all: no operation, no store call. */
static void
hist_sync_idle(struct history *h, const char *what, struct scans *d)
{
	struct memstore_calls before[2], after;
	struct exec_stats st;

	for (int s = 0; s < 2; s++)
		before[s] = memstore_calls(h->fx.store[s]);
	st = hist_sync(h, d);
	if (stats_total(&st) != 0)
		hist_fail(h, "%s sync did something", what);
	for (int s = 0; s < 2; s++) {
		after = memstore_calls(h->fx.store[s]);
		if (after.set_flags != before[s].set_flags ||
		    after.expunge != before[s].expunge ||
		    after.commit != before[s].commit)
			hist_fail(h, "%s sync changed %s", what,
			    side_names[s]);
	}
}

/* flags[m] per side, -1 where absent; no body twice on a side. */
static void
hist_contents(struct history *h, int flags[2][HIST_MAX_MSGS])
{
	for (int s = 0; s < 2; s++) {
		struct msg_list l;

		for (unsigned m = 0; m < HIST_MAX_MSGS; m++)
			flags[s][m] = -1;
		hist_list(h, (enum side)s, &l);
		for (size_t i = 0; i < l.n; i++) {
			unsigned m = hist_msg_number(h, (enum side)s,
			    l.v[i].uid);

			if (flags[s][m] != -1)
				hist_fail(h, "m%u twice on %s", m,
				    side_names[s]);
			flags[s][m] = (int)l.v[i].flags;
		}
		msg_list_free(&l);
	}
}

/*
 * After a converging sync: both sides hold the same messages (bodies)
 * with the same flags, but for those the user removed on one side or
 * marked \Deleted, which the policy may leave on one side (Expunge on
 * both sides leaves neither) or on none. Nothing else is lost. Returns
 * 1 if the sides are identical.
 */
static int
hist_check_contents(struct history *h)
{
	int flags[2][HIST_MAX_MSGS];
	int expunge_both = h->policy->expunge == (SYNC_EXPUNGE_SIDE(SIDE_FAR) |
	    SYNC_EXPUNGE_SIDE(SIDE_NEAR));
	int identical = 1;

	hist_contents(h, flags);
	for (unsigned m = 0; m < h->nmsgs; m++) {
		int f = flags[SIDE_FAR][m], n = flags[SIDE_NEAR][m];

		if (f != -1 && n != -1) {
			if (f != n)
				hist_fail(h, "m%u: flags %x on far, %x on "
				    "near", m, f, n);
			if (expunge_both && (f & MSG_DELETED))
				hist_fail(h, "m%u: \\Deleted on both sides, "
				    "Expunge Both", m);
			continue;
		}
		if (f == -1 && n == -1) {
			if (!h->removed[m] && !h->deleted[m])
				hist_fail(h, "m%u lost on both sides", m);
			continue;
		}
		identical = 0;
		/* What an earlier policy left on one side (a survivor whose
		 * \Deleted the user took back) stays there. */
		if ((expunge_both && !h->policy_changed) ||
		    (!h->removed[m] && !h->deleted[m]))
			hist_fail(h, "m%u only on %s", m,
			    f != -1 ? "far" : "near");
	}
	return identical;
}

/* One sync to converge, two that must do nothing, the last of them
 * without even writing the state file; then what the sides hold. */
static void
hist_checkpoint(struct history *h)
{
	struct scans d;
	char *before, *after;

	buf_adds(&h->log, "  checkpoint:\n");
	hist_sync(h, &d);
	/* The second sync comes a granule later (stamps need it). */
	for (int s = 0; s < 2; s++)
		memstore_tick(h->fx.store[s]);
	hist_sync_idle(h, "second", &d);
	before = tl_read_file(h->fx.paths.state, NULL);
	hist_sync_idle(h, "third", &d);
	after = tl_read_file(h->fx.paths.state, NULL);
	if (strcmp(before, after) != 0)
		hist_fail(h, "third sync wrote the state file");
	free(before);
	free(after);
	h->cov->checkpoints++;
	if (!hist_check_contents(h))
		return;
	h->cov->identical++;
	/* Identical sides: every message is paired, with its flags, so the
	 * second sync settled every side that reports modification
	 * sequences or a stamp (its clock moved on first), and the third
	 * scanned none of them; with peek() on both, it opened neither. */
	if (h->peek && (h->modseqs[SIDE_FAR] || h->stamps[SIDE_FAR]) &&
	    (h->modseqs[SIDE_NEAR] || h->stamps[SIDE_NEAR])) {
		if (!d.skipped)
			hist_fail(h, "third sync opened a pair both of whose "
			    "sides are settled");
		return;
	}
	for (int s = 0; s < 2; s++) {
		int marks = h->modseqs[s] || h->stamps[s];

		if (marks && d.changes[s] != 1)
			hist_fail(h, "third sync scanned settled %s in full",
			    side_names[s]);
		if (!marks && d.changes[s] != 0)
			hist_fail(h, "scan_changes on %s, which has neither "
			    "modification sequences nor a stamp",
			    side_names[s]);
	}
}

static void
run_history(const char *base, uint64_t seed, unsigned index,
    struct hist_cov *cov)
{
	struct history h;
	char *dir;
	char name[32];
	struct scans d;
	unsigned syncs = 0;

	memset(&h, 0, sizeof(h));
	h.seed = seed;
	h.index = index;
	h.cov = cov;
	h.rng.state = seed ^ (0xd1b54a32d192ed03ULL * (index + 1));
	h.policy = &hist_policies[(index / 2) % NHIST_POLICIES];
	snprintf(name, sizeof(name), "h%u", index);
	dir = tl_path(base, name);
	tl_mkdirs(dir);
	fx_init_in(&h.fx, dir);
	h.fx.lg.level = LOG_NORMAL;
	h.fx.policy.expunge = h.policy->expunge;
	/* A history may delete most of a side at once; the guard (tested in
	 * check_plan) stays out of its way. */
	h.fx.policy.guard_wiped_over = HIST_MAX_MSGS;
	/* Some near sides like an IMAP server (no UID known before an
	 * append); some without modification sequences at all. */
	if (index % 2 == 1)
		memstore_plan_uids(h.fx.store[SIDE_NEAR], 0);
	/* Some sides take flag changes and expunges as one update(), as
	 * an IMAP store does: far, near, or both. */
	if (index % 3 != 2)
		memstore_updates(h.fx.store[index % 3 == 0 ? SIDE_FAR :
		    SIDE_NEAR], 1);
	if (index % 5 == 4)
		memstore_updates(h.fx.store[SIDE_FAR], 1);
	h.modseqs[SIDE_FAR] = h.modseqs[SIDE_NEAR] = 1;
	if (index % 7 == 6) {
		h.modseqs[SIDE_NEAR] = 0;
		memstore_modseqs(h.fx.store[SIDE_NEAR], 0);
	}
	/* Some sides like a Maildir: a stamp instead (a truthful one, or a
	 * coarse one on a clock that moves on at random). */
	h.ticks.state = seed ^ (0x9e3779b97f4a7c15ULL * (index + 7));
	if (index % 6 == 3)
		h.stamps[SIDE_NEAR] = MEMSTORE_STAMP_TRUE;
	if (index % 6 == 4)
		h.stamps[SIDE_NEAR] = MEMSTORE_STAMP_COARSE;
	if (index % 10 == 9)
		h.stamps[SIDE_FAR] = MEMSTORE_STAMP_COARSE;
	for (int s = 0; s < 2; s++) {
		if (!h.stamps[s])
			continue;
		h.modseqs[s] = 0;
		memstore_modseqs(h.fx.store[s], 0);
		memstore_stamps(h.fx.store[s], h.stamps[s]);
	}
	/* Most histories peek: a quiet pair is then not even opened, and
	 * the checkpoints prove that a skipped pair was really in sync. */
	if (index % 3 != 2) {
		h.peek = 1;
		memstore_peek(h.fx.store[SIDE_FAR], 1);
		memstore_peek(h.fx.store[SIDE_NEAR], 1);
	}
	/* Most far sides and some near ones answer as QRESYNC servers; the
	 * rest keep the CONDSTORE rule. */
	h.qresync[SIDE_FAR] = h.modseqs[SIDE_FAR] && index % 3 != 0;
	h.qresync[SIDE_NEAR] = h.modseqs[SIDE_NEAR] && index % 3 == 1;
	for (int s = 0; s < 2; s++)
		memstore_qresync(h.fx.store[s], h.qresync[s]);
	for (int step = 0; step < HIST_STEPS; step++) {
		unsigned r = tl_rng_below(&h.rng, 100);
		enum side s = (enum side)tl_rng_below(&h.rng, 2);

		if (r < 30) {
			act_deliver(&h, s);
		} else if (r < 55) {
			act_touch(&h, s, 0);
		} else if (r < 66) {
			act_touch(&h, s, 1);
		} else if (r < 68) {
			act_renumber(&h, s);
		} else if (r < 76) {
			act_faulty_sync(&h, s);
		} else {
			if (tl_rng_below(&h.rng, 8) == 0)
				act_policy(&h);
			hist_sync(&h, &d);
			if (++syncs % 5 == 0)
				hist_checkpoint(&h);
		}
	}
	hist_checkpoint(&h);
	fx_release(&h.fx);
	tl_rmtree(dir);
	free(dir);
	buf_free(&h.log);
}

static const uint64_t hist_seeds[HIST_SEEDS] = { 1, 20260101, 977 };

START_TEST(test_random_histories)
{
	struct hist_cov cov;
	char *base = tl_mkdtemp("known-hist");

	memset(&cov, 0, sizeof(cov));
	for (unsigned k = 0; k < HIST_SEEDS; k++)
		for (unsigned i = 0; i < HIST_PER_SEED; i++)
			run_history(base, hist_seeds[k], i, &cov);
	printf("known: %u histories, %lu syncs: %lu full scans, %lu "
	    "scan_changes (%lu carrying flag changes, %lu with messages come "
	    "or gone); %lu checkpoints, %lu "
	    "with identical sides; user: %lu deliveries, %lu flag changes, "
	    "%lu removals, %lu renumberings, %lu policy changes; %lu syncs "
	    "with a fault, %lu of them failed, %lu by a refused flag change; "
	    "%lu syncs opened neither side; %lu stamp sides not listed, %lu "
	    "changes in the granule of the last sync\n",
	    HIST_SEEDS * HIST_PER_SEED,
	    cov.syncs, cov.scans, cov.changes, cov.changes_carrying,
	    cov.qresync_moved,
	    cov.checkpoints, cov.identical, cov.delivered, cov.flagged,
	    cov.removed, cov.renumbered, cov.policy_changes, cov.faulty,
	    cov.faulty_failed, cov.refused, cov.skips, cov.stamp_skips,
	    cov.same_granule);
	/* The coverage the test claims: at least a quarter of the sides
	 * synced skipped their scan, many of those skips brought flag
	 * changes, and the third sync of many checkpoints was checked to
	 * scan nothing. */
	ck_assert_uint_ge(cov.changes, cov.syncs / 2);
	ck_assert_uint_ge(cov.changes_carrying, 100);
	ck_assert_uint_ge(cov.qresync_moved, 300);
	ck_assert_uint_ge(cov.identical, cov.checkpoints / 4);
	ck_assert_uint_ge(cov.renumbered, 50);
	ck_assert_uint_ge(cov.faulty_failed, 20);
	ck_assert_uint_ge(cov.refused, 5);
	ck_assert_uint_ge(cov.stamp_skips, 100);
	ck_assert_uint_ge(cov.same_granule, 100);
	ck_assert_uint_ge(cov.skips, cov.checkpoints / 4);
	ck_assert_uint_ge(cov.policy_changes, 50);
	tl_rmtree(base);
	free(base);
}
END_TEST

static Suite *
known_suite(void)
{
	Suite *s = suite_create("known");
	TCase *pure = tcase_create("pure");
	TCase *drv = tcase_create("driver");
	TCase *hist = tcase_create("histories");

	tcase_add_loop_test(pure, test_side_settled, 0, 2);
	tcase_add_loop_test(pure, test_known_scan_fills_known, 0, 2);
	tcase_add_loop_test(pure, test_known_scan_refusals, 0, 2 * REF_COUNT);
	tcase_add_loop_test(pure, test_known_scan_qresync, 0, 2 * QR_CASES);
	tcase_add_loop_test(pure, test_known_scan_too_big_record, 0, 2);
	tcase_add_loop_test(pure, test_pair_quiet, 0, 16);
	tcase_add_test(pure, test_pair_quiet_needs_policy);
	tcase_add_test(pure, test_policy_digest);
	suite_add_tcase(s, pure);
	tcase_add_test(drv, test_noop_syncs_skip_scans);
	tcase_add_test(drv, test_copies_both_ways);
	tcase_add_test(drv, test_flag_change_without_scan);
	tcase_add_test(drv, test_expunge_forces_scan);
	tcase_add_test(drv, test_expunge_propagated);
	tcase_add_test(drv, test_delivery_forces_scan);
	tcase_add_test(drv, test_arrival_during_scan_earns_no_mark);
	tcase_add_loop_test(drv, test_no_modseqs_no_changes, 0, 2);
	tcase_add_test(drv, test_too_big_keeps_scanning);
	tcase_add_test(drv, test_stamp_side_skips_listing);
	tcase_add_test(drv, test_empty_message_settles);
	tcase_add_test(drv, test_empty_message_no_journal);
	tcase_add_test(drv, test_damaged_body_not_skipped);
	suite_add_tcase(s, drv);
	tcase_set_timeout(hist, 300);
	tcase_add_test(hist, test_random_histories);
	suite_add_tcase(s, hist);
	return s;
}

int
main(void)
{
	return run_suite(known_suite());
}
