/*
 * Unit tests: config (sync.rc in mbsync's syntax). Every error text is
 * asserted exactly; warnings are captured through the logger. Files under
 * tests/data/ and sync.rc.sample are found in the source tree wherever
 * the program runs (tl_src_path()).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "channel_workers.h"
#include "config/config.h"
#include "support/alloc_watch.h"
#include "support/testlib.h"

static struct buf warnings = BUF_INIT;
static struct logger cap_lg = { .level = LOG_NORMAL, .capture = &warnings };

static void
setup(void)
{
	buf_reset(&warnings);
	setenv("HOME", "/home/jane", 1);
}

static void
teardown(void)
{
	buf_free(&warnings);
}

/* Parse text as "sync.rc"; fail the test with the message on error. */
static struct config *
ok(const char *text)
{
	struct buf err = BUF_INIT;
	struct config *cfg = NULL;

	if (config_parse_string(text, "sync.rc", &cap_lg, &cfg, &err) != 0)
		ck_abort_msg("unexpected error: %s", buf_cstr(&err));
	ck_assert_ptr_nonnull(cfg);
	buf_free(&err);
	return cfg;
}

/* Parse text, expect failure with exactly msg and nothing returned. */
static void
fails(const char *text, const char *msg)
{
	struct buf err = BUF_INIT;
	struct config *cfg = (struct config *)&err;

	ck_assert_int_eq(config_parse_string(text, "sync.rc", &cap_lg, &cfg,
	    &err), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(buf_cstr(&err), msg);
	buf_free(&err);
}

/* The captured warnings, then forget them. */
static void
warned(const char *expected)
{
	ck_assert_str_eq(buf_cstr(&warnings), expected);
	buf_reset(&warnings);
}

#define W "twinbox: warning: "

/* Two maildir stores and a channel, for channel-option tests. */
#define STORES "MaildirStore a\nPath /m/a/\n\nMaildirStore b\nPath /m/b/\n\n"
#define CHAN STORES "Channel c\nFar :a:\nNear :b:\n"

/* The example from tests/data: what mbsync's manual describes. */
START_TEST(test_mbsync_example)
{
	struct buf err = BUF_INIT;
	struct config *cfg;
	const struct imap_account_conf *a;
	const struct store_conf *r, *l;
	const struct channel_conf *c;
	const struct group_conf *g;
	char *example = tl_src_path("tests/data/mbsyncrc-example");

	ck_assert_int_eq(config_load(example, &cap_lg, &cfg, &err), 0);
	free(example);
	warned("");
	ck_assert_uint_eq(cfg->naccounts, 1);
	ck_assert_uint_eq(cfg->nstores, 2);
	ck_assert_uint_eq(cfg->nchannels, 2);
	ck_assert_uint_eq(cfg->ngroups, 1);

	a = cfg->accounts[0];
	ck_assert_str_eq(a->name, "work");
	ck_assert_int_eq(a->line, 8);
	ck_assert_str_eq(a->host, "imap.example.com");
	ck_assert_str_eq(a->user, "jane doe");
	ck_assert_ptr_null(a->pass);
	ck_assert_str_eq(a->pass_cmd,
	    "gpg --quiet --decrypt ~/.work-pass.gpg");
	ck_assert_int_eq(a->pass_cmd_tty, 1);
	ck_assert_int_eq(a->tls_type, TLS_IMAPS);
	ck_assert_int_eq(a->port, 993);
	ck_assert_int_eq(a->timeout, 20);
	ck_assert_uint_eq(a->tls_versions, TLS_V1_2 | TLS_V1_3);
	ck_assert_uint_eq(a->auth_mechs.n, 2);
	ck_assert_str_eq(a->auth_mechs.v[0], "PLAIN");
	ck_assert_str_eq(a->auth_mechs.v[1], "LOGIN");
	ck_assert_str_eq(a->cert_file, "/home/jane/.certs/work.pem");

	r = config_find_store(cfg, "work-remote");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, STORE_IMAP);
	ck_assert_ptr_eq(r->account, a);
	ck_assert_ptr_null(r->own_account);
	ck_assert_str_eq(r->account_name, "work");
	ck_assert_int_eq(r->use_namespace, 1);

	l = config_find_store(cfg, "work-local");
	ck_assert_int_eq(l->kind, STORE_MAILDIR);
	ck_assert_str_eq(l->path, "/home/jane/Mail/work/");
	ck_assert_str_eq(l->inbox, "/home/jane/Mail/work/INBOX");
	ck_assert_ptr_eq(l->maildir.path, l->path);
	ck_assert_ptr_eq(l->maildir.inbox, l->inbox);
	ck_assert_int_eq(l->maildir.subfolders, MAILDIR_SUB_VERBATIM);
	ck_assert_int_eq(l->maildir.fsync, 1);

	c = config_find_channel(cfg, "work");
	ck_assert_ptr_eq(c->end[SIDE_FAR].store, r);
	ck_assert_ptr_null(c->end[SIDE_FAR].box);
	ck_assert_ptr_eq(c->end[SIDE_NEAR].store, l);
	ck_assert_uint_eq(c->patterns.n, 3);
	ck_assert_str_eq(c->patterns.v[0], "*");
	ck_assert_str_eq(c->patterns.v[1], "!Trash");
	ck_assert_str_eq(c->patterns.v[2], "!Junk E-mail");
	ck_assert_uint_eq(c->opt.sync, SYNC_FULL);
	ck_assert_uint_eq(c->opt.create, SIDE_BIT_NEAR);	/* global */
	ck_assert_uint_eq(c->opt.expunge, SIDE_BIT_BOTH);	/* own */
	ck_assert_int_eq(c->opt.copy_arrival_date, 1);
	ck_assert_ptr_null(c->sync_state);
	ck_assert_str_eq(cfg->sync_state, "*");

	c = config_find_channel(cfg, "work-inbox");
	ck_assert_str_eq(c->end[SIDE_FAR].box, "INBOX");
	ck_assert_str_eq(c->end[SIDE_NEAR].box, "inbox-copy");
	ck_assert_uint_eq(c->patterns.n, 0);
	ck_assert_uint_eq(c->opt.sync, SYNC_PULL_NEW | SYNC_PULL_FLAGS);
	ck_assert_uint_eq(c->opt.expunge, 0);
	ck_assert_uint_eq(c->opt.expunge_solo, 0);
	ck_assert_uint_eq(c->opt.max_messages, 500);
	ck_assert_int_eq(c->opt.copy_arrival_date, 0);

	g = config_find_group(cfg, "everything");
	ck_assert_uint_eq(g->nentries, 2);
	ck_assert_str_eq(g->entries[0].channel_name, "work");
	ck_assert_uint_eq(g->entries[0].boxes.n, 0);
	ck_assert_str_eq(g->entries[1].channel_name, "work-inbox");
	ck_assert_uint_eq(g->entries[1].boxes.n, 1);
	ck_assert_str_eq(g->entries[1].boxes.v[0], "INBOX");
	ck_assert_ptr_null(config_find_group(cfg, "work"));
	ck_assert_ptr_null(config_find_channel(cfg, "Work"));
	ck_assert_ptr_null(config_find_store(cfg, "nope"));
	config_free(cfg);
	buf_free(&err);
}
END_TEST

START_TEST(test_defaults)
{
	struct config *cfg = ok("IMAPAccount acc\nHost h\n\n"
	    "IMAPStore s\nAccount acc\n\n"
	    "MaildirStore m\n\n"
	    "Channel c\nFar :s:\nNear :m:\n");
	const struct imap_account_conf *a = cfg->accounts[0];
	const struct store_conf *s = cfg->stores[0], *m = cfg->stores[1];
	const struct channel_conf *c = cfg->channels[0];

	ck_assert_int_eq(cfg->fsync, 1);
	ck_assert_int_eq(cfg->field_delimiter, ':');
	ck_assert_ptr_null(cfg->sync_state);
	ck_assert_int_eq(a->port, 143);
	ck_assert_int_eq(a->timeout, 20);
	ck_assert_int_eq(a->tls_type, TLS_STARTTLS);
	ck_assert_uint_eq(a->tls_versions, TLS_V_DEFAULT);
	ck_assert_int_eq(a->system_certs, 1);
	ck_assert_int_eq(a->pipeline_depth, 0);
	ck_assert_int_eq(a->connections, CONNECTIONS_DEFAULT);
	ck_assert_uint_eq(a->auth_mechs.n, 1);
	ck_assert_str_eq(a->auth_mechs.v[0], "*");
	ck_assert_ptr_null(a->user);
	ck_assert_ptr_null(a->cert_file);
	ck_assert_uint_eq(a->disabled_exts.n, 0);
	ck_assert_int_eq(s->use_namespace, 1);
	ck_assert_int_eq(s->path_delimiter, '\0');
	ck_assert_uint_eq(s->max_size, 0);
	ck_assert_ptr_null(s->path);
	ck_assert_ptr_null(m->path);
	ck_assert_str_eq(m->inbox, "/home/jane/Maildir");
	ck_assert_int_eq(m->maildir.subfolders, MAILDIR_SUB_NONE);
	ck_assert_int_eq(m->info_delimiter, ':');
	ck_assert_uint_eq(c->opt.sync, SYNC_FULL);
	ck_assert_uint_eq(c->opt.create, 0);
	ck_assert_uint_eq(c->opt.remove, 0);
	ck_assert_uint_eq(c->opt.expunge, 0);
	ck_assert_uint_eq(c->opt.max_messages, 0);
	ck_assert_int_eq(c->opt.expire_unread, -1);
	ck_assert_int_eq(c->opt.copy_arrival_date, 0);
	ck_assert_int_eq(c->max_size_set, 0);
	ck_assert_ptr_null(c->sync_state);
	warned("");
	config_free(cfg);

	/* An empty file, and one of comments only, are valid. */
	cfg = ok("");
	ck_assert_uint_eq(cfg->nchannels, 0);
	ck_assert_uint_eq(cfg->defaults.sync, SYNC_FULL);
	config_free(cfg);
	config_free(ok("# nothing\n   # here\n\n"));
	config_free(NULL);
}
END_TEST

