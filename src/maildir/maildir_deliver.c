/*
 * maildir_deliver: appends. A message is written to tmp/ under its final
 * name "<unique>,U=<uid>:2,<flags>" (the UID is chosen at begin and
 * reported as planned), converted from CRLF to LF on the way. commit()
 * then makes the whole batch durable:
 *
 *   1. .uidvalidity gets the new last UID (written, not yet synced);
 *   2. every tmp/ file and .uidvalidity are made durable by the barrier
 *      maildir_barrier.h picks: one syncfs(), or for a small batch one
 *      fdatasync() of each file (its descriptor held open since it was
 *      finished) and of .uidvalidity; without syncfs() (compat.h) each
 *      file was fsync'd before it was closed, and .uidvalidity is
 *      fsync'd here;
 *   3. each file is renamed into new/ (no \Seen) or cur/;
 *   4. cur/ and new/ are fsync'd once each.
 *
 * A crash before 3 leaves only tmp/ files (removed after 36 hours); a
 * crash after 3 leaves whole files, never partial ones, and their UIDs
 * are already recorded, so they are never handed out again.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/* The standard Maildir rule for abandoned deliveries. */
#define MD_TMP_MAX_AGE (36 * 60 * 60)

char *
md_tmp_path(const struct md_store *s, const char *base)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/tmp/%s", s->dir, base);
	return buf_detach(&b);
}

void
md_append_free(struct md_append *a)
{
	if (a->fd >= 0)
		close(a->fd);
	free(a->base);
	buf_free(&a->out);
	free(a);
}

/* "tmp/<base>", relative to the mailbox directory (s->dirfd), so that
 * creating and renaming a file does not walk the whole path each time. */
char *
md_tmp_rel(const char *base)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "tmp/%s", base);
	return buf_detach(&b);
}

/* The tmp/ file of a, named for a user. */
static void
append_syserr(const struct md_append *a, const char *what, struct buf *err)
{
	int saved = errno;
	char *path = md_tmp_path(a->s, a->base);

	errno = saved;
	md_syserr(err, a->s->mbox, path, what);
	free(path);
}

static void
unlink_tmp(const struct md_store *s, const char *base)
{
	char *rel = md_tmp_rel(base);

	unlinkat(s->dirfd, rel, 0);
	free(rel);
}

/*
 * The file is created 0600, which the umask can only narrow. Once one
 * file of the store came out 0600, the umask leaves those bits alone and
 * the next files need no fchmod() (the process never changes its umask).
 */
static int
ensure_mode(struct md_store *s, int fd)
{
	struct stat st;

	if (s->mode_exact)
		return 0;
	if (fstat(fd, &st) != 0)
		return -1;
	if ((st.st_mode & 07777) == 0600) {
		s->mode_exact = 1;
		return 0;
	}
	return fchmod(fd, 0600);
}

