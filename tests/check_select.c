/* Unit tests: Patterns matching and mailbox selection (sync/select.c). */
#include "store.h"
#include "sync/select.h"
#include "support/testlib.h"

static void
fill(struct strlist *l, const char *const *items)
{
	for (; *items != NULL; items++)
		strlist_add(l, *items);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct glob_case {
	const char *pattern, *name;
	int match;
};

static const struct glob_case glob_cases[] = {
	{ "*", "INBOX", 1 }, { "*", "a/b/c", 1 }, { "%", "a", 1 },
	{ "%", "a/b", 0 }, { "a/%", "a/b", 1 }, { "a/%", "a/b/c", 0 },
	{ "a/*", "a/b/c", 1 }, { "a*", "a", 1 }, { "a*c", "abbbc", 1 },
	{ "a*c", "abbbd", 0 }, { "Sent", "Sent", 1 }, { "Sent", "sent", 0 },
	{ "Sent", "Sent/x", 0 }, { "inbox", "INBOX", 1 },
	{ "INBOX/%", "inbox/x", 1 }, { "%/%", "a/b", 1 }, { "", "", 1 },
	{ "", "a", 0 }, { "*x*", "abxcd", 1 }, { "INBOXES", "INBOXES", 1 },
	{ "inboxes", "INBOXES", 0 },
};

START_TEST(test_glob)
{
	const struct glob_case *c = &glob_cases[_i];

	ck_assert_msg(select_glob(c->pattern, c->name) == c->match,
	    "pattern '%s' name '%s' expected %d", c->pattern, c->name,
	    c->match);
}
END_TEST

START_TEST(test_last_match_decides)
{
	struct strlist p = { 0 };

	fill(&p, LIST("*", "!Trash", "!Archive*", "Archive/2024"));
	ck_assert(select_match(&p, "INBOX"));
	ck_assert(!select_match(&p, "Trash"));
	ck_assert(select_match(&p, "Trash/keep"));
	ck_assert(!select_match(&p, "Archive"));
	ck_assert(!select_match(&p, "Archive/2023"));
	ck_assert(select_match(&p, "Archive/2024"));
	strlist_free(&p);
	fill(&p, LIST("!Junk"));
	ck_assert(!select_match(&p, "INBOX"));
	strlist_free(&p);
	ck_assert(!select_match(&p, "INBOX"));
}
END_TEST

START_TEST(test_select_boxes_union_sorted)
{
	struct strlist p = { 0 }, far = { 0 }, near = { 0 }, out = { 0 };

	fill(&p, LIST("*", "!Spam"));
	fill(&far, LIST("Sent", "INBOX", "Spam"));
	fill(&near, LIST("INBOX", "Drafts", "Spam"));
	select_boxes(&p, &far, &near, &out);
	ck_assert_uint_eq(out.n, 3);
	ck_assert_str_eq(out.v[0], "Drafts");
	ck_assert_str_eq(out.v[1], "INBOX");
	ck_assert_str_eq(out.v[2], "Sent");
	strlist_free(&p);
	strlist_free(&far);
	strlist_free(&near);
	strlist_free(&out);
}
END_TEST

static Suite *
select_suite(void)
{
	Suite *s = suite_create("select");
	TCase *tc = tcase_create("patterns");

	tcase_add_loop_test(tc, test_glob, 0,
	    sizeof(glob_cases) / sizeof(glob_cases[0]));
	tcase_add_test(tc, test_last_match_decides);
	tcase_add_test(tc, test_select_boxes_union_sorted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(select_suite());
}
