/*
 * net_helpers: the pieces the loopback tools (relay, faultproxy) share:
 * number arguments, a listener on 127.0.0.1, a file written all or
 * nothing (or standard output), SIGTERM and SIGINT through a signalfd,
 * the time left to a deadline. Header only, because each tool is built
 * from its one file; PROG names the tool in messages.
 */
#ifndef TWINBOX_TOOLS_NET_HELPERS_H
#define TWINBOX_TOOLS_NET_HELPERS_H

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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

/* SIGTERM and SIGINT blocked and readable from the descriptor returned. */
static inline int
open_signalfd(const char *prog)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		fprintf(stderr, "%s: sigprocmask: %s\n", prog,
		    strerror(errno));
		return -1;
	}
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
	return fd;
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
