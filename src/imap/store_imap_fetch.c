/*
 * store_imap_fetch: streaming messages to a sink.
 *
 * The sink must see the messages in the order asked for, but a server
 * may run pipelined FETCH commands in parallel and interleave their
 * answers (Dovecot does). Within one command, though, answers come in
 * mailbox order, which is UID order. So an ascending request is sent as
 * "UID FETCH <set> (UID FLAGS INTERNALDATE BODY.PEEK[])", one UID set at
 * a time; any other request one message at a time.
 *
 * Gone only on the server's word (DESIGN.md invariant 8): a BODY[] that is
 * NIL (or anything but a string) says the message was expunged. A
 * requested UID that the server passes over is gone if the command ends
 * in OK (the UID is no longer in the mailbox) or in NO [EXPUNGEISSUED];
 * after any other NO or BAD it failed for this run (sink->failed()) and
 * stays wanted. A broken connection fails the whole fetch.
 *
 * Bodies up to the parser's inline limit arrive whole inside their FETCH
 * response; larger ones stream through the literal callback before the
 * response is complete, possibly before its UID: their UID comes from the
 * sequence number, and the UID in the completed response must agree.
 * The sink sees begin, data, end for one message at a time: a streamed
 * body is open from its first chunk until its response completes, and a
 * second body in that time, a body in a tagged response or one whose
 * response turns out not to be a FETCH fails the fetch (the sink's
 * message is then cancelled, never finished with other bytes in it).
 *
 * A header fetch is the same with "UID FETCH <set> (UID BODY.PEEK[HEADER])"
 * and BODY[HEADER] in the place of BODY[]: the header up to its empty line
 * (RFC 3501), all that first contact's cheap pass reads.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/uidset.h"

#define UIDSET_MAX 4000

struct fetch_ctx {
	struct imap_store *s;
	const struct msg_sink *sink;
	const char *item;	/* "BODY[]" or "BODY[HEADER]" */
	const char *ask;	/* the FETCH items that bring it */
	const uint32_t *want;	/* this command's UIDs, ascending */
	size_t n;
	size_t next;		/* first not yet answered */
	uint32_t *unanswered;	/* passed over: the tagged answer decides */
	size_t nunanswered;
	int failed;
	int streaming;		/* a streamed body begun, its response open */
	uint64_t stream_seq;	/* that response (imap_response.seq) */
	struct buf err;
	int tag_ok;		/* the command's tagged answer: OK */
	int expunge_issued;	/* NO [EXPUNGEISSUED] */
	struct buf status;	/* its text, "NO [CODE] text" */
};

static void
fail(struct fetch_ctx *f, const char *msg)
{
	if (!f->failed)
		buf_setf(&f->err, "%s", msg);
	f->failed = 1;
}

/* Make uid the current message. Earlier ones of the set were passed over:
 * the command's tagged answer decides what became of them
 * (settle_unanswered()). */
static int
reach(struct fetch_ctx *f, uint32_t uid)
{
	size_t k = f->next;
	struct buf msg = BUF_INIT;

	while (k < f->n && f->want[k] != uid)
		k++;
	if (k == f->n) {
		buf_setf(&msg, "the server sent UID %u, which was not asked "
		    "for or came out of order", uid);
		fail(f, msg.data);
		buf_free(&msg);
		return -1;
	}
	for (; f->next < k; f->next++) {
		f->unanswered = xreallocarray(f->unanswered,
		    f->nunanswered + 1, sizeof(*f->unanswered));
		f->unanswered[f->nunanswered++] = f->want[f->next];
	}
	return 0;
}

static void
report_gone(struct fetch_ctx *f, uint32_t uid)
{
	if (!f->failed && f->sink->gone != NULL)
		f->sink->gone(f->sink->ctx, uid);
}

static void
meta_for(struct fetch_ctx *f, uint32_t uid, uint64_t size,
    struct msg_meta *m)
{
	const struct msg_meta *k = msg_list_find(&f->s->known, uid);

	memset(m, 0, sizeof(*m));
	if (k != NULL)
		*m = *k;
	m->uid = uid;
	m->size = size;
}

static void
sink_call(struct fetch_ctx *f, int rc, struct buf *why)
{
	if (rc != 0)
		fail(f, buf_cstr(why));
}

static uint32_t
uid_of_seq(const struct imap_store *s, uint64_t seq)
{
	return seq > 0 && seq <= s->nseq ? s->seq[seq - 1] : 0;
}

