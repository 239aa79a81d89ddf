/*
 * policy: what a channel allows the sync planner to do to a mailbox pair.
 *
 * Contract:
 *  - A struct sync_policy is plain data, owned by whoever fills it (the
 *    configuration loader, a test); the planner only reads it.
 *  - Operations are per direction and indexed by the SOURCE side:
 *    ops[SIDE_FAR] is mbsync's "Pull" (far -> near), ops[SIDE_NEAR] its
 *    "Push" (near -> far). "Sync All" sets every bit in both.
 *  - Sizes and counts of 0 mean "no limit".
 *  - sync_policy_default() gives mbsync's defaults (Sync All, Expunge
 *    None, no limits) plus the mass-deletion guard thresholds of
 *    DESIGN.md invariant 7.
 */
#ifndef TWINBOX_SYNC_POLICY_H
#define TWINBOX_SYNC_POLICY_H

#include <stdint.h>

#include "sync/state.h"

/* Per-direction operations (mbsync's Sync keywords). */
enum sync_op {
	SYNC_NEW = 1u << 0,	/* copy messages that appeared on the source */
	SYNC_RENEW = 1u << 1,	/* retry messages skipped for MaxSize */
	SYNC_GONE = 1u << 2,	/* mbsync "Delete"/"Gone": propagate removals */
	SYNC_FLAGS = 1u << 3,	/* propagate flag changes */
	SYNC_ALL = SYNC_NEW | SYNC_RENEW | SYNC_GONE | SYNC_FLAGS
};

/* Bit of one side in sync_policy.expunge. */
#define SYNC_EXPUNGE_SIDE(side) (1u << (side))

struct sync_policy {
	unsigned ops[2];	/* enum sync_op bits, indexed by source side */
	unsigned expunge;	/* SYNC_EXPUNGE_SIDE bits: where \Deleted
				 * messages are removed for good */
	unsigned expunge_solo;	/* ExpungeSolo, SYNC_EXPUNGE_SIDE bits: where
				 * \Deleted messages with no counterpart on
				 * the other side (none, or being expunged
				 * there) are removed for good */
	uint64_t max_size[2];	/* bytes, indexed by the TARGET side: a
				 * bigger message is not copied there */
	uint32_t max_messages;	/* near side keeps the N newest far messages
				 * (by UID) plus older important ones;
				 * older read, unflagged copies expire */
	int expire_unread;	/* ExpireUnread: 1 unread ones expire too,
				 * 0 they never do, -1 not set (mbsync's
				 * default: as 0, but a mailbox where unread
				 * ones fill over half the window stops) */
	/* Trash (mbsync's store option), per side: trash_box[S] (borrowed;
	 * NULL: none) receives a copy of every message expunged on S
	 * before the expunge, or, with S's bit (SYNC_EXPUNGE_SIDE) in
	 * trash_new_only, of those never propagated only. */
	const char *trash_box[2];
	unsigned trash_new_only;
	/* TrashRemoteNew: with S's bit, a message never propagated to S
	 * that the other side expunges, having no Trash of its own, is
	 * copied into trash_box[S] first (if it fits S's max_size). */
	unsigned trash_remote_new;
	/* Mass-deletion guard (DESIGN.md invariant 7): a side whose
	 * losses, counted against its records, are above both
	 * guard_wiped_over and guard_wiped_percent, or (with more than
	 * guard_large_over records) above guard_large_percent, stops the
	 * mailbox. A percentage of 100 turns its rule off. */
	uint32_t guard_wiped_over;	/* messages lost, default 10 */
	unsigned guard_wiped_percent;	/* of the records, default 90 */
	uint32_t guard_large_over;	/* records, default 100 */
	unsigned guard_large_percent;	/* of the records, default 50 */
	int allow_mass_delete;		/* propagate deletions anyway */
};

void sync_policy_default(struct sync_policy *p);
/* A 64-bit digest of everything in p that decides the plan of a pair
 * whose sides hold exactly their records (all but the guard), never 0: a
 * pair skipped without opening it (sync/plan_known.c) must have been
 * brought up to date under the same policy. */
uint64_t sync_policy_digest(const struct sync_policy *p);

#endif
