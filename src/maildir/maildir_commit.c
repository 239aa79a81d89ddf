/*
 * maildir_commit: make a batch of finished appends durable and visible,
 * in the order described in maildir_deliver.c. Why syncfs() and not one
 * fdatasync() per file: the cost of a flush is dominated by the journal
 * commit, which one syncfs() pays once for the whole batch (file data and
 * .uidvalidity together), where per-file syncs pay it per message. The
 * descriptor given to syncfs() was opened with the mailbox, before any
 * file of the batch was written, so (Linux 5.8 and later) a writeback
 * error on any of them is reported. Where there is no syncfs() (compat.h)
 * each file was fsync'd by md_append_finish() and .uidvalidity is here,
 * so the barrier still stands before the first rename.
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

static int
sync_touched(struct md_store *s, const int *touched, struct buf *err)
{
	for (int sub = MD_SUBDIR_CUR; sub <= MD_SUBDIR_NEW; sub++) {
		char *dir = md_subpath(s->dir, sub, NULL);
		int rc = touched[sub] ? md_fsync_dir(dir, s->mbox, err) : 0;

		free(dir);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
make_durable(struct md_store *s, struct buf *err)
{
	if (md_uid_save(s, 0, err) != 0)
		return -1;
	if (!s->fsync)
		return 0;
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
	if (rc == 0 && s->fsync)
		rc = sync_touched(s, touched, err);
	*res = xcalloc(s->nqueue, sizeof(**res));
	*nres = s->nqueue;
	/* A failed syncfs() or directory fsync: nothing is known durable. */
	report(s, rc == 0 || !s->fsync ? done : 0, *res);
	if (s->nents > 1)
		qsort(s->ents, s->nents, sizeof(*s->ents), cmp_entry_uid);
	md_queue_release(s, done);
	return rc;
}
