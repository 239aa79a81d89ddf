/*
 * watch: watch mode (twinbox --watch). Sync the command line's channels
 * once, then stay and sync again what changes, until SIGTERM or SIGINT.
 *
 * Contract:
 *  - The targets are the command line's (-a, channels, CHANNEL:BOX,
 *    groups), as for a one-shot run. Every sync is a channel_run() of
 *    the normal sync path (state, journal, pair lock, CONDSTORE/QRESYNC
 *    marks), over a store pool made for that sync alone: the watcher's
 *    IDLE connections are not the sync's.
 *  - A channel's watched mailbox pairs are the ones named on the command
 *    line; else the single pair of a channel without Patterns; else those
 *    of the channel's pairs that its WatchMailboxes patterns select
 *    (default INBOX). Where the server offers NOTIFY (RFC 5465), the
 *    watched mailboxes of one IMAPStore share one connection that NOTIFY
 *    SET names them on, then IDLEs; where it does not or refuses it,
 *    each IMAP side of a watched pair gets a connection of its own that
 *    IDLEs (RFC 2177) on the mailbox. Either is refreshed
 *    (DONE, then IDLE again) every WatchRefresh seconds, which also
 *    proves the connection alive after a suspend; each Maildir side gets
 *    inotify on its cur/ and new/ (watch_fs.h; elsewhere nothing),
 *    added again, with the same kind of wait as a reconnection, when
 *    they were removed or renamed (the folder deleted and created again).
 *  - A change waits for more (debounce), at most WATCH_DEBOUNCE_MAX_MS
 *    after the first, then the changed pairs alone are synced. The wait
 *    after a server's word is WATCH_DEBOUNCE_SERVER_MS (the server
 *    batches its own: Dovecot holds a change back 0.5 s), after a
 *    Maildir event WATCH_DEBOUNCE_FS_MS (a mail reader renames many
 *    files in a burst). Every channel is synced whole every WatchInterval
 *    seconds (0: never) and at start.
 *  - A lost IDLE connection (server gone, reset, no answer to DONE within
 *    the account's Timeout, or WATCH_TIMEOUT_S where that is 0) is opened
 *    again after a wait that doubles from 1 s to at most 5 min, with
 *    jitter; once back, its pair is synced. A failed sync is retried
 *    after the same kind of wait. None of these ends the watcher.
 *  - *o->signal is main()'s interrupt flag. SIGTERM or SIGINT: the sync
 *    under way stops at its next durable point, the connections are
 *    closed and watch_run() returns 0. SIGHUP: the watcher sets the flag
 *    back to 0 (the one place that writes it besides the handler),
 *    re-reads the configuration through o->reload and starts over with
 *    it (a full sync, new connections); a configuration that does not
 *    load, or lacks a target, is reported and the old one kept.
 *  - While nothing happens it waits in tw_ppoll() (compat.h) with the
 *    nearest deadline as timeout (at most a minute: time suspended counts
 *    for the deadlines, not for the wait): no busy loop, no file written.
 *  - *cfg is main()'s configuration; on a reload the watcher frees the
 *    old one and puts the new one there.
 *  - Returns 0 after TERM/INT, 2 when the targets are not in the
 *    configuration at start, 1 when the wait itself fails (tw_ppoll()).
 */
#ifndef TWINBOX_WATCH_H
#define TWINBOX_WATCH_H

#include "channel.h"
#include "cli.h"
#include "config/config.h"
#include "interrupt.h"

#define WATCH_DEBOUNCE_SERVER_MS	20
#define WATCH_DEBOUNCE_FS_MS	100
#define WATCH_DEBOUNCE_MAX_MS	2000
#define WATCH_BACKOFF_MIN_MS	1000
#define WATCH_BACKOFF_MAX_MS	(300 * 1000)
#define WATCH_WAKE_MAX_MS	(60 * 1000)	/* the longest sleep: a
					   resumed laptop's deadlines are
					   seen within a minute */
#define WATCH_TIMEOUT_S		60	/* an IDLE connection's waits where
					   the account's Timeout is 0 */

struct watch_opts {
	const struct cli_options *cli;		/* targets, -a */
	const struct channel_run_opts *run;	/* every sync's options (its
						   pool is not used) */
	interrupt_flag *signal;			/* main()'s flag */
	/* Re-read the configuration: 0 and *out, or -1 (reported). */
	int (*reload)(void *ctx, struct config **out);
	void *reload_ctx;
};

int watch_run(struct config **cfg, const struct watch_opts *o);

#endif
