/* Unit tests: command line parsing (cli.c). */
#include <string.h>

#include "channel.h"
#include "cli.h"
#include "config/config.h"
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

	ck_assert_int_eq(parse(&o, &err, ARGS("-yV", "-c", "a.rc", "-a")),
	    CLI_OK);
	ck_assert(o.dry_run && o.all);
	ck_assert_int_eq(o.level, LOG_VERBOSE);
	ck_assert_str_eq(o.config_path, "a.rc");
	cli_free(&o);

	ck_assert_int_eq(parse(&o, &err, ARGS("--config=b.rc", "--quiet",
	    "--dry-run", "--allow-mass-delete", "ch")), CLI_OK);
	ck_assert_str_eq(o.config_path, "b.rc");
	ck_assert_int_eq(o.level, LOG_QUIET);
	ck_assert(o.dry_run && o.allow_mass_delete && !o.all);
	ck_assert_uint_eq(o.ovr.have, 0);
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
	ck_assert_uint_eq(o.ovr.have, OVR_SYNC);
	ck_assert_uint_eq(o.ovr.sync, SYNC_FULL);
	ck_assert(!o.allow_mass_delete);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--full", "ch")), CLI_OK);
	ck_assert_uint_eq(o.ovr.sync, SYNC_FULL);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("-yF", "ch")), CLI_OK);
	ck_assert(o.dry_run && o.ovr.sync == SYNC_FULL);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--allow-mass-delete", "ch")),
	    CLI_OK);
	ck_assert(o.allow_mass_delete && o.ovr.have == 0);
	ck_assert(!o.json);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--json", "-V", "ch")), CLI_OK);
	ck_assert(o.json && o.level == LOG_VERBOSE && o.ovr.have == 0);
	cli_free(&o);
	ck_assert_ptr_nonnull(strstr(cli_usage(), "--allow-mass-delete"));
	ck_assert_ptr_nonnull(strstr(cli_usage(), "-F, --full"));
	buf_free(&err);
}
END_TEST

/* How mbsync's operation options add up (its manual, "Sync"): a type
 * without a direction goes both ways, a direction without a type carries
 * every type, "--pull-new" is one type one way, -0 is no operation. */
struct sync_case {
	const char *args[4];
	unsigned sync;
};

static const struct sync_case sync_cases[] = {
	{ { "-n", "ch", NULL }, SYNC_PULL_NEW | SYNC_PUSH_NEW },
	{ { "--new", "ch", NULL }, SYNC_PULL_NEW | SYNC_PUSH_NEW },
	{ { "-L", "ch", NULL }, SYNC_PULL_FULL },
	{ { "--push", "ch", NULL }, SYNC_PUSH_FULL },
	{ { "--pull", "--new", "ch", NULL }, SYNC_PULL_NEW },
	{ { "-Ln", "ch", NULL }, SYNC_PULL_NEW },
	{ { "-Lnf", "-H", "ch", NULL }, SYNC_PULL_NEW | SYNC_PULL_FLAGS |
	    SYNC_PUSH_FULL },
	{ { "--pull-new", "--push", "ch", NULL }, SYNC_PULL_NEW |
	    SYNC_PUSH_FULL },
	{ { "--push-flags", "ch", NULL }, SYNC_PUSH_FLAGS },
	{ { "-f", "-d", "ch", NULL }, SYNC_PULL_FLAGS | SYNC_PUSH_FLAGS |
	    SYNC_PULL_GONE | SYNC_PUSH_GONE },
	{ { "--gone", "--upgrade", "ch", NULL }, SYNC_PULL_GONE |
	    SYNC_PUSH_GONE | SYNC_PULL_UPGRADE | SYNC_PUSH_UPGRADE },
	{ { "-N", "-H", "ch", NULL }, SYNC_PUSH_UPGRADE },
	{ { "--push-renew", "--pull-delete", "ch", NULL }, SYNC_PUSH_UPGRADE |
	    SYNC_PULL_GONE },
	{ { "-Lo", "ch", NULL }, SYNC_PULL_OLD },
	{ { "-0", "ch", NULL }, 0 },
	{ { "--noop", "ch", NULL }, 0 },
	{ { "-L", "-H", "ch", NULL }, SYNC_FULL },
};

START_TEST(test_sync_options)
{
	const struct sync_case *c = &sync_cases[_i];
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_msg(parse(&o, &err, c->args) == CLI_OK, "%s",
	    buf_cstr(&err));
	ck_assert_uint_eq(o.ovr.have, OVR_SYNC);
	ck_assert_uint_eq(o.ovr.sync, c->sync);
	cli_free(&o);
	buf_free(&err);
}
END_TEST

/* -C, -R, -X with their sides, old spellings included; mbsync's -D
 * letters are taken with -D, not as options of their own. */
