/*
 * store_imap_flags: flag changes (UID STORE ... +FLAGS.SILENT/-FLAGS.SILENT
 * over UID sets) and expunges (UID EXPUNGE with UIDPLUS; without it a
 * plain EXPUNGE, only when no other message is marked \Deleted), sent as
 * one burst (store.h, update()): every command goes out before the first
 * answer is read, so that a mailbox's changes cost one round trip, two
 * without UIDPLUS (the check for other \Deleted messages must be answered
 * before the EXPUNGE that it guards is sent).
 *
 * The order holds because a server runs a session's commands in order
 * (RFC 3501 5.5: it must, where one command affects another's result);
 * the answers are read per command, so a NO concerns its command alone.
 * Were a server to run UID EXPUNGE before the STORE that marks its
 * messages, it would only leave them in place: they are reported
 * STORE_FAILED (not expunged, not gone), and nothing is lost.
 */
#include "imap/store_imap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/uidset.h"
#include "util/u32.h"

/* Commands of a burst that belong to no flag change. */
#define NO_CHANGE ((size_t)-1)

/* One command of a burst, and its answer once read. */
struct burst_cmd {
	struct burst_cmd *next;
	size_t change;		/* index in the update's chg, or NO_CHANGE */
	int marks;		/* a STORE of +\Deleted, before an expunge */
	int answered;
	int ok;
	struct buf line;	/* the command as logged */
	struct buf status;	/* its answer when not OK */
};

struct burst {
	struct imap_store *s;
	struct burst_cmd *head, **tail;
	struct burst_cmd *last;	/* the command sent last */
	size_t change;		/* what the next command belongs to */
	int expunging;		/* the update expunges */
	int marking;		/* the next command marks \Deleted */
};

static void
cmd_done(void *ctx, const struct imap_response *r)
{
	struct burst_cmd *c = ctx;

	c->answered = 1;
	c->ok = imap_response_is(r, "OK");
	if (!c->ok)
		imap_describe_status(r, &c->status);
}

/* Send one command of the burst; its answer is read later. */
static int
burst_send(void *ctx, const struct imap_cmdline *l, struct buf *err)
{
	struct burst *b = ctx;
	struct burst_cmd *c = xcalloc(1, sizeof(*c));

	c->change = b->change;
	c->marks = b->marking && b->expunging;
	buf_setf(&c->line, "%s", buf_cstr(&l->log));
	*b->tail = c;
	b->tail = &c->next;
	b->last = c;
	return imap_client_submit(b->s->c, l, cmd_done, c, err);
}

static void
burst_free(struct burst *b)
{
	while (b->head != NULL) {
		struct burst_cmd *c = b->head;

		b->head = c->next;
		buf_free(&c->line);
		buf_free(&c->status);
		free(c);
	}
}

/* 1 when every command of change i was answered OK (none sent: 1). */
static int
change_ok(const struct burst *b, size_t i)
{
	for (const struct burst_cmd *c = b->head; c != NULL; c = c->next)
		if (c->change == i && !(c->answered && c->ok))
			return 0;
	return 1;
}

/* A refused STORE of \Deleted before an expunge: its messages stay. */
static void
refused_marks(const struct burst *b, const struct burst_cmd *c,
    struct buf *err)
{
	char set[64] = "";

	(void)sscanf(c->line.data, "UID STORE %63s", set);
	ims_err(b->s, err, "%s: %s; so UIDs %s are not marked \\Deleted and "
	    "the expunge left them on the server: the next run marks and "
	    "expunges them again (if the server keeps refusing, check that "
	    "the account may delete messages in this mailbox)", c->line.data,
	    c->status.data, set);
}

/* The first command the server refused, in the order sent, as the
 * error: "UID STORE 4:6 +FLAGS.SILENT (\Seen): NO ...". */
