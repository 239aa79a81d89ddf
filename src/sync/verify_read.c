/* verify_read: reading one side for a verification; see verify_read.h. */
#include "sync/verify_read.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "sync/fingerprint.h"

/* Longest header value kept for the report. */
#define VERIFY_FIELD_MAX 200

struct vr_ctx {
	struct verify_side *side;	/* aligned with the scan */
	size_t next;
	size_t current;
	int whole;		/* reading whole messages: the header ends
				 * where the message does */
	struct uid_vec open;	/* headers without their end */
	struct fp_stream stream;
};

/* b's text without the spaces around it, as a new string; frees b. */
static char *
trimmed(struct buf *b)
{
	const char *p = buf_cstr(b);
	size_t len = b->len;
	char *out;

	while (len > 0 && *p == ' ') {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == ' ')
		len--;
	out = xstrndup(p, len);
	buf_free(b);
	return out;
}

/* The value of header field name (with its ':'), unfolded, a space for
 * a tab, other control characters '?', cut to VERIFY_FIELD_MAX;
 * "" when absent. */
static char *
field_value(const char *hdr, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	struct buf b = BUF_INIT;

	for (size_t i = 0; i + nlen <= len; i++) {
		if ((i != 0 && hdr[i - 1] != '\n') ||
		    strncasecmp(hdr + i, name, nlen) != 0)
			continue;
		for (i += nlen; i < len && b.len < VERIFY_FIELD_MAX; i++) {
			if (hdr[i] == '\r' || (hdr[i] == '\n' && i + 1 < len &&
			    (hdr[i + 1] == ' ' || hdr[i + 1] == '\t')))
				continue;
			if (hdr[i] == '\n')
				break;
			if (hdr[i] == '\t')
				buf_addc(&b, ' ');
			else
				buf_addc(&b, (unsigned char)hdr[i] < ' ' ||
				    hdr[i] == 0x7f ? '?' : hdr[i]);
		}
		break;
	}
	return trimmed(&b);
}

static int
vr_locate(struct vr_ctx *c, uint32_t uid, size_t *out)
{
	for (size_t i = c->next; i < c->side->n; i++) {
		if (c->side->v[i].uid == uid) {
			*out = i;
			c->next = i + 1;
			return 0;
		}
	}
	return -1;
}

static int
vr_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct vr_ctx *c = ctx;

	if (vr_locate(c, meta->uid, &c->current) != 0) {
		buf_setf(err, "store sent message UID %u, which was not asked "
		    "for", meta->uid);
		return -1;
	}
	fp_stream_init(&c->stream);
	return 0;
}

static int
vr_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct vr_ctx *c = ctx;

	(void)err;
	fp_stream_add(&c->stream, p, n);
	return 0;
}

static void
push_open(struct uid_vec *v, uint32_t uid)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = uid;
}

static void
free_fields(struct verify_msg *m)
{
	free(m->date);
	free(m->from);
	free(m->subject);
	free(m->msgid);
	m->date = m->from = m->subject = m->msgid = NULL;
}

static int
vr_end(void *ctx, struct buf *err)
{
	struct vr_ctx *c = ctx;
	struct verify_msg *m = &c->side->v[c->current];
	const struct buf *h = &c->stream.header;

	(void)err;
	if (!c->whole && !c->stream.header_done) {
		push_open(&c->open, m->uid);
		buf_free(&c->stream.header);
		return 0;
	}
	free_fields(m);
	m->header = hash_fnv1a64(h->data ? h->data : "", h->len);
	m->date = field_value(buf_cstr(h), h->len, "date:");
	m->from = field_value(buf_cstr(h), h->len, "from:");
	m->subject = field_value(buf_cstr(h), h->len, "subject:");
	m->msgid = field_value(buf_cstr(h), h->len, "message-id:");
	m->key = fp_stream_finish(&c->stream).hash;
	m->have = 1;
	return 0;
}

static void
vr_gone(void *ctx, uint32_t uid)
{
	struct vr_ctx *c = ctx;
	size_t i;

	if (vr_locate(c, uid, &i) == 0)
		c->side->v[i].have = 0;
}

/* uids (ascending) through the sink: their headers, or whole. */
static int
read_uids(struct store *s, const uint32_t *uids, size_t n, struct vr_ctx *c,
    struct buf *err)
{
	/* No failed(): a message that cannot be read fails the mailbox,
	 * never passes for one that is not there. */
	struct msg_sink sink = { vr_begin, vr_data, vr_end, vr_gone, c,
	    NULL };
	int rc;

	if (n == 0)
		return 0;
	c->next = 0;
	if (c->whole || s->ops->fetch_headers == NULL) {
		c->whole = 1;
		rc = s->ops->fetch(s, uids, n, &sink, err);
	} else
		rc = s->ops->fetch_headers(s, uids, n, &sink, err);
	buf_free(&c->stream.header);
	return rc;
}

static int
scan_side(struct store *s, const char *mbox, int want_sizes,
    struct verify_side *out, struct buf *err)
{
	/* Sizes only where compared: a Maildir stats every file for them. */
	struct scan_hint none = { .sizes_from = UINT32_MAX };
	struct mbox_status st;
	struct msg_list scan = { 0 };
	int rc;

	rc = s->ops->open(s, mbox, &st, err);
	if (rc == 0)
		rc = s->ops->scan(s, want_sizes ? NULL : &none, &scan, err);
	if (rc == 0)
		rc = msg_list_check(&scan, err);
	for (size_t i = 0; rc == 0 && i < scan.n; i++) {
		struct verify_msg m = { .uid = scan.v[i].uid,
		    .flags = scan.v[i].flags, .size = scan.v[i].size };

		verify_side_add(out, &m);
	}
	msg_list_free(&scan);
	return rc;
}

int
verify_read_side(struct store *s, const char *mbox, int want_sizes,
    struct verify_side *out, struct buf *err)
{
	struct vr_ctx c = { .side = out };
	uint32_t *uids;
	int rc;

	if (scan_side(s, mbox, want_sizes, out, err) != 0)
		return -1;
	uids = xcalloc(out->n + 1, sizeof(*uids));
	for (size_t i = 0; i < out->n; i++)
		uids[i] = out->v[i].uid;
	rc = read_uids(s, uids, out->n, &c, err);
	if (rc == 0 && c.open.n > 0) {
		c.whole = 1;
		rc = read_uids(s, c.open.v, c.open.n, &c, err);
	}
	free(uids);
	free(c.open.v);
	return rc;
}