START_TEST(test_side_options)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("-C", "-Xn", "-Rfn", "ch")),
	    CLI_OK);
	ck_assert_uint_eq(o.ovr.have, OVR_CREATE | OVR_EXPUNGE | OVR_REMOVE);
	ck_assert_uint_eq(o.ovr.create, SIDE_BIT_BOTH);
	ck_assert_uint_eq(o.ovr.expunge, SIDE_BIT_NEAR);
	ck_assert_uint_eq(o.ovr.remove, SIDE_BIT_BOTH);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--create-far",
	    "--expunge-slave", "--no-remove", "ch")), CLI_OK);
	ck_assert_uint_eq(o.ovr.create, SIDE_BIT_FAR);
	ck_assert_uint_eq(o.ovr.expunge, SIDE_BIT_NEAR);
	ck_assert_uint_eq(o.ovr.have & OVR_REMOVE, OVR_REMOVE);
	ck_assert_uint_eq(o.ovr.remove, 0);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("-Cm", "--remove-master", "ch")),
	    CLI_OK);
	ck_assert_uint_eq(o.ovr.create, SIDE_BIT_FAR);
	ck_assert_uint_eq(o.ovr.remove, SIDE_BIT_FAR);
	cli_free(&o);
	/* -Dn is debugging of the network, not -D -n. */
	ck_assert_int_eq(parse(&o, &err, ARGS("-Dn", "ch")), CLI_OK);
	ck_assert_int_eq(o.level, LOG_DEBUG);
	ck_assert_uint_eq(o.ovr.have, 0);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("-DC", "ch")), CLI_OK);
	ck_assert_int_eq(o.level, LOG_NORMAL);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--debug-net", "-l", "-e",
	    "ch")), CLI_OK);
	ck_assert_int_eq(o.level, LOG_DEBUG);
	ck_assert(o.list && o.ext_exit && !o.dry_run);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--list", "--ext-exit",
	    "--dry-run", "ch")), CLI_OK);
	ck_assert(o.list && o.ext_exit && o.dry_run);
	cli_free(&o);
	/* As in mbsync, -a wins over names (main() warns). */
	ck_assert_int_eq(parse(&o, &err, ARGS("-a", "ch")), CLI_OK);
	ck_assert(o.all && o.ntargets == 1);
	cli_free(&o);
	buf_free(&err);
}
END_TEST

/* The command line replaces a channel's Sync, Create, Remove and Expunge
 * each whole when it names them, and leaves the others alone. */
START_TEST(test_override_channel)
{
	struct config *cfg = NULL;
	struct cli_options o;
	struct buf err = BUF_INIT;
	struct channel_run_opts ro = { 0 };
	struct sync_policy pol;
	struct channel_opts opt;

	ck_assert_int_eq(config_parse_string("MaildirStore a\nPath /a/\n\n"
	    "MaildirStore b\nPath /b/\n\nChannel c\nFar :a:\nNear :b:\n"
	    "Sync Pull Flags\nCreate Near\nExpunge Both\n", "sync.rc", NULL,
	    &cfg, &err), 0);
	ck_assert_int_eq(parse(&o, &err, ARGS("--push", "-Cf", "c")), CLI_OK);
	opt = cfg->channels[0]->opt;
	override_apply(&o.ovr, &opt);
	ck_assert_uint_eq(opt.sync, SYNC_PUSH_FULL);
	ck_assert_uint_eq(opt.create, SIDE_BIT_FAR);
	ck_assert_uint_eq(opt.expunge, SIDE_BIT_BOTH);
	ro.ovr = &o.ovr;
	channel_policy(cfg->channels[0], &ro, &pol);
	ck_assert_uint_eq(pol.ops[SIDE_NEAR], SYNC_ALL);
	ck_assert_uint_eq(pol.ops[SIDE_FAR], 0);
	cli_free(&o);
	/* Without operation options the channel's own. */
	ck_assert_int_eq(parse(&o, &err, ARGS("-X0", "c")), CLI_OK);
	opt = cfg->channels[0]->opt;
	override_apply(&o.ovr, &opt);
	ck_assert_uint_eq(opt.sync, 0);
	ck_assert_uint_eq(opt.create, SIDE_BIT_NEAR);
	ck_assert_uint_eq(opt.expunge, SIDE_BIT_BOTH);
	cli_free(&o);
	ro.ovr = NULL;
	channel_policy(cfg->channels[0], &ro, &pol);
	ck_assert_uint_eq(pol.ops[SIDE_FAR], SYNC_FLAGS);
	ck_assert_uint_eq(pol.ops[SIDE_NEAR], 0);
	config_free(cfg);
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
	{ { "--watch", "-y", "ch", NULL }, "--watch cannot be combined with "
	    "--dry-run: a watcher syncs; run --dry-run on its own" },
	{ { "-l", "--watch", "ch", NULL }, "--watch cannot be combined with "
	    "--list: a watcher syncs; run --list on its own" },
	{ { "--watch", "--verify", "ch", NULL }, "--watch cannot be combined "
	    "with --verify: a watcher syncs; run --verify on its own" },
	{ { "--watch=yes", "ch", NULL }, "option '--watch' takes no value" },
	{ { "--watch", "--json", "ch", NULL }, "--json reports a run at its "
	    "end and cannot be used with --watch, which does not end" },
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
	{ { "-y", NULL }, "no channel or group given: name one, or use -a "
	    "for all (try --help)" },
	{ { "--pull-nothing", "ch", NULL },
	    "unknown option '--pull-nothing' (try --help)" },
	{ { "--new-pull", "ch", NULL },
	    "unknown option '--new-pull' (try --help)" },
	{ { "-ls", NULL }, "option '--list-stores' (mbsync 1.5's -ls) is not "
	    "implemented: use -l with a channel to list its mailboxes" },
	{ { "-Lx", "ch", NULL }, "unknown option '-x' (try --help)" },
	{ { ":INBOX", NULL }, "empty channel name in ':INBOX'" },
	{ { "ch:", NULL }, "empty mailbox name in 'ch:'" },
	{ { "ch:a,,b", NULL }, "empty mailbox name in 'ch:a,,b'" },
	{ { "", NULL }, "empty channel name in ''" },
	{ { "--json", "-l", "ch", NULL }, "--json reports what a sync did and "
	  "cannot be used with --list, which syncs nothing" },
	{ { "-y", "--json", "ch", NULL }, "--json reports what a sync did and "
	  "cannot be used with --dry-run, which syncs nothing" },
	{ { "--json", "--verify", "ch", NULL }, "--json reports what a sync "
	  "did and cannot be used with --verify, which syncs nothing" },
};

