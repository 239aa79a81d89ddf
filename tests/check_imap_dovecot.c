/*
 * Integration tests of the IMAP client and store against a real Dovecot
 * (scripts/test-server.sh): logins over plain IMAP, IMAPS and STARTTLS,
 * certificate checks, mailbox names, and the store interface end to end
 * with every extension (COMPRESS=DEFLATE included) and with UIDPLUS /
 * LITERAL+ / CONDSTORE taken away (and a pipeline depth of 1), a body
 * FETCH after a second session expunged one of the messages, and odd
 * messages whose BODY[HEADER] must give their fingerprint's hash.
 *
 * Three servers are started by main() before the suite runs and stopped
 * after it, whatever the tests did; if one cannot start, the program
 * fails (it never skips).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/buf.h"
#include "imap/store_imap.h"
#include "util/log.h"
#include "store.h"
#include "sync/fingerprint.h"
#include "support/dovecot.h"
#include "support/odd_msgs.h"
#include "support/testlib.h"

#define CAROL_PASS "Pw-9f3kq7Zr"
#define RESTRICTED_CAPS "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE " \
	"IDLE NAMESPACE CHILDREN LIST-EXTENDED UNSELECT"

static struct dovecot full, restricted, wronghost;

static void
base_options(const struct dovecot *d, struct imap_store_options *o)
{
	memset(o, 0, sizeof(*o));
	o->name = "t";
	o->host = "127.0.0.1";
	o->port = atoi(d->imap_port);
	o->timeout = 10;
	o->tls = TLS_NONE;
	o->user = "alice";
	o->pass = "secret";
	o->use_namespace = 1;
	o->system_certs = 0;
	o->ca_file = d->ca_file;
}

static struct strlist login_mech;

static struct store *
open_plain(const struct dovecot *d, const char *user, struct buf *err)
{
	struct imap_store_options o;

	base_options(d, &o);
	o.user = user;
	o.auth_mechs = &login_mech;
	return imap_store_new(&o, NULL, err);
}

/* ---- logins -------------------------------------------------------- */

START_TEST(test_login_plain_explicit_login)
{
	struct buf err = BUF_INIT, cap = BUF_INIT;
	struct logger lg = { .level = LOG_DEBUG, .capture = &cap,
	    .debug = LOG_NET };
	struct imap_store_options o;
	struct strlist names = { 0 };
	struct store *s;

	base_options(&full, &o);
	o.user = "carol";
	o.pass = CAROL_PASS;
	o.auth_mechs = &login_mech;
	s = imap_store_new(&o, &lg, &err);
	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	ck_assert_int_eq(s->ops->list(s, &names, &err), 0);
	ck_assert(strlist_contains(&names, "INBOX"));
	s->ops->free(s);
	/* The debug log shows the command but never the password (13
	 * bytes with its quotes). */
	ck_assert_ptr_nonnull(strstr(cap.data, " LOGIN \"carol\" "
	    "<redacted 13 bytes>\n"));
	ck_assert_ptr_null(strstr(cap.data, CAROL_PASS));
	strlist_free(&names);
	buf_free(&cap);
	buf_free(&err);
}
END_TEST

START_TEST(test_plaintext_refused_without_authmechs)
{
	struct buf err = BUF_INIT, expect = BUF_INIT;
	struct imap_store_options o;

	base_options(&full, &o);
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	buf_setf(&expect, "imap store 't': 127.0.0.1 port %s: refusing to "
	    "send the password in clear text over an unencrypted connection; "
	    "use TLSType IMAPS or STARTTLS, or name LOGIN or PLAIN in "
	    "AuthMechs to allow it", full.imap_port);
	ck_assert_str_eq(err.data, expect.data);
	buf_free(&err);
	buf_free(&expect);
}
END_TEST

