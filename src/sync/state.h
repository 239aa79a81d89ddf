/*
 * state: what twinbox remembers about one mailbox pair between runs.
 *
 * In memory a sync_state is the recorded truth of the last sync: the
 * UIDVALIDITY of both sides, the highest UID of each side that has been
 * dealt with, and one pair record per message known on both sides (or
 * deliberately known on one side only, such as a message skipped for
 * MaxSize). The planner reads it; only the executor changes it, and it does
 * so exclusively through state_apply(), by journal records, so that
 * replaying the journal over the last state file rebuilds exactly the
 * state the run had in memory.
 *
 * On disk (docs/state-format.md): a state file, written whole at the end of
 * a successful run (new file, fsync, rename, fsync directory), and an
 * append-only journal of records written during the run and folded into
 * the state file at the end.
 *
 * Contract:
 *  - A sync_state is initialised with state_init() (or zeroed) and owns its
 *    pairs and intents arrays until state_free().
 *  - pairs is sorted by (uid[SIDE_FAR], uid[SIDE_NEAR]); no pair has both
 *    UIDs 0; a non-zero UID of a side appears in at most one pair.
 *    state_apply() keeps the order and checks the far side per record;
 *    the near side uniqueness costs a sort and is checked by
 *    state_check(), which the loaders run once after reading.
 *  - intents (pending copies) is sorted by (src, src_uid), at most one per
 *    source message. A copy intent stays pending until a copy-done record
 *    turns it into a pair or a copy-abort record drops it; a run that
 *    starts with pending intents must resolve them first (look for the
 *    planned UID, or the fingerprint at or above the recorded UIDNEXT).
 *  - settled[s], when set, says that at the UIDNEXT and HIGHESTMODSEQ it
 *    names side s held exactly the messages of the pairs with a UID on
 *    that side, with the pairs' flags: a later status that matches needs
 *    no scan (sync/plan_known.c). It is set only by a JR_SETTLED record,
 *    and every record that changes the pairs or a UIDVALIDITY clears both
 *    sides' marks, so it can never outlive the pairs it describes.
 *  - maxuid[s] never passes a message of side s that was neither copied
 *    (a record holds it) nor confirmed gone by its store (DESIGN.md
 *    invariant 8): every message above maxuid that no record holds is new
 *    to the next plan, every one at or below it is settled for good. A
 *    copy that fails in a run therefore keeps maxuid below its message;
 *    the executor checks this before it records a maxuid or a UIDVALIDITY
 *    and fails the mailbox rather than write a state that breaks it
 *    (sync/exec.c, check_wanted()).
 *  - generation counts the state files written for this pair (0: none
 *    yet); the journal names the generation it extends, so that a journal
 *    left behind by a crash after a fold is recognised as already folded.
 */
#ifndef TWINBOX_SYNC_STATE_H
#define TWINBOX_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum side { SIDE_FAR = 0, SIDE_NEAR = 1 };

/* "far" and "near", indexed by enum side: the one spelling of the
 * sides in messages, the journal and the state file. */
extern const char *const side_names[2];

/* Status bits of a pair record. */
enum pair_status {
	/* Not copied because of MaxSize; the message lives on one side only
	 * and is not reconsidered unless the limit changes. */
	PAIR_TOO_BIG = 1u << 0,
	/* Marked \Deleted on the surviving side because the other side lost
	 * the message; the pair is forgotten once it is gone there too. */
	PAIR_GONE_MARKED = 1u << 1,
	/* Beyond MaxMessages on the near side: kept on far only. With
	 * both UIDs: the near copy is being expired (plan_pair.c). */
	PAIR_EXPIRED = 1u << 2,
	/* Copied to the far (near) store's Trash mailbox before an expunge
	 * there: the expunge that follows never copies it again. */
	PAIR_TRASHED_FAR = 1u << 3,
	PAIR_TRASHED_NEAR = 1u << 4
};
#define PAIR_TRASHED(side) ((side) == SIDE_FAR ? PAIR_TRASHED_FAR : \
    PAIR_TRASHED_NEAR)
#define PAIR_TRASHED_BOTH (PAIR_TRASHED_FAR | PAIR_TRASHED_NEAR)
#define PAIR_ALL_STATUS (PAIR_TOO_BIG | PAIR_GONE_MARKED | PAIR_EXPIRED | \
    PAIR_TRASHED_BOTH)

struct pair_rec {
	uint32_t uid[2];	/* indexed by enum side; 0 = not on that side */
	unsigned flags;		/* flags both sides had after the last sync */
	unsigned status;	/* enum pair_status bits */
};

/*
 * A copy that was started and not yet known to be finished. The target is
 * the side other than src. For recovery the intent keeps what the target
 * looked like before the copy: the UID the target chose in advance
 * (Maildir), or the target's UIDNEXT before an APPEND (IMAP), and the
 * message's fingerprint to recognise it among the UIDs at or above it.
 */
struct copy_intent {
	enum side src;		/* the side copied from */
	uint32_t src_uid;
	unsigned flags;		/* flags the copy is stored with */
	uint32_t planned_uid;	/* target UID known before delivery; 0 = no */
	uint32_t uidnext;	/* target UIDNEXT before the copy; 0 = unknown */
	uint64_t size;		/* fingerprint: size in bytes */
	uint64_t hash;		/* fingerprint: Message-ID / header hash */
};

