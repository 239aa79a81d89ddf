/*
 * copy: stream a batch of messages from one store into another.
 *
 * The source's fetch() feeds a sink that appends to the target, so a body
 * passes through in chunks and is never held whole in memory. The target's
 * commit() then makes the whole batch durable at once (one barrier per
 * batch, not per message).
 *
 * Crash safety is the caller's through two hooks: planned(), once per
 * message when the target has the whole message queued, with the UID the
 * target chose for it (0 if it cannot tell) and the message's fingerprint
 * (the caller journals its intent: enough to find the copy again after a
 * crash), then, after every message of the batch, before commit() makes
 * any of them visible, before_commit() (the caller makes its journal
 * durable). Results come back per message.
 *
 * Contract: uids, flags, results, status and why have n entries;
 * results[i] receives the target UID (or 0 when unknown), and status[i]
 * an enum store_result: STORE_OK when the copy arrived; STORE_GONE when
 * the source store says the message vanished before it could be read;
 * STORE_REFUSED when the target refused that one message (why[i] says
 * how; the rest of the batch is not held back); STORE_EMPTY when the
 * source delivered not one byte of it (an empty Maildir file, which
 * mbsync skips too): nothing was appended, planned() was not called for
 * it; else STORE_FAILED (the
 * source could not read it this run, or never answered for it: the
 * caller keeps it wanted; or the target failed before it answered).
 * failed(), when set, hears why a source could not read a message.
 * When copy_messages() fails in the target's commit(), the statuses
 * still say which copies arrived before it failed. When it fails before,
 * appends may still be queued in the target: the caller abandons that
 * mailbox for this run and never commits it again (whatever was queued
 * is not visible and a store drops it when freed).
 */
#ifndef TWINBOX_SYNC_COPY_H
#define TWINBOX_SYNC_COPY_H

#include "store.h"
#include "sync/plan.h"

struct copy_hooks {
	/* Message index is queued in the target as planned_uid. */
	int (*planned)(void *ctx, size_t index, uint32_t planned_uid,
	    const struct fingerprint *fp, struct buf *err);
	/* Everything is written; nothing is visible yet. */
	int (*before_commit)(void *ctx, struct buf *err);
	void *ctx;
	/* Optional: the source could not read message index this run. */
	void (*failed)(void *ctx, size_t index, const char *why);
};

struct copy_batch {
	const uint32_t *uids;	/* source UIDs */
	const unsigned *flags;	/* flags the copies get */
	size_t n;
	uint32_t *results;	/* target UIDs, filled in */
	int *status;		/* enum store_result, filled in */
	struct buf *why;	/* the target's words for a refusal */
};

int copy_messages(struct store *src, struct store *dst,
    struct copy_batch *batch, const struct copy_hooks *hooks,
    struct buf *err);

#endif
