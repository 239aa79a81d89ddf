/*
 * twinbox: keep two mail stores identical, in both directions.
 *
 * main() owns everything that lives for the whole process: the logger, the
 * parsed command line, the configuration and the crash point of the crash
 * tests, and the interrupt flag that SIGINT, SIGTERM and SIGHUP set (the
 * process's one mutable global: a signal handler can reach nothing else).
 * It turns the command line's targets into channel runs and the outcome
 * into the exit status: 0 success, 1 a mailbox failed to sync, 2 usage or
 * configuration error, 128 + N interrupted by signal N (the sync stopped
 * at a durable point; the next run resumes). With --watch, TERM and INT
 * are the watcher's normal end: 0 (watch.h). With --ext-exit, as in
 * mbsync 1.5, 0 and 1 get 32 added when the far side was changed and 64
 * when the near side was. It also owns the run's store pool, through which the
 * channels that use one IMAPAccount share its connection.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "channel.h"
#include "cli.h"
#include "config/config.h"
#include "interrupt.h"
#include "util/log.h"
#include "output.h"
#include "util/log_file.h"
#include "sync/crash.h"
#include "watch.h"

#define TWINBOX_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_SYNC_FAILED = 1, EXIT_USAGE = 2,
    EXIT_FAR_CHANGED = 32, EXIT_NEAR_CHANGED = 64, EXIT_SIGNAL_BASE = 128 };

/* Set by on_signal() to the signal's number; read through a pointer. */
static interrupt_flag stop_signal;

/* A SIGHUP never takes the place of a SIGINT or SIGTERM not yet acted
 * on: a watcher asked to stop and to reload at once stops. */
static void
on_signal(int sig)
{
	int none = 0;

	if (sig != SIGHUP)
		atomic_store(&stop_signal, sig);
	else
		(void)atomic_compare_exchange_strong(&stop_signal, &none, sig);
}

/*
 * The first SIGINT, SIGTERM or SIGHUP asks the sync to stop at its next
 * durable point (with --watch, SIGHUP asks for a reload: watch.h).
 * Without SA_RESTART a wait for the network returns EINTR at once.
 * SA_RESETHAND gives the next one its default action: a second Ctrl-C
 * kills at once, which the journal makes safe too.
 */
static int
catch_signals(int watch, struct buf *err)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* --watch: every SIGHUP re-reads the configuration. */
		sa.sa_flags = watch && sigs[i] == SIGHUP ? 0 : SA_RESETHAND;
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			buf_setf(err, "sigaction(%s): %s", strsignal(sigs[i]),
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* After a signal: one line, and 128 + N whatever else happened. */
static int
interrupted_status(const struct logger *lg, int status)
{
	int sig = interrupted(&stop_signal);

	if (sig == 0)
		return status;
	log_error(lg, "interrupted; the next run resumes");
	return EXIT_SIGNAL_BASE + sig;
}

/* TWINBOX_CRASH_SIGNAL: what TWINBOX_CRASH_AFTER sends (default KILL). */
static int
read_crash_signal(struct crash_point *cp, struct buf *err)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = { { "KILL", SIGKILL }, { "INT", SIGINT },
	    { "TERM", SIGTERM }, { "HUP", SIGHUP } };
	const char *v = getenv("TWINBOX_CRASH_SIGNAL");

	cp->signal = 0;
	if (v == NULL || *v == '\0')
		return 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(v, sigs[i].name) == 0) {
			cp->signal = sigs[i].sig;
			return 0;
		}
	buf_setf(err, "TWINBOX_CRASH_SIGNAL='%s' is not KILL, INT, TERM or "
	    "HUP", v);
	return -1;
}

/* TWINBOX_CRASH_AFTER=N: kill ourselves at the N-th step; TWINBOX_HOOK_AT=N
 * and TWINBOX_HOOK_CMD: run a command there (tests, see sync/crash.h). */
static int
read_crash_point(struct crash_point *cp, struct buf *err)
{
	if (crash_point_init(cp, getenv("TWINBOX_CRASH_AFTER"),
	    getenv("TWINBOX_HOOK_AT"), getenv("TWINBOX_HOOK_CMD"), err) != 0)
		return -1;
	return read_crash_signal(cp, err);
}

