/*
 * store_imap_select: opening a mailbox (SELECT) and scanning it.
 *
 * A scan asks for the flags of every message, and for sizes and arrival
 * dates only where the hint wants them: a re-sync needs them only of new
 * messages, and on a large mailbox they are most of the answer's bytes.
 * The flags come first, then the details of the wanted messages among
 * those the flags answer listed (see merge_scan()).
 *
 * A server may send FETCH responses unasked at any time (another client
 * changed flags), with or without the UID, even for a message it already
 * listed. They are merged in place (ims_merge_meta()): each list a scan keeps
 * stays sorted with one entry a UID, the newest answer winning, so that
 * the sync core never sees a UID twice.
 * Per-message MODSEQ is not asked for: nothing reads it.
 *
 * When the sync core knows the mailbox's messages from its state (a
 * settled mark, sync/plan_known.c), scan_changes() replaces the scan: no
 * command at all if HIGHESTMODSEQ did not move, else one UID FETCH with
 * CHANGEDSINCE that only lists the messages whose flags changed. With
 * QRESYNC the open() itself asked what changed since the mark
 * (store_imap_qresync.c), and scan_changes() only puts it together.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>

#include "imap/imap_date.h"
#include "imap/uidset.h"
#include "util/u32.h"

static void
opening_drop(struct imap_store *s)
{
	ims_answers_free(s->opening.a, IMS_OPEN_CMDS);
	memset(&s->opening, 0, sizeof s->opening);
}

/* An open_begin() whose open() never came: its answers are read and
 * dropped, and nothing else is in flight. A failed SELECT leaves no
 * mailbox selected (RFC 3501 6.3.1), a good one its mailbox. */
static void
opening_drain(struct imap_store *s)
{
	struct buf ignored = BUF_INIT;

	if (ims_wait_burst(s, 0, &ignored) == 0)
		s->was_selected = s->opening.a[0].ok;
	buf_free(&ignored);
	opening_drop(s);
	/* The mark was for that mailbox's open() only. */
	ims_qresync_forget(s);
}

void
ims_close(struct imap_store *s)
{
	if (s->opening.sent)
		opening_drain(s);
	if (s->nqueue > 0)
		log_warn(s->base.lg, "imap store '%s' mailbox '%s': dropping "
		    "%zu appends that were never committed", s->name,
		    s->mbox ? s->mbox : "?", s->nqueue);
	ims_spool_reset(s);
	free(s->mbox);
	free(s->wire);
	free(s->seq);
	msg_list_free(&s->known);
	imap_uid_ranges_free(&s->vanished);
	ims_qresync_reset(s);
	s->mbox = s->wire = NULL;
	s->seq = NULL;
	s->nseq = 0;
	memset(&s->st, 0, sizeof s->st);
	s->uidnext_hint = 0;
}

int
ims_select_response(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	uint64_t v;

	if (!imap_response_is(r, "OK"))
		return 0;
	if (imap_code_number(r, "UIDVALIDITY", &v) == 0)
		s->st.uidvalidity = (uint32_t)v;
	else if (imap_code_number(r, "UIDNEXT", &v) == 0)
		s->st.uidnext = (uint32_t)v;
	else if (imap_code_number(r, "HIGHESTMODSEQ", &v) == 0)
		s->st.highestmodseq = v;
	return 0;
}

/* A server that sends no UIDNEXT: the highest UID plus one will do, as
 * no UID below it can be handed out any more. */
static int
guess_uidnext(struct imap_store *s, struct buf *err)
{
	struct imap_cmdline l;
	uint32_t max = 0;
	int rc = 0;

	if (s->nseq > 0) {
		imap_cmd_init(&l);
		imap_cmd_add(&l, "FETCH * (UID)");
		rc = ims_run(s, &l, NULL, NULL, err);
		imap_cmd_free(&l);
	}
	for (size_t i = 0; i < s->nseq; i++)
		if (s->seq[i] > max)
			max = s->seq[i];
	s->st.uidnext = max + 1;
	return rc;
}

/* A SELECT that did not go out, or whose answers no longer matter: the
 * store is left with no mailbox open and nothing in flight. */
static void
abandon_open(struct imap_store *s)
{
	s->op_fn = NULL;
	s->op_ctx = NULL;
	opening_drop(s);
	ims_qresync_forget(s);
	ims_close(s);
}

/* The SELECT without QRESYNC, answered by ims_select_response(). */
static int
send_select(struct imap_store *s, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "SELECT ");
	imap_cmd_add_string(&l, s->wire, 0);
	if (imap_client_has(s->c, CAP_CONDSTORE))
		imap_cmd_add(&l, " (CONDSTORE)");
	s->op_fn = ims_select_response;
	s->op_ctx = s;
	s->opening.sent = 1;
	s->opening.n = 1;
	s->opening.a[0].is_select = 1;
	rc = ims_answer_submit(s, &l, ims_answer_done, &s->opening.a[0], err);
	imap_cmd_free(&l);
	return rc;
}

