/*
 * Tests of tests/tools/rusage, run as a program: the report line's shape,
 * the exit status passed through, and a command that cannot be run.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "support/testlib.h"

/* Run rusage -o report CMD...; its stderr goes to err_path. */
static int
run_rusage(const char *report, const char *err_path, char **cmd)
{
	char *argv[8];
	int argc = 0, status;
	pid_t pid;

	argv[argc++] = tl_tool_path("rusage");
	argv[argc++] = "-o";
	argv[argc++] = (char *)report;
	while (*cmd != NULL && argc < 7)
		argv[argc++] = *cmd++;
	argv[argc] = NULL;
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (freopen(err_path, "w", stderr) == NULL)
			_exit(126);
		execv(argv[0], argv);
		_exit(125);
	}
	free(argv[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "rusage status %d", status);
	return WEXITSTATUS(status);
}

static void
assert_report(const char *path, const char *status)
{
	char *text = tl_read_file(path, NULL);
	struct buf pattern = BUF_INIT;
	regex_t re;

	buf_setf(&pattern, "^wall=[0-9]+\\.[0-9]{3} user=[0-9]+\\.[0-9]{3} "
	    "sys=[0-9]+\\.[0-9]{3} maxrss_kb=[1-9][0-9]* status=%s\n$",
	    status);
	ck_assert_int_eq(regcomp(&re, pattern.data, REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0,
	    "unexpected report: %s", text);
	regfree(&re);
	buf_free(&pattern);
	free(text);
}

START_TEST(test_reports_and_passes_the_status_on)
{
	char *dir = tl_mkdtemp("rusage");
	char *report = tl_path(dir, "report");
	char *err = tl_path(dir, "stderr");
	char *ok[] = { "sh", "-c", "exit 0", NULL };
	char *fail[] = { "sh", "-c", "exit 3", NULL };

	ck_assert_int_eq(run_rusage(report, err, ok), 0);
	assert_report(report, "0");
	ck_assert_int_eq(run_rusage(report, err, fail), 3);
	assert_report(report, "3");
	tl_rmtree(dir);
	free(dir);
	free(report);
	free(err);
}
END_TEST

START_TEST(test_killed_command_reports_128_plus_signal)
{
	char *dir = tl_mkdtemp("rusage");
	char *report = tl_path(dir, "report");
	char *err = tl_path(dir, "stderr");
	char *killed[] = { "sh", "-c", "kill -TERM $$", NULL };

	ck_assert_int_eq(run_rusage(report, err, killed), 143);
	assert_report(report, "143");
	tl_rmtree(dir);
	free(dir);
	free(report);
	free(err);
}
END_TEST

START_TEST(test_missing_command)
{
	char *dir = tl_mkdtemp("rusage");
	char *report = tl_path(dir, "report");
	char *err = tl_path(dir, "stderr");
	char *missing[] = { "twinbox-no-such-command", NULL };
	char *text;

	ck_assert_int_eq(run_rusage(report, err, missing), 127);
	text = tl_read_file(err, NULL);
	ck_assert_str_eq(text, "rusage: twinbox-no-such-command: "
	    "No such file or directory\n");
	free(text);
	tl_rmtree(dir);
	free(dir);
	free(report);
	free(err);
}
END_TEST

static Suite *
rusage_suite(void)
{
	Suite *s = suite_create("rusage");
	TCase *tc = tcase_create("rusage");

	tcase_add_test(tc, test_reports_and_passes_the_status_on);
	tcase_add_test(tc, test_killed_command_reports_128_plus_signal);
	tcase_add_test(tc, test_missing_command);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(rusage_suite());
}
