/*
 * Unit tests of the IMAP client's pure parts: modified UTF-7, UID sets,
 * capability parsing, AuthMechs selection, SASL messages, redaction of
 * secrets in logged commands, INTERNALDATE, and UserCmd/PassCmd.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "imap/auth.h"
#include "imap/caps.h"
#include "imap/cmdline.h"
#include "imap/imap_date.h"
#include "imap/parser.h"
#include "imap/secret.h"
#include "imap/uidset.h"
#include "imap/utf7.h"
#include "support/testlib.h"

/* ---- modified UTF-7 ------------------------------------------------ */

static void
check_roundtrip(const char *utf8, const char *mutf7)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(imap_utf7_encode(utf8, &out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), mutf7);
	buf_reset(&out);
	ck_assert_int_eq(imap_utf7_decode(mutf7, &out, &err), 0);
	ck_assert_str_eq(buf_cstr(&out), utf8);
	buf_free(&out);
	buf_free(&err);
}

START_TEST(test_utf7_examples)
{
	check_roundtrip("INBOX", "INBOX");
	check_roundtrip("Entwürfe", "Entw&APw-rfe");
	check_roundtrip("A&B", "A&-B");
	check_roundtrip("&", "&-");
	check_roundtrip("~peter/mail/台北/日本語",
	    "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	check_roundtrip("Привет мир", "&BB8EQAQ4BDIENQRC- &BDwEOARA-");
	check_roundtrip("😀 smile", "&2D3eAA- smile");
	check_roundtrip("tab\there", "tab&AAk-here");
	check_roundtrip("", "");
}
END_TEST

static void
check_bad_decode(const char *mutf7, const char *msg)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(imap_utf7_decode(mutf7, &out, &err), -1);
	ck_assert_str_eq(buf_cstr(&err), msg);
	buf_free(&out);
	buf_free(&err);
}

START_TEST(test_utf7_invalid_refused)
{
	check_bad_decode("Entw&APw",
	    "mailbox name 'Entw&APw' is not valid modified UTF-7 (at byte 5)");
	check_bad_decode("a&-&", "mailbox name 'a&-&' is not valid modified "
	    "UTF-7 (at byte 4)");
	/* Printable ASCII must not be encoded ("A" = U+0041). */
	check_bad_decode("&AEE-", "mailbox name '&AEE-' is not valid "
	    "modified UTF-7 (at byte 1)");
	/* Standard base64 '/' instead of ','. */
	check_bad_decode("&U/BTFw-", "mailbox name '&U/BTFw-' is not valid "
	    "modified UTF-7 (at byte 1)");
	/* Non-zero padding bits. */
	check_bad_decode("&APx-", "mailbox name '&APx-' is not valid "
	    "modified UTF-7 (at byte 1)");
	/* Unpaired high surrogate. */
	check_bad_decode("&2D0-", "mailbox name '&2D0-' is not valid "
	    "modified UTF-7 (at byte 1)");
	/* Two adjacent shift sequences. */
	check_bad_decode("&APw-&APw-", "mailbox name '&APw-&APw-' is not "
	    "valid modified UTF-7 (at byte 5)");
	/* Raw 8-bit bytes. */
	check_bad_decode("Entw\xc3\xbcrfe", "mailbox name 'Entw\\xC3\\xBCrfe' "
	    "is not valid modified UTF-7 (at byte 4)");
	/* Control characters are escaped in the message. */
	check_bad_decode("a\033[2Jb", "mailbox name 'a\\x1B[2Jb' is not "
	    "valid modified UTF-7 (at byte 1)");
	/* Empty shift sequence other than "&-" is "&-"; "&" alone is bad. */
	check_bad_decode("&", "mailbox name '&' is not valid modified UTF-7 "
	    "(at byte 1)");
}
END_TEST

START_TEST(test_utf7_encode_refuses_bad_utf8)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(imap_utf7_encode("a\xc0\xafz", &out, &err), -1);
	ck_assert_str_eq(buf_cstr(&err), "mailbox name 'a\\xC0\\xAFz' is not "
	    "valid UTF-8 (at byte 1)");
	buf_reset(&err);
	ck_assert_int_eq(imap_utf7_encode("\xed\xa0\x80", &out, &err), -1);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

/* ---- UID sets ------------------------------------------------------ */

