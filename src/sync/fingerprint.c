/* fingerprint: canonical size + Message-ID hash of messages; see
 * fingerprint.h. */
#include "sync/fingerprint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hash.h"

struct fp_ctx {
	struct fp_cursor cur;		/* first: the sink's ctx; over the
					 * scan's UIDs */
	struct fingerprint *fp;		/* or, for a header fetch, */
	struct header_hash *hh;
	struct uid_vec open;	/* header fetch: UIDs whose header had no
				 * end in what was read */
};

/* The value of the Message-ID header (unfolded, trimmed), or NULL. */
static const char *
find_message_id(const char *hdr, size_t len, size_t *idlen)
{
	static const char name[] = "message-id:";
	size_t nlen = sizeof(name) - 1;

	for (size_t i = 0; i + nlen <= len; i++) {
		const char *v;
		size_t end;

		if ((i != 0 && hdr[i - 1] != '\n') ||
		    strncasecmp(hdr + i, name, nlen) != 0)
			continue;
		v = hdr + i + nlen;
		end = i + nlen;
		while (end < len && !(hdr[end] == '\n' && (end + 1 >= len ||
		    (hdr[end + 1] != ' ' && hdr[end + 1] != '\t'))))
			end++;
		while (v < hdr + end && strchr(" \t\r\n", *v))
			v++;
		*idlen = (size_t)(hdr + end - v);
		while (*idlen > 0 && strchr(" \t\r\n", v[*idlen - 1]))
			(*idlen)--;
		return *idlen > 0 ? v : NULL;
	}
	return NULL;
}

static uint64_t
header_hash(const char *hdr, size_t len)
{
	size_t idlen;
	const char *id = find_message_id(hdr, len, &idlen);

	return id ? hash_fnv1a64(id, idlen) : hash_fnv1a64(hdr, len);
}

void
fp_stream_init(struct fp_stream *fs)
{
	buf_init(&fs->header);
	fs->header_done = 0;
	fs->pending_cr = 0;
	fs->size = 0;
}

/* One canonical line end: two bytes of size, CRLF in the header. */
static void
add_eol(struct fp_stream *fs)
{
	fs->size += 2;
	buf_add(&fs->header, "\r\n", 2);
	if (fs->header.len >= 4 && memcmp(fs->header.data +
	    fs->header.len - 4, "\r\n\r\n", 4) == 0)
		fs->header_done = 1;
}

/* Header bytes other than line ends (pending CRs included). */
static void
add_bytes(struct fp_stream *fs, const char *p, size_t n)
{
	fs->size += n;
	buf_add(&fs->header, p, n);
}

/* A run of header bytes without CR or LF, the first at p, as many as
 * FP_HEADER_MAX leaves room for after the first; returns how many. */
static size_t
add_run(struct fp_stream *fs, const char *p, size_t n)
{
	size_t len = 1, room;

	while (len < n && p[len] != '\r' && p[len] != '\n')
		len++;
	add_bytes(fs, p, 1);
	room = fs->header.len < FP_HEADER_MAX ? FP_HEADER_MAX -
	    fs->header.len : 0;
	if (len - 1 > room)
		len = room + 1;
	add_bytes(fs, p + 1, len - 1);
	return len;
}

/* The header, line by line into its canonical form, until the blank line
 * that ends it (kept) or FP_HEADER_MAX bytes; returns the bytes used. */
static size_t
add_header(struct fp_stream *fs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !fs->header_done; i++) {
		if (p[i] == '\r') {
			fs->pending_cr++;
			continue;
		}
		if (p[i] == '\n') {
			fs->pending_cr = 0;
			add_eol(fs);
		} else {
			for (; fs->pending_cr > 0; fs->pending_cr--)
				add_bytes(fs, "\r", 1);
			i += add_run(fs, p + i, n - i) - 1;
		}
		if (fs->header.len >= FP_HEADER_MAX)
			fs->header_done = 1;
	}
	return i;
}

/* CRs that end p[0..n) (they wait for what follows). */
static size_t
trailing_crs(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[n - 1 - k] == '\r')
		k++;
	return k;
}

/*
 * The body only counts: every byte, plus one for each LF (it becomes
 * CRLF), minus the CRs right before an LF (they belong to that line end).
 * A run of CRs that ends the chunk waits for the next byte: before an LF
 * it is dropped, before another byte it counts, at the end of the message
 * it is dropped (fp_stream_finish()).
 */
