/*
 * mailbox: one sync of one mailbox pair, from start to end, one path for
 * every run:
 *   quiet check (the state file's head and both stores' peek(): a pair
 *   with nothing to do is not even opened) -> lock -> load the state and
 *   replay the journal (or adopt mbsync's state) -> open and scan both
 *   sides -> settle UID clashes -> choose the journal mode -> resolve
 *   interrupted copies -> plan (with fingerprints when the plan asks for
 *   them) -> execute -> commit (fold the journal, or write the state file
 *   alone).
 * The journal mode says what the run writes: nothing (a dry run, or a
 * plan with nothing to do), the state file alone (a plan without copies),
 * or the journal first and the state file from it (copies, or a journal
 * an earlier run left). A dry run writes nothing, not even the lock file.
 *
 * Contract: the job's pointers are borrowed. Both stores must exist and be
 * free to open a mailbox (this closes whatever they had open). Returns 0,
 * or -1 with one line in err saying what failed (the caller names the
 * mailbox pair); the state on disk is then whatever the journal holds,
 * which the next run resumes. A run that returns 0 with stats->failed
 * above 0 completed, but some messages failed for this run (each was
 * reported already): the caller counts the pair as failed.
 */
#ifndef TWINBOX_SYNC_MAILBOX_H
#define TWINBOX_SYNC_MAILBOX_H

#include "util/buf.h"
#include "interrupt.h"
#include "util/log.h"
#include "store.h"
#include "sync/crash.h"
#include "sync/exec.h"
#include "sync/policy.h"
#include "sync/state_path.h"

/* The sides' statuses as the channel's listing found them (peek());
 * known[s]: st[s] came. */
struct pair_listing {
	struct mbox_status st[2];
	int known[2];
};

struct mailbox_job {
	struct store *store[2];
	const char *box[2];		/* the mailbox name on each side */
	const char *label;		/* "channel:box", for messages */
	const struct sync_policy *policy;
	const struct state_paths *paths;
	int dry_run;
	unsigned lock_wait;		/* seconds to wait for the pair lock
					   another process holds (LockWait);
					   0: fail at once */
	struct crash_point *crash;	/* may be NULL */
	const interrupt_flag *stop;	/* may be NULL; see interrupt.h */
	const char *keep_journal;	/* tests: keep the folded journal
					   here; NULL: remove it */
	const struct logger *lg;
	const struct sync_progress *progress;	/* may be NULL */
	/* Where mbsync may keep this pair's state (sync/mbsync_state.h);
	   NULL or empty: nothing to adopt. When twinbox has no state of
	   its own for the pair, the first of them that exists is adopted:
	   read, written as twinbox's state (not in a dry run), and counted
	   in *adopted (may be NULL). mbsync's files are only read. */
	const struct strlist *mbsync_states;
	int *adopted;
	/* NULL: the stores' peek() is asked. Else what the channel's
	   listing told of the pair (sync_mailbox_quiet()), for a worker
	   whose own connection did not list. */
	const struct pair_listing *listed;
	/* May be NULL; see struct mailbox_next. */
	const struct mailbox_next *next;
};

/*
 * Pipelining from one pair to the next over the same stores: the run
 * calls stores_free(ctx) at most once, on its own thread, from the
 * point where it will call no store that sends its open() ahead
 * (open_begin()) any more: once its plan is known to leave them alone
 * (a plan that changes only the other side), else once the plan is
 * carried out, before the state is written. It is not called after a
 * failure. The caller may then mailbox_begin() the next pair's run,
 * early, over the same stores, so that its SELECT is answered while
 * this run renames files and writes its state.
 */
struct mailbox_next {
	void (*stores_free)(void *ctx);
	void *ctx;
};

/*
 * Only the first step of sync_mailbox(): 1 if the pair needs nothing this
 * run, told by its state file's head and both stores' peek() with
 * nothing opened, locked or written (then a dry run says so); 0 if it
 * must be synced; -1 with err when a store failed. What a channel whose
 * pairs sync on several connections asks first, so that a pair with
 * nothing to do costs no connection of its own. *listed is what the
 * peeks told (nothing known when the state file has no head), for the
 * job that syncs the pair.
 */
int sync_mailbox_quiet(const struct mailbox_job *job,
    struct pair_listing *listed, struct buf *err);

int sync_mailbox(const struct mailbox_job *job, struct exec_stats *stats,
    struct buf *err);

/*
 * sync_mailbox() in two calls, mailbox_begin() then mailbox_finish(), each
 * called once, on one thread. mailbox_begin() takes the steps up to the
 * opens sent ahead (quiet check, lock, state, open_begin()) and never
 * fails: a failure is kept for mailbox_finish(), which takes the steps
 * left, returns as sync_mailbox() does and frees the run.
 * With early (called from another run's stores_free()): the pair lock is
 * tried once, and when another process holds it the run stops before it
 * (mailbox_finish() waits for it as sync_mailbox() does). Of a store
 * without open_begin(), which the other run still uses, only peek() is
 * called (the quiet check of a job without a listing), which reads the
 * mailbox's status and changes nothing. A begun run is a started run:
 * it is always finished.
 */
struct mailbox_run;
struct mailbox_run *mailbox_begin(const struct mailbox_job *job, int early);
int mailbox_finish(struct mailbox_run *r, struct exec_stats *stats,
    struct buf *err);

/* Append the one-line summary of stats ("" when nothing happened):
 * "far->near: C copied, F flagged, E expunged; near->far: ...", where
 * far->near counts what changed on the near side. */
void sync_describe_stats(const struct exec_stats *stats, struct buf *out);

#endif
