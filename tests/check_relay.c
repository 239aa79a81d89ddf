/*
 * Tests of the counting relay (tests/tools/relay), run as a program, in
 * front of an echo server forked by the test on 127.0.0.1.
 *
 * The echo server greets each connection with GREETING, then sends back
 * every complete line it receives and, at EOF, reports how many bytes it
 * received on that connection through a pipe. Echoing whole lines only
 * keeps the cut tests deterministic: a line cut short is never echoed, so
 * whatever order the relay reads its two sockets in, the bytes that pass
 * before the cut are known exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "support/testlib.h"

#define GREETING	"* OK echo ready\r\n"
#define GREETING_LEN	(sizeof(GREETING) - 1)
#define SERVER_LIMIT_S	30	/* the echo server gives up after this */

struct echo_server {
	pid_t	 pid;
	int	 port;
	FILE	*reports;	/* one line per finished connection */
};

struct relay_run {
	pid_t	 pid;
	int	 port;
	char	*dir;
	char	*stats;
	char	*err;
};

static int
listen_loopback(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(fd, 16) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
	    "listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Echo complete lines until EOF or an error; return the bytes received. */
static unsigned long
echo_lines(int fd)
{
	struct buf line = BUF_INIT;
	unsigned long total = 0;
	char chunk[8192];
	ssize_t n;

	tl_send_all(fd, GREETING, GREETING_LEN);
	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0) {
		total += (unsigned long)n;
		for (ssize_t i = 0; i < n; i++) {
			buf_addc(&line, chunk[i]);
			if (chunk[i] != '\n')
				continue;
			tl_send_all(fd, line.data, line.len);
			buf_reset(&line);
		}
	}
	buf_free(&line);
	return total;
}

static void
echo_child(int lfd, int report_fd, int nconns)
{
	FILE *out = fdopen(report_fd, "w");

	alarm(SERVER_LIMIT_S);
	if (out == NULL)
		_exit(1);
	for (int i = 0; i < nconns; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd == -1)
			_exit(1);
		fprintf(out, "%lu\n", echo_lines(fd));
		fflush(out);
		close(fd);
	}
	_exit(0);
}

static struct echo_server
echo_start(int nconns)
{
	struct echo_server es;
	int lfd, pfd[2];

	lfd = listen_loopback(&es.port);
	ck_assert_msg(pipe(pfd) == 0, "pipe: %s", strerror(errno));
	es.pid = fork();
	ck_assert_msg(es.pid != -1, "fork: %s", strerror(errno));
	if (es.pid == 0) {
		close(pfd[0]);
		echo_child(lfd, pfd[1], nconns);
	}
	close(lfd);
	close(pfd[1]);
	es.reports = fdopen(pfd[0], "r");
	ck_assert_ptr_nonnull(es.reports);
	return es;
}

/* The byte count of the next connection the echo server finished. */
static unsigned long
echo_report(struct echo_server *es)
{
	char line[64];

	ck_assert_msg(fgets(line, sizeof(line), es->reports) != NULL,
	    "the echo server ended without a report");
	return strtoul(line, NULL, 10);
}

static void
echo_finish(struct echo_server *es)
{
	int status;

	ck_assert_int_eq(waitpid(es->pid, &status, 0), es->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "echo server status %d", status);
	fclose(es->reports);
}

static void
exec_relay(char **argv, const char *err_path)
{
	int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1 || dup2(fd, 2) == -1)
		_exit(126);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static pid_t
spawn_relay(struct relay_run *rr, char **args)
{
	char *argv[16];
	int argc = 0;
	pid_t pid;

	argv[argc++] = tl_tool_path("relay");
	while (*args != NULL && argc < 15)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_relay(argv, rr->err);
	free(argv[0]);
	return pid;
}

