/*
 * crash: deliberate self-kill, or a test's command, at a chosen step.
 *
 * The tests run the real binary with TWINBOX_CRASH_AFTER=N; main.c reads
 * it into a crash_point and the executor calls crash_step() before every
 * journal record and every store operation (and sync/mailbox.c once
 * inside the window of a SELECT sent ahead, after the other side's
 * listing and before the answer is read). At the N-th step the process
 * sends itself SIGKILL, exactly what a user's kill -9 or a power cut of the
 * process does: no cleanup, no flush, no atexit. With
 * TWINBOX_CRASH_SIGNAL=INT, TERM or HUP it sends itself that signal
 * instead, once, and carries on: the interrupt tests' way of delivering a
 * signal at an exact step (see interrupt.h).
 *
 * TWINBOX_HOOK_AT=N with TWINBOX_HOOK_CMD=COMMAND runs COMMAND with
 * /bin/sh at the N-th step instead, waits for it, and goes on: a test
 * changes the Maildir under a running sync (a mail reader renaming,
 * moving or deleting files) at a step it chooses. The command's exit
 * status is ignored; the run must cope with whatever it did.
 *
 * Contract: a NULL crash_point, or after == 0 and hook_at == 0, never
 * does anything. The struct is owned by the caller (main.c); nothing here
 * is global. Threads that sync mailboxes at once (channel_workers.h)
 * share one crash_point: the step counter is atomic, so every step number
 * is taken by exactly one of them and the N-th step still happens once.
 * Only the thread that takes the hook's step waits for the command; the
 * others go on meanwhile, and which thread's step is the N-th depends on
 * their timing. A test that needs the command to act at one fixed
 * instant of a still run syncs with one connection (Connections 1).
 */
#ifndef TWINBOX_SYNC_CRASH_H
#define TWINBOX_SYNC_CRASH_H

#include <stdatomic.h>

#include "util/buf.h"

struct crash_point {
	unsigned long after;	/* crash at this step; 0 = never */
	unsigned long hook_at;	/* run hook_cmd at this step; 0 = never */
	const char *hook_cmd;	/* borrowed */
	atomic_ulong steps;	/* steps taken so far */
	int signal;		/* what to send; 0 = SIGKILL */
};

/* From the variables' values (each may be NULL): 0, or -1 with err set. */
int crash_point_init(struct crash_point *cp, const char *after,
    const char *hook_at, const char *hook_cmd, struct buf *err);
void crash_step(struct crash_point *cp);

#endif
