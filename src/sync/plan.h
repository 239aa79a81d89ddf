/*
 * plan: the sync planner, a pure function from (recorded state, far scan,
 * near scan, channel policy) to a list of operations. It does no I/O,
 * keeps no globals and gives the same plan for the same input.
 * docs/sync-rules.md is the rules table as implemented.
 *
 * Contract:
 *  - Inputs are borrowed for the duration of plan_mailbox() only. Scans
 *    must be sorted by UID (as store scans are). Fingerprint arrays, when
 *    given, are aligned with the scans (fp[i] describes scan->v[i]); an
 *    entry {0, 0} (not fetched, or vanished) matches nothing.
 *  - PLAN_NEED_FINGERPRINTS asks for fingerprints and another call: of
 *    every message when a side's UIDs are distrusted, or (fp_some) of the
 *    listed UIDs only, when both sides hold new messages that no record
 *    holds (first contact, DESIGN invariant 9: they are paired by content
 *    before anything is copied). On first contact it asks first for
 *    header hashes (fp_headers; from a store without fetch_headers() the
 *    hash of a full fingerprint serves), then for the fingerprints of
 *    the messages whose header hash the other side's new ones share.
 *  - The caller owns the struct plan; plan_init() before first use,
 *    plan_free() at the end. plan_mailbox() resets the plan it is given,
 *    so one struct plan may be reused for many mailboxes.
 *  - The executor applies the operations in array order, which is chosen
 *    for crash safety (see "Order" below) and never reordered.
 *  - A new message of size 0 (an empty Maildir file, which is no message;
 *    sizes of new messages are always reported, struct scan_hint) is not
 *    copied: it goes to plan.empty instead of the operations, and maxuid
 *    of its side stays below it (PLAN_SET_MAXUID says so), so that it
 *    stays new and is copied once it has content. Nor is it compared at
 *    first contact. So a mailbox pair whose only news are empty messages
 *    has an empty plan.
 *
 * Meaning of each operation for the executor:
 *  PLAN_COPY        copy message uid of side `side` to the other side with
 *                   flags `flags`, then record the pair {uid, new uid} with
 *                   base `flags` and status 0. If a record already holds uid
 *                   on the source side with no UID on the target side (a
 *                   message skipped earlier), that record is completed
 *                   instead of adding a second one.
 *  PLAN_SET_FLAGS   on side `side`, message uid: add `add`, remove `del`.
 *  PLAN_EXPUNGE     on side `side`, remove message uid (it has \Deleted by
 *                   then: a preceding PLAN_SET_FLAGS adds it if needed).
 *  PLAN_NEW_PAIR    add record `rec` (re-pairing after a UIDVALIDITY change
 *                   or a server that went back in time; a message found on
 *                   both sides on first contact).
 *  PLAN_SKIP        add the one-sided record `rec` (status PAIR_TOO_BIG or
 *                   PAIR_EXPIRED) so the message is not reconsidered.
 *  PLAN_UPDATE_PAIR replace the record whose UIDs are `key` by `rec` (new
 *                   base flags, a status, or a side that is now gone; on
 *                   first contact, the other side's UID of a held-back
 *                   message found there).
 *  PLAN_FORGET      drop the record whose UIDs are `key`.
 *  PLAN_SET_MAXUID  state maxuid[side] = value.
 *  PLAN_SET_UIDVALIDITY state uidvalidity[side] = value.
 *  PLAN_TRASH       copy message uid of side `side` into that store's
 *                   Trash mailbox (policy trash_box); once the copy is
 *                   committed, replace the record whose UIDs are `key`
 *                   by `rec` (key {0, 0}: add the one-sided record rec),
 *                   which says PAIR_TRASHED(side). If the copy fails, the
 *                   message is not expunged and no record of this plan
 *                   drops it.
 *  PLAN_TRASH_REMOTE as PLAN_TRASH, but the message of side `side` goes
 *                   into the OTHER store's Trash mailbox (TrashRemoteNew)
 *                   and rec says PAIR_TRASHED(!side).
 * Records are identified by both UIDs (key), never by position.
 *
 * Order (crash safety): re-pair records, then copies and skip records, then
 * flag changes, then trash copies, then expunges, then pair updates and
 * forgets, then maxuid and uidvalidity. A base is recorded only after the flags it describes
 * were written to both sides; a side's gone-ness only after its expunge;
 * maxuid and uidvalidity last, so a run cut anywhere leaves a state that
 * the next plan repairs without loss or duplicates (an unfinished re-pair
 * keeps the old UIDVALIDITY and is redone from scratch).
 */
#ifndef TWINBOX_SYNC_PLAN_H
#define TWINBOX_SYNC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "store.h"
#include "sync/policy.h"
#include "sync/state.h"

/* What identifies a message across stores when UIDs cannot be trusted:
 * its size and a hash of its identifying headers (the caller's choice of
 * headers; Message-ID first). */
struct fingerprint {
	uint64_t size;
	uint64_t hash;
};

