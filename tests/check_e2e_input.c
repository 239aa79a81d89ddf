/*
 * End to end through the binary: input that names something that is not
 * there, or not usable, fails with one message naming it and a non-zero
 * exit status, and creates nothing on disk (no mailbox, no state, no
 * lock): a channel's mailbox that does not exist, or was deleted since
 * the last sync, a mailbox named on the command line that exists on
 * neither side, a MaildirStore Path that does not exist, is a file or is
 * relative, and a channel whose Far and Near are the same mailbox. A Path
 * written with "~/" keeps working.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "support/testlib.h"
#include "support/twrun.h"

struct fx {
	char *top, *rc, *out;
	struct buf output;
};

static struct buf *tree_out;	/* nftw has no user pointer */
static size_t tree_skip;

static int
tree_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	const char *rel = path + tree_skip;

	(void)st;
	(void)type;
	(void)ftw;
	if (strcmp(rel, "/out") != 0)
		buf_addf(tree_out, "%s\n", rel);
	return 0;
}

/* Every path under the fixture's directory but the output file. */
static void
tree(const struct fx *f, struct buf *out)
{
	buf_reset(out);
	tree_out = out;
	tree_skip = strlen(f->top);
	ck_assert_int_eq(nftw(f->top, tree_entry, 16, FTW_PHYS), 0);
	tree_out = NULL;
}

/* Two Maildir stores under m/: far holds INBOX (two messages) and Work,
 * near holds INBOX (empty). The configuration's text follows "%s"s for
 * the top directory. */
static void
fx_init(struct fx *f)
{
	char *dir;

	memset(f, 0, sizeof(*f));
	f->top = tl_mkdtemp("input");
	f->rc = tl_path(f->top, "sync.rc");
	f->out = tl_path(f->top, "out");
	dir = tl_path(f->top, "m/far/INBOX");
	tw_make_box(dir, 7000, 0);
	tw_add_msg(dir, "one", "S", 0);
	tw_add_msg(dir, "two", "", 0);
	free(dir);
	dir = tl_path(f->top, "m/far/Work");
	tw_make_box(dir, 7001, 0);
	free(dir);
	dir = tl_path(f->top, "m/near/INBOX");
	tw_make_box(dir, 8000, 0);
	free(dir);
}

static void
fx_free(struct fx *f)
{
	tl_rmtree(f->top);
	free(f->top);
	free(f->rc);
	free(f->out);
	buf_free(&f->output);
}

/* The stores' sections with far's Path as given ("%s" = top). */
static void
write_rc(struct fx *f, const char *far_path, const char *channel)
{
	struct buf t = BUF_INIT, p = BUF_INIT;

	buf_addf(&p, far_path, f->top);
	buf_addf(&t, "FSync no\n\nMaildirStore far\nPath %s\n"
	    "Inbox %s/m/far/INBOX\n\nMaildirStore near\nPath %s/m/near/\n"
	    "Inbox %s/m/near/INBOX\n\n%s", p.data, f->top, f->top, f->top,
	    channel);
	tl_write_str(f->rc, t.data);
	buf_free(&t);
	buf_free(&p);
}

/* Run with args; the tree must be the same afterwards. Returns the exit
 * status; the output is in f->output. */
static int
run_unchanged(struct fx *f, const char *a1, const char *a2)
{
	const char *args[5] = { "-c", f->rc, a1, a2, NULL };
	struct buf before = BUF_INIT, after = BUF_INIT;
	int rc;

	tree(f, &before);
	buf_reset(&f->output);
	rc = tw_run(f->top, f->out, args, NULL, &f->output);
	tree(f, &after);
	ck_assert_msg(strcmp(before.data, after.data) == 0, "the run created "
	    "or removed files:\nbefore:\n%safter:\n%soutput:\n%s",
	    before.data, after.data, f->output.data);
	buf_free(&before);
	buf_free(&after);
	return rc;
}

static void
expect_output(const struct fx *f, const char *fmt)
{
	struct buf want = BUF_INIT;

	buf_addf(&want, fmt, f->top, f->top);
	ck_assert_str_eq(f->output.data, want.data);
	buf_free(&want);
}

/* With far's Path and the channel as given (see write_rc), a run of arg
 * exits with status, prints want (see expect_output) and leaves the tree
 * as it was. A failed sync (1) ends with the run's total line, a usage
 * error (2) without. */
