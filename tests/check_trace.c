/*
 * check_trace: the protocol trace's lines (imap/trace.c) and the log
 * file (log_file.c), without a server.
 *
 * Proved: every line shows in full, CRLF removed, whatever the chunks the
 * stream comes in (each case is fed whole, then cut at every size from 1
 * to 9); a literal shows as "{N} first line..." within its line with
 * -Dn and line by line with -DN; "{N}" ending a status response's text
 * is text; a secret shows as "<redacted N bytes>", in a line or as a
 * literal, also when the line was flushed before a synchronizing literal;
 * control characters are escaped, tab kept; an overlong line is cut with
 * the count of what was left out, and a literal announced after the cut
 * is still skipped; nothing is logged or kept when no output wants the
 * trace. The log file is created 0600, appended to, every line after an
 * ISO 8601 UTC timestamp with milliseconds, and holds the trace and the
 * debug lines that the terminal does not show; a file that cannot be
 * opened, or written (/dev/full), is an error naming it.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "imap/trace.h"
#include "util/log.h"
#include "util/log_file.h"
#include "support/testlib.h"

/* One step of a stream: bytes, or a secret of n bytes, or a flush or a
 * reset. */
enum step_kind { BYTES, SECRET, FLUSH, RESET };

struct step {
	enum step_kind kind;
	const char *bytes;
	size_t n;		/* SECRET: its size */
};

#define B(s)	{ BYTES, s, 0 }
#define S(n)	{ SECRET, NULL, n }
#define END	{ BYTES, NULL, 0 }

/* Feed bytes in chunks of cut (0: whole). */
static void
feed(struct imap_trace *tr, const char *p, size_t cut)
{
	size_t n = strlen(p);

	while (n > 0) {
		size_t k = cut == 0 || cut > n ? n : cut;

		imap_trace_bytes(tr, p, k);
		p += k;
		n -= k;
	}
}

/* What the steps log with debug set, fed in chunks of cut. */
static void
run_steps(const struct step *st, unsigned debug, size_t cut,
    struct buf *out)
{
	struct logger lg = { .level = LOG_DEBUG, .capture = out,
	    .debug = debug };
	struct imap_trace tr;

	imap_trace_init(&tr, &lg, "far#2", "<<");
	for (; st->kind != BYTES || st->bytes != NULL; st++) {
		if (st->kind == BYTES)
			feed(&tr, st->bytes, cut);
		else if (st->kind == SECRET)
			imap_trace_secret(&tr, st->n);
		else if (st->kind == FLUSH)
			imap_trace_flush(&tr);
		else
			imap_trace_reset(&tr);
	}
	imap_trace_free(&tr);
}

/* The steps log want (lines without "debug: far#2 << "; "|" lines as
 * "| TEXT"), whatever the chunks. */
static void
expect_steps(const struct step *st, unsigned debug, const char *want)
{
	struct buf expect = BUF_INIT, got = BUF_INIT;

	for (const char *p = want; *p != '\0'; ) {
		const char *nl = strchr(p, '\n');

		buf_addf(&expect, "debug: far#2 <<%s%.*s\n",
		    nl == p ? "" : " ", (int)(nl - p), p);
		p = nl + 1;
	}
	for (size_t cut = 0; cut < 10; cut++) {
		buf_reset(&got);
		run_steps(st, debug, cut, &got);
		ck_assert_msg(strcmp(buf_cstr(&got), buf_cstr(&expect)) == 0,
		    "chunks of %zu:\n%s\nwanted:\n%s", cut, buf_cstr(&got),
		    buf_cstr(&expect));
	}
	buf_free(&expect);
	buf_free(&got);
}

START_TEST(test_lines_in_full)
{
	const struct step st[] = {
		B("* OK [HIGHESTMODSEQ 88] Ok\r\n* CAPABILITY IMAP4rev1 "
		    "LITERAL+ AUTH=PLAIN\r\n"),
		B("* LIST (\\HasNoChildren) \".\" INBOX\nT1 OK done\r\n"),
		END
	};

	expect_steps(st, LOG_NET, "* OK [HIGHESTMODSEQ 88] Ok\n"
	    "* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\n"
	    "* LIST (\\HasNoChildren) \".\" INBOX\nT1 OK done\n");
}
END_TEST

