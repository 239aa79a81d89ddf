/*
 * Unit tests: compat (the seam over Linux-only calls). The same tests run
 * in the native build and in the portable one (make COMPAT=portable),
 * where every fallback is used; a guarantee that differs between the two
 * is asserted as compat.h states it for the build at hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "compat.h"
#include "support/testlib.h"

/* A lock file in a fresh directory; *dir to be removed by the caller. */
static int
open_lock_file(char **dir, char **path)
{
	int fd;

	*dir = tl_mkdtemp("compat-lock");
	*path = tl_path(*dir, "lockfile");
	fd = open(*path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", *path, strerror(errno));
	return fd;
}

/* In a child: 0 if path could be locked, 1 if refused as held, 2 other. */
static int
child_tries_lock(const char *path)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			_exit(2);
		if (tw_lock_file(fd) == 0)
			_exit(0);
		_exit(errno == EAGAIN || errno == EACCES ? 1 : 2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_lock_excludes_another_process)
{
	char *dir, *path;
	int fd = open_lock_file(&dir, &path);

	ck_assert_int_eq(child_tries_lock(path), 0);
	ck_assert_msg(tw_lock_file(fd) == 0, "lock: %s", strerror(errno));
	ck_assert_int_eq(child_tries_lock(path), 1);
	/* Closing the descriptor lets go. */
	close(fd);
	ck_assert_int_eq(child_tries_lock(path), 0);
	tl_rmtree(dir);
	free(dir);
	free(path);
}
END_TEST

/* Native: the lock belongs to the open file; fallback: to the process. */
START_TEST(test_lock_second_open_in_process)
{
	char *dir, *path;
	int fd = open_lock_file(&dir, &path), again, rc;

	ck_assert_int_eq(tw_lock_file(fd), 0);
	again = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(again, 0);
	rc = tw_lock_file(again);
	if (tw_lock_is_per_open()) {
		ck_assert_int_eq(rc, -1);
		ck_assert(errno == EAGAIN || errno == EACCES);
	} else {
		ck_assert_int_eq(rc, 0);
		/* Closing any descriptor of the file drops the lock. */
		close(again);
		again = -1;
		ck_assert_int_eq(child_tries_lock(path), 0);
	}
	if (again >= 0)
		close(again);
	close(fd);
	tl_rmtree(dir);
	free(dir);
	free(path);
}
END_TEST

static void
assert_fd_flags(int fd, int cloexec, int nonblock)
{
	int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);

	ck_assert_int_ge(fdfl, 0);
	ck_assert_int_ge(fl, 0);
	ck_assert_int_eq((fdfl & FD_CLOEXEC) != 0, cloexec);
	ck_assert_int_eq((fl & O_NONBLOCK) != 0, nonblock);
}

