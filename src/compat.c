/*
 * compat: the Linux calls and their POSIX fallbacks; see compat.h (the
 * OpenSSL ones are in compat_ssl.c). Each TW_HAVE_* below names a call
 * this platform has; the portable build (TW_COMPAT_PORTABLE) defines
 * none, so that every fallback runs, and is tested, on Linux too.
 */
#include "compat.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TW_COMPAT_PORTABLE
#if defined(__linux__)
#define TW_HAVE_SYNCFS 1
#define TW_HAVE_PROC_MEMINFO 1
#endif
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
#define TW_HAVE_PIPE2 1
#define TW_HAVE_ACCEPT4 1
#endif
/* ppoll(): Linux, FreeBSD 11, OpenBSD 5.4, NetBSD 10, DragonFly 4.6. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define TW_HAVE_PPOLL 1
#endif
#if !defined(__APPLE__)
#define TW_HAVE_FDATASYNC 1
#endif
#if defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
#define TW_HAVE_SOCK_FLAGS 1
#endif
#ifdef MSG_NOSIGNAL
#define TW_HAVE_MSG_NOSIGNAL 1
#endif
#ifdef F_OFD_SETLK
#define TW_HAVE_OFD_LOCKS 1
#endif
#ifdef CLOCK_BOOTTIME
#define TW_HAVE_BOOTTIME 1
#endif
#endif /* !TW_COMPAT_PORTABLE */

int
tw_sync_file(int fd)
{
#ifdef TW_HAVE_SYNCFS
	(void)fd;
	return 0;
#else
	return fsync(fd);
#endif
}

int
tw_syncfs(int dir_fd)
{
#ifdef TW_HAVE_SYNCFS
	return syncfs(dir_fd);
#else
	return fsync(dir_fd);
#endif
}

int
tw_syncfs_is_whole_fs(void)
{
#ifdef TW_HAVE_SYNCFS
	return 1;
#else
	return 0;
#endif
}

int
tw_fdatasync(int fd)
{
#ifdef TW_HAVE_FDATASYNC
	return fdatasync(fd);
#else
	return fsync(fd);
#endif
}

#ifdef TW_HAVE_PROC_MEMINFO
/* The value in kB of the /proc/meminfo line named key ("Dirty:"), or -1. */
static int64_t
meminfo_kb(const char *text, const char *key)
{
	const char *p = text;
	size_t klen = strlen(key);
	char *end;
	long long kb;

	while (p != NULL && strncmp(p, key, klen) != 0)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	if (p == NULL)
		return -1;
	kb = strtoll(p + klen, &end, 10);
	if (end == p + klen || kb < 0 || kb > INT64_MAX / 1024)
		return -1;
	return (int64_t)kb;
}
#endif

int64_t
tw_dirty_bytes(void)
{
#ifdef TW_HAVE_PROC_MEMINFO
	char text[8192];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int64_t dirty, wb;

	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	dirty = meminfo_kb(text, "Dirty:");
	wb = meminfo_kb(text, "Writeback:");
	if (dirty < 0 || wb < 0 || dirty > INT64_MAX / 1024 - wb)
		return -1;
	return (dirty + wb) * 1024;
#else
	return -1;
#endif
}

int
tw_lock_file(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

#ifdef TW_HAVE_OFD_LOCKS
	return fcntl(fd, F_OFD_SETLK, &fl);
#else
	return fcntl(fd, F_SETLK, &fl);
#endif
}

int
tw_lock_is_per_open(void)
{
#ifdef TW_HAVE_OFD_LOCKS
	return 1;
#else
	return 0;
#endif
}

/* O_CLOEXEC and O_NONBLOCK, set after the fact; -1 with errno. */
static int
set_fd_flags(int fd, int flags)
{
	int cur;

	if (flags & O_CLOEXEC) {
		if ((cur = fcntl(fd, F_GETFD)) == -1 ||
		    fcntl(fd, F_SETFD, cur | FD_CLOEXEC) == -1)
			return -1;
	}
	if (flags & O_NONBLOCK) {
		if ((cur = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, cur | O_NONBLOCK) == -1)
			return -1;
	}
	return 0;
}

/* SO_NOSIGPIPE where the platform has it (macOS, the BSDs). */
static int
set_nosigpipe(int fd)
{
#ifdef SO_NOSIGPIPE
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#else
	(void)fd;
	return 0;
#endif
}

/* Finish a descriptor made without its flags: fd, or -1 (closed). */
static int
finish_fd(int fd, int flags, int is_socket)
{
	int saved;

	if (fd < 0)
		return -1;
	if (set_fd_flags(fd, flags) == 0 &&
	    (!is_socket || set_nosigpipe(fd) == 0))
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* finish_fd() for both ends: 0, or -1 with both closed. */
static int
finish_pair(int fd[2], int flags, int is_socket)
{
	int saved;

	if (finish_fd(fd[0], flags, is_socket) < 0) {
		saved = errno;
		close(fd[1]);
		errno = saved;
		return -1;
	}
	if (finish_fd(fd[1], flags, is_socket) < 0) {
		saved = errno;
		close(fd[0]);
		errno = saved;
		return -1;
	}
	return 0;
}

#ifdef TW_HAVE_SOCK_FLAGS
static int
sock_flags(int flags)
{
	return ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0) |
	    ((flags & O_NONBLOCK) ? SOCK_NONBLOCK : 0);
}
#endif