START_TEST(test_quoting_and_comments)
{
	struct config *cfg = ok("IMAPAccount a\n"
	    "Host h # a comment after a value\n"
	    "User a\"b c\"d\n"
	    "Pass \"say \\\"hi\\\" \\\\ # not a comment\"\n"
	    "Tunnel x#y\n"
	    "  # an indented comment does not end the section\n"
	    "Timeout \"2\"0\n"
	    "CipherString \"\"\n");
	const struct imap_account_conf *a = cfg->accounts[0];

	ck_assert_str_eq(a->host, "h");
	ck_assert_str_eq(a->user, "ab cd");
	ck_assert_str_eq(a->pass, "say \"hi\" \\ # not a comment");
	ck_assert_str_eq(a->tunnel, "x#y");
	ck_assert_int_eq(a->timeout, 20);
	ck_assert_str_eq(a->cipher_string, "");
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nUser a\nPassCmd \"x y\n",
	    "sync.rc:4: unterminated quote: expected a closing '\"' before the "
	    "end of the line");
	fails("IMAPAccount a\nHost h\nUser x\\\n",
	    "sync.rc:3: unterminated escape: expected a character after '\\'");
	fails("IMAPAccount a\nHost\n",
	    "sync.rc:2: missing value for 'Host': expected a host name");
	fails("IMAPAccount a\nHost # comment\n",
	    "sync.rc:2: missing value for 'Host': expected a host name");
	fails("IMAPAccount a\nHost \"\"\n",
	    "sync.rc:2: bad value '' for 'Host': expected a host name");
	fails("IMAPAccount a\nHost my host\n",
	    "sync.rc:2: unexpected extra value 'host' for 'Host': expected one "
	    "value (quote a value that contains spaces)");
	fails("IMAPAccount\n", "sync.rc:1: missing value for 'IMAPAccount': "
	    "expected an account name");
	fails("Channel a b\n", "sync.rc:1: unexpected extra value 'b' for "
	    "'Channel': expected one value (quote a value that contains "
	    "spaces)");
	fails("MaildirStore \"\"\n", "sync.rc:1: bad value '' for "
	    "'MaildirStore': expected a store name");
}
END_TEST

START_TEST(test_crlf_and_case)
{
	struct config *cfg = ok("imapaccount a\r\nHOST h\r\nssltype imaps\r\n"
	    "\r\nimapstore S\r\nACCOUNT a\r\n");

	ck_assert_int_eq(cfg->accounts[0]->tls_type, TLS_IMAPS);
	ck_assert_ptr_nonnull(config_find_store(cfg, "S"));
	ck_assert_ptr_null(config_find_store(cfg, "s"));
	config_free(cfg);
	/* Names are case-sensitive. */
	fails("IMAPAccount a\nHost h\n\nIMAPStore s\nAccount A\n",
	    "sync.rc:5: IMAPStore 's' refers to undefined IMAPAccount 'A'");
}
END_TEST

/* Connections: the key's range, and how many workers a channel gets from
 * its ends' accounts. */
START_TEST(test_connections)
{
	struct config *cfg = ok("IMAPAccount a\nHost h\nPass p\n"
	    "Connections 4\n\nIMAPAccount b\nHost h\nPassCmd \"echo p\"\n"
	    "Connections 3\n\nIMAPAccount t\nHost h\nPassCmd +\"echo p\"\n"
	    "Connections 4\n\nIMAPAccount q\nHost h\nConnections 4\n\n"
	    "IMAPStore A\nAccount a\n\nIMAPStore A2\nAccount a\n\n"
	    "IMAPStore B\nAccount b\n\nIMAPStore T\nAccount t\n\n"
	    "IMAPStore Q\nAccount q\n\nMaildirStore m\nPath /m/\n\n"
	    "MaildirStore n\nPath /n/\n\n"
	    "Channel am\nFar :A:\nNear :m:\n\nChannel ab\nFar :A:\nNear :B:\n\n"
	    "Channel aa\nFar :A:\nNear :A2:\n\nChannel tm\nFar :T:\n"
	    "Near :m:\n\nChannel qm\nFar :Q:\nNear :m:\n\n"
	    "Channel mn\nFar :m:\nNear :n:\n");

	ck_assert_int_eq(cfg->accounts[0]->connections, 4);
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "am")),
	    4);
	/* The smaller of the two accounts'. */
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "ab")),
	    3);
	/* One account at both ends: two connections per worker. */
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "aa")),
	    2);
	/* A PassCmd, even an interactive one ("+"), runs once per run and
	 * its output serves every connection. */
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "tm")),
	    4);
	/* A password asked on the terminal (no Pass, no PassCmd): one. */
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "qm")),
	    1);
	/* No IMAP end. */
	ck_assert_uint_eq(channel_worker_count(config_find_channel(cfg, "mn")),
	    1);
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nConnections 0\n", "sync.rc:3: bad "
	    "value '0' for 'Connections': expected a number of connections "
	    "from 1 to 16");
	fails("IMAPAccount a\nHost h\nConnections 17\n", "sync.rc:3: bad "
	    "value '17' for 'Connections': expected a number of connections "
	    "from 1 to 16");
}
END_TEST

/* A NUL byte can only come from a file, so this goes through config_load. */
START_TEST(test_nul_byte)
{
	static const char text[] = "FSync yes\nFSync n\0o\n";
	struct buf err = BUF_INIT;
	struct config *cfg;
	char *dir = tl_mkdtemp("cfg"), *path = tl_path(dir, "rc"), *expect;

	tl_write_file(path, text, sizeof(text) - 1);
	ck_assert_int_eq(config_load(path, &cap_lg, &cfg, &err), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(asprintf(&expect, "%s:2: unexpected NUL byte: "
	    "expected a text file", path) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);
	tl_rmtree(dir);
	free(path);
	free(dir);
	buf_free(&err);
}
END_TEST

START_TEST(test_booleans)
{
	static const char *const yes[] = { "yes", "YES", "true", "On", "1" };
	static const char *const no[] = { "no", "No", "FALSE", "off", "0" };
	char text[200];

	for (size_t i = 0; i < 5; i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), "CopyArrivalDate %s\nFSync %s\n",
		    yes[i], no[i]);
		cfg = ok(text);
		ck_assert_int_eq(cfg->defaults.copy_arrival_date, 1);
		ck_assert_int_eq(cfg->fsync, 0);
		config_free(cfg);
	}
	fails(CHAN "CopyArrivalDate maybe\n",
	    "sync.rc:10: bad value 'maybe' for 'CopyArrivalDate': expected yes "
	    "or no");
	fails("FSync 2\n",
	    "sync.rc:1: bad value '2' for 'FSync': expected yes or no");
	fails("IMAPAccount a\nHost h\nSystemCertificates y\n",
	    "sync.rc:3: bad value 'y' for 'SystemCertificates': expected yes "
	    "or no");
}
END_TEST

START_TEST(test_sizes_and_numbers)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
		{ "0", 0 }, { "100", 100 }, { "10k", 10240 }, { "10K", 10240 },
		{ "2m", 2097152 }, { "2M", 2097152 }, { "5kb", 5120 },
		{ "7B", 7 }, { "3mB", 3145728 },
	};
	static const char *const bad[] = {
		"10x", "k", "-1", "1.5m", "10kk", "1bk",
		"99999999999999999999", "18014398509481984k",
	};
	char text[300], msg[300];
	struct config *cfg;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "MaildirStore m\nMaxSize %s\n",
		    sizes[i].text);
		cfg = ok(text);
		ck_assert_uint_eq(cfg->stores[0]->max_size, sizes[i].bytes);
		config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "MaildirStore m\nMaxSize %s\n",
		    bad[i]);
		snprintf(msg, sizeof(msg), "sync.rc:2: bad value '%s' for "
		    "'MaxSize': expected a size: a number, optionally followed "
		    "by k or m (and b)", bad[i]);
		fails(text, msg);
	}
	cfg = ok(CHAN "MaxSize 1m\n");
	ck_assert_int_eq(cfg->channels[0]->max_size_set, 1);
	ck_assert_uint_eq(cfg->channels[0]->max_size, 1048576);
	ck_assert_uint_eq(cfg->stores[0]->max_size, 0);
	config_free(cfg);
	fails("BufferLimit 0\n", "sync.rc:1: bad value '0' for 'BufferLimit': "
	    "expected a size above 0: a number, optionally followed by k or m "
	    "(and b)");
	warned("");

	cfg = ok("MaxMessages 42\n\nIMAPAccount a\nHost h\nPort 1\n"
	    "Timeout 0\nPipelineDepth 1\n");
	ck_assert_uint_eq(cfg->defaults.max_messages, 42);
	ck_assert_int_eq(cfg->accounts[0]->port, 1);
	ck_assert_int_eq(cfg->accounts[0]->timeout, 0);
	ck_assert_int_eq(cfg->accounts[0]->pipeline_depth, 1);
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nPort 0\n", "sync.rc:3: bad value '0' "
	    "for 'Port': expected a port number from 1 to 65535");
	fails("IMAPAccount a\nHost h\nPort 65536\n", "sync.rc:3: bad value "
	    "'65536' for 'Port': expected a port number from 1 to 65535");
	fails("IMAPAccount a\nHost h\nPort imap\n", "sync.rc:3: bad value "
	    "'imap' for 'Port': expected a port number from 1 to 65535");
	fails("IMAPAccount a\nHost h\nTimeout -1\n", "sync.rc:3: bad value "
	    "'-1' for 'Timeout': expected a number of seconds (0 for none)");
	fails("IMAPAccount a\nHost h\nPipelineDepth 0\n", "sync.rc:3: bad "
	    "value '0' for 'PipelineDepth': expected a number of commands, at "
	    "least 1");
	fails("MaxMessages 1e3\n", "sync.rc:1: bad value '1e3' for "
	    "'MaxMessages': expected a number of messages (0 for no limit)");
	/* ExpireUnread: not set (-1, mbsync asks), yes, no; a channel's own
	   value over the global one. */
	cfg = ok("ExpireUnread yes\n\nMaildirStore a\nPath /a/\n\n"
	    "MaildirStore b\nPath /b/\n\nChannel c\nFar :a:x\nNear :b:y\n"
	    "\nChannel d\nFar :a:x\nNear :b:z\nExpireUnread no\n");
	ck_assert_int_eq(cfg->defaults.expire_unread, 1);
	ck_assert_int_eq(config_find_channel(cfg, "c")->opt.expire_unread, 1);
	ck_assert_int_eq(config_find_channel(cfg, "d")->opt.expire_unread, 0);
	config_free(cfg);
	warned("");
	fails("ExpireUnread maybe\n", "sync.rc:1: bad value 'maybe' for "
	    "'ExpireUnread': expected yes or no");
}
END_TEST

