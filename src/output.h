/*
 * output: what a run prints besides its messages: the status line on a
 * terminal while it syncs (progress.h), and at its end the total line
 * and, with --json, the JSON report (report.h).
 *
 * The status line is drawn on stderr when stderr is a terminal (and TERM
 * is not "dumb"), at the normal and the verbose level, for a run that
 * syncs (not -l, -y or --verify); never with -q or -D, never when stderr
 * is not a terminal. With --json the JSON lines are all of stdout: main()
 * sends every line for people to stderr before it reads the
 * configuration.
 *
 * Contract: output_start() sets up o and hooks it into lg and ro (both
 * must outlive o); output_finish() erases the status line, prints the
 * total and the JSON, releases o, unhooks lg, and returns status, or 1
 * when it was 0 and the JSON could not be written.
 */
#ifndef TWINBOX_OUTPUT_H
#define TWINBOX_OUTPUT_H

#include "channel.h"
#include "cli.h"
#include "util/log.h"

struct run_output {
	struct report *report;
	struct progress *progress;
	double started;
	int syncs;		/* the run syncs: a total is due */
	int json;
	int always;		/* -V: the total even when nothing changed */
};

void output_start(struct run_output *o, const struct cli_options *opts,
    struct logger *lg, struct channel_run_opts *ro);
int output_finish(struct run_output *o, struct logger *lg, int status);

#endif
