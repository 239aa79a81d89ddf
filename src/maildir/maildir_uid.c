/*
 * maildir_uid: the .uidvalidity file of a mailbox, in mbsync's format:
 * two decimal lines, UIDVALIDITY then the last UID handed out. The file
 * is locked (tw_lock_file(): an open-file-description lock, which also
 * excludes mbsync's fcntl lock; a process lock where the platform has no
 * such locks, compat.h) for as long as the mailbox is open, without
 * waiting, so the last UID kept in memory stays the truth. It is
 * rewritten in place as mbsync does: the contents are a few bytes inside
 * one disk sector.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

static int
open_uidfile(const char *path, const char *mbox, struct buf *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (fchmod(fd, 0600) == 0)
			return fd;
		md_syserr(err, mbox, path, "chmod");
		close(fd);
		return -1;
	}
	if (errno == EEXIST)
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		md_syserr(err, mbox, path, "open");
	return fd;
}

/*
 * Never wait: a second store of this process opening the same mailbox
 * would wait for itself. A mailbox busy with another sync is an error.
 */
static int
lock_uidfile(int fd, const char *path, const char *mbox, struct buf *err)
{
	if (tw_lock_file(fd) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		md_err(err, mbox, path, "locked by another process (mbsync or "
		    "twinbox syncing this mailbox)");
	else
		md_syserr(err, mbox, path, "lock");
	return -1;
}

/* Strictly "<digits>\n<digits>\n": anything else is not ours to guess. */
static int
parse_uidfile(const char *text, uint32_t *validity, uint32_t *last)
{
	unsigned long long v[2];
	const char *p = text;
	char *end;

	for (int i = 0; i < 2; i++) {
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno != 0 || *end != '\n' || v[i] > UINT32_MAX)
			return -1;
		p = end + 1;
	}
	if (*p != '\0' || v[0] == 0)
		return -1;
	*validity = (uint32_t)v[0];
	*last = (uint32_t)v[1];
	return 0;
}

void
md_recorded(struct store *st, uint32_t uidvalidity)
{
	((struct md_store *)st)->recorded = uidvalidity;
}

/* A new UIDVALIDITY: the second of the store's clock, as mbsync makes it,
 * but never the one the caller recorded (store.h, recorded()). */
static uint32_t
new_uidvalidity(const struct md_store *s)
{
	struct timespec now;
	uint32_t v;

	if (s->clock(s->clock_arg, &now) != 0)
		now.tv_sec = time(NULL);
	v = (uint32_t)now.tv_sec != 0 ? (uint32_t)now.tv_sec : 1;
	if (v == s->recorded)
		v = v < UINT32_MAX ? v + 1 : 1;
	return v;
}

static int
read_uidfile(struct md_store *s, const char *path, struct buf *err)
{
	char text[128];
	ssize_t n = pread(s->uvfd, text, sizeof(text) - 1, 0);

	if (n < 0) {
		md_syserr(err, s->mbox, path, "read");
		return -1;
	}
	text[n] = '\0';
	if (n == 0) {
		log_verbose(s->base.lg, "maildir %s: no UIDVALIDITY, creating "
		    "a new one", s->mbox);
		s->uidvalidity = new_uidvalidity(s);
		s->lastuid = 0;
		s->uid_fresh = 1;
		return md_uid_save(s, 1, err);
	}
	if (parse_uidfile(text, &s->uidvalidity, &s->lastuid) != 0) {
		md_err(err, s->mbox, path, "cannot parse: expected two lines, "
		    "UIDVALIDITY and the last UID; fix or empty the file");
		return -1;
	}
	return 0;
}

/* A dry run reads the file if there is one and invents nothing on disk:
 * a missing file gives a provisional UIDVALIDITY held in memory. */
static int
open_uidfile_read_only(struct md_store *s, const char *path, struct buf *err)
{
	s->uvfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (s->uvfd >= 0)
		return read_uidfile(s, path, err);
	if (errno != ENOENT) {
		md_syserr(err, s->mbox, path, "open");
		return -1;
	}
	s->uidvalidity = new_uidvalidity(s);
	s->lastuid = 0;
	s->uid_fresh = 1;
	return 0;
}

int
md_uid_open(struct md_store *s, struct buf *err)
{
	char *path = md_join(s->dir, ".uidvalidity");
	int rc = -1;

	s->uid_fresh = 0;
	if (s->read_only) {
		rc = open_uidfile_read_only(s, path, err);
		free(path);
		return rc;
	}
	s->uvfd = open_uidfile(path, s->mbox, err);
	if (s->uvfd >= 0 && lock_uidfile(s->uvfd, path, s->mbox, err) == 0)
		rc = read_uidfile(s, path, err);
	free(path);
	return rc;
}

int
md_uid_save(struct md_store *s, int sync, struct buf *err)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "%u\n%u\n",
	    (unsigned)s->uidvalidity, (unsigned)s->lastuid);
	char *path;

	if (s->read_only)
		return 0;
	if (pwrite(s->uvfd, text, (size_t)n, 0) == n &&
	    ftruncate(s->uvfd, n) == 0 &&
	    (!sync || !s->fsync || tw_fdatasync(s->uvfd) == 0))
		return 0;
	path = md_join(s->dir, ".uidvalidity");
	md_syserr(err, s->mbox, path, "write");
	free(path);
	return -1;
}

/* Read without the lock: a peek must not wait for, nor stop, a sync that
 * holds it. The file is rewritten in place within one sector, so a read
 * sees the old contents or the new. */
int
md_uid_peek(const char *dir, uint32_t *validity, uint32_t *last)
{
	char *path = md_join(dir, ".uidvalidity");
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char text[128];
	ssize_t n = -1;

	free(path);
	if (fd >= 0) {
		n = pread(fd, text, sizeof(text) - 1, 0);
		close(fd);
	}
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return parse_uidfile(text, validity, last) == 0;
}
