/* verify_read: reading one side for a verification; see verify_read.h. */
#include "sync/verify_read.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/hash.h"
#include "sync/fingerprint.h"

/* Longest header value kept for the report. */
#define VERIFY_FIELD_MAX 200

struct vr_ctx {
	struct fp_cursor cur;		/* first: the sink's ctx; over the
					 * side's UIDs */
	struct verify_side *side;	/* aligned with the scan */
	int whole;		/* reading whole messages: the header ends
				 * where the message does */
	struct uid_vec open;	/* headers without their end */
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

/* A header field's value from i, the byte after its ':', to its end:
 * unfolded, a space for a tab, other control characters '?', cut to
 * VERIFY_FIELD_MAX. */
static char *
value_at(const char *hdr, size_t len, size_t i)
{
	struct buf b = BUF_INIT;

	for (; i < len && b.len < VERIFY_FIELD_MAX; i++) {
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
	return trimmed(&b);
}

/* The first Date, From, Subject and Message-ID of a header into m, in
 * one pass over its lines; "" for those it lacks. */
static void
fields_of(const char *hdr, size_t len, struct verify_msg *m)
{
	static const char *const names[4] = { "date:", "from:", "subject:",
	    "message-id:" };
	char **at[4] = { &m->date, &m->from, &m->subject, &m->msgid };

	for (size_t i = 0; i < len; i++) {
		if (i != 0 && hdr[i - 1] != '\n')
			continue;
		for (int k = 0; k < 4; k++) {
			size_t nlen = strlen(names[k]);

			if (*at[k] == NULL && i + nlen <= len &&
			    strncasecmp(hdr + i, names[k], nlen) == 0)
				*at[k] = value_at(hdr, len, i + nlen);
		}
	}
	for (int k = 0; k < 4; k++)
		if (*at[k] == NULL)
			*at[k] = xstrdup("");
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
	struct verify_msg *m = &c->side->v[c->cur.current];
	const struct buf *h = &c->cur.stream.header;
	struct fingerprint fp;

	(void)err;
	if (!c->whole && !c->cur.stream.header_done) {
		uid_vec_push(&c->open, m->uid);
		buf_free(&c->cur.stream.header);
		return 0;
	}
	free_fields(m);
	m->header = hash_fnv1a64(h->data ? h->data : "", h->len);
	fields_of(buf_cstr(h), h->len, m);
	fp = fp_stream_finish(&c->cur.stream);
	m->key = fp.hash;
	/* Read whole and empty: nothing a sync would copy, so nothing to
	 * compare either. */
	m->empty = c->whole && fp.size == 0;
	m->have = !m->empty;
	return 0;
}

static void
vr_gone(void *ctx, uint32_t uid)
{
	struct vr_ctx *c = ctx;
	size_t i;

	if (fp_cursor_locate(&c->cur, uid, &i) == 0)
		c->side->v[i].have = 0;
}

/* uids (ascending) through the sink: their headers, or whole. */
static int
read_uids(struct store *s, const uint32_t *uids, size_t n, struct vr_ctx *c,
    struct buf *err)
{
	/* No failed(): a message that cannot be read fails the mailbox,
	 * never passes for one that is not there. */
	struct msg_sink sink = { fp_cursor_begin, fp_cursor_data, vr_end,
	    vr_gone, c, NULL };
	int rc;

	if (n == 0)
		return 0;
	c->cur.next = 0;
	if (c->whole || s->ops->fetch_headers == NULL) {
		c->whole = 1;
		rc = s->ops->fetch(s, uids, n, &sink, err);
	} else
		rc = s->ops->fetch_headers(s, uids, n, &sink, err);
	buf_free(&c->cur.stream.header);
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
	c.cur.uids = uids;
	c.cur.n = out->n;
	rc = read_uids(s, uids, out->n, &c, err);
	if (rc == 0 && c.open.n > 0) {
		c.whole = 1;
		rc = read_uids(s, c.open.v, c.open.n, &c, err);
	}
	free(uids);
	free(c.open.v);
	return rc;
}
