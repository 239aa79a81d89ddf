/*
 * Unit tests: Maildir file names (the fields a scan reads from each) and
 * mailbox names and folders: hostile names refused
 * with their reason and nothing created outside the root, symbolic links
 * not followed on creation, listing and creating nested folders in the
 * Maildir++, Verbatim, Legacy and flat styles, removal of empty mailboxes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "maildir/maildir_int.h"
#include "store.h"
#include "support/testlib.h"

/* ---- file names --------------------------------------------------- */

static void
assert_fields(const char *name, uint32_t uid, unsigned flags, int has_size,
    uint64_t size)
{
	struct md_name_fields f;
	uint64_t sz = 7;

	md_name_parse(name, ':', &f);
	ck_assert_msg(f.uid == uid && f.flags == flags &&
	    f.has_size == has_size && (!has_size || f.size == size),
	    "%s: uid %u flags %x size %d/%llu", name, f.uid, f.flags,
	    f.has_size, (unsigned long long)f.size);
	ck_assert_uint_eq(md_name_uid(name, ':'), uid);
	ck_assert_uint_eq(md_name_flags(name, ':'), flags);
	ck_assert_int_eq(md_name_size(name, ':', &sz), has_size ? 0 : -1);
	ck_assert_uint_eq(sz, has_size ? size : 7);
}

/* The one pass a scan makes over each name: the first well-formed ",U="
 * and ",S=" of the part before the delimiter, the flags of a ":2," info. */
START_TEST(test_file_name_fields)
{
	assert_fields("1.M2P3.host,U=12:2,FS", 12, MSG_FLAGGED | MSG_SEEN,
	    0, 0);
	assert_fields("1.M2P3.host,S=300,U=12:2,T", 12, MSG_DELETED, 1, 300);
	assert_fields("1.host,U=x,U=5,S=,S=9", 5, 0, 1, 9);
	assert_fields("1.host,U=,U=6:2,", 6, 0, 0, 0);
	assert_fields("1.host,U=4294967296:2,S", 0, MSG_SEEN, 0, 0);
	assert_fields("1.host,U=4294967295:2,S", 4294967295u, MSG_SEEN, 0, 0);
	assert_fields("1.host,U=5x:2,S", 0, MSG_SEEN, 0, 0);
	assert_fields("1.host:2,S,U=5", 0, MSG_SEEN, 0, 0);
	assert_fields("1.host,U=5:1,S", 5, 0, 0, 0);
	assert_fields("1.host,U=5", 5, 0, 0, 0);
	assert_fields("1.host,", 0, 0, 0, 0);
	assert_fields("1.host,U", 0, 0, 0, 0);
	assert_fields("", 0, 0, 0, 0);
	assert_fields("1.host,U=7:2,DFPRSTa", 7, MSG_DRAFT | MSG_FLAGGED |
	    MSG_FORWARDED | MSG_ANSWERED | MSG_SEEN | MSG_DELETED, 0, 0);
}
END_TEST

struct env {
	char *top;		/* temp dir holding root/ and outside/ */
	char *root;
	char *outside;
	struct buf cap;
	struct logger lg;
	struct buf err;
	struct store *s;
};

static void
env_start(struct env *e, enum maildir_subfolders style)
{
	struct maildir_options opt = { .subfolders = style, .fsync = 0 };

	memset(e, 0, sizeof(*e));
	e->top = tl_mkdtemp("mdnames");
	e->root = tl_path(e->top, "root");
	e->outside = tl_path(e->top, "outside");
	tl_mkdirs(e->root);
	tl_mkdirs(e->outside);
	e->lg.level = LOG_NORMAL;
	e->lg.capture = &e->cap;
	opt.path = e->root;
	e->s = maildir_store_new(&opt, &e->lg, &e->err);
	ck_assert_ptr_nonnull(e->s);
}

static void
env_end(struct env *e)
{
	e->s->ops->free(e->s);
	tl_rmtree(e->top);
	free(e->top);
	free(e->root);
	free(e->outside);
	buf_free(&e->cap);
	buf_free(&e->err);
}

