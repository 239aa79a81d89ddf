/* Unit tests: message fingerprints (sync/fingerprint.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir/maildir.h"
#include "support/memstore.h"
#include "support/odd_msgs.h"
#include "support/testlib.h"
#include "sync/fingerprint.h"

static struct fingerprint
fp_of(const char *msg)
{
	return fingerprint_of(msg, strlen(msg));
}

START_TEST(test_message_id_decides)
{
	struct fingerprint a = fp_of("Subject: a\r\nMessage-ID: <x@y>\r\n"
	    "\r\nbody one\r\n");
	struct fingerprint b = fp_of("message-id:    <x@y>  \r\nSubject: b\r\n"
	    "\r\nbody two\r\n");
	struct fingerprint c = fp_of("Message-ID: <z@y>\r\n\r\nbody one\r\n");

	ck_assert_uint_eq(a.hash, b.hash);
	ck_assert_uint_ne(a.hash, c.hash);
	ck_assert_uint_eq(a.size, strlen("Subject: a\r\nMessage-ID: <x@y>\r\n"
	    "\r\nbody one\r\n"));
}
END_TEST

/* mbsync's copies carry an X-TUID line their originals lack. */
START_TEST(test_mbsync_tracking_line_ignored)
{
	struct fingerprint orig = fp_of("Subject: a\r\nMessage-ID: <x@y>\r\n"
	    "\r\nbody\r\n");
	struct fingerprint copy = fp_of("Subject: a\nMessage-ID: <x@y>\n"
	    "X-TUID: AbCdEfGhIjKl\n\nbody\n");
	struct fingerprint noid = fp_of("Subject: a\r\n\r\nbody\r\n");
	struct fingerprint noid_copy = fp_of("X-TUID: AbCdEfGhIjKl\r\n"
	    "Subject: a\r\n\r\nbody\r\n");
	struct fingerprint inbody = fp_of("Subject: a\r\n\r\n"
	    "X-TUID: AbCdEfGhIjKl\r\n");
	struct fingerprint plain = fp_of("Subject: a\r\n\r\n");

	ck_assert_uint_eq(orig.size, copy.size);
	ck_assert_uint_eq(orig.hash, copy.hash);
	ck_assert_uint_eq(noid.size, noid_copy.size);
	ck_assert_uint_eq(noid.hash, noid_copy.hash);
	/* Only the header's line counts. */
	ck_assert_uint_ne(inbody.size, plain.size);
}
END_TEST

START_TEST(test_folded_and_missing_message_id)
{
	struct fingerprint folded = fp_of("Message-ID:\r\n <x@y>\r\nTo: a\r\n"
	    "\r\nbody\r\n");
	struct fingerprint plain = fp_of("Message-ID: <x@y>\r\n\r\nother\r\n");
	struct fingerprint none1 = fp_of("Subject: a\r\n\r\nbody\r\n");
	struct fingerprint none2 = fp_of("Subject: b\r\n\r\nbody\r\n");
	struct fingerprint none3 = fp_of("Subject: a\r\n\r\nother body\r\n");
	struct fingerprint inbody = fp_of("Subject: a\r\n\r\nMessage-ID: <x@y>"
	    "\r\n");

	ck_assert_uint_eq(folded.hash, plain.hash);
	ck_assert_uint_ne(none1.hash, none2.hash);
	/* Without a Message-ID the whole header counts, not the body. */
	ck_assert_uint_eq(none1.hash, none3.hash);
	ck_assert_uint_ne(inbody.hash, plain.hash);
	/* "X-Message-ID:" is another header. */
	ck_assert_uint_ne(fp_of("X-Message-ID: <x@y>\r\n\r\n").hash,
	    plain.hash);
}
END_TEST

/* Any chunking gives the fingerprint of the whole message, also when the
 * blank line that ends the header is split between chunks. */
START_TEST(test_stream_any_chunking)
{
	const char *msg = "Subject: x\r\nTo: y\r\n\r\nMessage-ID: <no@t>\r\n";
	size_t len = strlen(msg);
	struct fingerprint whole = fingerprint_of(msg, len);

	for (size_t step = 1; step <= len; step++) {
		struct fp_stream fs;
		struct fingerprint fp;

		fp_stream_init(&fs);
		for (size_t at = 0; at < len; at += step)
			fp_stream_add(&fs, msg + at,
			    len - at < step ? len - at : step);
		fp = fp_stream_finish(&fs);
		ck_assert_uint_eq(fp.size, whole.size);
		ck_assert_uint_eq(fp.hash, whole.hash);
	}
	/* The header ends at the blank line: the body's Message-ID does not
	 * count, so this is the hash of the two header lines. */
	ck_assert_uint_ne(whole.hash, fingerprint_of("Message-ID: <no@t>\r\n"
	    "\r\n", 22).hash);
}
END_TEST

