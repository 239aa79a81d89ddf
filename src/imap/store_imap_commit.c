/*
 * store_imap_commit: sending the queued appends and learning their UIDs.
 *
 * With UIDPLUS every APPEND's OK carries [APPENDUID validity uid].
 * Without it, the new messages are looked up among the UIDs at or above
 * the UIDNEXT seen before the batch: each queued message, in order, takes
 * the first unclaimed candidate with the same size and Message-ID
 * (messages from other clients are passed over). The order of the UIDs is
 * not relied on, because a server may run pipelined APPENDs in parallel.
 */
#include "imap/store_imap_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/imap_date.h"

#define HEADER_PEEK 65536

struct append_res {
	int done;
	int ok;
	uint32_t uid;
	struct buf status;
};

static void
append_done(void *ctx, const struct imap_response *r)
{
	struct append_res *res = ctx;
	uint64_t uid;

	res->done = 1;
	res->ok = imap_response_is(r, "OK");
	imap_describe_status(r, &res->status);
	if (res->ok && imap_code_name(r) != NULL &&
	    strcasecmp(imap_code_name(r), "APPENDUID") == 0 &&
	    imap_item_number(imap_code_arg(r, 1), &uid) == 0 &&
	    uid > 0 && uid <= UINT32_MAX)
		res->uid = (uint32_t)uid;
}

static void
literal_of(const struct imap_store *s, const struct queued_append *q,
    struct imap_lit *lit)
{
	lit->mem = s->spool.in_file ? NULL : s->spool.mem.data + q->off;
	lit->fd = s->spool.fd;
	lit->off = (off_t)q->off;
	lit->len = q->len;
	if (lit->mem == NULL && !s->spool.in_file)
		lit->mem = "";
}

static int
send_append(struct imap_store *s, const struct queued_append *q,
    struct append_res *res, struct buf *err)
{
	struct imap_cmdline l;
	struct imap_lit lit;
	struct buf date = BUF_INIT;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "APPEND ");
	imap_cmd_add_string(&l, s->wire, 0);
	imap_cmd_add(&l, " ");
	ims_add_flags(&l, q->flags);
	if (s->copy_arrival_date && q->date > 0) {
		imap_date_format(q->date, &date);
		imap_cmd_add(&l, " ");
		imap_cmd_add_string(&l, date.data, 0);
	}
	imap_cmd_add(&l, " ");
	literal_of(s, q, &lit);
	imap_cmd_add_literal(&l, &lit);
	rc = imap_client_submit(s->c, &l, append_done, res, err);
	imap_cmd_free(&l);
	buf_free(&date);
	return rc;
}

/* The Message-ID of a header, unfolded and trimmed; "" if none. */
static void
message_id(const char *p, size_t n, struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	while (i < n && !(p[i] == '\r' || p[i] == '\n')) {
		size_t end = i;
		int match = n - i > 11 && strncasecmp(p + i, "Message-ID:",
		    11) == 0;

		/* The field runs to a line end not followed by blanks. */
		while (end < n && !(p[end] == '\n' && (end + 1 >= n ||
		    (p[end + 1] != ' ' && p[end + 1] != '\t'))))
			end++;
		for (size_t k = i + (match ? 11 : 0); match && k < end; k++)
			if (!isspace((unsigned char)p[k]))
				buf_addc(out, p[k]);
		if (match)
			return;
		i = end + 1;
	}
	buf_setf(out, "%s", "");
}

static int
queued_message_id(struct imap_store *s, const struct queued_append *q,
    struct buf *out, struct buf *err)
{
	size_t n = q->len < HEADER_PEEK ? (size_t)q->len : HEADER_PEEK;
	char *head;
	ssize_t got;

	if (!s->spool.in_file) {
		message_id(s->spool.mem.data + q->off, n, out);
		return 0;
	}
	head = xmalloc(n ? n : 1);
	got = pread(s->spool.fd, head, n, (off_t)q->off);
	if (got < 0)
		ims_err(s, err, "reading the spool file: %s", strerror(errno));
	else
		message_id(head, (size_t)got, out);
	free(head);
	return got < 0 ? -1 : 0;
}

struct candidate {
	uint32_t uid;
	uint64_t size;
	char *msgid;
	int taken;
};

struct lookup_ctx {
	struct candidate *v;
	size_t n;
	uint32_t lo;
};

static int
lookup_response(void *ctx, const struct imap_response *r)
{
	struct lookup_ctx *lc = ctx;
	const struct imap_item *n = r->items, *list, *hdr = NULL;
	struct candidate c = { 0, 0, NULL, 0 };
	struct buf id = BUF_INIT;
	uint64_t uid = 0, size = 0;
	const char *str = "";
	size_t len = 0;

	if (n == NULL || n->kind != IMAP_NUMBER ||
	    !imap_atom_is(n->next, "FETCH") || n->next->next == NULL)
		return 0;
	list = n->next->next;
	for (const struct imap_item *it = list->child; it; it = it->next)
		if (it->kind == IMAP_ATOM && strncasecmp(it->str,
		    "BODY[HEADER.FIELDS", 18) == 0)
			hdr = it->next;
	if (imap_item_number(imap_fetch_find(list, "UID"), &uid) != 0 ||
	    imap_item_number(imap_fetch_find(list, "RFC822.SIZE"),
	    &size) != 0 || uid < lc->lo || uid > UINT32_MAX)
		return 0;
	imap_item_string(hdr, &str, &len);
	message_id(str, len, &id);
	c.uid = (uint32_t)uid;
	c.size = size;
	c.msgid = buf_detach(&id);
	lc->v = xreallocarray(lc->v, lc->n + 1, sizeof(*lc->v));
	lc->v[lc->n++] = c;
	return 0;
}

