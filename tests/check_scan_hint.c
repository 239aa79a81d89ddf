/*
 * Unit tests of the scan hint (store.h): what the planner asks a scan
 * for (plan_scan_hint), and that both stores report sizes and dates
 * where asked and the same UIDs and flags as a full scan. The Maildir
 * store must not stat() the files whose details were not asked for: the
 * date of such a message stays 0. The IMAP part runs against a real
 * Dovecot started by main(); if it cannot start, the program fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util/buf.h"
#include "imap/store_imap.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "store.h"
#include "sync/plan.h"
#include "sync/state.h"
#include "support/dovecot.h"
#include "support/testlib.h"

static struct dovecot server;

/* ---- scan_hint_wants ---------------------------------------------- */

START_TEST(test_wants)
{
	static const uint32_t sizes[] = { 2, 9 };
	static const uint32_t skip[] = { 9, 12 };
	struct scan_hint h = { 10, sizes, 2, skip, 2 };
	struct scan_hint from1 = { 1, NULL, 0, skip, 2 };

	ck_assert_int_eq(scan_hint_wants(NULL, 5), 1);
	ck_assert_int_eq(scan_hint_wants_all(NULL), 1);
	ck_assert_int_eq(scan_hint_wants_all(&h), 0);
	ck_assert_int_eq(scan_hint_wants(&h, 1), 0);
	ck_assert_int_eq(scan_hint_wants(&h, 2), 1);
	ck_assert_int_eq(scan_hint_wants(&h, 9), 1);
	ck_assert_int_eq(scan_hint_wants(&h, 10), 1);
	ck_assert_int_eq(scan_hint_wants(&h, 12), 0);
	ck_assert_int_eq(scan_hint_wants(&h, 13), 1);
	/* From 1 with UIDs to skip is not "everything". */
	ck_assert_int_eq(scan_hint_wants_all(&from1), 0);
	ck_assert_int_eq(scan_hint_wants(&from1, 1), 1);
	ck_assert_int_eq(scan_hint_wants(&from1, 12), 0);
}
END_TEST

/* ---- plan_scan_hint ----------------------------------------------- */

static void
apply(struct sync_state *st, const struct journal_rec *r)
{
	struct buf err = BUF_INIT;

	ck_assert_msg(state_apply(st, r, &err) == 0, "%s", buf_cstr(&err));
	buf_free(&err);
}

static void
add_pair(struct sync_state *st, uint32_t far, uint32_t near, unsigned status)
{
	struct journal_rec r = { .kind = JR_PAIR_NEW };

	r.pair.uid[SIDE_FAR] = far;
	r.pair.uid[SIDE_NEAR] = near;
	r.pair.status = status;
	apply(st, &r);
}

/* far: UIDVALIDITY 77, maxuid 10; near: UIDVALIDITY 88, maxuid 0 (all
 * of near's messages are recorded copies). */
static void
make_state(struct sync_state *st, struct mbox_status now[2])
{
	struct journal_rec r = { .kind = JR_UIDVALIDITY, .side = SIDE_FAR,
	    .value = 77 };

	state_init(st);
	apply(st, &r);
	r.side = SIDE_NEAR;
	r.value = 88;
	apply(st, &r);
	r.kind = JR_MAXUID;
	r.side = SIDE_FAR;
	r.value = 10;
	apply(st, &r);
	add_pair(st, 3, 12, 0);
	add_pair(st, 5, 0, PAIR_TOO_BIG);
	add_pair(st, 11, 13, 0);
	memset(now, 0, 2 * sizeof(*now));
	now[SIDE_FAR].uidvalidity = 77;
	now[SIDE_FAR].uidnext = 20;
	now[SIDE_NEAR].uidvalidity = 88;
	now[SIDE_NEAR].uidnext = 14;
}

static void
assert_uids(const uint32_t *v, size_t n, const uint32_t *want, size_t nwant)
{
	ck_assert_uint_eq(n, nwant);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i], want[i]);
}

