/*
 * check_sasl_fake: SCRAM faults that a real server does not produce,
 * through the IMAP client against a scripted server (a forked child on
 * 127.0.0.1 serving one connection, ended by an alarm at the latest).
 *
 * The script answers AUTHENTICATE SCRAM-SHA-1 with a server-first
 * message extending the client's nonce, then, by mode: a forged server
 * signature; OK without any signature; a nonce that is not the client's;
 * an "e=" error. A last mode runs the same exchange without SASL-IR (the
 * initial response goes after an empty "+") and a forged signature.
 *
 * Proved: each time the login fails, imap_client_open returns NULL with
 * a message naming the mechanism and what is wrong; when the fault is
 * seen before the server's verdict, the client cancels the exchange with
 * "*" (the child exits 0 only if it received it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "imap/auth.h"
#include "imap/client.h"
#include "support/testlib.h"

enum mode {
	FORGED_SIGNATURE,
	NO_SIGNATURE,
	FOREIGN_NONCE,
	SERVER_ERROR,
	FORGED_NO_SASL_IR
};

static void
send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(3);
		s += w;
		n -= (size_t)w;
	}
}

static int
read_line(int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 1;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
	return 0;
}

static void
send_challenge(int fd, const char *raw)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "+ ");
	imap_base64(raw, strlen(raw), &b);
	buf_adds(&b, "\r\n");
	send_str(fd, b.data);
	buf_free(&b);
}

/* Read until the client hangs up. Its LOGOUT gets an answer that it
 * does not wait for (it may have closed already: no write is checked). */
static void
drain(int fd)
{
	char line[1024], answer[1100];

	while (read_line(fd, line, sizeof line))
		if (strstr(line, "LOGOUT") != NULL) {
			*strchr(line, ' ') = '\0';
			snprintf(answer, sizeof answer, "* BYE bye\r\n"
			    "%s OK done\r\n", line);
			(void)!write(fd, answer, strlen(answer));
		}
}

/* The client-first message's nonce, from "T1 AUTHENTICATE SCRAM-SHA-1
 * B64" or from a line holding only B64. */
static int
client_nonce(const char *b64, char *nonce, size_t size)
{
	struct buf raw = BUF_INIT;
	const char *r;
	int ok;

	ok = imap_unbase64(b64, strlen(b64), &raw) == 0 && raw.data != NULL &&
	    (r = strstr(raw.data, ",r=")) != NULL;
	if (ok)
		snprintf(nonce, size, "%s", r + 3);
	buf_free(&raw);
	return ok;
}

static void
serve(int fd, enum mode m)
{
	char line[1024], nonce[256], msg[600];
	const char *ir;
	int sasl_ir = m != FORGED_NO_SASL_IR;

	send_str(fd, sasl_ir ?
	    "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-1] hi\r\n" :
	    "* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-1] hi\r\n");
	if (!read_line(fd, line, sizeof line) ||
	    strncmp(line, "T1 AUTHENTICATE SCRAM-SHA-1", 27) != 0)
		_exit(4);
	ir = line + 27;
	if (!sasl_ir) {
		if (*ir != '\0')
			_exit(5);
		send_str(fd, "+ \r\n");
		if (!read_line(fd, line, sizeof line))
			_exit(6);
		ir = line;
	} else if (*ir++ != ' ')
		_exit(5);
	if (!client_nonce(ir, nonce, sizeof nonce))
		_exit(7);
	snprintf(msg, sizeof msg, "r=%s%s,s=QSXCR+Q6sek8bf92,i=4096",
	    m == FOREIGN_NONCE ? "x" : nonce, "srv");
	send_challenge(fd, msg);
	if (!read_line(fd, line, sizeof line))
		_exit(8);
	if (m == FOREIGN_NONCE) {
		send_str(fd, "T1 BAD cancelled\r\n");
		drain(fd);
		_exit(strcmp(line, "*") == 0 ? 0 : 9);
	}
	if (m == NO_SIGNATURE) {
		send_str(fd, "T1 OK [CAPABILITY IMAP4rev1] logged in\r\n");
		drain(fd);
		_exit(0);
	}
	send_challenge(fd, m == SERVER_ERROR ? "e=other-error" :
	    "v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	if (!read_line(fd, line, sizeof line))
		_exit(10);
	send_str(fd, "T1 NO [AUTHENTICATIONFAILED] cancelled\r\n");
	drain(fd);
	_exit(strcmp(line, "*") == 0 ? 0 : 11);
}

static pid_t
start_fake(enum mode m, int *port)
{
	int s = tl_listen_loopback(port), c;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(20);
		c = accept(s, NULL, NULL);
		if (c < 0)
			_exit(2);
		serve(c, m);
	}
	close(s);
	return pid;
}

/* Log in against the script in mode m; the error, and the child's
 * verdict on what the client sent. */
static void
try_login(enum mode m, const char *want, struct buf *err)
{
	struct imap_client_options o;
	struct strlist mechs = { 0 };
	struct imap_client *c;
	int port, status;
	pid_t pid = start_fake(m, &port);

	memset(&o, 0, sizeof o);
	transport_options_init(&o.tr);
	o.tr.host = "127.0.0.1";
	o.tr.port_number = (unsigned)port;
	o.tr.timeout = 10;
	o.user = "alice";
	o.pass = "pencil";
	strlist_add(&mechs, "SCRAM-SHA-1");
	o.auth_mechs = &mechs;
	c = imap_client_open(&o, NULL, err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err->data, want) != NULL, "error '%s' lacks '%s'",
	    err->data, want);
	ck_assert_ptr_nonnull(strstr(err->data, "login as alice with "
	    "SCRAM-SHA-1 failed: "));
	ck_assert_ptr_null(strstr(err->data, "pencil"));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the script saw a wrong exchange (status %d)", status);
	strlist_free(&mechs);
}

START_TEST(test_scram_faults)
{
	struct buf err = BUF_INIT;

	try_login(FORGED_SIGNATURE, "the server's SCRAM signature is wrong",
	    &err);
	try_login(NO_SIGNATURE, "the server accepted the login without "
	    "proving that it knows the password", &err);
	try_login(FOREIGN_NONCE, "the server's SCRAM challenge does not "
	    "extend our nonce", &err);
	try_login(SERVER_ERROR, "the server ended SCRAM with the error "
	    "'other-error'", &err);
	try_login(FORGED_NO_SASL_IR, "the server's SCRAM signature is wrong",
	    &err);
	buf_free(&err);
}
END_TEST

static Suite *
sasl_fake_suite(void)
{
	Suite *s = suite_create("sasl_fake");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_scram_faults);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return run_suite(sasl_fake_suite());
}
