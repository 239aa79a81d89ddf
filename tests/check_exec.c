/* Unit tests: the executor and the mailbox-pair driver (sync/exec.c,
 * sync/exec_store.c, sync/mailbox.c) on two in-memory stores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/memstore.h"
#include "sync/fingerprint.h"
#include "support/testlib.h"
#include "sync/journal.h"
#include "sync/mailbox.h"

struct fixture {
	char *dir;
	struct state_paths paths;
	struct store *far, *near;
	struct sync_policy policy;
	struct buf log, err;
	struct logger lg;
	struct mailbox_job job;
	struct exec_stats stats;
};

static void
fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->dir = tl_mkdtemp("exec");
	fx->paths.dir = xstrdup(fx->dir);
	fx->paths.state = tl_path(fx->dir, "state");
	fx->paths.journal = tl_path(fx->dir, "state.journal");
	fx->paths.lock = tl_path(fx->dir, "state.lock");
	fx->far = memstore_new(100);
	fx->near = memstore_new(200);
	fx->far->ops->create(fx->far, "INBOX", &fx->err);
	fx->near->ops->create(fx->near, "INBOX", &fx->err);
	sync_policy_default(&fx->policy);
	fx->lg.level = LOG_VERBOSE;
	fx->lg.capture = &fx->log;
	fx->job.store[SIDE_FAR] = fx->far;
	fx->job.store[SIDE_NEAR] = fx->near;
	fx->job.box[0] = fx->job.box[1] = "INBOX";
	fx->job.label = "test:INBOX";
	fx->job.policy = &fx->policy;
	fx->job.paths = &fx->paths;
	fx->job.lg = &fx->lg;
}

static void
fx_free(struct fixture *fx)
{
	fx->far->ops->free(fx->far);
	fx->near->ops->free(fx->near);
	tl_rmtree(fx->dir);
	free(fx->dir);
	state_paths_free(&fx->paths);
	buf_free(&fx->log);
	buf_free(&fx->err);
}

static int
fx_sync(struct fixture *fx)
{
	buf_reset(&fx->log);
	buf_reset(&fx->err);
	return sync_mailbox(&fx->job, &fx->stats, &fx->err);
}

static size_t
count(struct store *s)
{
	struct mbox_status st;
	struct msg_list l = { 0 };
	struct buf err = BUF_INIT;
	size_t n;

	ck_assert_int_eq(s->ops->open(s, "INBOX", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	n = l.n;
	msg_list_free(&l);
	buf_free(&err);
	return n;
}

/* Messages of INBOX that carry exactly flags. */
static size_t
count_flagged(struct store *s, unsigned flags)
{
	struct mbox_status st;
	struct msg_list l = { 0 };
	struct buf err = BUF_INIT;
	size_t n = 0;

	ck_assert_int_eq(s->ops->open(s, "INBOX", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	for (size_t i = 0; i < l.n; i++)
		n += l.v[i].flags == flags;
	msg_list_free(&l);
	buf_free(&err);
	return n;
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

START_TEST(test_first_sync_then_nothing)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 5, MSG_SEEN);
	deliver_n(fx.near, 10, 2, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 5);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 2);
	/* Copies follow the messages already there. */
	ck_assert_str_eq(memstore_body(fx.near, "INBOX", 3),
	    "Message-ID: <1@t>\r\n\r\n1\r\n");
	ck_assert_str_eq(memstore_body(fx.far, "INBOX", 7),
	    "Message-ID: <11@t>\r\n\r\n11\r\n");
	ck_assert(!tl_exists(fx.paths.journal));
	ck_assert(tl_exists(fx.paths.state));
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1] +
	    fx.stats.flagged[0] + fx.stats.flagged[1], 0);
	ck_assert_uint_eq(count(fx.far), 7);
	ck_assert_uint_eq(count(fx.near), 7);
	fx_free(&fx);
}
END_TEST

/*
 * A message the far store cannot read this run (not gone) is not copied,
 * the others are, maxuid stays below it, the run fails; the next run
 * copies it (invariant 8).
 */
START_TEST(test_failed_copy_stays_wanted)
{
	struct fixture fx;
	struct sync_state st;
	struct journal_info info;

	fx_init(&fx);
	deliver_n(fx.far, 1, 5, MSG_SEEN);
	memstore_fail_fetch(fx.far, 3);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_msg(strstr(fx.err.data, "1 message could not be copied") !=
	    NULL, "%s", fx.err.data);
	ck_assert_msg(strstr(fx.log.data, "far UID 3 was not copied this run "
	    "and stays wanted: memstore: NO [TEST]") != NULL, "%s",
	    fx.log.data);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 4);
	ck_assert_uint_eq(count(fx.near), 4);
	state_init(&st);
	ck_assert_int_eq(state_load(fx.paths.state, fx.paths.journal, &st,
	    &info, &fx.lg, &fx.err), 0);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 2);
	ck_assert_uint_eq(st.npairs, 4);
	state_free(&st);
	memstore_fail_fetch(fx.far, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(count(fx.near), 5);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 0);
	fx_free(&fx);
}
END_TEST

