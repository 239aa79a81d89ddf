/* store_imap_notify: NOTIFY (RFC 5465) on an IMAP store, for watch mode:
 * one connection told of changes in several mailboxes; see
 * store_imap.h. */
#include "imap/store_imap_int.h"

#include <string.h>

static int
has_name(const struct strlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return 1;
	return 0;
}

/* A STATUS names a mailbox that changed (RFC 5465 5.1, 5.2); the
 * selected mailbox's EXISTS/EXPUNGE/FETCH cannot come: none is. */
static int
notify_note(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	const struct imap_item *name = r->items ? r->items->next : NULL;
	struct buf inner = BUF_INIT, err = BUF_INIT;
	const char *str;
	size_t len;

	if (!imap_atom_is(r->items, "STATUS") ||
	    imap_item_string(name, &str, &len) != 0 || strlen(str) != len)
		return 0;
	if (ims_from_wire(s, str, &inner, &err) == 0 &&
	    s->notify_seen != NULL && !has_name(s->notify_seen, inner.data))
		strlist_add(s->notify_seen, inner.data);
	buf_free(&inner);
	buf_free(&err);
	return 0;
}

/* NOTIFY SET (mailboxes (A B ...) (MessageNew MessageExpunge
 * FlagChange)): 0, IMAP_NOTIFY_REFUSED, or -1 on a failure. */
static int
notify_set(struct imap_store *s, const struct strlist *boxes,
    struct buf *err)
{
	struct imap_cmdline l;
	struct buf wire = BUF_INIT;
	int rc = 0;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "NOTIFY SET (mailboxes (");
	for (size_t i = 0; rc == 0 && i < boxes->n; i++) {
		if (ims_to_wire(s, boxes->v[i], &wire, err) != 0) {
			rc = -1;
			break;
		}
		if (i > 0)
			imap_cmd_add(&l, " ");
		imap_cmd_add_string(&l, wire.data, 0);
	}
	imap_cmd_add(&l, ") (MessageNew MessageExpunge FlagChange))");
	if (rc == 0 && imap_client_simple(s->c, &l, err) != 0)
		rc = imap_client_broken(s->c) ? -1 : IMAP_NOTIFY_REFUSED;
	imap_cmd_free(&l);
	buf_free(&wire);
	return rc;
}

int
imap_store_notify_start(struct store *st, const struct strlist *boxes,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	int rc;

	if (!imap_client_has(s->c, CAP_NOTIFY)) {
		buf_setf(err, "%s does not offer NOTIFY",
		    imap_client_peer(s->c));
		return IMAP_NOTIFY_NOT_OFFERED;
	}
	rc = notify_set(s, boxes, err);
	if (rc != 0)
		return rc;
	return ims_idle_begin(s, notify_note, err);
}

/* What the server sends while idling, read by step (the client's read
 * or the end of IDLE), the mailboxes it names added to changed. */
static int
notify_collect(struct imap_store *s, struct strlist *changed,
    int (*step)(struct imap_client *, struct buf *), struct buf *err)
{
	int rc;

	s->notify_seen = changed;
	rc = step(s->c, err);
	s->notify_seen = NULL;
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}

int
imap_store_notify_read(struct store *st, struct strlist *changed,
    struct buf *err)
{
	return notify_collect((struct imap_store *)st, changed,
	    imap_client_read, err);
}

int
imap_store_notify_done(struct store *st, struct strlist *changed,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	int rc = notify_collect(s, changed, imap_client_idle_done, err);

	s->op_fn = NULL;
	s->op_ctx = NULL;
	return rc;
}

int
imap_store_notify_again(struct store *st, struct buf *err)
{
	return ims_idle_begin((struct imap_store *)st, notify_note, err);
}