/* The hash part of a fingerprint read from the header alone (first
 * contact's cheap pass): equal to the fingerprint's hash. have = 0: not
 * read, or the message vanished; it matches nothing. */
struct header_hash {
	uint64_t hash;
	int have;
};

struct plan_side {
	const struct msg_list *scan;		/* sorted by UID; required */
	const struct mbox_status *status;	/* required */
	const struct fingerprint *fp;	/* aligned with scan->v, or NULL */
	const struct header_hash *hh;	/* aligned with scan->v, or NULL */
};

struct plan_input {
	const struct sync_state *state;
	struct plan_side side[2];		/* indexed by enum side */
	const struct sync_policy *policy;
};

enum plan_status {
	PLAN_OK = 0,		/* ops is the plan (possibly empty) */
	PLAN_NEED_FINGERPRINTS,	/* call again with fp of both sides */
	PLAN_REFUSED		/* mass-deletion guard, or unread messages
				 * beyond MaxMessages without ExpireUnread:
				 * why explains, no ops */
};

enum plan_op_kind {
	PLAN_COPY,
	PLAN_SET_FLAGS,
	PLAN_EXPUNGE,
	PLAN_NEW_PAIR,
	PLAN_SKIP,
	PLAN_UPDATE_PAIR,
	PLAN_FORGET,
	PLAN_SET_MAXUID,
	PLAN_SET_UIDVALIDITY,
	PLAN_TRASH,
	PLAN_TRASH_REMOTE,
	PLAN_OP_KINDS
};

struct plan_op {
	enum plan_op_kind kind;
	enum side side;		/* COPY: source; others: the side acted on */
	uint32_t uid;		/* COPY, SET_FLAGS, EXPUNGE */
	unsigned flags;		/* COPY: flags given to the copy */
	unsigned add, del;	/* SET_FLAGS */
	uint32_t value;		/* SET_MAXUID, SET_UIDVALIDITY */
	uint32_t key[2];	/* UPDATE_PAIR, FORGET, TRASH: the record's
				 * UIDs */
	struct pair_rec rec;	/* NEW_PAIR, SKIP, UPDATE_PAIR, TRASH */
};

/* Why a side's UIDs were not trusted. */
enum plan_distrust {
	DISTRUST_NONE = 0,
	DISTRUST_UIDVALIDITY,	/* UIDVALIDITY differs from the state's */
	DISTRUST_UIDNEXT,	/* UIDNEXT at or below the recorded maxuid */
	DISTRUST_MODSEQ		/* HIGHESTMODSEQ below the recorded one */
};

/* A growable array of UIDs. */
struct uid_vec {
	uint32_t *v;
	size_t n, cap;
};

/* Appends uid to v, which grows; the owner frees v->v. */
void uid_vec_push(struct uid_vec *v, uint32_t uid);

/* What the fingerprint comparison did, for the user. */
struct plan_repair {
	enum plan_distrust reason[2];
	size_t repaired;	/* pairs (re-)made by fingerprint */
	size_t unmatched[2];	/* messages with no match, per side */
};

