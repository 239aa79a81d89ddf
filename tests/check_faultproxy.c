/*
 * Tests of the fault-injecting IMAP proxy (tests/tools/faultproxy), run
 * as a program, in front of a scripted IMAP server forked by the test on
 * 127.0.0.1.
 *
 * The scripted server answers each command from a fixed table, one
 * process per connection (the proxy's second session is a connection of
 * its own), and writes each command's first line to a log file, so a test
 * sees exactly what reached the server. Its answer to a body fetch is a
 * literal whose lines look like a tagged answer and an EXPUNGE: a proxy
 * that lost track of the framing would take them for responses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "support/testlib.h"

#define SERVER_LIMIT_S	30
#define BODY		"Subject: x\r\n\r\nA3 OK not an answer\r\n* 7 EXPUNGE\r\n"
#define BODY_FETCH	"* 2 FETCH (UID 5 BODY[] {48}\r\n" BODY ")\r\n"
#define HDR		"Message-ID: <m5@x>\r\n\r\n"

struct fake {
	pid_t	 pid;
	int	 port;
};

struct proxy {
	pid_t	 pid;
	int	 port;
	char	*dir, *report, *err, *log;
};

static int
send_str(int fd, const char *s)
{
	return tl_send_all(fd, s, strlen(s));
}

/* One line (with its CRLF) into line; 0 at EOF. Bytewise: no read-ahead. */
static int
read_line(int fd, struct buf *line)
{
	char ch;

	buf_reset(line);
	while (recv(fd, &ch, 1, 0) == 1) {
		buf_addc(line, ch);
		if (ch == '\n')
			return 1;
	}
	return 0;
}

/* The literal length at the end of a line ({n} or {n+}), or -1. */
static long
literal_len(const struct buf *line, int *sync)
{
	const char *brace = memrchr(line->data, '{', line->len);

	if (brace == NULL || line->len < 3 ||
	    line->data[line->len - 3] != '}')
		return -1;
	*sync = line->data[line->len - 4] != '+';
	return strtol(brace + 1, NULL, 10);
}

static void
answer(int fd, const char *tag, const char *line)
{
	struct buf out = BUF_INIT;

	if (strstr(line, " LOGIN ") != NULL)
		buf_setf(&out, "%s OK logged in\r\n", tag);
	else if (strstr(line, " SELECT ") != NULL)
		buf_setf(&out, "* 3 EXISTS\r\n%s OK [READ-WRITE] selected\r\n",
		    tag);
	else if (strstr(line, "UID SEARCH") != NULL)
		buf_setf(&out, "* SEARCH 2 5\r\n%s OK searched\r\n", tag);
	else if (strstr(line, "HEADER.FIELDS") != NULL)
		buf_setf(&out, "* 2 FETCH (UID 5 BODY[HEADER.FIELDS "
		    "(MESSAGE-ID)] {%zu}\r\n%s)\r\n%s OK fetched\r\n",
		    strlen(HDR), HDR, tag);
	else if (strstr(line, "(FLAGS)") != NULL)
		buf_setf(&out, "* 2 FETCH (UID 5 FLAGS (\\Seen \\Recent))\r\n"
		    "%s OK fetched\r\n", tag);
	else if (strstr(line, "BODY.PEEK[]") != NULL)
		buf_setf(&out, "%s%s OK fetched\r\n", BODY_FETCH, tag);
	else if (strstr(line, " LOGOUT") != NULL)
		buf_setf(&out, "* BYE bye\r\n%s OK logged out\r\n", tag);
	else
		buf_setf(&out, "%s OK done\r\n", tag);
	tl_send_all(fd, out.data, out.len);
	buf_free(&out);
}

/* Serve one connection: log each command's first line, then answer. */
static void
serve(int fd, int logfd)
{
	struct buf line = BUF_INIT, first = BUF_INIT;
	char tag[64];

	send_str(fd, "* OK fake ready\r\n");
	while (read_line(fd, &line)) {
		int sync;
		long n;

		buf_reset(&first);
		buf_add(&first, line.data, line.len);
		while ((n = literal_len(&line, &sync)) >= 0) {
			char *lit = xmalloc((size_t)n + 1);

			if (sync)
				send_str(fd, "+ go on\r\n");
			if (n > 0 && recv(fd, lit, (size_t)n, MSG_WAITALL) != n)
				_exit(1);
			free(lit);
			if (!read_line(fd, &line))
				_exit(1);
		}
		write(logfd, first.data, first.len);
		sscanf(first.data, "%63s", tag);
		answer(fd, tag, first.data);
		if (strstr(first.data, " LOGOUT") != NULL)
			break;
	}
	buf_free(&line);
	buf_free(&first);
	close(fd);
	_exit(0);
}

