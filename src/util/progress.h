/*
 * progress: a live status line on a terminal while mailboxes copy.
 *
 * One line, on a terminal only (the caller decides: stderr a terminal,
 * not -q, not -D), for every mailbox pair being synced at the moment
 * (several with Connections above 1): each pair's name and messages
 * copied of those planned, then what all of them copied (bytes), the rate
 * and an estimate of the time left. The line is redrawn in place ("\r",
 * text, erase to the end of the line), at most five times a second and
 * when a pair joins or leaves it, cut to the terminal's width so that it
 * never wraps, and erased when no pair is copying any more: what stays on
 * the screen is what a run without a terminal prints.
 *
 * A pair takes a slot (progress_begin()) before its sync, and shows in the
 * line once progress_plan() says it copies anything; a pair that copies
 * nothing never shows. Names come from servers: control characters (C0,
 * DEL, and C1 written in UTF-8) are shown as '?'.
 *
 * Contract: a NULL struct progress is valid everywhere and does nothing,
 * so that callers do not ask whether there is a terminal. The lock (may
 * be NULL: one thread) is the logger's (log.h): every function takes it
 * but progress_hide() and progress_show(), which the logger calls with it
 * held, around each line it prints, so that a message never lands inside
 * the status line and the status line comes back under it. Owned by
 * main(); progress_free() erases the line if it is still shown.
 */
#ifndef TWINBOX_PROGRESS_H
#define TWINBOX_PROGRESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* out: the terminal (its fd gives the width); lock may be NULL. */
struct progress *progress_new(FILE *out, pthread_mutex_t *lock);
void progress_free(struct progress *p);

/* A slot for the pair label (copied); -1 when p is NULL. */
int progress_begin(struct progress *p, const char *label);
/* The pair of slot will copy msgs messages of bytes bytes in all. */
void progress_plan(struct progress *p, int slot, size_t msgs,
    uint64_t bytes);
/* One more message of slot copied, of bytes bytes. */
void progress_step(struct progress *p, int slot, uint64_t bytes);
/* The pair of slot is done: its slot is free again. */
void progress_end(struct progress *p, int slot);

/* With the lock held: take the line off the screen, and put it back. */
void progress_hide(struct progress *p);
void progress_show(struct progress *p);

#endif