static void
expect_refusal(struct fx *f, const char *far_path, const char *channel,
    const char *arg, int status, const char *want)
{
	write_rc(f, far_path, channel);
	ck_assert_int_eq(run_unchanged(f, arg, NULL), status);
	ck_assert_msg(tw_strip_total(&f->output) == (status == 1),
	    "total line %s expected:\n%s", status == 1 ? "" : "not",
	    f->output.data);
	expect_output(f, want);
}

/* mbsync: "far side box NoSuchFolder cannot be opened", exit 1. */
START_TEST(test_channel_box_missing)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "%s/m/far/",
	    "Channel c\nFar :far:NoSuchFolder\nNear :near:INBOX\n", "c", 1,
	    "twinbox: error: c: far mailbox 'NoSuchFolder' of "
	    "store 'far' cannot be opened: it does not exist, and Create does "
	    "not allow creating it there\n");
	fx_free(&f);
}
END_TEST

/* Missing on both sides: Create has nothing to copy from. */
START_TEST(test_channel_box_missing_both)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "%s/m/far/",
	    "Channel c\nFar :far:Nope\nNear :near:Nope\nCreate Both\n", "c", 1,
	    "twinbox: error: c: mailbox 'Nope' of store 'far' "
	    "and mailbox 'Nope' of store 'near' cannot be opened: neither "
	    "exists\n");
	fx_free(&f);
}
END_TEST

START_TEST(test_command_line_box_missing)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "%s/m/far/", "Channel acct\nFar :far:\n"
	    "Near :near:\nPatterns *\nCreate Both\n", "acct:INBX", 1,
	    "twinbox: error: acct:INBX: mailbox 'INBX' of store "
	    "'far' and mailbox 'INBX' of store 'near' cannot be opened: "
	    "neither exists\n");
	/* On one side only, without Create for the other: an error too. */
	expect_refusal(&f, "%s/m/far/", "Channel acct\nFar :far:\n"
	    "Near :near:\nPatterns *\n", "acct:Work", 1,
	    "twinbox: error: acct:Work: near mailbox 'Work' of "
	    "store 'near' cannot be opened: it does not exist, and Create "
	    "does not allow creating it there\n");
	fx_free(&f);
}
END_TEST

/* Synced once, then deleted on near: it is not made again there (its
 * records would turn into deletions), and without Remove it cannot be
 * synced: an error for a named mailbox. */
START_TEST(test_channel_box_deleted)
{
	struct fx f;
	struct buf rc = BUF_INIT;
	const char *args[4] = { "-c", NULL, "c", NULL };
	char *state, *work;

	fx_init(&f);
	args[1] = f.rc;
	state = tl_path(f.top, "state");
	tl_mkdirs(state);
	buf_addf(&rc, "Channel c\nFar :far:Work\nNear :near:Work\n"
	    "Create Near\nSyncState %s/\n", state);
	write_rc(&f, "%s/m/far/", rc.data);
	ck_assert_int_eq(tw_run(f.top, f.out, args, NULL, &f.output), 0);
	work = tl_path(f.top, "m/near/Work");
	ck_assert_int_eq(tl_exists(work), 1);
	tl_rmtree(work);
	ck_assert_int_eq(run_unchanged(&f, "c", NULL), 1);
	ck_assert(tw_strip_total(&f.output));
	expect_output(&f, "twinbox: error: c: near mailbox 'Work' of store "
	    "'near' cannot be opened: it was deleted since the last sync, and "
	    "Remove does not allow deleting the other one\n");
	free(state);
	free(work);
	buf_free(&rc);
	fx_free(&f);
}
END_TEST

START_TEST(test_maildir_path_missing)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "%s/m/nosuch/",
	    "Channel c\nFar :far:\nNear :near:\nCreate Both\n", "c", 1,
	    "twinbox: error: channel c: MaildirStore 'far' "
	    "(%s/sync.rc:4): Path '%s/m/nosuch/' does not exist: create the "
	    "directory, or correct Path\n");
	fx_free(&f);
}
END_TEST

/*
 * A mailbox Create must make but cannot (a file stands where the folder
 * would be): the error, a failed pair in the total and in --json, exit 1,
 * and nothing made.
 */
