/* client: commands, pipelining and response dispatch; see client.h. */
#include "imap/client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* LITERAL- allows non-synchronizing literals up to this size. */
#define LITERAL_MINUS_MAX 4096
#define LIT_CHUNK 65536

/*
 * RFC 3501 7.1: the text of an [ALERT] must be shown to the user, in any
 * response (tagged, untagged, continuation) and at any verbosity. Control
 * characters are replaced so that a server cannot drive the terminal.
 */
static void
show_alert(const struct imap_client *c, const struct imap_response *r)
{
	struct buf text = BUF_INIT;

	if (r->code == NULL || !imap_atom_is(r->code->child, "ALERT"))
		return;
	for (size_t i = 0; r->text != NULL && i < r->text->len; i++) {
		unsigned char ch = (unsigned char)r->text->str[i];

		buf_addc(&text, (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch);
	}
	log_notice(c->lg, "server alert from %s: %s", transport_peer(c->t),
	    buf_cstr(&text));
	buf_free(&text);
}

static void
note_capabilities(struct imap_client *c, const struct imap_response *r)
{
	if (r->code != NULL && imap_atom_is(r->code->child, "CAPABILITY")) {
		imap_caps_parse(&c->caps, r->code->child->next);
		c->caps_updates++;
	} else if (r->type == IMAP_UNTAGGED &&
	    imap_atom_is(r->items, "CAPABILITY")) {
		imap_caps_parse(&c->caps, r->items->next);
		c->caps_updates++;
	}
}

/* RFC 5161: "* ENABLED ext ..." lists what ENABLE switched on. */
static void
note_enabled(struct imap_client *c, const struct imap_response *r)
{
	if (r->type != IMAP_UNTAGGED || !imap_atom_is(r->items, "ENABLED"))
		return;
	for (const struct imap_item *it = r->items->next; it; it = it->next)
		if (imap_atom_is(it, "QRESYNC"))
			c->enabled |= CAP_QRESYNC | CAP_CONDSTORE;
		else if (imap_atom_is(it, "CONDSTORE"))
			c->enabled |= CAP_CONDSTORE;
}

static void
note_greeting(struct imap_client *c, const struct imap_response *r)
{
	if (imap_response_is(r, "OK"))
		c->greeted = 1;
	else if (imap_response_is(r, "PREAUTH"))
		c->greeted = 2;
	else
		c->greeted = 3;
	if (r->text != NULL)
		buf_add(&c->greeting_text, r->text->str, r->text->len);
}

static int
on_tagged(struct imap_client *c, const struct imap_response *r)
{
	for (size_t i = 0; i < c->npending; i++) {
		struct pending p = c->pending[i];

		if (strcmp(p.tag, r->tag) != 0)
			continue;
		memmove(&c->pending[i], &c->pending[i + 1],
		    (c->npending - i - 1) * sizeof(*c->pending));
		c->npending--;
		c->tagged_seen = 1;
		if (p.done != NULL)
			p.done(p.ctx, r);
		return 0;
	}
	buf_setf(&c->cb_err, "response with unknown tag '%s'", r->tag);
	return -1;
}

static int
on_response(void *ctx, const struct imap_response *r)
{
	struct imap_client *c = ctx;

	show_alert(c, r);
	if (r->type == IMAP_CONTINUATION) {
		c->continuation = 1;
		buf_reset(&c->cont_text);
		if (r->text != NULL)
			buf_add(&c->cont_text, r->text->str, r->text->len);
		return 0;
	}
	note_capabilities(c, r);
	note_enabled(c, r);
	if (r->type == IMAP_TAGGED)
		return on_tagged(c, r);
	if (!c->greeted) {
		note_greeting(c, r);
		return 0;
	}
	if (imap_response_is(r, "BYE")) {
		buf_setf(&c->cb_err, "the server closed the session: %s",
		    r->text ? r->text->str : "");
		c->bye = 1;
		return 0;
	}
	if (c->h.untagged != NULL && c->h.untagged(c->h.ctx, r) != 0) {
		buf_setf(&c->cb_err, "handling an untagged response failed");
		return -1;
	}
	return 0;
}

static int
on_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct imap_client *c = ctx;

	if (c->h.literal == NULL) {
		buf_setf(&c->cb_err, "unexpected literal of %llu bytes",
		    (unsigned long long)w->size);
		return -1;
	}
	return c->h.literal(c->h.ctx, w, p, n);
}

void
client_reset_parser(struct imap_client *c)
{
	struct imap_parser_callbacks cb = { on_response, on_literal, c };

	imap_parser_free(c->parser);
	c->parser = imap_parser_new(&cb, NULL);
}

/* Record the first fatal error; every later call reports it. */
int
client_break(struct imap_client *c, struct buf *err)
{
	if (!c->broken) {
		c->broken = 1;
		buf_setf(&c->err_text, "%s", buf_cstr(err));
		transport_close(c->t);
		imap_trace_reset(&c->tr_out);
		imap_trace_reset(&c->tr_in);
	}
	buf_setf(err, "%s", c->err_text.data);
	return -1;
}

