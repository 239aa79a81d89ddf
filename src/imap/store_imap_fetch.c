/*
 * store_imap_fetch: streaming messages to a sink with one pipelined
 * "UID FETCH <uid> (UID FLAGS INTERNALDATE BODY.PEEK[])" per message.
 *
 * Bodies up to the parser's inline limit arrive whole inside their FETCH
 * response; larger ones stream through the literal callback before the
 * response is complete, possibly before its UID. Such a body belongs to
 * the oldest message that has neither arrived nor been answered, because
 * the server answers the commands in order; the UID in the completed
 * response must then agree, or the fetch fails.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>

enum fetch_state { F_WAITING, F_STREAMING, F_DONE };

struct fetch_item {
	uint32_t uid;
	enum fetch_state state;
};

struct fetch_ctx {
	struct imap_store *s;
	const struct msg_sink *sink;
	struct fetch_item *items;
	size_t n;
	size_t head;		/* first item not yet F_DONE */
	int sink_failed;
	int proto_failed;
	struct buf err;
};

static void
advance(struct fetch_ctx *f)
{
	while (f->head < f->n && f->items[f->head].state == F_DONE)
		f->head++;
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
sink_fail(struct fetch_ctx *f, struct buf *why)
{
	if (!f->sink_failed && !f->proto_failed)
		buf_setf(&f->err, "%s", buf_cstr(why));
	f->sink_failed = 1;
}

static int
fetch_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct imap_store *s = ctx;
	struct fetch_ctx *f = s->op_ctx;
	struct buf why = BUF_INIT;
	struct fetch_item *it;

	if (f == NULL || w->item_name == NULL ||
	    strcasecmp(w->item_name, "BODY[]") != 0 || f->head >= f->n)
		return -1;
	it = &f->items[f->head];
	if (w->offset == 0 && !f->sink_failed) {
		struct msg_meta m;

		meta_for(f, it->uid, w->size, &m);
		if (f->sink->begin(f->sink->ctx, &m, &why) != 0)
			sink_fail(f, &why);
	}
	it->state = F_STREAMING;
	if (!f->sink_failed && f->sink->data(f->sink->ctx, p, n, &why) != 0)
		sink_fail(f, &why);
	buf_free(&why);
	return 0;
}

static struct fetch_item *
item_for_uid(struct fetch_ctx *f, uint32_t uid)
{
	for (size_t i = f->head; i < f->n; i++)
		if (f->items[i].uid == uid && f->items[i].state != F_DONE)
			return &f->items[i];
	return NULL;
}

static void
deliver_inline(struct fetch_ctx *f, struct fetch_item *it,
    const struct imap_item *list, const struct imap_item *body)
{
	struct buf why = BUF_INIT;
	struct msg_meta m;
	const char *str;
	size_t len;

	imap_item_string(body, &str, &len);
	meta_for(f, it->uid, len, &m);
	m.flags = ims_parse_flags(imap_fetch_find(list, "FLAGS"));
	if (f->sink->begin(f->sink->ctx, &m, &why) != 0 ||
	    (len > 0 && f->sink->data(f->sink->ctx, str, len, &why) != 0) ||
	    f->sink->end(f->sink->ctx, &why) != 0)
		sink_fail(f, &why);
	buf_free(&why);
}

static void
finish_streamed(struct fetch_ctx *f, struct fetch_item *it, uint64_t uid)
{
	struct buf why = BUF_INIT;

	if (uid != 0 && uid != it->uid) {
		buf_setf(&f->err, "the server sent the body of UID %llu "
		    "where UID %u was expected", (unsigned long long)uid,
		    it->uid);
		f->proto_failed = 1;
		return;
	}
	if (!f->sink_failed && f->sink->end(f->sink->ctx, &why) != 0)
		sink_fail(f, &why);
	buf_free(&why);
}