static void
add_body(struct fp_stream *fs, const char *p, size_t n)
{
	const char *end = p + n, *q;
	size_t lead = 0, tail;

	while (lead < n && p[lead] == '\r')
		lead++;
	fs->pending_cr += lead;
	if (lead == n)
		return;
	if (p[lead] == '\n') {
		fs->size += 2;
		lead++;
	} else {
		fs->size += fs->pending_cr;
	}
	fs->pending_cr = 0;
	p += lead;
	fs->size += (uint64_t)(end - p);
	for (q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++) {
		fs->size++;
		fs->size -= trailing_crs(p, (size_t)(q - p));
	}
	tail = trailing_crs(p, (size_t)(end - p));
	fs->size -= tail;
	fs->pending_cr = tail;
}

/*
 * The canonical form (fingerprint.h): every line end, CR* LF, is CRLF; a
 * run of CRs that ends the message is dropped. This runs on every copied
 * byte, so only the header goes byte by byte; the body is counted with
 * memchr().
 */
void
fp_stream_add(struct fp_stream *fs, const char *p, size_t n)
{
	size_t used = fs->header_done ? 0 : add_header(fs, p, n);

	add_body(fs, p + used, n - used);
}

/*
 * mbsync adds an "X-TUID:" line to the header of every message it copies,
 * so the copy differs from its original by that line only. It is no part
 * of the message's content: the canonical header loses it (with its
 * continuation lines) before the size and hash are taken, so that a pair
 * mbsync made is recognised by content (docs/mbsync-adoption.md).
 * Returns the bytes removed.
 */
static size_t
drop_tracking_lines(struct buf *hdr)
{
	static const char name[] = "x-tuid:";
	size_t nlen = sizeof(name) - 1, i = 0, out = 0, removed = 0;

	while (i < hdr->len) {
		size_t end = i;
		int drop;

		do {
			while (end < hdr->len && hdr->data[end] != '\n')
				end++;
			if (end < hdr->len)
				end++;
		} while (end < hdr->len && end - i > 2 &&
		    (hdr->data[end] == ' ' || hdr->data[end] == '\t'));
		drop = end - i > nlen &&
		    strncasecmp(hdr->data + i, name, nlen) == 0;
		if (drop)
			removed += end - i;
		else if (out != i)
			memmove(hdr->data + out, hdr->data + i, end - i);
		if (!drop)
			out += end - i;
		i = end;
	}
	buf_truncate(hdr, out);
	return removed;
}

struct fingerprint
fp_stream_finish(struct fp_stream *fs)
{
	struct fingerprint fp;
	size_t removed;

	fs->pending_cr = 0;	/* CRs that end the message: dropped */
	removed = drop_tracking_lines(&fs->header);
	fp.size = fs->size - removed;
	fp.hash = header_hash(buf_cstr(&fs->header), fs->header.len);
	buf_free(&fs->header);
	return fp;
}

struct fingerprint
fingerprint_of(const char *msg, size_t len)
{
	struct fp_stream fs;

	fp_stream_init(&fs);
	fp_stream_add(&fs, msg, len);
	return fp_stream_finish(&fs);
}

int
fp_cursor_locate(struct fp_cursor *cur, uint32_t uid, size_t *out)
{
	for (size_t i = cur->next; i < cur->n; i++) {
		if (cur->uids[i] == uid) {
			*out = i;
			cur->next = i + 1;
			return 0;
		}
	}
	return -1;
}

int
fp_cursor_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct fp_cursor *cur = ctx;

	if (fp_cursor_locate(cur, meta->uid, &cur->current) != 0) {
		buf_setf(err, "store sent message UID %u, which was not asked "
		    "for", meta->uid);
		return -1;
	}
	fp_stream_init(&cur->stream);
	return 0;
}

int
fp_cursor_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct fp_cursor *cur = ctx;

	(void)err;
	fp_stream_add(&cur->stream, p, n);
	return 0;
}