static int
load_config(const struct cli_options *opts, const struct logger *lg,
    struct config **cfg)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int rc = 0;

	if (opts->config_path != NULL)
		buf_adds(&path, opts->config_path);
	else if (config_default_path(&path, &err) != 0)
		rc = -1;
	else	/* found, not named: say which one (mbsync's too) */
		log_verbose(lg, "reading configuration from %s", path.data);
	if (rc == 0 && config_load(path.data, lg, cfg, &err) != 0)
		rc = -1;
	if (rc != 0)
		log_error(lg, "%s", buf_cstr(&err));
	buf_free(&path);
	buf_free(&err);
	return rc;
}

/* Worst of two exit statuses. */
static int
worse(int a, int b)
{
	return a > b ? a : b;
}

/* --watch: on SIGHUP the log file opened again (after a rotation, under
 * the name in use) and the configuration read again. */
struct reload_ctx {
	const struct cli_options *opts;
	struct logger *lg;
	struct config *const *cfg;	/* the configuration in use */
	int log_failed;			/* a log file was incomplete */
};

static int
reload_config(void *ctx, struct config **out)
{
	struct reload_ctx *rc = ctx;
	const char *path = rc->opts->log_file != NULL ? rc->opts->log_file :
	    (*rc->cfg)->log_file;

	if (log_file_reopen(rc->lg, path) != 0)
		rc->log_failed = 1;
	return load_config(rc->opts, rc->lg, out);
}

static int
run_watch(struct config **cfg, const struct cli_options *opts,
    const struct channel_run_opts *ro, struct logger *lg, interrupt_flag *sig)
{
	struct reload_ctx rc = { opts, lg, cfg, 0 };
	struct watch_opts wo = { opts, ro, sig, reload_config, &rc };
	int status = watch_run(cfg, &wo);

	return rc.log_failed ? worse(status, EXIT_SYNC_FAILED) : status;
}

static int
run_group(const struct config *cfg, const struct group_conf *g,
    const struct channel_run_opts *ro)
{
	int status = EXIT_OK;

	for (size_t i = 0; i < g->nentries && !interrupted(ro->stop); i++)
		status = worse(status, channel_run(cfg, g->entries[i].channel,
		    &g->entries[i].boxes, ro));
	return status;
}

static int
run_targets(const struct config *cfg, const struct cli_options *opts,
    const struct channel_run_opts *ro)
{
	int status = EXIT_OK;

	if (opts->all) {
		for (size_t i = 0; i < cfg->nchannels &&
		    !interrupted(ro->stop); i++)
			status = worse(status, channel_run(cfg,
			    cfg->channels[i], NULL, ro));
		return status;
	}
	for (size_t i = 0; i < opts->ntargets && !interrupted(ro->stop); i++) {
		const struct cli_target *t = &opts->targets[i];
		const struct channel_conf *ch = config_find_channel(cfg,
		    t->name);
		const struct group_conf *g = config_find_group(cfg, t->name);

		if (ch != NULL)
			status = worse(status, channel_run(cfg, ch, &t->boxes,
			    ro));
		else if (g != NULL && t->boxes.n == 0)
			status = worse(status, run_group(cfg, g, ro));
		else if (g != NULL) {
			log_error(ro->lg, "'%s' is a group: mailboxes can be "
			    "named only after a channel", t->name);
			status = EXIT_USAGE;
		} else {
			log_error(ro->lg, "no channel or group named '%s' in "
			    "the configuration", t->name);
			status = EXIT_USAGE;
		}
	}
	return status;
}

/* -l writes to standard output: a full disk or a closed pipe fails. */
static int
check_stdout(const struct logger *lg, int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	log_error(lg, "cannot write the list of mailboxes to standard output: "
	    "%s", strerror(errno));
	return worse(status, EXIT_SYNC_FAILED);
}

/* --ext-exit: what the run changed, added to a status of 0 or 1. */
static int
ext_status(int status, unsigned changed)
{
	if (status > EXIT_SYNC_FAILED)
		return status;
	if (changed & SIDE_BIT_FAR)
		status += EXIT_FAR_CHANGED;
	if (changed & SIDE_BIT_NEAR)
		status += EXIT_NEAR_CHANGED;
	return status;
}

