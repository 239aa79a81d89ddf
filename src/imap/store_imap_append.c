/*
 * store_imap_append: queueing appends. The size of a message must be
 * known before its APPEND can be sent, and nothing may become visible
 * before commit(), so messages are spooled: in memory while the whole
 * queue is small, else in an unlinked temporary file.
 */
#include "imap/store_imap_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
ims_spool_reset(struct imap_store *s)
{
	buf_reset(&s->spool.mem);
	if (s->spool.fd >= 0 && ftruncate(s->spool.fd, 0) != 0)
		log_warn(s->base.lg, "imap store '%s': truncating the spool "
		    "file: %s", s->name, strerror(errno));
	s->spool.size = 0;
	s->spool.in_file = 0;
	s->nqueue = 0;
}

static int
spool_open_file(struct imap_store *s, struct buf *err)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;
	int fd;

	buf_setf(&path, "%s/twinbox-spool-XXXXXX",
	    dir && dir[0] ? dir : "/tmp");
	fd = mkstemp(path.data);	/* mode 0600 */
	if (fd < 0) {
		ims_err(s, err, "cannot create a spool file %s: %s",
		    path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	unlink(path.data);
	buf_free(&path);
	s->spool.fd = fd;
	return 0;
}

static int
write_all(struct imap_store *s, const char *p, size_t n, off_t off,
    struct buf *err)
{
	while (n > 0) {
		ssize_t w = pwrite(s->spool.fd, p, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ims_err(s, err, "writing the spool file: %s",
			    strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Move what is in memory to the file, once it gets too big. */
static int
spool_to_file(struct imap_store *s, struct buf *err)
{
	if (s->spool.fd < 0 && spool_open_file(s, err) != 0)
		return -1;
	if (s->spool.mem.len > 0 && write_all(s, s->spool.mem.data,
	    s->spool.mem.len, 0, err) != 0)
		return -1;
	buf_free(&s->spool.mem);
	s->spool.in_file = 1;
	return 0;
}

static int
spool_add(struct imap_store *s, const char *p, size_t n, struct buf *err)
{
	if (!s->spool.in_file && s->spool.size + n <= SPOOL_MEM_MAX) {
		buf_add(&s->spool.mem, p, n);
		s->spool.size += n;
		return 0;
	}
	if (!s->spool.in_file && spool_to_file(s, err) != 0)
		return -1;
	if (write_all(s, p, n, (off_t)s->spool.size, err) != 0)
		return -1;
	s->spool.size += n;
	return 0;
}

static void
spool_truncate(struct imap_store *s, uint64_t size)
{
	if (!s->spool.in_file)
		buf_truncate(&s->spool.mem, (size_t)size);
	s->spool.size = size;
}

int
ims_append_begin(struct store *st, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct store_append *a;

	if (ims_require_open(s, err) != 0)
		return -1;
	if (s->busy != NULL) {
		ims_err(s, err, "an append is already in progress");
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->s = s;
	a->off = s->spool.size;
	a->flags = meta->flags;
	a->date = meta->date;
	s->busy = a;
	*out = a;
	*planned_uid = 0;
	return 0;
}

int
ims_append_write(struct store_append *a, const char *p, size_t n,
    struct buf *err)
{
	return spool_add(a->s, p, n, err);
}

int
ims_append_finish(struct store_append *a, struct buf *err)
{
	struct imap_store *s = a->s;
	struct queued_append *q;

	(void)err;
	s->queue = xreallocarray(s->queue, s->nqueue + 1, sizeof(*s->queue));
	q = &s->queue[s->nqueue++];
	q->off = a->off;
	q->len = s->spool.size - a->off;
	q->flags = a->flags;
	q->date = a->date;
	s->busy = NULL;
	free(a);
	return 0;
}

void
ims_append_cancel(struct store_append *a)
{
	struct imap_store *s = a->s;

	spool_truncate(s, a->off);
	s->busy = NULL;
	free(a);
}
