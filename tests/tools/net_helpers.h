/*
 * net_helpers: the pieces the loopback tools (relay, faultproxy) share:
 * number arguments, a listener on 127.0.0.1, a file written all or
 * nothing (or standard output), SIGTERM and SIGINT through a pipe, the
 * time left to a deadline. Header only, because each tool is built from
 * its one file (linked with src/compat.c, through which every call that
 * is not plain POSIX goes); PROG names the tool in messages.
 */
#ifndef TWINBOX_TOOLS_NET_HELPERS_H
#define TWINBOX_TOOLS_NET_HELPERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/* A decimal number of at most max, nothing before or after it. 0 or -1. */
static inline int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static inline struct sockaddr_in
loopback_addr(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/*
 * A non-blocking listener on 127.0.0.1 port want (0: the kernel picks);
 * the port it got in *port. The descriptor, or -1 with a message.
 */
static inline int
open_listener(const char *prog, uint16_t want, uint16_t *port)
{
	struct sockaddr_in sin = loopback_addr(want);
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	fd = tw_socket(AF_INET, SOCK_STREAM, 0, O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		fprintf(stderr, "%s: listening on 127.0.0.1 port %u: %s\n",
		    prog, (unsigned)want, strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Write through "<path>.tmp" and rename, so readers see all or nothing. */
static inline int
write_file_atomic(const char *prog, const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		fprintf(stderr, "%s: %s: path too long\n", prog, path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, tmp, strerror(errno));
		return -1;
	}
	if (fputs(text, f) == EOF || fclose(f) == EOF) {
		fprintf(stderr, "%s: %s: write: %s\n", prog, tmp,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		fprintf(stderr, "%s: rename %s to %s: %s\n", prog, tmp, path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* text to path as write_file_atomic() writes it, or to standard output
 * when path is NULL. */
static inline int
write_out(const char *prog, const char *path, const char *text)
{
	if (path == NULL) {
		fputs(text, stdout);
		return fflush(stdout) == EOF ? -1 : 0;
	}
	return write_file_atomic(prog, path, text);
}

/*
 * The write end of the pipe that on_stop_signal() writes to: the tool's
 * one mutable global, since a signal handler can reach nothing else.
 */
static int stop_pipe_write = -1;

static void
on_stop_signal(int sig)
{
	int saved = errno;
	ssize_t n = write(stop_pipe_write, "", 1); /* fails full: one is there */

	(void)sig;
	(void)n;
	errno = saved;
}

/*
 * SIGTERM and SIGINT are blocked from here on except during the tool's
 * waits, which pass *wait_mask to tw_ppoll(): there a signal runs the
 * handler, which writes a byte to the pipe whose read end is returned,
 * and the wait ends (EINTR); the next one finds the pipe readable.
 * Blocked elsewhere, a signal never cuts the tool's other calls short (a
 * second session's blocking read, which the kernel would not restart),
 * as with signalfd(), which is Linux only. -1 with a message.
 */
static inline int
open_stop_pipe(const char *prog, sigset_t *wait_mask)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	struct sigaction sa;
	sigset_t stops;
	int fd[2];

	if (tw_pipe(fd, O_CLOEXEC | O_NONBLOCK) == -1) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return -1;
	}
	stop_pipe_write = fd[1];
	sigemptyset(&stops);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&stops, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &stops, wait_mask) == -1) {
		fprintf(stderr, "%s: sigprocmask: %s\n", prog,
		    strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigdelset(wait_mask, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) == -1) {
			fprintf(stderr, "%s: sigaction(%s): %s\n", prog,
			    strsignal(sigs[i]), strerror(errno));
			return -1;
		}
	}
	return fd[0];
}

/* Milliseconds from now (CLOCK_MONOTONIC) to deadline, for poll(): 0 once
 * it has passed. */
static inline long
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (long)ms;
}

#endif
