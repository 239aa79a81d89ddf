/* Unit tests: what a run prints besides its messages: JSON strings from
 * hostile names (json.h), sizes and times (units.h), the total line's rule
 * (report.h), the --json lines, and the status line around the logger's
 * lines (progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/log.h"
#include "util/progress.h"
#include "report.h"
#include "util/units.h"
#include "support/testlib.h"

static void
expect_json(const char *in, size_t len, const char *want)
{
	struct buf b = BUF_INIT;

	json_add_string(&b, in, len);
	ck_assert_str_eq(b.data, want);
	buf_free(&b);
}

#define EXPECT_JSON(lit, want) expect_json(lit, sizeof(lit) - 1, want)

START_TEST(test_json_plain_and_escapes)
{
	EXPECT_JSON("INBOX", "\"INBOX\"");
	EXPECT_JSON("", "\"\"");
	EXPECT_JSON("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	EXPECT_JSON("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	EXPECT_JSON("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	EXPECT_JSON("a\0b", "\"a\\u0000b\"");
	/* "b", "f", "n", "r", "t" themselves are letters. */
	EXPECT_JSON("bfnrt", "\"bfnrt\"");
}
END_TEST

START_TEST(test_json_utf8)
{
	/* Valid UTF-8 of every length is kept as it is. */
	EXPECT_JSON("Entw\xc3\xbcrfe", "\"Entw\xc3\xbcrfe\"");
	EXPECT_JSON("\xe2\x82\xac \xf0\x9f\x93\xa7", "\"\xe2\x82\xac "
	    "\xf0\x9f\x93\xa7\"");
	EXPECT_JSON("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\"\xef\xbf\xbf"
	    "\xf4\x8f\xbf\xbf\"");
	/* U+2028 and U+2029 escaped for JavaScript. */
	EXPECT_JSON("a\xe2\x80\xa8\xe2\x80\xa9", "\"a\\u2028\\u2029\"");
}
END_TEST

