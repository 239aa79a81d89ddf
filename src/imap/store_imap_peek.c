/*
 * store_imap_peek: a mailbox's status without SELECT (store.h, peek()).
 *
 * Where the server offers LIST-STATUS (RFC 5819), list() asks for every
 * mailbox's MESSAGES, UIDNEXT, UIDVALIDITY (and HIGHESTMODSEQ with
 * CONDSTORE) in the LIST itself: a whole account's statuses in the one
 * round trip the listing costs anyway. Without it, the first peek() sends
 * one STATUS per listed mailbox in a single pipelined burst and waits
 * once: one round trip, not one a mailbox. Either way peek() then answers
 * from memory.
 *
 * The answers are trusted only as far as they make sense. A LIST-STATUS
 * answer with a STATUS for a mailbox the listing did not name is not
 * understood: every status of that listing is dropped. A STATUS that lacks
 * an item or cannot be read is dropped alone, and a listed mailbox without
 * one is simply not known. Each case costs one warning a listing (a NO to
 * one STATUS of a burst none: a server may refuse STATUS on some), and
 * the mailboxes concerned are opened as before. A status that reads
 * well is taken as what a SELECT would report now (RFC 3501 6.3.10); one
 * that differs from the pair's marks only costs the SELECT.
 *
 * A status describes the mailbox at the time of the listing. Once this
 * store selects a mailbox or copies into it (Trash), the entry is dropped:
 * this run changes the mailbox, and a later peek() must not hand out what
 * it looked like before.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>

const char *
ims_peek_items(const struct imap_store *s)
{
	return imap_client_has(s->c, CAP_CONDSTORE) ?
	    " (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)" :
	    " (MESSAGES UIDNEXT UIDVALIDITY)";
}

static struct ims_peeked *
find(struct imap_store *s, const char *wire)
{
	for (size_t i = 0; i < s->peek.n; i++)
		if (strcmp(s->peek.v[i].wire, wire) == 0)
			return &s->peek.v[i];
	return NULL;
}

static void
warn_once(struct imap_store *s, const char *what, const char *wire)
{
	if (s->peek.warned)
		return;
	s->peek.warned = 1;
	log_warn(s->base.lg, "imap store '%s': %s '%s'; the mailboxes "
	    "concerned are opened to learn their status instead", s->name,
	    what, wire);
}

void
ims_peek_forget(struct imap_store *s, const char *wire)
{
	struct ims_peeked *p = find(s, wire);

	if (p == NULL)
		return;
	free(p->wire);
	*p = s->peek.v[--s->peek.n];
}

static void
drop_statuses(struct imap_store *s)
{
	for (size_t i = 0; i < s->peek.n; i++)
		free(s->peek.v[i].wire);
	free(s->peek.v);
	s->peek.v = NULL;
	s->peek.n = 0;
}

void
ims_peek_clear(struct imap_store *s)
{
	drop_statuses(s);
	strlist_free(&s->peek.listed);
	memset(&s->peek, 0, sizeof(s->peek));
}

static int
item_u32(const struct imap_item *list, const char *name, uint32_t *out)
{
	uint64_t v;

	if (imap_item_number(imap_fetch_find(list, name), &v) != 0 ||
	    v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* 0 and *st filled, or -1 if an item is missing or out of range. */
static int
parse_status(const struct imap_store *s, const struct imap_item *list,
    struct mbox_status *st)
{
	memset(st, 0, sizeof(*st));
	if (list == NULL || list->kind != IMAP_LIST ||
	    item_u32(list, "MESSAGES", &st->count) != 0 ||
	    item_u32(list, "UIDNEXT", &st->uidnext) != 0 ||
	    item_u32(list, "UIDVALIDITY", &st->uidvalidity) != 0 ||
	    st->uidnext == 0 || st->uidvalidity == 0)
		return -1;
	if (!imap_client_has(s->c, CAP_CONDSTORE))
		return 0;
	return imap_item_number(imap_fetch_find(list, "HIGHESTMODSEQ"),
	    &st->highestmodseq);
}