static void
check_tls_login(enum tls_mode mode, const char *pass_cmd)
{
	struct buf err = BUF_INIT, cap = BUF_INIT;
	struct logger lg = { .level = LOG_DEBUG, .capture = &cap,
	    .debug = LOG_NET };
	struct imap_store_options o;
	struct strlist names = { 0 };
	struct store *s;

	base_options(&full, &o);
	o.tls = mode;
	o.user = "carol";
	o.pass = pass_cmd ? NULL : CAROL_PASS;
	o.pass_cmd = pass_cmd;
	if (mode == TLS_IMAPS)
		o.port = atoi(full.imaps_port);
	s = imap_store_new(&o, &lg, &err);
	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	ck_assert_int_eq(s->ops->list(s, &names, &err), 0);
	ck_assert(strlist_contains(&names, "INBOX"));
	s->ops->free(s);
	ck_assert_ptr_nonnull(strstr(cap.data, " AUTHENTICATE PLAIN "
	    "<redacted "));
	ck_assert_ptr_null(strstr(cap.data, CAROL_PASS));
	strlist_free(&names);
	buf_free(&cap);
	buf_free(&err);
}

START_TEST(test_login_imaps_with_ca_file)
{
	check_tls_login(TLS_IMAPS, NULL);
}
END_TEST

START_TEST(test_login_starttls_with_ca_file_and_passcmd)
{
	check_tls_login(TLS_STARTTLS, "echo '" CAROL_PASS "'");
}
END_TEST

START_TEST(test_passcmd_failure)
{
	struct buf err = BUF_INIT;
	struct imap_store_options o;

	base_options(&full, &o);
	o.tls = TLS_STARTTLS;
	o.pass = NULL;
	o.pass_cmd = "exit 4";
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	ck_assert_str_eq(err.data, "imap store 't': PassCmd 'exit 4' failed "
	    "with exit status 4");
	buf_free(&err);
}
END_TEST

START_TEST(test_wrong_password)
{
	struct buf err = BUF_INIT, expect = BUF_INIT;
	struct imap_store_options o;

	base_options(&full, &o);
	o.tls = TLS_STARTTLS;
	o.pass = "wrong";
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	buf_setf(&expect, "imap store 't': 127.0.0.1 port %s: login as alice "
	    "with PLAIN failed: NO [AUTHENTICATIONFAILED] Authentication "
	    "failed.; check User and Pass or PassCmd", full.imap_port);
	ck_assert_str_eq(err.data, expect.data);
	buf_free(&err);
	buf_free(&expect);
}
END_TEST

START_TEST(test_untrusted_certificate_refused)
{
	struct buf err = BUF_INIT;
	struct imap_store_options o;

	base_options(&full, &o);
	o.tls = TLS_IMAPS;
	o.port = atoi(full.imaps_port);
	o.ca_file = NULL;
	o.system_certs = 1;
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	ck_assert_msg(strstr(err.data, "certificate verify failed: ") != NULL &&
	    strstr(err.data, "name it or the CA that issued it in "
	    "CertificateFile") != NULL, "%s", err.data);
	ck_assert_msg(strncmp(err.data, "imap store 't': ", 16) == 0, "%s",
	    err.data);
	buf_free(&err);
}
END_TEST

START_TEST(test_host_name_mismatch_refused)
{
	struct buf err = BUF_INIT;
	struct imap_store_options o;

	base_options(&wronghost, &o);
	o.tls = TLS_IMAPS;
	o.port = atoi(wronghost.imaps_port);
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	ck_assert_msg(strstr(err.data, "certificate verify failed: IP address "
	    "mismatch (the certificate is for DNS:wrong.example); connect "
	    "with a name the certificate is issued for") != NULL, "%s",
	    err.data);
	/* STARTTLS checks the same. */
	buf_reset(&err);
	base_options(&wronghost, &o);
	o.tls = TLS_STARTTLS;
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	ck_assert_msg(strstr(err.data, "IP address mismatch") != NULL, "%s",
	    err.data);
	buf_free(&err);
}
END_TEST

