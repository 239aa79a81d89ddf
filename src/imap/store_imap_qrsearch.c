/*
 * store_imap_qrsearch: the UID SEARCH that makes QRESYNC's answer
 * checkable. Counting alone (store_imap_qresync.c) is fooled by a
 * server wrong twice: a VANISHED left out and a new message left out
 * add up to the right number. Where the server offers ESEARCH (RFC
 * 4731), the SELECT with QRESYNC and its FETCH are followed in the same
 * burst by
 *
 *   UID SEARCH RETURN (ALL) ALL
 *
 * whose answer names every UID the mailbox holds as one compact set
 * ("1:40,42:97"), and the mailbox put together from the mark must hold
 * exactly those UIDs. The SEARCH runs after the FETCH, so a message
 * delivered in between is in its set and is fetched late (see
 * ims_qresync_changes()); one delivered after it is above the set's
 * highest UID; one expunged after it is named by a VANISHED that
 * follows the ESEARCH answer. Nothing else may differ.
 */
#include "imap/store_imap_int.h"

void
ims_qrsearch_cmd(struct imap_cmdline *l)
{
	imap_cmd_init(l);
	imap_cmd_add(l, "UID SEARCH RETURN (ALL) ALL");
}

/* The items after the word ESEARCH: (TAG "x") UID ALL set, or (TAG "x")
 * UID alone when nothing matched. */
static int
read_esearch(struct imap_store *s, const struct imap_item *it)
{
	struct buf err = BUF_INIT;
	const char *set;
	int rc = 0;

	if (it != NULL && it->kind == IMAP_LIST)
		it = it->next;
	if (!imap_atom_is(it, "UID"))
		return -1;
	for (it = it->next; it != NULL && it->next != NULL;
	    it = it->next->next) {
		if (!imap_atom_is(it, "ALL"))
			continue;
		if (imap_item_string(it->next, &set, NULL) != 0 ||
		    imap_uid_ranges_add(&s->qr.all, set, &err) != 0)
			rc = -1;
	}
	buf_free(&err);
	return rc;
}

void
ims_qrsearch_response(struct imap_store *s, const struct imap_response *r)
{
	if (!s->qr.searching || !imap_atom_is(r->items, "ESEARCH"))
		return;
	if (s->qr.searched || read_esearch(s, r->items->next) != 0)
		s->qr.wrong = "an ESEARCH answer that cannot be read";
	s->qr.searched = 1;
}

/* What the UIDs of the SEARCH's answer that a later VANISHED named. */
static uint64_t
gone_after(const struct imap_store *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->qr.after.n; i++)
		n += imap_uid_ranges_count(&s->qr.all, s->qr.after.v[i].lo,
		    s->qr.after.v[i].hi);
	return n;
}

const char *
ims_qrsearch_check(const struct imap_store *s, const struct msg_list *got)
{
	const struct uid_ranges *all = &s->qr.all;
	uint32_t top = all->n > 0 ? all->v[all->n - 1].hi : 0;
	uint64_t held = 0;

	if (!s->qr.searching)
		return NULL;
	if (!s->qr.searched)
		return "no ESEARCH answer to the UID SEARCH";
	for (size_t i = 0; i < got->n && got->v[i].uid <= top; i++) {
		if (!imap_uid_ranges_has(all, got->v[i].uid))
			return "it holds a UID the server's UID SEARCH does "
			    "not name";
		held++;
	}
	if (imap_uid_ranges_count(all, 1, top) - gone_after(s) != held)
		return "the server's UID SEARCH names a UID it leaves out";
	return NULL;
}