/*
 * A repair (the far mailbox was recreated on a server that refuses one
 * message: a new UIDVALIDITY, nothing in it) copies back every
 * near message whose record it dissolved, all at or below near's maxuid.
 * The server refuses one: the repair still completes (the new UIDVALIDITY
 * is recorded, the others are paired), near's maxuid goes below the
 * refused one, and the next run tries it again, once.
 */
START_TEST(test_repair_completes_around_a_failed_copy)
{
	struct fixture fx;
	struct sync_state st;
	struct journal_info info;

	fx_init(&fx);
	deliver_n(fx.near, 1, 1, MSG_SEEN);
	memstore_deliver(fx.near, "INBOX", MEMSTORE_REFUSE_MARK "\r\n2\r\n",
	    MSG_SEEN);
	deliver_n(fx.near, 3, 2, MSG_SEEN);
	ck_assert_int_eq(fx_sync(&fx), 0);
	for (uint32_t uid = 1; uid <= 4; uid++)
		ck_assert_int_eq(memstore_remove(fx.far, "INBOX", uid), 0);
	memstore_reset_uids(fx.far, "INBOX", 300);
	memstore_refuse_marked(fx.far, 1);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_msg(strstr(fx.err.data, "1 message could not be copied") !=
	    NULL, "%s", fx.err.data);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 3);
	state_init(&st);
	ck_assert_int_eq(state_load(fx.paths.state, fx.paths.journal, &st,
	    &info, &fx.lg, &fx.err), 0);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 300);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 1);
	ck_assert_uint_eq(st.npairs, 3);
	state_free(&st);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 0);
	memstore_refuse_marked(fx.far, 0);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", fx.err.data);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(count(fx.far), 4);
	ck_assert_uint_eq(count(fx.near), 4);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/* Two messages the far store cannot read, for reasons of their own:
 * each is reported with its own. */
START_TEST(test_failed_copies_reported_each_with_its_reason)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 5, 0);
	memstore_fail_fetch(fx.far, 2);
	memstore_fail_fetch(fx.far, 4);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_msg(strstr(fx.log.data, "far UID 2 was not copied this run "
	    "and stays wanted: memstore: NO [TEST] UID 2\n") != NULL, "%s",
	    fx.log.data);
	ck_assert_msg(strstr(fx.log.data, "far UID 4 was not copied this run "
	    "and stays wanted: memstore: NO [TEST] UID 4\n") != NULL, "%s",
	    fx.log.data);
	memstore_fail_fetch(fx.far, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 2);
	ck_assert_uint_eq(count(fx.near), 5);
	fx_free(&fx);
}
END_TEST

/*
 * Carry out three copies near->far, of which UID 2 cannot be read, then
 * last: the executor on its own, with a state whose near maxuid is
 * near_maxuid. Returns exec_plan()'s result; the state is left in st.
 */
static int
run_failing_copies(struct fixture *fx, uint32_t near_maxuid,
    const struct plan_op *last, struct sync_state *st)
{
	struct plan_op ops[4] = {
		{ .kind = PLAN_COPY, .side = SIDE_NEAR, .uid = 1 },
		{ .kind = PLAN_COPY, .side = SIDE_NEAR, .uid = 2 },
		{ .kind = PLAN_COPY, .side = SIDE_NEAR, .uid = 3 },
		*last
	};
	struct plan p = { .ops = ops, .n = 4 };
	struct mbox_status status[2];
	struct journal_info info;
	struct exec x = { 0 };
	int rc;

	deliver_n(fx->near, 1, 3, 0);
	memstore_fail_fetch(fx->near, 2);
	ck_assert_int_eq(fx->far->ops->open(fx->far, "INBOX", &status[0],
	    &fx->err), 0);
	ck_assert_int_eq(fx->near->ops->open(fx->near, "INBOX", &status[1],
	    &fx->err), 0);
	state_init(st);
	ck_assert_int_eq(state_load(fx->paths.state, fx->paths.journal, st,
	    &info, NULL, &fx->err), 0);
	st->maxuid[SIDE_NEAR] = near_maxuid;
	ck_assert_int_eq(journal_open(fx->paths.journal, st, &info, NULL,
	    &x.journal, &fx->err), 0);
	x.store[0] = fx->far;
	x.store[1] = fx->near;
	x.status[0] = &status[0];
	x.status[1] = &status[1];
	x.state = st;
	x.lg = &fx->lg;
	x.box = "test:INBOX";
	rc = exec_plan(&x, &p, &fx->err);
	ck_assert_uint_eq(x.nfailed[SIDE_NEAR], 1);
	ck_assert_uint_eq(x.stats.copied[SIDE_FAR], 2);
	ck_assert_int_eq(exec_failures(&x, &fx->log), -1);
	exec_free(&x);
	journal_close(x.journal, &fx->log);
	return rc;
}

