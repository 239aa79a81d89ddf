/*
 * store_imap_list: the listing of the store's mailboxes (LIST, or LSUB
 * with SubscribedOnly; with LIST-STATUS's statuses for peek(), see
 * store_imap_peek.c), and the discovery of the namespace prefix and the
 * hierarchy delimiter (NAMESPACE) that the listing goes out with.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>

struct list_ctx {
	struct imap_store *s;
	struct strlist *names;
	struct buf err;
};

static int
selectable(const struct imap_item *attrs)
{
	for (const struct imap_item *a = attrs ? attrs->child : NULL; a;
	    a = a->next)
		if (imap_atom_is(a, "\\Noselect") ||
		    imap_atom_is(a, "\\NonExistent"))
			return 0;
	return 1;
}

/* 1 if wire is one of this store's mailboxes (added to names). */
static int
list_one(struct list_ctx *lc, const char *wire)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	int rc = ims_from_wire(lc->s, wire, &name, &why);

	if (rc < 0)
		log_warn(lc->s->base.lg, "imap store '%s': skipping mailbox: "
		    "%s", lc->s->name, why.data);
	else if (rc > 0 && strncmp(wire, lc->s->prefix,
	    strlen(lc->s->prefix)) == 0 && wire[strlen(lc->s->prefix)])
		log_warn(lc->s->base.lg, "imap store '%s': skipping mailbox "
		    "'%s': its name holds '/', which is not the server's "
		    "delimiter", lc->s->name, wire);
	else if (rc == 0 && !strlist_contains(lc->names, name.data))
		strlist_add(lc->names, name.data);
	buf_free(&name);
	buf_free(&why);
	return rc == 0;
}

/* A name with a NUL byte cannot be a C string, a file name or a mailbox
 * argument: it is skipped, and said so, with every byte shown. */
static void
skip_nul_name(struct list_ctx *lc, const char *str, size_t len)
{
	struct buf shown = BUF_INIT;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c >= 0x20 && c <= 0x7e && c != '\\')
			buf_addc(&shown, (char)c);
		else
			buf_addf(&shown, "\\x%02X", c);
	}
	log_warn(lc->s->base.lg, "imap store '%s': skipping mailbox '%s': its "
	    "name holds a NUL byte", lc->s->name, buf_cstr(&shown));
	buf_free(&shown);
}

static int
list_response(void *ctx, const struct imap_response *r)
{
	struct list_ctx *lc = ctx;
	const struct imap_item *it = r->items;
	const struct imap_item *attrs, *name;
	const char *str;
	size_t len;

	if (lc->s->peek.list_status && imap_atom_is(it, "STATUS")) {
		ims_peek_take(lc->s, r);
		return 0;
	}
	if (!imap_atom_is(it, lc->s->subscribed_only ? "LSUB" : "LIST"))
		return 0;
	attrs = it->next;
	name = attrs && attrs->next ? attrs->next->next : NULL;
	if (selectable(attrs) &&
	    imap_item_string(name, &str, &len) == 0) {
		if (strlen(str) == len) {
			/* Listed with NAMESPACE: named once the prefix is
			 * known (prelisted()). */
			if (lc->names != NULL)
				list_one(lc, str);
			if (!strlist_contains(&lc->s->peek.listed, str))
				strlist_add(&lc->s->peek.listed, str);
		} else
			skip_nul_name(lc, str, len);
	}
	return 0;
}

static void
list_command(const struct imap_store *s, const char *pat,
    struct imap_cmdline *l)
{
	imap_cmd_init(l);
	imap_cmd_add(l, s->subscribed_only ? "LSUB \"\" " : "LIST \"\" ");
	imap_cmd_add_string(l, pat, 0);
	if (s->peek.list_status)
		imap_cmd_addf(l, " RETURN (STATUS%s)", ims_peek_items(s));
}

static int
list_pattern(struct imap_store *s, struct list_ctx *lc, const char *pat,
    struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	list_command(s, pat, &l);
	rc = ims_run(s, &l, list_response, lc, err);
	imap_cmd_free(&l);
	return rc;
}

