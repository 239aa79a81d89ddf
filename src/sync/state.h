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
 */
#ifndef TWINBOX_SYNC_STATE_H
#define TWINBOX_SYNC_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum side { SIDE_FAR = 0, SIDE_NEAR = 1 };

/* Status bits of a pair record. */
enum pair_status {
	/* Not copied because of MaxSize; the message lives on one side only
	 * and is not reconsidered unless the limit changes. */
	PAIR_TOO_BIG = 1u << 0,
	/* Marked \Deleted on the surviving side because the other side lost
	 * the message; the pair is forgotten once it is gone there too. */
	PAIR_GONE_MARKED = 1u << 1,
	/* Beyond MaxMessages on the near side: kept on far only. */
	PAIR_EXPIRED = 1u << 2
};

struct pair_rec {
	uint32_t uid[2];	/* indexed by enum side; 0 = not on that side */
	unsigned flags;		/* flags both sides had after the last sync */
	unsigned status;	/* enum pair_status bits */
};

struct sync_state {
	uint32_t uidvalidity[2];	/* 0 = never synced */
	uint32_t maxuid[2];		/* highest UID handled on each side */
	uint64_t highestmodseq[2];	/* 0 = unknown */
	struct pair_rec *pairs;		/* sorted by uid[SIDE_FAR], then near */
	size_t npairs;
	size_t cap;
};

#endif
