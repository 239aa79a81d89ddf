/*
 * check_trace_auth: what every way of logging in sends reaches the
 * protocol trace redacted, through the IMAP client against a scripted
 * server (a forked child on 127.0.0.1 serving one connection, ended by an
 * alarm at the latest).
 *
 * The script offers every mechanism and accepts every login, and tells
 * the test (through a socket pair) each secret it received: LOGIN's password as
 * sent (quoted, or a literal after its "+"), AUTHENTICATE's initial
 * response (in the command, or after an empty "+" without SASL-IR) and
 * every non-empty answer to its challenges. SCRAM gets the server's real
 * signature, so the client also sends its final (empty) answer; XOAUTH2
 * is refused with an error challenge, answered with an empty line.
 *
 * Proved, for LOGIN (quoted, and a literal without LITERAL+), PLAIN (with
 * and without SASL-IR), CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 (without
 * SASL-IR), XOAUTH2 and OAUTHBEARER, each with -Dn, with -DN and into a
 * log file: the script received as many secrets as the mechanism sends;
 * neither any of them nor the password appears in the trace, and each
 * shows there as "<redacted N bytes>", N its size. And once logged in,
 * the client's send buffer holds neither the password nor PLAIN's
 * message anywhere in its allocation: a buffer that carried a secret is
 * wiped once sent, not merely reset.
 *
 * And with a long secret (240 bytes: a password or an OAuth token), for
 * LOGIN, PLAIN, SCRAM-SHA-256, XOAUTH2 and OAUTHBEARER: no allocation
 * that the client frees or moves while it logs in holds the secret, raw
 * or in base64 at any alignment (the program is linked with GNU ld's
 * --wrap for free() and realloc(), Makefile: every realloc() of the
 * library then moves, so that a copy left behind shows whatever the
 * heap's layout). A buffer that carries a secret is grown before the
 * secret goes in and wiped before it goes.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "util/buf.h"
#include "imap/auth.h"
#include "imap/client.h"
#include "imap/client_int.h"
#include "imap/secret.h"
#include "support/testlib.h"

/* The send buffer is read past what was last written into it, on
 * purpose: under valgrind (make valgrind) those bytes are declared read
 * (alloc_watch.h's VALGRIND_MAKE_MEM_DEFINED). */
#include "support/alloc_watch.h"

#define PASS "pencil-Zq7"
#define PASS_8BIT "p\xc3\xa4ss-Zq7"	/* goes as a literal */
#define SALT_B64 "QSXCR+Q6sek8bf92"
/* 240 bytes, more than any buffer's first allocation (64). */
#define PASS_LONG60 "LongSecret-0123456789-abcdefghijklmnopqrstuvwxyz-Zq7-ABCDEFG"
#define PASS_LONG PASS_LONG60 PASS_LONG60 PASS_LONG60 PASS_LONG60

struct mech_case {
	const char *mech;	/* AuthMechs */
	int sasl_ir;		/* the server offers SASL-IR */
	const char *pass;
	size_t secrets;		/* non-empty messages the client sends */
};

static const struct mech_case cases[] = {
	{ "LOGIN", 1, PASS, 1 },
	{ "LOGIN", 1, PASS_8BIT, 1 },
	{ "PLAIN", 1, PASS, 1 },
	{ "PLAIN", 0, PASS, 1 },
	{ "CRAM-MD5", 1, PASS, 1 },
	{ "SCRAM-SHA-1", 1, PASS, 2 },
	{ "SCRAM-SHA-256", 0, PASS, 2 },
	{ "XOAUTH2", 1, PASS, 1 },
	{ "OAUTHBEARER", 1, PASS, 1 },
	{ "LOGIN", 1, PASS_LONG, 1 },
	{ "PLAIN", 1, PASS_LONG, 1 },
	{ "PLAIN", 0, PASS_LONG, 1 },
	{ "SCRAM-SHA-256", 1, PASS_LONG, 2 },
	{ "XOAUTH2", 1, PASS_LONG, 1 },
	{ "OAUTHBEARER", 1, PASS_LONG, 1 },
};

