/*
 * exec: the executor. It carries out a plan (sync/plan.h) against the two
 * stores of a mailbox pair and records every step in the journal, so that
 * a run killed at any instant is resumed by the next one without loss or
 * duplicates (DESIGN.md §3).
 *
 * The write-ahead rule, for every copy: the intent (source UID, the UID
 * the target planned, or the target's UIDNEXT) is journalled and made
 * durable before the target store makes the message visible; the result
 * is journalled after. A run that starts with pending intents resolves
 * them first with exec_recover() (sync/exec_recover.c), by looking for the
 * planned UID, or the fingerprint at or above the recorded UIDNEXT, in the
 * target's scan.
 *
 * Store operations are batched: copies stream in batches of up to
 * EXEC_COPY_BATCH messages with one durability barrier each, flag changes
 * go out as one change per distinct (side, added, removed) set, and a
 * side's changes and expunges as one update() where its store has it
 * (one round trip on IMAP), else as one call per change and one expunge.
 *
 * A message that could not be copied this run does not stop the run: a
 * copy the source could not read (STORE_FAILED, see store.h) is logged,
 * one the target refused (STORE_REFUSED: it did not arrive) is reported
 * once by name with the target's words and its intent aborted. Either
 * is kept in failed[], the rest of the plan goes on, and maxuid of its
 * side stays below it, so that the next run copies it (invariant 8).
 * exec_failures() then fails the mailbox's run once the journal is
 * folded. An empty message (an empty Maildir file) is no message: the
 * planner leaves a new one out of the plan (plan.empty; it stays new),
 * and exec_warn_empty() warns of each, naming it, without failing the
 * run (mbsync skips it with a warning and exits 0). One that a copy
 * finds empty though the scan gave it a size (STORE_EMPTY) is warned of
 * the same way and kept in failed[] like a failed copy, but it does not
 * fail the run either.
 *
 * Contract: struct exec is set up by the caller, which owns every pointer
 * in it; exec_* only fill stats and failed[], which exec_free() releases.
 * On failure the journal holds everything done so far (the copies of a
 * batch whose target failed midway that the target confirmed included)
 * and the caller abandons the mailbox for this run (it closes the
 * journal, never folds it).
 */
#ifndef TWINBOX_SYNC_EXEC_H
#define TWINBOX_SYNC_EXEC_H

#include <stddef.h>

#include "util/buf.h"
#include "interrupt.h"
#include "util/log.h"
#include "store.h"
#include "sync/crash.h"
#include "sync/journal.h"
#include "sync/plan.h"
#include "sync/state.h"

#define EXEC_COPY_BATCH 1024

/* What a run did, indexed by the side that was changed. */
struct exec_stats {
	size_t copied[2];
	size_t flagged[2];
	size_t expunged[2];
	size_t trashed[2];	/* copied to that side's Trash */
	size_t empty[2];	/* empty messages (STORE_EMPTY) not
				   copied to that side */
	size_t recovered;	/* interrupted copies found complete */
	uint64_t bytes[2];	/* of the copies counted in copied[]: their
				   canonical size (fingerprint.h) */
};

/* 1 if st counts any change (the pair's summary line is not empty). */
int exec_stats_changed(const struct exec_stats *st);

/*
 * Optional progress of a run's copies, for a status line: planned() once
 * at the start of exec_plan() when the plan copies anything (how many
 * messages and how many bytes as the sources hold them), then copied()
 * for each message the target has taken (its canonical size). Called on
 * the executor's thread; the callee must not fail.
 */
struct sync_progress {
	void (*planned)(void *ctx, size_t msgs, uint64_t bytes);
	void (*copied)(void *ctx, uint64_t bytes);
	void *ctx;
};

struct exec {
	struct store *store[2];		/* both open on the mailbox pair */
	const struct mbox_status *status[2];
	/* The scans the plan was made from. Flag changes that a store
	 * carried out are written back into them, so that exec_settle()
	 * compares the pairs with what the side holds after the run. */
	struct msg_list *scan[2];
	struct sync_state *state;
	struct journal *journal;	/* NULL: a dry run, state in memory */
	struct crash_point *crash;	/* may be NULL */
	const interrupt_flag *stop;	/* may be NULL; see interrupt.h */
	const struct logger *lg;
	const char *box;		/* for messages */
	const struct sync_progress *progress;	/* may be NULL */
	struct exec_stats stats;
	/* The plan's empty messages (plan.empty; NULL: none), for
	 * exec_warn_empty(); a stamp side settles with them
	 * (plan_side_settled()). */
	const struct uid_vec *empty;
	/* Source UIDs whose copy failed this run, per side: still wanted;
	 * nfailed_empty of them were empty (STORE_EMPTY), no failure. */
	uint32_t *failed[2];
	size_t nfailed[2];
	size_t nfailed_empty;
	/* UIDs per side that an expunge left in place this run (another
	 * client cleared \Deleted meanwhile): their records stay. */
	uint32_t *kept[2];
	size_t nkept[2];
	/* Trash: each side's Trash mailbox (NULL: none); how many messages
	 * failed their trash copy this run (they are in kept[] too, so that
	 * they are neither expunged nor dropped from their records). */
	const char *trash_box[2];
	size_t ntrash_failed;
};

