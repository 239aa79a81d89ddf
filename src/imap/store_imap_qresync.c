/*
 * store_imap_qresync: QRESYNC (RFC 7162). Once ENABLE QRESYNC took
 * effect (client.c) the server reports expunges as VANISHED instead of
 * EXPUNGE, and a SELECT may carry the sync core's settled mark:
 *
 *   SELECT box (QRESYNC (uidvalidity modseq known-uids))
 *   UID FETCH uidnext:* (UID FLAGS RFC822.SIZE INTERNALDATE)
 *       (CHANGEDSINCE modseq)
 *
 * sent back to back, so that one round trip brings what vanished since
 * the mark (VANISHED (EARLIER)), the flags of every message changed
 * since (FETCH ... MODSEQ) and the new messages above the mark's UIDNEXT
 * with what copying them needs. scan_changes() then puts the mailbox
 * together from the mark's messages (sync/plan_known.c says why that is
 * exact) and checks it against the server's count of messages: an answer
 * that does not add up (an expunge left out or made up, a FETCH without
 * MODSEQ or for a message the mark never held) is warned about once and
 * the mailbox is scanned in full; the connection sends no more QRESYNC
 * SELECTs. Where the server offers ESEARCH, a UID SEARCH in the same
 * burst names every UID the mailbox holds, and the mailbox put together
 * must hold exactly those (store_imap_qrsearch.c). Nothing is taken as
 * gone that the server did not name.
 *
 * The SEARCH is left out of the burst when the run's listing saw nothing
 * come or go since the mark (its UIDNEXT the mark's, as many messages as
 * the mark holds: flags may have changed, nothing else), and sent after
 * the answers only if they show otherwise: a new UID, a VANISHED, another
 * count. Without any of these, the count alone is as strict as the
 * SEARCH: a VANISHED left out could only add up with a new message that
 * the SELECT's UIDNEXT, the listing's and the FETCH of new messages all
 * leave out, where the SEARCH is there for two faults at once. For
 * Dovecot the SEARCH is a third of the CPU a mailbox's open() costs.
 */
#include "imap/store_imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* known-uids longer than this are left out (they are sent again at every
 * SELECT, and a mailbox with many gaps makes a long set): the server
 * then reports every UID expunged since the mark, which the count check
 * covers. */
#define KNOWN_SET_MAX 1024
#define NEW_ITEMS "UID FLAGS RFC822.SIZE INTERNALDATE"

void
ims_qresync_forget(struct imap_store *s)
{
	s->qr.have_mark = 0;
	s->qr.listed = 0;
	buf_free(&s->qr.known_set);
}

void
ims_qresync_reset(struct imap_store *s)
{
	msg_list_free(&s->qr.changed);
	msg_list_free(&s->qr.fresh);
	imap_uid_ranges_free(&s->qr.earlier);
	imap_uid_ranges_free(&s->qr.all);
	imap_uid_ranges_free(&s->qr.after);
	s->qr.searching = 0;
	s->qr.search_late = 0;
	s->qr.searched = 0;
	s->qr.selected = 0;
	s->qr.sent_known = 0;
	s->qr.closing = 0;
	s->qr.wrong = NULL;
}

void
ims_mark(struct store *st, const struct store_mark *m)
{
	struct imap_store *s = (struct imap_store *)st;
	size_t n = m->known->n;
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));

	ims_qresync_forget(s);
	s->qr.have_mark = 1;
	s->qr.uidvalidity = m->uidvalidity;
	s->qr.uidnext = m->uidnext;
	s->qr.modseq = m->modseq;
	s->qr.nknown = n;
	if (m->listed != NULL && m->listed->uidvalidity == m->uidvalidity) {
		s->qr.listed = 1;
		s->qr.listed_uidnext = m->listed->uidnext;
		s->qr.listed_count = m->listed->count;
	}
	for (size_t i = 0; i < n; i++)
		uids[i] = m->known->v[i].uid;
	if (imap_uidset_format(uids, n, KNOWN_SET_MAX, &s->qr.known_set) < n)
		buf_reset(&s->qr.known_set);
	free(uids);
}