/* ---- the script ------------------------------------------------------ */

struct script {
	int fd;			/* the connection */
	int report;		/* the pipe to the test */
	const char *pass;
};

static void
read_exactly(int fd, size_t n, struct buf *out)
{
	char c;

	buf_reset(out);
	while (n-- > 0) {
		if (read(fd, &c, 1) != 1)
			_exit(4);
		buf_addc(out, c);
	}
}

/* A secret received, for the test to look for. */
static void
report(struct script *sc, const char *secret)
{
	if (secret[0] == '\0')
		return;
	tl_send_str(sc->report, secret);
	tl_send_str(sc->report, "\n");
}

static void
challenge(struct script *sc, const char *raw)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "+ ");
	imap_base64(raw, strlen(raw), &b);
	buf_adds(&b, "\r\n");
	tl_send_str(sc->fd, b.data);
	buf_free(&b);
}

/* The answer to the last challenge, reported. */
static void
answer(struct script *sc, struct buf *line)
{
	if (!tl_read_line(sc->fd, line))
		_exit(5);
	report(sc, line->data);
}

static void
hmac(const EVP_MD *md, const void *key, size_t klen, const char *data,
    unsigned char *out, unsigned *n)
{
	if (HMAC(md, key, (int)klen, (const unsigned char *)data,
	    strlen(data), out, n) == NULL)
		_exit(6);
}

/* v=, the server's signature over the exchange (RFC 5802 3). */
static void
scram_signature(struct script *sc, const EVP_MD *md, const char *bare,
    const char *first, const char *final, struct buf *out)
{
	unsigned char salted[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE];
	unsigned char sig[EVP_MAX_MD_SIZE];
	unsigned n = (unsigned)tw_md_size(md), kn, sn;
	struct buf salt = BUF_INIT, auth = BUF_INIT;

	if (imap_unbase64(SALT_B64, strlen(SALT_B64), &salt) != 0 ||
	    PKCS5_PBKDF2_HMAC(sc->pass, (int)strlen(sc->pass),
	    (unsigned char *)salt.data, (int)salt.len, 4096, md, (int)n,
	    salted) != 1)
		_exit(7);
	hmac(md, salted, n, "Server Key", key, &kn);
	buf_setf(&auth, "%s,%s,%.*s", bare, first,
	    (int)(strstr(final, ",p=") - final), final);
	hmac(md, key, kn, auth.data, sig, &sn);
	buf_setf(out, "v=");
	imap_base64(sig, sn, out);
	buf_free(&salt);
	buf_free(&auth);
}

static void
scram(struct script *sc, const EVP_MD *md, const char *ir, struct buf *line)
{
	struct buf first = BUF_INIT, raw = BUF_INIT, final = BUF_INIT;
	struct buf v = BUF_INIT;
	const char *bare, *nonce;

	if (imap_unbase64(ir, strlen(ir), &raw) != 0 || raw.data == NULL ||
	    (bare = strstr(raw.data, "n=")) == NULL ||
	    (nonce = strstr(raw.data, ",r=")) == NULL)
		_exit(8);
	buf_setf(&first, "r=%ssrv,s=" SALT_B64 ",i=4096", nonce + 3);
	challenge(sc, first.data);
	answer(sc, line);
	if (imap_unbase64(line->data, line->len, &final) != 0 ||
	    final.data == NULL || strstr(final.data, ",p=") == NULL)
		_exit(9);
	scram_signature(sc, md, bare, first.data, final.data, &v);
	challenge(sc, v.data);
	answer(sc, line);
	buf_free(&first);
	buf_free(&raw);
	buf_free(&final);
	buf_free(&v);
}

/* "TAG AUTHENTICATE MECH [IR]": the exchange, then the verdict. */
static void
authenticate(struct script *sc, const char *tag, const char *args,
    struct buf *line)
{
	const char *sp = strchr(args, ' ');
	struct buf mech = BUF_INIT, ir = BUF_INIT, out = BUF_INIT;
	int refuse = 0;