/* Invariant 8: the maxuid a plan asks for stops below a failed copy. */
START_TEST(test_maxuid_stops_below_failed_copy)
{
	struct fixture fx;
	struct sync_state st;
	struct plan_op maxuid = { .kind = PLAN_SET_MAXUID, .side = SIDE_NEAR,
	    .value = 3 };

	fx_init(&fx);
	ck_assert_int_eq(run_failing_copies(&fx, 0, &maxuid, &st), 0);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 1);
	ck_assert_uint_eq(st.npairs, 2);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/*
 * A failed copy of a message already at or below maxuid without a
 * record (a repair copies such orphans) would never be looked at again
 * once the repair's UIDVALIDITY is recorded: maxuid goes below it first.
 */
START_TEST(test_uidvalidity_keeps_failed_copy_wanted)
{
	struct fixture fx;
	struct sync_state st;
	struct plan_op uidvalidity = { .kind = PLAN_SET_UIDVALIDITY,
	    .side = SIDE_FAR, .value = 100 };

	fx_init(&fx);
	ck_assert_int_eq(run_failing_copies(&fx, 5, &uidvalidity, &st), 0);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 100);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 1);
	state_free(&st);
	fx_free(&fx);
}
END_TEST

/* The in-memory store's own scan, for a store that wraps it. */
static int
plain_scan(struct store *s, const struct scan_hint *h, struct msg_list *out,
    struct buf *err)
{
	struct store *plain = memstore_new(1);
	int rc = plain->ops->scan(s, h, out, err);

	plain->ops->free(plain);
	return rc;
}

/* A scan that lists its last message twice, as the IMAP store's did when
 * an unsolicited FETCH came during the scan. */
static int
scan_twice(struct store *s, const struct scan_hint *h, struct msg_list *out,
    struct buf *err)
{
	int rc = plain_scan(s, h, out, err);

	if (rc == 0 && out->n > 0) {
		struct msg_meta last = out->v[out->n - 1];

		msg_list_add(out, &last);
	}
	return rc;
}

/* A scan must reach the sync core ascending and unique: a store that
 * breaks this fails the mailbox before anything is planned. */
START_TEST(test_scan_checked_at_the_boundary)
{
	struct fixture fx;
	const struct store_ops *plain;
	struct store_ops twice;

	fx_init(&fx);
	deliver_n(fx.far, 1, 3, 0);
	plain = fx.far->ops;
	twice = *plain;
	twice.scan = scan_twice;
	twice.scan_changes = NULL;
	fx.far->ops = &twice;
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_str_eq(fx.err.data, "the scan lists UID 3 after UID 3 "
	    "(UIDs must be unique and ascending) (the far side's memory "
	    "store); nothing was planned");
	fx.far->ops = plain;
	ck_assert_uint_eq(count(fx.near), 0);
	ck_assert(!tl_exists(fx.paths.state));
	fx_free(&fx);
}
END_TEST

START_TEST(test_flag_changes_grouped)
{
	struct fixture fx;
	struct memstore_calls before, after;

	fx_init(&fx);
	deliver_n(fx.far, 1, 10, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	for (uint32_t uid = 1; uid <= 6; uid++)
		memstore_set(fx.near, "INBOX", uid, MSG_SEEN);
	for (uint32_t uid = 7; uid <= 10; uid++)
		memstore_set(fx.near, "INBOX", uid, MSG_FLAGGED);
	before = memstore_calls(fx.far);
	ck_assert_int_eq(fx_sync(&fx), 0);
	after = memstore_calls(fx.far);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 10);
	ck_assert_uint_eq(after.set_flags - before.set_flags, 2);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 0);
	fx_free(&fx);
}
END_TEST

/* Append rec to the journal, as a run killed just after writing it. */
static void
leave_record(struct fixture *fx, const struct journal_rec *rec)
{
	struct sync_state st;
	struct journal_info info;
	struct journal *j;

	state_init(&st);
	ck_assert_int_eq(state_load(fx->paths.state, fx->paths.journal, &st,
	    &info, NULL, &fx->err), 0);
	ck_assert_int_eq(journal_open(fx->paths.journal, &st, &info, NULL, &j,
	    &fx->err), 0);
	ck_assert_int_eq(journal_append(j, rec, &fx->err), 0);
	ck_assert_int_eq(journal_close(j, &fx->err), 0);
	state_free(&st);
}

/* Leave a journal with one pending copy intent far UID 1 -> near
 * planned_uid, as a run killed between intent and result does. */
static void
leave_intent_fp(struct fixture *fx, uint32_t planned_uid,
    const char *body)
{
	struct journal_rec rec = { .kind = JR_COPY_INTENT };

	rec.copy.src = SIDE_FAR;
	rec.copy.src_uid = 1;
	rec.copy.planned_uid = planned_uid;
	if (body != NULL) {
		struct fingerprint fp = fingerprint_of(body, strlen(body));

		rec.copy.uidnext = 1;
		rec.copy.size = fp.size;
		rec.copy.hash = fp.hash;
	}
	leave_record(fx, &rec);
}