/* open()'s burst submitted into s->opening (see struct ims_opening). */
static int
send_open(struct imap_store *s, const char *mbox, struct buf *err)
{
	struct buf wire = BUF_INIT;
	int rc;

	ims_close(s);
	if (ims_to_wire(s, mbox, &wire, err) != 0) {
		buf_free(&wire);
		ims_qresync_forget(s);
		return -1;
	}
	s->mbox = xstrdup(mbox);
	s->wire = buf_detach(&wire);
	ims_peek_forget(s, s->wire);
	rc = ims_qresync_usable(s, err);
	if (rc >= 0) {
		rc = rc > 0 ? ims_qresync_send(s, err) : send_select(s, err);
		/* A submit failed (a full pipeline read first): the
		 * client's error, said of this mailbox. */
		if (rc != 0)
			ims_err(s, err, "%s", buf_cstr(err));
	}
	if (rc != 0)
		abandon_open(s);
	return rc;
}

/* The burst's answers, and what they make of the mailbox's status. */
static int
finish_open(struct imap_store *s, struct mbox_status *out, struct buf *err)
{
	int rc = ims_wait_burst(s, 0, err);

	if (rc == 0)
		rc = ims_answers_check(s, s->opening.a, s->opening.n, err);
	if (s->opening.qresync)
		rc = ims_qresync_opened(s, rc);
	opening_drop(s);
	ims_qresync_forget(s);
	if (rc == 0 && s->st.uidnext == 0)
		rc = guess_uidnext(s, err);
	/* A SELECT that failed leaves no mailbox selected (RFC 3501
	 * 6.3.1), so the next one closes none. */
	s->was_selected = rc == 0;
	if (rc != 0) {
		ims_close(s);
		return -1;
	}
	/* Dovecot reports HIGHESTMODSEQ on any SELECT once some session
	 * used CONDSTORE on the mailbox, whatever it advertises; without
	 * the capability CHANGEDSINCE may not be sent, so it is unknown. */
	if (!imap_client_has(s->c, CAP_CONDSTORE))
		s->st.highestmodseq = 0;
	s->st.count = (uint32_t)s->nseq;
	s->uidnext_hint = s->st.uidnext;
	*out = s->st;
	log_debug(s->base.lg, "imap store '%s' mailbox '%s': UIDVALIDITY %u "
	    "UIDNEXT %u, %zu messages", s->name, s->mbox, s->st.uidvalidity,
	    s->st.uidnext, s->nseq);
	return 0;
}

/* The burst leaves at once (a QRESYNC burst is corked: it is sent
 * here, in one write); the open() of the same mailbox waits for its
 * answers, and any other close or open drains them first. */
int
ims_open_begin(struct store *st, const char *mbox, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;

	if (send_open(s, mbox, err) != 0)
		return -1;
	if (imap_client_uncork(s->c, err) == 0)
		return 0;
	ims_err(s, err, "%s", buf_cstr(err));
	abandon_open(s);
	return -1;
}

int
ims_open(struct store *st, const char *mbox, struct mbox_status *out,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;

	if (!s->opening.sent || s->mbox == NULL || strcmp(s->mbox, mbox) != 0)
		if (send_open(s, mbox, err) != 0)
			return -1;
	return finish_open(s, out, err);
}

/* uid: the message's UID from the sequence number map, for a response
 * without its own UID (0: unknown). */
int
ims_parse_meta(const struct imap_item *list, uint32_t seq_uid,
    struct msg_meta *m)
{
	uint64_t uid, size, modseq;
	const struct imap_item *date = imap_fetch_find(list, "INTERNALDATE");
	const struct imap_item *ms = imap_fetch_find(list, "MODSEQ");
	const char *str;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (imap_item_number(imap_fetch_find(list, "UID"), &uid) != 0)
		uid = seq_uid;
	if (uid == 0 || uid > UINT32_MAX)
		return -1;
	m->uid = (uint32_t)uid;
	if (imap_item_number(imap_fetch_find(list, "RFC822.SIZE"),
	    &size) == 0)
		m->size = size;
	m->flags = ims_parse_flags(imap_fetch_find(list, "FLAGS"));
	if (imap_item_string(date, &str, &len) == 0)
		imap_date_parse(str, &m->date);
	if (ms != NULL && ms->kind == IMAP_LIST &&
	    imap_item_number(ms->child, &modseq) == 0)
		m->modseq = modseq;
	return 0;
}

/*
 * The two lists a scan collects, each sorted with one entry a UID:
 * answers with size and date, and answers with flags only. listing is
 * set while the command that lists the messages (1:*) runs: a flags
 * answer then adds its message; afterwards it only updates one listed.
 */