static const struct step fetch_steps[] = {
	B("* 3 FETCH (UID 7 BODY[] {23}\r\nSubject: hi\r\n\r\nbody\tx\r\n"
	    " UID 8)\r\n"),
	B("* LIST () \".\" {5}\r\nINBOX\r\n"),
	B("* 4 FETCH (BODY[] {0}\r\n BINARY[] ~{3}\r\nab\n X {2}\r\nz\r"
	    ")\r\n"),
	B("* 5 FETCH (BODY[HEADER] {4}\r\nab\r\n)\r\n"),
	END
};

START_TEST(test_literals_net)
{
	expect_steps(fetch_steps, LOG_NET,
	    "* 3 FETCH (UID 7 BODY[] {23} Subject: hi... UID 8)\n"
	    "* LIST () \".\" {5} INBOX\n"
	    "* 4 FETCH (BODY[] {0} BINARY[] ~{3} ab X {2} z\\x0d)\n"
	    "* 5 FETCH (BODY[HEADER] {4} ab)\n");
}
END_TEST

START_TEST(test_literals_net_all)
{
	expect_steps(fetch_steps, LOG_NET | LOG_NET_ALL,
	    "* 3 FETCH (UID 7 BODY[] {23}\n| Subject: hi\n|\n"
	    "| body\tx\n UID 8)\n"
	    "* LIST () \".\" {5}\n| INBOX\n"
	    "* 4 FETCH (BODY[] {0}\n BINARY[] ~{3}\n| ab\n X {2}\n"
	    "| z\\x0d\n)\n"
	    "* 5 FETCH (BODY[HEADER] {4}\n| ab\n)\n");
}
END_TEST

/* A status response's text and a "+" line end where they end. */
START_TEST(test_text_is_not_a_literal)
{
	const struct step st[] = {
		B("* OK [ALERT] quota {5}\r\n+ send {3}\r\nT9 NO bad {2}\r\n"),
		B("* 1 EXISTS\r\n"),
		END
	};

	expect_steps(st, LOG_NET, "* OK [ALERT] quota {5}\n+ send {3}\n"
	    "T9 NO bad {2}\n* 1 EXISTS\n");
}
END_TEST

START_TEST(test_escapes)
{
	const struct step st[] = {
		B("* OK a\x1b[31mred\x07\tx\rb\x7f\r\n"),
		END
	};

	expect_steps(st, LOG_NET,
	    "* OK a\\x1b[31mred\\x07\tx\\x0db\\x7f\n");
}
END_TEST

static const struct step secret_steps[] = {
	B("T1 LOGIN \"alice\" "), S(9), B("\r\n"),
	B("T2 AUTHENTICATE PLAIN "), S(20), B("\r\n"),
	/* A synchronizing literal: the line is flushed before the "+". */
	B("T3 LOGIN \"alice\" {6}\r\n"), { FLUSH, NULL, 0 }, S(6), B("\r\n"),
	B("T4 LOGIN {5}\r\n"), { FLUSH, NULL, 0 }, B("alice {4}\r\n"),
	{ FLUSH, NULL, 0 }, S(4), B("\r\n"),
	/* A non-synchronizing one. */
	B("T5 LOGIN \"bob\" {3+}\r\n"), S(3), B("\r\n"),
	/* Refused before its literal. */
	B("T6 LOGIN \"bob\" {3}\r\n"), { FLUSH, NULL, 0 },
	{ RESET, NULL, 0 }, B("T7 NOOP\r\n"),
	END
};

START_TEST(test_secrets_net)
{
	expect_steps(secret_steps, LOG_NET,
	    "T1 LOGIN \"alice\" <redacted 9 bytes>\n"
	    "T2 AUTHENTICATE PLAIN <redacted 20 bytes>\n"
	    "T3 LOGIN \"alice\" {6}\n{6} <redacted 6 bytes>\n"
	    "T4 LOGIN {5}\n{5} alice {4}\n{4} <redacted 4 bytes>\n"
	    "T5 LOGIN \"bob\" {3+} <redacted 3 bytes>\n"
	    "T6 LOGIN \"bob\" {3}\nT7 NOOP\n");
}
END_TEST