/* Sync values and the mask they give. */
START_TEST(test_sync_combinations)
{
	static const struct {
		const char *sync;
		unsigned mask;
	} t[] = {
		{ "All", SYNC_FULL },
		{ "Full", SYNC_FULL },
		{ "None", 0 },
		{ "Noop", 0 },
		{ "Pull", SYNC_PULL_FULL },
		{ "Push", SYNC_PUSH_FULL },
		{ "Pull Push", SYNC_FULL },
		{ "New", SYNC_PULL_NEW | SYNC_PUSH_NEW },
		{ "Pull New Flags", SYNC_PULL_NEW | SYNC_PULL_FLAGS },
		{ "New Gone", SYNC_PULL_NEW | SYNC_PULL_GONE | SYNC_PUSH_NEW |
		  SYNC_PUSH_GONE },
		{ "New Delete", SYNC_PULL_NEW | SYNC_PULL_GONE |
		  SYNC_PUSH_NEW | SYNC_PUSH_GONE },
		{ "Push ReNew", SYNC_PUSH_UPGRADE },
		{ "Push Upgrade", SYNC_PUSH_UPGRADE },
		{ "Pull Old", SYNC_PULL_OLD },
		{ "Full Old", SYNC_FULL | SYNC_PULL_OLD | SYNC_PUSH_OLD },
		{ "PullNew", SYNC_PULL_NEW },
		{ "PushFlags", SYNC_PUSH_FLAGS },
		{ "pullnew PUSHGONE", SYNC_PULL_NEW | SYNC_PUSH_GONE },
		{ "PullDelete PushReNew", SYNC_PULL_GONE | SYNC_PUSH_UPGRADE },
		{ "PullNew PullGone Push", SYNC_PULL_NEW | SYNC_PULL_GONE |
		  SYNC_PUSH_FULL },
		{ "PushNew PushFlags Pull", SYNC_PULL_FULL | SYNC_PUSH_NEW |
		  SYNC_PUSH_FLAGS },
		{ "PullNew Flags", SYNC_PULL_NEW | SYNC_PULL_FLAGS |
		  SYNC_PUSH_FLAGS },
		{ "PullOld PushUpgrade", SYNC_PULL_OLD | SYNC_PUSH_UPGRADE },
		{ "Push\nSync New", SYNC_PUSH_NEW },	/* lines add up */
	};
	char text[300];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), CHAN "Sync %s\n", t[i].sync);
		cfg = ok(text);
		ck_assert_msg(cfg->channels[0]->opt.sync == t[i].mask,
		    "Sync %s: %#x, expected %#x", t[i].sync,
		    cfg->channels[0]->opt.sync, t[i].mask);
		config_free(cfg);
		/* The same as a global default. */
		snprintf(text, sizeof(text), "Sync %s\n" CHAN, t[i].sync);
		cfg = ok(text);
		ck_assert_uint_eq(cfg->defaults.sync, t[i].mask);
		ck_assert_uint_eq(cfg->channels[0]->opt.sync, t[i].mask);
		config_free(cfg);
	}
	ck_assert_uint_eq(sync_ops_to(SYNC_PULL_NEW | SYNC_PUSH_FLAGS,
	    SIDE_NEAR), SYNC_OP_NEW);
	ck_assert_uint_eq(sync_ops_to(SYNC_PULL_NEW | SYNC_PUSH_FLAGS,
	    SIDE_FAR), SYNC_OP_FLAGS);
	warned("");

	fails(CHAN "Sync Pul\n", "sync.rc:10: bad value 'Pul' for 'Sync': "
	    "expected None, Full, Pull, Push, New, Old, Upgrade, Gone, Flags, "
	    "or Pull or Push joined to a type (PullNew, PushFlags, ...)");
	fails(CHAN "Sync PullFull\n", "sync.rc:10: bad value 'PullFull' for "
	    "'Sync': expected None, Full, Pull, Push, New, Old, Upgrade, Gone, "
	    "Flags, or Pull or Push joined to a type (PullNew, PushFlags, "
	    "...)");
	fails(CHAN "Sync\n", "sync.rc:10: missing value for 'Sync': "
	    "expected None, Full, Pull, Push, New, Old, Upgrade, Gone, Flags, "
	    "or Pull or Push joined to a type (PullNew, PushFlags, ...)");
	fails(CHAN "Sync None Pull\n", "sync.rc:10: bad value 'None Pull' for "
	    "'Sync': None cannot be combined with other operations");
	fails(CHAN "Sync PullNew\nSync None\n", "sync.rc:11: bad value "
	    "'PullNew None' for 'Sync': None cannot be combined with other "
	    "operations");
	fails(CHAN "Sync PullNew Pull\n", "sync.rc:10: bad value 'PullNew "
	    "Pull' for 'Sync': an operation is selected twice");
	fails(CHAN "Sync PullNew New\n", "sync.rc:10: bad value 'PullNew New' "
	    "for 'Sync': an operation is selected twice");
	fails(CHAN "Sync PullNew Gone Push\n", "sync.rc:10: bad value 'PullNew "
	    "Gone Push' for 'Sync': a compound operation such as PullNew can "
	    "be combined with one bare direction or with bare types, not with "
	    "more");
	fails(CHAN "Sync Pull Push PullNew\n", "sync.rc:10: bad value 'Pull "
	    "Push PullNew' for 'Sync': an operation is selected twice");
	fails(CHAN "Sync Pull Push PushNew\n", "sync.rc:10: bad value 'Pull "
	    "Push PushNew' for 'Sync': an operation is selected twice");
	/* Global Sync errors are reported when the globals end. */
	fails("Sync None Full\n\n" CHAN, "sync.rc:1: bad value 'None Full' "
	    "for 'Sync': None cannot be combined with other operations");
}
END_TEST

/* Global channel options as defaults, overridden per channel, whole. */
START_TEST(test_global_defaults)
{
	struct config *cfg = ok("Sync Pull\nCreate Near\nRemove Both\n"
	    "Expunge Far\nMaxMessages 10\nCopyArrivalDate yes\n"
	    "SyncState ~/state/\n\n"
	    CHAN "Sync Push\nCreate Far\n\n"
	    "Channel d\nFar :a:x\nNear :b:y\nExpunge None\nMaxMessages 0\n");
	const struct channel_conf *c = cfg->channels[0], *d = cfg->channels[1];

	ck_assert_uint_eq(cfg->defaults.sync, SYNC_PULL_FULL);
	ck_assert_str_eq(cfg->sync_state, "/home/jane/state/");
	ck_assert_uint_eq(c->opt.sync, SYNC_PUSH_FULL);
	ck_assert_uint_eq(c->opt.create, SIDE_BIT_FAR);
	ck_assert_uint_eq(c->opt.remove, SIDE_BIT_BOTH);
	ck_assert_uint_eq(c->opt.expunge, SIDE_BIT_FAR);
	ck_assert_uint_eq(c->opt.max_messages, 10);
	ck_assert_int_eq(c->opt.copy_arrival_date, 1);
	ck_assert_uint_eq(d->opt.sync, SYNC_PULL_FULL);
	ck_assert_uint_eq(d->opt.create, SIDE_BIT_NEAR);
	ck_assert_uint_eq(d->opt.expunge, 0);
	ck_assert_uint_eq(d->opt.max_messages, 0);
	ck_assert_ptr_null(d->sync_state);
	config_free(cfg);

	fails(CHAN "\nSync Pull\n", "sync.rc:11: global option 'Sync' after "
	    "a section: expected global options before the first section");
	fails(STORES "FSync no\n", "sync.rc:7: global option 'FSync' after a "
	    "section: expected global options before the first section");
}
END_TEST

/* The mass-deletion guard's thresholds: defaults, global, per channel,
 * and what the sync policy gets; -F replaces Sync with everything. */
START_TEST(test_mass_delete_keys)
{
	struct config *cfg = ok("MassDeleteCount 5\nMassDeletePercent 80\n\n"
	    CHAN "MassDeleteLarge 1000\nMassDeleteLargePercent 100\n"
	    "Sync Pull\n");
	const struct channel_conf *c = cfg->channels[0];
	struct channel_run_opts ro = { 0 };
	const struct override full = { OVR_SYNC, SYNC_FULL, 0, 0, 0 };
	struct sync_policy pol;

	channel_policy(c, &ro, &pol);
	ck_assert_uint_eq(pol.guard_wiped_over, 5);
	ck_assert_uint_eq(pol.guard_wiped_percent, 80);
	ck_assert_uint_eq(pol.guard_large_over, 1000);
	ck_assert_uint_eq(pol.guard_large_percent, 100);
	ck_assert_int_eq(pol.allow_mass_delete, 0);
	ck_assert_uint_eq(pol.ops[SIDE_NEAR], 0);
	ro.ovr = &full;
	ro.allow_mass_delete = 1;
	channel_policy(c, &ro, &pol);
	ck_assert_uint_eq(pol.ops[SIDE_FAR], SYNC_ALL);
	ck_assert_uint_eq(pol.ops[SIDE_NEAR], SYNC_ALL);
	ck_assert_int_eq(pol.allow_mass_delete, 1);
	config_free(cfg);

	cfg = ok(CHAN);
	ro.ovr = NULL;
	channel_policy(cfg->channels[0], &ro, &pol);
	ck_assert_uint_eq(pol.guard_wiped_over, 10);
	ck_assert_uint_eq(pol.guard_wiped_percent, 90);
	ck_assert_uint_eq(pol.guard_large_over, 100);
	ck_assert_uint_eq(pol.guard_large_percent, 50);
	config_free(cfg);

	fails("MassDeletePercent 101\n", "sync.rc:1: bad value '101' for "
	    "'MassDeletePercent': expected a percentage from 0 to 100 (100 "
	    "turns the rule off)");
	fails("MassDeleteCount -1\n", "sync.rc:1: bad value '-1' for "
	    "'MassDeleteCount': expected a number of messages");
}
END_TEST