struct scan_ctx {
	struct imap_store *s;
	struct msg_list full;
	struct msg_list flags;
	int listing;
};

/*
 * Merge m into sorted, unique l: a later answer is newer, so it replaces
 * the entry of its UID (only its flags when flags_only); a UID not in l
 * is inserted where it belongs when add is set, else left out (an update
 * of a message this scan did not list). Answers mostly come in UID
 * order, so the append at the end is the common case.
 */
void
ims_merge_meta(struct msg_list *l, const struct msg_meta *m, int add,
    int flags_only)
{
	size_t i = l->n > 0 && l->v[l->n - 1].uid < m->uid ? l->n :
	    msg_list_lower_bound(l, m->uid);

	if (i < l->n && l->v[i].uid == m->uid) {
		if (flags_only)
			l->v[i].flags = m->flags;
		else
			l->v[i] = *m;
		return;
	}
	if (!add)
		return;
	msg_list_add(l, m);
	memmove(&l->v[i + 1], &l->v[i], (l->n - 1 - i) * sizeof(*l->v));
	l->v[i] = *m;
}

int
ims_fetch_flags(const struct imap_store *s, const struct imap_response *r,
    const struct imap_item **list, struct msg_meta *m)
{
	const struct imap_item *n = r->items;
	uint32_t seq_uid = 0;

	if (n == NULL || n->kind != IMAP_NUMBER ||
	    !imap_atom_is(n->next, "FETCH") || n->next->next == NULL)
		return 1;
	*list = n->next->next;
	if (imap_fetch_find(*list, "FLAGS") == NULL)
		return 1;
	if (n->num > 0 && n->num <= s->nseq)
		seq_uid = s->seq[n->num - 1];
	return ims_parse_meta(*list, seq_uid, m) == 0 ? 0 : -1;
}

static int
scan_response(void *ctx, const struct imap_response *r)
{
	struct scan_ctx *c = ctx;
	const struct imap_item *list;
	struct msg_meta m;

	/* A flag update whose UID is unknown cannot be placed. */
	if (ims_fetch_flags(c->s, r, &list, &m) != 0)
		return 0;
	if (imap_fetch_find(list, "RFC822.SIZE") != NULL) {
		ims_merge_meta(&c->full, &m, 1, 0);
		ims_merge_meta(&c->flags, &m, 0, 1);
	} else {
		ims_merge_meta(&c->flags, &m, c->listing, 1);
		ims_merge_meta(&c->full, &m, 0, 1);
	}
	return 0;
}

static int
scan_command(struct imap_store *s, const char *set, const char *items,
    struct scan_ctx *c, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_addf(&l, "UID FETCH %s (%s)", set, items);
	rc = ims_run(s, &l, scan_response, c, err);
	imap_cmd_free(&l);
	return rc;
}

#define FULL_ITEMS "UID FLAGS RFC822.SIZE INTERNALDATE"
#define SCAN_SET_MAX 4000

/* Sizes and dates of the messages of the flags answer that the hint
 * wants, in commands of bounded length. */
static int
fetch_details(struct imap_store *s, const struct scan_hint *h,
    struct scan_ctx *c, struct buf *err)
{
	uint32_t *want = xcalloc(c->flags.n + 1, sizeof(*want));
	size_t n = 0, done = 0;
	int rc = 0;

	for (size_t i = 0; i < c->flags.n; i++)
		if (scan_hint_wants(h, c->flags.v[i].uid))
			want[n++] = c->flags.v[i].uid;
	while (rc == 0 && done < n) {
		struct buf set = BUF_INIT;

		done += imap_uidset_format(want + done, n - done,
		    SCAN_SET_MAX, &set);
		rc = scan_command(s, set.data, FULL_ITEMS, c, err);
		buf_free(&set);
	}
	free(want);
	return rc;
}

/*
 * Join the flags of every message with the details of those the hint
 * wants; the flags list holds the newest flags. A wanted message without
 * details was expunged meanwhile (an EXPUNGE said so) and is left out, as
 * gone; one still there means the server did not answer, and then
 * nothing about the mailbox is trusted.
 */
static int
merge_scan(struct imap_store *s, const struct scan_hint *h,
    struct scan_ctx *c, struct msg_list *out, struct buf *err)
{
	size_t npresent;
	uint32_t *present = ims_present_uids(s, &npresent);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->flags.n; i++) {
		struct msg_meta m = c->flags.v[i];
		const struct msg_meta *f;

		if (!scan_hint_wants(h, m.uid)) {
			msg_list_add(out, &m);
			continue;
		}
		f = msg_list_find(&c->full, m.uid);
		if (f != NULL) {
			m = *f;
			m.flags = c->flags.v[i].flags;
			msg_list_add(out, &m);
		} else if (u32_sorted_has(present, npresent, m.uid)) {
			ims_err(s, err, "the server sent no size for UID %u",
			    m.uid);
			rc = -1;
		}
	}
	free(present);
	return rc;
}

