/* fingerprint: canonical size + Message-ID hash of messages; see
 * fingerprint.h. */
#include "sync/fingerprint.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"

struct fp_ctx {
	const struct msg_list *scan;
	struct fingerprint *fp;
	size_t next;		/* scan index the next message may have */
	size_t current;
	struct fp_stream stream;
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
	if (fs->header_done)
		return;
	buf_add(&fs->header, "\r\n", 2);
	if (fs->header.len >= 4 && memcmp(fs->header.data +
	    fs->header.len - 4, "\r\n\r\n", 4) == 0)
		fs->header_done = 1;
	else if (fs->header.len >= FP_HEADER_MAX)
		fs->header_done = 1;
}

/* The header, byte by byte into its canonical form, until the blank line
 * that ends it (kept) or FP_HEADER_MAX bytes; returns the bytes used. */
static size_t
add_header(struct fp_stream *fs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !fs->header_done; i++) {
		if (fs->pending_cr) {
			fs->pending_cr = 0;
			add_eol(fs);
			if (p[i] == '\n')
				continue;
			if (fs->header_done)
				break;
		}
		if (p[i] == '\r')
			fs->pending_cr = 1;
		else if (p[i] == '\n')
			add_eol(fs);
		else {
			fs->size++;
			buf_addc(&fs->header, p[i]);
			if (fs->header.len >= FP_HEADER_MAX)
				fs->header_done = 1;
		}
	}
	return i;
}

/* The body only counts: every byte, plus one for each bare LF and each
 * bare CR (each becomes CRLF). A CR that ends the chunk waits. */
static void
add_body(struct fp_stream *fs, const char *p, size_t n)
{
	const char *end = p + n, *q;

	if (n > 0 && fs->pending_cr) {
		fs->pending_cr = 0;
		fs->size += 2;
		if (*p == '\n') {
			p++;
			n--;
		}
	}
	fs->size += n;
	for (q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
		if (q == p || q[-1] != '\r')
			fs->size++;
	for (q = p; (q = memchr(q, '\r', (size_t)(end - q))) != NULL; q++) {
		if (q + 1 == end) {
			fs->pending_cr = 1;
			fs->size--;
		} else if (q[1] != '\n') {
			fs->size++;
		}
	}
}

/*
 * The canonical form (fingerprint.h): every CRLF, bare CR and bare LF is
 * one line end, CRLF. This runs on every copied byte, so only the header
 * goes byte by byte; the body is counted with memchr().
 */
void
fp_stream_add(struct fp_stream *fs, const char *p, size_t n)
{
	size_t used = fs->header_done ? 0 : add_header(fs, p, n);

	add_body(fs, p + used, n - used);
}

struct fingerprint
fp_stream_finish(struct fp_stream *fs)
{
	struct fingerprint fp;

	if (fs->pending_cr)
		add_eol(fs);
	fs->pending_cr = 0;
	fp.size = fs->size;
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

static int
locate(struct fp_ctx *c, uint32_t uid, size_t *out)
{
	for (size_t i = c->next; i < c->scan->n; i++) {
		if (c->scan->v[i].uid == uid) {
			*out = i;
			c->next = i + 1;
			return 0;
		}
	}
	return -1;
}

static int
fp_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct fp_ctx *c = ctx;

	if (locate(c, meta->uid, &c->current) != 0) {
		buf_setf(err, "store sent message UID %u, which was not asked "
		    "for", meta->uid);
		return -1;
	}
	fp_stream_init(&c->stream);
	return 0;
}

static int
fp_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct fp_ctx *c = ctx;

	(void)err;
	fp_stream_add(&c->stream, p, n);
	return 0;
}

static int
fp_end(void *ctx, struct buf *err)
{
	struct fp_ctx *c = ctx;

	(void)err;
	c->fp[c->current] = fp_stream_finish(&c->stream);
	return 0;
}

static void
fp_gone(void *ctx, uint32_t uid)
{
	struct fp_ctx *c = ctx;
	size_t i;

	if (locate(c, uid, &i) == 0)
		c->fp[i].size = c->fp[i].hash = 0;
}

int
fingerprint_scan(struct store *s, const struct msg_list *scan,
    struct fingerprint *fp, struct buf *err)
{
	struct fp_ctx c = { .scan = scan, .fp = fp };
	struct msg_sink sink = { fp_begin, fp_data, fp_end, fp_gone, &c };
	uint32_t *uids = xcalloc(scan->n ? scan->n : 1, sizeof(*uids));
	int rc;

	for (size_t i = 0; i < scan->n; i++) {
		uids[i] = scan->v[i].uid;
		fp[i].size = fp[i].hash = 0;
	}
	rc = s->ops->fetch(s, uids, scan->n, &sink, err);
	free(uids);
	buf_free(&c.stream.header);
	return rc;
}