static void
create_ok(struct env *e, const char *name)
{
	ck_assert_msg(e->s->ops->create(e->s, name, &e->err) == 0,
	    "create %s: %s", name, buf_cstr(&e->err));
}

static void
refused(struct env *e, const char *name, const char *want)
{
	struct mbox_status st;

	ck_assert_int_eq(e->s->ops->create(e->s, name, &e->err), -1);
	ck_assert_str_eq(buf_cstr(&e->err), want);
	ck_assert_int_eq(e->s->ops->open(e->s, name, &st, &e->err), -1);
	ck_assert_str_eq(buf_cstr(&e->err), want);
	ck_assert_int_eq(e->s->ops->remove(e->s, name, &e->err), -1);
	ck_assert_str_eq(buf_cstr(&e->err), want);
	/* Nothing appeared next to the root or inside it. */
	ck_assert_int_eq(tl_count_entries(e->top), 2);
	ck_assert_int_eq(tl_count_entries(e->outside), 0);
	ck_assert_int_eq(tl_count_entries(e->root), 0);
}

static const char *const dotdot =
    "\".\" and \"..\" components are not allowed (they would leave the "
    "folder tree)";

/* quoted: the name as the error shows it, control bytes escaped. */
static void
refused_why(struct env *e, const char *name, const char *quoted,
    const char *why)
{
	char want[512];

	snprintf(want, sizeof(want), "maildir: refusing mailbox name %s: %s",
	    quoted, why);
	refused(e, name, want);
}

static void
refuse_common(struct env *e)
{
	refused_why(e, "../x", "\"../x\"", dotdot);
	refused_why(e, "a/../../b", "\"a/../../b\"", dotdot);
	refused_why(e, "..", "\"..\"", dotdot);
	refused_why(e, ".", "\".\"", dotdot);
	refused_why(e, "a/./b", "\"a/./b\"", dotdot);
	refused_why(e, "/abs", "\"/abs\"", "absolute paths are not allowed");
	refused_why(e, "/", "\"/\"", "absolute paths are not allowed");
	refused_why(e, "", "\"\"", "empty name");
	refused_why(e, "a//b", "\"a//b\"", "empty path component");
	refused_why(e, "a/", "\"a/\"", "empty path component");
	refused_why(e, "a\nb", "\"a\\x0ab\"",
	    "control characters are not allowed");
	refused_why(e, "x\001\177", "\"x\\x01\\x7f\"",
	    "control characters are not allowed");
}

START_TEST(test_hostile_names_verbatim)
{
	struct env e;

	env_start(&e, MAILDIR_SUB_VERBATIM);
	refuse_common(&e);
	refused(&e, ".hidden", "maildir: refusing mailbox name \".hidden\": "
	    "a component starting with '.' would be hidden or taken for a "
	    "subfolder");
	refused(&e, "a/cur", "maildir: refusing mailbox name \"a/cur\": "
	    "\"cur\", \"new\" and \"tmp\" are Maildir's own directories");
	env_end(&e);
}
END_TEST

START_TEST(test_hostile_names_maildirpp)
{
	struct env e;

	env_start(&e, MAILDIR_SUB_MAILDIRPP);
	refuse_common(&e);
	refused(&e, "a.b", "maildir: refusing mailbox name \"a.b\": '.' is "
	    "the Maildir++ hierarchy separator and cannot appear inside a "
	    "folder name");
	refused(&e, "x/.y", "maildir: refusing mailbox name \"x/.y\": '.' is "
	    "the Maildir++ hierarchy separator and cannot appear inside a "
	    "folder name");
	env_end(&e);
}
END_TEST

START_TEST(test_flat_style_refuses_hierarchy)
{
	struct env e;
	struct strlist names = { 0 };

	env_start(&e, MAILDIR_SUB_NONE);
	refused(&e, "a/b", "maildir: refusing mailbox name \"a/b\": "
	    "hierarchical names need a SubFolders style");
	create_ok(&e, "a");
	create_ok(&e, "INBOX");
	ck_assert_int_eq(e.s->ops->list(e.s, &names, &e.err), 0);
	ck_assert_uint_eq(names.n, 2);
	ck_assert_str_eq(names.v[0], "INBOX");
	ck_assert_str_eq(names.v[1], "a");
	strlist_free(&names);
	env_end(&e);
}
END_TEST

