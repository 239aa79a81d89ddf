/*
 * report: what a run did to each mailbox pair, told at its end: the
 * run's total line for people and, with --json, one JSON object per pair
 * for programs (report_json.c).
 *
 * Channels add one outcome per mailbox pair they synced, failed or
 * skipped, and one without a mailbox for a channel that could not start
 * at all (its stores could not be opened or listed).
 *
 * The total line (report_total()), on the logger's information stream:
 *   twinbox: 8 mailbox pairs: 3 changed, 1 failed, 0 skipped;
 *   far->near: 5 copied (12.0 KiB), 1 flagged, 0 expunged;
 *   near->far: 0 copied (0 B), 0 flagged, 0 expunged; 1.2 s
 * (one line; "; N channels failed" and "; N copied to Trash" are added
 * when not 0). It is printed when a pair changed anything or failed, or
 * a channel failed, and with always set (-V) in any case: a run that
 * changed nothing and had no trouble prints no total, so that cron mails
 * nothing. A pair skipped because a store could no longer be used comes
 * with a failure; one skipped because Create or Remove says so is what
 * the configuration asks for every run, and prints nothing either.
 *
 * Contract: a NULL report is valid and collects nothing. report_add()
 * copies what it is given and may be called from several threads at
 * once. Owned by main().
 */
#ifndef TWINBOX_REPORT_H
#define TWINBOX_REPORT_H

#include <stdio.h>

#include "util/buf.h"
#include "util/log.h"
#include "sync/exec.h"

enum pair_result { PAIR_OK, PAIR_FAILED, PAIR_SKIPPED };

struct pair_outcome {
	const char *channel;
	const char *name;	/* in the channel; "" for a channel without
				   Patterns; NULL: the channel as a whole */
	const char *box[2];	/* each side's mailbox; NULL: none */
	enum pair_result result;
	struct exec_stats stats;
	double seconds;
	const char *error;	/* NULL, or what was logged */
};

struct report;

struct report *report_new(void);
void report_free(struct report *rp);
void report_add(struct report *rp, const struct pair_outcome *o);

/* The total line, by the rule above; seconds: the run's. */
void report_total(const struct report *rp, double seconds, int always,
    const struct logger *lg);

/* --json: one object a line on out, in the order the pairs finished;
 * -1 with err when out cannot be written. */
int report_write_json(const struct report *rp, FILE *out, struct buf *err);

/* The outcomes so far, for report_json.c. */
size_t report_count(const struct report *rp);
const struct pair_outcome *report_get(const struct report *rp, size_t i);

#endif
