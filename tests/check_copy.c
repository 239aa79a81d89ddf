/* Unit tests: streaming batch copy between stores (sync/copy.c). */
#include <string.h>

#include "store.h"
#include "support/memstore.h"
#include "support/testlib.h"
#include "sync/copy.h"

struct hook_log {
	struct buf events;
	int fail_planned_at;	/* -1: never */
};

static int
on_planned(void *ctx, size_t index, uint32_t planned,
    const struct fingerprint *fp, struct buf *err)
{
	struct hook_log *h = ctx;

	buf_addf(&h->events, "planned %zu %u size %llu;", index, planned,
	    (unsigned long long)fp->size);
	if ((int)index == h->fail_planned_at) {
		buf_setf(err, "journal full");
		return -1;
	}
	return 0;
}

static int
on_before_commit(void *ctx, struct buf *err)
{
	struct hook_log *h = ctx;

	(void)err;
	buf_adds(&h->events, "commit;");
	return 0;
}

START_TEST(test_copy_batch_with_vanished_message)
{
	struct store *a = memstore_new(7), *b = memstore_new(9);
	struct mbox_status st;
	struct buf err = BUF_INIT;
	struct hook_log h = { BUF_INIT, -1 };
	struct copy_hooks hooks = { on_planned, on_before_commit, &h, NULL };
	uint32_t uids[3], results[3];
	unsigned flags[3] = { MSG_SEEN, 0, MSG_FLAGGED };
	int status[3];
	struct buf why[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct copy_batch batch = { uids, flags, 3, results, status, why };

	uids[0] = memstore_deliver(a, "INBOX", "one\r\n", 0);
	uids[1] = memstore_deliver(a, "INBOX", "two\r\n", 0);
	uids[2] = memstore_deliver(a, "INBOX", "three\r\n", MSG_SEEN);
	ck_assert_int_eq(memstore_remove(a, "INBOX", uids[1]), 0);
	memstore_deliver(b, "INBOX", "already there\r\n", 0);
	ck_assert_int_eq(a->ops->open(a, "INBOX", &st, &err), 0);
	ck_assert_int_eq(b->ops->open(b, "INBOX", &st, &err), 0);

	ck_assert_int_eq(copy_messages(a, b, &batch, &hooks, &err), 0);
	ck_assert_str_eq(buf_cstr(&h.events), "planned 0 2 size 5;planned 2 3 size 7;"
	    "commit;");
	ck_assert_int_eq(status[0], STORE_OK);
	ck_assert_int_eq(status[1], STORE_GONE);
	ck_assert_int_eq(status[2], STORE_OK);
	ck_assert_uint_eq(results[0], 2);
	ck_assert_uint_eq(results[2], 3);
	ck_assert_str_eq(memstore_body(b, "INBOX", 2), "one\r\n");
	ck_assert_str_eq(memstore_body(b, "INBOX", 3), "three\r\n");
	buf_free(&h.events);
	buf_free(&err);
	a->ops->free(a);
	b->ops->free(b);
}
END_TEST

/* A message the target refuses comes back as refused, with the target's
 * words, at its own index; the others of the batch arrive as usual. */
START_TEST(test_copy_batch_with_refused_message)
{
	struct store *a = memstore_new(7), *b = memstore_new(9);
	struct mbox_status st;
	struct buf err = BUF_INIT;
	struct hook_log h = { BUF_INIT, -1 };
	struct copy_hooks hooks = { on_planned, on_before_commit, &h, NULL };
	uint32_t uids[4], results[4];
	unsigned flags[4] = { 0, 0, 0, 0 };
	int status[4];
	struct buf why[4] = { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT };
	struct copy_batch batch = { uids, flags, 4, results, status, why };

	uids[0] = memstore_deliver(a, "INBOX", "one\r\n", 0);
	uids[1] = memstore_deliver(a, "INBOX", "gone\r\n", 0);
	uids[2] = memstore_deliver(a, "INBOX", MEMSTORE_REFUSE_MARK "\r\n3\r\n",
	    0);
	uids[3] = memstore_deliver(a, "INBOX", "four\r\n", 0);
	ck_assert_int_eq(memstore_remove(a, "INBOX", uids[1]), 0);
	b->ops->create(b, "INBOX", &err);
	memstore_plan_uids(b, 0);
	memstore_refuse_marked(b, 1);
	ck_assert_int_eq(a->ops->open(a, "INBOX", &st, &err), 0);
	ck_assert_int_eq(b->ops->open(b, "INBOX", &st, &err), 0);
	ck_assert_int_eq(copy_messages(a, b, &batch, &hooks, &err), 0);
	ck_assert_int_eq(status[0], STORE_OK);
	ck_assert_int_eq(status[1], STORE_GONE);
	ck_assert_int_eq(status[2], STORE_REFUSED);
	ck_assert_int_eq(status[3], STORE_OK);
	ck_assert_str_eq(buf_cstr(&why[2]),
	    "memstore: NO [LIMIT] message refused");
	ck_assert_uint_eq(results[0], 1);
	ck_assert_uint_eq(results[2], 0);
	ck_assert_uint_eq(results[3], 3);
	ck_assert_str_eq(memstore_body(b, "INBOX", 3), "four\r\n");
	for (int i = 0; i < 4; i++)
		buf_free(&why[i]);
	buf_free(&h.events);
	buf_free(&err);
	a->ops->free(a);
	b->ops->free(b);
}
END_TEST

/* A message without a byte (an empty Maildir file) is never handed to
 * the target: no append, no planned() for it, STORE_EMPTY at its index,
 * and the target's UIDs go on as if it were not in the batch. */
START_TEST(test_copy_batch_with_empty_message)
{
	struct store *a = memstore_new(7), *b = memstore_new(9);
	struct mbox_status st;
	struct buf err = BUF_INIT;
	struct hook_log h = { BUF_INIT, -1 };
	struct copy_hooks hooks = { on_planned, on_before_commit, &h, NULL };
	uint32_t uids[3], results[3];
	unsigned flags[3] = { 0, MSG_SEEN, 0 };
	int status[3];
	struct buf why[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct copy_batch batch = { uids, flags, 3, results, status, why };

	uids[0] = memstore_deliver(a, "INBOX", "one\r\n", 0);
	uids[1] = memstore_deliver(a, "INBOX", "", MSG_SEEN);
	uids[2] = memstore_deliver(a, "INBOX", "three\r\n", 0);
	b->ops->create(b, "INBOX", &err);
	ck_assert_int_eq(a->ops->open(a, "INBOX", &st, &err), 0);
	ck_assert_int_eq(b->ops->open(b, "INBOX", &st, &err), 0);
	ck_assert_int_eq(copy_messages(a, b, &batch, &hooks, &err), 0);
	ck_assert_str_eq(buf_cstr(&h.events), "planned 0 1 size 5;"
	    "planned 2 2 size 7;commit;");
	ck_assert_int_eq(status[0], STORE_OK);
	ck_assert_int_eq(status[1], STORE_EMPTY);
	ck_assert_int_eq(status[2], STORE_OK);
	ck_assert_uint_eq(results[1], 0);
	ck_assert_uint_eq(results[2], 2);
	ck_assert_ptr_null(memstore_body(b, "INBOX", 3));
	ck_assert_str_eq(memstore_body(b, "INBOX", 2), "three\r\n");
	ck_assert_uint_eq(why[1].len, 0);
	for (int i = 0; i < 3; i++)
		buf_free(&why[i]);
	buf_free(&h.events);
	buf_free(&err);
	a->ops->free(a);
	b->ops->free(b);
}
END_TEST

/* A source that breaks the sink's order: UID 1 begun and half sent, then
 * UID 2 begun without UID 1's end. */
static int
fetch_unended(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	struct msg_meta m = { 0 };

	(void)st;
	ck_assert_uint_eq(n, 2);
	m.uid = uids[0];
	if (sink->begin(sink->ctx, &m, err) != 0 ||
	    sink->data(sink->ctx, "half of one", 11, err) != 0)
		return -1;
	m.uid = uids[1];
	if (sink->begin(sink->ctx, &m, err) != 0 ||
	    sink->data(sink->ctx, "two\r\n", 5, err) != 0 ||
	    sink->end(sink->ctx, err) != 0)
		return -1;
	return 0;
}

/*
 * Two messages copied from a memstore to an empty one, through a source
 * whose fetch() is fetch (NULL: its own) and hooks that fail at index
 * fail_planned_at (-1: never): the copy fails with err and the hooks saw
 * events; the target keeps nothing.
 */
static void
copy_two_fails(int fail_planned_at,
    int (*fetch)(struct store *, const uint32_t *, size_t,
    const struct msg_sink *, struct buf *), const char *err_is,
    const char *events)
{
	struct store *a = memstore_new(7), *b = memstore_new(9);
	struct store_ops ops = *a->ops;
	struct mbox_status st;
	struct buf err = BUF_INIT;
	struct hook_log h = { BUF_INIT, fail_planned_at };
	struct copy_hooks hooks = { on_planned, on_before_commit, &h, NULL };
	uint32_t uids[2], results[2];
	unsigned flags[2] = { 0, 0 };
	int status[2];
	struct buf why[2] = { BUF_INIT, BUF_INIT };
	struct copy_batch batch = { uids, flags, 2, results, status, why };
	struct msg_list scan = { 0 };

	uids[0] = memstore_deliver(a, "INBOX", "one\r\n", 0);
	uids[1] = memstore_deliver(a, "INBOX", "two\r\n", 0);
	b->ops->create(b, "INBOX", &err);
	ck_assert_int_eq(a->ops->open(a, "INBOX", &st, &err), 0);
	ck_assert_int_eq(b->ops->open(b, "INBOX", &st, &err), 0);
	if (fetch != NULL) {
		ops.fetch = fetch;
		a->ops = &ops;
	}
	ck_assert_int_eq(copy_messages(a, b, &batch, &hooks, &err), -1);
	ck_assert_str_eq(buf_cstr(&err), err_is);
	ck_assert_str_eq(buf_cstr(&h.events), events);
	ck_assert_int_eq(b->ops->scan(b, NULL, &scan, &err), 0);
	ck_assert_uint_eq(scan.n, 0);
	msg_list_free(&scan);
	buf_free(&h.events);
	buf_free(&err);
	a->ops->free(a);
	b->ops->free(b);
}

START_TEST(test_copy_hook_failure_commits_nothing)
{
	copy_two_fails(1, NULL, "journal full",
	    "planned 0 1 size 5;planned 1 2 size 5;");
}
END_TEST

/* Never the rest of a message under another's name: the batch fails and
 * the target keeps nothing. */
START_TEST(test_copy_refuses_unended_message)
{
	copy_two_fails(-1, fetch_unended, "store began message UID 2 before "
	    "the last one ended", "");
}
END_TEST

static Suite *
copy_suite(void)
{
	Suite *s = suite_create("copy");
	TCase *tc = tcase_create("batch");

	tcase_add_test(tc, test_copy_batch_with_vanished_message);
	tcase_add_test(tc, test_copy_batch_with_refused_message);
	tcase_add_test(tc, test_copy_batch_with_empty_message);
	tcase_add_test(tc, test_copy_hook_failure_commits_nothing);
	tcase_add_test(tc, test_copy_refuses_unended_message);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(copy_suite());
}
