/*
 * maildir_barrier: which durability barrier a batch of appends gets
 * before its files are renamed into new/ or cur/ (docs/maildir.md,
 * "Crash safety of delivery"). A pure function of counts: no I/O, no
 * clock, so the rule is tested with any counts and thresholds.
 *
 * Contract:
 *  - MD_BARRIER_EACH is chosen only when every file of the batch still
 *    has its descriptor open (nheld == nfiles) and the platform has a
 *    whole-file-system flush to compare with; it fdatasync()s each file
 *    and .uidvalidity. MD_BARRIER_COMMON is the compat barrier
 *    (compat.h: tw_sync_file() on each file when it was finished, then
 *    tw_syncfs()): one syncfs() natively, per-file fsync()s without it.
 *    Both leave every file of the batch and .uidvalidity on disk;
 *    MD_BARRIER_NONE (FSync no) flushes nothing.
 *  - md_barrier_holds() says whether a finished append keeps its
 *    descriptor open for an EACH barrier: at most max_files per batch.
 */
#ifndef TWINBOX_MAILDIR_BARRIER_H
#define TWINBOX_MAILDIR_BARRIER_H

#include <stddef.h>
#include <stdint.h>

/* The thresholds; maildir_barrier_default() gives the measured ones. */
struct maildir_barrier {
	size_t max_files;	/* a batch of more files: COMMON */
	/* COMMON while the data other programs have not yet written
	   is at most this much per flush EACH would make (the batch's
	   files and .uidvalidity); negative: never */
	int64_t dirty_per_file;
};

enum md_barrier {
	MD_BARRIER_NONE,	/* FSync no */
	MD_BARRIER_EACH,	/* fdatasync() each file and .uidvalidity */
	MD_BARRIER_COMMON	/* compat.h's barrier: syncfs() natively */
};

/* What the store knows of a batch when it commits. */
struct md_batch {
	int fsync;		/* the store's FSync */
	int whole_fs;		/* tw_syncfs_is_whole_fs() */
	size_t nfiles;		/* finished appends in the batch */
	size_t nheld;		/* of them, with their descriptor open */
	uint64_t bytes;		/* their size, written and not synced */
	int64_t dirty;		/* tw_dirty_bytes(): -1 unknown */
};

struct maildir_barrier maildir_barrier_default(void);
enum md_barrier md_barrier_choose(const struct maildir_barrier *rule,
    const struct md_batch *batch);
/* Whether the next finished append, with nqueued already waiting,
 * keeps its descriptor open. */
int md_barrier_holds(const struct maildir_barrier *rule, int fsync,
    int whole_fs, size_t nqueued);

#endif