/* The statuses of a listing for peek(): LIST-STATUS where offered, and
 * not with LSUB, which cannot ask for them. */
static void
list_begin(struct imap_store *s)
{
	ims_peek_clear(s);
	s->peek.list_status = !s->subscribed_only &&
	    imap_client_has(s->c, CAP_LIST_STATUS);
}

/*
 * The listing sent with NAMESPACE (ask_server()), answered before the
 * prefix was known: "*" lists a superset of what the prefix's pattern
 * would, and the names outside the prefix are dropped now.
 */
static void
prelisted(struct imap_store *s, struct list_ctx *lc)
{
	struct strlist raw = s->peek.listed;

	s->peek.prelisted = 0;
	if (s->peek.list_status)
		ims_peek_listed(s);
	memset(&s->peek.listed, 0, sizeof(s->peek.listed));
	for (size_t i = 0; i < raw.n; i++)
		if (list_one(lc, raw.v[i]))
			strlist_add(&s->peek.listed, raw.v[i]);
	strlist_free(&raw);
}

static int
list_all(struct imap_store *s, struct list_ctx *lc, struct buf *err)
{
	struct buf pat = BUF_INIT;
	int rc;

	buf_setf(&pat, "%s*", s->prefix);
	rc = list_pattern(s, lc, pat.data, err);
	if (rc == 0 && s->prefix[0] != '\0')
		rc = list_pattern(s, lc, "INBOX", err);
	buf_free(&pat);
	return rc;
}

/*
 * With LIST-STATUS (RFC 5819) the listing brings every mailbox's status
 * for peek() (store_imap_peek.c). LSUB cannot ask for it: SubscribedOnly
 * gets its statuses from peek()'s STATUS burst. A server that refuses
 * the extended LIST it advertised is listed again plainly, with a warning.
 */
int
ims_list(struct store *st, struct strlist *names, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct list_ctx lc = { s, names, BUF_INIT };
	int rc;

	if (s->peek.prelisted) {
		prelisted(s, &lc);
		strlist_sort(names);
		return 0;
	}
	list_begin(s);
	rc = list_all(s, &lc, err);
	if (rc != 0 && s->peek.list_status && !imap_client_broken(s->c)) {
		log_warn(s->base.lg, "%s; listing again without statuses, "
		    "and every mailbox is opened to learn its status",
		    buf_cstr(err));
		ims_peek_clear(s);
		s->peek.burst_done = 1;
		strlist_free(names);
		rc = list_all(s, &lc, err);
	}
	if (s->peek.list_status)
		ims_peek_listed(s);
	strlist_sort(names);
	buf_free(&lc.err);
	return rc;
}

struct ns_ctx {
	char *prefix;
	char delim;
	int got;
};

static void
take_delim(const struct imap_item *d, struct ns_ctx *nc)
{
	const char *str;
	size_t len;

	if (imap_item_string(d, &str, &len) == 0 && len == 1)
		nc->delim = str[0];
}

static int
namespace_response(void *ctx, const struct imap_response *r)
{
	struct ns_ctx *nc = ctx;
	const struct imap_item *personal, *first;
	const char *str;
	size_t len;

	if (!imap_atom_is(r->items, "NAMESPACE"))
		return 0;
	personal = r->items->next;
	first = personal && personal->kind == IMAP_LIST ? personal->child :
	    NULL;
	if (first == NULL || first->kind != IMAP_LIST ||
	    imap_item_string(first->child, &str, &len) != 0)
		return 0;
	free(nc->prefix);
	nc->prefix = xstrndup(str, len);
	take_delim(first->child->next, nc);
	nc->got = 1;
	return 0;
}

static int
delim_response(void *ctx, const struct imap_response *r)
{
	struct ns_ctx *nc = ctx;

	if (imap_atom_is(r->items, "LIST") && r->items->next != NULL) {
		take_delim(r->items->next->next, nc);
		nc->got = 1;
	}
	return 0;
}

/* NAMESPACE and the listing in flight together: one handler for both,
 * each part taking what is its own. */
struct first_ctx {
	struct ns_ctx *nc;
	struct list_ctx lc;
};