static int
fp_end(void *ctx, struct buf *err)
{
	struct fp_ctx *c = ctx;

	struct fp_cursor *cur = &c->cur;

	(void)err;
	if (c->hh != NULL) {
		if (!cur->stream.header_done)
			uid_vec_push(&c->open, cur->uids[cur->current]);
		c->hh[cur->current].hash = fp_stream_finish(&cur->stream).hash;
		c->hh[cur->current].have = 1;
	} else
		c->fp[cur->current] = fp_stream_finish(&cur->stream);
	return 0;
}

static void
fp_gone(void *ctx, uint32_t uid)
{
	struct fp_ctx *c = ctx;
	size_t i;

	if (fp_cursor_locate(&c->cur, uid, &i) != 0)
		return;
	if (c->hh != NULL)
		c->hh[i].hash = c->hh[i].have = 0;
	else
		c->fp[i].size = c->fp[i].hash = 0;
}

/* The UIDs of scan, in its order; the caller frees them. */
static uint32_t *
scan_uids(const struct msg_list *scan)
{
	uint32_t *uids = xcalloc(scan->n ? scan->n : 1, sizeof(*uids));

	for (size_t i = 0; i < scan->n; i++)
		uids[i] = scan->v[i].uid;
	return uids;
}

/* The messages uids (ascending, all in scan) through fetch() or
 * fetch_headers() into c. */
static int
read_some(struct store *s, const struct msg_list *scan, const uint32_t *uids,
    size_t n, struct fp_ctx *c, struct buf *err)
{
	/* No failed(): a fingerprint that cannot be read must not pass
	 * for a message that is gone, so such a fetch fails as a whole. */
	struct msg_sink sink = { fp_cursor_begin, fp_cursor_data, fp_end,
	    fp_gone, c, NULL };
	uint32_t *all;
	int rc;

	if (n == 0)
		return 0;
	all = scan_uids(scan);
	c->cur = (struct fp_cursor){ .uids = all, .n = scan->n };
	if (c->hh != NULL)
		rc = s->ops->fetch_headers(s, uids, n, &sink, err);
	else
		rc = s->ops->fetch(s, uids, n, &sink, err);
	buf_free(&c->cur.stream.header);
	free(all);
	return rc;
}

int
fingerprint_some(struct store *s, const struct msg_list *scan,
    const uint32_t *uids, size_t n, struct fingerprint *fp, struct buf *err)
{
	struct fp_ctx c = { .fp = fp };

	memset(fp, 0, scan->n * sizeof(*fp));
	return read_some(s, scan, uids, n, &c, err);
}

int
fingerprint_scan(struct store *s, const struct msg_list *scan,
    struct fingerprint *fp, struct buf *err)
{
	uint32_t *uids = scan_uids(scan);
	int rc;

	rc = fingerprint_some(s, scan, uids, scan->n, fp, err);
	free(uids);
	return rc;
}

/*
 * A header that did not end in an empty line in what the store sent may
 * go on in the message: a server ends it at an empty first line, where
 * the canonical form does not (RFC 5322 knows no empty header; measured
 * with Dovecot). Such a message is read whole, and its fingerprint's
 * hash taken: rare (a header alone, or one that starts with an empty
 * line), and never a wrong hash.
 */
static int
reread_open(struct store *s, const struct msg_list *scan,
    const struct uid_vec *open, struct header_hash *hh, struct buf *err)
{
	struct fingerprint *fp;
	int rc;

	if (open->n == 0)
		return 0;
	fp = xcalloc(scan->n + 1, sizeof(*fp));
	rc = fingerprint_some(s, scan, open->v, open->n, fp, err);
	for (size_t i = 0, k = 0; rc == 0 && i < scan->n && k < open->n; i++) {
		if (scan->v[i].uid != open->v[k])
			continue;
		k++;
		hh[i].hash = fp[i].hash;
		hh[i].have = fp[i].size != 0 || fp[i].hash != 0;
	}
	free(fp);
	return rc;
}

int
fingerprint_headers(struct store *s, const struct msg_list *scan,
    const uint32_t *uids, size_t n, struct header_hash *hh, struct buf *err)
{
	struct fp_ctx c = { .hh = hh };
	int rc;

	memset(hh, 0, scan->n * sizeof(*hh));
	rc = read_some(s, scan, uids, n, &c, err);
	if (rc == 0)
		rc = reread_open(s, scan, &c.open, hh, err);
	free(c.open.v);
	return rc;
}