static struct fake
fake_start(const char *logpath)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct fake f;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), logfd;

	ck_assert_msg(lfd >= 0, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(lfd, 16) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == 0,
	    "listen on 127.0.0.1: %s", strerror(errno));
	f.port = ntohs(sin.sin_port);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ck_assert_msg(logfd >= 0, "%s: %s", logpath, strerror(errno));
	f.pid = fork();
	ck_assert_msg(f.pid != -1, "fork: %s", strerror(errno));
	if (f.pid == 0) {
		/* Check's handlers must not run here: they signal the whole
		 * process group. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		signal(SIGCHLD, SIG_IGN);	/* no zombies */
		alarm(SERVER_LIMIT_S);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);

			if (fd == -1)
				_exit(1);
			if (fork() == 0)
				serve(fd, logfd);
			close(fd);
		}
	}
	close(lfd);
	close(logfd);
	return f;
}

static void
fake_stop(struct fake *f)
{
	ck_assert_int_gt(f->pid, 0);
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
}

/* Start the proxy towards the fake server with these extra arguments. */
static struct proxy
proxy_start(const struct fake *f, char **extra)
{
	const struct timespec step = { 0, 10 * 1000 * 1000 };
	struct proxy p;
	char to[32], *argv[32], *port_file, *text;
	int argc = 0;

	p.dir = tl_mkdtemp("faultproxy");
	p.report = tl_path(p.dir, "report");
	p.err = tl_path(p.dir, "stderr");
	p.log = tl_path(p.dir, "server.log");
	port_file = tl_path(p.dir, "port");
	snprintf(to, sizeof(to), "127.0.0.1:%d", f->port);
	argv[argc++] = tl_tool_path("faultproxy");
	argv[argc++] = "--to";
	argv[argc++] = to;
	argv[argc++] = "--port-file";
	argv[argc++] = port_file;
	argv[argc++] = "--report";
	argv[argc++] = p.report;
	argv[argc++] = "--max-seconds";
	argv[argc++] = "30";
	while (*extra != NULL && argc < 31)
		argv[argc++] = *extra++;
	argv[argc] = NULL;
	p.pid = fork();
	ck_assert_msg(p.pid != -1, "fork: %s", strerror(errno));
	if (p.pid == 0) {
		int fd = open(p.err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd == -1 || dup2(fd, 2) == -1)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	free(argv[0]);
	for (int i = 0; i < 2000 && !tl_exists(port_file); i++)
		nanosleep(&step, NULL);
	ck_assert_msg(tl_exists(port_file), "the proxy wrote no port file");
	text = tl_read_file(port_file, NULL);
	p.port = atoi(text);
	ck_assert_int_gt(p.port, 0);
	free(text);
	free(port_file);
	return p;
}

/* Wait for the proxy (it ends with its last connection); its report. */
static char *
proxy_finish(struct proxy *p)
{
	int status;
	char *err;

	ck_assert_int_eq(waitpid(p->pid, &status, 0), p->pid);
	err = tl_read_file(p->err, NULL);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "proxy status %d: %s", status, err);
	ck_assert_str_eq(err, "");
	free(err);
	return tl_read_file(p->report, NULL);
}

static void
proxy_cleanup(struct proxy *p)
{
	tl_rmtree(p->dir);
	free(p->dir);
	free(p->report);
	free(p->err);
	free(p->log);
}

/* Send a command; return everything received up to its tagged answer. */
static char *
command(int fd, const char *tag, const char *text)
{
	struct buf all = BUF_INIT, line = BUF_INIT;
	size_t tlen = strlen(tag);

	ck_assert_int_eq(send_str(fd, text), 0);
	for (;;) {
		ck_assert_msg(read_line(fd, &line), "EOF before %s's answer; "
		    "got: %s", tag, all.len ? all.data : "");
		buf_add(&all, line.data, line.len);
		if (line.len > tlen && strncmp(line.data, tag, tlen) == 0 &&
		    line.data[tlen] == ' ')
			break;
		if (line.len > 3 && line.data[line.len - 3] == '}') {
			/* the fake server's literals are the body and HDR */
			char lit[64];
			int sync;
			long n = literal_len(&line, &sync);

			ck_assert(n > 0 && n < (long)sizeof(lit));
			ck_assert_int_eq(recv(fd, lit, (size_t)n, MSG_WAITALL), n);
			buf_add(&all, lit, (size_t)n);
		}
	}
	buf_free(&line);
	return buf_detach(&all);
}