START_TEST(test_silent_server_times_out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct buf err = BUF_INIT, expect = BUF_INIT;
	struct imap_store_options o;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	base_options(&full, &o);
	o.port = ntohs(sa.sin_port);
	o.timeout = 1;
	ck_assert_ptr_null(imap_store_new(&o, NULL, &err));
	buf_setf(&expect, "imap store 't': read from 127.0.0.1 port %d: timed "
	    "out after 1 second (waiting for the server's greeting)", o.port);
	ck_assert_str_eq(err.data, expect.data);
	close(fd);
	buf_free(&err);
	buf_free(&expect);
}
END_TEST

/* ---- mailboxes ----------------------------------------------------- */

START_TEST(test_mailbox_names)
{
	struct buf err = BUF_INIT;
	struct strlist names = { 0 };
	struct store *s = open_plain(&full, "bob", &err);
	char *ondisk = tl_path(full.mail_dir, "bob/.Entw&APw-rfe.Alt");
	struct mbox_status st;

	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	ck_assert_int_eq(s->ops->create(s, "Entwürfe", &err), 0);
	ck_assert_int_eq(s->ops->create(s, "Entwürfe/Alt", &err), 0);
	ck_assert_int_eq(s->ops->create(s, "Work", &err), 0);
	/* Made since the listing (Dovecot: NO [ALREADYEXISTS]): there. */
	ck_assert_msg(s->ops->create(s, "Work", &err) == 0, "%s", err.data);
	/* Any other refusal fails, in the server's words. */
	ck_assert_int_eq(s->ops->create(s, "~Work", &err), -1);
	ck_assert_msg(strstr(err.data, "CREATE \"~Work\": NO [CANNOT] ") !=
	    NULL, "%s", err.data);
	/* ...named by the store, not by the mailbox open at the time. */
	ck_assert_int_eq(s->ops->open(s, "Work", &st, &err), 0);
	ck_assert_int_eq(s->ops->create(s, "~Work", &err), -1);
	ck_assert_msg(strncmp(err.data, "imap store 't': 127.0.0.1 port ",
	    31) == 0, "%s", err.data);
	ck_assert_int_eq(s->ops->list(s, &names, &err), 0);
	ck_assert_uint_eq(names.n, 4);
	ck_assert_str_eq(names.v[0], "Entwürfe");
	ck_assert_str_eq(names.v[1], "Entwürfe/Alt");
	ck_assert_str_eq(names.v[2], "INBOX");
	ck_assert_str_eq(names.v[3], "Work");
	ck_assert_msg(tl_exists(ondisk), "%s missing", ondisk);
	/* The server's delimiter cannot be part of a name. */
	ck_assert_int_eq(s->ops->create(s, "a.b", &err), -1);
	ck_assert_str_eq(err.data, "imap store 't': mailbox name 'a.b' "
	    "contains the server's hierarchy delimiter '.'");
	/* ...and the error names that mailbox, not the one open. */
	ck_assert_int_eq(s->ops->open(s, "Work", &st, &err), 0);
	ck_assert_int_eq(s->ops->create(s, "a.b", &err), -1);
	ck_assert_str_eq(err.data, "imap store 't': mailbox name 'a.b' "
	    "contains the server's hierarchy delimiter '.'");
	ck_assert_int_eq(s->ops->remove(s, "Entwürfe/Alt", &err), 0);
	ck_assert_int_eq(s->ops->remove(s, "Work", &err), 0);
	ck_assert_int_eq(s->ops->remove(s, "INBOX", &err), -1);
	ck_assert_str_eq(err.data, "imap store 't': INBOX cannot be removed");
	strlist_free(&names);
	ck_assert_msg(s->ops->list(s, &names, &err) == 0, "%s", err.data);
	ck_assert_uint_eq(names.n, 2);
	ck_assert(!tl_exists(ondisk));
	s->ops->free(s);
	strlist_free(&names);
	free(ondisk);
	buf_free(&err);
}
END_TEST