START_TEST(test_watch_keys)
{
	struct config *cfg = ok("WatchInterval 60\nWatchRefresh 1740\n\n"
	    CHAN "Patterns *\nWatchMailboxes INBOX \"Lists/%\" !Lists/spam\n"
	    "WatchRefresh 2\n");
	const struct channel_conf *c = cfg->channels[0];

	ck_assert_uint_eq(c->opt.watch_interval, 60);
	ck_assert_uint_eq(c->opt.watch_refresh, 2);
	ck_assert_uint_eq(c->watch_boxes.n, 3);
	ck_assert_str_eq(c->watch_boxes.v[1], "Lists/%");
	ck_assert_str_eq(c->watch_boxes.v[2], "!Lists/spam");
	config_free(cfg);

	cfg = ok(CHAN);
	c = cfg->channels[0];
	ck_assert_uint_eq(c->opt.watch_interval, WATCH_INTERVAL_DEFAULT);
	ck_assert_uint_eq(c->opt.watch_refresh, WATCH_REFRESH_DEFAULT);
	ck_assert_uint_eq(c->watch_boxes.n, 0);
	config_free(cfg);

	fails("WatchRefresh 1741\n", "sync.rc:1: bad value '1741' for "
	    "'WatchRefresh': expected a number of seconds from 1 to 1740 (29 "
	    "minutes)");
	fails("WatchRefresh 0\n", "sync.rc:1: bad value '0' for "
	    "'WatchRefresh': expected a number of seconds from 1 to 1740 (29 "
	    "minutes)");
	fails("WatchInterval soon\n", "sync.rc:1: bad value 'soon' for "
	    "'WatchInterval': expected a number of seconds between full syncs "
	    "(0 for none)");
	fails("WatchMailboxes INBOX\n", "sync.rc:1: keyword 'WatchMailboxes' is "
	    "not allowed outside a section; it belongs "
	    "in a Channel section");
}
END_TEST

START_TEST(test_lock_wait)
{
	struct config *cfg = ok("LockWait 5\n\n" CHAN);

	ck_assert_uint_eq(cfg->channels[0]->opt.lock_wait, 5);
	config_free(cfg);
	cfg = ok(CHAN "LockWait 0\n");
	ck_assert_uint_eq(cfg->channels[0]->opt.lock_wait, 0);
	config_free(cfg);
	cfg = ok(CHAN);
	ck_assert_uint_eq(cfg->channels[0]->opt.lock_wait, LOCK_WAIT_DEFAULT);
	config_free(cfg);
	fails("LockWait 3601\n", "sync.rc:1: bad value '3601' for "
	    "'LockWait': expected a number of seconds from 0 to 3600");
}
END_TEST

START_TEST(test_sides)
{
	static const struct {
		const char *val;
		unsigned bits;
	} t[] = {
		{ "None", 0 }, { "Far", SIDE_BIT_FAR },
		{ "near", SIDE_BIT_NEAR },
		{ "Both", SIDE_BIT_BOTH }, { "Far Near", SIDE_BIT_BOTH },
		{ "None None", 0 },
	};
	static const char *const keys[] = {
		"Create", "Remove", "Expunge", "ExpungeSolo"
	};
	char text[300], msg[300];
	struct config *cfg;

	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			unsigned *f[4];

			snprintf(text, sizeof(text), CHAN "%s %s\n", keys[k],
			    t[i].val);
			cfg = ok(text);
			f[0] = &cfg->channels[0]->opt.create;
			f[1] = &cfg->channels[0]->opt.remove;
			f[2] = &cfg->channels[0]->opt.expunge;
			f[3] = &cfg->channels[0]->opt.expunge_solo;
			ck_assert_uint_eq(*f[k], t[i].bits);
			config_free(cfg);
		}
		snprintf(text, sizeof(text), CHAN "%s Up\n", keys[k]);
		snprintf(msg, sizeof(msg), "sync.rc:10: bad value 'Up' for "
		    "'%s': expected None, Far, Near or Both", keys[k]);
		fails(text, msg);
	}
	buf_reset(&warnings);

	/* The pre-1.4 names, with a warning. */
	cfg = ok(CHAN "Create Master\nExpunge Slave\n");
	ck_assert_uint_eq(cfg->channels[0]->opt.create, SIDE_BIT_FAR);
	ck_assert_uint_eq(cfg->channels[0]->opt.expunge, SIDE_BIT_NEAR);
	warned(W "sync.rc:10: 'Master' is deprecated; use 'Far' instead\n"
	    W "sync.rc:11: 'Slave' is deprecated; use 'Near' instead\n");
	config_free(cfg);

	/* Lines add up within a scope. */
	cfg = ok(CHAN "Create Far\nCreate Near\n");
	ck_assert_uint_eq(cfg->channels[0]->opt.create, SIDE_BIT_BOTH);
	config_free(cfg);

	fails(CHAN "Create None Far\n", "sync.rc:10: bad value 'None Far' for "
	    "'Create': None cannot be combined with Far, Near or Both");
	fails(CHAN "Remove Near\nRemove None\n", "sync.rc:11: bad value "
	    "'None' for 'Remove': None cannot be combined with Far, Near or "
	    "Both");
	fails(CHAN "Expunge Both Far\n", "sync.rc:10: bad value 'Both Far' for "
	    "'Expunge': the far side is given twice");
	fails(CHAN "Expunge Near\nExpunge Both\n", "sync.rc:11: bad value "
	    "'Both' for 'Expunge': the near side is given twice");
	fails(CHAN "Expunge Far\nExpungeSolo Both\n", "sync.rc:11: 'Expunge' "
	    "and 'ExpungeSolo' both select the far side: expected each side in "
	    "at most one of them");
	fails("ExpungeSolo Near\nExpunge Near\n", "sync.rc:2: 'Expunge' and "
	    "'ExpungeSolo' both select the near side: expected each side in at "
	    "most one of them");
	buf_reset(&warnings);
}
END_TEST

START_TEST(test_channel_ends)
{
	struct config *cfg = ok(STORES "Channel c\nFar :a:INBOX\n"
	    "Near :b:\"some box\"\nPatterns % !Trash\nPattern \"Sent Mail\"\n"
	    "Pattern *\n");
	const struct channel_conf *c = cfg->channels[0];

	ck_assert_str_eq(c->end[SIDE_FAR].store_name, "a");
	ck_assert_str_eq(c->end[SIDE_FAR].box, "INBOX");
	ck_assert_str_eq(c->end[SIDE_NEAR].box, "some box");
	ck_assert_uint_eq(c->patterns.n, 4);
	ck_assert_str_eq(c->patterns.v[0], "%");
	ck_assert_str_eq(c->patterns.v[1], "!Trash");
	ck_assert_str_eq(c->patterns.v[2], "Sent Mail");
	ck_assert_str_eq(c->patterns.v[3], "*");
	config_free(cfg);
	warned("");

	/* Master and Slave are the pre-1.4 names of Far and Near. */
	cfg = ok(STORES "Channel c\nMaster :a:x\nSlave :b:\n");
	c = cfg->channels[0];
	ck_assert_ptr_eq(c->end[SIDE_FAR].store, cfg->stores[0]);
	ck_assert_str_eq(c->end[SIDE_FAR].box, "x");
	ck_assert_ptr_eq(c->end[SIDE_NEAR].store, cfg->stores[1]);
	ck_assert_ptr_null(c->end[SIDE_NEAR].box);
	warned(W "sync.rc:8: 'Master' is deprecated; use 'Far' instead\n"
	    W "sync.rc:9: 'Slave' is deprecated; use 'Near' instead\n");
	config_free(cfg);

	fails(STORES "Channel c\nFar a\nNear :b:\n", "sync.rc:8: bad value 'a' "
	    "for 'Far': expected :store: or :store:mailbox");
	fails(STORES "Channel c\nFar :a\nNear :b:\n", "sync.rc:8: bad value "
	    "':a' for 'Far': expected :store: or :store:mailbox");
	fails(STORES "Channel c\nFar ::x\nNear :b:\n", "sync.rc:8: bad value "
	    "'::x' for 'Far': expected :store: or :store:mailbox");
	fails(STORES "Channel c\nFar :a:\n", "sync.rc:7: Channel 'c' has no "
	    "Near store: expected a line 'Near :store:' or "
	    "'Near :store:mailbox'");
	fails(STORES "Channel c\nNear :a:\n# end\n\nChannel d\n",
	    "sync.rc:7: Channel 'c' has no Far store: expected a line "
	    "'Far :store:' or 'Far :store:mailbox'");
	fails(STORES "Channel c\nFar :a:\nNear :b:\nPatterns x \"\"\n",
	    "sync.rc:10: bad value '' for 'Patterns': expected mailbox "
	    "patterns (* and % are wildcards, ! excludes)");
	/* Far given twice: the later one counts, with a warning. */
	fails(STORES "Channel c\nFar :nope:\nFar :a:\nNear :zz:\n",
	    "sync.rc:10: Channel 'c' refers to undefined store 'zz'");
	warned(W "sync.rc:9: 'Far' was already given at line 8; the value "
	    "given here is used\n");
	fails(STORES "Channel c\nFar :a:\nFar :nope:\nNear :b:\n",
	    "sync.rc:9: Channel 'c' refers to undefined store 'nope'");
	buf_reset(&warnings);
}
END_TEST

