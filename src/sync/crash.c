/* crash: deliberate self-kill, or a test's command, at a chosen step;
 * see crash.h. */
#include "sync/crash.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interrupt.h"

static int
read_step(const char *name, const char *v, unsigned long *out,
    struct buf *err)
{
	char *end;

	*out = 0;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || v[0] == '-') {
		buf_setf(err, "%s='%s' is not a number", name, v);
		return -1;
	}
	return 0;
}

int
crash_point_init(struct crash_point *cp, const char *after,
    const char *hook_at, const char *hook_cmd, struct buf *err)
{
	atomic_init(&cp->steps, 0);
	cp->hook_cmd = hook_cmd;
	if (read_step("TWINBOX_CRASH_AFTER", after, &cp->after, err) != 0 ||
	    read_step("TWINBOX_HOOK_AT", hook_at, &cp->hook_at, err) != 0)
		return -1;
	if (cp->hook_at != 0 && (hook_cmd == NULL || *hook_cmd == '\0')) {
		buf_setf(err, "TWINBOX_HOOK_AT is set without "
		    "TWINBOX_HOOK_CMD");
		return -1;
	}
	return 0;
}

/* Run the test's command and wait for it; what it did is the test's. */
static void
run_hook(const char *cmd)
{
	pid_t pid = fork();

	if (pid == 0) {
		interrupt_child_unblock();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void
crash_step(struct crash_point *cp)
{
	unsigned long step;

	if (cp == NULL || (cp->after == 0 && cp->hook_at == 0))
		return;
	step = atomic_fetch_add(&cp->steps, 1) + 1;
	if (step == cp->hook_at)
		run_hook(cp->hook_cmd);
	if (cp->after == 0 || step < cp->after)
		return;
	if (cp->signal != 0 && cp->signal != SIGKILL) {
		if (step == cp->after)
			(void)kill(getpid(), cp->signal);
		return;
	}
	kill(getpid(), SIGKILL);
	_exit(137);	/* not reached */
}