void
ims_peek_take(struct imap_store *s, const struct imap_response *r)
{
	const struct imap_item *name = r->items ? r->items->next : NULL;
	struct mbox_status st;
	struct ims_peeked *p;
	const char *str;
	size_t len;

	if (!imap_atom_is(r->items, "STATUS") ||
	    imap_item_string(name, &str, &len) != 0 || strlen(str) != len)
		return;
	if (parse_status(s, name->next, &st) != 0) {
		warn_once(s, "the server sent a STATUS without MESSAGES, "
		    "UIDNEXT, UIDVALIDITY or HIGHESTMODSEQ for mailbox", str);
		ims_peek_forget(s, str);
		return;
	}
	p = find(s, str);
	if (p == NULL) {
		s->peek.v = xreallocarray(s->peek.v, s->peek.n + 1,
		    sizeof(*s->peek.v));
		p = &s->peek.v[s->peek.n++];
		p->wire = xstrdup(str);
	}
	p->st = st;
}

void
ims_peek_listed(struct imap_store *s)
{
	for (size_t i = 0; i < s->peek.n; i++) {
		if (strlist_contains(&s->peek.listed, s->peek.v[i].wire))
			continue;
		warn_once(s, "the server's LIST-STATUS answer holds a STATUS "
		    "for a mailbox it did not list,", s->peek.v[i].wire);
		drop_statuses(s);
		return;
	}
	for (size_t i = 0; i < s->peek.listed.n; i++)
		if (find(s, s->peek.listed.v[i]) == NULL)
			warn_once(s, "the server's LIST-STATUS answer has no "
			    "usable STATUS for mailbox", s->peek.listed.v[i]);
}

static int
burst_response(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	const struct imap_item *name = r->items ? r->items->next : NULL;
	const char *str;
	size_t len;

	/* Only the statuses asked for: a STATUS for another mailbox is
	 * not an answer to this burst. */
	if (imap_atom_is(r->items, "STATUS") &&
	    imap_item_string(name, &str, &len) == 0 && strlen(str) == len &&
	    strlist_contains(&s->peek.listed, str))
		ims_peek_take(s, r);
	return 0;
}

/* A NO for one mailbox leaves it unknown; the others still count. */
static void
burst_done(void *ctx, const struct imap_response *tagged)
{
	(void)ctx;
	(void)tagged;
}

/* One STATUS per listed mailbox but the selected one (whose STATUS a
 * server need not keep current, RFC 3501 6.3.10), all in flight at once. */
static int
status_burst(struct imap_store *s, struct buf *err)
{
	int rc = 0;

	s->peek.burst_done = 1;
	s->op_fn = burst_response;
	s->op_ctx = s;
	imap_client_cork(s->c);
	for (size_t i = 0; i < s->peek.listed.n && rc == 0; i++) {
		struct imap_cmdline l;
		const char *wire = s->peek.listed.v[i];

		if (s->wire != NULL && strcmp(s->wire, wire) == 0)
			continue;
		imap_cmd_init(&l);
		imap_cmd_add(&l, "STATUS ");
		imap_cmd_add_string(&l, wire, 0);
		imap_cmd_add(&l, ims_peek_items(s));
		rc = imap_client_submit(s->c, &l, burst_done, s, err);
		imap_cmd_free(&l);
	}
	return ims_wait_burst(s, rc, err);
}

int
ims_peek(struct store *st, const char *mbox, struct mbox_status *out,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct buf wire = BUF_INIT;
	const struct ims_peeked *p;
	int rc = 0;

	/* A name the store cannot represent: open() says why. */
	if (s->peek.listed.n == 0 || ims_to_wire(s, mbox, &wire, err) != 0) {
		buf_free(&wire);
		buf_reset(err);
		return 0;
	}
	if (!s->peek.list_status && !s->peek.burst_done &&
	    status_burst(s, err) != 0) {
		buf_free(&wire);
		return -1;
	}
	p = find(s, wire.data);
	if (p != NULL) {
		*out = p->st;
		rc = 1;
	}
	buf_free(&wire);
	return rc;
}