static int
scan_open_mailbox(struct imap_store *s, const struct scan_hint *h,
    struct msg_list *out, struct buf *err)
{
	struct scan_ctx c = { s, { 0 }, { 0 }, 1 };
	int rc;

	if (scan_hint_wants_all(h)) {
		rc = scan_command(s, "1:*", FULL_ITEMS, &c, err);
		*out = c.full;
		c.full = (struct msg_list){ 0 };
	} else {
		rc = scan_command(s, "1:*", "UID FLAGS", &c, err);
		c.listing = 0;
		if (rc == 0)
			rc = fetch_details(s, h, &c, err);
		if (rc == 0)
			rc = merge_scan(s, h, &c, out, err);
	}
	msg_list_free(&c.full);
	msg_list_free(&c.flags);
	return rc;
}

/* The store keeps what a scan found (fetch() reports flags and dates
 * from it) and the caller gets a sorted copy. got is taken over. */
void
ims_keep_scan(struct imap_store *s, struct msg_list *got, struct msg_list *out)
{
	msg_list_free(&s->known);
	s->known = *got;
	*got = (struct msg_list){ 0 };
	for (size_t i = 0; i < s->known.n; i++)
		msg_list_add(out, &s->known.v[i]);
	msg_list_sort(out);
}

int
ims_scan(struct store *st, const struct scan_hint *hint,
    struct msg_list *out, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct msg_list got = { 0 };

	if (ims_require_open(s, err) != 0)
		return -1;
	if (s->nseq > 0 && scan_open_mailbox(s, hint, &got, err) != 0) {
		msg_list_free(&got);
		return -1;
	}
	ims_keep_scan(s, &got, out);
	return 0;
}

/* The flags that changed since `since` (RFC 7162 CHANGEDSINCE). */
static int
fetch_changed(struct imap_store *s, uint64_t since, struct scan_ctx *c,
    struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_addf(&l, "UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE %llu)",
	    (unsigned long long)since);
	rc = ims_run(s, &l, scan_response, c, err);
	imap_cmd_free(&l);
	return rc;
}

/* The known messages with their current flags, without those an EXPUNGE
 * removed meanwhile. */
static void
merge_changes(struct imap_store *s, const struct msg_list *known,
    const struct msg_list *changed, struct msg_list *out)
{
	size_t npresent;
	uint32_t *present = ims_present_uids(s, &npresent);

	for (size_t i = 0; i < known->n; i++) {
		struct msg_meta m = known->v[i];
		const struct msg_meta *c = msg_list_find(changed, m.uid);

		if (!u32_sorted_has(present, npresent, m.uid))
			continue;
		if (c != NULL)
			m.flags = c->flags;
		msg_list_add(out, &m);
	}
	free(present);
}

/*
 * The caller vouches that the mailbox holds exactly known's messages:
 * sequence numbers follow UIDs, so they give the sequence map a scan
 * would have filled, and only flags changed since `since` are fetched.
 */
int
ims_scan_changes(struct store *st, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct scan_ctx c = { s, { 0 }, { 0 }, 1 };
	struct msg_list got = { 0 };
	int rc = 0;

	if (ims_require_open(s, err) != 0)
		return -1;
	if (s->st.changes_known)
		return ims_qresync_changes(s, known, out, err);
	if (known->n != s->nseq) {
		ims_err(s, err, "the mailbox holds %zu messages, not the %zu "
		    "the state knows", s->nseq, known->n);
		return -1;
	}
	for (size_t i = 0; i < known->n; i++)
		s->seq[i] = known->v[i].uid;
	if (s->st.highestmodseq != since)
		rc = fetch_changed(s, since, &c, err);
	if (rc == 0)
		merge_changes(s, known, &c.flags, &got);
	msg_list_free(&c.full);
	msg_list_free(&c.flags);
	if (rc != 0) {
		msg_list_free(&got);
		return -1;
	}
	ims_keep_scan(s, &got, out);
	return 0;
}

uint32_t *
ims_present_uids(const struct imap_store *s, size_t *n)
{
	uint32_t *v = xcalloc(s->nseq ? s->nseq : 1, sizeof(*v));

	if (s->nseq > 0)
		memcpy(v, s->seq, s->nseq * sizeof(*v));
	u32_sort(v, s->nseq);
	*n = s->nseq;
	return v;
}

void
ims_present_results(const struct imap_store *s, const uint32_t *uids,
    size_t n, int *results)
{
	size_t np;
	uint32_t *present = ims_present_uids(s, &np);

	for (size_t i = 0; i < n; i++)
		results[i] = u32_sorted_has(present, np, uids[i]) ?
		    STORE_OK : STORE_GONE;
	free(present);
}
