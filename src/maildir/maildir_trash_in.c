/*
 * maildir_trash_in: TrashRemoteNew on a Maildir store. A message of the
 * other store goes into this store's Trash folder (made if missing) the
 * way a mail delivery agent would put it there: written to tmp/ with its
 * CRLFs made LFs, flushed, then renamed into cur/ under a name with its
 * flags and no ",U=" (the Trash gets its UID when it is scanned), and cur/
 * flushed. A crash leaves at worst a tmp/ file, removed after 36 hours.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define CHUNK 65536

/* "<unique><delim>2,<flags>", the flag letters in ASCII order. */
static char *
trash_name(struct md_store *s, unsigned flags)
{
	char *unique = md_unique_base(s);
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s%c2,", unique, s->info_delim);
	for (int c = 'A'; c <= 'Z'; c++)
		for (int i = 0; i < MSG_FLAG_COUNT; i++)
			if ((flags & (1u << i)) && msg_flag_letters[i] == c)
				buf_addc(&b, (char)c);
	free(unique);
	return buf_detach(&b);
}

/* len bytes of fd, CRLF made LF as an append makes them. */
static int
copy_lf(int fd, uint64_t len, int out)
{
	char *in = xmalloc(CHUNK);
	struct buf o = BUF_INIT;
	uint64_t off = 0;
	int cr = 0, rc = 0;

	while (rc == 0 && off < len) {
		size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		ssize_t got = pread(fd, in, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			rc = -1;
			break;
		}
		buf_reset(&o);
		md_lf_chunk(&o, &cr, in, (size_t)got);
		rc = md_write_fd(out, o.data, o.len);
		off += (uint64_t)got;
	}
	if (rc == 0 && cr)
		rc = md_write_fd(out, "\r", 1);
	free(in);
	buf_free(&o);
	return rc;
}

/* The message into the file tmp (in the Trash folder's tmp/); unlinked
 * again on failure. */
static int
write_tmp(struct md_store *s, const char *trash, const char *tmp, int fd,
    uint64_t len, struct buf *err)
{
	int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (out < 0) {
		md_syserr(err, trash, tmp, "create");
		return -1;
	}
	if (copy_lf(fd, len, out) != 0 || (s->fsync && fsync(out) != 0)) {
		md_syserr(err, trash, tmp, "write");
		close(out);
		unlink(tmp);
		return -1;
	}
	if (close(out) != 0) {
		md_syserr(err, trash, tmp, "close");
		unlink(tmp);
		return -1;
	}
	return 0;
}

static char *
join_free(char *dir, const char *name)
{
	char *p = md_join(dir, name);

	free(dir);
	return p;
}

int
md_trash_in(struct store *st, const char *trash, const struct msg_meta *meta,
    int fd, uint64_t len, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	char *dir, *name, *tmp, *cur, *to;
	int rc;

	if (md_refuse_write(s, trash, "trash", err) != 0 ||
	    md_trash_dir(s, trash, &dir, err) != 0)
		return -1;
	name = trash_name(s, meta->flags & MSG_ALL_FLAGS);
	tmp = md_join(dir, "tmp");
	tmp = join_free(tmp, name);
	cur = md_join(dir, "cur");
	to = md_join(cur, name);
	rc = write_tmp(s, trash, tmp, fd, len, err);
	if (rc == 0 && rename(tmp, to) != 0) {
		md_syserr(err, trash, to, "rename");
		unlink(tmp);
		rc = -1;
	}
	if (rc == 0 && s->fsync)
		rc = md_fsync_dir(cur, trash, err);
	free(to);
	free(cur);
	free(tmp);
	free(name);
	free(dir);
	return rc;
}