	buf_add(&mech, args, sp ? (size_t)(sp - args) : strlen(args));
	buf_adds(&mech, "");
	if (sp != NULL) {
		buf_adds(&ir, sp + 1);
		report(sc, ir.data);
	} else if (strcmp(mech.data, "CRAM-MD5") != 0) {
		tl_send_str(sc->fd, "+ \r\n");
		answer(sc, line);
		buf_setf(&ir, "%s", line->data);
	}
	if (strcmp(mech.data, "CRAM-MD5") == 0) {
		challenge(sc, "<1896.697170952@postoffice.example.net>");
		answer(sc, line);
	} else if (strncmp(mech.data, "SCRAM-", 6) == 0) {
		scram(sc, strcmp(mech.data, "SCRAM-SHA-1") == 0 ? EVP_sha1() :
		    EVP_sha256(), buf_cstr(&ir), line);
	} else if (strcmp(mech.data, "XOAUTH2") == 0) {
		challenge(sc, "{\"status\":\"401\",\"schemes\":\"bearer\"}");
		answer(sc, line);
		refuse = 1;
	}
	buf_setf(&out, refuse ? "%s NO [AUTHENTICATIONFAILED] no\r\n" :
	    "%s OK [CAPABILITY IMAP4rev1] in\r\n", tag);
	tl_send_str(sc->fd, out.data);
	buf_free(&mech);
	buf_free(&ir);
	buf_free(&out);
}

/* "TAG LOGIN "alice" PASSWORD", the password quoted or a literal. */
static void
login(struct script *sc, const char *tag, const char *args,
    struct buf *line)
{
	const char *pass = strrchr(args, ' ') + 1;
	struct buf lit = BUF_INIT, out = BUF_INIT;

	if (pass[0] == '{') {
		tl_send_str(sc->fd, "+ go ahead\r\n");
		read_exactly(sc->fd, strtoul(pass + 1, NULL, 10), &lit);
		buf_adds(&lit, "");
		report(sc, lit.data);
		if (!tl_read_line(sc->fd, line) || line->len != 0)
			_exit(10);
	} else {
		report(sc, pass);
	}
	buf_setf(&out, "%s OK [CAPABILITY IMAP4rev1] in\r\n", tag);
	tl_send_str(sc->fd, out.data);
	buf_free(&lit);
	buf_free(&out);
}

static void
serve(struct script *sc, int sasl_ir)
{
	struct buf line = BUF_INIT, args = BUF_INIT, out = BUF_INIT;
	struct buf tag = BUF_INIT;

	buf_setf(&out, "* OK [CAPABILITY IMAP4rev1 %sAUTH=PLAIN AUTH=CRAM-MD5 "
	    "AUTH=SCRAM-SHA-1 AUTH=SCRAM-SHA-256 AUTH=XOAUTH2 "
	    "AUTH=OAUTHBEARER] hi\r\n", sasl_ir ? "SASL-IR " : "");
	tl_send_str(sc->fd, out.data);
	while (tl_read_line(sc->fd, &line)) {
		char *cmd = strchr(line.data, ' '), *rest;

		if (cmd == NULL)
			_exit(11);
		*cmd++ = '\0';
		buf_setf(&tag, "%s", line.data);
		rest = strchr(cmd, ' ');
		buf_setf(&args, "%s", rest ? rest + 1 : "");
		if (rest != NULL)
			*rest = '\0';
		if (strcmp(cmd, "AUTHENTICATE") == 0)
			authenticate(sc, tag.data, args.data, &line);
		else if (strcmp(cmd, "LOGIN") == 0)
			login(sc, tag.data, args.data, &line);
		else {
			buf_setf(&out, "%s%s OK done\r\n",
			    strcmp(cmd, "LOGOUT") == 0 ? "* BYE bye\r\n" : "",
			    tag.data);
			(void)tl_send_all(sc->fd, out.data, out.len);
		}
	}
	_exit(0);
}