static int
first_response(void *ctx, const struct imap_response *r)
{
	struct first_ctx *fc = ctx;

	namespace_response(fc->nc, r);
	return list_response(&fc->lc, r);
}

struct first_done {
	int ok;
	struct buf status;
};

static void
first_done(void *ctx, const struct imap_response *tagged)
{
	struct first_done *d = ctx;

	d->ok = imap_response_is(tagged, "OK");
	imap_describe_status(tagged, &d->status);
}

static int
submit_first(struct imap_store *s, struct imap_cmdline *l,
    struct first_done *d, struct buf *err)
{
	int rc = imap_client_submit(s->c, l, first_done, d, err);

	imap_cmd_free(l);
	return rc;
}

/*
 * NAMESPACE with `LIST "" "*"` (or LSUB, with LIST-STATUS's RETURN where
 * it applies) behind it: one round trip for both. The listing is kept for
 * the first list(), which names its mailboxes once the prefix is known
 * (prelisted()). A listing the server refuses is simply sent again by
 * list(); a refused NAMESPACE fails as it always did.
 */
static int
namespace_and_list(struct imap_store *s, struct ns_ctx *nc, struct buf *err)
{
	struct first_ctx fc = { nc, { s, NULL, BUF_INIT } };
	struct first_done ns = { 0, BUF_INIT }, ls = { 0, BUF_INIT };
	struct imap_cmdline l;
	int rc;

	list_begin(s);
	s->op_fn = first_response;
	s->op_ctx = &fc;
	imap_cmd_init(&l);
	imap_cmd_add(&l, "NAMESPACE");
	rc = submit_first(s, &l, &ns, err);
	list_command(s, "*", &l);
	if (rc == 0)
		rc = submit_first(s, &l, &ls, err);
	else
		imap_cmd_free(&l);
	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	if (rc == 0 && !ns.ok) {
		buf_setf(err, "%s: NAMESPACE: %s", imap_client_peer(s->c),
		    buf_cstr(&ns.status));
		rc = -1;
	}
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	if (rc == 0 && ls.ok)
		s->peek.prelisted = 1;
	else
		ims_peek_clear(s);
	buf_free(&ns.status);
	buf_free(&ls.status);
	buf_free(&fc.lc.err);
	return rc;
}

static int
ask_server(struct imap_store *s, int use_namespace, int prelist,
    struct ns_ctx *nc, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	if (use_namespace && imap_client_has(s->c, CAP_NAMESPACE)) {
		if (prelist)
			rc = namespace_and_list(s, nc, err);
		else {
			imap_cmd_add(&l, "NAMESPACE");
			rc = ims_run(s, &l, namespace_response, nc, err);
		}
		imap_cmd_free(&l);
		if (rc != 0 || nc->delim != '\0')
			return rc;
		imap_cmd_init(&l);
	}
	imap_cmd_add(&l, "LIST \"\" \"\"");
	rc = ims_run(s, &l, delim_response, nc, err);
	imap_cmd_free(&l);
	return rc;
}

int
ims_discover_hierarchy(struct imap_store *s, int use_namespace,
    char delim_override, const char *path, int no_list, struct buf *err)
{
	struct ns_ctx nc = { NULL, '\0', 0 };
	struct buf prefix = BUF_INIT;

	/* The listing goes out with NAMESPACE when it needs no more than
	 * the prefix NAMESPACE tells (no Path), unless list() will not be
	 * called (another connection listed). */
	if (ask_server(s, use_namespace, !no_list && (path == NULL ||
	    *path == '\0'), &nc, err) != 0) {
		free(nc.prefix);
		return -1;
	}
	s->delim = delim_override ? delim_override : nc.delim ? nc.delim :
	    '/';
	buf_adds(&prefix, nc.prefix ? nc.prefix : "");
	buf_adds(&prefix, path ? path : "");
	s->prefix = buf_detach(&prefix);
	free(nc.prefix);
	log_debug(s->base.lg, "imap store '%s': prefix '%s', delimiter '%c'",
	    s->name, s->prefix, s->delim);
	return 0;
}