/* See settled in the contract above; uidnext 0 = no mark. */
struct side_mark {
	uint32_t uidnext;
	uint64_t modseq;
};

struct sync_state {
	uint32_t uidvalidity[2];	/* 0 = never synced */
	uint32_t maxuid[2];		/* highest UID handled on each side */
	uint64_t highestmodseq[2];	/* 0 = unknown */
	struct side_mark settled[2];	/* uidnext 0 = none */
	struct pair_rec *pairs;		/* sorted by uid[SIDE_FAR], then near */
	size_t npairs;
	size_t cap;
	struct copy_intent *intents;	/* pending copies, sorted */
	size_t nintents;
	size_t intents_cap;
	uint64_t generation;		/* state files written so far */
	/* The digest of the sync policy (sync_policy_digest()) under
	 * which the run that wrote the file carried out its whole plan;
	 * 0: none (a run with a failure, or a version 1 file). Not a
	 * journal record: the run sets it before the state is written,
	 * and state_equal() ignores it. */
	uint64_t policy;
};

/*
 * The first lines of a version 2 state file: what deciding to skip a
 * pair without opening it needs (sync/plan_known.c, plan_pair_quiet()),
 * read without the pairs that follow (state_read_head()).
 */
struct state_head {
	uint64_t generation;
	uint32_t uidvalidity[2];
	struct side_mark settled[2];
	size_t count[2];	/* pairs with a UID on each side */
	size_t nintents;
	uint64_t policy;
};

/* One change of a sync_state: a line of the journal. */
enum journal_kind {
	JR_UIDVALIDITY,		/* side, value */
	JR_MAXUID,		/* side, value */
	JR_HIGHESTMODSEQ,	/* side, value */
	JR_PAIR_NEW,		/* pair (uids, flags, status) */
	JR_PAIR_FLAGS,		/* pair.uid[] names the pair; pair.flags */
	JR_PAIR_STATUS,		/* pair.uid[] names the pair; pair.status */
	JR_PAIR_FORGET,		/* pair.uid[] names the pair */
	JR_COPY_INTENT,		/* copy (all fields) */
	JR_COPY_DONE,		/* copy.src, copy.src_uid, target_uid */
	JR_COPY_ABORT,		/* copy.src, copy.src_uid: it did not happen */
	JR_SETTLED		/* side, mark */
};

struct journal_rec {
	enum journal_kind kind;
	enum side side;
	uint64_t value;
	struct pair_rec pair;
	struct copy_intent copy;
	uint32_t target_uid;
	struct side_mark mark;
};

void state_init(struct sync_state *st);
void state_free(struct sync_state *st);

/*
 * Apply one record: the only way a sync_state changes. Returns 0, or -1
 * with err set to a description of why the record does not fit the state
 * (unknown pair, duplicate UID, value out of range); st is then unchanged.
 */
int state_apply(struct sync_state *st, const struct journal_rec *rec,
    struct buf *err);

/* Whole-state invariants that state_apply() does not check per record
 * (near UIDs unique). 0, or -1 with err set. */
int state_check(const struct sync_state *st, struct buf *err);

/* Lookups; NULL if absent. Pointers are valid until the next change. */
const struct pair_rec *state_find_pair(const struct sync_state *st,
    uint32_t far_uid, uint32_t near_uid);
const struct pair_rec *state_find_far(const struct sync_state *st,
    uint32_t far_uid);
const struct copy_intent *state_find_intent(const struct sync_state *st,
    enum side src, uint32_t src_uid);

/* How many pairs have a UID on side s. */
size_t state_count_side(const struct sync_state *st, enum side s);

/* 1 if both states hold exactly the same data (generation included). */
int state_equal(const struct sync_state *a, const struct sync_state *b);

/*
 * The state file. state_read() fills an initialised, empty st from path;
 * a missing file is not an error: *found is set to 0 and st stays empty.
 * Any other problem is an error "PATH:LINE: ..." and st is left empty.
 * state_write() writes st to path atomically: PATH.new, fsync, rename over
 * PATH, fsync the directory. On failure PATH is untouched (a leftover
 * PATH.new is removed when possible). Output is deterministic.
 * state_write_rebuildable() does the same without the directory's fsync,
 * for a state that the stores let the next run rebuild (a run without
 * copies): a crash may then leave PATH the previous file, whole, as if
 * the run had died before writing it (docs/state-format.md, section 4).
 * Whoever later writes a file whose meaning depends on the new one (a
 * journal based on its generation) fsyncs the directory first.
 */
int state_read(const char *path, struct sync_state *st, int *found,
    struct buf *err);
int state_write(const char *path, const struct sync_state *st,
    struct buf *err);
int state_write_rebuildable(const char *path, const struct sync_state *st,
    struct buf *err);
/*
 * The head of the state file at path, without its pairs: 1 and *h
 * filled; 0 when there is no file or it cannot tell (a version 1 file,
 * any damage to the head, a last line that is not an end record fitting
 * the head's counts, as in a file cut short or ending in zeros: the full
 * reader then says what is wrong); -1 with err when the file cannot be
 * read at all. It reads the file's first 4 KiB and its last line.
 */
int state_read_head(const char *path, struct state_head *h,
    struct buf *err);
/* The file text state_write() would write, appended to out. */
void state_format(const struct sync_state *st, struct buf *out);

#endif
