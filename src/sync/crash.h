/*
 * crash: deliberate self-kill at a chosen step, for the crash tests.
 *
 * The tests run the real binary with TWINBOX_CRASH_AFTER=N; main.c reads
 * it into a crash_point and the executor calls crash_step() before every
 * journal record and every store operation. At the N-th step the process
 * sends itself SIGKILL, exactly what a user's kill -9 or a power cut of the
 * process does: no cleanup, no flush, no atexit. With
 * TWINBOX_CRASH_SIGNAL=INT, TERM or HUP it sends itself that signal
 * instead, once, and carries on: the interrupt tests' way of delivering a
 * signal at an exact step (see interrupt.h).
 *
 * Contract: a NULL crash_point or after == 0 never crashes. The struct is
 * owned by the caller (main.c); nothing here is global.
 */
#ifndef TWINBOX_SYNC_CRASH_H
#define TWINBOX_SYNC_CRASH_H

struct crash_point {
	unsigned long after;	/* crash at this step; 0 = never */
	unsigned long steps;	/* steps taken so far */
	int signal;		/* what to send; 0 = SIGKILL */
};

void crash_step(struct crash_point *cp);

#endif
