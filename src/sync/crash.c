/* crash: deliberate self-kill at a chosen step; see crash.h. */
#include "sync/crash.h"

#include <signal.h>
#include <unistd.h>

void
crash_step(struct crash_point *cp)
{
	if (cp == NULL || cp->after == 0 || ++cp->steps != cp->after)
		return;
	if (cp->signal != 0 && cp->signal != SIGKILL) {
		(void)kill(getpid(), cp->signal);
		return;
	}
	kill(getpid(), SIGKILL);
	_exit(137);	/* not reached */
}