static int
fetch_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct imap_store *s = ctx;
	struct fetch_ctx *f = s->op_ctx;
	struct buf why = BUF_INIT;

	if (f == NULL || w->item_name == NULL ||
	    strcasecmp(w->item_name, f->item) != 0)
		return -1;
	if (w->offset == 0 && (w->tag != NULL || f->streaming)) {
		fail(f, w->tag != NULL ? "the server sent a body in a tagged "
		    "answer" : "the server sent a second body in one FETCH "
		    "response");
		return 0;
	}
	if (w->offset == 0) {
		uint32_t uid = uid_of_seq(s, w->number);
		struct msg_meta m;

		if (uid == 0 && f->next < f->n)
			uid = f->want[f->next];
		if (reach(f, uid) == 0 && !f->failed) {
			meta_for(f, uid, w->size, &m);
			sink_call(f, f->sink->begin(f->sink->ctx, &m, &why),
			    &why);
			f->streaming = !f->failed;
			f->stream_seq = w->seq;
		}
	}
	if (f->streaming && !f->failed)
		sink_call(f, f->sink->data(f->sink->ctx, p, n, &why), &why);
	buf_free(&why);
	return 0;
}

static void
deliver_inline(struct fetch_ctx *f, uint32_t uid,
    const struct imap_item *list, const struct imap_item *body)
{
	struct buf why = BUF_INIT;
	struct msg_meta m;
	const char *str;
	size_t len;

	/* NIL, or anything but a string: the server says it is gone. */
	if (body->kind != IMAP_STRING) {
		report_gone(f, uid);
		return;
	}
	str = body->str;
	len = body->len;
	meta_for(f, uid, len, &m);
	m.flags = ims_parse_flags(imap_fetch_find(list, "FLAGS"));
	if (f->sink->begin(f->sink->ctx, &m, &why) != 0 ||
	    (len > 0 && f->sink->data(f->sink->ctx, str, len, &why) != 0) ||
	    f->sink->end(f->sink->ctx, &why) != 0)
		fail(f, buf_cstr(&why));
	buf_free(&why);
}

static void
finish_streamed(struct fetch_ctx *f, uint64_t uid)
{
	struct buf why = BUF_INIT;

	if (f->failed)
		return;
	if (uid == 0)
		fail(f, "the server sent a body without its UID");
	else if (f->next >= f->n || uid != f->want[f->next]) {
		buf_setf(&why, "the server sent the body of UID %llu in the "
		    "place of another message", (unsigned long long)uid);
		fail(f, why.data);
	} else
		sink_call(f, f->sink->end(f->sink->ctx, &why), &why);
	buf_free(&why);
}

static int
fetch_response(void *ctx, const struct imap_response *r)
{
	struct fetch_ctx *f = ctx;
	const struct imap_item *n = r->items, *list, *body;
	uint64_t uid = 0;
	int streamed = f->streaming && r->seq == f->stream_seq;

	if (streamed)
		f->streaming = 0;
	if (n == NULL || n->kind != IMAP_NUMBER ||
	    !imap_atom_is(n->next, "FETCH") || n->next->next == NULL ||
	    (body = imap_fetch_find(n->next->next, f->item)) == NULL) {
		if (streamed)
			fail(f, "the server sent a body outside a FETCH "
			    "response");
		return 0;	/* else a flag update from elsewhere */
	}
	list = n->next->next;
	if (imap_item_number(imap_fetch_find(list, "UID"), &uid) != 0)
		uid = uid_of_seq(f->s, n->num);
	if (body->kind == IMAP_LITERAL && !streamed)
		fail(f, "the server sent a body that did not stream");
	else if (body->kind == IMAP_LITERAL)
		finish_streamed(f, uid);
	else if (uid == 0 || uid > UINT32_MAX)
		fail(f, "the server sent a body without its UID");
	else if (reach(f, (uint32_t)uid) == 0 && !f->failed)
		deliver_inline(f, (uint32_t)uid, list, body);
	if (f->next < f->n)
		f->next++;
	return 0;
}

/* The tagged answer, read from the parsed response, never its text. */
static void
fetch_done(void *ctx, const struct imap_response *r)
{
	struct fetch_ctx *f = ctx;
	const char *code = imap_code_name(r);

	f->tag_ok = imap_response_is(r, "OK");
	f->expunge_issued = imap_response_is(r, "NO") && code != NULL &&
	    strcasecmp(code, "EXPUNGEISSUED") == 0;
	buf_reset(&f->status);
	imap_describe_status(r, &f->status);
}