/* Log in through the proxy (the greeting and LOGIN are not counted). */
static int
session(const struct proxy *p)
{
	struct buf greeting = BUF_INIT;
	int fd = tl_connect_loopback(p->port, 10);
	char *got;

	ck_assert(read_line(fd, &greeting));
	ck_assert_str_eq(greeting.data, "* OK fake ready\r\n");
	buf_free(&greeting);
	got = command(fd, "A1", "A1 LOGIN u p\r\n");
	ck_assert_str_eq(got, "A1 OK logged in\r\n");
	free(got);
	return fd;
}

static void
expect_answer(int fd, const char *tag, const char *text, const char *want)
{
	char *got = command(fd, tag, text);

	ck_assert_str_eq(got, want);
	free(got);
}

static void
expect_report(const char *report, const char *line)
{
	ck_assert_msg(strstr(report, line) != NULL, "report lacks '%s':\n%s",
	    line, report);
}

/* A command sent after login and the whole answer it must get. */
struct exchange {
	const char *tag, *text, *want;
};

/* One session through a proxy started with args: each exchange in turn,
 * up to one without a tag; then the proxy's report must hold line. */
static void
proxied_session(const struct fake *f, char **args, const struct exchange *x,
    const char *line)
{
	struct proxy p = proxy_start(f, args);
	int fd = session(&p);
	char *report;

	for (; x->tag != NULL; x++)
		expect_answer(fd, x->tag, x->text, x->want);
	close(fd);
	report = proxy_finish(&p);
	expect_report(report, line);
	free(report);
	proxy_cleanup(&p);
}

START_TEST(test_passes_a_session_and_counts_after_login)
{
	struct fake f;
	struct proxy p;
	struct buf line = BUF_INIT;
	char *report, *log, *dir = tl_mkdtemp("fake");
	char *logpath = tl_path(dir, "log");
	char *args[] = { NULL };
	int fd;

	f = fake_start(logpath);
	p = proxy_start(&f, args);
	fd = session(&p);
	expect_answer(fd, "A2", "A2 SELECT INBOX\r\n",
	    "* 3 EXISTS\r\nA2 OK [READ-WRITE] selected\r\n");
	expect_answer(fd, "A3", "A3 UID FETCH 1:* (BODY.PEEK[])\r\n",
	    BODY_FETCH "A3 OK fetched\r\n");
	expect_answer(fd, "A4", "A4 APPEND INBOX {5+}\r\nhello\r\n",
	    "A4 OK done\r\n");
	ck_assert_int_eq(send_str(fd, "A5 APPEND INBOX {5}\r\n"), 0);
	ck_assert(read_line(fd, &line));
	ck_assert_str_eq(line.data, "+ go on\r\n");
	expect_answer(fd, "A5", "hello\r\n", "A5 OK done\r\n");
	expect_answer(fd, "A6", "A6 LOGOUT\r\n",
	    "* BYE bye\r\nA6 OK logged out\r\n");
	close(fd);
	report = proxy_finish(&p);
	expect_report(report, "commands=5\n");
	expect_report(report, "fired=0\n");
	log = tl_read_file(logpath, NULL);
	ck_assert_str_eq(log, "A1 LOGIN u p\r\nA2 SELECT INBOX\r\n"
	    "A3 UID FETCH 1:* (BODY.PEEK[])\r\nA4 APPEND INBOX {5+}\r\n"
	    "A5 APPEND INBOX {5}\r\nA6 LOGOUT\r\n");
	free(log);
	free(report);
	buf_free(&line);
	fake_stop(&f);
	proxy_cleanup(&p);
	tl_rmtree(dir);
	free(dir);
	free(logpath);
}
END_TEST

START_TEST(test_no_refuses_without_forwarding)
{
	struct fake f;
	char *log, *dir = tl_mkdtemp("fake");
	char *logpath = tl_path(dir, "log");
	char *args[] = { "--fault", "no", "--at", "2", NULL };
	char *args3[] = { "--fault", "no", "--at", "1", "--only", "append",
	    NULL };
	/* A literal+ command is read whole, then refused. */
	const struct exchange plus[] = {
		{ "A2", "A2 NOOP\r\n", "A2 OK done\r\n" },
		{ "A3", "A3 APPEND INBOX {5+}\r\nhello\r\n",
		    "A3 NO [SERVERBUG] injected\r\n" },
		{ "A4", "A4 NOOP\r\n", "A4 OK done\r\n" },
		{ NULL, NULL, NULL },
	};
	/* A synchronizing literal gets the NO instead of "+". */
	const struct exchange sync[] = {
		{ "A2", "A2 NOOP\r\n", "A2 OK done\r\n" },
		{ "A3", "A3 APPEND INBOX {5}\r\n",
		    "A3 NO [SERVERBUG] injected\r\n" },
		{ "A4", "A4 NOOP\r\n", "A4 OK done\r\n" },
		{ NULL, NULL, NULL },
	};

	f = fake_start(logpath);
	proxied_session(&f, args, plus, "fired=1\ncommand=APPEND\n");
	proxied_session(&f, args3, sync, "commands=1\n");
	log = tl_read_file(logpath, NULL);
	ck_assert_str_eq(log, "A1 LOGIN u p\r\nA2 NOOP\r\nA4 NOOP\r\n"
	    "A1 LOGIN u p\r\nA2 NOOP\r\nA4 NOOP\r\n");
	free(log);
	fake_stop(&f);
	tl_rmtree(dir);
	free(dir);
	free(logpath);
}
END_TEST

