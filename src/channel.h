/*
 * channel: one channel of the configuration, run: its two stores opened,
 * its mailboxes chosen (Patterns, or the boxes named on the command line),
 * missing mailboxes created or skipped (Create, Remove), and every mailbox
 * pair synced (sync/mailbox.h), with one summary line per pair that
 * changed ("up to date" for the others with -V only), its outcome added
 * to opts->report and its copies shown in opts->progress.
 *
 * This is where the configuration's vocabulary (struct channel_conf) is
 * turned into the sync core's (struct sync_policy, store objects, state
 * locations); the core itself never sees the configuration.
 *
 * Contract: channel_run() returns 0 when every mailbox pair synced, and 1
 * when at least one failed (each failure is logged with the mailbox and the
 * reason; the other pairs are still synced, unless a store says it can no
 * longer be used in this run, STORE_FAIL_CONNECTION or worse: then the
 * rest are skipped with one line) or when the channel could not
 * start at all (a store could not be opened or listed; logged). It never
 * returns 2, which main.c keeps for errors in the command line and the
 * configuration. Once *opts->stop is set it starts no other mailbox, and
 * the error of a mailbox it cut short is not logged: main() reports the
 * interruption.
 *
 * With Connections above 1 on its IMAP ends' accounts (and not for a dry
 * run, -l or --verify) the mailbox pairs are synced in parallel
 * (channel_workers.h): mailboxes are created first and removed last, in
 * order; the pairs' summary lines come in the order they finish; a store
 * that fails with STORE_FAIL_CONNECTION leaves its worker's remaining
 * pairs to the other workers, STORE_FAIL_FATAL stops them all. The return
 * value and what each pair's sync does are those of the sequential run.
 *
 * With opts->verify the same mailboxes are compared instead of synced
 * (sync/verify_mailbox.h), the stores opened read-only, nothing created
 * or removed: 0 when every pair agrees, 1 when one differs, failed, or
 * exists on one side only.
 */
#ifndef TWINBOX_CHANNEL_H
#define TWINBOX_CHANNEL_H

#include "config/config.h"
#include "interrupt.h"
#include "util/log.h"
#include "config/override.h"
#include "util/progress.h"
#include "report.h"
#include "store.h"
#include "store_pool.h"
#include "sync/crash.h"
#include "sync/policy.h"

struct channel_run_opts {
	int dry_run;
	int list;			/* -l: print the mailboxes that would
					   be synced, one a line; sync none */
	const struct override *ovr;	/* the command line's -C -R -X and
					   Sync letters; may be NULL */
	struct store_pool *pool;	/* the run's connections; may be NULL */
	unsigned *changed;		/* may be NULL; SIDE_BIT_* of the
					   sides this run changed are or-ed
					   in (--ext-exit) */
	int verify;			/* --verify: compare, change nothing */
	int allow_mass_delete;		/* pass the mass-deletion guard */
	struct crash_point *crash;	/* may be NULL */
	int keep_journal;		/* tests: keep JOURNAL.folded */
	const char *home;		/* $HOME */
	const char *xdg_state_home;	/* may be NULL */
	const struct logger *lg;
	const interrupt_flag *stop;	/* may be NULL; see interrupt.h */
	struct report *report;		/* may be NULL; each pair's outcome
					   (report.h) */
	struct progress *progress;	/* may be NULL; the status line */
};

/* boxes: the mailboxes named on the command line (NULL or empty: all
 * that the channel's Patterns select). */
int channel_run(const struct config *cfg, const struct channel_conf *ch,
    const struct strlist *boxes, const struct channel_run_opts *opts);

/* The channel-relative names of the mailbox pairs a run of ch without
 * named mailboxes considers: "" alone for a channel without Patterns,
 * else what its Patterns select of both stores' lists. 0, or -1 when a
 * store cannot be opened or listed (logged). For watch mode. */
int channel_pair_names(const struct config *cfg,
    const struct channel_conf *ch, const struct channel_run_opts *opts,
    struct strlist *out);

/* Side s's mailbox of the pair called name (the caller frees it). */
char *channel_side_box(const struct channel_conf *ch, enum side s,
    const char *name);

/* The sync policy a channel asks for, with the command line's overrides
 * (exposed for the tests). */
void channel_policy(const struct channel_conf *ch,
    const struct channel_run_opts *opts, struct sync_policy *out);

/* Open a configured store (struct store_open: store_pool.h). */
struct store *channel_open_store(const struct store_conf *sc,
    const struct store_open *how, const struct logger *lg, struct buf *err);

#endif
