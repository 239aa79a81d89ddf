/*
 * check_idle_bye: a server that ends the session while the client idles,
 * through the IMAP client against a scripted server (a forked child on
 * 127.0.0.1 serving one connection, ended by an alarm at the latest).
 *
 * The script greets with IDLE among its capabilities, accepts LOGIN and
 * answers IDLE with "+". Then, by case, it sends "* BYE" at once with the
 * "+" (in one write), or only when the test tells it to (the client is
 * idling by then), or it closes the connection without a word. After a
 * BYE it keeps the connection open until the client closes it, as a
 * server or a middlebox that is slow to close would: only the BYE can
 * tell the client that the session is over.
 *
 * Proved: a BYE while idling fails imap_client_idle_start() or
 * imap_client_read() at once, with the server's words, and the client is
 * then broken (its descriptor -1), so that a watcher connects again
 * instead of waiting for its next IDLE refresh (WatchRefresh); a close
 * without BYE fails imap_client_read() too. None of this depends on the
 * connection's Timeout, which is an hour: a client that waited for it
 * would be stopped by the test's timeout instead.
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
#include "imap/client.h"
#include "support/testlib.h"

enum bye_case {
	BYE_WITH_CONTINUATION,	/* "+" and "* BYE" in one write */
	BYE_WHILE_IDLE,		/* "* BYE" once the test says so */
	CLOSE_WHILE_IDLE	/* the connection closed, no BYE */
};

/* The tag of a command line, or exits. */
static void
tag_of(const struct buf *line, char *tag, size_t size)
{
	const char *sp = strchr(buf_cstr(line), ' ');

	if (sp == NULL || (size_t)(sp - line->data) >= size)
		_exit(4);
	memcpy(tag, line->data, (size_t)(sp - line->data));
	tag[sp - line->data] = '\0';
}

/* After IDLE's "+": the case's end of the session. The child then waits
 * for the client to close (EOF) before it exits. */
static void
end_session(int fd, int control, enum bye_case bc)
{
	char go;

	if (bc == BYE_WITH_CONTINUATION) {
		tl_send_str(fd, "+ idling\r\n* BYE [UNAVAILABLE] going away\r\n");
	} else {
		tl_send_str(fd, "+ idling\r\n");
		if (read(control, &go, 1) != 1)
			_exit(5);
		if (bc == CLOSE_WHILE_IDLE)
			_exit(0);
		tl_send_str(fd, "* BYE [UNAVAILABLE] going away\r\n");
	}
	while (read(fd, &go, 1) == 1)
		;
	_exit(0);
}

static void
serve(int fd, int control, enum bye_case bc)
{
	struct buf line = BUF_INIT;
	char tag[16], out[128];

	tl_send_str(fd, "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] hi\r\n");
	while (tl_read_line(fd, &line)) {
		tag_of(&line, tag, sizeof tag);
		if (strstr(line.data, " IDLE") != NULL)
			end_session(fd, control, bc);
		if (strstr(line.data, " LOGIN ") != NULL)
			snprintf(out, sizeof out, "%s OK [CAPABILITY IMAP4rev1 "
			    "IDLE] in\r\n", tag);
		else
			snprintf(out, sizeof out, "%s BAD unexpected\r\n", tag);
		tl_send_str(fd, out);
	}
	_exit(6);
}

/* The script in a child; *port its port, *control the test's end of the
 * socket pair that tells it to go on. */
static pid_t
start_script(enum bye_case bc, int *port, int *control)
{
	int s = tl_listen_loopback(port), p[2], fd;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(20);
		close(p[0]);
		fd = accept(s, NULL, NULL);
		if (fd < 0)
			_exit(2);
		serve(fd, p[1], bc);
	}
	close(s);
	close(p[1]);
	*control = p[0];
	return pid;
}

static struct imap_client *
log_in(int port, const struct logger *lg, struct strlist *mechs,
    struct buf *err)
{
	struct imap_client_options o;

	memset(&o, 0, sizeof o);
	transport_options_init(&o.tr);
	o.tr.host = "127.0.0.1";
	o.tr.port_number = (unsigned)port;
	o.tr.timeout = 3600;
	o.label = "acct#idle";
	o.user = "alice";
	o.pass = "secret";
	strlist_add(mechs, "LOGIN");
	o.auth_mechs = mechs;
	return imap_client_open(&o, lg, err);
}

START_TEST(test_bye_ends_idle)
{
	enum bye_case bc = (enum bye_case)_i;
	struct strlist mechs = { 0 };
	struct buf err = BUF_INIT, log = BUF_INIT;
	struct logger lg = { .level = LOG_NORMAL, .capture = &log };
	struct imap_client *c;
	int port, control, status, rc;
	pid_t pid = start_script(bc, &port, &control);

	c = log_in(port, &lg, &mechs, &err);
	ck_assert_msg(c != NULL, "%s", buf_cstr(&err));
	rc = imap_client_idle_start(c, &err);
	if (bc == BYE_WITH_CONTINUATION) {
		ck_assert_int_eq(rc, -1);
	} else {
		ck_assert_msg(rc == 0, "%s", buf_cstr(&err));
		ck_assert_int_ge(imap_client_fd(c), 0);
		ck_assert_int_eq(write(control, "g", 1), 1);
		do
			rc = imap_client_read(c, &err);
		while (rc == 0);
	}
	if (bc == CLOSE_WHILE_IDLE)
		ck_assert_msg(strstr(buf_cstr(&err), "closed") != NULL, "%s",
		    buf_cstr(&err));
	else {
		/* From the BYE itself, not from a close after it. */
		ck_assert_msg(strstr(buf_cstr(&err), "the server closed the "
		    "session: going away") != NULL, "%s", buf_cstr(&err));
		ck_assert_msg(strstr(buf_cstr(&err), "connection closed") ==
		    NULL, "%s", buf_cstr(&err));
	}
	ck_assert_int_eq(imap_client_fd(c), -1);
	imap_client_free(c);
	close(control);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the script failed (status %d)", status);
	strlist_free(&mechs);
	buf_free(&err);
	buf_free(&log);
}
END_TEST

static Suite *
idle_bye_suite(void)
{
	Suite *s = suite_create("idle_bye");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bye_ends_idle, BYE_WITH_CONTINUATION,
	    CLOSE_WHILE_IDLE + 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return run_suite(idle_bye_suite());
}