int
tw_pipe(int fd[2], int flags)
{
#ifdef TW_HAVE_PIPE2
	return pipe2(fd, flags);
#else
	if (pipe(fd) != 0)
		return -1;
	return finish_pair(fd, flags, 0);
#endif
}

int
tw_socket(int domain, int type, int protocol, int flags)
{
#ifdef TW_HAVE_SOCK_FLAGS
	return finish_fd(socket(domain, type | sock_flags(flags), protocol),
	    0, 1);
#else
	return finish_fd(socket(domain, type, protocol), flags, 1);
#endif
}

int
tw_socketpair(int domain, int type, int protocol, int sv[2], int flags)
{
#ifdef TW_HAVE_SOCK_FLAGS
	if (socketpair(domain, type | sock_flags(flags), protocol, sv) != 0)
		return -1;
	return finish_pair(sv, 0, 1);
#else
	if (socketpair(domain, type, protocol, sv) != 0)
		return -1;
	return finish_pair(sv, flags, 1);
#endif
}

int
tw_accept(int lfd, int flags)
{
#if defined(TW_HAVE_ACCEPT4) && defined(TW_HAVE_SOCK_FLAGS)
	return finish_fd(accept4(lfd, NULL, NULL, sock_flags(flags)), 0, 1);
#else
	return finish_fd(accept(lfd, NULL, NULL), flags, 1);
#endif
}

#if !defined(TW_HAVE_MSG_NOSIGNAL) && !defined(SO_NOSIGPIPE)
/* Block SIGPIPE in this thread around the send(); a SIGPIPE the send()
 * raised (it was not pending before) is then taken back with sigwait(),
 * so it is never delivered and no disposition changes. */
static ssize_t
send_blocking_sigpipe(int fd, const void *data, size_t len)
{
	sigset_t pipe_only, old, pending;
	int was_pending, sig, e;
	ssize_t r;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if ((e = pthread_sigmask(SIG_BLOCK, &pipe_only, &old)) != 0) {
		errno = e;
		return -1;
	}
	was_pending = sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1;
	r = send(fd, data, len, 0);
	e = errno;
	if (r < 0 && e == EPIPE && !was_pending &&
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
		(void)sigwait(&pipe_only, &sig);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}
#endif

ssize_t
tw_send(int fd, const void *data, size_t len)
{
#if defined(TW_HAVE_MSG_NOSIGNAL)
	return send(fd, data, len, MSG_NOSIGNAL);
#elif defined(SO_NOSIGPIPE)
	/* Set on every socket by tw_socket(), tw_socketpair() and
	 * tw_accept(). */
	return send(fd, data, len, 0);
#else
	return send_blocking_sigpipe(fd, data, len);
#endif
}

int
tw_clock_with_suspend(struct timespec *ts)
{
#ifdef TW_HAVE_BOOTTIME
	return clock_gettime(CLOCK_BOOTTIME, ts);
#else
	return clock_gettime(CLOCK_MONOTONIC, ts);
#endif
}

#ifndef TW_HAVE_PPOLL
/*
 * The descriptors of fds in pselect()'s three sets, revents cleared.
 * A negative descriptor is left out, as poll() leaves it; one that is
 * not open gets POLLNVAL, counted in *bad. The highest descriptor + 1,
 * or -1 with EINVAL for one that select() cannot take (FD_SETSIZE).
 */
static int
fill_fd_sets(struct pollfd *fds, size_t n, fd_set set[3], size_t *bad)
{
	int top = 0;

	for (int k = 0; k < 3; k++)
		FD_ZERO(&set[k]);
	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i].fd;

		fds[i].revents = 0;
		if (fd < 0)
			continue;
		if (fd >= FD_SETSIZE) {
			errno = EINVAL;
			return -1;
		}
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			fds[i].revents = POLLNVAL;
			(*bad)++;
			continue;
		}
		if (fds[i].events & POLLIN)
			FD_SET(fd, &set[0]);
		if (fds[i].events & POLLOUT)
			FD_SET(fd, &set[1]);
		if (fds[i].events & POLLPRI)
			FD_SET(fd, &set[2]);
		if (fd >= top)
			top = fd + 1;
	}
	return top;
}

/* pselect()'s answer back into revents; how many have one. */
static int
read_fd_sets(struct pollfd *fds, size_t n, fd_set set[3])
{
	int ready = 0;

	for (size_t i = 0; i < n; i++) {
		int fd = fds[i].fd;

		if (fd < 0 || fds[i].revents != 0)
			continue;
		if (FD_ISSET(fd, &set[0]))
			fds[i].revents |= POLLIN;
		if (FD_ISSET(fd, &set[1]))
			fds[i].revents |= POLLOUT;
		if (FD_ISSET(fd, &set[2]))
			fds[i].revents |= POLLPRI;
		if (fds[i].revents != 0)
			ready++;
	}
	return ready;
}
#endif

int
tw_ppoll(struct pollfd *fds, size_t n, const struct timespec *timeout,
    const sigset_t *mask)
{
#ifdef TW_HAVE_PPOLL
	return ppoll(fds, (nfds_t)n, timeout, mask);
#else
	fd_set set[3];
	size_t bad;
	int top, rc;

	if ((top = fill_fd_sets(fds, n, set, &bad)) < 0)
		return -1;
	if (bad > 0)	/* poll() answers POLLNVAL without waiting */
		return (int)bad;
	rc = pselect(top, &set[0], &set[1], &set[2], timeout, mask);
	if (rc <= 0)
		return rc;
	return read_fd_sets(fds, n, set);
#endif
}