START_TEST(test_watch)
{
	struct cli_options o;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(parse(&o, &err, ARGS("--watch", "-V", "work:INBOX",
	    "grp")), CLI_OK);
	ck_assert_int_eq(o.watch, 1);
	ck_assert_uint_eq(o.ntargets, 2);
	ck_assert_int_eq(o.level, LOG_VERBOSE);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("-a")), CLI_OK);
	ck_assert_int_eq(o.watch, 0);
	cli_free(&o);
	ck_assert_ptr_nonnull(strstr(cli_usage(), "--watch"));
	buf_free(&err);
}
END_TEST

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

/* mbsync's debug categories: -D alone is all but net-all; only n and N
 * turn the protocol trace on; --log-file takes a file name. */
START_TEST(test_debug_categories_and_log_file)
{
	static const struct {
		const char *arg;
		enum log_level level;
		unsigned debug;
	} cases[] = {
		{ "-D", LOG_DEBUG, LOG_NET },
		{ "-Dn", LOG_DEBUG, LOG_NET },
		{ "-DN", LOG_DEBUG, LOG_NET | LOG_NET_ALL },
		{ "-DmN", LOG_DEBUG, LOG_NET | LOG_NET_ALL },
		{ "-Dm", LOG_DEBUG, 0 },
		{ "-Dds", LOG_DEBUG, 0 },
		{ "-DC", LOG_NORMAL, 0 },
		{ "--debug", LOG_DEBUG, LOG_NET },
		{ "--debug-net", LOG_DEBUG, LOG_NET },
		{ "--debug-net-all", LOG_DEBUG, LOG_NET | LOG_NET_ALL },
		{ "--debug-main", LOG_DEBUG, 0 },
		{ "--debug-crash", LOG_NORMAL, 0 },
	};
	struct cli_options o;
	struct buf err = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse(&o, &err, ARGS(cases[i].arg, "ch")),
		    CLI_OK);
		ck_assert_msg(o.level == cases[i].level &&
		    o.debug == cases[i].debug, "%s: level %d debug %u",
		    cases[i].arg, o.level, o.debug);
		ck_assert_ptr_null(o.log_file);
		cli_free(&o);
	}
	ck_assert_int_eq(parse(&o, &err, ARGS("-Dm", "-Dn", "ch")), CLI_OK);
	ck_assert_uint_eq(o.debug, LOG_NET);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("--log-file", "a.log",
	    "--log-file=b.log", "ch")), CLI_OK);
	ck_assert_str_eq(o.log_file, "b.log");
	ck_assert_int_eq(o.level, LOG_NORMAL);
	ck_assert_uint_eq(o.debug, 0);
	cli_free(&o);
	ck_assert_int_eq(parse(&o, &err, ARGS("ch", "--log-file")), CLI_ERROR);
	ck_assert_str_eq(buf_cstr(&err), "option '--log-file' needs a value");
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
	tcase_add_loop_test(tc, test_sync_options, 0,
	    sizeof(sync_cases) / sizeof(sync_cases[0]));
	tcase_add_test(tc, test_side_options);
	tcase_add_test(tc, test_override_channel);
	tcase_add_test(tc, test_debug_categories_and_log_file);
	tcase_add_test(tc, test_watch);
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