static int
cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

static int
match_queue(struct imap_store *s, struct lookup_ctx *lc,
    struct append_result *res, struct buf *err)
{
	struct buf id = BUF_INIT;

	for (size_t i = 0; i < s->nqueue; i++) {
		if (res[i].status != STORE_OK || res[i].uid != 0)
			continue;
		if (queued_message_id(s, &s->queue[i], &id, err) != 0) {
			buf_free(&id);
			return -1;
		}
		for (size_t k = 0; k < lc->n; k++) {
			struct candidate *c = &lc->v[k];

			if (c->taken || c->size != s->queue[i].len ||
			    strcmp(c->msgid, id.data) != 0)
				continue;
			c->taken = 1;
			res[i].uid = c->uid;
			break;
		}
		if (res[i].uid == 0)
			log_warn(s->base.lg, "imap store '%s' mailbox '%s': "
			    "cannot find the UID of appended message %zu "
			    "(Message-ID '%s')", s->name, s->mbox, i + 1,
			    id.data);
	}
	buf_free(&id);
	return 0;
}

static int
lookup_uids(struct imap_store *s, uint32_t lo, struct append_result *res,
    struct buf *err)
{
	struct lookup_ctx lc = { NULL, 0, lo };
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_addf(&l, "UID FETCH %u:* (UID RFC822.SIZE "
	    "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", lo);
	rc = ims_run(s, &l, lookup_response, &lc, err);
	imap_cmd_free(&l);
	if (rc == 0) {
		if (lc.n > 0)	/* lc.v is NULL: qsort() takes no NULL */
			qsort(lc.v, lc.n, sizeof(*lc.v), cmp_candidate);
		rc = match_queue(s, &lc, res, err);
	}
	for (size_t i = 0; i < lc.n; i++) {
		if (lc.v[i].uid >= s->uidnext_hint)
			s->uidnext_hint = lc.v[i].uid + 1;
		free(lc.v[i].msgid);
	}
	free(lc.v);
	return rc;
}

/* Every APPEND goes out before any answer is read; a server runs them
 * one by one, so one it refuses does not hold back the others. */
static int
send_queue(struct imap_store *s, struct append_res *res, struct buf *err)
{
	for (size_t i = 0; i < s->nqueue; i++)
		if (send_append(s, &s->queue[i], &res[i], err) != 0)
			return -1;
	return imap_client_wait(s->c, err);
}

/*
 * The answers as results. A tagged NO (or BAD) means the message was not
 * stored: refused. No answer at all (the connection failed first) means
 * nothing is known. APPENDUID belongs to UIDPLUS: a server that does not
 * announce it is not held to it (DisableExtensions UIDPLUS turns it off
 * too). Returns how many arrived without a UID.
 */
static size_t
read_answers(struct imap_store *s, const struct append_res *ans,
    struct append_result *res)
{
	size_t missing = 0;

	for (size_t i = 0; i < s->nqueue; i++) {
		res[i].status = STORE_FAILED;
		if (!ans[i].done)
			continue;
		if (!ans[i].ok) {
			res[i].status = STORE_REFUSED;
			ims_err(s, &res[i].why, "APPEND refused: %s",
			    buf_cstr(&ans[i].status));
			continue;
		}
		res[i].status = STORE_OK;
		if (imap_client_has(s->c, CAP_UIDPLUS))
			res[i].uid = ans[i].uid;
		missing += res[i].uid == 0;
		if (res[i].uid >= s->uidnext_hint)
			s->uidnext_hint = res[i].uid + 1;
	}
	return missing;
}

static int
commit_queue(struct imap_store *s, struct append_result *res,
    struct buf *err)
{
	struct append_res *ans = xcalloc(s->nqueue, sizeof(*ans));
	uint32_t lo = s->uidnext_hint ? s->uidnext_hint : 1;
	int rc = send_queue(s, ans, err);
	size_t missing = read_answers(s, ans, res);

	if (rc == 0 && missing > 0) {
		log_debug(s->base.lg, "imap store '%s' mailbox '%s': looking "
		    "up the UIDs of %zu appended messages from UID %u",
		    s->name, s->mbox, missing, lo);
		rc = lookup_uids(s, lo, res, err);
	}
	for (size_t i = 0; i < s->nqueue; i++)
		buf_free(&ans[i].status);
	free(ans);
	return rc;
}

int
ims_commit(struct store *st, struct append_result **res, size_t *nres,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	size_t ok = 0;
	int rc;

	*res = NULL;
	*nres = 0;
	if (s->nqueue == 0)
		return 0;
	*res = xcalloc(s->nqueue, sizeof(**res));
	*nres = s->nqueue;
	for (size_t i = 0; i < s->nqueue; i++)
		(*res)[i].status = STORE_FAILED;
	rc = ims_require_open(s, err);
	if (rc == 0) {
		rc = commit_queue(s, *res, err);
		for (size_t i = 0; i < s->nqueue; i++)
			ok += (*res)[i].status == STORE_OK;
		log_verbose(s->base.lg, "imap store '%s' mailbox '%s': "
		    "appended %zu of %zu messages", s->name, s->mbox, ok,
		    s->nqueue);
	}
	ims_spool_reset(s);
	return rc;
}
