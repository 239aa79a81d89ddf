/*
 * check_sasl: the challenge-response mechanisms against their RFCs'
 * published examples (RFC 2195 CRAM-MD5, RFC 5802 SCRAM-SHA-1, RFC 7677
 * SCRAM-SHA-256), and the ways a server's messages are refused.
 */
#include <check.h>
#include <string.h>

#include "util/buf.h"
#include "imap/auth.h"
#include "imap/sasl.h"
#include "imap/scram.h"
#include "support/testlib.h"

#define S1_CNONCE "fyko+d2lbbFgONRv9qkxdawL"
#define S1_SFIRST "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," \
	"s=QSXCR+Q6sek8bf92,i=4096"
#define S1_CFINAL "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j," \
	"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define S1_SFINAL "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

#define S256_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define S256_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define S256_CFINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)" \
	"hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define S256_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void
run_vector(enum scram_hash h, const char *cnonce, const char *sfirst,
    const char *cfinal, const char *sfinal)
{
	struct scram s = SCRAM_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(scram_start(&s, h, "user", "pencil", cnonce, &out,
	    &err), SCRAM_OK);
	ck_assert_int_eq(strncmp(out.data, "n,,n=user,r=", 12), 0);
	ck_assert_str_eq(out.data + 12, cnonce);
	buf_reset(&out);
	ck_assert_int_eq(scram_client_final(&s, sfirst, strlen(sfirst), &out,
	    &err), SCRAM_OK);
	ck_assert_str_eq(out.data, cfinal);
	ck_assert_int_eq(scram_verify(&s, sfinal, strlen(sfinal), &err),
	    SCRAM_OK);
	scram_free(&s);
	buf_free(&out);
	buf_free(&err);
}

START_TEST(test_scram_rfc_vectors)
{
	struct scram s = SCRAM_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;

	/* The first message exactly as RFC 5802 prints it. */
	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_1, "user", "pencil",
	    S1_CNONCE, &out, &err), SCRAM_OK);
	ck_assert_str_eq(out.data, "n,,n=user,r=" S1_CNONCE);
	scram_free(&s);
	buf_free(&out);
	buf_free(&err);
	run_vector(SCRAM_SHA_1, S1_CNONCE, S1_SFIRST, S1_CFINAL, S1_SFINAL);
	run_vector(SCRAM_SHA_256, S256_CNONCE, S256_SFIRST, S256_CFINAL,
	    S256_SFINAL);
}
END_TEST

/* From RFC 5802's exchange, the server's first message replaced. */
static enum scram_status
first_reply(const char *sfirst, struct buf *err)
{
	struct scram s = SCRAM_INIT;
	struct buf out = BUF_INIT;
	enum scram_status st;

	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_1, "user", "pencil",
	    S1_CNONCE, &out, err), SCRAM_OK);
	buf_reset(&out);
	st = scram_client_final(&s, sfirst, strlen(sfirst), &out, err);
	if (st != SCRAM_OK)
		ck_assert_uint_eq(out.len, 0);
	scram_free(&s);
	buf_free(&out);
	return st;
}

START_TEST(test_scram_refuses_bad_server_first)
{
	struct buf err = BUF_INIT;

	ck_assert_int_eq(first_reply("r=someoneelse,s=QSXCR+Q6sek8bf92,"
	    "i=4096", &err), SCRAM_BAD_MESSAGE);
	ck_assert_str_eq(err.data, "the server's SCRAM challenge does not "
	    "extend our nonce");
	/* Our nonce unchanged is no server nonce at all. */
	ck_assert_int_eq(first_reply("r=" S1_CNONCE ",s=QSXCR+Q6sek8bf92,"
	    "i=4096", &err), SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(first_reply("r=" S1_CNONCE "x,s=!!,i=4096", &err),
	    SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(first_reply("r=" S1_CNONCE "x,s=QSXCR+Q6sek8bf92,"
	    "i=0", &err), SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(first_reply("r=" S1_CNONCE "x,s=QSXCR+Q6sek8bf92,"
	    "i=99999999", &err), SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(first_reply("r=" S1_CNONCE "x,s=QSXCR+Q6sek8bf92",
	    &err), SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(first_reply("m=ext,r=" S1_CNONCE "x,s=QSXCR+Q6sek8b"
	    "f92,i=1", &err), SCRAM_BAD_MESSAGE);
	buf_free(&err);
}
END_TEST

START_TEST(test_scram_refuses_bad_server_final)
{
	struct scram s = SCRAM_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	const char *forged = "v=rmF9pqV8S7suAoZWja4dJRkFsKA=";

	/* Before the proof is made, no signature is accepted. */
	ck_assert_int_eq(scram_verify(&s, S1_SFINAL, strlen(S1_SFINAL),
	    &err), SCRAM_BAD_MESSAGE);
	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_1, "user", "pencil",
	    S1_CNONCE, &out, &err), SCRAM_OK);
	ck_assert_int_eq(scram_client_final(&s, S1_SFIRST, strlen(S1_SFIRST),
	    &out, &err), SCRAM_OK);
	ck_assert_int_eq(scram_verify(&s, forged, strlen(forged), &err),
	    SCRAM_BAD_SIGNATURE);
	ck_assert_ptr_nonnull(strstr(err.data, "signature is wrong"));
	ck_assert_int_eq(scram_verify(&s, "e=invalid-proof", 15, &err),
	    SCRAM_SERVER_ERROR);
	ck_assert_str_eq(err.data, "the server ended SCRAM with the error "
	    "'invalid-proof'");
	ck_assert_int_eq(scram_verify(&s, "x=1", 3, &err), SCRAM_BAD_MESSAGE);
	/* The SHA-256 signature of RFC 7677 is not SHA-1's. */
	ck_assert_int_eq(scram_verify(&s, S256_SFINAL, strlen(S256_SFINAL),
	    &err), SCRAM_BAD_SIGNATURE);
	scram_free(&s);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_scram_input)
{
	struct scram s = SCRAM_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;

	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_256, "us=er,x", "p", "N",
	    &out, &err), SCRAM_OK);
	ck_assert_str_eq(out.data, "n,,n=us=3Der=2Cx,r=N");
	scram_free(&s);
	buf_reset(&out);
	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_256, "user",
	    "p\xc3\xa4ss", "N", &out, &err), SCRAM_BAD_INPUT);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_ptr_nonnull(strstr(err.data, "printable ASCII"));
	ck_assert_ptr_null(strstr(err.data, "p\xc3\xa4ss"));
	scram_free(&s);
	/* A random nonce: 24 bytes in base64, different each time. */
	buf_reset(&out);
	ck_assert_int_eq(scram_start(&s, SCRAM_SHA_1, "u", "p", NULL, &out,
	    &err), SCRAM_OK);
	ck_assert_uint_eq(out.len, strlen("n,,n=u,r=") + 32);
	scram_free(&s);
	buf_free(&out);
	buf_free(&err);
}
END_TEST

