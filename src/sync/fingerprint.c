/* fingerprint: size + Message-ID hash of messages; see fingerprint.h. */
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
	fs->size = 0;
}

/* Keep header bytes until the blank line that ends the header (it is
 * kept too), at most FP_HEADER_MAX; this runs on every copied byte, so
 * it appends in bulk and searches only what is new. */
void
fp_stream_add(struct fp_stream *fs, const char *p, size_t n)
{
	size_t old = fs->header.len, from;
	const char *end;

	fs->size += n;
	if (fs->header_done)
		return;
	if (n > FP_HEADER_MAX - old)
		n = FP_HEADER_MAX - old;
	buf_add(&fs->header, p, n);
	from = old > 3 ? old - 3 : 0;
	end = memmem(fs->header.data + from, fs->header.len - from,
	    "\r\n\r\n", 4);
	if (end != NULL) {
		buf_truncate(&fs->header, (size_t)(end - fs->header.data) + 4);
		fs->header_done = 1;
	} else if (fs->header.len >= FP_HEADER_MAX) {
		fs->header_done = 1;
	}
}

struct fingerprint
fp_stream_finish(struct fp_stream *fs)
{
	struct fingerprint fp;

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
	/* No failed(): a fingerprint that cannot be read must not pass
	 * for a message that is gone, so such a fetch fails as a whole. */
	struct msg_sink sink = { fp_begin, fp_data, fp_end, fp_gone, &c,
	    NULL };
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