START_TEST(test_plan_hint)
{
	static const uint32_t far_sizes[] = { 5 }, far_skip[] = { 11 };
	static const uint32_t near_skip[] = { 12, 13 };
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *sp[2] = { &now[0], &now[1] };
	struct plan_scan_hint h;

	make_state(&st, now);
	plan_scan_hint(&st, sp, SIDE_FAR, &h);
	ck_assert_uint_eq(h.hint.sizes_from, 11);
	assert_uids(h.hint.size_uids, h.hint.nsize_uids, far_sizes, 1);
	assert_uids(h.hint.skip_uids, h.hint.nskip_uids, far_skip, 1);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 3), 0);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 5), 1);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 10), 0);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 11), 0);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 14), 1);
	plan_scan_hint_free(&h);
	plan_scan_hint(&st, sp, SIDE_NEAR, &h);
	ck_assert_uint_eq(h.hint.sizes_from, 1);
	ck_assert_uint_eq(h.hint.nsize_uids, 0);
	assert_uids(h.hint.skip_uids, h.hint.nskip_uids, near_skip, 2);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 12), 0);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 1), 1);
	plan_scan_hint_free(&h);
	state_free(&st);
}
END_TEST

/* Recovery fetches its candidates and never reads a scan's size
 * (exec_recover.c): a pending intent asks for no sizes. */
START_TEST(test_plan_hint_intent)
{
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *sp[2] = { &now[0], &now[1] };
	struct journal_rec r = { .kind = JR_COPY_INTENT };
	struct plan_scan_hint h;

	make_state(&st, now);
	r.copy.src = SIDE_NEAR;
	r.copy.src_uid = 12;
	r.copy.uidnext = 8;
	r.copy.size = 100;
	r.copy.hash = 1;
	apply(&st, &r);
	plan_scan_hint(&st, sp, SIDE_FAR, &h);
	ck_assert_uint_eq(h.hint.sizes_from, st.maxuid[SIDE_FAR] + 1);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 8), 0);
	plan_scan_hint_free(&h);
	state_free(&st);
}
END_TEST

/* A distrusted side (here far's UIDVALIDITY changed) makes the planner
 * compare everything: both sides are scanned in full. */
START_TEST(test_plan_hint_distrust)
{
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *sp[2] = { &now[0], &now[1] };
	struct plan_scan_hint h;

	make_state(&st, now);
	now[SIDE_FAR].uidvalidity = 78;
	for (int s = 0; s < 2; s++) {
		plan_scan_hint(&st, sp, s, &h);
		ck_assert_int_eq(scan_hint_wants_all(&h.hint), 1);
		plan_scan_hint_free(&h);
	}
	now[SIDE_FAR].uidvalidity = 77;
	now[SIDE_FAR].uidnext = 10;	/* not above the recorded maxuid */
	plan_scan_hint(&st, sp, SIDE_NEAR, &h);
	ck_assert_int_eq(scan_hint_wants_all(&h.hint), 1);
	plan_scan_hint_free(&h);
	state_free(&st);
}
END_TEST

/* The near side is scanned while the far side's SELECT is answered
 * (sync/mailbox.c): its hint is made with far's status unknown (NULL,
 * trusted), and stands only if the hint made once far's status came is
 * the same. A far side found distrusted asks for every near size, which
 * the early hint (recorded near copies skipped) did not. */
START_TEST(test_plan_hint_early)
{
	struct sync_state st;
	struct mbox_status now[2];
	const struct mbox_status *early[2] = { NULL, &now[SIDE_NEAR] };
	const struct mbox_status *sp[2] = { &now[0], &now[1] };
	struct plan_scan_hint e, h;

	make_state(&st, now);
	plan_scan_hint(&st, early, SIDE_NEAR, &e);
	ck_assert_int_eq(scan_hint_wants(&e.hint, 12), 0);
	plan_scan_hint(&st, sp, SIDE_NEAR, &h);
	ck_assert_int_eq(plan_scan_hint_same(&e.hint, &h.hint), 1);
	plan_scan_hint_free(&h);
	now[SIDE_FAR].uidvalidity = 78;
	plan_scan_hint(&st, sp, SIDE_NEAR, &h);
	ck_assert_int_eq(scan_hint_wants(&h.hint, 12), 1);
	ck_assert_int_eq(plan_scan_hint_same(&e.hint, &h.hint), 0);
	plan_scan_hint_free(&h);
	plan_scan_hint_free(&e);
	/* Only far's own status can distrust far. */
	now[SIDE_FAR].uidvalidity = 77;
	now[SIDE_NEAR].uidvalidity = 89;
	plan_scan_hint(&st, early, SIDE_NEAR, &e);
	ck_assert_int_eq(scan_hint_wants_all(&e.hint), 1);
	plan_scan_hint_free(&e);
	state_free(&st);
}
END_TEST