START_TEST(test_secrets_net_all)
{
	expect_steps(secret_steps, LOG_NET | LOG_NET_ALL,
	    "T1 LOGIN \"alice\" <redacted 9 bytes>\n"
	    "T2 AUTHENTICATE PLAIN <redacted 20 bytes>\n"
	    "T3 LOGIN \"alice\" {6}\n| <redacted 6 bytes>\n"
	    "T4 LOGIN {5}\n| alice\n {4}\n| <redacted 4 bytes>\n"
	    "T5 LOGIN \"bob\" {3+}\n| <redacted 3 bytes>\n"
	    "T6 LOGIN \"bob\" {3}\nT7 NOOP\n");
}
END_TEST

/* A line past the limit is cut; an announcement at its end still
 * counts, so the literal does not leak into the lines after it. */
START_TEST(test_overlong_line)
{
	struct buf in = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	struct logger lg = { .level = LOG_DEBUG, .capture = &got,
	    .debug = LOG_NET };
	struct imap_trace tr;
	size_t x = IMAP_TRACE_LINE_MAX + 10;

	buf_adds(&in, "* 1 FETCH (X ");
	for (size_t i = 0; i < x; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, " BODY[] {3}\r\nabc)\r\n* 2 EXISTS\r\n");
	imap_trace_init(&tr, &lg, "far#2", "<<");
	imap_trace_bytes(&tr, in.data, in.len);
	imap_trace_free(&tr);
	/* Beyond the limit: the rest of the x, " BODY[] {3}", " abc", ")". */
	buf_addf(&want, " ... (%zu more bytes)\ndebug: far#2 << * 2 EXISTS\n",
	    (size_t)(13 + x - IMAP_TRACE_LINE_MAX + 11 + 4 + 1));
	ck_assert_uint_eq(got.len, strlen("debug: far#2 << ") +
	    IMAP_TRACE_LINE_MAX + want.len);
	ck_assert_str_eq(got.data + got.len - want.len, want.data);
	buf_free(&in);
	buf_free(&got);
	buf_free(&want);
}
END_TEST

/* No output wants the trace: nothing logged, nothing kept. */
START_TEST(test_nothing_wanted)
{
	struct buf got = BUF_INIT;
	struct logger quiet = { .level = LOG_NORMAL, .capture = &got,
	    .debug = LOG_NET };
	struct logger other = { .level = LOG_DEBUG, .capture = &got };
	const struct logger *lgs[] = { &quiet, &other, NULL };
	struct imap_trace tr;

	for (size_t i = 0; i < 3; i++) {
		imap_trace_init(&tr, lgs[i], "far#1", ">>");
		imap_trace_bytes(&tr, "T1 LOGIN \"a\" ", 13);
		imap_trace_secret(&tr, 4);
		imap_trace_flush(&tr);
		imap_trace_bytes(&tr, "\r\n* OK x\r\n", 10);
		ck_assert_ptr_null(tr.line.data);
		imap_trace_free(&tr);
	}
	ck_assert_uint_eq(got.len, 0);
	ck_assert_uint_eq(log_trace_wanted(NULL), 0);
	buf_free(&got);
}
END_TEST

/* Every line of the file: a timestamp, a space, then want's line. */
static void
expect_stamped(const char *path, const char *want)
{
	char *text = tl_read_file(path, NULL);
	regex_t re;
	const char *p = text;

	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z $", REG_EXTENDED | REG_NOSUB), 0);
	while (*want != '\0') {
		const char *nl = strchr(want, '\n');
		char stamp[26];

		ck_assert_msg(strlen(p) > 25, "log file too short:\n%s", text);
		memcpy(stamp, p, 25);
		stamp[25] = '\0';
		ck_assert_msg(regexec(&re, stamp, 0, NULL, 0) == 0,
		    "no timestamp: %s", p);
		ck_assert_msg(strncmp(p + 25, want, (size_t)(nl - want + 1))
		    == 0, "got %s, wanted %.*s", p + 25, (int)(nl - want),
		    want);
		p += 25 + (nl - want + 1);
		want = nl + 1;
	}
	ck_assert_str_eq(p, "");
	regfree(&re);
	free(text);
}