/* ---- the store interface ------------------------------------------- */

struct collect {
	struct buf bodies[8];
	uint32_t uids[8];
	unsigned flags[8];
	size_t n;
	uint32_t gone[8];
	size_t ngone;
};

static int
c_begin(void *ctx, const struct msg_meta *m, struct buf *err)
{
	struct collect *c = ctx;

	(void)err;
	ck_assert_uint_lt(c->n, 8);
	c->uids[c->n] = m->uid;
	c->flags[c->n] = m->flags;
	buf_init(&c->bodies[c->n]);
	return 0;
}

static int
c_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct collect *c = ctx;

	(void)err;
	buf_add(&c->bodies[c->n], p, n);
	return 0;
}

static int
c_end(void *ctx, struct buf *err)
{
	struct collect *c = ctx;

	(void)err;
	c->n++;
	return 0;
}

static void
c_gone(void *ctx, uint32_t uid)
{
	struct collect *c = ctx;

	c->gone[c->ngone++] = uid;
}

static void
collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		buf_free(&c->bodies[i]);
}

/* Three messages: small, with 8-bit text and a NUL-free binary-looking
 * part, and one of 300 KB, which streams through the literal path. */
static void
make_messages(struct buf m[3], const char *tag)
{
	buf_init(&m[0]);
	buf_init(&m[1]);
	buf_init(&m[2]);
	buf_addf(&m[0], "From: a@example.org\r\nSubject: one\r\nMessage-ID: "
	    "<one.%s@test>\r\n\r\nshort body\r\n", tag);
	buf_addf(&m[1], "From: b@example.org\r\nSubject: =?UTF-8?Q?zw=C3=B6"
	    "lf?=\r\nMessage-ID: <two.%s@test>\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	    "Grüße, \xe2\x82\xac 5\r\n\r\n\r\n", tag);
	buf_addf(&m[2], "From: c@example.org\r\nSubject: big\r\nMessage-ID: "
	    "<three.%s@test>\r\n\r\n", tag);
	for (int i = 0; i < 5000; i++)
		buf_addf(&m[2], "line %05d of a long message, padded to sixty "
		    "bytes\r\n", i);
}

static void
append_all(struct store *s, struct buf m[3], uint32_t out[3])
{
	static const unsigned flags[3] = { MSG_SEEN, MSG_FLAGGED | MSG_DRAFT,
	    0 };
	struct buf err = BUF_INIT;
	struct append_result *res = NULL;
	size_t nres = 0;

	for (int i = 0; i < 3; i++) {
		struct msg_meta meta = { 0, flags[i], m[i].len, 1000000000, 0 };
		struct store_append *a;
		uint32_t planned = 99;

		ck_assert_int_eq(s->ops->append_begin(s, &meta, &a, &planned,
		    &err), 0);
		ck_assert_uint_eq(planned, 0);
		/* Odd chunks, so the spool sees partial writes. */
		for (size_t off = 0; off < m[i].len; off += 7777) {
			size_t n = m[i].len - off < 7777 ? m[i].len - off :
			    7777;

			ck_assert_int_eq(s->ops->append_write(a,
			    m[i].data + off, n, &err), 0);
		}
		ck_assert_int_eq(s->ops->append_finish(a, &err), 0);
	}
	ck_assert_msg(s->ops->commit(s, &res, &nres, &err) == 0, "%s",
	    err.data);
	ck_assert_uint_eq(nres, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(res[i].status, STORE_OK);
		ck_assert_uint_ne(res[i].uid, 0);
		out[i] = res[i].uid;
	}
	ck_assert_uint_lt(out[0], out[1]);
	ck_assert_uint_lt(out[1], out[2]);
	append_results_free(res, nres);
	buf_free(&err);
}

static void
check_scan(struct store *s, const uint32_t uids[3], const struct buf m[3],
    const unsigned flags[3])
{
	struct msg_list l = { 0 };
	struct buf err = BUF_INIT;

	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	ck_assert_uint_eq(l.n, 3);
	for (int i = 0; i < 3; i++) {
		const struct msg_meta *mm = msg_list_find(&l, uids[i]);

		ck_assert_ptr_nonnull(mm);
		ck_assert_uint_eq(mm->size, m[i].len);
		ck_assert_uint_eq(mm->flags, flags[i]);
		ck_assert_int_ne(mm->date, 0);
	}
	msg_list_free(&l);
	buf_free(&err);
}

static void
check_fetch(struct store *s, const uint32_t uids[3], const struct buf m[3])
{
	struct msg_sink sink;
	struct collect c;
	struct buf err = BUF_INIT;
	uint32_t ask[4] = { uids[2], 999999, uids[0], uids[1] };

	memset(&c, 0, sizeof c);
	sink = (struct msg_sink){ c_begin, c_data, c_end, c_gone, &c, NULL };
	ck_assert_msg(s->ops->fetch(s, ask, 4, &sink, &err) == 0, "%s",
	    err.data);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_uint_eq(c.ngone, 1);
	ck_assert_uint_eq(c.gone[0], 999999);
	for (int k = 0; k < 3; k++) {
		int i = k == 0 ? 2 : k - 1;

		ck_assert_uint_eq(c.uids[k], uids[i]);
		ck_assert_uint_eq(c.bodies[k].len, m[i].len);
		ck_assert_int_eq(memcmp(c.bodies[k].data, m[i].data,
		    m[i].len), 0);
	}
	collect_free(&c);
	buf_free(&err);
}

static void
check_flags_and_expunge(struct store *s, const uint32_t uids[3],
    const struct buf m[3])
{
	unsigned want[3] = { MSG_SEEN | MSG_ANSWERED, MSG_DRAFT,
	    MSG_ANSWERED | MSG_FORWARDED };
	uint32_t two[3] = { uids[0], uids[2], 999999 };
	int res[3];
	struct buf err = BUF_INIT;
	struct msg_list l = { 0 };

	ck_assert_int_eq(s->ops->set_flags(s, two, 3, MSG_ANSWERED, 0, res,
	    &err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert_int_eq(res[2], STORE_GONE);
	ck_assert_int_eq(s->ops->set_flags(s, &uids[1], 1, 0, MSG_FLAGGED,
	    res, &err), 0);
	ck_assert_int_eq(s->ops->set_flags(s, &uids[2], 1, MSG_FORWARDED, 0,
	    res, &err), 0);
	check_scan(s, uids, m, want);
	ck_assert_int_eq(s->ops->expunge(s, two, 3, res, &err), 0);
	ck_assert_int_eq(res[0], STORE_OK);
	ck_assert_int_eq(res[1], STORE_OK);
	ck_assert_int_eq(res[2], STORE_GONE);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(l.v[0].uid, uids[1]);
	ck_assert_uint_eq(l.v[0].flags, MSG_DRAFT);
	msg_list_free(&l);
	buf_free(&err);
}

/* fallback: the server lacks UIDPLUS and LITERAL+, so the UIDs are
 * looked up and every literal waits for the server's "+". */
static void
round_trip(const struct dovecot *d, const char *box, int fallback)
{
	static const unsigned flags[3] = { MSG_SEEN, MSG_FLAGGED | MSG_DRAFT,
	    0 };
	struct buf err = BUF_INIT, m[3], cap = BUF_INIT;
	struct logger lg = { .level = LOG_DEBUG, .capture = &cap,
	    .debug = LOG_NET };
	struct mbox_status st;
	uint32_t uids[3];
	struct imap_store_options o;
	struct store *s;

	base_options(d, &o);
	o.auth_mechs = &login_mech;
	o.pipeline_depth = fallback ? 1 : 0;
	s = imap_store_new(&o, &lg, &err);

	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	make_messages(m, box);
	ck_assert_int_eq(s->ops->create(s, box, &err), 0);
	ck_assert_int_eq(s->ops->open(s, box, &st, &err), 0);
	ck_assert_uint_ne(st.uidvalidity, 0);
	ck_assert_uint_eq(st.uidnext, 1);
	append_all(s, m, uids);
	/* A second open sees what was appended. */
	ck_assert_int_eq(s->ops->open(s, box, &st, &err), 0);
	ck_assert_uint_eq(st.uidnext, uids[2] + 1);
	ck_assert_uint_eq(st.count, 3);
	check_scan(s, uids, m, flags);
	check_fetch(s, uids, m);
	check_flags_and_expunge(s, uids, m);
	s->ops->free(s);
	ck_assert_int_eq(strstr(cap.data, "looking up the UIDs of 3 appended "
	    "messages") != NULL, fallback);
	ck_assert_int_eq(strstr(cap.data, " << + ") != NULL, fallback);
	ck_assert_int_eq(strstr(cap.data, "UID EXPUNGE ") != NULL, !fallback);
	ck_assert_int_eq(strstr(cap.data, ": compression enabled") != NULL,
	    !fallback);
	for (int i = 0; i < 3; i++)
		buf_free(&m[i]);
	buf_free(&cap);
	buf_free(&err);
}

START_TEST(test_store_round_trip)
{
	round_trip(&full, "Round/Trip", 0);
}
END_TEST

START_TEST(test_store_round_trip_without_extensions)
{
	round_trip(&restricted, "Fallback", 1);
}
END_TEST

/* Without UIDPLUS a plain EXPUNGE would take other \Deleted messages. */
START_TEST(test_expunge_refused_without_uidplus)
{
	struct buf err = BUF_INIT, m[3];
	struct mbox_status st;
	uint32_t uids[3];
	int res[1];
	struct store *s = open_plain(&restricted, "alice", &err);
	struct msg_list l = { 0 };

	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	make_messages(m, "refuse");
	ck_assert_int_eq(s->ops->create(s, "Refuse", &err), 0);
	ck_assert_int_eq(s->ops->open(s, "Refuse", &st, &err), 0);
	append_all(s, m, uids);
	ck_assert_int_eq(s->ops->set_flags(s, &uids[1], 1, MSG_DELETED, 0,
	    res, &err), 0);
	ck_assert_int_eq(s->ops->expunge(s, &uids[0], 1, res, &err), -1);
	buf_free(&m[0]);
	buf_setf(&m[0], "imap store 't' mailbox 'Refuse': cannot expunge: "
	    "the server has no UIDPLUS, so EXPUNGE would also remove UIDs %u, "
	    "which are marked \\Deleted but not meant to be removed; expunge "
	    "them yourself or clear their \\Deleted flag", uids[1]);
	ck_assert_str_eq(err.data, m[0].data);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	ck_assert_uint_eq(l.n, 3);
	s->ops->free(s);
	msg_list_free(&l);
	for (int i = 0; i < 3; i++)
		buf_free(&m[i]);
	buf_free(&err);
}
END_TEST

static void
c_failed(void *ctx, uint32_t uid, const char *why)
{
	(void)ctx;
	ck_abort_msg("UID %u failed: %s", uid, why);
}

/*
 * Another session expunges a message between this session's scan and its
 * body FETCH, as a phone does: the message is gone (whatever form
 * Dovecot's answer takes), the others arrive with their own bytes; a
 * header FETCH then says the same, with each header alone.
 */
START_TEST(test_fetch_after_concurrent_expunge)
{
	struct buf err = BUF_INIT, m[3];
	struct store *s = open_plain(&full, "alice", &err);
	struct store *phone = open_plain(&full, "alice", &err);
	struct mbox_status st;
	struct msg_list l = { 0 };
	struct msg_sink sink;
	struct collect c;
	uint32_t uids[3];
	int res[1];

	ck_assert_msg(s != NULL && phone != NULL, "%s", buf_cstr(&err));
	make_messages(m, "race");
	ck_assert_int_eq(s->ops->create(s, "Race", &err), 0);
	ck_assert_int_eq(s->ops->open(s, "Race", &st, &err), 0);
	append_all(s, m, uids);
	ck_assert_int_eq(s->ops->open(s, "Race", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_int_eq(phone->ops->open(phone, "Race", &st, &err), 0);
	ck_assert_int_eq(phone->ops->expunge(phone, &uids[1], 1, res, &err),
	    0);
	ck_assert_int_eq(res[0], STORE_OK);
	memset(&c, 0, sizeof c);
	sink = (struct msg_sink){ c_begin, c_data, c_end, c_gone, &c,
	    c_failed };
	ck_assert_msg(s->ops->fetch(s, uids, 3, &sink, &err) == 0, "%s",
	    err.data);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(c.ngone, 1);
	ck_assert_uint_eq(c.gone[0], uids[1]);
	for (int k = 0; k < 2; k++) {
		int i = k * 2;

		ck_assert_uint_eq(c.uids[k], uids[i]);
		ck_assert_uint_eq(c.bodies[k].len, m[i].len);
		ck_assert_int_eq(memcmp(c.bodies[k].data, m[i].data,
		    m[i].len), 0);
	}
	collect_free(&c);
	/* Headers alone: the same gone, each header up to its empty line. */
	memset(&c, 0, sizeof c);
	ck_assert_msg(s->ops->fetch_headers(s, uids, 3, &sink, &err) == 0,
	    "%s", err.data);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_uint_eq(c.ngone, 1);
	ck_assert_uint_eq(c.gone[0], uids[1]);
	for (int k = 0; k < 2; k++) {
		int i = k * 2;
		const char *end = strstr(m[i].data, "\r\n\r\n");

		ck_assert_ptr_nonnull(end);
		ck_assert_uint_eq(c.uids[k], uids[i]);
		ck_assert_uint_eq(c.bodies[k].len,
		    (size_t)(end + 4 - m[i].data));
		ck_assert_int_eq(memcmp(c.bodies[k].data, m[i].data,
		    c.bodies[k].len), 0);
	}
	collect_free(&c);
	msg_list_free(&l);
	s->ops->free(s);
	phone->ops->free(phone);
	for (int i = 0; i < 3; i++)
		buf_free(&m[i]);
	buf_free(&err);
}
END_TEST

static void
append_one(struct store *s, const char *msg, struct buf *err)
{
	struct msg_meta meta = { .size = strlen(msg) };
	struct append_result *res = NULL;
	struct store_append *a;
	size_t nres = 0;
	uint32_t planned;

	ck_assert_int_eq(s->ops->append_begin(s, &meta, &a, &planned, err), 0);
	ck_assert_int_eq(s->ops->append_write(a, msg, meta.size, err), 0);
	ck_assert_int_eq(s->ops->append_finish(a, err), 0);
	ck_assert_msg(s->ops->commit(s, &res, &nres, err) == 0, "%s",
	    buf_cstr(err));
	ck_assert_int_eq(res[0].status, STORE_OK);
	append_results_free(res, nres);
}

/*
 * First contact's cheap pass reads BODY[HEADER] alone; for every odd
 * message Dovecot gives back, the hash of that header is the hash of the
 * whole message's fingerprint, as read from Dovecot and as computed from
 * the message as it was sent (what another store holds).
 */
START_TEST(test_header_hash_is_fingerprint_hash)
{
	struct buf err = BUF_INIT;
	struct store *s = open_plain(&full, "alice", &err);
	char *big = odd_long_header();
	const char *sent[ODD_MSGS + 1];
	struct fingerprint fp[ODD_MSGS + 1];
	struct header_hash hh[ODD_MSGS + 1];
	uint32_t uids[ODD_MSGS + 1];
	struct msg_list l = { 0 };
	struct mbox_status st;

	ck_assert_msg(s != NULL, "%s", buf_cstr(&err));
	ck_assert_int_eq(s->ops->create(s, "Odd", &err), 0);
	ck_assert_int_eq(s->ops->open(s, "Odd", &st, &err), 0);
	for (size_t i = 0; i <= ODD_MSGS; i++) {
		sent[i] = i < ODD_MSGS ? odd_msgs[i] : big;
		append_one(s, sent[i], &err);
	}
	ck_assert_int_eq(s->ops->open(s, "Odd", &st, &err), 0);
	ck_assert_int_eq(s->ops->scan(s, NULL, &l, &err), 0);
	ck_assert_uint_eq(l.n, ODD_MSGS + 1);
	for (size_t i = 0; i < l.n; i++)
		uids[i] = l.v[i].uid;
	ck_assert_msg(fingerprint_scan(s, &l, fp, &err) == 0, "%s", err.data);
	ck_assert_msg(fingerprint_headers(s, &l, uids, l.n, hh, &err) == 0,
	    "%s", err.data);
	for (size_t i = 0; i < l.n; i++) {
		uint64_t want = fingerprint_of(sent[i], strlen(sent[i])).hash;

		ck_assert_msg(hh[i].have && hh[i].hash == fp[i].hash &&
		    fp[i].hash == want, "message %zu: header hash %llx, "
		    "fingerprint's %llx, as sent %llx", i,
		    (unsigned long long)hh[i].hash,
		    (unsigned long long)fp[i].hash, (unsigned long long)want);
	}
	msg_list_free(&l);
	s->ops->free(s);
	free(big);
	buf_free(&err);
}
END_TEST

static Suite *
imap_dovecot_suite(void)
{
	Suite *s = suite_create("imap_dovecot");
	TCase *tc = tcase_create("dovecot");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_login_plain_explicit_login);
	tcase_add_test(tc, test_plaintext_refused_without_authmechs);
	tcase_add_test(tc, test_login_imaps_with_ca_file);
	tcase_add_test(tc, test_login_starttls_with_ca_file_and_passcmd);
	tcase_add_test(tc, test_passcmd_failure);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_untrusted_certificate_refused);
	tcase_add_test(tc, test_host_name_mismatch_refused);
	tcase_add_test(tc, test_silent_server_times_out);
	tcase_add_test(tc, test_mailbox_names);
	tcase_add_test(tc, test_store_round_trip);
	tcase_add_test(tc, test_store_round_trip_without_extensions);
	tcase_add_test(tc, test_expunge_refused_without_uidplus);
	tcase_add_test(tc, test_fetch_after_concurrent_expunge);
	tcase_add_test(tc, test_header_hash_is_fingerprint_hash);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	struct buf arg = BUF_INIT;
	int rc;

	strlist_add(&login_mech, "LOGIN");
	dovecot_start(&full, "TEST_SERVER_COMPRESS=1");
	dovecot_start(&restricted, "TEST_SERVER_CAPS='" RESTRICTED_CAPS "'");
	dovecot_start(&wronghost, "TEST_SERVER_CERT=wrong-host");
	buf_setf(&arg, "adduser '%s' carol '%s'", full.dir, CAROL_PASS);
	rc = dovecot_script(&full, arg.data);
	if (rc == 0)
		rc = run_suite(imap_dovecot_suite());
	else
		fprintf(stderr, "FAIL: test-server.sh %s\n", arg.data);
	dovecot_stop(&full);
	dovecot_stop(&restricted);
	dovecot_stop(&wronghost);
	strlist_free(&login_mech);
	buf_free(&arg);
	return rc == 0 ? 0 : 1;
}