/* ---- Maildir ------------------------------------------------------ */

struct md_fixture {
	char *root;
	struct buf err;
	struct buf cap;
	struct logger lg;
	struct store *s;
};

static void
md_setup(struct md_fixture *fx)
{
	struct maildir_options opt = { .subfolders = MAILDIR_SUB_MAILDIRPP,
	    .fsync = 0 };
	struct mbox_status st;

	memset(fx, 0, sizeof(*fx));
	fx->root = tl_mkdtemp("scanhint");
	for (int i = 0; i < 3; i++) {
		static const char *const sub[] = { "cur", "new", "tmp" };
		char *p = tl_path(fx->root, sub[i]);

		tl_mkdirs(p);
		free(p);
	}
	opt.path = fx->root;
	fx->lg.level = LOG_NORMAL;
	fx->lg.capture = &fx->cap;
	fx->s = maildir_store_new(&opt, &fx->lg, &fx->err);
	ck_assert_msg(fx->s != NULL, "%s", buf_cstr(&fx->err));
	ck_assert_msg(fx->s->ops->open(fx->s, "INBOX", &st, &fx->err) == 0,
	    "%s", buf_cstr(&fx->err));
}

static void
md_teardown(struct md_fixture *fx)
{
	fx->s->ops->free(fx->s);
	tl_rmtree(fx->root);
	free(fx->root);
	buf_free(&fx->err);
	buf_free(&fx->cap);
}

static void
md_put(struct md_fixture *fx, const char *rel, const char *data,
    time_t mtime)
{
	char *p = tl_path(fx->root, rel);
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

	tl_write_str(p, data);
	ck_assert_int_eq(utimes(p, tv), 0);
	free(p);
}

static void
md_scan(struct md_fixture *fx, const struct scan_hint *h, struct msg_list *l)
{
	msg_list_free(l);
	ck_assert_msg(fx->s->ops->scan(fx->s, h, l, &fx->err) == 0, "%s",
	    buf_cstr(&fx->err));
}

/* UIDs 1-4 in mtime order: ",S=" lies about 1 and 3, 2 and 4 have none. */
static void
md_four(struct md_fixture *fx, struct msg_list *full)
{
	md_put(fx, "cur/100.a,S=999:2,S", "0123456789", 1000);
	md_put(fx, "cur/101.b:2,", "01234567890123456789", 2000);
	md_put(fx, "cur/102.c,S=5:2,F", "0123456789", 3000);
	md_put(fx, "new/103.d", "012345678901234", 4000);
	md_scan(fx, NULL, full);
	ck_assert_uint_eq(full->n, 4);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_uint_eq(full->v[i].uid, i + 1);
}

static void
assert_meta(const struct msg_meta *m, uint32_t uid, uint64_t size,
    int64_t date)
{
	ck_assert_uint_eq(m->uid, uid);
	ck_assert_uint_eq(m->size, size);
	ck_assert_int_eq(m->date, date);
}

START_TEST(test_maildir_hint)
{
	static const uint32_t sizes[] = { 3 };
	struct scan_hint h = { 4, sizes, 1, NULL, 0 };
	struct md_fixture fx;
	struct msg_list full = { 0 }, l = { 0 };

	md_setup(&fx);
	md_four(&fx, &full);
	assert_meta(&full.v[0], 1, 999, 1000);
	assert_meta(&full.v[1], 2, 20, 2000);
	assert_meta(&full.v[2], 3, 5, 3000);
	assert_meta(&full.v[3], 4, 15, 4000);
	md_scan(&fx, &h, &l);
	ck_assert_uint_eq(l.n, 4);
	/* Not asked for: the name's size if any, no stat(), so no date. */
	assert_meta(&l.v[0], 1, 999, 0);
	assert_meta(&l.v[1], 2, 0, 0);
	assert_meta(&l.v[2], 3, 5, 3000);
	assert_meta(&l.v[3], 4, 15, 4000);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(l.v[i].flags, full.v[i].flags);
	msg_list_free(&full);
	msg_list_free(&l);
	md_teardown(&fx);
}
END_TEST

