/*
 * maildir_commit: make a batch of finished appends durable and visible,
 * in the order described in maildir_deliver.c. The barrier before the
 * first rename is the one maildir_barrier.h picks: one syncfs() (the
 * cost of a flush is dominated by the journal commit, which it pays once
 * for the whole batch, file data and .uidvalidity together), or, for a
 * small batch while other programs have much data on its way to disk
 * (which syncfs() would wait for), one fdatasync() per file, each on the
 * descriptor the file was written through, and one of .uidvalidity.
 * The descriptor given to syncfs() was opened with the mailbox, before
 * any file of the batch was written, so (Linux 5.8 and later) a
 * writeback error on any of them is reported. Where there is no
 * syncfs() (compat.h) each file was fsync'd by md_append_finish() and
 * .uidvalidity is here, so the barrier still stands before the first
 * rename.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/* The entry takes over a's name: a delivered append is released next. */
static void
remember(struct md_store *s, struct md_append *a, int subdir)
{
	struct md_entry e = {
		.name = a->base, .uid = a->uid, .flags = a->flags,
		.subdir = subdir, .size = a->size,
		.mtime = a->date > 0 ? a->date : (int64_t)time(NULL)
	};

	s->ents = xgrow(s->ents, &s->capents, s->nents + 1, 64,
	    sizeof(*s->ents));
	s->ents[s->nents++] = e;
	a->base = NULL;
}

static int
cmp_entry_uid(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* The delivered entries went to the end with UIDs above every other, so
 * the table is mostly in order already: checked before sorting. */
static int
entries_ascending(const struct md_store *s)
{
	for (size_t i = 1; i < s->nents; i++)
		if (s->ents[i - 1].uid > s->ents[i].uid)
			return 0;
	return 1;
}

static int
deliver(struct md_store *s, struct md_append *a, int *touched,
    struct buf *err)
{
	int subdir = (a->flags & MSG_SEEN) ? MD_SUBDIR_CUR : MD_SUBDIR_NEW;
	char *from = md_tmp_rel(a->base);
	char *to = md_join(md_subdir_name(subdir), a->base);
	/* Relative to the mailbox directory: no walk of the whole path. */
	int rc = renameat(s->dirfd, from, s->dirfd, to);

	if (rc != 0)
		md_err(err, s->mbox, s->dir, "rename %s to %s: %s", from,
		    to, strerror(errno));
	else {
		touched[subdir] = 1;
		remember(s, a, subdir);
	}
	free(from);
	free(to);
	return rc;
}

/* Close a held descriptor; with sync, fdatasync() it first. */
static int
release_held(struct md_store *s, struct md_append *a, int sync,
    struct buf *err)
{
	const char *what = "fdatasync";
	int rc = sync ? tw_fdatasync(a->fd) : 0;
	int saved = errno;

	if (rc == 0) {
		what = "close";
		rc = close(a->fd);
		saved = errno;
	} else
		(void)close(a->fd);
	a->fd = -1;
	if (rc != 0) {
		char *path = md_tmp_path(s, a->base);

		errno = saved;
		md_syserr(err, s->mbox, path, what);
		free(path);
	}
	return rc;
}

/* Every held descriptor closed, each fdatasync()'d first with sync; the
 * first failure stops it (md_queue_release() closes the rest). */
static int
release_all_held(struct md_store *s, int sync, struct buf *err)
{
	for (size_t i = 0; i < s->nqueue && s->nheld > 0; i++) {
		if (s->queue[i]->fd < 0)
			continue;
		s->nheld--;
		if (release_held(s, s->queue[i], sync, err) != 0)
			return -1;
	}
	return 0;
}

static enum md_barrier
choose_barrier(const struct md_store *s)
{
	struct md_batch b = {
		.fsync = s->fsync, .whole_fs = tw_syncfs_is_whole_fs(),
		.nfiles = s->nqueue, .nheld = s->nheld, .dirty = -1
	};

	for (size_t i = 0; i < s->nqueue; i++)
		b.bytes += s->queue[i]->size;
	/* Only a batch that could be flushed file by file needs to know. */
	if (b.fsync && b.whole_fs && b.nheld == b.nfiles)
		b.dirty = tw_dirty_bytes();
	return md_barrier_choose(&s->barrier, &b);
}

/* fdatasync() of each file and .uidvalidity: MD_BARRIER_EACH. */
static int
sync_each(struct md_store *s, struct buf *err)
{
	char *path;

	if (release_all_held(s, 1, err) != 0)
		return -1;
	if (tw_fdatasync(s->uvfd) == 0)
		return 0;
	path = md_join(s->dir, ".uidvalidity");
	md_syserr(err, s->mbox, path, "fdatasync");
	free(path);
	return -1;
}

/* The compat barrier, MD_BARRIER_COMMON: syncfs() natively. */
static int
sync_common(struct md_store *s, struct buf *err)
{
	if (release_all_held(s, 0, err) != 0)
		return -1;
	if (tw_sync_file(s->uvfd) != 0) {
		int saved = errno;
		char *path = md_join(s->dir, ".uidvalidity");

		errno = saved;
		md_syserr(err, s->mbox, path, "fsync");
		free(path);
		return -1;
	}
	if (tw_syncfs(s->dirfd) != 0) {
		md_syserr(err, s->mbox, s->dir, "syncfs");
		return -1;
	}
	return 0;
}

static int
make_durable(struct md_store *s, struct buf *err)
{
	enum md_barrier barrier;

	if (md_uid_save(s, 0, err) != 0)
		return -1;
	barrier = choose_barrier(s);
	log_debug(s->base.lg, "maildir %s: %zu new files made durable by %s",
	    s->mbox, s->nqueue, barrier == MD_BARRIER_EACH ? "fdatasync each" :
	    barrier == MD_BARRIER_NONE ? "nothing (FSync no)" :
	    tw_syncfs_is_whole_fs() ? "syncfs" : "fsync each");
	switch (barrier) {
	case MD_BARRIER_EACH:
		return sync_each(s, err);
	case MD_BARRIER_COMMON:
		return sync_common(s, err);
	case MD_BARRIER_NONE:
		break;
	}
	return release_all_held(s, 0, err);
}

/* The first done files were renamed into new/ or cur/: they arrived.
 * The others stay in tmp/, reported as unknown (STORE_FAILED), as after
 * any failed commit; a refusal is not something a Maildir does. */
static void
report(struct md_store *s, size_t done, struct append_result *res)
{
	for (size_t i = 0; i < s->nqueue; i++) {
		res[i].status = i < done ? STORE_OK : STORE_FAILED;
		res[i].uid = i < done ? s->queue[i]->uid : 0;
	}
}

int
md_commit(struct store *st, struct append_result **res, size_t *nres,
    struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	int touched[2] = { 0, 0 };
	size_t done = 0;
	int rc;

	*res = NULL;
	*nres = 0;
	if (s->mbox == NULL || s->nqueue == 0)
		return 0;
	rc = make_durable(s, err);
	while (rc == 0 && done < s->nqueue)
		if ((rc = deliver(s, s->queue[done], touched, err)) == 0)
			done++;
	if (rc == 0)
		rc = md_fsync_subdirs(s, touched, err);
	*res = xcalloc(s->nqueue, sizeof(**res));
	*nres = s->nqueue;
	/* A failed syncfs() or directory fsync: nothing is known durable. */
	report(s, rc == 0 || !s->fsync ? done : 0, *res);
	if (!entries_ascending(s))
		qsort(s->ents, s->nents, sizeof(*s->ents), cmp_entry_uid);
	md_queue_release(s, done);
	return rc;
}