static int
feed(struct imap_client *c, struct buf *err)
{
	size_t n = c->rlen - c->rpos;

	if (c->bytewise) {
		n = 1;
		c->tagged_seen = 0;
	}
	imap_trace_bytes(&c->tr_in, c->rbuf + c->rpos, n);
	if (imap_parser_feed(c->parser, c->rbuf + c->rpos, n) == 0) {
		c->rpos += n;
		return 0;
	}
	if (c->cb_err.len > 0)
		buf_setf(err, "%s: %s", transport_peer(c->t), c->cb_err.data);
	else
		buf_setf(err, "%s: %s", transport_peer(c->t),
		    imap_parser_error(c->parser));
	return client_break(c, err);
}

/* Read and dispatch what the server sent (at least one byte). */
int
client_pump(struct imap_client *c, struct buf *err)
{
	if (c->broken)
		return client_break(c, err);
	/* Whatever is held goes before a read that may wait for it. */
	if (c->wbuf.len > 0 && client_flush(c, err) != 0)
		return -1;
	if (c->rpos == c->rlen) {
		c->rpos = c->rlen = 0;
		if (transport_read(c->t, c->rbuf, sizeof c->rbuf, &c->rlen,
		    err) != 0) {
			if (c->cb_err.len > 0)
				buf_addf(err, " (%s)", c->cb_err.data);
			return client_break(c, err);
		}
	}
	while (c->rpos < c->rlen) {
		if (feed(c, err) != 0)
			return -1;
		if (c->bytewise && c->tagged_seen)
			break;
	}
	return 0;
}

int
client_flush(struct imap_client *c, struct buf *err)
{
	int rc;

	if (c->broken)
		return client_break(c, err);
	if (c->wbuf.len == 0)
		return 0;
	rc = transport_write(c->t, c->wbuf.data, c->wbuf.len, err);
	if (c->wbuf_secret)
		buf_wipe(&c->wbuf);
	else
		buf_reset(&c->wbuf);
	c->wbuf_secret = 0;
	return rc == 0 ? 0 : client_break(c, err);
}

/* A secret goes into room that holds the command's end too, so that the
 * buffer never moves with it inside; the flush wipes it. */
static void
wbuf_will_hold_secret(struct imap_client *c, size_t n)
{
	buf_grow(&c->wbuf, n + 2);
	c->wbuf_secret = 1;
}

void
client_queue(struct imap_client *c, const char *p, size_t n, int secret)
{
	if (secret)
		wbuf_will_hold_secret(c, n);
	buf_add(&c->wbuf, p, n);
	if (secret)
		imap_trace_secret(&c->tr_out, n);
	else
		imap_trace_bytes(&c->tr_out, p, n);
}

void
client_queues(struct imap_client *c, const char *s)
{
	client_queue(c, s, strlen(s), 0);
}

int
client_write_raw(struct imap_client *c, const char *p, size_t n, int secret,
    struct buf *err)
{
	if (client_flush(c, err) != 0)
		return -1;
	if (secret)
		imap_trace_secret(&c->tr_out, n);
	else
		imap_trace_bytes(&c->tr_out, p, n);
	if (transport_write(c->t, p, n, err) != 0)
		return client_break(c, err);
	return 0;
}

const char *
client_begin(struct imap_client *c, imap_done_fn done, void *ctx)
{
	struct pending *p;

	c->pending = xreallocarray(c->pending, c->npending + 1,
	    sizeof(*c->pending));
	p = &c->pending[c->npending++];
	snprintf(p->tag, sizeof p->tag, "T%u", ++c->tag_counter);
	p->done = done;
	p->ctx = ctx;
	client_queues(c, p->tag);
	client_queues(c, " ");
	return p->tag;
}

int
client_is_pending(const struct imap_client *c, const char *tag)
{
	for (size_t i = 0; i < c->npending; i++)
		if (strcmp(c->pending[i].tag, tag) == 0)
			return 1;
	return 0;
}

static int
write_literal_data(struct imap_client *c, const struct imap_lit *lit,
    int secret, struct buf *err)
{
	char chunk[LIT_CHUNK];
	uint64_t done = 0;

	if (lit->mem != NULL)
		return client_write_raw(c, lit->mem, lit->len, secret, err);
	while (done < lit->len) {
		size_t want = lit->len - done < sizeof chunk ?
		    (size_t)(lit->len - done) : sizeof chunk;
		ssize_t n = pread(lit->fd, chunk, want, lit->off +
		    (off_t)done);

		if (n <= 0) {
			buf_setf(err, "reading the message to send to %s: %s",
			    transport_peer(c->t), n < 0 ? strerror(errno) :
			    "file is shorter than expected");
			return client_break(c, err);
		}
		if (client_write_raw(c, chunk, (size_t)n, secret, err) != 0)
			return -1;
		done += (uint64_t)n;
	}
	return 0;
}

/* Returns 1 when the server refused the command instead of asking for
 * the literal (the command is then complete). */
