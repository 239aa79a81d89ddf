/*
 * Unit tests: the durability barrier of a Maildir batch. The rule
 * (maildir_barrier.h) with injected counts and thresholds, never a
 * timing; then the store with thresholds injected through
 * maildir_options, so that both barriers run whatever the machine's
 * load: which one a commit used (its debug line), how many descriptors a
 * batch holds open while it waits, and that every file arrives whole.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "maildir/maildir_barrier.h"
#include "store.h"
#include "support/testlib.h"

static const struct maildir_barrier rule = {
	.max_files = 4, .dirty_per_file = 1000
};

/* A batch of nfiles with every descriptor held, 100 bytes each. */
static struct md_batch
batch(size_t nfiles, int64_t dirty)
{
	struct md_batch b = {
		.fsync = 1, .whole_fs = 1, .nfiles = nfiles, .nheld = nfiles,
		.bytes = 100 * (uint64_t)nfiles, .dirty = dirty
	};

	return b;
}

START_TEST(test_rule_fsync_no_flushes_nothing)
{
	struct md_batch b = batch(1, 1 << 30);

	b.fsync = 0;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_NONE);
	b.nfiles = 100;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_NONE);
	ck_assert(!md_barrier_holds(&rule, 0, 1, 0));
}
END_TEST

START_TEST(test_rule_small_batch_behind_a_writer)
{
	/* 3 files: 4 flushes, 4000 bytes of others' data allowed. */
	struct md_batch b = batch(3, 300 + 4001);

	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_EACH);
	b.dirty = 300 + 4000;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	/* The batch's own data is not another program's. */
	b.dirty = 300;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	b.dirty = 0;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	/* Up to max_files; not knowing the dirty data, the bounded cost. */
	b = batch(4, 1 << 30);
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_EACH);
	b.dirty = -1;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_EACH);
}
END_TEST

START_TEST(test_rule_large_batch_is_one_syncfs)
{
	struct md_batch b = batch(5, 1 << 30);

	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	b.dirty = -1;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	/* The first max_files appends of a batch are held, no more. */
	ck_assert(md_barrier_holds(&rule, 1, 1, 0));
	ck_assert(md_barrier_holds(&rule, 1, 1, 3));
	ck_assert(!md_barrier_holds(&rule, 1, 1, 4));
}
END_TEST

START_TEST(test_rule_each_needs_every_descriptor)
{
	struct md_batch b = batch(3, 1 << 30);

	b.nheld = 2;
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	b.nheld = 3;
	b.whole_fs = 0;		/* no syncfs(): the per-file fallback */
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
	ck_assert(!md_barrier_holds(&rule, 1, 0, 0));
	b = batch(0, 1 << 30);
	ck_assert_int_eq(md_barrier_choose(&rule, &b), MD_BARRIER_COMMON);
}
END_TEST

START_TEST(test_rule_thresholds)
{
	struct maildir_barrier never = { .max_files = 4,
		.dirty_per_file = -1 };
	struct maildir_barrier none = { .max_files = 0,
		.dirty_per_file = -1 };
	struct maildir_barrier huge = { .max_files = SIZE_MAX,
		.dirty_per_file = INT64_MAX };
	struct maildir_barrier def = maildir_barrier_default();
	struct md_batch b = batch(1, 0);

	ck_assert_int_eq(md_barrier_choose(&never, &b), MD_BARRIER_EACH);
	ck_assert_int_eq(md_barrier_choose(&none, &b), MD_BARRIER_COMMON);
	ck_assert(!md_barrier_holds(&none, 1, 1, 0));
	b = batch(1000, INT64_MAX);
	ck_assert_int_eq(md_barrier_choose(&huge, &b), MD_BARRIER_COMMON);
	/* The measured defaults (docs/maildir.md). */
	ck_assert_uint_eq(def.max_files, 24);
	ck_assert_int_eq(def.dirty_per_file, 256 * 1024);
	b = batch(24, 25 * 256 * 1024 + 2400 + 1);
	ck_assert_int_eq(md_barrier_choose(&def, &b), MD_BARRIER_EACH);
	b = batch(25, INT64_MAX);
	ck_assert_int_eq(md_barrier_choose(&def, &b), MD_BARRIER_COMMON);
}
END_TEST

