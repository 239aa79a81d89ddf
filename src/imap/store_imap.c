/*
 * store_imap: the store_ops table of the IMAP store, its life cycle, and
 * the handling of untagged responses that every operation shares.
 */
#include "imap/store_imap_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
ims_err(struct imap_store *s, struct buf *err, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (s->mbox != NULL)
		buf_setf(err, "imap store '%s' mailbox '%s': %s", s->name,
		    s->mbox, msg.data);
	else
		buf_setf(err, "imap store '%s': %s", s->name, msg.data);
	buf_free(&msg);
}

int
ims_require_open(struct imap_store *s, struct buf *err)
{
	if (s->mbox != NULL)
		return 0;
	ims_err(s, err, "no mailbox is open");
	return -1;
}

/* The most messages a mailbox may hold by the server's word. The sequence
 * map takes 4 bytes a message, and its size comes from the server (EXISTS,
 * a FETCH's number): beyond this the connection is given up rather than
 * gigabytes allocated. 2^24 messages is 64 MiB of map, hundreds of times
 * the largest mailboxes seen in use. */
#define SEQ_MAX ((uint64_t)1 << 24)

static int
seq_too_many(struct imap_store *s, uint64_t n)
{
	if (n <= SEQ_MAX)
		return 0;
	log_warn(s->base.lg, "imap store '%s' mailbox '%s': the server numbers "
	    "a message %llu, beyond the %llu messages a mailbox may hold "
	    "here; giving up the connection", s->name, s->mbox,
	    (unsigned long long)n, (unsigned long long)SEQ_MAX);
	return 1;
}

static void
seq_resize(struct imap_store *s, size_t n)
{
	s->seq = xreallocarray(s->seq, n ? n : 1, sizeof(*s->seq));
	for (size_t i = s->nseq; i < n; i++)
		s->seq[i] = 0;
	s->nseq = n;
}

void
ims_note_expunged(struct imap_store *s, uint32_t uid)
{
	if (!s->track_expunges || uid == 0)
		return;
	s->expunged = xreallocarray(s->expunged, s->nexpunged + 1,
	    sizeof(*s->expunged));
	s->expunged[s->nexpunged++] = uid;
}

static int
on_expunge(struct imap_store *s, uint64_t n)
{
	if (n == 0 || n > s->nseq)
		return 0;	/* not ours to understand; harmless */
	ims_note_expunged(s, s->seq[n - 1]);
	memmove(&s->seq[n - 1], &s->seq[n], (s->nseq - n) * sizeof(*s->seq));
	s->nseq--;
	return 0;
}

static int
on_fetch(struct imap_store *s, uint64_t n, const struct imap_item *list)
{
	uint64_t uid;

	if (n == 0 ||
	    imap_item_number(imap_fetch_find(list, "UID"), &uid) != 0 ||
	    uid == 0 || uid > UINT32_MAX)
		return 0;
	if (seq_too_many(s, n))
		return -1;
	if (n > s->nseq)
		seq_resize(s, (size_t)n);
	s->seq[n - 1] = (uint32_t)uid;
	return 0;
}

/* The generic part: sequence numbers and UIDs, whatever the operation. */
int
ims_untagged(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	const struct imap_item *num = r->items;
	const struct imap_item *what = num ? num->next : NULL;

	/* With QRESYNC, what comes before [CLOSED] in a SELECT's answer is
	 * about the mailbox it closes (RFC 7162 3.2.11): a FETCH, VANISHED,
	 * EXPUNGE or EXISTS there must not reach the new mailbox's view. */
	if (s->qr.closing) {
		if (r->code != NULL && imap_atom_is(r->code->child, "CLOSED"))
			s->qr.closing = 0;
		else if (imap_atom_is(num, "VANISHED") ||
		    imap_atom_is(what, "FETCH") ||
		    imap_atom_is(what, "EXPUNGE") ||
		    imap_atom_is(what, "EXISTS"))
			return 0;
	}
	if (s->mbox != NULL && imap_atom_is(num, "VANISHED") &&
	    ims_on_vanished(s, what) != 0)
		return -1;
	if (s->mbox != NULL && num != NULL && num->kind == IMAP_NUMBER &&
	    what != NULL) {
		if (imap_atom_is(what, "EXISTS")) {
			if (seq_too_many(s, num->num))
				return -1;
			seq_resize(s, num->num < s->nseq ? s->nseq :
			    (size_t)num->num);
		} else if (imap_atom_is(what, "EXPUNGE")) {
			on_expunge(s, num->num);
		} else if (imap_atom_is(what, "FETCH") &&
		    what->next != NULL && what->next->kind == IMAP_LIST &&
		    on_fetch(s, num->num, what->next) != 0) {
			return -1;
		}
	}
	return s->op_fn != NULL ? s->op_fn(s->op_ctx, r) : 0;
}

