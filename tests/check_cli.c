/* Unit tests: command line parsing (cli.c). */
#include <string.h>

#include "cli.h"
#include "support/testlib.h"

/* Parse a NULL-terminated argument vector (argv[0] supplied here). */
static enum cli_result
parse(struct cli_options *o, struct buf *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"twinbox";
	for (; *args != NULL; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return cli_parse(argc, argv, o, err);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(test_channel_and_boxes)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("work:INBOX,Sent/2024", "grp")),
	    CLI_OK);
	ck_assert_uint_eq(o.ntargets, 2);
	ck_assert_str_eq(o.targets[0].name, "work");
	ck_assert_uint_eq(o.targets[0].boxes.n, 2);
	ck_assert_str_eq(o.targets[0].boxes.v[0], "INBOX");
	ck_assert_str_eq(o.targets[0].boxes.v[1], "Sent/2024");
	ck_assert_str_eq(o.targets[1].name, "grp");
	ck_assert_uint_eq(o.targets[1].boxes.n, 0);
	ck_assert_int_eq(o.level, LOG_NORMAL);
	ck_assert_ptr_null(o.config_path);
	cli_free(&o);
	buf_free(&err);
}
END_TEST

START_TEST(test_options_short_long_combined)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("-nV", "-c", "a.rc", "-a")),
	    CLI_OK);
	ck_assert(o.dry_run && o.all);
	ck_assert_int_eq(o.level, LOG_VERBOSE);
	ck_assert_str_eq(o.config_path, "a.rc");
	cli_free(&o);

	ck_assert_int_eq(parse(&o, &err, ARGS("--config=b.rc", "--quiet",
	    "--dry-run", "--allow-mass-delete", "ch")), CLI_OK);
	ck_assert_str_eq(o.config_path, "b.rc");
	ck_assert_int_eq(o.level, LOG_QUIET);
	ck_assert(o.dry_run && o.allow_mass_delete && !o.full && !o.all);
	cli_free(&o);

	ck_assert_int_eq(parse(&o, &err, ARGS("-cc.rc", "-D", "ch")), CLI_OK);
	ck_assert_str_eq(o.config_path, "c.rc");
	ck_assert_int_eq(o.level, LOG_DEBUG);
	cli_free(&o);

	ck_assert_int_eq(parse(&o, &err, ARGS("--config", "d.rc", "--",
	    "-weird")), CLI_OK);
	ck_assert_str_eq(o.config_path, "d.rc");
	ck_assert_str_eq(o.targets[0].name, "-weird");
	cli_free(&o);
	buf_free(&err);
}
END_TEST

/* -F is mbsync's --full; passing the guard has its own long name only. */
START_TEST(test_full_and_mass_delete)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("-F", "ch")), CLI_OK);
	ck_assert(o.full && !o.allow_mass_delete);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--full", "ch")), CLI_OK);
	ck_assert(o.full && !o.allow_mass_delete);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("-nF", "ch")), CLI_OK);
	ck_assert(o.full && o.dry_run);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--allow-mass-delete", "ch")),
	    CLI_OK);
	ck_assert(o.allow_mass_delete && !o.full);
	cli_free(&o);
	ck_assert_ptr_nonnull(strstr(cli_usage(), "--allow-mass-delete"));
	ck_assert_ptr_nonnull(strstr(cli_usage(), "-F, --full"));
	buf_free(&err);
}
END_TEST

START_TEST(test_help_and_version)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("-h")), CLI_HELP);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("ch", "--version")),
	    CLI_VERSION);
	cli_free(&o);
	ck_assert_ptr_nonnull(strstr(cli_usage(), "--dry-run"));
	buf_free(&err);
}
END_TEST

struct bad_case {
	const char *args[4];
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ { "-x", NULL }, "unknown option '-x' (try --help)" },
	{ { "--frobnicate", NULL },
	    "unknown option '--frobnicate' (try --help)" },
	{ { "-c", NULL }, "option '-c' needs a value" },
	{ { "--config", NULL }, "option '--config' needs a value" },
	{ { "--all=yes", NULL }, "option '--all' takes no value" },
	{ { "--allow-mass-delete=yes", "ch", NULL },
	    "option '--allow-mass-delete' takes no value" },
	{ { "--force", "ch", NULL },
	    "unknown option '--force': the mass-deletion guard is passed "
	    "with --allow-mass-delete (-F is --full, as in mbsync)" },
	{ { "--allow", "ch", NULL },
	    "unknown option '--allow' (try --help)" },
	{ { NULL }, "no channel or group given: name one, or use -a for all "
	    "(try --help)" },
	{ { "-n", NULL }, "no channel or group given: name one, or use -a "
	    "for all (try --help)" },
	{ { "-a", "ch", NULL },
	    "-a cannot be combined with channel or group names" },
	{ { ":INBOX", NULL }, "empty channel name in ':INBOX'" },
	{ { "ch:", NULL }, "empty mailbox name in 'ch:'" },
	{ { "ch:a,,b", NULL }, "empty mailbox name in 'ch:a,,b'" },
	{ { "", NULL }, "empty channel name in ''" },
};

START_TEST(test_bad_command_lines)
{
	const struct bad_case *c = &bad_cases[_i];
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, c->args), CLI_ERROR);
	ck_assert_str_eq(buf_cstr(&err), c->message);
	cli_free(&o);
	buf_free(&err);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_channel_and_boxes);
	tcase_add_test(tc, test_options_short_long_combined);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_full_and_mass_delete);
	tcase_add_loop_test(tc, test_bad_command_lines, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(cli_suite());
}