static void
leave_intent(struct fixture *fx, uint32_t planned_uid)
{
	leave_intent_fp(fx, planned_uid, NULL);
}

/* A target that cannot name UIDs in advance (IMAP): the copy is found by
 * its fingerprint at or above the UIDNEXT recorded in the intent, and a
 * message of the same size with another Message-ID is not taken for it. */
START_TEST(test_recover_copy_by_fingerprint)
{
	struct fixture fx;
	const char *body = "Message-ID: <1@t>\r\n\r\n1\r\n";

	fx_init(&fx);
	memstore_plan_uids(fx.near, 0);
	deliver_n(fx.far, 1, 1, 0);
	memstore_deliver(fx.near, "INBOX", "Message-ID: <9@t>\r\n\r\n9\r\n",
	    0);
	deliver_n(fx.near, 1, 1, 0);
	leave_intent_fp(&fx, 0, body);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.recovered, 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 0);
	/* The stranger was copied to far; the recovered copy was not. */
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(count(fx.near), 2);
	ck_assert_uint_eq(count(fx.far), 2);
	fx_free(&fx);
}
END_TEST

START_TEST(test_recover_copy_that_arrived)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 1, 0);
	deliver_n(fx.near, 1, 1, 0);	/* the copy the killed run made */
	leave_intent_fp(&fx, 1, "Message-ID: <1@t>\r\n\r\n1\r\n");
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.recovered, 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 0);
	ck_assert_uint_eq(count(fx.near), 1);
	ck_assert_uint_eq(count(fx.far), 1);
	fx_free(&fx);
}
END_TEST

START_TEST(test_recover_copy_that_never_arrived)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 1, 0);
	leave_intent(&fx, 1);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.recovered, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(count(fx.near), 1);
	fx_free(&fx);
}
END_TEST

/* A run killed before the target's commit leaves its planned UID unused;
 * new mail may take it. That message is not the copy. */
START_TEST(test_recover_planned_uid_taken_by_other_mail)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 1, 0);
	deliver_n(fx.near, 9, 1, 0);
	leave_intent_fp(&fx, 1, "Message-ID: <1@t>\r\n\r\n1\r\n");
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.recovered, 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_str_eq(memstore_body(fx.near, "INBOX", 2),
	    "Message-ID: <1@t>\r\n\r\n1\r\n");
	ck_assert_uint_eq(count(fx.near), 2);
	ck_assert_uint_eq(count(fx.far), 2);
	fx_free(&fx);
}
END_TEST

/*
 * A message the target refuses (a tagged NO to its APPEND) fails for
 * this run only: the rest of its batch is recorded, so nothing is copied
 * twice in either direction, and the next run tries it again, once.
 */
START_TEST(test_refused_copy_stays_wanted)
{
	struct fixture fx;
	struct memstore_calls before;

	fx_init(&fx);
	memstore_plan_uids(fx.far, 0);
	memstore_refuse_marked(fx.far, 1);
	deliver_n(fx.far, 1, 2, 0);
	deliver_n(fx.near, 10, 1, 0);
	memstore_deliver(fx.near, "INBOX", MEMSTORE_REFUSE_MARK "\r\n2\r\n", 0);
	deliver_n(fx.near, 11, 1, 0);
	for (int run = 1; run <= 3; run++) {
		before = memstore_calls(fx.far);
		ck_assert_int_eq(fx_sync(&fx), -1);
		ck_assert_str_eq(buf_cstr(&fx.err), "1 message could not be "
		    "copied in this run (see above); it stays wanted and the "
		    "next run tries again");
		ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], run == 1 ? 2 : 0);
		ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], run == 1 ? 2 : 0);
		ck_assert_uint_eq(memstore_calls(fx.far).commit - before.commit,
		    1);
		ck_assert_msg(strstr(buf_cstr(&fx.log), "test:INBOX: near "
		    "message UID 2 not copied: memstore: NO [LIMIT] message "
		    "refused") != NULL, "%s", buf_cstr(&fx.log));
		ck_assert(!tl_exists(fx.paths.journal));
		ck_assert_uint_eq(count(fx.far), 4);
		ck_assert_uint_eq(count(fx.near), 5);
	}
	memstore_refuse_marked(fx.far, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(count(fx.far), 5);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/*
 * An empty message (an empty Maildir file) is not copied: each run warns
 * once, naming it, and succeeds; the others are copied and recorded once;
 * it stays wanted (maxuid of its side below it), so that nothing passes
 * it by, and once it is gone nothing is left to do. (Two empty messages,
 * one on each side, are not paired: below.)
 */
START_TEST(test_empty_message_warns_and_stays_wanted)
{
	struct fixture fx;
	struct sync_state st;
	struct journal_info info;

	fx_init(&fx);
	deliver_n(fx.far, 1, 1, 0);
	deliver_n(fx.near, 10, 2, 0);
	memstore_deliver(fx.near, "INBOX", "", MSG_SEEN);
	deliver_n(fx.near, 12, 1, 0);
	for (int run = 1; run <= 2; run++) {
		ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
		ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], run == 1 ? 1 : 0);
		ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], run == 1 ? 3 : 0);
		ck_assert_msg(strstr(buf_cstr(&fx.log), "test:INBOX: near "
		    "message UID 3 is empty (0 bytes): not copied") != NULL,
		    "%s", buf_cstr(&fx.log));
		ck_assert_uint_eq(count(fx.far), 4);
		ck_assert_uint_eq(count(fx.near), 5);
		state_init(&st);
		ck_assert_int_eq(state_load(fx.paths.state, fx.paths.journal,
		    &st, &info, &fx.lg, &fx.err), 0);
		ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 2);
		ck_assert_uint_eq(st.npairs, 4);
		state_free(&st);
	}
	ck_assert_int_eq(memstore_remove(fx.near, "INBOX", 3), 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_ptr_null(strstr(buf_cstr(&fx.log), "empty"));
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	ck_assert_uint_eq(count(fx.far), 4);
	ck_assert_uint_eq(count(fx.near), 4);
	fx_free(&fx);
}
END_TEST

