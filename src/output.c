/* output: the status line, the total and --json; see output.h. */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/progress.h"
#include "report.h"
#include "util/units.h"

/* A status line only where someone watches it. */
static int
want_progress(const struct cli_options *opts, const struct logger *lg)
{
	const char *term = getenv("TERM");

	if (lg->level != LOG_NORMAL && lg->level != LOG_VERBOSE)
		return 0;
	if (opts->list || opts->dry_run || opts->verify)
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(STDERR_FILENO);
}

void
output_start(struct run_output *o, const struct cli_options *opts,
    struct logger *lg, struct channel_run_opts *ro)
{
	memset(o, 0, sizeof(*o));
	o->started = units_now();
	o->syncs = !opts->list && !opts->dry_run && !opts->verify;
	o->json = opts->json;
	o->always = lg->level >= LOG_VERBOSE;
	o->report = report_new();
	if (want_progress(opts, lg))
		o->progress = progress_new(stderr, lg->lock);
	lg->progress = o->progress;
	ro->report = o->report;
	ro->progress = o->progress;
}

int
output_finish(struct run_output *o, struct logger *lg, int status)
{
	struct buf err = BUF_INIT;

	lg->progress = NULL;
	progress_free(o->progress);
	if (o->syncs)
		report_total(o->report, units_now() - o->started, o->always,
		    lg);
	if (o->json && report_write_json(o->report, stdout, &err) != 0) {
		log_error(lg, "%s", err.data);
		if (status == 0)
			status = 1;
	}
	report_free(o->report);
	buf_free(&err);
	memset(o, 0, sizeof(*o));
	return status;
}