START_TEST(test_scan_matches_whole_message)
{
	struct store *s = memstore_new(1);
	struct mbox_status st;
	struct msg_list scan = { 0 };
	struct fingerprint fp[3];
	struct buf err = BUF_INIT;
	const char *m1 = "Message-ID: <1@t>\r\n\r\none\r\n";
	const char *m3 = "Subject: three\r\n\r\nthree\r\n";
	uint32_t gone;

	memstore_deliver(s, "INBOX", m1, 0);
	gone = memstore_deliver(s, "INBOX", "Message-ID: <2@t>\r\n\r\n", 0);
	memstore_deliver(s, "INBOX", m3, 0);
	ck_assert_int_eq(s->ops->open(s, "INBOX", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &scan, &err), 0);
	memstore_remove(s, "INBOX", gone);
	ck_assert_int_eq(fingerprint_scan(s, &scan, fp, &err), 0);
	ck_assert_uint_eq(fp[0].hash, fp_of(m1).hash);
	ck_assert_uint_eq(fp[0].size, strlen(m1));
	ck_assert_uint_eq(fp[1].size, 0);
	ck_assert_uint_eq(fp[1].hash, 0);
	ck_assert_uint_eq(fp[2].hash, fp_of(m3).hash);
	msg_list_free(&scan);
	buf_free(&err);
	s->ops->free(s);
}
END_TEST

/*
 * One canonical form: every LF with the CRs right before it is one CRLF
 * line end, CRs that end the message are dropped, other CRs stay. A
 * message fingerprints the same whether it comes raw, as Dovecot gives it
 * back after an APPEND (measured: CR CR LF becomes CRLF, a CR that ends
 * the message goes, other CRs stay, a bare LF becomes CRLF), or as a
 * Maildir store gives it back after an append (CRLF -> LF in the file,
 * LF -> CRLF on the way out), in any chunking. The last case is a file
 * that another program wrote with CRLF line ends, read through a Maildir
 * store (CR CR LF), and the server's original.
 */
struct canon_case {
	const char *raw;	/* as the source sent it */
	const char *server;	/* as Dovecot gives it back */
	const char *maildir;	/* as a Maildir store gives it back */
};

static const struct canon_case canon_cases[] = {
	{ "Subject: c\r\n\r\nl1\r\nl2\r\n", "Subject: c\r\n\r\nl1\r\nl2\r\n",
	  "Subject: c\r\n\r\nl1\r\nl2\r\n" },
	{ "Subject: m\n\r\nl1\nl2\r\nl3\n", "Subject: m\r\n\r\nl1\r\nl2\r\n"
	  "l3\r\n", "Subject: m\r\n\r\nl1\r\nl2\r\nl3\r\n" },
	{ "Subject: t\r\n\r\nl1\r\nl2\r", "Subject: t\r\n\r\nl1\r\nl2",
	  "Subject: t\r\n\r\nl1\r\nl2\r" },
	{ "Subject: b\r\n\r\nl1\rl2\r\n", "Subject: b\r\n\r\nl1\rl2\r\n",
	  "Subject: b\r\n\r\nl1\rl2\r\n" },
	{ "Subject: r\r\n\r\nl1\r\r\nl2\r\n", "Subject: r\r\n\r\nl1\r\nl2\r\n",
	  "Subject: r\r\n\r\nl1\r\r\nl2\r\n" },
	{ "Subject: h\r\r\nTo: x\r\r\n\r\r\nbody\r\r\n",
	  "Subject: h\r\nTo: x\r\n\r\nbody\r\n",
	  "Subject: h\r\r\nTo: x\r\r\n\r\r\nbody\r\r\n" },
	{ "Subject: n\r\n\r\nno end", "Subject: n\r\n\r\nno end",
	  "Subject: n\r\n\r\nno end" },
	{ "Subject: k\r\n\r\na\r\rb\r\r\r", "Subject: k\r\n\r\na\r\rb",
	  "Subject: k\r\n\r\na\r\rb\r\r\r" },
};

static struct fingerprint
fp_chunked(const char *msg, size_t step)
{
	struct fp_stream fs;
	size_t len = strlen(msg);

	fp_stream_init(&fs);
	for (size_t at = 0; at < len; at += step)
		fp_stream_add(&fs, msg + at, len - at < step ? len - at : step);
	return fp_stream_finish(&fs);
}

START_TEST(test_canonical_line_ends)
{
	const struct canon_case *c = &canon_cases[_i];
	struct fingerprint want = fp_of(c->server);

	ck_assert_uint_eq(want.size, strlen(c->server));
	for (size_t step = 1; step <= strlen(c->raw) + 1; step++) {
		struct fingerprint r = fp_chunked(c->raw, step);
		struct fingerprint m = fp_chunked(c->maildir, step);

		ck_assert_msg(r.size == want.size && r.hash == want.hash,
		    "case %d, chunks of %zu: raw form size %llu, canonical "
		    "%llu", _i, step, (unsigned long long)r.size,
		    (unsigned long long)want.size);
		ck_assert_msg(m.size == want.size && m.hash == want.hash,
		    "case %d, chunks of %zu: Maildir form size %llu, "
		    "canonical %llu", _i, step, (unsigned long long)m.size,
		    (unsigned long long)want.size);
	}
}
END_TEST

