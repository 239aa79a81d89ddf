/*
 * journal: the append-only record of every state change made during a run
 * of one mailbox pair, and its folding into the state file.
 *
 * Life of a run (docs/state-format.md):
 *   state_load()     read the state file, replay the journal over it;
 *   journal_open()   continue (or start) the journal for this run;
 *   journal_append() one record per change, applied to the state at once;
 *   journal_flush()  at batch boundaries: one write and one fsync;
 *   journal_fold()   after a successful run: new state file, then the
 *                    journal is removed.
 *
 * Contract:
 *  - Reading never changes anything on disk. A damaged line (no '\n', a
 *    bad checksum, zeros) is what a crash leaves of the writes after the
 *    last durable flush; it and every line after it are discarded with a
 *    warning, never replayed past. A well-sealed line that does not parse
 *    or does not fit the state is an error "PATH:LINE: bad record: ...".
 *  - The journal's "base" record names the state file generation it
 *    extends. A journal whose base is one below the state file's generation
 *    was already folded (the crash came between the rename of the new state
 *    file and the removal of the journal) and is ignored.
 *  - struct journal is owned by the caller from journal_open() until
 *    journal_close() or journal_fold(), which always release it. It points
 *    to the caller's sync_state, which must outlive it.
 *  - journal_append() buffers; a record is durable only after the next
 *    journal_flush(). The executor flushes before acting on a store for the
 *    intents it just recorded (write-ahead).
 */
#ifndef TWINBOX_SYNC_JOURNAL_H
#define TWINBOX_SYNC_JOURNAL_H

#include <stddef.h>

#include "util/buf.h"
#include "util/log.h"
#include "sync/state.h"

/* What replay found; journal_open() needs it to continue the file. */
struct journal_info {
	int found;		/* a journal file exists */
	int stale;		/* it was already folded: ignored */
	int usable;		/* it has its header and base: append to it */
	int torn;		/* a torn tail was discarded */
	size_t nrecs;		/* records applied */
	size_t good_len;	/* bytes up to the end of the last good line */
};

/*
 * Replay the journal at path over st, which holds the state file just read.
 * On error st holds part of the journal and must be discarded.
 */
int journal_replay(const char *path, struct sync_state *st,
    struct journal_info *info, const struct logger *lg, struct buf *err);

/*
 * Read the state file (a missing one is an empty state, generation 0) and
 * replay the journal. st must be initialised and empty; on error it is
 * left empty. info may be NULL.
 */
int state_load(const char *state_path, const char *journal_path,
    struct sync_state *st, struct journal_info *info,
    const struct logger *lg, struct buf *err);

struct journal;

/*
 * Open the journal for appending. info is what journal_replay() (or
 * state_load()) reported for the same path and st. A usable journal is
 * continued after its last good line (a torn tail is cut off); otherwise a
 * fresh journal is created with its header and base, durably.
 */
int journal_open(const char *path, struct sync_state *st,
    const struct journal_info *info, const struct logger *lg,
    struct journal **out, struct buf *err);

/* Apply rec to the state and queue its line. If the record does not fit
 * the state, nothing is applied or queued and -1 is returned. */
int journal_append(struct journal *j, const struct journal_rec *rec,
    struct buf *err);

/* Write the queued lines and fsync them. */
int journal_flush(struct journal *j, struct buf *err);

/* Flush, close and free j (even on error). */
int journal_close(struct journal *j, struct buf *err);

/*
 * After a successful run: flush the journal, write the state as the next
 * generation of the state file at state_path, then remove the journal and
 * fsync the directory. j is released in every case. On failure the
 * journal stays on disk and the next run replays it. keep_as, normally
 * NULL, names where the folded journal is kept instead of being removed:
 * the tests replay it to prove that the journal alone rebuilds the state.
 */
int journal_fold(struct journal *j, const char *state_path,
    const char *keep_as, struct buf *err);

#endif