START_TEST(test_groups)
{
	struct config *cfg = ok(CHAN "\nChannel d\nFar :a:\nNear :b:\n\n"
	    "Group g c d:INBOX,Sent\nChannel c:x\nChannels d c\n\n"
	    "Group c\nChannel d\n");
	const struct group_conf *g = config_find_group(cfg, "g");

	ck_assert_int_eq(g->line, 15);
	/* Each entry parsed, in order: its channel found, its boxes split. */
	ck_assert_uint_eq(g->nentries, 5);
	ck_assert_str_eq(g->entries[0].channel_name, "c");
	ck_assert_ptr_eq(g->entries[0].channel, config_find_channel(cfg, "c"));
	ck_assert_uint_eq(g->entries[0].boxes.n, 0);
	ck_assert_str_eq(g->entries[1].channel_name, "d");
	ck_assert_ptr_eq(g->entries[1].channel, config_find_channel(cfg, "d"));
	ck_assert_uint_eq(g->entries[1].boxes.n, 2);
	ck_assert_str_eq(g->entries[1].boxes.v[0], "INBOX");
	ck_assert_str_eq(g->entries[1].boxes.v[1], "Sent");
	ck_assert_uint_eq(g->entries[2].boxes.n, 1);
	ck_assert_str_eq(g->entries[2].boxes.v[0], "x");
	ck_assert_ptr_eq(g->entries[3].channel, config_find_channel(cfg, "d"));
	ck_assert_uint_eq(g->entries[3].boxes.n, 0);
	ck_assert_str_eq(g->entries[4].channel_name, "c");
	ck_assert_uint_eq(g->entries[4].boxes.n, 0);
	/* Groups have their own namespace. */
	ck_assert_ptr_nonnull(config_find_group(cfg, "c"));
	config_free(cfg);

	fails(CHAN "\nGroup g c nope:INBOX\nChannel zz\n", "sync.rc:11: Group "
	    "'g' refers to undefined Channel 'nope'");
	fails(CHAN "\nGroup g\nChannels c\nChannel c zz\n", "sync.rc:13: Group "
	    "'g' refers to undefined Channel 'zz'");
	fails(CHAN "\nGroup g :box\n", "sync.rc:11: bad value ':box' for "
	    "'Group': expected a channel name, optionally followed by "
	    ":mailbox[,mailbox...]");
	fails(CHAN "\nGroup g\nChannel\n", "sync.rc:12: missing value for "
	    "'Channel': expected a channel name, optionally followed by "
	    ":mailbox[,mailbox...]");
	fails(CHAN "\nGroup g\nPatterns *\n", "sync.rc:12: keyword 'Patterns' "
	    "is not allowed in a Group section; it belongs in a Channel "
	    "section");
}
END_TEST

START_TEST(test_references)
{
	/* Forward references are fine. */
	struct config *cfg = ok("Channel c\nFar :s:\nNear :m:\n\n"
	    "IMAPStore s\nAccount acc\n\nMaildirStore m\n\n"
	    "IMAPAccount acc\nTunnel \"ssh x imapd\"\n");

	ck_assert_ptr_eq(cfg->channels[0]->end[SIDE_FAR].store,
	    cfg->stores[0]);
	ck_assert_ptr_eq(cfg->stores[0]->account, cfg->accounts[0]);
	ck_assert_int_eq(cfg->accounts[0]->tls_type, TLS_NONE);
	ck_assert_int_eq(cfg->accounts[0]->port, 143);
	ck_assert_ptr_null(cfg->accounts[0]->host);
	config_free(cfg);

	/* The earliest undefined reference is reported, at its line. */
	fails("Group g zz\n\nChannel c\nFar :x:\nNear :y:\n\n"
	    "IMAPStore s\nAccount nobody\n",
	    "sync.rc:1: Group 'g' refers to undefined Channel 'zz'");
	fails("Channel c\nFar :x:\nNear :y:\n\nIMAPStore s\nAccount nobody\n",
	    "sync.rc:2: Channel 'c' refers to undefined store 'x'");
	fails("IMAPStore s\nAccount nobody\n\nChannel c\nFar :s:a\nNear :s:b\n",
	    "sync.rc:2: IMAPStore 's' refers to undefined IMAPAccount "
	    "'nobody'");
	/* Far and Near may not be the same mailbox of the same store. */
	fails(STORES "Channel c\nFar :a:\nNear :a:inbox\n", "sync.rc:9: "
	    "Channel 'c': Far and Near are the same mailbox, INBOX of store "
	    "'a': expected two different mailboxes");
	fails(STORES "Channel c\nMaster :a:x\nSlave :a:x\n", "sync.rc:9: "
	    "Channel 'c': Far and Near are the same mailbox, x of store 'a': "
	    "expected two different mailboxes");
	fails(STORES "Channel c\nFar :a:\nNear :a:\nPatterns *\n",
	    "sync.rc:9: Channel 'c': Far and Near are the same mailboxes, "
	    "every mailbox of store 'a': expected two different mailboxes");
	fails(STORES "Channel c\nFar :a:p/\nNear :a:p/\nPatterns *\n",
	    "sync.rc:9: Channel 'c': Far and Near are the same mailboxes, "
	    "those under 'p/' of store 'a': expected two different mailboxes");
	config_free(ok(STORES "Channel c\nFar :a:\nNear :a:INBOX\n"
	    "Patterns *\n"));
	config_free(ok(STORES "Channel c\nFar :a:x\nNear :a:X\n"));
	/* A store is not an account. */
	fails("MaildirStore m\n\nIMAPStore s\nAccount m\n",
	    "sync.rc:4: IMAPStore 's' refers to undefined IMAPAccount 'm'");
}
END_TEST

START_TEST(test_duplicates)
{
	fails("IMAPAccount a\nHost h\n\nIMAPAccount a\nHost i\n",
	    "sync.rc:4: duplicate IMAPAccount name 'a': already defined at "
	    "line 1");
	fails("MaildirStore s\n\nIMAPStore s\nHost h\n",
	    "sync.rc:3: duplicate store name 's': already defined at line 1");
	fails(CHAN "\nChannel c\n", "sync.rc:11: duplicate Channel name 'c': "
	    "already defined at line 7");
	fails(CHAN "\nGroup g c\n\nGroup g c\n", "sync.rc:13: duplicate Group "
	    "name 'g': already defined at line 11");
	/* Different classes may share a name. */
	config_free(ok("IMAPAccount x\nHost h\n\nIMAPStore x\nAccount x\n\n"
	    "MaildirStore m\n\nChannel x\nFar :x:\nNear :m:\n\nGroup x x\n"));
	/* A key given twice: the last value counts, with a warning; the
	   password is not shown. */
	{
		struct config *cfg = ok("IMAPAccount a\nHost h\nPass secret1\n"
		    "Host i\nPass secret2\n");

		ck_assert_str_eq(cfg->accounts[0]->host, "i");
		ck_assert_str_eq(cfg->accounts[0]->pass, "secret2");
		warned(W "sync.rc:4: 'Host' was already given at line 2; the "
		    "value given here is used\n"
		    W "sync.rc:5: 'Pass' was already given at line 3; the "
		    "value given here is used\n");
		config_free(cfg);
	}
}
END_TEST

/*
 * A password read from the file is never freed or moved unwiped: not the
 * file's text, not a line's words, not a Pass that a later Pass
 * replaces, not the one kept until the configuration is freed.
 */
START_TEST(test_pass_wiped)
{
	static const char *const pass[] = {
		"first-Secret-0123456789-abcdefghij-Zq7",
		"second-Secret-0123456789-abcdefghij-Zq7"
	};
	char *dir = tl_mkdtemp("config-wipe");
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	struct config *cfg = NULL;

	buf_setf(&path, "%s/sync.rc", dir);
	buf_setf(&text, "IMAPAccount a\nHost h\nPass %s\nPass \"%s\"\n",
	    pass[0], pass[1]);
	tl_write_str(path.data, text.data);
	for (size_t i = 0; i < 2; i++) {
		size_t leaks;

		alloc_watch_start(pass[i]);
		ck_assert_int_eq(config_load(path.data, &cap_lg, &cfg, &err),
		    0);
		ck_assert_str_eq(cfg->accounts[0]->pass, pass[1]);
		config_free(cfg);
		leaks = alloc_watch_stop();
		ck_assert_msg(leaks == 0, "Pass %zu: %zu allocation%s freed or "
		    "moved with it", i + 1, leaks, leaks == 1 ? "" : "s");
		buf_reset(&warnings);
	}
	tl_rmtree(dir);
	free(dir);
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
}
END_TEST

START_TEST(test_keyword_errors)
{
	fails("IMAPAccount a\nHots h\n",
	    "sync.rc:2: unknown keyword 'Hots' in IMAPAccount section");
	fails(CHAN "Colour blue\n",
	    "sync.rc:10: unknown keyword 'Colour' in Channel section");
	fails("Frobnicate yes\n", "sync.rc:1: unknown keyword 'Frobnicate': "
	    "expected a section (IMAPAccount, IMAPStore, MaildirStore, Channel "
	    "or Group) or a global option");
	fails(CHAN "host h\n", "sync.rc:10: keyword 'Host' is not allowed in a "
	    "Channel section; it belongs in an IMAPAccount or IMAPStore "
	    "section");
	fails("IMAPAccount a\nHost h\nAccount b\n", "sync.rc:3: keyword "
	    "'Account' is not allowed in an IMAPAccount section; it belongs in "
	    "an IMAPStore section");
	fails("IMAPAccount a\nHost h\nPath x/\n", "sync.rc:3: keyword 'Path' "
	    "is not allowed in an IMAPAccount section; it belongs in an "
	    "IMAPStore or MaildirStore section");
	fails("IMAPAccount a\nHost h\nSync Pull\n", "sync.rc:3: keyword 'Sync' "
	    "is not allowed in an IMAPAccount section; it belongs in a Channel "
	    "section or among the global options before the first section");
	fails("MaildirStore m\nFSync no\n", "sync.rc:2: keyword 'FSync' is not "
	    "allowed in a MaildirStore section; it is a global option and "
	    "belongs before the first section");
	fails("Host h\n", "sync.rc:1: keyword 'Host' is not allowed outside a "
	    "section; it belongs in an IMAPAccount or IMAPStore section");
	fails("MaildirStore m\nPath /m/\n\nInbox /m/in\n", "sync.rc:4: keyword "
	    "'Inbox' is not allowed outside a section; it belongs in a "
	    "MaildirStore section (an empty line ends a section)");
	fails("MaildirStore m\nPath /m/\nMaildirStore n\n", "sync.rc:3: "
	    "'MaildirStore' starts a new section: expected an empty line "
	    "before it to end the MaildirStore section");
	fails(CHAN "Channel d\n", "sync.rc:10: 'Channel' starts a new section: "
	    "expected an empty line before it to end the Channel section");
	fails(CHAN "\nGroup g c\nGroup h\n", "sync.rc:12: 'Group' starts a "
	    "new section: expected an empty line before it to end the Group "
	    "section");
}
END_TEST