static int
first_refusal(const struct burst *b, struct buf *err)
{
	for (const struct burst_cmd *c = b->head; c != NULL; c = c->next) {
		if (!c->answered || c->ok)
			continue;
		if (c->marks)
			refused_marks(b, c, err);
		else
			ims_err(b->s, err, "%s: %s", c->line.data,
			    c->status.data);
		return -1;
	}
	return 0;
}

struct store_arg {
	char sign;
	unsigned flags;
};

static void
add_store(struct imap_cmdline *l, const char *set, const void *arg)
{
	const struct store_arg *a = arg;

	imap_cmd_addf(l, "UID STORE %s %cFLAGS.SILENT ", set, a->sign);
	ims_add_flags(l, a->flags);
}

static void
add_expunge(struct imap_cmdline *l, const char *set, const void *arg)
{
	(void)arg;
	imap_cmd_addf(l, "UID EXPUNGE %s", set);
}

static void
add_fetch_uid(struct imap_cmdline *l, const char *set, const void *arg)
{
	(void)arg;
	imap_cmd_addf(l, "UID FETCH %s (UID)", set);
}

/*
 * An expunge is known by the sequence numbers of the server's EXPUNGE
 * responses, so the UIDs of the messages to expunge must be in the
 * sequence map first. A scan put every UID there; without one (a
 * mailbox opened and expunged at once), the burst starts by asking.
 */
static int
send_uid_lookup(struct burst *b, const uint32_t *sorted, size_t n,
    struct buf *err)
{
	const struct imap_store *s = b->s;
	size_t i = 0;

	while (i < s->nseq && s->seq[i] != 0)
		i++;
	if (n == 0 || i == s->nseq)
		return 0;
	return ims_each_uidset(sorted, n, add_fetch_uid, NULL, burst_send, b,
	    err);
}

static int
send_store(struct burst *b, const uint32_t *sorted, size_t n, char sign,
    unsigned flags, struct buf *err)
{
	struct store_arg a = { sign, flags };
	int rc;

	if (flags == 0 || n == 0)
		return 0;
	b->marking = sign == '+' && (flags & MSG_DELETED);
	rc = ims_each_uidset(sorted, n, add_store, &a, burst_send, b, err);
	b->marking = 0;
	return rc;
}

static int
send_change(struct burst *b, size_t i, const struct flag_change *c,
    struct buf *err)
{
	size_t ns;
	uint32_t *sorted = imap_uids_sorted(c->uids, c->n, &ns);
	int rc;

	b->change = i;
	rc = send_store(b, sorted, ns, '+', c->add & MSG_ALL_FLAGS, err);
	if (rc == 0)
		rc = send_store(b, sorted, ns, '-', c->del & MSG_ALL_FLAGS,
		    err);
	b->change = NO_CHANGE;
	free(sorted);
	return rc;
}

/* The flags a STORE the server accepted gave, in the last scan's list:
 * the expunge reads them there. */
static void
note_flags(struct imap_store *s, const struct flag_change *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct msg_meta *m = msg_list_find(&s->known,
		    c->uids[i]);

		if (m != NULL)
			s->known.v[m - s->known.v].flags =
			    (m->flags | c->add) & ~c->del;
	}
}

/* 1 if a change of u marks uid \Deleted; it is sent before the expunge. */
static int
marked_by(const struct store_update *u, uint32_t uid)
{
	for (size_t i = 0; i < u->nchg; i++) {
		const struct flag_change *c = &u->chg[i];

		if (!(c->add & MSG_DELETED))
			continue;
		for (size_t k = 0; k < c->n; k++)
			if (c->uids[k] == uid)
				return 1;
	}
	return 0;
}

/*
 * Mark \Deleted what does not carry it yet. The planner marks a message
 * before it expunges it (the mark is what a killed run leaves behind), so
 * mostly nothing is left to mark here: a second STORE of the same mark
 * would only cost time. Flags are as the last scan saw them, with the
 * STOREs of this store since (note_flags()) and the changes of this
 * burst; a message not in that list is marked all the same.
 */