START_TEST(test_log_file)
{
	char *dir = tl_mkdtemp("trace"), *path = tl_path(dir, "run.log");
	struct buf err = BUF_INIT, shown = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL, .capture = &shown };
	struct imap_trace tr;
	struct stat sb;

	ck_assert_int_eq(log_file_start(&lg, path), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert_uint_eq(log_trace_wanted(&lg), LOG_NET);
	ck_assert(log_enabled(&lg, LOG_DEBUG));
	log_info(&lg, "summary");
	log_debug(&lg, "detail");
	imap_trace_init(&tr, &lg, "far#1", ">>");
	imap_trace_bytes(&tr, "T1 LOGIN \"a\" ", 13);
	imap_trace_secret(&tr, 4);
	imap_trace_bytes(&tr, "\r\n", 2);
	imap_trace_free(&tr);
	ck_assert_int_eq(log_file_finish(&lg, path), 0);
	ck_assert_ptr_null(lg.file);
	ck_assert_str_eq(shown.data, "summary\n");
	/* Opened again: appended. */
	ck_assert_int_eq(log_file_start(&lg, path), 0);
	log_error(&lg, "bad");
	ck_assert_int_eq(log_file_finish(&lg, path), 0);
	expect_stamped(path, "summary\ndebug: detail\n"
	    "debug: far#1 >> T1 LOGIN \"a\" <redacted 4 bytes>\n"
	    "twinbox: error: bad\n");
	tl_rmtree(dir);
	free(path);
	free(dir);
	buf_free(&err);
	buf_free(&shown);
}
END_TEST

START_TEST(test_log_file_errors)
{
	char *dir = tl_mkdtemp("trace"), *path = tl_path(dir, "no/run.log");
	struct buf shown = BUF_INIT, want = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL, .capture = &shown };

	ck_assert_int_eq(log_file_start(&lg, path), -1);
	buf_setf(&want, "twinbox: error: cannot open the log file %s: No such "
	    "file or directory; name a file that can be written with "
	    "--log-file or LogFile\n", path);
	ck_assert_str_eq(shown.data, want.data);
	buf_reset(&shown);
	ck_assert_int_eq(log_file_start(&lg, dir), -1);
	ck_assert_ptr_nonnull(strstr(shown.data, "Is a directory"));
	buf_reset(&shown);
	/* Every write fails: the close says the log is incomplete. */
	ck_assert_int_eq(log_file_start(&lg, "/dev/full"), 0);
	log_debug(&lg, "lost");
	/* Said at once, and once. */
	ck_assert_str_eq(buf_cstr(&shown), "twinbox: error: cannot write to "
	    "the log file: No space left on device; it is incomplete from "
	    "here on\n");
	log_debug(&lg, "lost too");
	ck_assert_int_eq(log_file_finish(&lg, "/dev/full"), -1);
	ck_assert_str_eq(shown.data, "twinbox: error: cannot write to the "
	    "log file: No space left on device; it is incomplete from here "
	    "on\n"
	    "twinbox: error: the log file /dev/full "
	    "is incomplete: a line could not be written to it\n");
	tl_rmtree(dir);
	free(path);
	free(dir);
	buf_free(&shown);
	buf_free(&want);
}
END_TEST

static Suite *
trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lines_in_full);
	tcase_add_test(tc, test_literals_net);
	tcase_add_test(tc, test_literals_net_all);
	tcase_add_test(tc, test_text_is_not_a_literal);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_secrets_net);
	tcase_add_test(tc, test_secrets_net_all);
	tcase_add_test(tc, test_overlong_line);
	tcase_add_test(tc, test_nothing_wanted);
	tcase_add_test(tc, test_log_file);
	tcase_add_test(tc, test_log_file_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(trace_suite());
}