static int
size_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	(void)err;
	*(uint64_t *)ctx = meta->size;
	return 0;
}

static int
size_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	(void)ctx;
	(void)p;
	(void)n;
	(void)err;
	return 0;
}

static int
size_end(void *ctx, struct buf *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

/* A skipped message's size is still reported right by fetch(). */
START_TEST(test_maildir_skip_and_fetch)
{
	static const uint32_t skip[] = { 2 };
	struct scan_hint h = { 1, NULL, 0, skip, 1 };
	struct md_fixture fx;
	struct msg_list full = { 0 }, l = { 0 };
	uint64_t size = 0;
	uint32_t two = 2;
	struct msg_sink sink = { size_begin, size_data, size_end, NULL,
	    &size, NULL };

	md_setup(&fx);
	md_four(&fx, &full);
	md_scan(&fx, &h, &l);
	assert_meta(&l.v[0], 1, 999, 1000);
	assert_meta(&l.v[1], 2, 0, 0);
	assert_meta(&l.v[3], 4, 15, 4000);
	ck_assert_msg(fx.s->ops->fetch(fx.s, &two, 1, &sink, &fx.err) == 0,
	    "%s", buf_cstr(&fx.err));
	ck_assert_uint_eq(size, 20);
	msg_list_free(&full);
	msg_list_free(&l);
	md_teardown(&fx);
}
END_TEST

/* Two files with one UID: the scan's provisional choice (the older,
 * until the sync core settles the clash by content) holds even when the
 * hint spared both a stat() and the names alone would say otherwise. */
START_TEST(test_maildir_duplicate_under_hint)
{
	static const uint32_t skip[] = { 1, 2, 3, 4 };
	struct scan_hint h = { 1, NULL, 0, skip, 4 };
	struct md_fixture fx;
	struct msg_list full = { 0 }, l = { 0 };
	char *older;

	md_setup(&fx);
	md_four(&fx, &full);
	/* "200.dup" sorts after "100.a" but is older. */
	md_put(&fx, "cur/200.dup,U=1:2,S", "dup", 500);
	md_scan(&fx, &h, &l);
	ck_assert_uint_eq(l.n, 5);
	ck_assert_uint_eq(l.v[4].uid, 5);
	older = tl_path(fx.root, "cur/200.dup,U=1:2,S");
	ck_assert_int_eq(tl_exists(older), 1);
	free(older);
	ck_assert_pstr_eq(buf_cstr(&fx.cap), "twinbox: warning: maildir INBOX: "
	    "cur/100.a,S=999,U=1:2,S repeats UID 1; one of the two files gets "
	    "the new UID 5\n");
	msg_list_free(&full);
	msg_list_free(&l);
	md_teardown(&fx);
}
END_TEST

/* ---- IMAP (Dovecot) ----------------------------------------------- */

static struct strlist login_mech;

static struct store *
imap_open(struct logger *lg, struct buf *err)
{
	struct imap_store_options o;

	memset(&o, 0, sizeof(o));
	o.name = "t";
	o.host = "127.0.0.1";
	o.port = atoi(server.imap_port);
	o.timeout = 10;
	o.tls = TLS_NONE;
	o.user = "alice";
	o.pass = "secret";
	o.use_namespace = 1;
	o.ca_file = server.ca_file;
	o.auth_mechs = &login_mech;
	return imap_store_new(&o, lg, err);
}

static void
imap_append(struct store *s, int count, uint32_t *uids)
{
	struct buf err = BUF_INIT, msg = BUF_INIT;
	struct append_result *got = NULL;
	size_t ngot = 0;

	for (int i = 0; i < count; i++) {
		struct msg_meta meta = { .flags = i % 2 ? MSG_SEEN : 0 };
		struct store_append *a;
		uint32_t planned;

		buf_setf(&msg, "Message-ID: <%d@hint>\r\nSubject: %d\r\n\r\n"
		    "%0*d\r\n", i, i, 10 + 10 * i, i);
		ck_assert_int_eq(s->ops->append_begin(s, &meta, &a, &planned,
		    &err), 0);
		ck_assert_int_eq(s->ops->append_write(a, msg.data, msg.len,
		    &err), 0);
		ck_assert_int_eq(s->ops->append_finish(a, &err), 0);
	}
	ck_assert_msg(s->ops->commit(s, &got, &ngot, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_uint_eq(ngot, (size_t)count);
	for (size_t i = 0; i < ngot; i++) {
		ck_assert_int_eq(got[i].status, STORE_OK);
		uids[i] = got[i].uid;
	}
	append_results_free(got, ngot);
	buf_free(&msg);
	buf_free(&err);
}

static void
imap_scan(struct store *s, const struct scan_hint *h, struct msg_list *l)
{
	struct buf err = BUF_INIT;
	struct mbox_status st;

	ck_assert_msg(s->ops->open(s, "Hint", &st, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_msg(s->ops->scan(s, h, l, &err) == 0, "%s", buf_cstr(&err));
	buf_free(&err);
}

/* Sizes and dates exactly where asked; UIDs and flags as in full. */
static void
assert_hinted(const struct msg_list *full, const struct msg_list *l,
    const struct scan_hint *h)
{
	ck_assert_uint_eq(l->n, full->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct msg_meta *m = &l->v[i], *f = &full->v[i];
		int want = scan_hint_wants(h, m->uid);

		ck_assert_uint_eq(m->uid, f->uid);
		ck_assert_uint_eq(m->flags, f->flags);
		ck_assert_uint_eq(m->size, want ? f->size : 0);
		ck_assert_int_eq(m->date, want ? f->date : 0);
	}
}

START_TEST(test_imap_hint)
{
	struct logger lg = { .level = LOG_DEBUG, .debug = LOG_NET };
	struct buf cap = BUF_INIT, err = BUF_INIT;
	struct msg_list full = { 0 }, l = { 0 };
	struct mbox_status st;
	uint32_t uids[5], sizes[1], skip[1];
	struct scan_hint h = { 0 };
	struct store *s;

	lg.capture = &cap;
	s = imap_open(&lg, &err);
	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	ck_assert_int_eq(s->ops->create(s, "Hint", &err), 0);
	ck_assert_int_eq(s->ops->open(s, "Hint", &st, &err), 0);
	imap_append(s, 5, uids);
	imap_scan(s, NULL, &full);
	ck_assert_uint_eq(full.n, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_ne(full.v[i].size, 0);
		ck_assert_int_ne(full.v[i].date, 0);
	}
	/* uid[1] by name, uid[3] and above but uid[4] by sizes_from. */
	sizes[0] = uids[1];
	skip[0] = uids[4];
	h = (struct scan_hint){ uids[3], sizes, 1, skip, 1 };
	buf_reset(&cap);
	imap_scan(s, &h, &l);
	assert_hinted(&full, &l, &h);
	ck_assert_ptr_nonnull(strstr(cap.data, "UID FETCH 1:* (UID FLAGS)"));
	ck_assert_ptr_nonnull(strstr(cap.data, " (UID FLAGS RFC822.SIZE "
	    "INTERNALDATE)"));
	/* Nothing wanted among the messages: one command only. */
	msg_list_free(&l);
	h = (struct scan_hint){ uids[4] + 1, NULL, 0, NULL, 0 };
	buf_reset(&cap);
	imap_scan(s, &h, &l);
	assert_hinted(&full, &l, &h);
	ck_assert_ptr_null(strstr(cap.data, "RFC822.SIZE"));
	s->ops->free(s);
	msg_list_free(&full);
	msg_list_free(&l);
	buf_free(&cap);
	buf_free(&err);
}
END_TEST

static Suite *
scan_hint_suite(void)
{
	Suite *s = suite_create("scan_hint");
	TCase *tc = tcase_create("hint");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_wants);
	tcase_add_test(tc, test_plan_hint);
	tcase_add_test(tc, test_plan_hint_intent);
	tcase_add_test(tc, test_plan_hint_distrust);
	tcase_add_test(tc, test_plan_hint_early);
	tcase_add_test(tc, test_maildir_hint);
	tcase_add_test(tc, test_maildir_skip_and_fetch);
	tcase_add_test(tc, test_maildir_duplicate_under_hint);
	tcase_add_test(tc, test_imap_hint);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int rc;

	strlist_add(&login_mech, "LOGIN");
	dovecot_start(&server, NULL);
	rc = run_suite(scan_hint_suite());
	dovecot_stop(&server);
	strlist_free(&login_mech);
	return rc;
}