START_TEST(test_imap_accounts)
{
	struct config *cfg;
	const struct imap_account_conf *a;

	cfg = ok("IMAPAccount a\nHost h\nUserCmd \"+pass user\"\n"
	    "PassCmd \"pass x\"\nAuthMech LOGIN\nAuthMechs PLAIN *\n"
	    "DisableExtension MOVE\nDisableExtensions IDLE COMPRESS=DEFLATE\n"
	    "SystemCertificates no\nCertificateFile /etc/ca.pem\n"
	    "CipherString HIGH\nPipelineDepth 8\nTimeout 5\n");
	a = cfg->accounts[0];
	ck_assert_str_eq(a->user_cmd, "pass user");
	ck_assert_int_eq(a->user_cmd_tty, 1);
	ck_assert_str_eq(a->pass_cmd, "pass x");
	ck_assert_int_eq(a->pass_cmd_tty, 0);
	ck_assert_uint_eq(a->auth_mechs.n, 3);
	ck_assert_str_eq(a->auth_mechs.v[2], "*");
	ck_assert_uint_eq(a->disabled_exts.n, 3);
	ck_assert_str_eq(a->disabled_exts.v[0], "MOVE");
	ck_assert_str_eq(a->disabled_exts.v[2], "COMPRESS=DEFLATE");
	ck_assert_int_eq(a->system_certs, 0);
	ck_assert_str_eq(a->cert_file, "/etc/ca.pem");
	ck_assert_str_eq(a->cipher_string, "HIGH");
	ck_assert_int_eq(a->pipeline_depth, 8);
	ck_assert_int_eq(a->timeout, 5);
	config_free(cfg);
	warned("");

	fails("IMAPAccount a\nUser u\n", "sync.rc:1: IMAPAccount 'a' has "
	    "neither Host nor Tunnel: expected a 'Host' or a 'Tunnel' line");
	fails("IMAPAccount a\nHost h\nUser u\nUserCmd x\n", "sync.rc:4: "
	    "IMAPAccount 'a' has both User and UserCmd: expected only one of "
	    "them");
	fails("IMAPAccount a\nHost h\nPassCmd x\nPass p\n", "sync.rc:4: "
	    "IMAPAccount 'a' has both Pass and PassCmd: expected only one of "
	    "them");
	fails("IMAPAccount a\nHost h\nPassCmd +\n", "sync.rc:3: bad value '+' "
	    "for 'PassCmd': expected a shell command");
	fails("IMAPAccount a\nHost h/x\n", "sync.rc:2: bad value 'h/x' for "
	    "'Host': expected a host name");

	/* TLSType and its 1.4 name SSLType; the port follows. */
	cfg = ok("IMAPAccount a\nHost h\nTLSType None\n\n"
	    "IMAPAccount b\nHost h\nSSLType IMAPS\n\n"
	    "IMAPAccount c\nHost h\nTLSType imaps\nPort 1993\n\n"
	    "IMAPAccount d\nTunnel t\nTLSType STARTTLS\n");
	ck_assert_int_eq(cfg->accounts[0]->tls_type, TLS_NONE);
	ck_assert_int_eq(cfg->accounts[0]->port, 143);
	ck_assert_int_eq(cfg->accounts[1]->tls_type, TLS_IMAPS);
	ck_assert_int_eq(cfg->accounts[1]->port, 993);
	ck_assert_int_eq(cfg->accounts[2]->port, 1993);
	ck_assert_int_eq(cfg->accounts[3]->tls_type, TLS_STARTTLS);
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nTLSType SSL\n", "sync.rc:3: bad value "
	    "'SSL' for 'TLSType': expected None, STARTTLS or IMAPS");
	fails("IMAPAccount a\nHost h\nSSLType yes\n", "sync.rc:3: bad value "
	    "'yes' for 'SSLType': expected None, STARTTLS or IMAPS");
	warned("");
}
END_TEST

START_TEST(test_tls_versions)
{
	struct config *cfg = ok("IMAPAccount a\nHost h\nTLSVersions -1.3\n\n"
	    "IMAPAccount b\nHost h\nTLSVersions +1.1 +1.0\nTLSVersions -1.2\n\n"
	    "IMAPAccount c\nHost h\nSSLVersions TLSv1.1 TLSv1.2\n\n"
	    "IMAPAccount d\nHost h\nSSLVersion SSLv3 TLSv1.3\n");

	ck_assert_uint_eq(cfg->accounts[0]->tls_versions, TLS_V1_2);
	ck_assert_uint_eq(cfg->accounts[1]->tls_versions,
	    TLS_V1_0 | TLS_V1_1 | TLS_V1_3);
	ck_assert_uint_eq(cfg->accounts[2]->tls_versions, TLS_V1_1 | TLS_V1_2);
	ck_assert_uint_eq(cfg->accounts[3]->tls_versions, TLS_V1_3);
	warned(W "sync.rc:16: 'SSLv3' is no longer supported and is "
	    "ignored\n");
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nTLSVersions +1.4\n", "sync.rc:3: bad "
	    "value '+1.4' for 'TLSVersions': expected + or - followed by 1.0, "
	    "1.1, 1.2 or 1.3");
	fails("IMAPAccount a\nHost h\nTLSVersions -1.2 -1.3\n", "sync.rc:3: "
	    "IMAPAccount 'a' allows no TLS version: expected at least one of "
	    "1.0, 1.1, 1.2, 1.3, or 'TLSType None'");
	/* ... which is fine without TLS. */
	config_free(ok("IMAPAccount a\nHost h\nTLSVersions -1.2 -1.3\n"
	    "TLSType None\n"));
}
END_TEST

/* The pre-1.2 options, still in mbsync's own sample file. */
START_TEST(test_legacy_options)
{
	struct config *cfg = ok("IMAPAccount a\nHost imaps:h.example\n\n"
	    "IMAPAccount b\nHost h\nUseIMAPS yes\nUseTLSv1 no\n"
	    "UseTLSv1.1 yes\n\n"
	    "IMAPAccount c\nHost h\nRequireSSL no\nRequireCRAM yes\n\n"
	    "IMAPAccount d\nHost h\nRequireSSL no\nUseTLSv1.2 no\n"
	    "UseTLSv1.3 no\nUseSSLv3 no\n");

	ck_assert_str_eq(cfg->accounts[0]->host, "h.example");
	ck_assert_int_eq(cfg->accounts[0]->tls_type, TLS_IMAPS);
	ck_assert_int_eq(cfg->accounts[0]->port, 993);
	ck_assert_int_eq(cfg->accounts[1]->tls_type, TLS_IMAPS);
	ck_assert_uint_eq(cfg->accounts[1]->tls_versions,
	    TLS_V1_1 | TLS_V1_2 | TLS_V1_3);
	ck_assert_int_eq(cfg->accounts[2]->tls_type, TLS_STARTTLS);
	ck_assert_uint_eq(cfg->accounts[2]->auth_mechs.n, 1);
	ck_assert_str_eq(cfg->accounts[2]->auth_mechs.v[0], "CRAM-MD5");
	ck_assert_int_eq(cfg->accounts[3]->tls_type, TLS_NONE);
	warned(W "sync.rc:2: the URL form of 'Host' is deprecated; write the "
	    "host name alone (and 'TLSType IMAPS' for imaps:)\n"
	    W "sync.rc:6: 'UseIMAPS' is deprecated; use 'TLSType IMAPS' "
	    "instead\n"
	    W "sync.rc:7: 'UseTLSv1' is deprecated; use 'TLSVersions' "
	    "instead\n"
	    W "sync.rc:8: 'UseTLSv1.1' is deprecated; use 'TLSVersions' "
	    "instead\n"
	    W "sync.rc:12: 'RequireSSL' is deprecated; use 'TLSType' "
	    "instead\n"
	    W "sync.rc:13: 'RequireCRAM' is deprecated; use 'AuthMechs "
	    "CRAM-MD5' instead\n"
	    W "sync.rc:12: 'RequireSSL no' is ignored, as by mbsync; write "
	    "'TLSType None' to turn TLS off\n"
	    W "sync.rc:17: 'RequireSSL' is deprecated; use 'TLSType' "
	    "instead\n"
	    W "sync.rc:18: 'UseTLSv1.2' is deprecated; use 'TLSVersions' "
	    "instead\n"
	    W "sync.rc:19: 'UseTLSv1.3' is deprecated; use 'TLSVersions' "
	    "instead\n"
	    W "sync.rc:20: 'UseSSLv3' is no longer supported and is "
	    "ignored\n");
	config_free(cfg);
	fails("IMAPAccount a\nHost h\nTLSType IMAPS\nUseIMAPS yes\n",
	    "sync.rc:4: IMAPAccount 'a' mixes UseIMAPS, RequireSSL or "
	    "UseTLSv1* with TLSType or TLSVersions: expected only TLSType and "
	    "TLSVersions");
	fails("IMAPAccount a\nHost h\nClientKey /k\n",
	    "sync.rc:3: IMAPAccount 'a' has ClientKey but no "
	    "ClientCertificate: expected the certificate that goes with the "
	    "key");
	fails("IMAPAccount a\nHost h\nAuthMechs LOGIN\nRequireCRAM yes\n",
	    "sync.rc:4: IMAPAccount 'a' has both RequireCRAM and AuthMechs: "
	    "expected only AuthMechs");
	fails("IMAPAccount a\nHost h\nUseIMAPS perhaps\n", "sync.rc:3: bad "
	    "value 'perhaps' for 'UseIMAPS': expected yes or no");
	buf_reset(&warnings);
}
END_TEST