/*
 * An IMAP -> IMAP push to a server without UIDPLUS whose APPEND drops the
 * flags, killed after the APPENDs and before their results were
 * journalled: ten flagged messages, all of one size. Recovery finds each
 * copy by its fingerprint with one fetch per candidate (not one per
 * candidate and intent), records the flags that were sent as the base,
 * and gives the copies the flags their server dropped: the source keeps
 * its flags.
 */
START_TEST(test_recover_flags_the_target_dropped)
{
	struct fixture fx;
	struct memstore_calls before, after;
	struct mbox_status st;
	struct msg_list l = { 0 };

	fx_init(&fx);
	memstore_plan_uids(fx.near, 0);
	memstore_drop_flags(fx.near, 1);
	deliver_n(fx.far, 10, 10, MSG_FLAGGED | MSG_SEEN);
	deliver_n(fx.near, 10, 10, 0);	/* the copies, flags dropped */
	for (uint32_t uid = 1; uid <= 10; uid++) {
		char body[64];
		struct journal_rec rec = { .kind = JR_COPY_INTENT };
		struct fingerprint fp;

		snprintf(body, sizeof(body), "Message-ID: <%u@t>\r\n\r\n%u\r\n",
		    uid + 9, uid + 9);
		fp = fingerprint_of(body, strlen(body));
		rec.copy.src = SIDE_FAR;
		rec.copy.src_uid = uid;
		rec.copy.flags = MSG_FLAGGED | MSG_SEEN;
		rec.copy.uidnext = 1;
		rec.copy.size = fp.size;
		rec.copy.hash = fp.hash;
		leave_record(&fx, &rec);
	}
	before = memstore_calls(fx.near);
	ck_assert_int_eq(fx_sync(&fx), 0);
	after = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.recovered, 10);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR] +
	    fx.stats.copied[SIDE_FAR], 0);
	for (int side = 0; side < 2; side++) {
		struct store *str = side ? fx.near : fx.far;

		ck_assert_int_eq(str->ops->open(str, "INBOX", &st, &fx.err),
		    0);
		ck_assert_int_eq(str->ops->scan(str, NULL, &l, &fx.err), 0);
		ck_assert_uint_eq(l.n, 10);
		for (size_t i = 0; i < l.n; i++)
			ck_assert_msg(l.v[i].flags == (MSG_FLAGGED | MSG_SEEN),
			    "%s UID %u has flags %x", side ? "near" : "far",
			    l.v[i].uid, l.v[i].flags);
		msg_list_free(&l);
	}
	ck_assert_uint_eq(after.fetched - before.fetched, 10);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.flagged[0] + fx.stats.flagged[1], 0);
	fx_free(&fx);
}
END_TEST

/* The target fails in the middle of its commit (a connection lost):
 * the copies it confirmed are recorded at once, only the others are left
 * to recovery, which finds them; nothing is copied twice. */
START_TEST(test_commit_failure_records_what_arrived)
{
	struct fixture fx;

	fx_init(&fx);
	memstore_plan_uids(fx.near, 0);
	memstore_lose_answers_after(fx.near, 2);
	deliver_n(fx.far, 1, 5, 0);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_str_eq(buf_cstr(&fx.err), "memstore: connection lost");
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 2);
	ck_assert(tl_exists(fx.paths.journal));
	memstore_lose_answers_after(fx.near, 0);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	ck_assert_uint_eq(fx.stats.recovered, 3);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 0);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 0);
	fx_free(&fx);
}
END_TEST

/*
 * A journal lost while intents were pending (the copies arrived, nothing
 * recorded them): the next run finds both sides holding the messages no
 * record holds and pairs them by content instead of copying them again,
 * for a target that names UIDs in advance and for one that does not.
 */
