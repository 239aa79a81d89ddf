/*
 * rusage: run a command and report what it cost, without GNU time.
 *
 *   rusage -o FILE COMMAND [ARG...]
 *
 * Runs COMMAND (searched in PATH) with the caller's stdin, stdout and
 * stderr, waits for it, and writes one line to FILE:
 *
 *   wall=<s> user=<s> sys=<s> maxrss_kb=<k> status=<n>
 *
 * wall is elapsed monotonic time, user and sys the CPU seconds of COMMAND
 * and of every descendant it waited for, maxrss_kb the largest resident
 * set among them (wait4's accounting), status the exit status, or 128+N
 * when killed by signal N. rusage exits with that same status, so a
 * caller can tell a failed command; 127 when COMMAND could not be run,
 * 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static double
tv_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static int
exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static int
report(const char *path, double wall, const struct rusage *ru, int code)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "rusage: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "wall=%.3f user=%.3f sys=%.3f maxrss_kb=%ld status=%d\n",
	    wall, tv_seconds(&ru->ru_utime), tv_seconds(&ru->ru_stime),
	    ru->ru_maxrss, code);
	if (fclose(f) == EOF) {
		fprintf(stderr, "rusage: %s: write: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static pid_t
spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == -1) {
		fprintf(stderr, "rusage: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "rusage: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status, code;
	pid_t pid;

	if (argc < 4 || strcmp(argv[1], "-o") != 0) {
		fprintf(stderr, "usage: rusage -o FILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn(argv + 3);
	if (pid == -1)
		return 127;
	while (wait4(pid, &status, 0, &ru) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "rusage: wait4: %s\n", strerror(errno));
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = exit_code(status);
	if (report(argv[2], seconds_between(&t0, &t1), &ru, code) != 0)
		return code != 0 ? code : 1;
	return code;
}