START_TEST(test_create_does_not_follow_symlinks)
{
	struct env e;
	char *link, want[1024];

	env_start(&e, MAILDIR_SUB_VERBATIM);
	link = tl_path(e.root, "evil");
	ck_assert_int_eq(symlink(e.outside, link), 0);
	ck_assert_int_eq(e.s->ops->create(e.s, "evil/x", &e.err), -1);
	snprintf(want, sizeof(want), "maildir evil/x: %s: not a directory or "
	    "a symbolic link; refusing to create a mailbox through it", link);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	ck_assert_int_eq(e.s->ops->create(e.s, "evil", &e.err), -1);
	snprintf(want, sizeof(want), "maildir evil: %s: not a directory or "
	    "a symbolic link; refusing to create a mailbox through it", link);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	ck_assert_int_eq(tl_count_entries(e.outside), 0);
	free(link);
	env_end(&e);
}
END_TEST

static void
expect_list(struct env *e, const char *const *want, size_t n)
{
	struct strlist names = { 0 };

	ck_assert_int_eq(e->s->ops->list(e->s, &names, &e->err), 0);
	ck_assert_msg(names.n == n, "listed %zu names, want %zu", names.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(names.v[i], want[i]);
	strlist_free(&names);
}

static int
exists_below(struct env *e, const char *rel)
{
	char *p = tl_path(e->root, rel);
	int ok = tl_exists(p);

	free(p);
	return ok;
}

static void
link_at(struct env *e, const char *target, const char *rel)
{
	char *link = tl_path(e->root, rel);

	ck_assert_int_eq(symlink(target, link), 0);
	free(link);
}

/*
 * A symbolic link back to a directory being walked is a loop: listed
 * once, warned about by path. A link to a folder elsewhere still lists.
 */
START_TEST(test_symlink_loop_verbatim)
{
	static const char *const want[] = { "INBOX", "a", "ext", "x" };
	struct env e;
	char *ext;

	env_start(&e, MAILDIR_SUB_VERBATIM);
	ext = tl_path(e.outside, "ext/cur");
	tl_mkdirs(ext);
	create_ok(&e, "INBOX");
	create_ok(&e, "a");
	create_ok(&e, "x");
	link_at(&e, ".", "Loop");
	link_at(&e, "..", "a/Up");
	free(ext);
	ext = tl_path(e.outside, "ext");
	link_at(&e, ext, "ext");
	expect_list(&e, want, 4);
	ck_assert_msg(strstr(buf_cstr(&e.cap), "twinbox: warning: maildir: "
	    "skipping ") != NULL, "%s", buf_cstr(&e.cap));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "/root/Loop: a "
	    "symbolic link loop (the same directory as "));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "/root/a/Up: a "
	    "symbolic link loop"));
	free(ext);
	env_end(&e);
}
END_TEST

START_TEST(test_symlink_loop_maildirpp)
{
	static const char *const want[] = { "INBOX", "a" };
	struct env e;

	env_start(&e, MAILDIR_SUB_MAILDIRPP);
	create_ok(&e, "INBOX");
	create_ok(&e, "a");
	link_at(&e, ".", ".Loop");
	expect_list(&e, want, 2);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "/root/.Loop: a "
	    "symbolic link loop"));
	env_end(&e);
}
END_TEST