static int
open_tmp(struct md_store *s, struct md_append *a, struct buf *err)
{
	char *rel = md_tmp_rel(a->base), *path;

	a->fd = openat(s->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (a->fd >= 0 && ensure_mode(s, a->fd) == 0) {
		free(rel);
		return 0;
	}
	path = md_tmp_path(s, a->base);
	md_syserr(err, s->mbox, path, "create");
	if (a->fd >= 0)
		unlinkat(s->dirfd, rel, 0);
	free(rel);
	free(path);
	return -1;
}

int
md_append_begin(struct store *st, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	struct md_append *a;
	char *unique;

	if (s->mbox == NULL) {
		md_err(err, NULL, NULL, "append: no mailbox is open");
		return -1;
	}
	if (md_refuse_write(s, s->mbox, "append", err) != 0)
		return -1;
	if (s->lastuid == UINT32_MAX) {
		md_err(err, s->mbox, NULL, "append: UIDs exhausted");
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->s = s;
	a->uid = ++s->lastuid;
	a->flags = meta->flags & MSG_ALL_FLAGS;
	a->date = meta->date;
	unique = md_unique_base(s);
	a->base = md_name_with(unique, s->info_delim, a->uid, a->flags);
	free(unique);
	if (open_tmp(s, a, err) != 0) {
		md_append_free(a);
		return -1;
	}
	s->nbusy++;
	*planned_uid = a->uid;
	*out = (struct store_append *)a;
	return 0;
}

int
md_write_fd(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
write_all(struct md_append *a, const char *p, size_t n, struct buf *err)
{
	if (md_write_fd(a->fd, p, n) != 0) {
		append_syserr(a, "write", err);
		return -1;
	}
	a->size += (uint64_t)n;
	return 0;
}

/* One pass: the output never outgrows the input by more than the CR held
 * back from the previous chunk, so room is made once and the runs between
 * CRs are copied straight in (this loop sees every byte of an initial
 * sync). */
void
md_lf_chunk(struct buf *out, int *pending_cr, const char *p, size_t n)
{
	const char *end = p + n, *cr;
	char *o;

	buf_grow(out, n + 1);
	o = out->data + out->len;
	if (*pending_cr && n > 0) {
		*pending_cr = 0;
		if (*p != '\n')
			*o++ = '\r';
	}
	while (p < end && (cr = memchr(p, '\r', (size_t)(end - p))) != NULL) {
		memcpy(o, p, (size_t)(cr - p));
		o += cr - p;
		if (cr + 1 == end)
			*pending_cr = 1;
		else if (cr[1] != '\n')
			*o++ = '\r';
		p = cr + 1;
	}
	memcpy(o, p, (size_t)(end - p));
	o += end - p;
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

int
md_append_write(struct store_append *sa, const char *p, size_t n,
    struct buf *err)
{
	struct md_append *a = (struct md_append *)sa;

	buf_reset(&a->out);
	md_lf_chunk(&a->out, &a->pending_cr, p, n);
	return write_all(a, a->out.data, a->out.len, err);
}

static int
queue_push(struct md_store *s, struct md_append *a)
{
	s->queue = xgrow(s->queue, &s->capqueue, s->nqueue + 1, 32,
	    sizeof(*s->queue));
	s->queue[s->nqueue++] = a;
	return 0;
}

/*
 * A finished file keeps its descriptor while the batch may still get
 * per-file flushes (maildir_barrier.h); otherwise it is closed, after
 * tw_sync_file(), which does nothing where commit()'s syncfs() covers
 * the file (compat.h).
 */
static int
hold_or_close(struct md_append *a, struct buf *err)
{
	struct md_store *s = a->s;
	int rc;

	if (md_barrier_holds(&s->barrier, s->fsync, tw_syncfs_is_whole_fs(),
	    s->nqueue)) {
		s->nheld++;
		return 0;
	}
	if (s->fsync && tw_sync_file(a->fd) != 0) {
		append_syserr(a, "fsync", err);
		return -1;
	}
	rc = close(a->fd);
	a->fd = -1;
	if (rc != 0)
		append_syserr(a, "close", err);
	return rc;
}

int
md_append_finish(struct store_append *sa, struct buf *err)
{
	struct md_append *a = (struct md_append *)sa;
	struct timespec times[2];
	int rc = -1;

	if (a->pending_cr && write_all(a, "\r", 1, err) != 0)
		goto out;
	a->pending_cr = 0;
	times[0].tv_sec = times[1].tv_sec = (time_t)a->date;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	/* The arrival date lives in the file's mtime, as for mbsync. */
	if (a->date > 0 && futimens(a->fd, times) != 0) {
		append_syserr(a, "set time", err);
		goto out;
	}
	rc = hold_or_close(a, err);
out:
	/* A queued append keeps only its name: the batch's memory does not
	 * grow with the size of its chunks. */
	buf_free(&a->out);
	a->s->nbusy--;
	if (rc == 0)
		queue_push(a->s, a);
	else {
		unlink_tmp(a->s, a->base);
		md_append_free(a);
	}
	return rc;
}

void
md_append_cancel(struct store_append *sa)
{
	struct md_append *a = (struct md_append *)sa;

	a->s->nbusy--;
	unlink_tmp(a->s, a->base);
	md_append_free(a);
}

/*
 * Release the queue. Appends from index delivered on were not renamed
 * into cur/ or new/, so their tmp/ files go too.
 */
void
md_queue_release(struct md_store *s, size_t delivered)
{
	for (size_t i = 0; i < s->nqueue; i++) {
		if (i >= delivered)
			unlink_tmp(s, s->queue[i]->base);
		md_append_free(s->queue[i]);
	}
	free(s->queue);
	s->queue = NULL;
	s->nqueue = s->capqueue = s->nheld = 0;
}

/* Remove deliveries abandoned long ago (by a crash, ours or others'). */
void
md_clean_tmp(struct md_store *s)
{
	char *dir;
	DIR *d;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	if (s->read_only)
		return;
	dir = md_join(s->dir, "tmp");
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		/* ctime: an append sets mtime to the arrival date. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)
		    != 0 || !S_ISREG(st.st_mode) ||
		    now - st.st_ctime < MD_TMP_MAX_AGE)
			continue;
		log_verbose(s->base.lg, "maildir %s: removing stale %s/%s",
		    s->mbox, dir, de->d_name);
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			log_warn(s->base.lg, "maildir %s: %s/%s: unlink: %s",
			    s->mbox, dir, de->d_name, strerror(errno));
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}
