/*
 * Unit tests: mbsync's Flatten and MapInbox (src/store_names.c) in front
 * of a Maildir store on real files: the canonical "a/b" is the folder
 * "a.b" both ways, a name holding the delimiter is refused naming the
 * mailbox it would be mistaken for, two folders that would be one
 * mailbox fail the listing naming both, and MapInbox's name is INBOX;
 * local_dir() answers through the wrapper with the mapped folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "store.h"
#include "store_names.h"
#include "support/testlib.h"

struct env {
	char *root;
	struct buf cap;
	struct logger lg;
	struct buf err;
	struct store *s;
};

static void
env_start(struct env *e, enum maildir_subfolders style, const char *flatten,
    const char *map_inbox)
{
	struct maildir_options opt = { .subfolders = style };
	struct store *in;

	memset(e, 0, sizeof(*e));
	e->root = tl_mkdtemp("stnames");
	e->lg.level = LOG_NORMAL;
	e->lg.capture = &e->cap;
	opt.path = e->root;
	in = maildir_store_new(&opt, &e->lg, &e->err);
	ck_assert_ptr_nonnull(in);
	e->s = store_names_wrap(in, "local", flatten, map_inbox);
	ck_assert_ptr_eq(store_names_inner(e->s), in);
}

static void
env_end(struct env *e)
{
	e->s->ops->free(e->s);
	tl_rmtree(e->root);
	free(e->root);
	buf_free(&e->cap);
	buf_free(&e->err);
}

static int
has_dir(const struct env *e, const char *rel)
{
	char *p = tl_path(e->root, rel);
	char *cur = tl_path(p, "cur");
	int ok = tl_exists(cur);

	free(p);
	free(cur);
	return ok;
}

static void
create_ok(struct env *e, const char *name)
{
	ck_assert_msg(e->s->ops->create(e->s, name, &e->err) == 0,
	    "create %s: %s", name, buf_cstr(&e->err));
}

/* The listing, joined with spaces. */
static char *
listing(struct env *e)
{
	struct strlist l = { 0 };
	struct buf b = BUF_INIT;

	ck_assert_msg(e->s->ops->list(e->s, &l, &e->err) == 0, "list: %s",
	    buf_cstr(&e->err));
	for (size_t i = 0; i < l.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", l.v[i]);
	strlist_free(&l);
	buf_adds(&b, "");
	return buf_detach(&b);
}

START_TEST(test_flatten_both_ways)
{
	struct env e;
	struct mbox_status st;
	char *l, *iname;

	env_start(&e, MAILDIR_SUB_NONE, ".", NULL);
	create_ok(&e, "INBOX");
	create_ok(&e, "a/b/c");
	create_ok(&e, "x");
	ck_assert(has_dir(&e, "a.b.c"));
	ck_assert(!has_dir(&e, "a"));
	ck_assert(has_dir(&e, "x"));
	/* A folder made flat by someone else is a hierarchical mailbox. */
	tl_mkdirs(e.root);
	{
		static const char *const sub[] = { "cur", "new", "tmp" };

		for (int i = 0; i < 3; i++) {
			char *d = tl_path(e.root, "Lists.dev");
			char *p = tl_path(d, sub[i]);

			tl_mkdirs(p);
			free(p);
			free(d);
		}
	}
	l = listing(&e);
	ck_assert_str_eq(l, "INBOX Lists/dev a/b/c x");
	free(l);
	ck_assert_msg(e.s->ops->open(e.s, "Lists/dev", &st, &e.err) == 0,
	    "%s", buf_cstr(&e.err));
	ck_assert_int_eq(store_names_to_inner(e.s, "a/b/c", &iname, &e.err),
	    0);
	ck_assert_str_eq(iname, "a.b.c");
	free(iname);
	/* INBOX's subfolders go under Path with the INBOX prefix. */
	create_ok(&e, "INBOX/sub");
	ck_assert(has_dir(&e, "INBOX.sub"));
	env_end(&e);
}
END_TEST

START_TEST(test_flatten_refuses_merges)
{
	struct env e;
	struct strlist l = { 0 };
	char *iname = NULL;

	env_start(&e, MAILDIR_SUB_NONE, ".", NULL);
	create_ok(&e, "a/b");
	/* "a.b" would be the folder of "a/b": refused, naming both. */
	ck_assert_int_eq(e.s->ops->create(e.s, "a.b", &e.err), -1);
	ck_assert_str_eq(buf_cstr(&e.err), "store 'local': mailbox 'a.b' "
	    "cannot be stored with Flatten '.': its name holds the "
	    "delimiter, so its folder would be the one of mailbox 'a/b'; "
	    "rename it");
	ck_assert_int_eq(store_names_to_inner(e.s, "a.b", &iname, &e.err),
	    -1);
	ck_assert_ptr_null(iname);
	ck_assert(!has_dir(&e, "a.b.") && has_dir(&e, "a.b"));
	env_end(&e);

	/* Two folders on disk that would be one mailbox: the list fails
	 * naming both, nothing is merged. */
	env_start(&e, MAILDIR_SUB_VERBATIM, ".", NULL);
	{
		char *p1 = tl_path(e.root, "a.b/cur");
		char *p2 = tl_path(e.root, "a/b/cur");

		tl_mkdirs(p1);
		tl_mkdirs(p2);
		free(p1);
		free(p2);
	}
	ck_assert_int_eq(e.s->ops->list(e.s, &l, &e.err), -1);
	ck_assert_str_eq(buf_cstr(&e.err), "store 'local': folders 'a.b' and "
	    "'a/b' would both be mailbox 'a/b' under Flatten '.'; rename one "
	    "of them");
	strlist_free(&l);
	env_end(&e);

	/* A hierarchical folder alone cannot be reached: skipped, said. */
	env_start(&e, MAILDIR_SUB_VERBATIM, "-", NULL);
	{
		char *p = tl_path(e.root, "p/q/cur");

		tl_mkdirs(p);
		free(p);
	}
	iname = listing(&e);
	ck_assert_str_eq(iname, "");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "store 'local': "
	    "ignoring mailbox 'p/q': with Flatten '-' only folders without "
	    "hierarchy are read"));
	free(iname);
	env_end(&e);
}
END_TEST