static int
send_marks(struct burst *b, const struct store_update *u,
    const uint32_t *sorted, size_t n, struct buf *err)
{
	uint32_t *need = xcalloc(n ? n : 1, sizeof(*need));
	size_t nneed = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct msg_meta *m = msg_list_find(&b->s->known,
		    sorted[i]);

		if ((m == NULL || !(m->flags & MSG_DELETED)) &&
		    !marked_by(u, sorted[i]))
			need[nneed++] = sorted[i];
	}
	rc = send_store(b, need, nneed, '+', MSG_DELETED, err);
	free(need);
	return rc;
}

struct search_ctx {
	uint32_t *v;
	size_t n;
};

static int
search_response(void *ctx, const struct imap_response *r)
{
	struct search_ctx *sc = ctx;

	if (!imap_atom_is(r->items, "SEARCH"))
		return 0;
	for (const struct imap_item *it = r->items->next; it; it = it->next) {
		if (it->kind != IMAP_NUMBER || it->num > UINT32_MAX)
			continue;
		sc->v = xreallocarray(sc->v, sc->n + 1, sizeof(*sc->v));
		sc->v[sc->n++] = (uint32_t)it->num;
	}
	return 0;
}

/*
 * Without UIDPLUS, EXPUNGE removes every \Deleted message: refuse when
 * one of them is not ours to remove. The search goes after the changes
 * sent so far and is answered (with them) before anything is marked or
 * expunged; without its OK, nothing is.
 */
static int
check_no_foreign_deleted(struct burst *b, const uint32_t *sorted, size_t n,
    struct buf *err)
{
	struct imap_store *s = b->s;
	struct search_ctx sc = { NULL, 0 };
	struct imap_cmdline l;
	struct buf others = BUF_INIT;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "UID SEARCH DELETED");
	rc = burst_send(b, &l, err);
	imap_cmd_free(&l);
	s->op_fn = search_response;
	s->op_ctx = &sc;
	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	s->op_fn = NULL;
	s->op_ctx = NULL;
	if (rc == 0 && !b->last->ok) {
		ims_err(s, err, "%s: %s; not expunging", b->last->line.data,
		    b->last->status.data);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < sc.n; i++)
		if (!u32_sorted_has(sorted, n, sc.v[i]))
			buf_addf(&others, "%s%u", others.len ? " " : "",
			    sc.v[i]);
	if (rc == 0 && others.len > 0) {
		ims_err(s, err, "cannot expunge: the server has no UIDPLUS, "
		    "so EXPUNGE would also remove UIDs %s, which are marked "
		    "\\Deleted but not meant to be removed; expunge them "
		    "yourself or clear their \\Deleted flag", others.data);
		rc = -1;
	}
	buf_free(&others);
	free(sc.v);
	return rc;
}

static int
send_expunge(struct burst *b, const struct store_update *u,
    const uint32_t *sorted, size_t n, struct buf *err)
{
	int uidplus = imap_client_has(b->s->c, CAP_UIDPLUS);
	struct imap_cmdline l;
	int rc;

	if (!uidplus && check_no_foreign_deleted(b, sorted, n, err) != 0)
		return -1;
	if (send_marks(b, u, sorted, n, err) != 0)
		return -1;
	if (uidplus)
		return ims_each_uidset(sorted, n, add_expunge, NULL,
		    burst_send, b, err);
	imap_cmd_init(&l);
	imap_cmd_add(&l, "EXPUNGE");
	rc = burst_send(b, &l, err);
	imap_cmd_free(&l);
	return rc;
}

/* What the mailbox held before the burst, after it, and what it was to
 * expunge: all sorted. */
struct presence {
	uint32_t *before, *after, *exp;
	size_t nbefore, nafter, nexp;
};