static int
fetch_response(void *ctx, const struct imap_response *r)
{
	struct fetch_ctx *f = ctx;
	const struct imap_item *n = r->items, *list, *body;
	struct fetch_item *it;
	uint64_t uid = 0;

	if (n == NULL || n->kind != IMAP_NUMBER ||
	    !imap_atom_is(n->next, "FETCH") || n->next->next == NULL)
		return 0;
	list = n->next->next;
	body = imap_fetch_find(list, "BODY[]");
	if (body == NULL)
		return 0;	/* a flag update from elsewhere */
	imap_item_number(imap_fetch_find(list, "UID"), &uid);
	if (body->kind == IMAP_LITERAL) {
		if (f->head >= f->n ||
		    f->items[f->head].state != F_STREAMING)
			return -1;
		it = &f->items[f->head];
		finish_streamed(f, it, uid);
	} else {
		it = item_for_uid(f, (uint32_t)uid);
		if (it == NULL || uid == 0)
			return 0;	/* not asked for: ignore */
		if (!f->sink_failed)
			deliver_inline(f, it, list, body);
	}
	it->state = F_DONE;
	advance(f);
	return 0;
}

struct fetch_cmd {
	struct fetch_ctx *f;
	size_t index;
};

static void
fetch_done(void *ctx, const struct imap_response *r)
{
	struct fetch_cmd *fc = ctx;
	struct fetch_ctx *f = fc->f;
	struct fetch_item *it = &f->items[fc->index];

	if (it->state == F_DONE)
		return;
	if (imap_response_is(r, "BAD") || it->state == F_STREAMING) {
		if (!f->proto_failed) {
			buf_reset(&f->err);
			buf_addf(&f->err, "UID FETCH %u: ", it->uid);
			imap_describe_status(r, &f->err);
		}
		f->proto_failed = 1;
	} else if (!f->sink_failed && f->sink->gone != NULL) {
		/* OK without data, or NO: the message is gone. */
		f->sink->gone(f->sink->ctx, it->uid);
	}
	it->state = F_DONE;
	advance(f);
}

static int
send_all(struct fetch_ctx *f, struct fetch_cmd *cmds, struct buf *err)
{
	for (size_t i = 0; i < f->n; i++) {
		struct imap_cmdline l;
		int rc;

		cmds[i].f = f;
		cmds[i].index = i;
		imap_cmd_init(&l);
		imap_cmd_addf(&l, "UID FETCH %u (UID FLAGS INTERNALDATE "
		    "BODY.PEEK[])", f->items[i].uid);
		rc = imap_client_submit(f->s->c, &l, fetch_done, &cmds[i],
		    err);
		imap_cmd_free(&l);
		if (rc != 0)
			return -1;
		if (f->sink_failed || f->proto_failed)
			break;	/* stop asking; drain what is in flight */
	}
	return imap_client_wait(f->s->c, err);
}

int
ims_fetch(struct store *st, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct fetch_ctx f = { s, sink, NULL, n, 0, 0, 0, BUF_INIT };
	struct fetch_cmd *cmds = xcalloc(n ? n : 1, sizeof(*cmds));
	struct imap_client_handlers h = { ims_untagged, fetch_literal, s };
	int rc;

	if (ims_require_open(s, err) != 0) {
		free(cmds);
		return -1;
	}
	f.items = xcalloc(n ? n : 1, sizeof(*f.items));
	for (size_t i = 0; i < n; i++)
		f.items[i].uid = uids[i];
	imap_client_set_handlers(s->c, &h);
	s->op_fn = fetch_response;
	s->op_ctx = &f;
	rc = send_all(&f, cmds, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	h.literal = NULL;
	imap_client_set_handlers(s->c, &h);
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	else if (f.sink_failed || f.proto_failed) {
		ims_err(s, err, "%s", f.err.data);
		rc = -1;
	}
	buf_free(&f.err);
	free(f.items);
	free(cmds);
	return rc;
}