START_TEST(test_json_invalid_bytes)
{
	/* Latin-1, a lone continuation byte, 0xFF. */
	EXPECT_JSON("Entw\xfcrfe", "\"Entw\\ufffdrfe\"");
	EXPECT_JSON("\x80", "\"\\ufffd\"");
	EXPECT_JSON("\xff\xfe", "\"\\ufffd\\ufffd\"");
	/* Overlong forms, a surrogate, above U+10FFFF. */
	EXPECT_JSON("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	EXPECT_JSON("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	EXPECT_JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* A sequence cut short, by the end or by another byte: the
	 * following byte is read on its own. */
	EXPECT_JSON("\xe2\x82", "\"\\ufffd\\ufffd\"");
	EXPECT_JSON("\xc3\"", "\"\\ufffd\\\"\"");
	EXPECT_JSON("\xe2\x82\n", "\"\\ufffd\\ufffd\\n\"");
}
END_TEST

START_TEST(test_json_null)
{
	struct buf b = BUF_INIT;

	json_add_cstr(&b, NULL);
	json_add_cstr(&b, "x");
	ck_assert_str_eq(b.data, "null\"x\"");
	buf_free(&b);
}
END_TEST

START_TEST(test_units)
{
	struct buf b = BUF_INIT;

	units_add_bytes(&b, 0);
	buf_addc(&b, '|');
	units_add_bytes(&b, 1023);
	buf_addc(&b, '|');
	units_add_bytes(&b, 1536);
	buf_addc(&b, '|');
	units_add_bytes(&b, 5ull << 30);
	buf_addc(&b, '|');
	units_add_clock(&b, 62);
	buf_addc(&b, '|');
	units_add_clock(&b, 3723);
	buf_addc(&b, '|');
	units_add_seconds(&b, 1.25);
	buf_addc(&b, '|');
	/* A time left from a slow rate: no unsigned long holds it. */
	units_add_clock(&b, 1e30);
	ck_assert_str_eq(b.data, "0 B|1023 B|1.5 KiB|5.0 GiB|1:02|1:02:03|"
	    "1.2 s|1000000:00:00");
	buf_free(&b);
}
END_TEST

static void
add_pair_stats(struct report *rp, const char *name, enum pair_result res,
    const struct exec_stats *st, const char *error)
{
	struct pair_outcome o;

	memset(&o, 0, sizeof(o));
	o.channel = "c";
	o.name = name;
	o.box[0] = name;
	o.box[1] = name;
	o.result = res;
	o.stats = *st;
	o.error = error;
	report_add(rp, &o);
}

static void
add_pair(struct report *rp, const char *name, enum pair_result res,
    size_t copied_near, const char *error)
{
	struct exec_stats st;

	memset(&st, 0, sizeof(st));
	st.copied[SIDE_NEAR] = copied_near;
	st.bytes[SIDE_NEAR] = copied_near * 1000;
	add_pair_stats(rp, name, res, &st, error);
}

/* The total line: nothing for a run without change or failure, unless
 * asked for (-V); then the sums. */
START_TEST(test_total_rule)
{
	struct buf cap = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL, .capture = &cap };
	struct report *rp = report_new();

	add_pair(rp, "INBOX", PAIR_OK, 0, NULL);
	add_pair(rp, "Sent", PAIR_OK, 0, NULL);
	report_total(rp, 1.0, 0, &lg);
	ck_assert_str_eq(buf_cstr(&cap), "");
	report_total(rp, 1.0, 1, &lg);
	ck_assert_str_eq(cap.data, "twinbox: 2 mailbox pairs: 0 changed, 0 "
	    "failed, 0 skipped; far->near: 0 copied (0 B), 0 flagged, 0 "
	    "expunged; near->far: 0 copied (0 B), 0 flagged, 0 expunged; "
	    "1.0 s\n");
	buf_reset(&cap);
	/* Skipped as Create says: no news either. */
	add_pair(rp, "Old", PAIR_SKIPPED, 0, "skip Old: only on far");
	report_total(rp, 1.0, 0, &lg);
	ck_assert_str_eq(buf_cstr(&cap), "");
	add_pair(rp, "Lists", PAIR_OK, 3, NULL);
	add_pair(rp, "Junk", PAIR_FAILED, 0, "it broke");
	add_pair(rp, NULL, PAIR_FAILED, 0, "login refused");
	report_total(rp, 2.5, 0, &lg);
	ck_assert_str_eq(cap.data, "twinbox: 5 mailbox pairs: 1 changed, 1 "
	    "failed, 1 skipped; 1 channel failed; far->near: 3 copied (2.9 "
	    "KiB), 0 flagged, 0 expunged; near->far: 0 copied (0 B), 0 "
	    "flagged, 0 expunged; 2.5 s\n");
	/* -q: nothing. */
	buf_reset(&cap);
	lg.level = LOG_QUIET;
	report_total(rp, 2.5, 1, &lg);
	ck_assert_str_eq(buf_cstr(&cap), "");
	report_free(rp);
	buf_free(&cap);
}
END_TEST

/* --json: one object a line, every field, hostile names escaped. */
START_TEST(test_json_lines)
{
	struct report *rp = report_new();
	struct buf err = BUF_INIT;
	char text[2048];
	FILE *f = tmpfile();
	struct exec_stats st;
	size_t n;

	ck_assert_ptr_nonnull(f);
	memset(&st, 0, sizeof(st));
	st.copied[SIDE_NEAR] = 2;
	st.bytes[SIDE_NEAR] = 2000;
	st.empty[SIDE_FAR] = 3;
	add_pair_stats(rp, "a\"\n\xff", PAIR_OK, &st, NULL);
	add_pair(rp, NULL, PAIR_FAILED, 0, "login refused");
	ck_assert_int_eq(report_write_json(rp, f, &err), 0);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	ck_assert_str_eq(text, "{\"channel\":\"c\",\"mailbox\":\"a\\\"\\n"
	    "\\ufffd\",\"far\":\"a\\\"\\n\\ufffd\",\"near\":\"a\\\"\\n\\ufffd\","
	    "\"result\":\"ok\",\"far_to_near\":{\"copied\":2,\"flagged\":0,"
	    "\"expunged\":0,\"trashed\":0,\"bytes\":2000,\"empty\":0},"
	    "\"near_to_far\":{\"copied\":0,\"flagged\":0,\"expunged\":0,"
	    "\"trashed\":0,\"bytes\":0,\"empty\":3},\"recovered\":0,"
	    "\"seconds\":0.000,\"errors\":[]}\n"
	    "{\"channel\":\"c\",\"mailbox\":null,\"far\":null,\"near\":null,"
	    "\"result\":\"failed\",\"far_to_near\":{\"copied\":0,\"flagged\":0,"
	    "\"expunged\":0,\"trashed\":0,\"bytes\":0,\"empty\":0},"
	    "\"near_to_far\":{\"copied\":0,\"flagged\":0,\"expunged\":0,"
	    "\"trashed\":0,\"bytes\":0,\"empty\":0},\"recovered\":0,"
	    "\"seconds\":0.000,\"errors\":"
	    "[\"login refused\"]}\n");
	fclose(f);
	report_free(rp);
	buf_free(&err);
}
END_TEST