START_TEST(test_lost_journal_with_pending_intents)
{
	for (int plans = 0; plans < 2; plans++) {
		struct fixture fx;

		fx_init(&fx);
		memstore_plan_uids(fx.near, plans);
		deliver_n(fx.far, 1, 3, MSG_SEEN);
		deliver_n(fx.near, 1, 3, 0);	/* the copies, arrived */
		leave_intent_fp(&fx, plans ? 1 : 0,
		    "Message-ID: <1@t>\r\n\r\n1\r\n");
		ck_assert(unlink(fx.paths.journal) == 0);
		ck_assert_int_eq(fx_sync(&fx), 0);
		ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR] +
		    fx.stats.copied[SIDE_FAR], 0);
		ck_assert_uint_eq(count(fx.near), 3);
		ck_assert_uint_eq(count(fx.far), 3);
		ck_assert_uint_eq(fx.stats.flagged[SIDE_NEAR], 3);
		ck_assert_int_eq(fx_sync(&fx), 0);
		ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1] +
		    fx.stats.flagged[0] + fx.stats.flagged[1], 0);
		fx_free(&fx);
	}
}
END_TEST

/*
 * Pairing by content costs fetches only when both sides hold messages no
 * record holds: a first sync into an empty side reads each message once,
 * to copy it, and a lost state reads each message of both sides once.
 */
START_TEST(test_first_contact_cost)
{
	struct fixture fx;
	struct memstore_calls f0, n0, f1, n1;

	fx_init(&fx);
	deliver_n(fx.far, 1, 5, 0);
	f0 = memstore_calls(fx.far);
	ck_assert_int_eq(fx_sync(&fx), 0);
	f1 = memstore_calls(fx.far);
	ck_assert_uint_eq(f1.fetched - f0.fetched, 5);
	ck_assert(unlink(fx.paths.state) == 0);
	f0 = memstore_calls(fx.far);
	n0 = memstore_calls(fx.near);
	ck_assert_int_eq(fx_sync(&fx), 0);
	f1 = memstore_calls(fx.far);
	n1 = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	ck_assert_uint_eq(f1.fetched - f0.fetched, 5);
	ck_assert_uint_eq(n1.fetched - n0.fetched, 5);
	ck_assert_uint_eq(f1.headers - f0.headers, 5);
	ck_assert_uint_eq(n1.headers - n0.headers, 5);
	ck_assert_uint_eq(count(fx.near), 5);
	ck_assert_uint_eq(count(fx.far), 5);
	fx_free(&fx);
}
END_TEST

/*
 * The run users make all day: both sides got new mail, none of it the
 * same (50 messages arrived on the server, one sent message was saved
 * locally). First contact compares header hashes, finds nothing in
 * common, and each copied message is read once, to copy it.
 */
START_TEST(test_first_contact_new_mail_read_once)
{
	struct fixture fx;
	struct memstore_calls f0, n0, f1, n1;

	fx_init(&fx);
	deliver_n(fx.far, 1, 3, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	deliver_n(fx.far, 100, 50, 0);
	deliver_n(fx.near, 200, 1, MSG_SEEN);
	f0 = memstore_calls(fx.far);
	n0 = memstore_calls(fx.near);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	f1 = memstore_calls(fx.far);
	n1 = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 50);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(f1.fetched - f0.fetched, 50);
	ck_assert_uint_eq(n1.fetched - n0.fetched, 1);
	ck_assert_uint_eq(f1.headers - f0.headers, 50);
	ck_assert_uint_eq(n1.headers - n0.headers, 1);
	ck_assert_uint_eq(count(fx.far), 54);
	ck_assert_uint_eq(count(fx.near), 54);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/* One Message-ID on two different messages (same header hash, other
 * size): both are read whole to compare, neither is paired, each is
 * copied. */
START_TEST(test_first_contact_shared_id_other_size)
{
	struct fixture fx;
	struct memstore_calls f0, n0, f1, n1;

	fx_init(&fx);
	memstore_deliver(fx.far, "INBOX", "Message-ID: <x@t>\r\n\r\none\r\n",
	    0);
	memstore_deliver(fx.near, "INBOX", "Message-ID: <x@t>\r\n\r\n"
	    "another body\r\n", 0);
	f0 = memstore_calls(fx.far);
	n0 = memstore_calls(fx.near);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	f1 = memstore_calls(fx.far);
	n1 = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(f1.fetched - f0.fetched, 2);
	ck_assert_uint_eq(n1.fetched - n0.fetched, 2);
	ck_assert_uint_eq(count(fx.far), 2);
	ck_assert_uint_eq(count(fx.near), 2);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/* Two copies of one message on far, one on near, and a message only far
 * has: one pair, the second copy and the other message copied; the
 * message nothing resembles is read once. */
START_TEST(test_first_contact_duplicates_one_to_one)
{
	struct fixture fx;
	struct memstore_calls f0, n0, f1, n1;

	fx_init(&fx);
	deliver_n(fx.far, 1, 1, 0);
	deliver_n(fx.far, 1, 1, 0);
	deliver_n(fx.far, 2, 1, 0);
	deliver_n(fx.near, 1, 1, 0);
	f0 = memstore_calls(fx.far);
	n0 = memstore_calls(fx.near);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	f1 = memstore_calls(fx.far);
	n1 = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 2);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 0);
	/* far: both copies compared, then one of them and <2@t> copied */
	ck_assert_uint_eq(f1.fetched - f0.fetched, 4);
	ck_assert_uint_eq(n1.fetched - n0.fetched, 1);
	ck_assert_uint_eq(count(fx.far), 3);
	ck_assert_uint_eq(count(fx.near), 3);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/* An empty message on each side at first contact: no message, so not a
 * pair either (a pair would carry a deletion of one to the other); each
 * is warned of and stays, and the message beside them is copied. */
START_TEST(test_first_contact_empty_messages_not_paired)
{
	struct fixture fx;
	struct sync_state st;
	struct journal_info info;

	fx_init(&fx);
	memstore_deliver(fx.far, "INBOX", "", 0);
	deliver_n(fx.far, 1, 1, 0);
	memstore_deliver(fx.near, "INBOX", "", 0);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 1);
	ck_assert_uint_eq(fx.stats.empty[SIDE_NEAR], 1);
	ck_assert_uint_eq(fx.stats.empty[SIDE_FAR], 1);
	state_init(&st);
	ck_assert_int_eq(state_load(fx.paths.state, fx.paths.journal, &st,
	    &info, &fx.lg, &fx.err), 0);
	ck_assert_uint_eq(st.npairs, 1);
	state_free(&st);
	ck_assert_int_eq(memstore_remove(fx.near, "INBOX", 1), 0);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	ck_assert_uint_eq(fx.stats.expunged[SIDE_FAR], 0);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_FAR], 0);
	ck_assert_uint_eq(count(fx.far), 2);
	fx_free(&fx);
}
END_TEST