/* Every target must exist before anything is synced. */
static int
check_targets(const struct config *cfg, const struct cli_options *opts,
    const struct logger *lg)
{
	int ok = 1;

	if (opts->all && opts->ntargets > 0) {
		log_warn(lg, "-a syncs every channel: the channel and group "
		    "names given with it are ignored");
		return 0;
	}
	for (size_t i = 0; i < opts->ntargets; i++) {
		const char *name = opts->targets[i].name;

		if (config_find_channel(cfg, name) == NULL &&
		    config_find_group(cfg, name) == NULL) {
			log_error(lg, "no channel or group named '%s' in the "
			    "configuration", name);
			ok = 0;
		}
	}
	return ok ? 0 : -1;
}

/* What every channel of the run is given, but the store pool. */
static void
run_opts_init(struct channel_run_opts *ro, const struct cli_options *opts,
    const struct logger *lg, struct crash_point *crash,
    unsigned *changed)
{
	ro->dry_run = opts->dry_run;
	ro->list = opts->list;
	ro->ovr = &opts->ovr;
	ro->changed = changed;
	ro->verify = opts->verify;
	ro->allow_mass_delete = opts->allow_mass_delete;
	ro->crash = crash;
	ro->keep_journal = getenv("TWINBOX_KEEP_JOURNAL") != NULL;
	ro->home = getenv("HOME");
	ro->xdg_state_home = getenv("XDG_STATE_HOME");
	ro->lg = lg;
	ro->stop = &stop_signal;
}

int
main(int argc, char *argv[])
{
	pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
	struct logger lg = { .level = LOG_NORMAL, .lock = &log_lock };
	struct cli_options opts;
	struct config *cfg = NULL;
	struct crash_point crash;
	struct channel_run_opts ro = { 0 };
	struct store_pool *pool = NULL;
	struct run_output out;
	struct buf err = BUF_INIT;
	unsigned changed = 0;
	int status;

	switch (cli_parse(argc, argv, &opts, &err)) {
	case CLI_HELP:
		fputs(cli_usage(), stdout);
		cli_free(&opts);
		return EXIT_OK;
	case CLI_VERSION:
		printf("twinbox %s\n", TWINBOX_VERSION);
		cli_free(&opts);
		return EXIT_OK;
	case CLI_ERROR:
		log_error(&lg, "%s", buf_cstr(&err));
		cli_free(&opts);
		buf_free(&err);
		return EXIT_USAGE;
	case CLI_OK:
		break;
	}
	lg.level = opts.level;
	lg.debug = opts.debug;
	/* From the first line on: stdout is the JSON's alone. */
	if (opts.json)
		lg.out = stderr;
	status = EXIT_USAGE;
	if (read_crash_point(&crash, &err) != 0 ||
	    catch_signals(opts.watch, &err) != 0)
		log_error(&lg, "%s", buf_cstr(&err));
	else if (log_file_start(&lg, opts.log_file) == 0 &&
	    load_config(&opts, &lg, &cfg) == 0 &&
	    log_file_start(&lg, cfg->log_file) == 0 &&
	    check_targets(cfg, &opts, &lg) == 0) {
		run_opts_init(&ro, &opts, &lg, &crash, &changed);
		ro.pool = pool = store_pool_new();
		output_start(&out, &opts, &lg, &ro);
		status = opts.watch ? run_watch(&cfg, &opts, &ro, &lg,
		    &stop_signal) : run_targets(cfg, &opts, &ro);
		status = output_finish(&out, &lg, status);
		if (opts.list)
			status = check_stdout(&lg, status);
		if (opts.ext_exit)
			status = ext_status(status, changed);
	}
	if (!opts.watch)	/* a watcher's TERM is its normal end */
		status = interrupted_status(&lg, status);
	store_pool_free(pool);
	if (log_file_finish(&lg, opts.log_file != NULL ? opts.log_file :
	    cfg != NULL ? cfg->log_file : NULL) != 0)
		status = worse(status, EXIT_SYNC_FAILED);
	config_free(cfg);
	cli_free(&opts);
	buf_free(&err);
	return status;
}