START_TEST(test_create_refused)
{
	struct fx f;
	char *file;
	const char *const want[] = {
		"twinbox: error: c: maildir Work: ",
		": not a directory or a symbolic link; refusing to create a "
		"mailbox through it\n",
		"twinbox: 1 mailbox pair: 0 changed, 1 failed, 0 skipped; ",
		"{\"channel\":\"c\",\"mailbox\":\"Work\",\"far\":\"Work\","
		"\"near\":\"Work\",\"result\":\"failed\",",
		"\"seconds\":0.000,\"errors\":[\"maildir Work: ",
	};

	fx_init(&f);
	file = tl_path(f.top, "m/near/Work");
	tl_write_str(file, "not a folder\n");
	write_rc(&f, "%s/m/far/", "Channel c\nFar :far:\nNear :near:\n"
	    "Patterns Work\nCreate Near\n");
	ck_assert_int_eq(run_unchanged(&f, "--json", "c"), 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(f.output.data, want[i]) != NULL,
		    "no \"%s\" in:\n%s", want[i], f.output.data);
	free(file);
	fx_free(&f);
}
END_TEST

START_TEST(test_maildir_path_is_a_file)
{
	struct fx f;
	char *file;

	fx_init(&f);
	file = tl_path(f.top, "m/file");
	tl_write_str(file, "not a directory\n");
	expect_refusal(&f, "%s/m/file/",
	    "Channel c\nFar :far:\nNear :near:\nCreate Both\n", "c", 1,
	    "twinbox: error: channel c: MaildirStore 'far' "
	    "(%s/sync.rc:4): Path '%s/m/file/' is not a directory: create the "
	    "directory, or correct Path\n");
	free(file);
	fx_free(&f);
}
END_TEST

START_TEST(test_maildir_path_relative)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "m/far/", "Channel c\nFar :far:\nNear :near:\n",
	    "c", 2, "twinbox: error: %s/sync.rc:4: MaildirStore 'far': "
	    "Path 'm/far/' is relative (mbsync 1.4 reads it from the current "
	    "directory, 1.5 from the configuration file's): expected a path "
	    "that starts with '/' or '~/'\n");
	fx_free(&f);
}
END_TEST

/* "~/" is $HOME, as in mbsync (the runs' HOME is the fixture's top). */
START_TEST(test_maildir_path_home)
{
	struct fx f;
	const char *args[4] = { "-c", NULL, "c", NULL };

	fx_init(&f);
	args[1] = f.rc;
	tl_write_str(f.rc, "FSync no\n\nMaildirStore far\nPath ~/m/far/\n"
	    "Inbox ~/m/far/INBOX\n\nMaildirStore near\nPath ~/m/near/\n"
	    "Inbox ~/m/near/INBOX\n\nChannel c\nFar :far:\nNear :near:\n");
	ck_assert_int_eq(tw_run(f.top, f.out, args, NULL, &f.output), 0);
	ck_assert(tw_strip_total(&f.output));
	ck_assert_str_eq(f.output.data, "c: far->near: 2 copied, 0 flagged, "
	    "0 expunged; near->far: 0 copied, 0 flagged, 0 expunged\n");
	fx_free(&f);
}
END_TEST

START_TEST(test_far_and_near_the_same)
{
	struct fx f;

	fx_init(&f);
	expect_refusal(&f, "%s/m/far/",
	    "Channel c\nFar :far:INBOX\nNear :far:\n", "c", 2,
	    "twinbox: error: %s/sync.rc:13: Channel 'c': Far "
	    "and Near are the same mailbox, INBOX of store 'far': expected "
	    "two different mailboxes\n");
	expect_refusal(&f, "%s/m/far/",
	    "Channel c\nFar :far:\nNear :far:\nPatterns *\n", "c", 2,
	    "twinbox: error: %s/sync.rc:13: Channel 'c': Far "
	    "and Near are the same mailboxes, every mailbox of store 'far': "
	    "expected two different mailboxes\n");
	fx_free(&f);
}
END_TEST

static Suite *
input_suite(void)
{
	Suite *s = suite_create("e2e input");
	TCase *tc = tcase_create("binary");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_channel_box_missing);
	tcase_add_test(tc, test_channel_box_missing_both);
	tcase_add_test(tc, test_command_line_box_missing);
	tcase_add_test(tc, test_channel_box_deleted);
	tcase_add_test(tc, test_maildir_path_missing);
	tcase_add_test(tc, test_maildir_path_is_a_file);
	tcase_add_test(tc, test_create_refused);
	tcase_add_test(tc, test_maildir_path_relative);
	tcase_add_test(tc, test_maildir_path_home);
	tcase_add_test(tc, test_far_and_near_the_same);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(input_suite());
}