/*
 * First contact's cheap pass reads headers only (fetch_headers()) and must
 * get the very hash the whole message's fingerprint has, or a message on
 * both sides would be copied twice. Odd messages, as a program other than
 * twinbox may have written them.
 */
/* fingerprint_scan() and fingerprint_headers() over every message of the
 * open mailbox of s: the hashes agree, message by message. */
static void
assert_header_hashes_agree(struct store *s, size_t want_n)
{
	struct mbox_status st;
	struct msg_list scan = { 0 };
	struct buf err = BUF_INIT;
	struct fingerprint *fp;
	struct header_hash *hh;
	uint32_t *uids;

	ck_assert_msg(s->ops->open(s, "INBOX", &st, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_int_eq(s->ops->scan(s, NULL, &scan, &err), 0);
	ck_assert_uint_eq(scan.n, want_n);
	fp = xcalloc(scan.n, sizeof(*fp));
	hh = xcalloc(scan.n, sizeof(*hh));
	uids = xcalloc(scan.n, sizeof(*uids));
	for (size_t i = 0; i < scan.n; i++)
		uids[i] = scan.v[i].uid;
	ck_assert_msg(fingerprint_scan(s, &scan, fp, &err) == 0, "%s",
	    buf_cstr(&err));
	ck_assert_msg(fingerprint_headers(s, &scan, uids, scan.n, hh, &err) ==
	    0, "%s", buf_cstr(&err));
	for (size_t i = 0; i < scan.n; i++)
		ck_assert_msg(hh[i].have && hh[i].hash == fp[i].hash,
		    "%s UID %u: header hash %llx, fingerprint's %llx",
		    s->ops->kind, scan.v[i].uid,
		    (unsigned long long)hh[i].hash,
		    (unsigned long long)fp[i].hash);
	free(fp);
	free(hh);
	free(uids);
	msg_list_free(&scan);
	buf_free(&err);
}

START_TEST(test_header_hash_is_fingerprint_hash_memstore)
{
	struct store *s = memstore_new(1);
	char *big = odd_long_header();
	struct memstore_calls c;
	uint64_t whole = strlen(big);

	for (size_t i = 0; i < ODD_MSGS; i++) {
		memstore_deliver(s, "INBOX", odd_msgs[i], 0);
		whole += strlen(odd_msgs[i]);
	}
	memstore_deliver(s, "INBOX", big, 0);
	memstore_deliver(s, "INBOX", "", 0);
	assert_header_hashes_agree(s, ODD_MSGS + 2);
	c = memstore_calls(s);
	ck_assert_uint_eq(c.headers, ODD_MSGS + 2);
	/* whole once by fingerprint_scan(), plus the few whose header had
	 * no end, which fingerprint_headers() reads whole */
	ck_assert_uint_gt(c.fetched_bytes, whole);
	ck_assert_uint_lt(c.header_bytes, whole);
	free(big);
	s->ops->free(s);
}
END_TEST

START_TEST(test_header_hash_is_fingerprint_hash_maildir)
{
	char *root = tl_mkdtemp("fphdr");
	struct maildir_options opt = { .path = root,
	    .subfolders = MAILDIR_SUB_MAILDIRPP };
	struct logger lg = { .level = LOG_QUIET };
	struct buf err = BUF_INIT;
	char *big = odd_long_header(), *cur, name[64];
	struct store *s;

	for (const char *d = "cur\0new\0tmp\0"; *d; d += strlen(d) + 1) {
		char *p = tl_path(root, d);

		tl_mkdirs(p);
		free(p);
	}
	cur = tl_path(root, "cur");
	for (size_t i = 0; i <= ODD_MSGS; i++) {
		char *p;

		snprintf(name, sizeof(name), "%zu.odd.host:2,", i);
		p = tl_path(cur, name);
		tl_write_str(p, i < ODD_MSGS ? odd_msgs[i] : big);
		free(p);
	}
	s = maildir_store_new(&opt, &lg, &err);
	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	assert_header_hashes_agree(s, ODD_MSGS + 1);
	s->ops->free(s);
	tl_rmtree(root);
	free(root);
	free(cur);
	free(big);
	buf_free(&err);
}
END_TEST

static Suite *
fingerprint_suite(void)
{
	Suite *s = suite_create("fingerprint");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_message_id_decides);
	tcase_add_test(tc, test_mbsync_tracking_line_ignored);
	tcase_add_test(tc, test_folded_and_missing_message_id);
	tcase_add_test(tc, test_stream_any_chunking);
	tcase_add_test(tc, test_scan_matches_whole_message);
	tcase_add_test(tc, test_header_hash_is_fingerprint_hash_memstore);
	tcase_add_test(tc, test_header_hash_is_fingerprint_hash_maildir);
	tcase_add_loop_test(tc, test_canonical_line_ends, 0,
	    (int)(sizeof(canon_cases) / sizeof(canon_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(fingerprint_suite());
}