static int
send_literal(struct imap_client *c, const char *tag,
    const struct imap_cmdseg *s, struct buf *err)
{
	const struct imap_lit *lit = &s->lit;
	int nonsync = imap_client_has(c, CAP_LITERALPLUS) ||
	    (imap_client_has(c, CAP_LITERALMINUS) &&
	    lit->len <= LITERAL_MINUS_MAX);
	char announce[32];

	snprintf(announce, sizeof announce, "{%llu%s}\r\n",
	    (unsigned long long)lit->len, nonsync ? "+" : "");
	client_queues(c, announce);
	if (!nonsync) {
		imap_trace_flush(&c->tr_out);
		if (client_flush(c, err) != 0)
			return -1;
		c->continuation = 0;
		while (!c->continuation) {
			if (!client_is_pending(c, tag)) {
				imap_trace_reset(&c->tr_out);
				return 1;
			}
			if (client_pump(c, err) != 0)
				return -1;
		}
		c->continuation = 0;
	}
	return write_literal_data(c, lit, s->lit_secret, err);
}

static size_t
cmdline_text_size(const struct imap_cmdline *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->nseg; i++)
		n += l->seg[i].text.len + 32;	/* and a literal's {N+} */
	return n;
}

int
imap_client_submit(struct imap_client *c, const struct imap_cmdline *l,
    imap_done_fn done, void *ctx, struct buf *err)
{
	const char *tag;
	char tagcopy[16];

	while (c->npending >= c->depth)
		if (client_pump(c, err) != 0)
			return -1;
	if (c->broken)
		return client_break(c, err);
	tag = client_begin(c, done, ctx);
	snprintf(tagcopy, sizeof tagcopy, "%s", tag);
	if (l->secret)
		wbuf_will_hold_secret(c, cmdline_text_size(l));
	for (size_t i = 0; i < l->nseg; i++) {
		const struct imap_cmdseg *s = &l->seg[i];
		int rc;

		buf_add(&c->wbuf, s->text.data ? s->text.data : "",
		    s->text.len);
		imap_trace_bytes(&c->tr_out, buf_cstr(&s->shown),
		    s->shown.len);
		if (!s->has_lit)
			continue;
		rc = send_literal(c, tagcopy, s, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
	}
	client_queues(c, "\r\n");
	return c->corked ? 0 : client_flush(c, err);
}

void
imap_client_cork(struct imap_client *c)
{
	c->corked = 1;
}

int
imap_client_uncork(struct imap_client *c, struct buf *err)
{
	c->corked = 0;
	return client_flush(c, err);
}

int
imap_client_wait(struct imap_client *c, struct buf *err)
{
	c->corked = 0;
	if (client_flush(c, err) != 0)
		return -1;
	while (c->npending > 0)
		if (client_pump(c, err) != 0)
			return -1;
	return c->broken ? client_break(c, err) : 0;
}

void
imap_describe_status(const struct imap_response *r, struct buf *out)
{
	const struct imap_item *status = r->items;

	buf_adds(out, status && status->str ? status->str : "?");
	if (imap_code_name(r) != NULL)
		buf_addf(out, " [%s]", imap_code_name(r));
	if (r->text != NULL && r->text->len > 0)
		buf_addf(out, " %s", r->text->str);
}

struct simple_result {
	int ok;
	struct buf status;
};

static void
simple_done(void *ctx, const struct imap_response *r)
{
	struct simple_result *res = ctx;

	res->ok = imap_response_is(r, "OK");
	imap_describe_status(r, &res->status);
}

int
imap_client_simple(struct imap_client *c, const struct imap_cmdline *l,
    struct buf *err)
{
	struct simple_result res = { 0, BUF_INIT };
	int rc = imap_client_submit(c, l, simple_done, &res, err);

	if (rc == 0)
		rc = imap_client_wait(c, err);
	if (rc == 0 && !res.ok) {
		buf_setf(err, "%s: %s: %s", transport_peer(c->t),
		    buf_cstr(&l->log), buf_cstr(&res.status));
		rc = -1;
	}
	buf_free(&res.status);
	return rc;
}

const struct imap_caps *
imap_client_caps(const struct imap_client *c)
{
	return &c->caps;
}

int
imap_client_has(const struct imap_client *c, unsigned cap)
{
	return (c->caps.bits & cap) != 0;
}

int
imap_client_enabled(struct imap_client *c, unsigned cap, struct buf *err)
{
	while (c->enable_pending)
		if (client_pump(c, err) != 0)
			return -1;
	return (c->enabled & cap) != 0;
}

const char *
imap_client_peer(const struct imap_client *c)
{
	return transport_peer(c->t);
}

int
imap_client_broken(const struct imap_client *c)
{
	return c->broken;
}

void
imap_client_set_stop(struct imap_client *c, const interrupt_flag *stop)
{
	transport_set_stop(c->t, stop);
}

void
imap_client_set_handlers(struct imap_client *c,
    const struct imap_client_handlers *h)
{
	if (h != NULL)
		c->h = *h;
	else
		memset(&c->h, 0, sizeof c->h);
}