int
ims_qresync_usable(struct imap_store *s, struct buf *err)
{
	int on;

	if (!s->qr.have_mark || s->qr.disabled || s->qr.uidvalidity == 0)
		return 0;
	on = imap_client_enabled(s->c, CAP_QRESYNC, err);
	if (on < 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return on;
}

/*
 * Drop the messages a VANISHED (without EARLIER) names from the sequence
 * map, as EXPUNGE does by number. A slot whose UID is not known yet (0)
 * lies between two known UIDs, and UIDs ascend with sequence numbers:
 * as many of a run of such slots go as the set names UIDs between its
 * neighbours. Which of them is immaterial, as all are unknown.
 */
static void
drop_vanished(struct imap_store *s, const struct uid_ranges *r)
{
	size_t w = 0, i = 0;
	uint32_t prev = 0;

	while (i < s->nseq) {
		size_t j = i;
		uint64_t k;
		uint32_t next;

		if (s->seq[i] != 0) {
			prev = s->seq[i++];
			if (imap_uid_ranges_has(r, prev))
				ims_note_expunged(s, prev);
			else
				s->seq[w++] = prev;
			continue;
		}
		while (j < s->nseq && s->seq[j] == 0)
			j++;
		next = j < s->nseq ? s->seq[j] : UINT32_MAX;
		k = prev < UINT32_MAX && next > prev + 1 ?
		    imap_uid_ranges_count(r, prev + 1, next - 1) : 0;
		for (size_t z = (size_t)(k < j - i ? k : j - i); z < j - i; z++)
			s->seq[w++] = 0;
		i = j;
	}
	s->nseq = w;
}

int
ims_on_vanished(struct imap_store *s, const struct imap_item *it)
{
	struct uid_ranges r = { 0 }, *also = NULL;
	struct buf err = BUF_INIT;
	const char *set;
	int earlier = 0, rc = 0;

	if (it != NULL && it->kind == IMAP_LIST &&
	    imap_atom_is(it->child, "EARLIER")) {
		earlier = 1;
		it = it->next;
	}
	if (earlier)
		also = &s->qr.earlier;
	else if (s->qr.searched)
		also = &s->qr.after;
	if (imap_item_string(it, &set, NULL) != 0)
		buf_setf(&err, "no UID set");
	else if (imap_uid_ranges_add(&r, set, &err) == 0 &&
	    imap_uid_ranges_add(&s->vanished, set, &err) == 0 && also != NULL)
		imap_uid_ranges_add(also, set, &err);
	if (err.len > 0) {
		log_warn(s->base.lg, "imap store '%s' mailbox '%s': cannot "
		    "read a VANISHED response (%s), so which messages are "
		    "gone is unknown; giving up the connection", s->name,
		    s->mbox, err.data);
		rc = -1;
	} else if (!earlier) {
		drop_vanished(s, &r);
	}
	imap_uid_ranges_free(&r);
	buf_free(&err);
	return rc;
}

/* Untagged answers while the QRESYNC SELECT and the FETCH of the new
 * messages run: below the mark's UIDNEXT a flag change, above it a new
 * message. */
static int
qr_response(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	const struct imap_item *list;
	struct msg_meta m;
	int rc;

	ims_select_response(s, r);
	ims_qrsearch_response(s, r);
	rc = ims_fetch_flags(s, r, &list, &m);
	if (rc < 0 && !s->qr.selected)
		s->qr.wrong = "a FETCH without UID";
	if (rc != 0)
		return 0;
	if (!s->qr.selected && imap_fetch_find(list, "MODSEQ") == NULL)
		s->qr.wrong = "a FETCH without MODSEQ";
	if (m.uid < s->qr.uidnext) {
		ims_merge_meta(&s->qr.changed, &m, 1, 1);
	} else {
		ims_merge_meta(&s->qr.fresh, &m,
		    imap_fetch_find(list, "RFC822.SIZE") != NULL,
		    imap_fetch_find(list, "RFC822.SIZE") == NULL);
	}
	return 0;
}

static void
qr_done(void *ctx, const struct imap_response *r)
{
	struct ims_answer *a = ctx;

	if (a->is_select)
		a->s->qr.selected = 1;
	/* Without [CLOSED] the answers kept out could have been the new
	 * mailbox's: they cannot stand for a scan. */
	if (a->is_select && a->s->qr.closing) {
		a->s->qr.closing = 0;
		a->s->qr.wrong = "no [CLOSED] before the mailbox's answers";
	}
	ims_answer_done(a, r);
}

/* UID FETCH from:* of the new messages, into qr.fresh. A new message
 * has a MODSEQ above the mark's, and CHANGEDSINCE keeps the answer empty
 * when there is none ("from:*" names the last message then). */
static void
fetch_new_cmd(struct imap_cmdline *l, uint32_t from, uint64_t modseq)
{
	imap_cmd_init(l);
	imap_cmd_addf(l, "UID FETCH %u:* (" NEW_ITEMS ") (CHANGEDSINCE %llu)",
	    from, (unsigned long long)modseq);
}

/* Submit l[n] corked, into a[n], with qr_response taking the untagged
 * answers until ims_wait_burst(). */
static int
submit_burst(struct imap_store *s, struct imap_cmdline *l, size_t n,
    struct ims_answer *a, struct buf *err)
{
	int rc = 0;

	s->op_fn = qr_response;
	s->op_ctx = s;
	imap_client_cork(s->c);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ims_answer_submit(s, &l[i], qr_done, &a[i], err);
	for (size_t i = 0; i < n; i++)
		imap_cmd_free(&l[i]);
	return rc;
}

static void
warn_wrong(struct imap_store *s, const char *why)
{
	log_warn(s->base.lg, "imap store '%s' mailbox '%s': the server's "
	    "QRESYNC answer does not add up (%s); scanning the whole "
	    "mailbox instead, and no more QRESYNC on this connection",
	    s->name, s->mbox, why);
	s->qr.disabled = 1;
}

/* The listing saw the mailbox as the mark left it but for flags. */
static int
listed_only_flags(const struct qresync *q)
{
	return q->listed && q->listed_uidnext == q->uidnext &&
	    q->listed_count == q->nknown;
}

int
ims_qresync_send(struct imap_store *s, struct buf *err)
{
	struct imap_cmdline l[IMS_OPEN_CMDS];
	struct ims_opening *o = &s->opening;

	imap_cmd_init(&l[0]);
	imap_cmd_add(&l[0], "SELECT ");
	imap_cmd_add_string(&l[0], s->wire, 0);
	imap_cmd_addf(&l[0], " (QRESYNC (%u %llu%s%s))", s->qr.uidvalidity,
	    (unsigned long long)s->qr.modseq,
	    s->qr.known_set.len > 0 ? " " : "", buf_cstr(&s->qr.known_set));
	s->qr.sent_known = s->qr.known_set.len > 0;
	s->qr.closing = s->was_selected;
	fetch_new_cmd(&l[1], s->qr.uidnext, s->qr.modseq);
	o->n = 2;
	if (imap_client_has(s->c, CAP_ESEARCH)) {
		s->qr.search_late = listed_only_flags(&s->qr);
		s->qr.searching = !s->qr.search_late;
	}
	if (s->qr.searching)
		ims_qrsearch_cmd(&l[o->n++]);
	o->qresync = 1;
	o->sent = 1;
	o->a[0].is_select = 1;
	return submit_burst(s, l, o->n, o->a, err);
}

int
ims_qresync_opened(struct imap_store *s, int rc)
{
	const struct ims_answer *a = s->opening.a;

	/* The SELECT's own failure is the one to report. */
	if (rc != 0 && a[0].ok && !imap_client_broken(s->c)) {
		s->qr.wrong = !a[1].ok ? "the FETCH of new messages failed" :
		    "the UID SEARCH failed";
		rc = 0;
	}
	if (rc == 0 && s->st.uidvalidity == s->qr.uidvalidity) {
		if (s->qr.wrong != NULL)
			warn_wrong(s, s->qr.wrong);
		else
			s->st.changes_known = s->st.uidnext != 0 &&
			    s->st.highestmodseq >= s->qr.modseq;
	}
	return rc;
}

/* The mark's messages without the vanished, with current flags, and the
 * new ones: NULL, or why the answers cannot be right. */
static const char *
assemble(struct imap_store *s, const struct msg_list *known,
    struct msg_list *got)
{
	const struct qresync *q = &s->qr;
	uint64_t named = 0;

	for (size_t i = 0; i < q->changed.n; i++)
		if (msg_list_find(known, q->changed.v[i].uid) == NULL)
			return "a FETCH of a message the mark never held";
	for (size_t i = 0; i < known->n; i++) {
		struct msg_meta m = known->v[i];
		const struct msg_meta *c = msg_list_find(&q->changed, m.uid);

		if (m.uid >= q->uidnext)
			return "the mark holds a UID above its UIDNEXT";
		named += imap_uid_ranges_has(&q->earlier, m.uid);
		if (imap_uid_ranges_has(&s->vanished, m.uid))
			continue;
		if (c != NULL)
			m.flags = c->flags;
		msg_list_add(got, &m);
	}
	/* Asked about known-uids only, the server names no other UID
	 * below the mark's UIDNEXT; none at all from its own on. */
	if (q->sent_known && q->uidnext > 1 && named !=
	    imap_uid_ranges_count(&q->earlier, 1, q->uidnext - 1))
		return "a VANISHED of a UID the mark never held";
	if (imap_uid_ranges_count(&q->earlier, s->st.uidnext, UINT32_MAX) > 0)
		return "a VANISHED of a UID the server never gave";
	for (size_t i = 0; i < q->fresh.n; i++)
		if (!imap_uid_ranges_has(&s->vanished, q->fresh.v[i].uid))
			msg_list_add(got, &q->fresh.v[i]);
	return NULL;
}

/* Messages that came after the FETCH of the new ones (an EXISTS said
 * so): fetch them too before counting. */
static int
fetch_late(struct imap_store *s, struct buf *err)
{
	struct imap_cmdline l;
	struct ims_answer a = { .status = BUF_INIT, .log = BUF_INIT };
	uint32_t from = s->qr.uidnext;
	int rc;

	if (s->qr.fresh.n > 0 && s->qr.fresh.v[s->qr.fresh.n - 1].uid >= from)
		from = s->qr.fresh.v[s->qr.fresh.n - 1].uid + 1;
	fetch_new_cmd(&l, from, s->qr.modseq);
	rc = ims_wait_burst(s, submit_burst(s, &l, 1, &a, err), err);
	if (rc == 0)
		rc = ims_answers_check(s, &a, 1, err);
	ims_answers_free(&a, 1);
	return rc;
}

/* The answers show something come or gone after all (a new UIDNEXT, a
 * message above the mark, a VANISHED, another count): the SEARCH left
 * out of the burst is needed. */
static int
came_or_went(const struct imap_store *s, const struct msg_list *known)
{
	return s->st.uidnext != s->qr.uidnext || s->qr.fresh.n > 0 ||
	    s->vanished.n > 0 || s->nseq != known->n;
}

/* The UID SEARCH the burst left out, before the mailbox is put
 * together: a VANISHED that comes before its answer is then left out of
 * both. A refused SEARCH is an answer that does not add up. */
static int
search_late(struct imap_store *s, const char **why, struct buf *err)
{
	struct imap_cmdline l;
	struct ims_answer a = { .status = BUF_INIT, .log = BUF_INIT };
	int rc;

	s->qr.search_late = 0;
	s->qr.searching = 1;
	ims_qrsearch_cmd(&l);
	rc = ims_wait_burst(s, submit_burst(s, &l, 1, &a, err), err);
	if (rc == 0 && !a.ok)
		*why = "the UID SEARCH failed";
	ims_answers_free(&a, 1);
	return rc;
}

int
ims_qresync_changes(struct imap_store *s, const struct msg_list *known,
    struct msg_list *out, struct buf *err)
{
	struct msg_list got = { 0 };
	const char *why = NULL;
	char count[128];

	if (s->qr.search_late && came_or_went(s, known) &&
	    search_late(s, &why, err) != 0)
		return -1;
	if (why == NULL)
		why = assemble(s, known, &got);
	if (why == NULL && got.n < s->nseq) {
		if (fetch_late(s, err) != 0) {
			msg_list_free(&got);
			return -1;
		}
		got.n = 0;
		why = assemble(s, known, &got);
	}
	if (why == NULL && got.n != s->nseq) {
		snprintf(count, sizeof count, "it makes %zu messages, the "
		    "server counts %zu", got.n, s->nseq);
		why = count;
	}
	if (why == NULL)
		why = ims_qrsearch_check(s, &got);
	if (why != NULL) {
		warn_wrong(s, why);
		msg_list_free(&got);
		s->st.changes_known = 0;
		return 1;
	}
	for (size_t i = 0; i < got.n; i++)
		s->seq[i] = got.v[i].uid;
	ims_keep_scan(s, &got, out);
	return 0;
}