START_TEST(test_uidset_compress)
{
	uint32_t uids[] = { 9, 3, 1, 2, 7, 3, 10, 11, 0, 20 };
	size_t n;
	uint32_t *s = imap_uids_sorted(uids, 10, &n);
	struct buf out = BUF_INIT;

	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(imap_uidset_format(s, n, 0, &out), 8);
	ck_assert_str_eq(out.data, "1:3,7,9:11,20");
	buf_reset(&out);
	ck_assert_uint_eq(imap_uidset_format(s, n, 8, &out), 4);
	ck_assert_str_eq(out.data, "1:3,7");
	buf_reset(&out);
	ck_assert_uint_eq(imap_uidset_format(s + 4, n - 4, 1, &out), 3);
	ck_assert_str_eq(out.data, "9:11");
	free(s);
	buf_free(&out);
}
END_TEST

START_TEST(test_uidset_parse)
{
	uint32_t *v = NULL;
	size_t n = 0;
	struct buf err = BUF_INIT;

	ck_assert_int_eq(imap_uidset_parse("5,9:7,12", 100, &v, &n, &err), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(v[0], 5);
	ck_assert_uint_eq(v[1], 7);
	ck_assert_uint_eq(v[3], 9);
	ck_assert_uint_eq(v[4], 12);
	ck_assert_int_eq(imap_uidset_parse("1:1000", 10, &v, &n, &err), -1);
	ck_assert_str_eq(err.data, "UID set '1:1000' holds more than 10 UIDs");
	ck_assert_int_eq(imap_uidset_parse("1,*", 10, &v, &n, &err), -1);
	ck_assert_str_eq(err.data, "malformed UID set '1,*'");
	free(v);
	buf_free(&err);
}
END_TEST

/* VANISHED's sets as ranges: sorted, merged across calls, counted
 * without being expanded. */
START_TEST(test_uid_ranges)
{
	struct uid_ranges r = { 0 };
	struct buf err = BUF_INIT;

	ck_assert_int_eq(imap_uid_ranges_add(&r, "20:30,5,9:7", &err), 0);
	ck_assert_int_eq(imap_uid_ranges_add(&r, "6,31:4000000000", &err), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.v[0].lo, 5);
	ck_assert_uint_eq(r.v[0].hi, 9);
	ck_assert_uint_eq(r.v[1].lo, 20);
	ck_assert_uint_eq(r.v[1].hi, 4000000000u);
	ck_assert(imap_uid_ranges_has(&r, 5));
	ck_assert(imap_uid_ranges_has(&r, 9));
	ck_assert(!imap_uid_ranges_has(&r, 10));
	ck_assert(!imap_uid_ranges_has(&r, 4));
	ck_assert(imap_uid_ranges_has(&r, 3999999999u));
	ck_assert(!imap_uid_ranges_has(&r, 4000000001u));
	ck_assert_uint_eq(imap_uid_ranges_count(&r, 1, 19), 5);
	ck_assert_uint_eq(imap_uid_ranges_count(&r, 8, 22), 5);
	ck_assert_uint_eq(imap_uid_ranges_count(&r, 10, 19), 0);
	ck_assert(imap_uid_ranges_count(&r, 1, UINT32_MAX) ==
	    5 + (4000000000u - 20 + 1));
	ck_assert_int_eq(imap_uid_ranges_add(&r, "12,1:*", &err), -1);
	ck_assert_str_eq(err.data, "malformed UID set '12,1:*'");
	ck_assert_uint_eq(r.n, 2);
	imap_uid_ranges_free(&r);
	ck_assert_uint_eq(imap_uid_ranges_count(&r, 1, 100), 0);
	buf_free(&err);
}
END_TEST

/* ---- capabilities -------------------------------------------------- */

struct parsed {
	struct imap_caps caps;
	int seen;
};

static int
caps_cb(void *ctx, const struct imap_response *r)
{
	struct parsed *p = ctx;

	if (r->code != NULL)
		imap_caps_parse(&p->caps, r->code->child->next);
	else
		imap_caps_parse(&p->caps, r->items->next);
	p->seen++;
	return 0;
}

static void
parse_caps(const char *line, struct parsed *p)
{
	struct imap_parser_callbacks cb = { caps_cb, NULL, p };
	struct imap_parser *ps = imap_parser_new(&cb, NULL);

	ck_assert_int_eq(imap_parser_feed(ps, line, strlen(line)), 0);
	ck_assert_int_eq(p->seen, 1);
	imap_parser_free(ps);
}

START_TEST(test_caps_parse)
{
	struct parsed p = { { 0, { 0 } }, 0 };
	struct buf err = BUF_INIT;
	struct strlist dis = { 0 };

	parse_caps("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ STARTTLS "
	    "AUTH=PLAIN auth=xoauth2 uidplus ID] ready\r\n", &p);
	ck_assert_uint_eq(p.caps.bits, CAP_IMAP4REV1 | CAP_SASL_IR |
	    CAP_LITERALPLUS | CAP_STARTTLS | CAP_UIDPLUS);
	ck_assert(imap_caps_has_auth(&p.caps, "plain"));
	ck_assert(imap_caps_has_auth(&p.caps, "XOAUTH2"));
	ck_assert(!imap_caps_has_auth(&p.caps, "LOGIN"));
	p.seen = 0;
	parse_caps("* CAPABILITY IMAP4rev1 LOGINDISABLED LITERAL- "
	    "COMPRESS=DEFLATE\r\n", &p);
	ck_assert_uint_eq(p.caps.bits, CAP_IMAP4REV1 | CAP_LOGINDISABLED |
	    CAP_LITERALMINUS | CAP_COMPRESS);
	ck_assert_uint_eq(p.caps.auth.n, 0);
	strlist_add(&dis, "literal-");
	ck_assert_int_eq(imap_caps_disable(&p.caps, &dis, &err), 0);
	ck_assert_uint_eq(p.caps.bits, CAP_IMAP4REV1 | CAP_LOGINDISABLED |
	    CAP_COMPRESS);
	strlist_add(&dis, "FROBNICATE");
	ck_assert_int_eq(imap_caps_disable(&p.caps, &dis, &err), -1);
	ck_assert_str_eq(err.data, "DisableExtensions: unknown extension "
	    "'FROBNICATE'");
	imap_caps_clear(&p.caps);
	p.seen = 0;
	parse_caps("* CAPABILITY IMAP4rev1 ENABLE CONDSTORE qresync "
	    "NOTIFY\r\n", &p);
	ck_assert_uint_eq(p.caps.bits, CAP_IMAP4REV1 | CAP_ENABLE |
	    CAP_CONDSTORE | CAP_QRESYNC | CAP_NOTIFY);
	strlist_free(&dis);
	strlist_add(&dis, "QRESYNC");
	strlist_add(&dis, "notify");
	ck_assert_int_eq(imap_caps_disable(&p.caps, &dis, &err), 0);
	ck_assert_uint_eq(p.caps.bits, CAP_IMAP4REV1 | CAP_ENABLE |
	    CAP_CONDSTORE);
	imap_caps_clear(&p.caps);
	strlist_free(&dis);
	buf_free(&err);
}
END_TEST

/* ---- AuthMechs ----------------------------------------------------- */

static struct imap_caps
caps_with(unsigned bits, const char *auth)
{
	struct imap_caps c = { bits, { 0 } };
	char *copy = xstrdup(auth), *save = NULL;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save))
		strlist_add(&c.auth, t);
	free(copy);
	return c;
}