static pid_t
start_script(const struct mech_case *mc, int *port, int *report_fd)
{
	int s = tl_listen_loopback(port), p[2];
	struct script sc = { -1, -1, mc->pass };
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(20);
		close(p[0]);
		sc.report = p[1];
		sc.fd = accept(s, NULL, NULL);
		if (sc.fd < 0)
			_exit(2);
		serve(&sc, mc->sasl_ir);
	}
	close(s);
	close(p[1]);
	*report_fd = p[0];
	return pid;
}

/* ---- the test -------------------------------------------------------- */

/*
 * What the client sent is gone from its send buffer: neither the password
 * nor PLAIN's message with it (base64, as sent) is anywhere in the
 * buffer's allocation, where a reset buffer would still hold them past
 * what later, shorter commands overwrote.
 */
static void
check_send_buffer(const struct mech_case *mc, const struct imap_client *c)
{
	const struct buf *w = &c->wbuf;
	unsigned char raw[512];
	char plain[1024];
	size_t ulen = strlen("alice"), plen = strlen(mc->pass);

	raw[0] = '\0';
	memcpy(raw + 1, "alice", ulen);
	raw[1 + ulen] = '\0';
	memcpy(raw + 2 + ulen, mc->pass, plen);
	EVP_EncodeBlock((unsigned char *)plain, raw, (int)(2 + ulen + plen));
	if (w->data == NULL)
		return;
	VALGRIND_MAKE_MEM_DEFINED(w->data, w->cap);
	ck_assert_msg(memmem(w->data, w->cap, mc->pass, plen) == NULL,
	    "%s: the password is still in the send buffer", mc->mech);
	ck_assert_msg(memmem(w->data, w->cap, plain, strlen(plain)) == NULL,
	    "%s: PLAIN's message is still in the send buffer", mc->mech);
}

/* Log in as the case says, the trace going to lg. */
static void
log_in(const struct mech_case *mc, const struct logger *lg,
    struct buf *secrets)
{
	struct imap_client_options o;
	struct strlist mechs = { 0 };
	struct imap_client *c;
	struct buf err = BUF_INIT;
	char chunk[512];
	ssize_t n;
	int port, fd, status;
	pid_t pid = start_script(mc, &port, &fd);