START_TEST(test_fetch_injected_at_response_boundaries)
{
	struct fake f;
	char *dir = tl_mkdtemp("fake");
	char *logpath = tl_path(dir, "log");
	char *early[] = { "--fault", "fetchuid", "--at", "2", "--user", "u",
	    "--pass", "p", NULL };
	char *late[] = { "--fault", "fetch", "--at", "2", "--user", "u",
	    "--pass", "p", "--late", NULL };
	/* Before command 2: the flags as the second session read them. */
	const struct exchange before[] = {
		{ "A2", "A2 SELECT INBOX\r\n",
		    "* 3 EXISTS\r\nA2 OK [READ-WRITE] selected\r\n" },
		{ "A3", "A3 UID FETCH 1:5 (BODY.PEEK[])\r\n",
		    "* 2 FETCH (UID 5 FLAGS (\\Seen))\r\n" BODY_FETCH
		    "A3 OK fetched\r\n" },
		{ "A4", "A4 LOGOUT\r\n", "* BYE bye\r\nA4 OK logged out\r\n" },
		{ NULL, NULL, NULL },
	};
	/* Late: after the literal, just before the tagged answer. */
	const struct exchange after[] = {
		{ "A2", "A2 SELECT INBOX\r\n",
		    "* 3 EXISTS\r\nA2 OK [READ-WRITE] selected\r\n" },
		{ "A3", "A3 UID FETCH 1:5 (BODY.PEEK[])\r\n",
		    BODY_FETCH "* 2 FETCH (FLAGS (\\Seen))\r\n"
		    "A3 OK fetched\r\n" },
		{ "A4", "A4 LOGOUT\r\n", "* BYE bye\r\nA4 OK logged out\r\n" },
		{ NULL, NULL, NULL },
	};

	f = fake_start(logpath);
	proxied_session(&f, early, before,
	    "mailbox=INBOX\nuid=5\nmessage-id=<m5@x>\n");
	proxied_session(&f, late, after, "fired=1\ncommand=UID FETCH\n");
	fake_stop(&f);
	tl_rmtree(dir);
	free(dir);
	free(logpath);
}
END_TEST

START_TEST(test_drop_closes_both_sides)
{
	struct fake f;
	struct proxy p;
	struct buf line = BUF_INIT;
	char *report, *log, *dir = tl_mkdtemp("fake");
	char *logpath = tl_path(dir, "log");
	char *args[] = { "--fault", "drop", "--at", "2", NULL };
	int fd;

	f = fake_start(logpath);
	p = proxy_start(&f, args);
	fd = session(&p);
	expect_answer(fd, "A2", "A2 NOOP\r\n", "A2 OK done\r\n");
	ck_assert_int_eq(send_str(fd, "A3 NOOP\r\n"), 0);
	ck_assert_int_eq(read_line(fd, &line), 0);
	ck_assert_uint_eq(line.len, 0);
	close(fd);
	report = proxy_finish(&p);
	expect_report(report, "commands=2\n");
	expect_report(report, "fired=1\ncommand=NOOP\n");
	free(report);
	log = tl_read_file(logpath, NULL);
	ck_assert_str_eq(log, "A1 LOGIN u p\r\nA2 NOOP\r\n");
	free(log);
	buf_free(&line);
	proxy_cleanup(&p);
	fake_stop(&f);
	tl_rmtree(dir);
	free(dir);
	free(logpath);
}
END_TEST

static Suite *
faultproxy_suite(void)
{
	Suite *s = suite_create("faultproxy");
	TCase *tc = tcase_create("faultproxy");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_passes_a_session_and_counts_after_login);
	tcase_add_test(tc, test_no_refuses_without_forwarding);
	tcase_add_test(tc, test_fetch_injected_at_response_boundaries);
	tcase_add_test(tc, test_drop_closes_both_sides);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(faultproxy_suite());
}