static int
choose(const char *mechs, unsigned bits, const char *auth, int secure,
    enum imap_auth_mech *m, struct buf *err)
{
	struct strlist l = { 0 };
	struct imap_caps c = caps_with(bits, auth);
	char *copy = xstrdup(mechs), *save = NULL;
	int rc;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save))
		strlist_add(&l, t);
	rc = imap_auth_choose(&l, &c, secure, "h port 1", m, err);
	strlist_free(&l);
	imap_caps_clear(&c);
	free(copy);
	return rc;
}

START_TEST(test_auth_choose)
{
	struct buf err = BUF_INIT;
	enum imap_auth_mech m;

	ck_assert_int_eq(choose("*", 0, "PLAIN", 1, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_PLAIN);
	ck_assert_int_eq(choose("", 0, "", 1, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_LOGIN);
	ck_assert_int_eq(choose("*", CAP_LOGINDISABLED, "XOAUTH2", 1, &m,
	    &err), -1);
	ck_assert_str_eq(err.data, "h port 1: no usable authentication "
	    "mechanism: the server offers XOAUTH2, AuthMechs allows *");
	ck_assert_int_eq(choose("XOAUTH2", 0, "XOAUTH2 PLAIN", 1, &m, &err),
	    0);
	ck_assert_int_eq(m, AUTH_XOAUTH2);
	ck_assert_int_eq(choose("plain oauthbearer", 0,
	    "OAUTHBEARER PLAIN", 1, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_OAUTHBEARER);
	/* Insecure: refused unless named. */
	ck_assert_int_eq(choose("*", 0, "PLAIN", 0, &m, &err), -1);
	ck_assert_str_eq(err.data, "h port 1: refusing to send the password "
	    "in clear text over an unencrypted connection; use TLSType IMAPS "
	    "or STARTTLS, or name LOGIN or PLAIN in AuthMechs to allow it");
	ck_assert_int_eq(choose("LOGIN", 0, "PLAIN", 0, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_LOGIN);
	ck_assert_int_eq(choose("PLAIN", 0, "PLAIN", 0, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_PLAIN);
	ck_assert_int_eq(choose("* LOGIN", 0, "PLAIN", 0, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_LOGIN);
	/* The strongest password mechanism the server offers; the
	 * challenge-response ones need no TLS. */
	ck_assert_int_eq(choose("*", 0, "PLAIN CRAM-MD5 SCRAM-SHA-1 "
	    "SCRAM-SHA-256", 1, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_SCRAM_SHA_256);
	ck_assert_int_eq(choose("*", 0, "PLAIN CRAM-MD5 SCRAM-SHA-1", 0, &m,
	    &err), 0);
	ck_assert_int_eq(m, AUTH_SCRAM_SHA_1);
	ck_assert_int_eq(choose("PLAIN CRAM-MD5", 0, "PLAIN CRAM-MD5 "
	    "SCRAM-SHA-256", 0, &m, &err), 0);
	ck_assert_int_eq(m, AUTH_CRAM_MD5);
	ck_assert_int_eq(choose("CRAM-MD5", 0, "PLAIN", 1, &m, &err), -1);
	ck_assert_str_eq(err.data, "h port 1: no usable authentication "
	    "mechanism: the server offers PLAIN LOGIN, AuthMechs allows "
	    "CRAM-MD5");
	buf_free(&err);
}
END_TEST

static int
next_after(const char *mechs, const char *auth, int secure,
    enum imap_auth_mech refused, enum imap_auth_mech *m)
{
	struct strlist l = { 0 };
	struct imap_caps c = caps_with(0, auth);
	char *copy = xstrdup(mechs), *save = NULL;
	int rc;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save))
		strlist_add(&l, t);
	rc = imap_auth_next(&l, &c, secure, refused, m);
	strlist_free(&l);
	imap_caps_clear(&c);
	free(copy);
	return rc;
}

/* A refused SCRAM or CRAM-MD5 goes on down the list (a server that
 * offers them may hold only a hash); nothing else does. */
START_TEST(test_auth_next)
{
	enum imap_auth_mech m;
	const char *all = "PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256";

	ck_assert_int_eq(next_after("*", all, 1, AUTH_SCRAM_SHA_256, &m), 0);
	ck_assert_int_eq(m, AUTH_SCRAM_SHA_1);
	ck_assert_int_eq(next_after("*", all, 1, AUTH_SCRAM_SHA_1, &m), 0);
	ck_assert_int_eq(m, AUTH_CRAM_MD5);
	ck_assert_int_eq(next_after("*", all, 1, AUTH_CRAM_MD5, &m), 0);
	ck_assert_int_eq(m, AUTH_PLAIN);
	/* The same rules as the first choice: no clear text in clear. */
	ck_assert_int_eq(next_after("*", all, 0, AUTH_CRAM_MD5, &m), -1);
	ck_assert_int_eq(next_after("SCRAM-SHA-256", all, 1,
	    AUTH_SCRAM_SHA_256, &m), -1);
	ck_assert_int_eq(next_after("*", all, 1, AUTH_PLAIN, &m), -1);
	ck_assert_int_eq(next_after("*", all, 1, AUTH_LOGIN, &m), -1);
	ck_assert_int_eq(next_after("OAUTHBEARER PLAIN", "OAUTHBEARER PLAIN",
	    1, AUTH_OAUTHBEARER, &m), -1);
}
END_TEST

START_TEST(test_sasl_messages)
{
	struct buf b = BUF_INIT;

	imap_sasl_plain("alice", "secret", &b);
	ck_assert_str_eq(b.data, "AGFsaWNlAHNlY3JldA==");
	buf_reset(&b);
	imap_sasl_xoauth2("u@x", "tok", &b);
	ck_assert_str_eq(b.data, "dXNlcj11QHgBYXV0aD1CZWFyZXIgdG9rAQE=");
	buf_reset(&b);
	imap_sasl_oauthbearer("u", "h", 993, "t", &b);
	ck_assert_str_eq(b.data,
	    "bixhPXUsAWhvc3Q9aAFwb3J0PTk5MwFhdXRoPUJlYXJlciB0AQE=");
	buf_reset(&b);
	imap_base64("ab", 2, &b);
	ck_assert_str_eq(b.data, "YWI=");
	buf_free(&b);
}
END_TEST

/* ---- redaction ----------------------------------------------------- */

START_TEST(test_cmdline_redacts_secrets)
{
	struct imap_cmdline l;
	struct imap_lit lit = { "0123456789", -1, 0, 10 };

	imap_cmd_init(&l);
	imap_cmd_add(&l, "LOGIN ");
	imap_cmd_add_string(&l, "al\"ice", 0);
	imap_cmd_add(&l, " ");
	imap_cmd_add_string(&l, "hunter2", 1);
	ck_assert_str_eq(l.log.data, "LOGIN \"al\"ice\" <secret>");
	ck_assert_str_eq(l.seg[0].text.data,
	    "LOGIN \"al\\\"ice\" \"hunter2\"");
	ck_assert_ptr_null(strstr(l.log.data, "hunter2"));
	imap_cmd_free(&l);

	/* A secret that must go as a literal is redacted as well. */
	imap_cmd_init(&l);
	imap_cmd_add(&l, "LOGIN u ");
	imap_cmd_add_string(&l, "p\xc3\xa4ss", 1);
	ck_assert_uint_eq(l.nseg, 2);
	ck_assert_int_eq(l.seg[0].has_lit, 1);
	ck_assert_uint_eq(l.seg[0].lit.len, 5);
	ck_assert_int_eq(memcmp(l.seg[0].lit.mem, "p\xc3\xa4ss", 5), 0);
	ck_assert_str_eq(l.log.data, "LOGIN u <secret>");
	imap_cmd_free(&l);

	imap_cmd_init(&l);
	imap_cmd_add(&l, "AUTHENTICATE PLAIN ");
	imap_cmd_add_secret(&l, "AGFsaWNlAHNlY3JldA==");
	imap_cmd_add(&l, " ");
	imap_cmd_add_literal(&l, &lit);
	ck_assert_str_eq(l.log.data, "AUTHENTICATE PLAIN <secret> {10} <10 "
	    "bytes>");
	imap_cmd_free(&l);
}
END_TEST

/* ---- INTERNALDATE -------------------------------------------------- */

START_TEST(test_internaldate)
{
	int64_t t;
	struct buf b = BUF_INIT;

	ck_assert_int_eq(imap_date_parse("17-Jul-1996 02:44:25 -0700", &t),
	    0);
	ck_assert_int_eq(t, 837596665);
	ck_assert_int_eq(imap_date_parse(" 1-Jan-2000 00:00:00 +0000", &t),
	    0);
	ck_assert_int_eq(t, 946684800);
	ck_assert_int_eq(imap_date_parse("29-Feb-2024 23:59:59 +0130", &t),
	    0);
	ck_assert_int_eq(t, 1709251199 - 5400);
	ck_assert_int_eq(imap_date_parse("17-Jux-1996 02:44:25 -0700", &t),
	    -1);
	ck_assert_int_eq(imap_date_parse("17-Jul-1996 02:44:25", &t), -1);
	ck_assert_int_eq(imap_date_parse("17-Jul-1996 02:44:25 -0700x", &t),
	    -1);
	imap_date_format(837596665, &b);
	ck_assert_str_eq(b.data, "17-Jul-1996 09:44:25 +0000");
	buf_free(&b);
}
END_TEST

/* ---- UserCmd / PassCmd --------------------------------------------- */

START_TEST(test_secret_command)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(imap_run_secret_cmd("PassCmd",
	    "printf 'tok en\\r\\nsecond\\n'", &out, &err), 0);
	ck_assert_str_eq(out.data, "tok en");
	ck_assert_int_eq(imap_run_secret_cmd("PassCmd", "echo s3cret; exit 3",
	    &out, &err), -1);
	ck_assert_str_eq(err.data, "PassCmd 'echo s3cret; exit 3' failed "
	    "with exit status 3");
	ck_assert_str_eq(buf_cstr(&out), "");
	ck_assert_int_eq(imap_run_secret_cmd("UserCmd", "true", &out, &err),
	    -1);
	ck_assert_str_eq(err.data, "UserCmd 'true' printed nothing");
	buf_free(&out);
	buf_free(&err);
}
END_TEST

static Suite *
imap_unit_suite(void)
{
	Suite *s = suite_create("imap_unit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_utf7_examples);
	tcase_add_test(tc, test_utf7_invalid_refused);
	tcase_add_test(tc, test_utf7_encode_refuses_bad_utf8);
	tcase_add_test(tc, test_uidset_compress);
	tcase_add_test(tc, test_uidset_parse);
	tcase_add_test(tc, test_uid_ranges);
	tcase_add_test(tc, test_caps_parse);
	tcase_add_test(tc, test_auth_choose);
	tcase_add_test(tc, test_auth_next);
	tcase_add_test(tc, test_sasl_messages);
	tcase_add_test(tc, test_cmdline_redacts_secrets);
	tcase_add_test(tc, test_internaldate);
	tcase_add_test(tc, test_secret_command);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(imap_unit_suite());
}