struct plan {
	enum plan_status status;
	struct plan_op *ops;
	size_t n, cap;
	struct buf why;		/* REFUSED, NEED_FINGERPRINTS: one line */
	unsigned need_fp;	/* NEED_FINGERPRINTS: 1u << side bits */
	/* NEED_FINGERPRINTS on first contact: fingerprints (or header
	 * hashes, fp_headers) of the UIDs in fp_uids[side] only
	 * (ascending); the others' may be {0, 0}. 0: fingerprints of every
	 * message of the sides in need_fp. */
	int fp_some;
	/* With fp_some: header hashes (struct header_hash) of fp_uids are
	 * asked for, not yet fingerprints. */
	int fp_headers;
	struct uid_vec fp_uids[2];
	struct plan_repair repair;
	/* PLAN_OK: the new messages of each side that are empty (size 0),
	 * ascending: not copied and kept new; the caller only warns. */
	struct uid_vec empty[2];
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/* Plan one mailbox pair. Returns (and stores in p->status) the status. */
enum plan_status plan_mailbox(const struct plan_input *in, struct plan *p);

/* Number of operations of one kind. */
size_t plan_count(const struct plan *p, enum plan_op_kind kind);

/* 1 if carrying out p calls nothing on side s's store: only operations
 * on the state, and flag changes and expunges on the other side (a copy
 * or a Trash copy reads one side and writes the other). */
int plan_leaves_side(const struct plan *p, enum side s);

/* Append one human line (no newline) describing op, e.g.
 * "copy far->near uid 17 (flags S)". */
void plan_describe_op(const struct plan_op *op, struct buf *out);

/* Append a one-line summary: counts of copies, flag changes, expunges,
 * and what a fingerprint re-pairing found; "" for an empty plan. */
void plan_describe_summary(const struct plan *p, struct buf *out);

/*
 * The scan hint for side s (store.h): sizes and dates of every message
 * that plan_mailbox() may read them of (recovery reads none), given the
 * state and both sides' status from open(). Everything when a side's
 * UIDs are distrusted. A status not known yet (NULL: the other side's
 * open() still under way) counts as trusted: a scan made with that hint
 * stands only if the hint made once both are known is the same
 * (plan_scan_hint_same()). out owns the hint's arrays;
 * plan_scan_hint_free() releases them.
 */
struct plan_scan_hint {
	struct scan_hint hint;
	struct uid_vec sizes;	/* the hint's size_uids */
	struct uid_vec skip;	/* the hint's skip_uids */
};

void plan_scan_hint(const struct sync_state *st,
    const struct mbox_status *status[2], enum side s,
    struct plan_scan_hint *out);
void plan_scan_hint_free(struct plan_scan_hint *h);
/* 1 if a and b want the sizes and dates of the same messages. */
int plan_scan_hint_same(const struct scan_hint *a, const struct scan_hint *b);

/*
 * Scans that the state can stand in for (sync/plan_known.c). A side with
 * modification sequences (IMAP CONDSTORE) is *settled* after a run when
 * its scan showed exactly what the pairs now say of it; the run then
 * records the UIDNEXT and HIGHESTMODSEQ its open() reported (a JR_SETTLED
 * mark). A later open() that reports the same UIDVALIDITY and UIDNEXT and
 * as many messages as the pairs hold on that side proves that nothing was
 * added or removed since: the pairs are the side's messages, and only
 * the flags of those with a MODSEQ above the mark may differ.
 */

/* 1 if scan (side s, sorted) holds exactly the messages of the pairs
 * with a UID on side s, each with its pair's flags, and the messages of
 * left (NULL: none), which no record holds. A stamp side passes the
 * empty messages its plan left (plan.empty) as left: new, held by no
 * record and left as they are, so its mark allows for them (a side with
 * modification sequences passes NULL: its mark vouches by the count). */
int plan_side_settled(const struct sync_state *st,
    const struct msg_list *scan, enum side s, const struct uid_vec *left);

/*
 * 1 if side s, now as open() reported it, may skip its scan: known is
 * then filled with the pairs' messages of that side (uid and pair flags,
 * sorted) and *since with the mark's HIGHESTMODSEQ, after which changed
 * flags must be asked for (none if now->highestmodseq equals it). 0 when
 * a scan is needed: no mark, a status that differs, pending copies, or a
 * message whose size the hint wants.
 */
int plan_known_scan(const struct sync_state *st,
    const struct mbox_status *now, enum side s, const struct scan_hint *hint,
    struct msg_list *known, uint64_t *since);

/*
 * A side without modification sequences but with a stamp (a Maildir
 * folder: mbox_status.stamp) is settled the same way, with the stamp in
 * the mark's place of HIGHESTMODSEQ. plan_mark_value() is what a mark of
 * side now records: its HIGHESTMODSEQ, else its stamp (0: no mark can be
 * earned). plan_stamp_holds() is 1 when now's stamp is not 0 and equals
 * the mark's, with the mark's UIDNEXT, the state's UIDVALIDITY and no
 * pending copy: nothing in the folder changed since the listing the mark
 * was earned by, not even a flag. plan_known_scan() then stands in for
 * its scan, with *since the stamp. Such a mark allows for the empty
 * messages that listing left (plan_side_settled()); the pairs' messages
 * standing in for the listing leave them out, so a run that does not list
 * the folder does not see them, and the next listing finds them new again.
 */
uint64_t plan_mark_value(const struct mbox_status *now);
int plan_stamp_holds(const struct sync_state *st,
    const struct mbox_status *now, enum side s);

/*
 * Pairs the state file's head alone can call up to date, without opening
 * either side (sync/plan_known.c; docs/sync-rules.md). now is a side's
 * status as its store's peek() reported it.
 *
 * plan_side_quiet(): 1 if side s is exactly as it was when it earned its
 * mark. A side with modification sequences (IMAP): the same UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ as the mark (equal, not merely above: any
 * flag change raises it), and as many messages as the pairs hold on it.
 * A side with a stamp (Maildir): the rule of plan_stamp_holds(), the
 * stamp standing for the count.
 */
int plan_side_quiet(const struct state_head *h, const struct mbox_status *now,
    enum side s);
/*
 * plan_pair_quiet(): 1 if the pair needs nothing this run: no pending
 * copy, both sides quiet, and the state written by a run that carried
 * out its whole plan under this very policy (digest, never 0). The caller
 * checks that no journal is left.
 */
int plan_pair_quiet(const struct state_head *h,
    const struct mbox_status *now[2], uint64_t policy);

/*
 * 1 if side s has a settled mark that a store with mark() may be told
 * before open() (QRESYNC): *mark is filled, its known pointing to known,
 * which gets the pairs' messages of side s (free it after the open()).
 * Then open() may report changes_known, and plan_known_scan() accepts a
 * UIDNEXT at or above the mark's and any count.
 */
int plan_known_mark(const struct sync_state *st, enum side s,
    struct store_mark *mark, struct msg_list *known);

#endif
