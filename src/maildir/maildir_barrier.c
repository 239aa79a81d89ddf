/*
 * maildir_barrier: the rule that picks a batch's durability barrier;
 * see maildir_barrier.h, and docs/maildir.md for the measurements the
 * thresholds come from. syncfs() waits for every dirty page of the file
 * system, other programs' too; one fdatasync() per file waits for the
 * batch's own files but pays a journal commit each. So a small batch
 * is synced file by file while other programs have much written data in
 * flight, and everything else gets the one syncfs().
 */
#include "maildir/maildir_barrier.h"

/* Measured on ext4 (docs/maildir.md): behind a large concurrent writer
 * the per-file flushes win by one to two orders of magnitude for small
 * batches, and at worst (the writer's dirty data at the kernel's limit)
 * lose from about 16 files on; 24 keeps that loss under half as much
 * again. With up to 256 KiB of other programs' data per flush saved,
 * syncfs() costs no more than the flushes it replaces. */
#define MD_BARRIER_MAX_FILES 24
#define MD_BARRIER_DIRTY_PER_FILE (256 * 1024)

struct maildir_barrier
maildir_barrier_default(void)
{
	struct maildir_barrier r = {
		.max_files = MD_BARRIER_MAX_FILES,
		.dirty_per_file = MD_BARRIER_DIRTY_PER_FILE
	};

	return r;
}

/* Other programs' data waiting for the disk, as far as dirty tells. */
static uint64_t
foreign_dirty(const struct md_batch *b)
{
	uint64_t dirty = (uint64_t)b->dirty;

	return dirty > b->bytes ? dirty - b->bytes : 0;
}

enum md_barrier
md_barrier_choose(const struct maildir_barrier *rule,
    const struct md_batch *b)
{
	uint64_t flushes = (uint64_t)b->nfiles + 1;	/* and .uidvalidity */

	if (!b->fsync)
		return MD_BARRIER_NONE;
	/* EACH needs every file's descriptor: the exact part of the rule. */
	if (!b->whole_fs || b->nfiles == 0 || b->nheld != b->nfiles ||
	    b->nfiles > rule->max_files)
		return MD_BARRIER_COMMON;
	/* Not knowing what syncfs() would wait for, take the bounded cost. */
	if (b->dirty < 0 || rule->dirty_per_file < 0)
		return MD_BARRIER_EACH;
	if (rule->dirty_per_file > 0 &&
	    flushes > UINT64_MAX / (uint64_t)rule->dirty_per_file)
		return MD_BARRIER_COMMON;
	if (foreign_dirty(b) <= flushes * (uint64_t)rule->dirty_per_file)
		return MD_BARRIER_COMMON;
	return MD_BARRIER_EACH;
}

int
md_barrier_holds(const struct maildir_barrier *rule, int fsync,
    int whole_fs, size_t nqueued)
{
	return fsync && whole_fs && nqueued < rule->max_files;
}