START_TEST(test_cram_md5_rfc2195)
{
	struct buf out = BUF_INIT;
	const char *ch = "<1896.697170952@postoffice.reston.mci.net>";

	ck_assert_int_eq(imap_sasl_cram_md5("tim", "tanstaaftanstaaf", ch,
	    strlen(ch), &out), 0);
	ck_assert_str_eq(out.data, "tim b913a602c7eda7a495b4e6e7334d3890");
	buf_free(&out);
}
END_TEST

START_TEST(test_unbase64)
{
	struct buf out = BUF_INIT;

	ck_assert_int_eq(imap_unbase64("YWI=", 4, &out), 0);
	ck_assert_str_eq(out.data, "ab");
	buf_reset(&out);
	ck_assert_int_eq(imap_unbase64("YWJj", 4, &out), 0);
	ck_assert_str_eq(out.data, "abc");
	buf_reset(&out);
	ck_assert_int_eq(imap_unbase64("YQ", 2, &out), 0);
	ck_assert_str_eq(out.data, "a");
	buf_reset(&out);
	ck_assert_int_eq(imap_unbase64("Y", 1, &out), -1);
	ck_assert_int_eq(imap_unbase64("YW=I", 4, &out), -1);
	ck_assert_int_eq(imap_unbase64("Y W", 3, &out), -1);
	buf_free(&out);
}
END_TEST

/* The exchange over base64, as AUTHENTICATE carries it: CRAM-MD5 with
 * RFC 2195's challenge, and a server that never signs. */
START_TEST(test_sasl_exchange)
{
	struct sasl x;
	struct buf out = BUF_INIT, err = BUF_INIT, ch = BUF_INIT;
	int has;

	sasl_init(&x, AUTH_CRAM_MD5, "tim", "tanstaaftanstaaf", NULL, 0);
	ck_assert_int_eq(sasl_initial(&x, &out, &has, &err), SASL_OK);
	ck_assert_int_eq(has, 0);
	imap_base64("<1896.697170952@postoffice.reston.mci.net>", 42, &ch);
	ck_assert_int_eq(sasl_answer(&x, ch.data, ch.len, &out, &err),
	    SASL_OK);
	ck_assert_str_eq(out.data, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMz"
	    "NGQzODkw");
	ck_assert_int_eq(sasl_answer(&x, ch.data, ch.len, &out, &err),
	    SASL_FAIL_PROTOCOL);
	ck_assert_int_eq(sasl_complete(&x, &err), SASL_OK);
	sasl_free(&x);

	buf_reset(&out);
	sasl_init(&x, AUTH_SCRAM_SHA_256, "user", "pencil", NULL, 0);
	ck_assert_int_eq(sasl_initial(&x, &out, &has, &err), SASL_OK);
	ck_assert_int_eq(has, 1);
	ck_assert_int_eq(sasl_answer(&x, "*!", 2, &out, &err),
	    SASL_FAIL_PROTOCOL);
	ck_assert_int_eq(sasl_complete(&x, &err), SASL_FAIL_SERVER_PROOF);
	sasl_free(&x);
	buf_free(&out);
	buf_free(&err);
	buf_free(&ch);
}
END_TEST

static Suite *
sasl_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_scram_rfc_vectors);
	tcase_add_test(tc, test_scram_refuses_bad_server_first);
	tcase_add_test(tc, test_scram_refuses_bad_server_final);
	tcase_add_test(tc, test_scram_input);
	tcase_add_test(tc, test_cram_md5_rfc2195);
	tcase_add_test(tc, test_unbase64);
	tcase_add_test(tc, test_sasl_exchange);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(sasl_suite());
}
