/*
 * interrupt: how a signal asks a run to stop.
 *
 * Contract:
 *  - main() owns the run's flag, an interrupt_flag that its SIGINT,
 *    SIGTERM and SIGHUP handler sets to the signal's number (a SIGHUP
 *    only when no other signal is there: a request to stop is never
 *    lost); nothing else writes it but the watcher (watch.h), which sets
 *    it back from SIGHUP to 0 once it has taken it as a request to
 *    reload. Everyone else reads it through a pointer (NULL: never
 *    asked). The one other writer of a flag is channel_workers.c: a
 *    worker opens its connection under a flag of its own, which the crew
 *    sets when the run's is set or when no job is left for the worker.
 *  - The sync stops at its next durable point (between copy batches and
 *    other store calls of a plan, between mailboxes, between channels):
 *    what it did until then is in the journal, which the next run
 *    resumes, as after a crash but without the recovery work.
 *  - A wait for the network that the signal cuts short (poll() failing
 *    with EINTR) fails at once with "interrupted" when the flag is set;
 *    one that begins when the flag is set already takes what is ready
 *    and waits for nothing (the signal may have come just before it).
 */
#ifndef TWINBOX_INTERRUPT_H
#define TWINBOX_INTERRUPT_H

#include <signal.h>
#include <stdatomic.h>

/*
 * An atomic int, not a volatile sig_atomic_t: the threads that sync
 * mailboxes at once (channel_workers.h) read it while the handler writes
 * it on another thread. A lock-free atomic may be written by a signal
 * handler (C11 7.14.1.1).
 */
typedef atomic_int interrupt_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "interrupt_flag must be lock-free");

/* The signal that asked to stop, 0 if none (or no flag). */
static inline int
interrupted(const interrupt_flag *f)
{
	return f != NULL ? atomic_load(f) : 0;
}

/*
 * In a child between fork and exec (async-signal-safe calls only): clear
 * the signal mask. A worker thread (channel_workers.h) runs with SIGINT,
 * SIGTERM and SIGHUP blocked, a child forked there inherits that mask and
 * exec keeps it: a Tunnel or PassCmd would not stop on Ctrl-C or TERM.
 */
static inline void
interrupt_child_unblock(void)
{
	sigset_t none;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

#endif