static int
flag_result(const struct presence *p, uint32_t uid)
{
	if (u32_sorted_has(p->after, p->nafter, uid))
		return STORE_OK;
	/* Expunged after its change, in this burst. */
	if (u32_sorted_has(p->exp, p->nexp, uid) &&
	    u32_sorted_has(p->before, p->nbefore, uid))
		return STORE_OK;
	return STORE_GONE;
}

/* Expunged when its EXPUNGE response came; left in place when the
 * mailbox still holds it; else gone before (another client). */
static int
expunge_result(const struct imap_store *s, const struct presence *p,
    uint32_t uid)
{
	for (size_t k = 0; k < s->nexpunged; k++)
		if (s->expunged[k] == uid)
			return STORE_OK;
	return u32_sorted_has(p->after, p->nafter, uid) ? STORE_FAILED :
	    STORE_GONE;
}

static void
fill_results(struct burst *b, const struct store_update *u,
    const struct presence *p)
{
	for (size_t i = 0; i < u->nchg; i++) {
		const struct flag_change *c = &u->chg[i];
		int ok = change_ok(b, i);

		for (size_t k = 0; k < c->n; k++)
			c->results[k] = ok ? flag_result(p, c->uids[k]) :
			    STORE_FAILED;
		if (ok)
			note_flags(b->s, c);
	}
	for (size_t i = 0; i < u->nexp; i++)
		u->exp_results[i] = expunge_result(b->s, p, u->exp[i]);
}

/* Send it all; 0, or -1 with err when sending failed or between() or
 * the check without UIDPLUS stopped it. */
static int
send_update(struct burst *b, const struct store_update *u,
    const struct presence *p, struct buf *err)
{
	if (send_uid_lookup(b, p->exp, p->nexp, err) != 0)
		return -1;
	for (size_t i = 0; i < u->nchg; i++)
		if (send_change(b, i, &u->chg[i], err) != 0)
			return -1;
	if (u->between != NULL && u->between(u->ctx, err) != 0)
		return -1;
	if (u->nexp == 0)
		return 0;
	return send_expunge(b, u, p->exp, p->nexp, err);
}

int
ims_update(struct store *st, const struct store_update *u, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct burst b = { s, NULL, &b.head, NULL, NO_CHANGE, u->nexp > 0,
	    0 };
	struct presence p = { 0 };
	struct buf werr = BUF_INIT;
	int rc, wrc;

	if (ims_require_open(s, err) != 0)
		return -1;
	p.before = ims_present_uids(s, &p.nbefore);
	p.exp = imap_uids_sorted(u->exp, u->nexp, &p.nexp);
	s->track_expunges = u->nexp > 0;
	s->nexpunged = 0;
	rc = send_update(&b, u, &p, err);
	/* Every answer is read, whatever stopped the sending. */
	wrc = imap_client_wait(s->c, &werr);
	s->track_expunges = 0;
	p.after = ims_present_uids(s, &p.nafter);
	fill_results(&b, u, &p);
	if (wrc != 0 || (rc != 0 && imap_client_broken(s->c))) {
		ims_err(s, err, "%s", werr.len ? werr.data : buf_cstr(err));
		rc = -1;
	} else if (rc == 0)
		rc = first_refusal(&b, err);
	burst_free(&b);
	buf_free(&werr);
	free(s->expunged);
	s->expunged = NULL;
	s->nexpunged = 0;
	free(p.before);
	free(p.after);
	free(p.exp);
	return rc;
}

int
ims_set_flags(struct store *st, const uint32_t *uids, size_t n,
    unsigned add, unsigned del, int *results, struct buf *err)
{
	struct flag_change c = { uids, n, add, del, results };
	struct store_update u = { &c, 1, NULL, NULL, NULL, 0, NULL };

	return ims_update(st, &u, err);
}

int
ims_expunge(struct store *st, const uint32_t *uids, size_t n, int *results,
    struct buf *err)
{
	struct store_update u = { NULL, 0, NULL, NULL, uids, n, results };

	return ims_update(st, &u, err);
}
