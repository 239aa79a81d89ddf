/* tunnel: Tunnel commands on a socketpair; see tunnel.h for the contract. */
#include "imap/tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "interrupt.h"

/* In the child, between fork and exec: async-signal-safe calls only. */
static void
exec_child(const char *cmd, int fd)
{
	interrupt_child_unblock();
	if (fd <= STDOUT_FILENO)
		fd = fcntl(fd, F_DUPFD, STDERR_FILENO + 1);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 ||
	    dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	close(fd);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

int
tunnel_start(const char *cmd, pid_t *pid, struct buf *err)
{
	int sv[2];

	if (tw_socketpair(AF_UNIX, SOCK_STREAM, 0, sv, O_CLOEXEC) < 0) {
		buf_setf(err, "tunnel '%s': socketpair: %s", cmd,
		    strerror(errno));
		return -1;
	}
	*pid = fork();
	if (*pid < 0) {
		buf_setf(err, "tunnel '%s': fork: %s", cmd, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (*pid == 0)
		exec_child(cmd, sv[1]);
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		buf_setf(err, "tunnel '%s': fcntl: %s", cmd, strerror(errno));
		close(sv[0]);
		tunnel_stop(*pid, 0);
		return -1;
	}
	return sv[0];
}

static int
reap_now(pid_t pid, int *status)
{
	pid_t r;

	do
		r = waitpid(pid, status, WNOHANG);
	while (r < 0 && errno == EINTR);
	/* ECHILD: someone else reaped it; there is nothing left to wait for. */
	if (r < 0) {
		*status = 0;
		return 1;
	}
	return r == pid;
}

/*
 * There is no portable way to wait for one child with a timeout without
 * touching process-wide signal handling; poll in short, growing steps.
 * (pidfds would do, but valgrind cannot follow them.) This runs only when
 * a tunnel ends, so the steps cost nothing that matters.
 */
int
tunnel_wait(pid_t pid, int wait_ms, int *status)
{
	int waited = 0, step = 1;

	if (reap_now(pid, status))
		return 1;
	while (waited < wait_ms) {
		(void)poll(NULL, 0, step);
		waited += step;
		if (reap_now(pid, status))
			return 1;
		if (step < 16)
			step *= 2;
	}
	return 0;
}

void
tunnel_stop(pid_t pid, int grace_ms)
{
	int status;

	if (tunnel_wait(pid, grace_ms, &status))
		return;
	(void)kill(pid, SIGTERM);
	if (tunnel_wait(pid, 1000, &status))
		return;
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		continue;
}

void
tunnel_describe_status(struct buf *out, int status)
{
	if (WIFSIGNALED(status)) {
		buf_addf(out, "killed by signal %d", WTERMSIG(status));
		return;
	}
	if (!WIFEXITED(status))
		return;
	if (WEXITSTATUS(status) == 127)
		buf_adds(out, "command not found, ");
	buf_addf(out, "exit status %d", WEXITSTATUS(status));
}
