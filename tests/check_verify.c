/* Unit tests: comparing two sides by content (sync/verify.c), each side
 * read from an in-memory store through verify_read_side(). */
#include <stdlib.h>
#include <string.h>

#include "support/memstore.h"
#include "support/testlib.h"
#include "sync/fingerprint.h"
#include "sync/verify.h"
#include "sync/verify_read.h"

#define MSG_A "Message-ID: <a@t>\r\nSubject: a\r\n\r\nbody a\r\n"
#define MSG_B "Message-ID: <b@t>\r\nSubject: b\r\n\r\nbody b\r\n"
#define MSG_C "Message-ID: <c@t>\r\nSubject: c\r\n\r\nbody c\r\n"

struct two {
	struct store *st[2];
	struct verify_side side[2];
	struct verify_result res;
};

static void
two_init(struct two *t)
{
	memset(t, 0, sizeof(*t));
	t->st[0] = memstore_new(1);
	t->st[1] = memstore_new(2);
}

static void
put(struct two *t, enum side s, const char *msg, unsigned flags)
{
	memstore_deliver(t->st[s], "INBOX", msg, flags);
}

/* Both sides read and compared. */
static void
compare(struct two *t, int sizes)
{
	struct buf err = BUF_INIT;

	for (int s = 0; s < 2; s++)
		ck_assert_msg(verify_read_side(t->st[s], "INBOX", sizes,
		    &t->side[s], &err) == 0, "%s", buf_cstr(&err));
	verify_compare(t->side, sizes, &t->res);
	buf_free(&err);
}

static void
two_free(struct two *t)
{
	verify_result_free(&t->res);
	for (int s = 0; s < 2; s++) {
		verify_side_free(&t->side[s]);
		t->st[s]->ops->free(t->st[s]);
	}
}

/* Difference i is of kind on side, about the message with uid there. */
static void
assert_diff(const struct two *t, size_t i, enum verify_diff_kind kind,
    enum side side, uint32_t uid)
{
	const struct verify_diff *d;

	ck_assert_uint_lt(i, t->res.ndiff);
	d = &t->res.v[i];
	ck_assert_int_eq(d->kind, kind);
	ck_assert_int_eq(d->side, side);
	ck_assert_uint_eq(t->side[side].v[d->a[side]].uid, uid);
}

START_TEST(test_agree)
{
	struct two t;

	two_init(&t);
	put(&t, SIDE_FAR, MSG_A, MSG_SEEN);
	put(&t, SIDE_FAR, MSG_B, 0);
	put(&t, SIDE_NEAR, MSG_B, 0);
	put(&t, SIDE_NEAR, MSG_A, MSG_SEEN);
	compare(&t, 0);
	ck_assert_uint_eq(t.res.n[SIDE_FAR], 2);
	ck_assert_uint_eq(t.res.n[SIDE_NEAR], 2);
	ck_assert_uint_eq(t.res.both, 2);
	ck_assert_uint_eq(t.res.ndiff, 0);
	two_free(&t);
}
END_TEST

START_TEST(test_missing_either_side)
{
	struct two t;

	two_init(&t);
	put(&t, SIDE_FAR, MSG_A, 0);	/* far 1 */
	put(&t, SIDE_FAR, MSG_B, 0);	/* far 2 */
	put(&t, SIDE_NEAR, MSG_B, 0);	/* near 1 */
	put(&t, SIDE_NEAR, MSG_C, 0);	/* near 2 */
	compare(&t, 0);
	ck_assert_uint_eq(t.res.both, 1);
	ck_assert_uint_eq(t.res.ndiff, 2);
	assert_diff(&t, 0, VD_ONLY, SIDE_FAR, 1);
	assert_diff(&t, 1, VD_ONLY, SIDE_NEAR, 2);
	two_free(&t);
}
END_TEST

/* Two copies against one: one pair and an extra copy. Two against none:
 * both on their side only. */
START_TEST(test_duplicates)
{
	struct two t;

	two_init(&t);
	put(&t, SIDE_FAR, MSG_A, 0);
	put(&t, SIDE_NEAR, MSG_A, 0);
	put(&t, SIDE_NEAR, MSG_A, 0);
	put(&t, SIDE_FAR, MSG_B, 0);
	put(&t, SIDE_FAR, MSG_B, 0);
	compare(&t, 0);
	ck_assert_uint_eq(t.res.n[SIDE_FAR], 3);
	ck_assert_uint_eq(t.res.n[SIDE_NEAR], 2);
	ck_assert_uint_eq(t.res.both, 1);
	ck_assert_uint_eq(t.res.ndiff, 3);
	assert_diff(&t, 0, VD_ONLY, SIDE_FAR, 2);
	assert_diff(&t, 1, VD_ONLY, SIDE_FAR, 3);
	assert_diff(&t, 2, VD_EXTRA, SIDE_NEAR, 2);
	two_free(&t);
}
END_TEST

START_TEST(test_flag_difference)
{
	struct two t;
	const struct verify_diff *d;

	two_init(&t);
	put(&t, SIDE_FAR, MSG_A, MSG_SEEN);
	put(&t, SIDE_NEAR, MSG_C, 0);
	put(&t, SIDE_NEAR, MSG_A, MSG_SEEN | MSG_FLAGGED);
	put(&t, SIDE_FAR, MSG_C, 0);
	compare(&t, 0);
	ck_assert_uint_eq(t.res.both, 2);
	ck_assert_uint_eq(t.res.ndiff, 1);
	assert_diff(&t, 0, VD_FLAGS, SIDE_FAR, 1);
	d = &t.res.v[0];
	ck_assert_uint_eq(t.side[SIDE_NEAR].v[d->a[SIDE_NEAR]].uid, 2);
	ck_assert_uint_eq(t.side[SIDE_NEAR].v[d->a[SIDE_NEAR]].flags,
	    MSG_SEEN | MSG_FLAGGED);
	two_free(&t);
}
END_TEST