/* The store side. */
struct fixture {
	char *root;
	struct buf cap;
	struct logger lg;
	struct buf err;
	struct store *s;
};

static void
fx_start(struct fixture *fx, int fsync, const struct maildir_barrier *r)
{
	struct maildir_options opt = {
		.subfolders = MAILDIR_SUB_MAILDIRPP, .fsync = fsync,
		.barrier = r
	};
	struct mbox_status st;

	memset(fx, 0, sizeof(*fx));
	fx->root = tl_mkdtemp("barrier");
	fx->lg.level = LOG_DEBUG;
	fx->lg.capture = &fx->cap;
	opt.path = fx->root;
	fx->s = maildir_store_new(&opt, &fx->lg, &fx->err);
	ck_assert_msg(fx->s != NULL, "%s", buf_cstr(&fx->err));
	ck_assert_msg(fx->s->ops->create(fx->s, "INBOX", &fx->err) == 0 &&
	    fx->s->ops->open(fx->s, "INBOX", &st, &fx->err) == 0,
	    "%s", buf_cstr(&fx->err));
}

static void
fx_end(struct fixture *fx)
{
	fx->s->ops->free(fx->s);
	tl_rmtree(fx->root);
	free(fx->root);
	buf_free(&fx->cap);
	buf_free(&fx->err);
}

/* Open descriptors of this process (the listing's own counts in both). */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void
append_one(struct fixture *fx, int i)
{
	struct msg_meta m = { .flags = i % 2 ? MSG_SEEN : 0 };
	struct store_append *a;
	char text[64];
	uint32_t uid;

	snprintf(text, sizeof(text), "Subject: %d\r\n\r\nbody %d\r\n", i, i);
	ck_assert_msg(fx->s->ops->append_begin(fx->s, &m, &a, &uid,
	    &fx->err) == 0 && fx->s->ops->append_write(a, text, strlen(text),
	    &fx->err) == 0 && fx->s->ops->append_finish(a, &fx->err) == 0,
	    "append %d: %s", i, buf_cstr(&fx->err));
}

/* Append n messages, check the descriptors held meanwhile, commit, and
 * check the debug line naming the barrier it used. */
static void
batch_of(struct fixture *fx, int n, int held, const char *barrier)
{
	int before = open_fds();
	struct append_result *res = NULL;
	size_t nres = 0;
	char want[128];

	for (int i = 0; i < n; i++)
		append_one(fx, i);
	ck_assert_int_eq(open_fds() - before, held);
	buf_reset(&fx->cap);
	ck_assert_msg(fx->s->ops->commit(fx->s, &res, &nres, &fx->err) == 0,
	    "commit: %s", buf_cstr(&fx->err));
	ck_assert_int_eq(open_fds(), before);
	ck_assert_uint_eq(nres, (size_t)n);
	for (size_t i = 0; i < nres; i++)
		ck_assert_int_eq(res[i].status, STORE_OK);
	append_results_free(res, nres);
	snprintf(want, sizeof(want), "%d new files made durable by %s", n,
	    barrier);
	ck_assert_msg(strstr(buf_cstr(&fx->cap), want) != NULL,
	    "wanted \"%s\" in: %s", want, buf_cstr(&fx->cap));
}