/* A store without fetch_headers() gives full fingerprints, whose hashes
 * serve the first pass and are not read again; the other side reads
 * headers, and whole only the message they share. */
START_TEST(test_first_contact_store_without_headers)
{
	struct fixture fx;
	struct memstore_calls f0, n0, f1, n1;

	fx_init(&fx);
	memstore_headers(fx.far, 0);
	deliver_n(fx.far, 1, 3, 0);
	deliver_n(fx.near, 3, 1, MSG_SEEN);
	deliver_n(fx.near, 10, 1, 0);
	f0 = memstore_calls(fx.far);
	n0 = memstore_calls(fx.near);
	ck_assert_msg(fx_sync(&fx) == 0, "%s", buf_cstr(&fx.err));
	f1 = memstore_calls(fx.far);
	n1 = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 2);
	ck_assert_uint_eq(fx.stats.copied[SIDE_FAR], 1);
	ck_assert_uint_eq(f1.headers - f0.headers, 0);
	ck_assert_uint_eq(f1.fetched - f0.fetched, 3 + 2);
	ck_assert_uint_eq(n1.headers - n0.headers, 2);
	ck_assert_uint_eq(n1.fetched - n0.fetched, 1 + 1);
	ck_assert_uint_eq(count(fx.far), 4);
	ck_assert_uint_eq(count(fx.near), 4);
	ck_assert_uint_eq(count_flagged(fx.far, MSG_SEEN), 1);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.copied[0] + fx.stats.copied[1], 0);
	fx_free(&fx);
}
END_TEST

/*
 * Without a crash: ten flagged messages pushed to a target whose APPEND
 * drops the flags and which names no UID in advance (IMAP without
 * UIDPLUS). The copies get their flags once more, one call for the one
 * set, so that the next run does not take the loss for the user clearing
 * them: the source keeps its flags.
 */
START_TEST(test_copy_keeps_flags_the_target_dropped)
{
	struct fixture fx;
	struct memstore_calls before, after;

	fx_init(&fx);
	memstore_plan_uids(fx.near, 0);
	memstore_drop_flags(fx.near, 1);
	deliver_n(fx.far, 10, 10, MSG_FLAGGED | MSG_SEEN);
	before = memstore_calls(fx.near);
	ck_assert_int_eq(fx_sync(&fx), 0);
	after = memstore_calls(fx.near);
	ck_assert_uint_eq(fx.stats.copied[SIDE_NEAR], 10);
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(count_flagged(fx.far, MSG_FLAGGED | MSG_SEEN), 10);
	ck_assert_uint_eq(count_flagged(fx.near, MSG_FLAGGED | MSG_SEEN), 10);
	ck_assert_uint_eq(fx.stats.flagged[0] + fx.stats.flagged[1], 0);
	ck_assert_uint_eq(after.set_flags - before.set_flags, 1);
	fx_free(&fx);
}
END_TEST

