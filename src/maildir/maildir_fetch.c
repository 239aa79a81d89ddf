/*
 * maildir_fetch: stream messages to a sink in canonical CRLF form. Files
 * hold LF line ends; every LF becomes CRLF on the way out and nothing
 * else changes, so a CR already before an LF in the file comes out as
 * CR CR LF, and appending that back (CRLF -> LF) restores the file. The
 * file is read in fixed chunks; memory does not grow with message size.
 * A header fetch reads small chunks and stops at the header's end.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MD_READ_CHUNK 65536
#define MD_HEADER_CHUNK 4096

static void
lf_to_crlf(const char *p, size_t n, struct buf *out)
{
	const char *end = p + n, *nl;

	buf_reset(out);
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		buf_add(out, p, (size_t)(nl - p));
		buf_add(out, "\r\n", 2);
		p = nl + 1;
	}
	buf_add(out, p, (size_t)(end - p));
}

/* Open the file of e, following renames by other readers; -1 if gone. */
static int
open_entry(struct md_store *s, struct md_entry *e, int *failed,
    struct buf *err)
{
	int found;

	*failed = 0;
	for (int tries = 0; tries < 3; tries++) {
		char *path = md_subpath(s->dir, e->subdir, e->name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		int saved = errno;

		if (fd < 0 && saved != ENOENT)
			md_syserr(err, s->mbox, path, "open");
		free(path);
		if (fd >= 0)
			return fd;
		if (saved != ENOENT || md_locate(s, e, &found, err) != 0) {
			*failed = 1;
			return -1;
		}
		if (!found)
			return -1;
	}
	return -1;
}

/* The file, or with header_only its header (more is allowed, less not:
 * store.h), to sink. */
static int
stream_file(struct md_store *s, struct md_entry *e, int fd,
    const struct msg_sink *sink, int header_only, struct buf *err)
{
	size_t chunk = header_only ? MD_HEADER_CHUNK : MD_READ_CHUNK;
	char *in = xmalloc(chunk);
	struct buf out = BUF_INIT;
	struct header_scan hs = { 0 };
	ssize_t got;
	int rc = 0;

	while (rc == 0 && !hs.done && (got = read(fd, in, chunk)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			char *path = md_subpath(s->dir, e->subdir, e->name);

			md_syserr(err, s->mbox, path, "read");
			free(path);
			rc = -1;
			break;
		}
		if (header_only)
			got = (ssize_t)header_scan_add(&hs, in, (size_t)got);
		lf_to_crlf(in, (size_t)got, &out);
		rc = sink->data(sink->ctx, out.data, out.len, err);
	}
	free(in);
	buf_free(&out);
	return rc;
}

static int
fetch_one(struct md_store *s, uint32_t uid, const struct msg_sink *sink,
    int header_only, struct buf *err)
{
	struct md_entry *e = md_find(s, uid);
	struct msg_meta meta = { .uid = uid };
	struct stat st;
	int fd, failed, rc;

	if (e == NULL || (fd = open_entry(s, e, &failed, err)) < 0) {
		if (e != NULL && failed)
			return -1;
		if (e != NULL)
			md_forget(s, e);
		log_debug(s->base.lg, "maildir %s: UID %u is gone", s->mbox,
		    uid);
		sink->gone(sink->ctx, uid);
		return 0;
	}
	meta.flags = e->flags;
	meta.size = e->size;
	meta.date = e->mtime;
	if (fstat(fd, &st) == 0) {
		meta.date = (int64_t)st.st_mtime;
		/* The scan may not have needed the size. */
		if (meta.size == 0)
			meta.size = (uint64_t)st.st_size;
	}
	rc = sink->begin(sink->ctx, &meta, err);
	if (rc == 0)
		rc = stream_file(s, e, fd, sink, header_only, err);
	if (rc == 0)
		rc = sink->end(sink->ctx, err);
	close(fd);
	return rc;
}

static int
fetch_some(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, int header_only, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;

	if (s->mbox == NULL) {
		md_err(err, NULL, NULL, "fetch: no mailbox is open");
		return -1;
	}
	if (md_resolve(s, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (fetch_one(s, uids[i], sink, header_only, err) != 0)
			return -1;
	return 0;
}

int
md_fetch(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return fetch_some(st, uids, n, sink, 0, err);
}

int
md_fetch_headers(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return fetch_some(st, uids, n, sink, 1, err);
}