static void
wait_for_port(struct relay_run *rr, const char *port_file)
{
	const struct timespec step = { 0, 10 * 1000 * 1000 };
	int status = 0;

	for (int i = 0; i < 2000 && !tl_exists(port_file); i++) {
		ck_assert_msg(waitpid(rr->pid, &status, WNOHANG) == 0,
		    "relay exited early with status %d", status);
		nanosleep(&step, NULL);
	}
	ck_assert_msg(tl_exists(port_file), "relay wrote no port file");
	char *text = tl_read_file(port_file, NULL);
	rr->port = atoi(text);
	ck_assert_int_gt(rr->port, 0);
	free(text);
}

/* Start the relay towards target_port with extra arguments (NULL-ended). */
static struct relay_run
relay_start_with(int target_port, char **extra)
{
	struct relay_run rr;
	char to[32];
	char *port_file;
	char *args[16];
	int n = 0;

	rr.dir = tl_mkdtemp("relay");
	rr.stats = tl_path(rr.dir, "stats");
	rr.err = tl_path(rr.dir, "stderr");
	port_file = tl_path(rr.dir, "port");
	snprintf(to, sizeof(to), "127.0.0.1:%d", target_port);
	char *base[] = { "--listen-port-file", port_file, "--to", to,
	    "--stats-file", rr.stats, "--max-seconds", "60", NULL };
	for (char **a = base; *a != NULL; a++)
		args[n++] = *a;
	while (extra != NULL && *extra != NULL && n < 15)
		args[n++] = *extra++;
	args[n] = NULL;
	rr.pid = spawn_relay(&rr, args);
	wait_for_port(&rr, port_file);
	free(port_file);
	return rr;
}

/* Start the relay towards target_port; cut is NULL for no cut. */
static struct relay_run
relay_start(int target_port, const char *cut)
{
	char *extra[] = { "--cut-after", (char *)cut, NULL };

	return relay_start_with(target_port, cut != NULL ? extra : NULL);
}