START_TEST(test_maildirpp_layout)
{
	static const char *const want[] = { "INBOX", "a", "a/b", "c" };
	struct env e;
	char *odd, *oddcur;

	env_start(&e, MAILDIR_SUB_MAILDIRPP);
	create_ok(&e, "INBOX");
	create_ok(&e, "a/b");
	create_ok(&e, "a");
	create_ok(&e, "c");
	create_ok(&e, "c");	/* creating twice is fine */
	ck_assert(exists_below(&e, "cur"));
	ck_assert(exists_below(&e, ".a.b/tmp"));
	ck_assert(exists_below(&e, ".a.b/maildirfolder"));
	ck_assert(exists_below(&e, ".a/new"));
	ck_assert(!exists_below(&e, "maildirfolder"));
	/* A folder whose name cannot be read back is skipped, loudly. */
	odd = tl_path(e.root, ".x..y");
	oddcur = tl_path(odd, "cur");
	tl_mkdirs(oddcur);
	expect_list(&e, want, 4);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "twinbox: warning: "
	    "maildir: ignoring "));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&e.cap), "/root/.x..y: maildir: "
	    "refusing mailbox name \"x//y\": empty path component\n"));
	free(odd);
	free(oddcur);
	env_end(&e);
}
END_TEST

START_TEST(test_verbatim_layout)
{
	static const char *const want[] = { "INBOX", "a/b/c", "a/b/c/d", "x" };
	struct env e;

	env_start(&e, MAILDIR_SUB_VERBATIM);
	create_ok(&e, "INBOX");
	create_ok(&e, "a/b/c");
	create_ok(&e, "a/b/c/d");
	create_ok(&e, "x");
	ck_assert(exists_below(&e, "INBOX/cur"));
	ck_assert(exists_below(&e, "a/b/c/new"));
	ck_assert(exists_below(&e, "a/b/c/d/tmp"));
	ck_assert(!exists_below(&e, "a/cur"));
	expect_list(&e, want, 4);
	env_end(&e);
}
END_TEST

START_TEST(test_legacy_layout)
{
	static const char *const want[] = { "a", "a/b", "a/b/c" };
	struct env e;

	env_start(&e, MAILDIR_SUB_LEGACY);
	create_ok(&e, "a");
	create_ok(&e, "a/b/c");
	ck_assert(exists_below(&e, "a/.b/.c/cur"));
	create_ok(&e, "a/b");
	expect_list(&e, want, 3);
	env_end(&e);
}
END_TEST

START_TEST(test_remove_only_empty)
{
	static const char *const after[] = { "INBOX", "a", "a/b/c" };
	struct env e;
	char *msg, want[1024];

	env_start(&e, MAILDIR_SUB_VERBATIM);
	create_ok(&e, "INBOX");
	create_ok(&e, "a");
	create_ok(&e, "a/b");
	create_ok(&e, "a/b/c");
	msg = tl_path(e.root, "a/cur/1.x.h,U=1:2,S");
	tl_write_str(msg, "m\n");
	ck_assert_int_eq(e.s->ops->remove(e.s, "a", &e.err), -1);
	snprintf(want, sizeof(want), "maildir a: %s/a/cur: not empty; "
	    "refusing to remove the mailbox", e.root);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	ck_assert_int_eq(e.s->ops->remove(e.s, "INBOX", &e.err), -1);
	snprintf(want, sizeof(want), "maildir INBOX: %s/INBOX: INBOX cannot "
	    "be removed", e.root);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	/* a/b has a subfolder: the mailbox goes, the directory stays. */
	ck_assert_int_eq(e.s->ops->remove(e.s, "a/b", &e.err), 0);
	ck_assert(exists_below(&e, "a/b/c/cur"));
	ck_assert(!exists_below(&e, "a/b/cur"));
	ck_assert_int_eq(e.s->ops->remove(e.s, "nope", &e.err), -1);
	snprintf(want, sizeof(want), "maildir nope: %s/nope: no such mailbox",
	    e.root);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	expect_list(&e, after, 3);
	free(msg);
	env_end(&e);
}
END_TEST

START_TEST(test_open_missing_mailbox)
{
	struct env e;
	struct mbox_status st;
	char want[1024];

	env_start(&e, MAILDIR_SUB_VERBATIM);
	ck_assert_int_eq(e.s->ops->open(e.s, "gone", &st, &e.err), -1);
	snprintf(want, sizeof(want), "maildir gone: %s/gone/cur: not a "
	    "mailbox: No such file or directory", e.root);
	ck_assert_str_eq(buf_cstr(&e.err), want);
	env_end(&e);
}
END_TEST