START_TEST(test_imap_stores)
{
	struct config *cfg = ok("IMAPStore s\nHost h\nUser u\nPass p\n"
	    "TLSType IMAPS\nPath INBOX.\nPathDelimiter .\nUseNamespace no\n"
	    "MaxSize 100k\n");
	const struct store_conf *s = cfg->stores[0];

	ck_assert_ptr_nonnull(s->own_account);
	ck_assert_ptr_eq(s->account, s->own_account);
	ck_assert_ptr_null(s->account_name);
	ck_assert_str_eq(s->own_account->name, "s");
	ck_assert_str_eq(s->own_account->host, "h");
	ck_assert_int_eq(s->own_account->port, 993);
	ck_assert_str_eq(s->path, "INBOX.");
	ck_assert_int_eq(s->path_delimiter, '.');
	ck_assert_int_eq(s->use_namespace, 0);
	ck_assert_uint_eq(s->max_size, 102400);
	config_free(cfg);

	fails("IMAPStore s\nPath x/\n", "sync.rc:1: IMAPStore 's' has no Host, "
	    "Tunnel or Account: expected a 'Host' or a 'Tunnel' line, or "
	    "'Account' naming an IMAPAccount");
	fails("IMAPStore s\nUser u\n", "sync.rc:1: IMAPStore 's' has neither "
	    "Host nor Tunnel: expected a 'Host' or a 'Tunnel' line");
	fails("IMAPAccount a\nHost h\n\nIMAPStore s\nAccount a\nPort 99\n",
	    "sync.rc:6: IMAPStore 's' has both 'Account' and account options "
	    "such as 'Port': expected one or the other");
	fails("IMAPStore s\nTimeout 9\nAccount a\n", "sync.rc:3: IMAPStore "
	    "'s' has both 'Account' and account options such as 'Timeout': "
	    "expected one or the other");
	fails("IMAPStore s\nHost h\nPathDelimiter ::\n", "sync.rc:3: bad value "
	    "'::' for 'PathDelimiter': expected a single character");
	fails("IMAPStore s\nHost h\nFlatten a/b\n", "sync.rc:3: bad value "
	    "'a/b' for 'Flatten': expected a delimiter that does not contain "
	    "'/'");
	buf_reset(&warnings);
}
END_TEST

START_TEST(test_maildir_stores)
{
	struct config *cfg;
	const struct store_conf *m, *n;

	fails("MaildirStore m\nPath ~/Mail/\nSubFolders Maildir++\n",
	    "sync.rc:2: MaildirStore 'm': 'Path' cannot be used with "
	    "'SubFolders Maildir++': expected only 'Inbox', under which every "
	    "mailbox lives");

	cfg = ok("FSync no\n\nMaildirStore m\nInbox ~\n"
	    "SubFolders maildir++\n\nMaildirStore n\nPath /abs/\n"
	    "Inbox /abs/inbox\nSubFolders Legacy\n");
	m = cfg->stores[0];
	n = cfg->stores[1];
	ck_assert_str_eq(m->inbox, "/home/jane");
	ck_assert_int_eq(m->maildir.subfolders, MAILDIR_SUB_MAILDIRPP);
	ck_assert_int_eq(m->maildir.fsync, 0);
	ck_assert_ptr_null(m->maildir.path);
	ck_assert_str_eq(m->maildir.inbox, "/home/jane");
	ck_assert_str_eq(n->path, "/abs/");
	ck_assert_str_eq(n->inbox, "/abs/inbox");
	ck_assert_int_eq(n->maildir.subfolders, MAILDIR_SUB_LEGACY);
	config_free(cfg);
	warned("");

	fails("MaildirStore m\nSubFolders Flat\n", "sync.rc:2: bad value "
	    "'Flat' for 'SubFolders': expected Verbatim, Maildir++ or Legacy");
	fails("MaildirStore m\nPath ~bob/Mail/\n", "sync.rc:2: bad value "
	    "'~bob/Mail/' for 'Path': expected a directory; only '~/' is "
	    "expanded, not '~user/'");
	fails("MaildirStore m\nInfoDelimiter ab\n", "sync.rc:2: bad value "
	    "'ab' for 'InfoDelimiter': expected a single punctuation "
	    "character but / . , = \\");
	fails("FieldDelimiter x\n", "sync.rc:1: bad value 'x' for "
	    "'FieldDelimiter': expected a single punctuation character but "
	    "/ . , = \\");
	/* Characters Maildir and state file names use for themselves. */
	fails("MaildirStore m\nInfoDelimiter .\n", "sync.rc:2: bad value "
	    "'.' for 'InfoDelimiter': expected a single punctuation "
	    "character but / . , = \\");
	fails("MaildirStore m\nInfoDelimiter ,\n", "sync.rc:2: bad value "
	    "',' for 'InfoDelimiter': expected a single punctuation "
	    "character but / . , = \\");
	fails("FieldDelimiter /\n", "sync.rc:1: bad value '/' for "
	    "'FieldDelimiter': expected a single punctuation character but "
	    "/ . , = \\");
	buf_reset(&warnings);

	/* mbsync prepends a Path without '/'; twinbox says so. */
	cfg = ok("MaildirStore m\nInbox /in\nPath /home/jane/Mail\n");
	warned(W "sync.rc:3: MaildirStore 'm': Path '/home/jane/Mail' does not "
	    "end in '/': mbsync would prepend it to mailbox names, twinbox "
	    "uses it as the directory '/home/jane/Mail/'\n");
	config_free(cfg);
}
END_TEST

START_TEST(test_home_expansion)
{
	struct config *cfg;

	setenv("HOME", "/h/", 1);
	cfg = ok("SyncState ~/.state/\n\nIMAPAccount a\nHost h\n"
	    "CertificateFile ~/ca.pem\nClientCertificate ~/c.pem\n"
	    "ClientKey ~/k.pem\n\n" CHAN "SyncState *\n");
	ck_assert_str_eq(cfg->sync_state, "/h/.state/");
	ck_assert_str_eq(cfg->accounts[0]->cert_file, "/h/ca.pem");
	ck_assert_str_eq(cfg->accounts[0]->client_cert, "/h/c.pem");
	ck_assert_str_eq(cfg->accounts[0]->client_key, "/h/k.pem");
	ck_assert_str_eq(cfg->channels[0]->sync_state, "*");
	config_free(cfg);
	buf_reset(&warnings);

	unsetenv("HOME");
	fails("MaildirStore m\nPath ~/Mail/\n", "sync.rc:2: cannot expand '~' "
	    "in 'Path': HOME is not set");
	/* Inbox defaults to ~/Maildir, which needs HOME too. */
	fails("MaildirStore m\nPath /m/\n\nChannel c\n", "sync.rc:1: cannot "
	    "expand '~' in 'Inbox': HOME is not set");
	config_free(ok("MaildirStore m\nPath /m/\nInbox /m/INBOX\n"));
	setenv("HOME", "/home/jane", 1);
}
END_TEST

/*
 * mbsync's keys for what twinbox does not do: the values that ask for it
 * are errors that say why and what to write instead; the others load
 * without a word. No key is accepted and ignored.
 */
#define NOT_SUPPORTED(line, kv) "sync.rc:" line ": '" kv "' is not supported: "
START_TEST(test_refused_values)
{
	static const char *const quiet[] = {
		"MaildirStore m\nAltMap no\n",
		"IMAPAccount a\nUseKeychain no\nHost h\n",
		"MaildirStore m\nTrash T\nTrashRemoteNew no\n",
		"ExpireSide Near\n",
		"ExpireSide near\nMaxMessages 5\n",
		"BufferLimit 1m\n",
		"BufferLimit 10M\n",
	};
	struct config *cfg;

	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		config_free(ok(quiet[i]));
		warned("");
	}
	fails("MaildirStore m\nAltMap yes\n", NOT_SUPPORTED("2", "AltMap yes")
	    "twinbox keeps a message's UID in its file name (',U=') only, "
	    "never in mbsync's Berkeley DB (.isyncuidmap.db); delete the line "
	    "and set mbsync's state of these folders aside, so that the first "
	    "run pairs their messages by content");
	fails("IMAPAccount a\nHost h\nUseKeychain on\n",
	    NOT_SUPPORTED("3", "UseKeychain on") "twinbox does not read the "
	    "macOS keychain; write PassCmd \"security find-internet-password "
	    "-s HOST -a USER -w\" instead");
	fails(CHAN "ExpireSide Far\n", NOT_SUPPORTED("10", "ExpireSide Far")
	    "MaxMessages expires messages from the near side only; delete "
	    "the line or write 'ExpireSide Near'");

	/* Values are still checked. */
	fails("MaildirStore m\nAltMap sometimes\n", "sync.rc:2: bad value "
	    "'sometimes' for 'AltMap': expected yes or no");
	fails("ExpireSide Middle\n", "sync.rc:1: bad value 'Middle' for "
	    "'ExpireSide': expected Far or Near");
	fails("MaildirStore m\nTrashNewOnly sometimes\n", "sync.rc:2: bad "
	    "value 'sometimes' for 'TrashNewOnly': expected yes or no");

	/* The other store keys of those lines still act. */
	cfg = ok("FieldDelimiter ;\n\nMaildirStore m\nTrash Bin\nAltMap no\n"
	    "TrashRemoteNew yes\n");
	ck_assert_int_eq(cfg->field_delimiter, ';');
	ck_assert_int_eq(cfg->stores[0]->info_delimiter, ';');
	ck_assert_str_eq(cfg->stores[0]->trash, "Bin");
	ck_assert_int_eq(cfg->stores[0]->trash_remote_new, 1);
	config_free(cfg);
	warned("");
	cfg = ok("MaildirStore m\nTrash T\nTrashRemoteNew no\n");
	ck_assert_int_eq(cfg->stores[0]->trash_remote_new, 0);
	config_free(cfg);
	warned("");
}
END_TEST