int
ims_wait_burst(struct imap_store *s, int rc, struct buf *err)
{
	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}

int
ims_answer_submit(struct imap_store *s, const struct imap_cmdline *l,
    imap_done_fn done, struct ims_answer *a, struct buf *err)
{
	a->s = s;
	a->ok = 0;
	buf_reset(&a->status);
	buf_setf(&a->log, "%s", buf_cstr(&l->log));
	return imap_client_submit(s->c, l, done, a, err);
}

void
ims_answer_done(void *ctx, const struct imap_response *r)
{
	struct ims_answer *a = ctx;

	a->ok = imap_response_is(r, "OK");
	imap_describe_status(r, &a->status);
}

int
ims_answers_check(struct imap_store *s, const struct ims_answer *a,
    size_t n, struct buf *err)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i].ok) {
			ims_err(s, err, "%s: %s: %s", imap_client_peer(s->c),
			    buf_cstr(&a[i].log), buf_cstr(&a[i].status));
			return -1;
		}
	return 0;
}

void
ims_answers_free(struct ims_answer *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_free(&a[i].status);
		buf_free(&a[i].log);
	}
}

int
ims_run(struct imap_store *s, const struct imap_cmdline *l, imap_op_fn fn,
    void *ctx, struct buf *err)
{
	int rc;

	s->op_fn = fn;
	s->op_ctx = ctx;
	rc = imap_client_simple(s->c, l, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}

unsigned
ims_parse_flags(const struct imap_item *list)
{
	unsigned flags = 0;

	if (list == NULL || list->kind != IMAP_LIST)
		return 0;
	for (const struct imap_item *it = list->child; it; it = it->next)
		for (int i = 0; i < MSG_FLAG_COUNT; i++)
			if (imap_atom_is(it, msg_flag_names[i]))
				flags |= 1u << i;
	return flags;
}

void
ims_add_flags(struct imap_cmdline *l, unsigned flags)
{
	int first = 1;

	imap_cmd_add(l, "(");
	for (int i = 0; i < MSG_FLAG_COUNT; i++) {
		if (!(flags & (1u << i)))
			continue;
		imap_cmd_addf(l, "%s%s", first ? "" : " ", msg_flag_names[i]);
		first = 0;
	}
	imap_cmd_add(l, ")");
}

static void
ims_free(struct store *st)
{
	struct imap_store *s = (struct imap_store *)st;

	if (s->busy != NULL)
		ims_append_cancel(s->busy);
	if (s->nqueue > 0)
		log_warn(s->base.lg, "imap store '%s': dropping %zu appends "
		    "that were never committed", s->name, s->nqueue);
	ims_close(s);
	ims_peek_clear(s);
	ims_qresync_forget(s);
	ims_spool_reset(s);
	if (s->spool.fd >= 0)
		close(s->spool.fd);
	buf_free(&s->spool.mem);
	free(s->queue);
	imap_client_free(s->c);
	free(s->name);
	free(s->prefix);
	free(s);
}

/* A command the server refused concerns the mailbox; a connection that
 * broke (cut, timed out, BYE, a response that could not be parsed)
 * leaves nothing to talk to for the rest of the run. */
static enum store_fail
ims_failure(const struct store *st)
{
	const struct imap_store *s = (const struct imap_store *)st;

	return imap_client_broken(s->c) ? STORE_FAIL_CONNECTION :
	    STORE_FAIL_MAILBOX;
}

static void
ims_copy_arrival_date(struct store *st, int on)
{
	((struct imap_store *)st)->copy_arrival_date = on;
}

static const struct store_ops imap_ops = {
	.kind = "imap",
	.list = ims_list,
	.create = ims_create,
	.remove = ims_remove,
	.open_begin = ims_open_begin,
	.open = ims_open,
	.scan = ims_scan,
	.scan_changes = ims_scan_changes,
	.peek = ims_peek,
	.mark = ims_mark,
	.fetch = ims_fetch,
	.fetch_headers = ims_fetch_headers,
	.append_begin = ims_append_begin,
	.append_write = ims_append_write,
	.append_finish = ims_append_finish,
	.append_cancel = ims_append_cancel,
	.commit = ims_commit,
	.set_flags = ims_set_flags,
	.trash = ims_trash,
	.trash_in = ims_trash_in,
	.expunge = ims_expunge,
	.update = ims_update,
	.copy_arrival_date = ims_copy_arrival_date,
	.free = ims_free,
	.failure = ims_failure,
};

static void
client_options(const struct imap_store_options *o,
    struct imap_client_options *co)
{

	memset(co, 0, sizeof(*co));
	transport_options_init(&co->tr);
	co->label = o->label;
	co->tr.host = o->host;
	co->tr.port_number = o->port > 0 ? (unsigned)o->port : 0;
	co->tr.timeout = o->timeout;
	co->tr.tls = o->tls;
	co->tr.ca_file = o->ca_file;
	co->tr.system_certs = o->system_certs;
	co->tr.client_cert = o->client_cert;
	co->tr.client_key = o->client_key;
	co->tr.tls_versions = o->tls_versions;
	co->tr.ciphers = o->ciphers;
	co->tr.tunnel = o->tunnel;
	co->tr.stop = o->stop;
	co->user = o->user;
	co->user_cmd = o->user_cmd;
	co->pass = o->pass;
	co->pass_cmd = o->pass_cmd;
	co->secrets = o->secrets;
	co->auth_mechs = o->auth_mechs;
	co->pipeline_depth = o->pipeline_depth;
	co->disabled_exts = o->disabled_exts;
}

/* The hierarchy another connection of the run was told, else the
 * server's answer now. */
static int
take_hierarchy(struct imap_store *s, const struct imap_store_options *o,
    struct buf *err)
{
	if (o->hierarchy == NULL)
		return ims_discover_hierarchy(s, o->use_namespace,
		    o->path_delimiter, o->path, o->no_list, err);
	s->prefix = xstrdup(o->hierarchy->prefix);
	s->delim = o->hierarchy->delim;
	log_debug(s->base.lg, "imap store '%s': prefix '%s', delimiter '%c', "
	    "as another connection was told", s->name, s->prefix, s->delim);
	return 0;
}

struct store *
imap_store_new(const struct imap_store_options *o, const struct logger *lg,
    struct buf *err)
{
	struct imap_client_options co;
	struct imap_client_handlers h;
	struct imap_store *s = xcalloc(1, sizeof(*s));

	s->base.ops = &imap_ops;
	s->base.lg = lg;
	s->name = xstrdup(o->name ? o->name : "?");
	s->copy_arrival_date = o->copy_arrival_date;
	s->subscribed_only = o->subscribed_only;
	s->spool.fd = -1;
	client_options(o, &co);
	s->c = imap_client_open(&co, lg, err);
	if (s->c == NULL) {
		ims_err(s, err, "%s", buf_cstr(err));
		ims_free(&s->base);
		return NULL;
	}
	h = (struct imap_client_handlers){ ims_untagged, NULL, s };
	imap_client_set_handlers(s->c, &h);
	if (take_hierarchy(s, o, err) != 0) {
		ims_free(&s->base);
		return NULL;
	}
	return &s->base;
}

int
imap_store_hierarchy(const struct store *st, struct imap_hierarchy *out)
{
	const struct imap_store *s = (const struct imap_store *)st;

	if (st->ops != &imap_ops || s->prefix == NULL)
		return -1;
	out->prefix = xstrdup(s->prefix);
	out->delim = s->delim;
	return 0;
}

void
imap_hierarchy_free(struct imap_hierarchy *h)
{
	free(h->prefix);
	h->prefix = NULL;
	h->delim = '\0';
}

int
imap_store_rebind(struct store *st, const struct imap_store_options *o,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;

	if (st->ops != &imap_ops) {
		buf_setf(err, "store '%s' is not an IMAP store", o->name);
		return -1;
	}
	ims_close(s);
	ims_peek_clear(s);
	free(s->name);
	s->name = xstrdup(o->name ? o->name : "?");
	s->subscribed_only = o->subscribed_only;
	free(s->prefix);
	s->prefix = NULL;
	return take_hierarchy(s, o, err);
}

void
imap_store_set_stop(struct store *st, const interrupt_flag *stop)
{
	if (st->ops == &imap_ops)
		imap_client_set_stop(((struct imap_store *)st)->c, stop);
}