/* A store over the same root, with Utf7Names set. */
static void
reopen_utf7(struct env *e, enum maildir_subfolders style)
{
	struct maildir_options opt = { .subfolders = style, .fsync = 0,
		.utf7_names = 1, .path = e->root };

	e->s->ops->free(e->s);
	e->s = maildir_store_new(&opt, &e->lg, &e->err);
	ck_assert_ptr_nonnull(e->s);
}

static void
assert_dir_ends(struct env *e, const char *name, const char *tail)
{
	char *dir = NULL;

	ck_assert_int_eq(maildir_mailbox_dir(e->s, name, &dir, &e->err), 0);
	ck_assert_msg(strlen(dir) >= strlen(tail) &&
	    strcmp(dir + strlen(dir) - strlen(tail), tail) == 0,
	    "%s: got %s", name, dir);
	free(dir);
}

/* mbsync 1.4 wrote "Entw&APw-rfe": listed as "Entwürfe", used under its
 * own spelling, no twin made; new folders in UTF-8 unless Utf7Names. */
START_TEST(test_utf7_spelling_verbatim)
{
	static const char *const want[] = { "Entwürfe", "Größe" };
	static const char *const want7[] = { "Entwürfe", "Größe", "Ärger" };
	struct env e;
	char *d;

	env_start(&e, MAILDIR_SUB_VERBATIM);
	d = tl_path(e.root, "Entw&APw-rfe/cur");
	tl_mkdirs(d);
	free(d);
	d = tl_path(e.root, "Entw&APw-rfe/new");
	tl_mkdirs(d);
	free(d);
	d = tl_path(e.root, "Entw&APw-rfe/tmp");
	tl_mkdirs(d);
	free(d);
	assert_dir_ends(&e, "Entwürfe", "/Entw&APw-rfe");
	create_ok(&e, "Entwürfe");
	ck_assert(!exists_below(&e, "Entwürfe"));
	create_ok(&e, "Größe");
	ck_assert(exists_below(&e, "Größe/cur"));
	ck_assert(!exists_below(&e, "Gr&APYA3w-e"));
	expect_list(&e, want, 2);
	reopen_utf7(&e, MAILDIR_SUB_VERBATIM);
	assert_dir_ends(&e, "Größe", "/Größe");
	create_ok(&e, "Ärger");
	ck_assert(exists_below(&e, "&AMQ-rger/cur"));
	ck_assert(!exists_below(&e, "Ärger"));
	expect_list(&e, want7, 3);
	env_end(&e);
}
END_TEST

START_TEST(test_utf7_spelling_maildirpp)
{
	static const char *const want[] = { "Archiv/Entwürfe", "INBOX" };
	struct env e;
	char *d;

	env_start(&e, MAILDIR_SUB_MAILDIRPP);
	create_ok(&e, "INBOX");
	d = tl_path(e.root, ".Archiv.Entw&APw-rfe/cur");
	tl_mkdirs(d);
	free(d);
	assert_dir_ends(&e, "Archiv/Entwürfe", "/.Archiv.Entw&APw-rfe");
	expect_list(&e, want, 2);
	env_end(&e);
}
END_TEST

static Suite *
names_suite(void)
{
	Suite *s = suite_create("maildir_names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_file_name_fields);
	tcase_add_test(tc, test_hostile_names_verbatim);
	tcase_add_test(tc, test_hostile_names_maildirpp);
	tcase_add_test(tc, test_flat_style_refuses_hierarchy);
	tcase_add_test(tc, test_create_does_not_follow_symlinks);
	tcase_add_test(tc, test_maildirpp_layout);
	tcase_add_test(tc, test_verbatim_layout);
	tcase_add_test(tc, test_legacy_layout);
	tcase_add_test(tc, test_remove_only_empty);
	tcase_add_test(tc, test_open_missing_mailbox);
	tcase_add_test(tc, test_symlink_loop_verbatim);
	tcase_add_test(tc, test_symlink_loop_maildirpp);
	tcase_add_test(tc, test_utf7_spelling_verbatim);
	tcase_add_test(tc, test_utf7_spelling_maildirpp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(names_suite());
}