void exec_free(struct exec *x);
/* 0, or -1 with err saying how many messages failed this run. */
int exec_failures(const struct exec *x, struct buf *err);

/* Resolve the copies a killed run left pending; flags that a target
 * dropped from a copy found are set on it (exec_recover.c). */
int exec_recover(struct exec *x, struct buf *err);
/* Warn of each empty message of the plan (x->empty), naming it, and
 * count it in stats.empty; in every run, a dry run too. */
void exec_warn_empty(struct exec *x);
/* Carry out every operation of p, in order. Once *x->stop is set it
 * starts no other store call and fails with "interrupted". */
int exec_plan(struct exec *x, const struct plan *p, struct buf *err);

/*
 * After a successful exec_plan(): record each side's HIGHESTMODSEQ as
 * open() reported it (when it differs from the state's), and a settled
 * mark (JR_SETTLED, see
 * plan_side_settled()) for each side whose scan showed exactly what the
 * pairs now hold (a side with a stamp: and the plan's empty messages,
 * x->empty), so that the next run may skip its scan. The mark holds
 * the status open() reported, from before anything this run did: a
 * change this run made to that side either shows in the pairs (which
 * then do not match the scan: no mark) or raised its HIGHESTMODSEQ past
 * the mark, so that the next run asks for it. A side with a stamp in
 * place of HIGHESTMODSEQ (a Maildir folder) earns no mark in a run that
 * changed it: the change gave it another stamp.
 * exec_settle_due() is 1 if exec_settle() would record a mark (a new
 * HIGHESTMODSEQ alone is not worth writing a state file for).
 */
int exec_settle(struct exec *x, struct buf *err);
int exec_settle_due(const struct exec *x);

/* Journal one record (the executor's only way to change the state). */
int exec_record(struct exec *x, const struct journal_rec *rec,
    struct buf *err);

/* Batches of store operations (sync/exec_store.c). */
int exec_copy_run(struct exec *x, const struct plan_op *ops, size_t n,
    struct buf *err);
/* Flag changes fops[0..nf) (PLAN_SET_FLAGS), then expunges eops[0..ne)
 * (PLAN_EXPUNGE), either may be empty, after the journal is flushed;
 * on a store with update() (IMAP) one round trip (sync/exec_update.c). */
int exec_update_run(struct exec *x, const struct plan_op *fops, size_t nf,
    const struct plan_op *eops, size_t ne, struct buf *err);
/* u on store s: one update() where s has it, else the calls one by one. */
int exec_store_update(struct exec *x, struct store *s,
    const struct store_update *u, struct buf *err);
/* Trash copies (sync/exec_trash.c): a copy that fails keeps its message
 * (kept[]) and is reported; the run goes on. */
int exec_trash_run(struct exec *x, const struct plan_op *ops, size_t n,
    struct buf *err);
/* TrashRemoteNew (sync/exec_trash_remote.c): each message is read from
 * its side into a temporary file and stored into the other store's Trash;
 * a failure keeps the message and is reported, the run goes on. An empty
 * message (STORE_EMPTY's: no byte) has nothing to keep: it is recorded
 * as trashed without a copy, with a warning, and expunged. */
int exec_trash_remote_run(struct exec *x, const struct plan_op *ops,
    size_t n, struct buf *err);
/* The record a committed trash copy leaves (PLAN_TRASH's or
 * PLAN_TRASH_REMOTE's key and rec). */
int exec_record_trashed(struct exec *x, const struct plan_op *op,
    struct buf *err);
/* Keep uid of side: an expunge left it, or its trash copy failed. */
void exec_keep(struct exec *x, enum side side, uint32_t uid);
/* How a user finds message uid of side s: its file name, or its UID. */
void exec_message_name(struct exec *x, enum side s, uint32_t uid,
    struct buf *out);

#endif
