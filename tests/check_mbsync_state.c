/*
 * Reading mbsync's state of a mailbox pair (sync/mbsync_state.h), from the
 * fixtures in tests/data/mbsync/: the state file of mbsync 1.4 (written
 * by the real mbsync 1.4.4 in its layout), of 1.3 (Master/Slave keys) and
 * of the pre-1.1 one-line header; journals of 1.4 (version 4) and 1.5
 * (version 5) replayed while the ".new" file of an unfinished run exists,
 * and ignored without it; and damaged or untakeable files refused with
 * "FILE:LINE: why". Found relative to the top of the tree.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "support/testlib.h"
#include "sync/mbsync_state.h"

/* A file of tests/data/mbsync/, malloc'd. */
static char *
data(const char *name)
{
	struct buf rel = BUF_INIT;
	char *path;

	buf_setf(&rel, "tests/data/mbsync/%s", name);
	path = tl_src_path(rel.data);
	buf_free(&rel);
	return path;
}

static void
load(const char *name, struct sync_state *st)
{
	struct buf err = BUF_INIT;
	char *path = data(name);
	int found = -1;

	state_init(st);
	ck_assert_msg(mbsync_state_read(path,
	    st, &found, &err) == 0, "%s: %s", path, buf_cstr(&err));
	ck_assert_int_eq(found, 1);
	buf_free(&err);
	free(path);
}

static void
assert_pair(const struct sync_state *st, uint32_t f, uint32_t n,
    const char *flags, unsigned status)
{
	const struct pair_rec *p = state_find_pair(st, f, n);
	char letters[MSG_FLAG_COUNT + 1];

	ck_assert_msg(p != NULL, "no pair %u/%u", f, n);
	msg_flags_to_letters(p->flags, letters);
	ck_assert_str_eq(letters, flags);
	ck_assert_uint_eq(p->status, status);
}

/* The state name of tests/data/mbsync/ is refused with msg, which names
 * files of that directory by their names alone. */
static void
assert_refused(const char *name, const char *msg)
{
	struct sync_state st;
	struct buf err = BUF_INIT;
	char *path = data(name), *want = data(msg);
	int found = -1;

	state_init(&st);
	ck_assert_int_eq(mbsync_state_read(path, &st, &found, &err), -1);
	ck_assert_msg(strcmp(buf_cstr(&err), want) == 0, "%s: got \"%s\"",
	    path, buf_cstr(&err));
	free(path);
	free(want);
	ck_assert_uint_eq(st.npairs, 0);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 0);
	state_free(&st);
	buf_free(&err);
}

START_TEST(test_state_14)
{
	struct sync_state st;

	load("v14-state", &st);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 1700000001u);
	ck_assert_uint_eq(st.uidvalidity[SIDE_NEAR], 1700000002u);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 12);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 9);
	ck_assert_uint_eq(st.npairs, 8);
	ck_assert_uint_eq(st.generation, 0);
	assert_pair(&st, 1, 1, "S", 0);
	assert_pair(&st, 2, 0, "S", PAIR_EXPIRED);
	assert_pair(&st, 4, 3, "FRS", 0);
	assert_pair(&st, 5, 4, "", 0);
	assert_pair(&st, 7, 0, "S", PAIR_GONE_MARKED);
	assert_pair(&st, 0, 8, "DS", PAIR_GONE_MARKED);
	assert_pair(&st, 11, 0, "", PAIR_TOO_BIG);
	assert_pair(&st, 12, 9, "PS", 0);
	state_free(&st);
}
END_TEST

START_TEST(test_state_13_and_10)
{
	struct sync_state st;

	load("v13-state", &st);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 41);
	ck_assert_uint_eq(st.uidvalidity[SIDE_NEAR], 42);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 3);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 2);
	ck_assert_uint_eq(st.npairs, 2);
	assert_pair(&st, 3, 2, "FS", 0);
	state_free(&st);

	load("v10-state", &st);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 41);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 2);
	ck_assert_uint_eq(st.npairs, 3);
	assert_pair(&st, 0, 5, "", PAIR_TOO_BIG);
	state_free(&st);
}
END_TEST

/* 1.4's journal: a copy far->near finished (+, #, >), flags, maxuids, a
 * pair dropped. */
START_TEST(test_journal_14)
{
	struct sync_state st;

	load("v14-journal", &st);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 51);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 3);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 3);
	ck_assert_uint_eq(st.npairs, 2);
	ck_assert_ptr_null(state_find_pair(&st, 1, 1));
	assert_pair(&st, 2, 2, "F", 0);
	assert_pair(&st, 3, 3, "S", 0);
	state_free(&st);
}
END_TEST

/* 1.3's journal: S raises a side's maxuid to its new entries', also to
 * one whose copy was given up (=), as mbsync does. */