	memset(&o, 0, sizeof o);
	transport_options_init(&o.tr);
	o.tr.host = "127.0.0.1";
	o.tr.port_number = (unsigned)port;
	o.tr.timeout = 10;
	o.label = "acct#1";
	o.user = "alice";
	o.pass = mc->pass;
	strlist_add(&mechs, mc->mech);
	o.auth_mechs = &mechs;
	if (strlen(mc->pass) >= 64)
		alloc_watch_start(mc->pass);
	c = imap_client_open(&o, lg, &err);
	ck_assert_msg((c != NULL) == (strcmp(mc->mech, "XOAUTH2") != 0),
	    "%s: %s", mc->mech, buf_cstr(&err));
	if (c != NULL)
		check_send_buffer(mc, c);
	imap_client_free(c);
	if (alloc_watch.on) {
		size_t leaks = alloc_watch_stop();

		ck_assert_msg(leaks == 0, "%s: %zu allocation%s freed or moved "
		    "with the secret in it", mc->mech, leaks,
		    leaks == 1 ? "" : "s");
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(secrets, chunk, (size_t)n);
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: the script failed (status %d)", mc->mech, status);
	strlist_free(&mechs);
	buf_free(&err);
}

/* The trace holds no secret, and each as "<redacted N bytes>". */
static void
check_trace(const struct mech_case *mc, const char *trace,
    const struct buf *secrets)
{
	struct buf redacted = BUF_INIT;
	size_t count = 0;

	ck_assert_msg(strstr(trace, mc->pass) == NULL, "%s: password in:\n%s",
	    mc->mech, trace);
	ck_assert_msg(strstr(trace, "acct#1 >> ") != NULL, "%s: no trace",
	    mc->mech);
	for (const char *p = buf_cstr(secrets); *p != '\0'; count++) {
		const char *nl = strchr(p, '\n');
		char *secret = xstrndup(p, (size_t)(nl - p));

		ck_assert_msg(strstr(trace, secret) == NULL, "%s: '%s' in:\n%s",
		    mc->mech, secret, trace);
		buf_setf(&redacted, "<redacted %zu bytes>", strlen(secret));
		ck_assert_msg(strstr(trace, redacted.data) != NULL,
		    "%s: no %s in:\n%s", mc->mech, redacted.data, trace);
		free(secret);
		p = nl + 1;
	}
	ck_assert_uint_eq(count, mc->secrets);
	buf_free(&redacted);
}

START_TEST(test_every_mechanism_redacted)
{
	const struct mech_case *mc = &cases[_i];
	unsigned debug[] = { LOG_NET, LOG_NET | LOG_NET_ALL };
	struct buf trace = BUF_INIT, secrets = BUF_INIT;
	struct logger lg = { .level = LOG_DEBUG, .capture = &trace };
	struct logger to_file = { .level = LOG_NORMAL, .capture = &trace };
	char chunk[4096];
	size_t n;

	for (size_t i = 0; i < 2; i++) {
		lg.debug = debug[i];
		log_in(mc, &lg, &secrets);
		check_trace(mc, buf_cstr(&trace), &secrets);
		buf_reset(&trace);
		buf_reset(&secrets);
	}
	to_file.file = tmpfile();
	ck_assert_ptr_nonnull(to_file.file);
	log_in(mc, &to_file, &secrets);
	ck_assert_uint_eq(trace.len, 0);	/* nothing on the terminal */
	rewind(to_file.file);
	while ((n = fread(chunk, 1, sizeof chunk, to_file.file)) > 0)
		buf_add(&trace, chunk, n);
	fclose(to_file.file);
	check_trace(mc, buf_cstr(&trace), &secrets);
	buf_free(&trace);
	buf_free(&secrets);
}
END_TEST

/* The child: the password asked on its terminal, then the verdict as its
 * exit status (0: the password, and no copy of it left behind). */
static void
ask_on(const char *slave)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int fd, rc;

	alarm(20);
	if (setsid() < 0 || (fd = open(slave, O_RDWR)) < 0)
		_exit(2);
	alloc_watch_start(PASS_LONG);
	rc = imap_ask_password("Password: ", &out, &err);
	if (rc != 0 || strcmp(buf_cstr(&out), PASS_LONG) != 0)
		_exit(3);
	buf_wipe(&out);
	alloc_watch.on = 0;
	_exit(alloc_watch.frees == 0 ? 4 : alloc_watch.leaks != 0 ? 5 : 0);
}

/*
 * A password typed at the terminal (no Pass or PassCmd) is read without
 * a stdio buffer: none is freed with the password in it. The child asks
 * on a pseudo-terminal of its own; the password is typed once the prompt
 * shows (echo is off by then).
 */
START_TEST(test_typed_password_wiped)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), status;
	struct buf seen = BUF_INIT;
	const char *slave;
	char c;
	pid_t pid;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = ptsname(master);
	ck_assert_ptr_nonnull(slave);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		ask_on(slave);
	while (strstr(buf_cstr(&seen), "Password: ") == NULL &&
	    read(master, &c, 1) == 1)
		buf_addc(&seen, c);
	ck_assert_int_eq(write(master, PASS_LONG "\n", sizeof(PASS_LONG)),
	    (ssize_t)sizeof(PASS_LONG));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the typed password: wait status %d (exit 3: not read back, 4: "
	    "free() not wrapped, 5: left in a buffer freed unwiped)", status);
	close(master);
	buf_free(&seen);
}
END_TEST

static Suite *
trace_auth_suite(void)
{
	Suite *s = suite_create("trace_auth");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_every_mechanism_redacted, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_typed_password_wiped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return run_suite(trace_auth_suite());
}