/* Without a Message-ID the whole header decides: an equal header pairs
 * (bodies are not read), another header is another message. */
START_TEST(test_no_message_id)
{
	struct two t;

	two_init(&t);
	put(&t, SIDE_FAR, "Subject: x\r\n\r\nbody\r\n", 0);
	put(&t, SIDE_NEAR, "Subject: x\r\n\r\nbody\r\n", 0);
	put(&t, SIDE_FAR, "Subject: y\r\n\r\nbody\r\n", 0);
	put(&t, SIDE_NEAR, "Subject: z\r\n\r\nbody\r\n", 0);
	compare(&t, 0);
	ck_assert_uint_eq(t.res.both, 1);
	ck_assert_uint_eq(t.res.ndiff, 2);
	assert_diff(&t, 0, VD_ONLY, SIDE_FAR, 2);
	assert_diff(&t, 1, VD_ONLY, SIDE_NEAR, 2);
	ck_assert_str_eq(t.side[SIDE_FAR].v[1].msgid, "");
	ck_assert_str_eq(t.side[SIDE_FAR].v[1].subject, "y");
	two_free(&t);
}
END_TEST

/* One Message-ID, another header: a content difference, not two
 * one-sided messages and not a pair. */
START_TEST(test_same_message_id_other_content)
{
	struct two t;

	two_init(&t);
	put(&t, SIDE_FAR, "Message-ID: <1@t>\r\nSubject: a\r\n\r\nx\r\n", 0);
	put(&t, SIDE_NEAR, "Message-ID: <1@t>\r\nSubject: b\r\n\r\nx\r\n", 0);
	compare(&t, 0);
	ck_assert_uint_eq(t.res.both, 0);
	ck_assert_uint_eq(t.res.ndiff, 1);
	ck_assert_int_eq(t.res.v[0].kind, VD_CONTENT);
	ck_assert_uint_eq(t.side[SIDE_FAR].v[t.res.v[0].a[SIDE_FAR]].uid, 1);
	ck_assert_uint_eq(t.side[SIDE_NEAR].v[t.res.v[0].a[SIDE_NEAR]].uid, 1);
	two_free(&t);
}
END_TEST

/* Sizes count only when asked: an equal header with another body. */
START_TEST(test_sizes_when_asked)
{
	struct two t;

	for (int sizes = 0; sizes < 2; sizes++) {
		two_init(&t);
		put(&t, SIDE_FAR, "Message-ID: <1@t>\r\n\r\nshort\r\n", 0);
		put(&t, SIDE_NEAR, "Message-ID: <1@t>\r\n\r\nlonger body\r\n",
		    0);
		compare(&t, sizes);
		ck_assert_uint_eq(t.res.both, sizes ? 0 : 1);
		ck_assert_uint_eq(t.res.ndiff, sizes ? 1 : 0);
		if (sizes)
			ck_assert_int_eq(t.res.v[0].kind, VD_CONTENT);
		two_free(&t);
	}
}
END_TEST

/* The read: headers only, nothing written, the key is the fingerprint's
 * hash (a header without its empty line read whole), the fields for the
 * report unfolded and cleaned. */
START_TEST(test_read_headers_only)
{
	static const char folded[] = "Date: Mon, 1 Jan 2024 10:00:00 "
	    "+0000\r\nFrom: A\x01 <a@t>\r\nSubject: one\r\n two\tthree\r\n"
	    "Message-ID:\r\n <f@t>\r\n\r\nbody\r\n";
	static const char headonly[] = "Message-ID: <h@t>\r\nSubject: h\r\n";
	struct store *s = memstore_new(1);
	struct verify_side side = { 0 };
	struct memstore_calls c;
	struct buf err = BUF_INIT;

	memstore_deliver(s, "INBOX", folded, MSG_SEEN);
	memstore_deliver(s, "INBOX", headonly, 0);
	ck_assert_msg(verify_read_side(s, "INBOX", 0, &side, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_uint_eq(side.n, 2);
	ck_assert_int_eq(side.v[0].have, 1);
	ck_assert_str_eq(side.v[0].subject, "one two three");
	ck_assert_str_eq(side.v[0].msgid, "<f@t>");
	ck_assert_str_eq(side.v[1].subject, "h");
	ck_assert_str_eq(side.v[0].from, "A? <a@t>");
	ck_assert_str_eq(side.v[0].date, "Mon, 1 Jan 2024 10:00:00 +0000");
	ck_assert_uint_eq(side.v[0].flags, MSG_SEEN);
	ck_assert_uint_eq(side.v[0].key,
	    fingerprint_of(folded, strlen(folded)).hash);
	ck_assert_uint_eq(side.v[1].key,
	    fingerprint_of(headonly, strlen(headonly)).hash);
	c = memstore_calls(s);
	ck_assert_uint_eq(c.headers, 2);
	ck_assert_uint_eq(c.fetched, 1);	/* the header-only one */
	ck_assert_uint_eq(c.set_flags + c.expunge + c.commit, 0);
	verify_side_free(&side);
	s->ops->free(s);
	buf_free(&err);
}
END_TEST

static Suite *
verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_agree);
	tcase_add_test(tc, test_missing_either_side);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_flag_difference);
	tcase_add_test(tc, test_no_message_id);
	tcase_add_test(tc, test_same_message_id_other_content);
	tcase_add_test(tc, test_sizes_when_asked);
	tcase_add_test(tc, test_read_headers_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(verify_suite());
}