/* Everything written to f so far, from offset *at on; *at moves on. */
static void
read_new(FILE *f, long *at, struct buf *out)
{
	char chunk[512];
	size_t n;

	buf_reset(out);
	fflush(f);
	ck_assert_int_eq(fseek(f, *at, SEEK_SET), 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	*at = ftell(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
}

/*
 * The status line on a stream that is not a terminal (80 columns then):
 * drawn when a pair plans its copies, taken off for each logged line and
 * drawn again under it, erased when the pair is done; a pair without
 * copies never shows; control characters in a name (C0, DEL, and C1 as
 * UTF-8, which a terminal may also obey) are shown as '?', other UTF-8
 * is kept.
 */
START_TEST(test_status_line_around_log_lines)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	FILE *f = tmpfile();
	struct logger lg = { .level = LOG_NORMAL, .lock = &lock };
	struct buf got = BUF_INIT;
	long at = 0;
	int quiet, busy;

	ck_assert_ptr_nonnull(f);
	lg.out = lg.err_out = f;
	lg.progress = progress_new(f, &lock);
	quiet = progress_begin(lg.progress, "c:Quiet");
	busy = progress_begin(lg.progress, "c:In\x1b[2J\xc2\x9b" "2J\xc3\xa9"
	    "box");
	progress_end(lg.progress, quiet);
	read_new(f, &at, &got);
	ck_assert_str_eq(buf_cstr(&got), "");
	progress_plan(lg.progress, busy, 3, 300);
	read_new(f, &at, &got);
	ck_assert_str_eq(got.data, "\rtwinbox: c:In?[2J?2J\xc3\xa9" "box 0/3 "
	    "messages, 0 B\033[K");
	log_warn(&lg, "something");
	read_new(f, &at, &got);
	ck_assert_str_eq(got.data, "\r\033[Ktwinbox: warning: something\n"
	    "\rtwinbox: c:In?[2J?2J\xc3\xa9" "box 0/3 messages, 0 B\033[K");
	progress_end(lg.progress, busy);
	read_new(f, &at, &got);
	ck_assert_str_eq(got.data, "\r\033[K");
	log_info(&lg, "c:Inbox: done");
	read_new(f, &at, &got);
	ck_assert_str_eq(got.data, "c:Inbox: done\n");
	progress_free(lg.progress);
	read_new(f, &at, &got);
	ck_assert_str_eq(buf_cstr(&got), "");
	fclose(f);
	buf_free(&got);
}
END_TEST

/* A NULL status line does nothing, as progress.h promises. */
START_TEST(test_status_line_null)
{
	ck_assert_int_eq(progress_begin(NULL, "x"), -1);
	progress_plan(NULL, -1, 1, 1);
	progress_step(NULL, -1, 1);
	progress_end(NULL, -1);
	progress_hide(NULL);
	progress_show(NULL);
	progress_free(NULL);
}
END_TEST

static Suite *
output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_plain_and_escapes);
	tcase_add_test(tc, test_json_utf8);
	tcase_add_test(tc, test_json_invalid_bytes);
	tcase_add_test(tc, test_json_null);
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_total_rule);
	tcase_add_test(tc, test_json_lines);
	tcase_add_test(tc, test_status_line_around_log_lines);
	tcase_add_test(tc, test_status_line_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(output_suite());
}