/* Stop the relay with TERM; return its stats line. */
static char *
relay_stop(struct relay_run *rr)
{
	int status;

	ck_assert_int_eq(kill(rr->pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(rr->pid, &status, 0), rr->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "relay status %d", status);
	return tl_read_file(rr->stats, NULL);
}

static void
relay_cleanup(struct relay_run *rr)
{
	tl_rmtree(rr->dir);
	free(rr->dir);
	free(rr->stats);
	free(rr->err);
}

static void
expect_bytes(int fd, const char *want, size_t len)
{
	char *got = xmalloc(len);
	size_t have = 0;

	while (have < len) {
		ssize_t n = recv(fd, got + have, len - have, 0);

		ck_assert_msg(n > 0, "short read: %zu of %zu bytes (%s)",
		    have, len, n == 0 ? "EOF" : strerror(errno));
		have += (size_t)n;
	}
	ck_assert_int_eq(memcmp(got, want, len), 0);
	free(got);
}

/* Read to the end; a reset counts as the end. Return the bytes read. */
static size_t
drain(int fd)
{
	char chunk[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
		total += (size_t)n;
	ck_assert_msg(n == 0 || errno == ECONNRESET, "recv: %s",
	    strerror(errno));
	return total;
}

static char *
make_line(size_t len, char fill)
{
	char *line = xmalloc(len);

	memset(line, fill, len - 1);
	line[len - 1] = '\n';
	return line;
}

/* Send a line, read its echo, then close our half and wait for EOF. */
static void
echo_exchange(int fd, size_t len)
{
	char *line = make_line(len, 'a' + (char)(len % 26));

	expect_bytes(fd, GREETING, GREETING_LEN);
	ck_assert_int_eq(tl_send_all(fd, line, len), 0);
	expect_bytes(fd, line, len);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	free(line);
}

START_TEST(test_counts_both_directions_over_connections)
{
	struct echo_server es = echo_start(3);
	struct relay_run rr = relay_start(es.port, NULL);
	int c1 = tl_connect_loopback(rr.port, 0);
	/* c2 waits in the server's backlog */
	int c2 = tl_connect_loopback(rr.port, 0);
	char *stats, want[128];

	echo_exchange(c1, 1000);
	ck_assert_uint_eq(echo_report(&es), 1000);
	/* Larger than the relay's buffer: forwarded in several pieces. */
	echo_exchange(c2, 200000);
	ck_assert_uint_eq(echo_report(&es), 200000);
	int c3 = tl_connect_loopback(rr.port, 0);
	expect_bytes(c3, GREETING, GREETING_LEN);
	close(c3);
	ck_assert_uint_eq(echo_report(&es), 0);
	stats = relay_stop(&rr);
	snprintf(want, sizeof(want), "sent=%d received=%zu turns=2 connections=3\n",
	    1000 + 200000, 3 * GREETING_LEN + 1000 + 200000);
	ck_assert_str_eq(stats, want);
	free(stats);
	echo_finish(&es);
	relay_cleanup(&rr);
}
END_TEST

START_TEST(test_cut_in_client_to_server_direction)
{
	struct echo_server es = echo_start(1);
	/* Greeting, a 100-byte line and its echo, then 37 more bytes. */
	size_t cut = GREETING_LEN + 2 * 100 + 37;
	char cut_arg[32], want[128];
	char *first = make_line(100, 'x');
	char *second = make_line(500, 'y');
	char *stats;
	int fd;

	snprintf(cut_arg, sizeof(cut_arg), "%zu", cut);
	struct relay_run rr = relay_start(es.port, cut_arg);
	fd = tl_connect_loopback(rr.port, 0);
	expect_bytes(fd, GREETING, GREETING_LEN);
	ck_assert_int_eq(tl_send_all(fd, first, 100), 0);
	expect_bytes(fd, first, 100);
	ck_assert_int_eq(tl_send_all(fd, second, 500), 0);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	ck_assert_uint_eq(echo_report(&es), 100 + 37);
	stats = relay_stop(&rr);
	snprintf(want, sizeof(want), "sent=%d received=%zu turns=1 connections=1\n",
	    100 + 37, GREETING_LEN + 100);
	ck_assert_str_eq(stats, want);
	free(stats);
	free(first);
	free(second);
	echo_finish(&es);
	relay_cleanup(&rr);
}
END_TEST

START_TEST(test_cut_in_server_to_client_direction)
{
	struct echo_server es = echo_start(1);
	struct relay_run rr = relay_start(es.port, "5");
	int fd = tl_connect_loopback(rr.port, 0);
	char got[GREETING_LEN];
	size_t have = 0;
	ssize_t n;
	char *stats;

	while ((n = recv(fd, got + have, sizeof(got) - have, 0)) > 0)
		have += (size_t)n;
	ck_assert_uint_eq(have, 5);
	ck_assert_int_eq(memcmp(got, GREETING, 5), 0);
	close(fd);
	ck_assert_uint_eq(echo_report(&es), 0);
	stats = relay_stop(&rr);
	ck_assert_str_eq(stats, "sent=0 received=5 turns=0 connections=1\n");
	free(stats);
	echo_finish(&es);
	relay_cleanup(&rr);
}
END_TEST

START_TEST(test_cut_at_zero_closes_at_once)
{
	struct echo_server es = echo_start(1);
	struct relay_run rr = relay_start(es.port, "0");
	int fd = tl_connect_loopback(rr.port, 0);
	char *stats;

	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	ck_assert_uint_eq(echo_report(&es), 0);
	stats = relay_stop(&rr);
	ck_assert_str_eq(stats, "sent=0 received=0 turns=0 connections=1\n");
	free(stats);
	echo_finish(&es);
	relay_cleanup(&rr);
}
END_TEST

START_TEST(test_target_refusing_closes_the_client)
{
	int port, lfd = listen_loopback(&port);
	struct relay_run rr;
	char *stats, *err, want[128];
	int fd;

	close(lfd);	/* nothing listens on that port now */
	rr = relay_start(port, NULL);
	fd = tl_connect_loopback(rr.port, 0);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
	stats = relay_stop(&rr);
	ck_assert_str_eq(stats, "sent=0 received=0 turns=0 connections=1\n");
	err = tl_read_file(rr.err, NULL);
	snprintf(want, sizeof(want), "relay: connect to 127.0.0.1:%d: "
	    "Connection refused\n", port);
	ck_assert_str_eq(err, want);
	free(err);
	free(stats);
	relay_cleanup(&rr);
}
END_TEST

/* --listen-port: a relay started after another one stopped takes over
 * its port, and its clients reach the target through it. */
START_TEST(test_listen_port_takes_over)
{
	struct echo_server es = echo_start(1);
	struct relay_run first = relay_start(es.port, NULL), second;
	char port[16], *stats;
	char *extra[] = { "--listen-port", port, NULL };

	snprintf(port, sizeof(port), "%d", first.port);
	free(relay_stop(&first));
	second = relay_start_with(es.port, extra);
	ck_assert_int_eq(second.port, first.port);
	echo_exchange(tl_connect_loopback(second.port, 0), 100);
	ck_assert_uint_eq(echo_report(&es), 100);
	stats = relay_stop(&second);
	ck_assert_ptr_nonnull(strstr(stats, "connections=1"));
	free(stats);
	echo_finish(&es);
	relay_cleanup(&first);
	relay_cleanup(&second);
}
END_TEST

/* Run the relay with these arguments; expect exit 2 and this error. */
static void
expect_refused(char **args, const char *message)
{
	struct relay_run rr;
	int status;
	char *err;

	rr.dir = tl_mkdtemp("relay");
	rr.stats = tl_path(rr.dir, "stats");
	rr.err = tl_path(rr.dir, "stderr");
	rr.pid = spawn_relay(&rr, args);
	ck_assert_int_eq(waitpid(rr.pid, &status, 0), rr.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2,
	    "relay status %d", status);
	err = tl_read_file(rr.err, NULL);
	ck_assert_str_eq(err, message);
	ck_assert_int_eq(tl_count_entries(rr.dir), 1);	/* stderr only */
	free(err);
	relay_cleanup(&rr);
}

START_TEST(test_refuses_other_hosts_and_bad_arguments)
{
	char *remote[] = { "--listen-port-file", "p", "--to",
	    "192.0.2.1:143", NULL };
	char *named[] = { "--listen-port-file", "p", "--to",
	    "localhost:143", NULL };
	char *port[] = { "--listen-port-file", "p", "--to",
	    "127.0.0.1:70000", NULL };
	char *cut[] = { "--listen-port-file", "p", "--to",
	    "127.0.0.1:143", "--cut-after", "-1", NULL };

	expect_refused(remote, "relay: --to: only 127.0.0.1 is allowed, "
	    "not '192.0.2.1'\n");
	expect_refused(named, "relay: --to: only 127.0.0.1 is allowed, "
	    "not 'localhost'\n");
	expect_refused(port, "relay: --to: invalid port '70000'\n");
	char *rate[] = { "--listen-port-file", "p", "--to",
	    "127.0.0.1:143", "--rate-kbit", "0", NULL };
	char *delay[] = { "--listen-port-file", "p", "--to",
	    "127.0.0.1:143", "--delay-ms", "25ms", NULL };

	expect_refused(cut, "relay: --cut-after: invalid number '-1'\n");
	expect_refused(rate, "relay: --rate-kbit: invalid number '0'\n");
	expect_refused(delay, "relay: --delay-ms: invalid number '25ms'\n");
}
END_TEST

START_TEST(test_stops_by_itself_after_max_seconds)
{
	char *dir = tl_mkdtemp("relay");
	char *port_file = tl_path(dir, "port");
	char *stats_file = tl_path(dir, "stats");
	char *args[] = { "--listen-port-file", port_file, "--to",
	    "127.0.0.1:143", "--stats-file", stats_file, "--max-seconds", "1",
	    NULL };
	struct relay_run rr = { .dir = dir, .stats = stats_file };
	int status;
	char *stats;

	rr.err = tl_path(dir, "stderr");
	rr.pid = spawn_relay(&rr, args);
	ck_assert_int_eq(waitpid(rr.pid, &status, 0), rr.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "relay status %d", status);
	stats = tl_read_file(stats_file, NULL);
	ck_assert_str_eq(stats, "sent=0 received=0 turns=0 connections=0\n");
	free(stats);
	free(port_file);
	relay_cleanup(&rr);
}
END_TEST

static double
seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * End a one-connection test whose client sent `sent` bytes, all echoed:
 * the echo server saw them, and the relay counted them both ways, the
 * greeting, and `turns` turns.
 */
static void
finish_echoed(struct echo_server *es, struct relay_run *rr, int fd,
    size_t sent, unsigned turns)
{
	char *stats, want[128];

	close(fd);
	ck_assert_uint_eq(echo_report(es), sent);
	stats = relay_stop(rr);
	snprintf(want, sizeof(want), "sent=%zu received=%zu turns=%u "
	    "connections=1\n", sent, GREETING_LEN + sent, turns);
	ck_assert_str_eq(stats, want);
	free(stats);
	echo_finish(es);
	relay_cleanup(rr);
}

/*
 * The link options only ever hold bytes back, so these tests assert lower
 * bounds, which no load on the machine can break: an answer cannot come
 * sooner than the link allows. (An upper bound would flake.)
 */
START_TEST(test_delay_holds_each_direction_back)
{
	struct echo_server es = echo_start(1);
	char *extra[] = { "--delay-ms", "150", NULL };
	struct relay_run rr = relay_start_with(es.port, extra);
	char *line = make_line(100, 'd');
	double t0 = seconds_now(), t1;
	int fd = tl_connect_loopback(rr.port, 0);

	expect_bytes(fd, GREETING, GREETING_LEN);
	ck_assert_msg(seconds_now() - t0 >= 0.150,
	    "the greeting came after %.3f s, sooner than the delay",
	    seconds_now() - t0);
	t1 = seconds_now();
	ck_assert_int_eq(tl_send_all(fd, line, 100), 0);
	expect_bytes(fd, line, 100);
	ck_assert_msg(seconds_now() - t1 >= 0.300,
	    "the echo came after %.3f s, sooner than twice the delay",
	    seconds_now() - t1);
	finish_echoed(&es, &rr, fd, 100, 1);
	free(line);
}
END_TEST

/* 40,000 bytes each way at 800 kbit/s: at least 0.4 s each way, in turn
 * (the echo starts once the whole line is in). 1 ms of slack for the
 * rounding of the relay's clock arithmetic to whole nanoseconds. */
START_TEST(test_rate_paces_each_direction)
{
	const size_t len = 40000;
	struct echo_server es = echo_start(1);
	char *extra[] = { "--rate-kbit", "800", NULL };
	struct relay_run rr = relay_start_with(es.port, extra);
	char *line = make_line(len, 'r');
	int fd = tl_connect_loopback(rr.port, 0);
	double t1, need = 2.0 * (double)len * 8 / 800000 - 0.001;

	expect_bytes(fd, GREETING, GREETING_LEN);
	t1 = seconds_now();
	ck_assert_int_eq(tl_send_all(fd, line, len), 0);
	expect_bytes(fd, line, len);
	ck_assert_msg(seconds_now() - t1 >= need,
	    "%zu bytes went and came back in %.3f s, sooner than %.3f s",
	    len, seconds_now() - t1, need);
	finish_echoed(&es, &rr, fd, len, 1);
	free(line);
}
END_TEST

/* Read what the echo server sent one connection (its greeting and the
 * echo of its line of len bytes) to the end, and close it. */
static void
drain_echoed(int fd, const char *line, size_t len)
{
	expect_bytes(fd, GREETING, GREETING_LEN);
	expect_bytes(fd, line, len);
	ck_assert_uint_eq(drain(fd), 0);
	close(fd);
}

/*
 * The rate is one link shared by every connection: two connections that
 * send 40,000 bytes each at once, at 1600 kbit/s, have not both been
 * delivered before 0.4 s, twice what one of them takes alone (a pace per
 * connection would deliver both by about 0.2 s). Measured up to the echo
 * server's reports, each given at its connection's EOF; 1 ms of slack as
 * above.
 */
START_TEST(test_rate_is_shared_by_connections)
{
	const size_t len = 40000;
	struct echo_server es = echo_start(2);
	char *extra[] = { "--rate-kbit", "1600", NULL };
	struct relay_run rr = relay_start_with(es.port, extra);
	char *line = make_line(len, 's'), *stats, want[128];
	int fd[2];
	double t0, need = 2.0 * (double)len * 8 / 1600000 - 0.001;

	for (int i = 0; i < 2; i++)
		fd[i] = tl_connect_loopback(rr.port, 0);
	t0 = seconds_now();
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(tl_send_all(fd[i], line, len), 0);
		ck_assert_int_eq(shutdown(fd[i], SHUT_WR), 0);
	}
	ck_assert_uint_eq(echo_report(&es), len);
	ck_assert_uint_eq(echo_report(&es), len);
	ck_assert_msg(seconds_now() - t0 >= need,
	    "2 x %zu bytes were delivered in %.3f s, sooner than %.3f s",
	    len, seconds_now() - t0, need);
	for (int i = 0; i < 2; i++)
		drain_echoed(fd[i], line, len);
	stats = relay_stop(&rr);
	snprintf(want, sizeof(want), "sent=%zu received=%zu turns=2 "
	    "connections=2\n", 2 * len, 2 * (GREETING_LEN + len));
	ck_assert_str_eq(stats, want);
	free(stats);
	echo_finish(&es);
	relay_cleanup(&rr);
	free(line);
}
END_TEST

/* Five requests each answered before the next, then three sent in one
 * piece and answered together: 5 + 1 turns; the greeting is none. */
START_TEST(test_counts_turns)
{
	struct echo_server es = echo_start(1);
	struct relay_run rr = relay_start(es.port, NULL);
	int fd = tl_connect_loopback(rr.port, 0);
	const char *batch = "one\ntwo\nthree\n";
	char *line = make_line(20, 't');

	expect_bytes(fd, GREETING, GREETING_LEN);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(tl_send_all(fd, line, 20), 0);
		expect_bytes(fd, line, 20);
	}
	ck_assert_int_eq(tl_send_all(fd, batch, strlen(batch)), 0);
	expect_bytes(fd, batch, strlen(batch));
	finish_echoed(&es, &rr, fd, 5 * 20 + strlen(batch), 6);
	free(line);
}
END_TEST

static Suite *
relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("relay");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_counts_both_directions_over_connections);
	tcase_add_test(tc, test_listen_port_takes_over);
	tcase_add_test(tc, test_cut_in_client_to_server_direction);
	tcase_add_test(tc, test_cut_in_server_to_client_direction);
	tcase_add_test(tc, test_cut_at_zero_closes_at_once);
	tcase_add_test(tc, test_target_refusing_closes_the_client);
	tcase_add_test(tc, test_refuses_other_hosts_and_bad_arguments);
	tcase_add_test(tc, test_stops_by_itself_after_max_seconds);
	tcase_add_test(tc, test_delay_holds_each_direction_back);
	tcase_add_test(tc, test_rate_paces_each_direction);
	tcase_add_test(tc, test_rate_is_shared_by_connections);
	tcase_add_test(tc, test_counts_turns);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(relay_suite());
}