START_TEST(test_dry_run_changes_nothing)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 3, 0);
	fx.job.dry_run = 1;
	fx.lg.level = LOG_NORMAL;
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_str_eq(buf_cstr(&fx.log),
	    "test:INBOX: would copy far->near uid 1 (flags -)\n"
	    "test:INBOX: would copy far->near uid 2 (flags -)\n"
	    "test:INBOX: would copy far->near uid 3 (flags -)\n"
	    "test:INBOX: would maxuid far 3\n"
	    "test:INBOX: would uidvalidity far 100\n"
	    "test:INBOX: would uidvalidity near 200\n"
	    "test:INBOX: dry run: 3 far->near, 0 near->far, 0 flag changes, "
	    "0 expunges\n");
	ck_assert_uint_eq(count(fx.near), 0);
	ck_assert_int_eq(tl_count_entries(fx.dir), 0);
	fx_free(&fx);
}
END_TEST

START_TEST(test_mass_deletion_guard)
{
	struct fixture fx;

	fx_init(&fx);
	deliver_n(fx.far, 1, 30, 0);
	ck_assert_int_eq(fx_sync(&fx), 0);
	for (uint32_t uid = 1; uid <= 30; uid++)
		memstore_remove(fx.far, "INBOX", uid);
	ck_assert_int_eq(fx_sync(&fx), -1);
	ck_assert_str_eq(buf_cstr(&fx.err), "30 of the 30 messages recorded "
	    "on far are gone from it (more than 90%); refusing to propagate "
	    "30 deletions to near (if they were meant, sync with "
	    "--allow-mass-delete)");
	ck_assert_uint_eq(count(fx.near), 30);
	fx.policy.allow_mass_delete = 1;
	ck_assert_int_eq(fx_sync(&fx), 0);
	ck_assert_uint_eq(fx.stats.flagged[SIDE_NEAR], 30);
	fx_free(&fx);
}
END_TEST

/* The test hooks: numbers checked, the command run once, at its step. */
START_TEST(test_hook_runs_at_its_step)
{
	struct crash_point cp;
	struct buf err = BUF_INIT, cmd = BUF_INIT;
	char *dir = tl_mkdtemp("hook"), *mark = tl_path(dir, "mark"), *text;
	size_t len;

	ck_assert_int_eq(crash_point_init(&cp, "x1", NULL, NULL, &err), -1);
	ck_assert_str_eq(buf_cstr(&err), "TWINBOX_CRASH_AFTER='x1' is not a "
	    "number");
	ck_assert_int_eq(crash_point_init(&cp, NULL, "3", NULL, &err), -1);
	ck_assert_str_eq(buf_cstr(&err), "TWINBOX_HOOK_AT is set without "
	    "TWINBOX_HOOK_CMD");
	buf_addf(&cmd, "echo x >>'%s'", mark);
	ck_assert_int_eq(crash_point_init(&cp, "", "3", cmd.data, &err), 0);
	crash_step(&cp);
	crash_step(&cp);
	ck_assert(!tl_exists(mark));
	crash_step(&cp);
	crash_step(&cp);
	text = tl_read_file(mark, &len);
	ck_assert_str_eq(text, "x\n");
	free(text);
	tl_rmtree(dir);
	free(dir);
	free(mark);
	buf_free(&cmd);
	buf_free(&err);
}
END_TEST

static Suite *
exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("mailbox");

	tcase_add_test(tc, test_first_sync_then_nothing);
	tcase_add_test(tc, test_failed_copy_stays_wanted);
	tcase_add_test(tc, test_failed_copies_reported_each_with_its_reason);
	tcase_add_test(tc, test_scan_checked_at_the_boundary);
	tcase_add_test(tc, test_maxuid_stops_below_failed_copy);
	tcase_add_test(tc, test_uidvalidity_keeps_failed_copy_wanted);
	tcase_add_test(tc, test_repair_completes_around_a_failed_copy);
	tcase_add_test(tc, test_hook_runs_at_its_step);
	tcase_add_test(tc, test_flag_changes_grouped);
	tcase_add_test(tc, test_recover_copy_that_arrived);
	tcase_add_test(tc, test_recover_copy_that_never_arrived);
	tcase_add_test(tc, test_recover_copy_by_fingerprint);
	tcase_add_test(tc, test_recover_planned_uid_taken_by_other_mail);
	tcase_add_test(tc, test_refused_copy_stays_wanted);
	tcase_add_test(tc, test_empty_message_warns_and_stays_wanted);
	tcase_add_test(tc, test_first_contact_empty_messages_not_paired);
	tcase_add_test(tc, test_commit_failure_records_what_arrived);
	tcase_add_test(tc, test_recover_flags_the_target_dropped);
	tcase_add_test(tc, test_copy_keeps_flags_the_target_dropped);
	tcase_add_test(tc, test_lost_journal_with_pending_intents);
	tcase_add_test(tc, test_first_contact_cost);
	tcase_add_test(tc, test_first_contact_new_mail_read_once);
	tcase_add_test(tc, test_first_contact_shared_id_other_size);
	tcase_add_test(tc, test_first_contact_duplicates_one_to_one);
	tcase_add_test(tc, test_first_contact_store_without_headers);
	tcase_add_test(tc, test_dry_run_changes_nothing);
	tcase_add_test(tc, test_mass_deletion_guard);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(exec_suite());
}