/* Every message arrived, whole, and tmp/ is empty. */
static void
check_arrived(struct fixture *fx, size_t n)
{
	struct msg_list l = { 0 };
	char *tmp = tl_path(fx->root, "tmp");

	ck_assert_int_eq(fx->s->ops->scan(fx->s, NULL, &l, &fx->err), 0);
	ck_assert_uint_eq(l.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_gt(l.v[i].size, 0);
	ck_assert_int_eq(tl_count_entries(tmp), 0);
	msg_list_free(&l);
	free(tmp);
}

START_TEST(test_store_small_batch_each_large_one_common)
{
	/* Never "quiet": a batch of up to 4 files is synced file by file. */
	struct maildir_barrier busy = { .max_files = 4,
		.dirty_per_file = -1 };
	int whole = tw_syncfs_is_whole_fs();
	const char *common = whole ? "syncfs" : "fsync each";
	struct fixture fx;

	fx_start(&fx, 1, &busy);
	batch_of(&fx, 1, whole ? 1 : 0, whole ? "fdatasync each" : common);
	batch_of(&fx, 4, whole ? 4 : 0, whole ? "fdatasync each" : common);
	/* The fifth closes nothing early and is not held itself. */
	batch_of(&fx, 7, whole ? 4 : 0, common);
	check_arrived(&fx, 12);
	fx_end(&fx);
}
END_TEST

START_TEST(test_store_quiet_disk_keeps_syncfs)
{
	/* Any amount of others' data counts as little: one syncfs(). */
	struct maildir_barrier quiet = { .max_files = 4,
		.dirty_per_file = INT64_MAX };
	int whole = tw_syncfs_is_whole_fs();
	struct fixture fx;

	fx_start(&fx, 1, &quiet);
	batch_of(&fx, 3, whole ? 3 : 0, whole ? "syncfs" : "fsync each");
	check_arrived(&fx, 3);
	fx_end(&fx);
}
END_TEST

START_TEST(test_store_fsync_no_holds_and_flushes_nothing)
{
	struct maildir_barrier busy = { .max_files = 4,
		.dirty_per_file = -1 };
	struct fixture fx;

	fx_start(&fx, 0, &busy);
	batch_of(&fx, 2, 0, "nothing (FSync no)");
	batch_of(&fx, 6, 0, "nothing (FSync no)");
	check_arrived(&fx, 8);
	fx_end(&fx);
}
END_TEST

START_TEST(test_store_dropped_batch_closes_held)
{
	struct maildir_barrier busy = { .max_files = 4,
		.dirty_per_file = -1 };
	struct fixture fx;
	struct mbox_status st;
	int before;

	fx_start(&fx, 1, &busy);
	before = open_fds();
	append_one(&fx, 0);
	append_one(&fx, 1);
	/* Opening a mailbox drops the uncommitted batch (maildir.h). */
	ck_assert_msg(fx.s->ops->open(fx.s, "INBOX", &st, &fx.err) == 0,
	    "%s", buf_cstr(&fx.err));
	ck_assert_int_eq(open_fds(), before);
	check_arrived(&fx, 0);
	batch_of(&fx, 2, tw_syncfs_is_whole_fs() ? 2 : 0,
	    tw_syncfs_is_whole_fs() ? "fdatasync each" : "fsync each");
	check_arrived(&fx, 2);
	fx_end(&fx);
}
END_TEST

static Suite *
barrier_suite(void)
{
	Suite *s = suite_create("maildir_barrier");
	TCase *tc = tcase_create("rule");

	tcase_add_test(tc, test_rule_fsync_no_flushes_nothing);
	tcase_add_test(tc, test_rule_small_batch_behind_a_writer);
	tcase_add_test(tc, test_rule_large_batch_is_one_syncfs);
	tcase_add_test(tc, test_rule_each_needs_every_descriptor);
	tcase_add_test(tc, test_rule_thresholds);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	/* Real flushes: behind another program's writes one can take
	 * seconds (docs/maildir.md). */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_store_small_batch_each_large_one_common);
	tcase_add_test(tc, test_store_quiet_disk_keeps_syncfs);
	tcase_add_test(tc, test_store_fsync_no_holds_and_flushes_nothing);
	tcase_add_test(tc, test_store_dropped_batch_closes_held);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(barrier_suite());
}