START_TEST(test_journal_13)
{
	struct sync_state st;

	load("v13-journal", &st);
	ck_assert_uint_eq(st.uidvalidity[SIDE_FAR], 41);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 4);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 4);
	ck_assert_uint_eq(st.npairs, 2);
	assert_pair(&st, 3, 2, "FS", 0);
	assert_pair(&st, 4, 3, "S", 0);
	ck_assert_ptr_null(state_find_pair(&st, 1, 1));
	state_free(&st);
}
END_TEST

/* 1.5's journal: a copy near->far with its pending flags (%). */
START_TEST(test_journal_15)
{
	struct sync_state st;

	load("v15-journal", &st);
	ck_assert_uint_eq(st.maxuid[SIDE_FAR], 5);
	ck_assert_uint_eq(st.maxuid[SIDE_NEAR], 4);
	ck_assert_uint_eq(st.npairs, 3);
	assert_pair(&st, 2, 3, "RS", 0);
	assert_pair(&st, 5, 4, "FS", 0);
	state_free(&st);
}
END_TEST

/* Without ".new" mbsync ignores its journal (the run was committed). */
START_TEST(test_journal_without_new_is_ignored)
{
	struct sync_state st;

	load("stale-journal", &st);
	ck_assert_uint_eq(st.npairs, 1);
	assert_pair(&st, 1, 1, "S", 0);
	state_free(&st);
}
END_TEST

START_TEST(test_missing)
{
	struct sync_state st;
	struct buf err = BUF_INIT;
	char *path = data("no-such-state");
	int found = -1;

	state_init(&st);
	ck_assert_int_eq(mbsync_state_read(path, &st, &found, &err), 0);
	ck_assert_int_eq(found, 0);
	ck_assert_uint_eq(st.npairs, 0);
	state_free(&st);
	buf_free(&err);
	free(path);
}
END_TEST

START_TEST(test_refused)
{
	assert_refused("bad-flags", "bad-flags:7: malformed entry "
	    "flags (Maildir letters DFPRST expected)");
	assert_refused("placeholder", "placeholder:7: placeholder "
	    "entry (mbsync 1.5's placeholders for messages over MaxSize are "
	    "not taken over)");
	assert_refused("no-blank", "no-blank:5: unknown header key");
	assert_refused("torn", "torn:7: incomplete last line");
	assert_refused("twinbox-old", "twinbox-old:1: twinbox's own "
	    "state, named as before twinbox ended these names in "
	    ".twinboxstate (add that ending to keep it)");
	assert_refused("old-journal", "old-journal.journal:1: "
	    "journal version not read (mbsync 1.3's version 3, 1.4's 4 and "
	    "1.5's 5 are)");
	assert_refused("unfinished", "unfinished.journal: a copy of "
	    "UID 2/0 is unfinished");
	assert_refused("unknown-entry", "unknown-entry.journal:2: "
	    "journal record names no entry");
}
END_TEST

static void
assert_candidates(const struct mbsync_where *w, const char *const *want,
    size_t n)
{
	struct strlist got = { 0 };

	mbsync_state_candidates(w, &got);
	ck_assert_uint_eq(got.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(got.v[i], want[i]);
	strlist_free(&got);
}

START_TEST(test_candidates)
{
	struct mbsync_where w = {
		.far_store = "far", .far_box = "Work/2024",
		.near_store = "near", .near_box = "Work/2024",
		.near_dir = "/m/Work/2024", .home = "/h",
	};
	const char *deflt[] = {
		"/h/.mbsync/:far:Work!2024_:near:Work!2024",
		"/h/.local/state/isync/:far:Work!2024_:near:Work!2024",
	};
	const char *xdg[] = {
		"/h/.mbsync/:far:Work!2024_:near:Work!2024",
		"/x/isync/:far:Work!2024_:near:Work!2024",
	};
	const char *star[] = { "/m/Work/2024/.mbsyncstate" };
	const char *global[] = { "/h/st/;far;Work!2024_;near;Work!2024" };
	const char *chan[] = { "/var/s-Work!2024" };

	assert_candidates(&w, deflt, 2);
	w.xdg_state_home = "/x";
	assert_candidates(&w, xdg, 2);
	w.sync_state = "*";
	assert_candidates(&w, star, 1);
	w.sync_state = "~/st/";
	w.delimiter = ';';
	assert_candidates(&w, global, 1);
	w.sync_state = "/var/s-";
	w.from_channel = 1;
	assert_candidates(&w, chan, 1);
}
END_TEST

static Suite *
mbsync_state_suite(void)
{
	Suite *s = suite_create("mbsync_state");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_state_14);
	tcase_add_test(tc, test_state_13_and_10);
	tcase_add_test(tc, test_journal_13);
	tcase_add_test(tc, test_journal_14);
	tcase_add_test(tc, test_journal_15);
	tcase_add_test(tc, test_journal_without_new_is_ignored);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_candidates);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(mbsync_state_suite());
}