START_TEST(test_map_inbox)
{
	struct env e;
	struct mbox_status st;
	char *l, *iname;

	env_start(&e, MAILDIR_SUB_VERBATIM, NULL, "Inbox");
	l = listing(&e);
	ck_assert_str_eq(l, "");	/* no INBOX, no alias */
	free(l);
	create_ok(&e, "INBOX");
	create_ok(&e, "Sent");
	l = listing(&e);
	ck_assert_str_eq(l, "INBOX Inbox Sent");
	free(l);
	ck_assert_int_eq(store_names_to_inner(e.s, "Inbox", &iname, &e.err),
	    0);
	ck_assert_str_eq(iname, "INBOX");
	free(iname);
	ck_assert_int_eq(e.s->ops->open(e.s, "Inbox", &st, &e.err), 0);
	ck_assert_int_eq(e.s->ops->create(e.s, "Inbox/x", &e.err), -1);
	ck_assert_str_eq(buf_cstr(&e.err), "store 'local': mailbox 'Inbox/x' "
	    "cannot be stored: 'Inbox' is the INBOX (MapInbox), which has no "
	    "subfolders");
	/* A real folder of that name is hidden by the alias, and said so. */
	{
		char *p = tl_path(e.root, "Inbox/cur");

		tl_mkdirs(p);
		free(p);
	}
	l = listing(&e);
	ck_assert_str_eq(l, "INBOX Inbox Sent");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "store 'local': "
	    "ignoring mailbox 'Inbox': MapInbox gives the name 'Inbox' to "
	    "INBOX"));
	free(l);
	env_end(&e);
}
END_TEST

/* The wrapper answers local_dir() with the inner store's folder of the
 * mapped name, and has no copy_arrival_date() where the inner has none. */
START_TEST(test_local_dir_mapped)
{
	struct env e;
	char *dir, *want;

	env_start(&e, MAILDIR_SUB_NONE, ".", "Incoming");
	ck_assert_ptr_nonnull(e.s->ops->local_dir);
	ck_assert_ptr_null(e.s->ops->copy_arrival_date);
	ck_assert_msg(e.s->ops->local_dir(e.s, "a/b", &dir, &e.err) == 0,
	    "local_dir: %s", buf_cstr(&e.err));
	want = tl_path(e.root, "a.b");
	ck_assert_str_eq(dir, want);
	free(dir);
	free(want);
	ck_assert_int_eq(e.s->ops->local_dir(e.s, "Incoming", &dir, &e.err),
	    0);
	want = tl_path(e.root, "INBOX");
	ck_assert_str_eq(dir, want);
	free(dir);
	free(want);
	/* A name Flatten would merge into another's folder is refused. */
	ck_assert_int_eq(e.s->ops->local_dir(e.s, "a.b", &dir, &e.err), -1);
	env_end(&e);
}
END_TEST

START_TEST(test_no_keys_no_wrapper)
{
	struct maildir_options opt = { .path = "/nonexistent/x/" };
	struct buf err = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL };
	struct store *in = maildir_store_new(&opt, &lg, &err);
	char *iname;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_eq(store_names_wrap(in, "m", NULL, ""), in);
	ck_assert_ptr_eq(store_names_inner(in), in);
	ck_assert_int_eq(store_names_to_inner(in, "a.b/c", &iname, &err), 0);
	ck_assert_str_eq(iname, "a.b/c");
	free(iname);
	in->ops->free(in);
	buf_free(&err);
}
END_TEST

static Suite *
store_names_suite(void)
{
	Suite *s = suite_create("store_names");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_flatten_both_ways);
	tcase_add_test(tc, test_flatten_refuses_merges);
	tcase_add_test(tc, test_map_inbox);
	tcase_add_test(tc, test_local_dir_mapped);
	tcase_add_test(tc, test_no_keys_no_wrapper);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(store_names_suite());
}
