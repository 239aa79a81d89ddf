/*
 * ptyrun: run a command with its standard error on a pseudo-terminal, and
 * keep what it wrote there.
 *
 *   ptyrun [--cols N] FILE COMMAND [ARG...]
 *
 * The command's stderr is the slave side of a new pseudo-terminal (its
 * controlling terminal, N columns wide, default 200, with output
 * post-processing off so that the bytes arrive as written); its stdin and
 * stdout are ptyrun's own. Every byte it writes to stderr is copied to
 * FILE. ptyrun exits with the command's status (128 + N when signal N
 * killed it), 127 when it cannot be run, 125 when the terminal or FILE
 * cannot be set up. The tests of the status line use it
 * (tests/e2e/run_output.sh) with POSIX's posix_openpt() only: no tool of
 * util-linux is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define SETUP_FAILED 125

static int
die(const char *what)
{
	fprintf(stderr, "ptyrun: %s: %s\n", what, strerror(errno));
	return SETUP_FAILED;
}

/* The master of a new terminal cols wide; its slave's name in *slave. */
static int
open_terminal(unsigned short cols, char **slave)
{
	struct winsize ws = { .ws_row = 24, .ws_col = cols };
	int fd = posix_openpt(O_RDWR | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (grantpt(fd) != 0 || unlockpt(fd) != 0 ||
	    (*slave = ptsname(fd)) == NULL ||
	    ioctl(fd, TIOCSWINSZ, &ws) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the child: the slave as controlling terminal and stderr, raw. */
static void
run_child(int master, const char *slave, char **argv)
{
	struct termios t;
	int fd;

	close(master);
	if (setsid() < 0 || (fd = open(slave, O_RDWR)) < 0) {
		perror("ptyrun: the terminal's slave side");
		_exit(SETUP_FAILED);
	}
	if (tcgetattr(fd, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(fd, TCSANOW, &t);
	}
	if (dup2(fd, STDERR_FILENO) < 0) {
		perror("ptyrun: dup2");
		_exit(SETUP_FAILED);
	}
	if (fd != STDERR_FILENO)
		close(fd);
	execvp(argv[0], argv);
	fprintf(stderr, "ptyrun: cannot run %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* Copy the terminal's output to out until the command closed it (EIO
 * on Linux, 0 elsewhere). */
static int
copy_output(int master, FILE *out)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
			return -1;
	}
	if (n < 0 && errno != EIO)
		return -1;
	return fflush(out);
}

static int
exit_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return die("waitpid");
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int
main(int argc, char **argv)
{
	unsigned long cols = 200;
	int i = 1, master, rc;
	char *slave, *end;
	FILE *out;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "--cols") == 0) {
		cols = strtoul(argv[2], &end, 10);
		if (*end != '\0' || cols < 2 || cols > 1000) {
			fprintf(stderr, "ptyrun: --cols '%s' is not a width "
			    "from 2 to 1000\n", argv[2]);
			return SETUP_FAILED;
		}
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: ptyrun [--cols N] FILE COMMAND "
		    "[ARG...]\n");
		return SETUP_FAILED;
	}
	if ((out = fopen(argv[i], "w")) == NULL)
		return die(argv[i]);
	if ((master = open_terminal((unsigned short)cols, &slave)) < 0)
		return die("a pseudo-terminal");
	if ((pid = fork()) < 0)
		return die("fork");
	if (pid == 0)
		run_child(master, slave, argv + i + 1);
	rc = copy_output(master, out);
	close(master);
	if (rc != 0 || fclose(out) != 0)
		return die(argv[i]);
	return exit_status(pid);
}