START_TEST(test_pipe_flags)
{
	int p[2];

	ck_assert_int_eq(tw_pipe(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_fd_flags(p[0], 1, 1);
	assert_fd_flags(p[1], 1, 1);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(tw_pipe(p, O_CLOEXEC), 0);
	assert_fd_flags(p[0], 1, 0);
	assert_fd_flags(p[1], 1, 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A listening socket on 127.0.0.1, its port in *port. */
static int
listen_loopback(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = tw_socket(AF_INET, SOCK_STREAM, 0, O_CLOEXEC);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	assert_fd_flags(fd, 1, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

START_TEST(test_socket_flags)
{
	int port, lfd = listen_loopback(&port), cfd, afd, sv[2];
	int s = tw_socket(AF_INET, SOCK_STREAM, 0, O_CLOEXEC | O_NONBLOCK);

	ck_assert_int_ge(s, 0);
	assert_fd_flags(s, 1, 1);
	close(s);
	cfd = tl_connect_loopback(port, 5);
	afd = tw_accept(lfd, O_CLOEXEC | O_NONBLOCK);
	ck_assert_msg(afd >= 0, "accept: %s", strerror(errno));
	assert_fd_flags(afd, 1, 1);
	close(afd);
	close(cfd);
	close(lfd);
	ck_assert_int_eq(tw_socketpair(AF_UNIX, SOCK_STREAM, 0, sv,
	    O_CLOEXEC), 0);
	assert_fd_flags(sv[0], 1, 0);
	assert_fd_flags(sv[1], 1, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* SIGPIPE keeps its default action (death) here: only tw_send() stands
 * between the test and a killed process. */
START_TEST(test_send_to_a_gone_peer_gives_epipe)
{
	int sv[2];
	sigset_t pending, mask_before, mask_after;

	ck_assert_ptr_eq(signal(SIGPIPE, SIG_DFL), SIG_DFL);
	ck_assert_int_eq(tw_socketpair(AF_UNIX, SOCK_STREAM, 0, sv,
	    O_CLOEXEC), 0);
	ck_assert_int_eq(tw_send(sv[0], "a", 1), 1);
	close(sv[1]);
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, NULL, &mask_before), 0);
	ck_assert_int_eq(tw_send(sv[0], "b", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, NULL, &mask_after), 0);
	ck_assert_int_eq(sigismember(&mask_after, SIGPIPE),
	    sigismember(&mask_before, SIGPIPE));
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert_int_eq(sigismember(&pending, SIGPIPE), 0);
	close(sv[0]);
}
END_TEST

START_TEST(test_sync_barrier)
{
	char *dir = tl_mkdtemp("compat-sync"), *path = tl_path(dir, "f");
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(write(fd, "data\n", 5), 5);
	ck_assert_int_eq(tw_sync_file(fd), 0);
	ck_assert_int_eq(tw_fdatasync(fd), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_msg(tw_syncfs(dfd) == 0, "syncfs: %s", strerror(errno));
	close(dfd);
	/* A bad descriptor is reported, not taken as flushed. */
	ck_assert_int_eq(tw_syncfs(-1), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(tw_fdatasync(-1), -1);
	ck_assert_int_eq(errno, EBADF);
	/* tw_sync_file() flushes only where tw_syncfs() does not cover it. */
	ck_assert_int_eq(tw_sync_file(-1), tw_syncfs_is_whole_fs() ? 0 : -1);
	tl_rmtree(dir);
	free(dir);
	free(path);
}
END_TEST

/* Linux tells how much written data is not yet on disk (the native
 * build reads it to choose a Maildir batch's barrier); the portable
 * build cannot tell. The amount itself is the machine's, so only its
 * sign is checked. */
START_TEST(test_dirty_bytes)
{
	int64_t dirty = tw_dirty_bytes();

	if (tw_syncfs_is_whole_fs())
		ck_assert_msg(dirty >= 0, "tw_dirty_bytes: %lld",
		    (long long)dirty);
	else
		ck_assert_int_eq(dirty, -1);
}
END_TEST

START_TEST(test_st_mtim)
{
	char *dir = tl_mkdtemp("compat-mtim"), *path = tl_path(dir, "f");
	struct timespec t[2] = { { 1000000000, 123456789 },
		{ 1000000000, 123456789 } };
	struct stat st;

	tl_write_str(path, "x");
	ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(TW_ST_MTIM(st).tv_sec, 1000000000);
	/* File systems keep at least microseconds. */
	ck_assert_int_eq(TW_ST_MTIM(st).tv_nsec / 1000, 123456);
	tl_rmtree(dir);
	free(dir);
	free(path);
}
END_TEST

/* Set by on_usr1(): the test's one mutable global, for the handler. */
static volatile sig_atomic_t usr1_seen;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}

/*
 * The race tw_ppoll() closes: a signal that comes after the caller checked
 * its flag (here: raised while blocked, so pending) and before the wait
 * must end the wait. A wait that let it through before waiting would sit
 * out its minute and return 0 (or outlast Check's timeout): no clock is
 * read, the result alone tells.
 */
START_TEST(test_ppoll_signal_before_wait_ends_it)
{
	struct sigaction sa = { .sa_handler = on_usr1 }, old_sa;
	struct timespec minute = { 60, 0 };
	sigset_t usr1, old, during;
	struct pollfd pfd;
	int p[2], rc, e;

	ck_assert_int_eq(tw_pipe(p, O_CLOEXEC), 0);
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old_sa), 0);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
	usr1_seen = 0;
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(usr1_seen, 0);		/* pending, not delivered */
	during = old;
	sigdelset(&during, SIGUSR1);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	rc = tw_ppoll(&pfd, 1, &minute, &during);
	e = errno;
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, EINTR);
	ck_assert_int_eq(usr1_seen, 1);
	/* The caller's mask is back: SIGUSR1 blocked again. */
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, NULL, &during), 0);
	ck_assert_int_eq(sigismember(&during, SIGUSR1), 1);
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, &old_sa, NULL), 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* What tw_ppoll() reports, the same through ppoll() and pselect(). */
START_TEST(test_ppoll_events)
{
	struct timespec now = { 0, 0 };
	struct pollfd pfd[3];
	int p[2], gone[2];
	char c;

	ck_assert_int_eq(tw_pipe(p, O_CLOEXEC), 0);
	pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
	pfd[2] = (struct pollfd){ .fd = -1, .events = POLLIN };
	/* Nothing to read, room to write, a negative descriptor left out. */
	ck_assert_int_eq(tw_ppoll(pfd, 3, &now, NULL), 1);
	ck_assert_int_eq(pfd[0].revents, 0);
	ck_assert_int_eq(pfd[1].revents, POLLOUT);
	ck_assert_int_eq(pfd[2].revents, 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(tw_ppoll(pfd, 3, &now, NULL), 2);
	ck_assert_int_eq(pfd[0].revents, POLLIN);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	/* The writer gone: the reader wakes (POLLHUP, or POLLIN through
	 * pselect()), and the read says end of file. */
	close(p[1]);
	ck_assert_int_eq(tw_ppoll(pfd, 1, &now, NULL), 1);
	ck_assert_int_ne(pfd[0].revents & (POLLIN | POLLHUP), 0);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	/* A descriptor not open: POLLNVAL, at once. */
	ck_assert_int_eq(tw_pipe(gone, O_CLOEXEC), 0);
	close(gone[0]);
	close(gone[1]);
	pfd[0] = (struct pollfd){ .fd = gone[0], .events = POLLIN };
	ck_assert_int_eq(tw_ppoll(pfd, 1, NULL, NULL), 1);
	ck_assert_int_eq(pfd[0].revents, POLLNVAL);
}
END_TEST

START_TEST(test_clock_with_suspend)
{
	struct timespec a, b;

	ck_assert_int_eq(tw_clock_with_suspend(&a), 0);
	ck_assert_int_eq(tw_clock_with_suspend(&b), 0);
	ck_assert(b.tv_sec > a.tv_sec ||
	    (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
}
END_TEST

START_TEST(test_openssl_shims)
{
	ck_assert_int_eq(tw_md_size(EVP_sha256()), 32);
	ck_assert_int_eq(tw_md_size(EVP_sha1()), 20);
	ck_assert_int_eq(tw_ssl_is_eof_error(0), 0);
}
END_TEST

static Suite *
compat_suite(void)
{
	Suite *s = suite_create("compat");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lock_excludes_another_process);
	tcase_add_test(tc, test_lock_second_open_in_process);
	tcase_add_test(tc, test_pipe_flags);
	tcase_add_test(tc, test_socket_flags);
	tcase_add_test(tc, test_send_to_a_gone_peer_gives_epipe);
	tcase_add_test(tc, test_sync_barrier);
	tcase_add_test(tc, test_dirty_bytes);
	tcase_add_test(tc, test_st_mtim);
	tcase_add_test(tc, test_ppoll_signal_before_wait_ends_it);
	tcase_add_test(tc, test_ppoll_events);
	tcase_add_test(tc, test_clock_with_suspend);
	tcase_add_test(tc, test_openssl_shims);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(compat_suite());
}