/* One UID the command did not answer: gone on the server's word, else
 * failed for this run. */
static void
settle_one(struct fetch_ctx *f, uint32_t uid, const char *why)
{
	if (f->failed)
		return;
	if (f->tag_ok || f->expunge_issued)
		report_gone(f, uid);
	else if (f->sink->failed != NULL)
		f->sink->failed(f->sink->ctx, uid, why);
	else
		fail(f, why);
}

static void
settle_unanswered(struct fetch_ctx *f, const struct imap_cmdline *l)
{
	struct buf why = BUF_INIT;

	ims_err(f->s, &why, "%s: %s", buf_cstr(&l->log),
	    buf_cstr(&f->status));
	for (size_t i = 0; i < f->nunanswered; i++)
		settle_one(f, f->unanswered[i], why.data);
	for (; f->next < f->n; f->next++)
		settle_one(f, f->want[f->next], why.data);
	f->nunanswered = 0;
	buf_free(&why);
}

/* One command; -1 only when the connection failed. */
static int
fetch_set(struct fetch_ctx *f, const uint32_t *uids, size_t n,
    struct buf *err)
{
	struct imap_cmdline l;
	struct buf set = BUF_INIT;
	int rc;

	f->want = uids;
	f->n = n;
	f->next = 0;
	f->nunanswered = 0;
	f->tag_ok = f->expunge_issued = 0;
	imap_uidset_format(uids, n, 0, &set);
	imap_cmd_init(&l);
	imap_cmd_addf(&l, "UID FETCH %s (%s)", set.data, f->ask);
	rc = imap_client_submit(f->s->c, &l, fetch_done, f, err);
	if (rc == 0)
		rc = imap_client_wait(f->s->c, err);
	if (rc == 0 && f->streaming)
		fail(f, "the server never completed the response of a body "
		    "it sent");
	if (rc == 0)
		settle_unanswered(f, &l);
	imap_cmd_free(&l);
	buf_free(&set);
	return rc;
}

static int
ascending(const uint32_t *uids, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (uids[i] <= uids[i - 1])
			return 0;
	return 1;
}

static int
fetch_all(struct fetch_ctx *f, const uint32_t *uids, size_t n,
    struct buf *err)
{
	int sorted = ascending(uids, n);

	for (size_t done = 0; done < n && !f->failed;) {
		struct buf set = BUF_INIT;
		size_t take = 1;

		if (sorted)
			take = imap_uidset_format(uids + done, n - done,
			    UIDSET_MAX, &set);
		buf_free(&set);
		if (fetch_set(f, uids + done, take, err) != 0)
			return -1;
		done += take;
	}
	return 0;
}

/* Every UID of uids through f's sink; f->s, sink, item and ask are set. */
static int
fetch_items(struct fetch_ctx *f, const uint32_t *uids, size_t n,
    struct buf *err)
{
	struct imap_store *s = f->s;
	struct imap_client_handlers h = { ims_untagged, fetch_literal, s };
	int rc;

	if (ims_require_open(s, err) != 0)
		return -1;
	imap_client_set_handlers(s->c, &h);
	s->op_fn = fetch_response;
	s->op_ctx = f;
	rc = fetch_all(f, uids, n, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	h.literal = NULL;
	imap_client_set_handlers(s->c, &h);
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	else if (f->failed) {
		ims_err(s, err, "%s", f->err.data);
		rc = -1;
	}
	buf_free(&f->err);
	buf_free(&f->status);
	free(f->unanswered);
	return rc;
}

int
ims_fetch(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	struct fetch_ctx f = { .s = (struct imap_store *)st, .sink = sink,
	    .item = "BODY[]", .ask = "UID FLAGS INTERNALDATE BODY.PEEK[]",
	    .err = BUF_INIT, .status = BUF_INIT };

	return fetch_items(&f, uids, n, err);
}

int
ims_fetch_headers(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	struct fetch_ctx f = { .s = (struct imap_store *)st, .sink = sink,
	    .item = "BODY[HEADER]", .ask = "UID BODY.PEEK[HEADER]",
	    .err = BUF_INIT, .status = BUF_INIT };

	return fetch_items(&f, uids, n, err);
}