/* Pass values never appear in messages. */
START_TEST(test_password_secrecy)
{
	static const char *const texts[] = {
		"IMAPAccount a\nHost h\nPass hunter2 hunter3\n",
		"IMAPAccount a\nHost h\nPass hunter2\nPassCmd x\n",
		"IMAPAccount a\nPass hunter2\n",
		("IMAPStore s\nPass hunter2\nAccount a\n\n"
		    "IMAPAccount a\nHost h\n"),
		"IMAPAccount a\nHost h\nPass \"hunter2\n",
		"IMAPAccount a\nHost h\nPass hunter2\nPass hunter2\n",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct buf err = BUF_INIT;
		struct config *cfg = NULL;

		config_parse_string(texts[i], "sync.rc", &cap_lg, &cfg, &err);
		ck_assert_ptr_null(strstr(buf_cstr(&err), "hunter"));
		ck_assert_ptr_null(strstr(buf_cstr(&warnings), "hunter"));
		config_free(cfg);
		buf_free(&err);
		buf_reset(&warnings);
	}
	fails("IMAPAccount a\nHost h\nPass hunter2 hunter3\n", "sync.rc:3: "
	    "unexpected extra value for 'Pass': expected one value (quote a "
	    "value that contains spaces)");
}
END_TEST

START_TEST(test_load_errors_and_relative_paths)
{
	struct buf err = BUF_INIT;
	struct config *cfg = (struct config *)&err;
	char *dir = tl_mkdtemp("cfg"), *path = tl_path(dir, "sync.rc");
	char *expect, *bad;

	ck_assert_int_eq(config_load("tests/data/no-such-file", &cap_lg, &cfg,
	    &err), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(buf_cstr(&err), "cannot read configuration file "
	    "'tests/data/no-such-file': No such file or directory");

	/* Messages use the path as given. */
	bad = tl_src_path("tests/data/bad-keyword.rc");
	ck_assert_int_eq(config_load(bad, &cap_lg, &cfg, &err), -1);
	ck_assert_int_eq(asprintf(&expect, "%s:4: unknown keyword 'Hots' in "
	    "IMAPAccount section", bad) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);
	free(bad);

	/* Relative local paths are relative to the file's directory, but a
	 * Maildir's must not be relative. */
	tl_write_str(path, "SyncState state/\n\nMaildirStore m\nPath Mail/\n");
	ck_assert_int_eq(config_load(path, &cap_lg, &cfg, &err), -1);
	ck_assert_int_eq(asprintf(&expect, "%s:4: MaildirStore 'm': Path "
	    "'Mail/' is relative (mbsync 1.4 reads it from the current "
	    "directory, 1.5 from the configuration file's): expected a path "
	    "that starts with '/' or '~/'", path) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);
	tl_write_str(path, "SyncState state/\n\nMaildirStore m\nPath /m/\n"
	    "Inbox /abs/INBOX\n\nIMAPStore i\nHost h\nPath rel/\n");
	ck_assert_int_eq(config_load(path, &cap_lg, &cfg, &err), 0);
	ck_assert_int_eq(asprintf(&expect, "%s/state/", dir) > 0, 1);
	ck_assert_str_eq(cfg->sync_state, expect);
	free(expect);
	ck_assert_str_eq(cfg->stores[0]->path, "/m/");
	ck_assert_int_eq(cfg->stores[0]->path_line, 4);
	ck_assert_str_eq(cfg->file, path);
	ck_assert_str_eq(cfg->stores[0]->inbox, "/abs/INBOX");
	/* An IMAP Path is on the server: left alone. */
	ck_assert_str_eq(cfg->stores[1]->path, "rel/");
	config_free(cfg);
	warned("");
	tl_rmtree(dir);
	free(path);
	free(dir);
	buf_free(&err);
}
END_TEST

START_TEST(test_default_path)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *home = tl_mkdtemp("home"), *xdg = tl_path(home, "xdg");
	char *p1 = tl_path(xdg, "twinbox"), *xrc = tl_path(p1, "sync.rc");
	char *cfgdir = tl_path(home, ".config/twinbox");
	char *crc = tl_path(cfgdir, "sync.rc");
	char *rc = tl_path(home, ".twinboxrc"), *expect;
	char *mrc = tl_path(home, ".mbsyncrc");
	char *irc = tl_path(home, ".config/isyncrc");
	char *xirc = tl_path(xdg, "isyncrc");

	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	ck_assert_int_eq(config_default_path(&out, &err), -1);
	ck_assert_int_eq(asprintf(&expect, "no configuration file: none of "
	    "'%s', '%s', '%s', '%s' exists; give one with -c", crc, rc, irc,
	    mrc) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);

	/* mbsync's files, when twinbox has none: isyncrc before
	 * ~/.mbsyncrc, as mbsync 1.4 looks for them. */
	tl_write_str(mrc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), mrc);
	tl_mkdirs(cfgdir);
	tl_write_str(irc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), irc);

	/* twinbox's own before either. */
	tl_write_str(rc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), rc);

	tl_write_str(crc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), crc);

	/* XDG_CONFIG_HOME replaces ~/.config; a relative one is ignored. */
	setenv("XDG_CONFIG_HOME", xdg, 1);
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), rc);
	tl_mkdirs(p1);
	tl_write_str(xrc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), xrc);
	setenv("XDG_CONFIG_HOME", "relative", 1);
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), crc);

	unlink(rc);
	unlink(crc);
	unlink(irc);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	unlink(xrc);
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), mrc);
	tl_write_str(xirc, "");
	ck_assert_int_eq(config_default_path(&out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), xirc);
	unlink(xirc);
	unlink(mrc);
	ck_assert_int_eq(config_default_path(&out, &err), -1);
	ck_assert_int_eq(asprintf(&expect, "no configuration file: none of "
	    "'%s', '%s', '%s', '%s' exists; give one with -c", xrc, rc, xirc,
	    mrc) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);

	unsetenv("HOME");
	ck_assert_int_eq(config_default_path(&out, &err), -1);
	ck_assert_int_eq(asprintf(&expect, "no configuration file: none of "
	    "'%s', '%s' exists, and HOME is not set, so ~/.twinboxrc and "
	    "~/.mbsyncrc cannot be looked for; give one with -c", xrc,
	    xirc) > 0, 1);
	ck_assert_str_eq(buf_cstr(&err), expect);
	free(expect);
	unsetenv("XDG_CONFIG_HOME");

	tl_rmtree(home);
	free(home);
	free(xdg);
	free(p1);
	free(xrc);
	free(cfgdir);
	free(crc);
	free(rc);
	free(mrc);
	free(irc);
	free(xirc);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_sample_file)
{
	struct buf err = BUF_INIT;
	struct config *cfg;
	char *text, *dir, *path, *sample = tl_src_path("sync.rc.sample");
	size_t nkeys = 0;

	ck_assert_int_eq(config_load(sample, &cap_lg, &cfg, &err), 0);
	warned("");
	ck_assert_uint_eq(cfg->naccounts, 2);
	ck_assert_uint_eq(cfg->nstores, 4);
	ck_assert_uint_eq(cfg->nchannels, 3);
	ck_assert_uint_eq(cfg->ngroups, 1);
	ck_assert_str_eq(cfg->accounts[1]->pass, "correct \"horse\" battery");
	ck_assert_uint_eq(config_find_channel(cfg, "work")->opt.sync,
	    SYNC_PULL_FULL | SYNC_PUSH_NEW | SYNC_PUSH_FLAGS);
	config_free(cfg);
	buf_reset(&warnings);

	/* With the "#Keyword" lines (mbsync's keys at their defaults) switched
	   on, it is still valid and silent. */
	text = tl_read_file(sample, NULL);
	free(sample);
	for (char *s = text; (s = strstr(s, "\n#")) != NULL; s++) {
		if (isalpha((unsigned char)s[2])) {
			s[1] = ' ';
			nkeys++;
		}
	}
	ck_assert_uint_ge(nkeys, 6);
	dir = tl_mkdtemp("sample");
	path = tl_path(dir, "sync.rc.sample");
	tl_write_str(path, text);
	ck_assert_int_eq(config_load(path, &cap_lg, &cfg, &err), 0);
	config_free(cfg);
	warned("");
	tl_rmtree(dir);
	free(dir);
	free(path);
	free(text);
	buf_free(&err);
}
END_TEST

/* A box name may hold a space (quoted) or a ':' after the first. */
START_TEST(test_group_entry)
{
	struct config *cfg = ok(CHAN "\nGroup g \"c:INBOX,Sent Items,a:b\"\n");
	const struct group_conf *g = config_find_group(cfg, "g");

	ck_assert_uint_eq(g->nentries, 1);
	ck_assert_str_eq(g->entries[0].channel_name, "c");
	ck_assert_ptr_eq(g->entries[0].channel, config_find_channel(cfg, "c"));
	ck_assert_uint_eq(g->entries[0].boxes.n, 3);
	ck_assert_str_eq(g->entries[0].boxes.v[0], "INBOX");
	ck_assert_str_eq(g->entries[0].boxes.v[1], "Sent Items");
	ck_assert_str_eq(g->entries[0].boxes.v[2], "a:b");
	config_free(cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mbsync_example);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_quoting_and_comments);
	tcase_add_test(tc, test_crlf_and_case);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_booleans);
	tcase_add_test(tc, test_sizes_and_numbers);
	tcase_add_test(tc, test_sync_combinations);
	tcase_add_test(tc, test_global_defaults);
	tcase_add_test(tc, test_mass_delete_keys);
	tcase_add_test(tc, test_watch_keys);
	tcase_add_test(tc, test_lock_wait);
	tcase_add_test(tc, test_sides);
	tcase_add_test(tc, test_channel_ends);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_references);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_pass_wiped);
	tcase_add_test(tc, test_keyword_errors);
	tcase_add_test(tc, test_imap_accounts);
	tcase_add_test(tc, test_tls_versions);
	tcase_add_test(tc, test_legacy_options);
	tcase_add_test(tc, test_imap_stores);
	tcase_add_test(tc, test_maildir_stores);
	tcase_add_test(tc, test_home_expansion);
	tcase_add_test(tc, test_refused_values);
	tcase_add_test(tc, test_password_secrecy);
	tcase_add_test(tc, test_load_errors_and_relative_paths);
	tcase_add_test(tc, test_default_path);
	tcase_add_test(tc, test_sample_file);
	tcase_add_test(tc, test_connections);
	tcase_add_test(tc, test_group_entry);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(config_suite());
}
