/* memstore: an in-memory store for tests; see memstore.h. */
#include "support/memstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEM_FAIL_MAX 8

struct mem_msg {
	uint32_t uid;
	unsigned flags;
	uint64_t modseq;	/* of the last change */
	char *body;
};

/* An expunge as a QRESYNC server remembers it. */
struct mem_gone {
	uint32_t uid;
	uint64_t modseq;
};

struct mem_box {
	char *name;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;	/* HIGHESTMODSEQ */
	struct mem_msg *msgs;	/* sorted by uid */
	size_t n;
	/* For stamps (memstore_stamps()): changes so far, and the store's
	 * clock at the last one. */
	uint64_t version;
	uint64_t changed;
	const uint64_t *clock;
	struct mem_gone *gone;	/* with qresync: every expunge */
	size_t ngone;
};

/* A mark from mark(), then the open() that used it. */
struct mem_mark {
	int set;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;
};

struct mem_pending {
	struct mem_box *box;
	struct mem_msg msg;
};

struct memstore {
	struct store base;	/* first: a struct store * is a memstore * */
	uint32_t uidvalidity;
	struct mem_box *boxes;
	size_t nboxes;
	struct mem_box *open;
	struct mem_pending *pending;
	size_t npending;
	struct memstore_calls calls;
	int no_plans;		/* append_begin() does not tell the UID */
	int modseqs;		/* open() reports HIGHESTMODSEQ */
	int peek;		/* peek() answers (else it says 0) */
	uint32_t fail_fetch[MEM_FAIL_MAX];	/* fetch() cannot read these
						   UIDs (0: a free slot) */
	int refuse_marked;	/* commit() refuses MEMSTORE_REFUSE_MARK */
	size_t lose_after;	/* commit() answers only so many; 0: all */
	int drop_flags;		/* commit() stores appends without flags */
	size_t refuse_change;	/* update() refuses its change n (from 1);
				   0: none */
	struct store_ops ops;	/* mem_ops, with what memstore_headers()
				   and memstore_updates() took out or put in */
	int stamps;		/* enum memstore_stamp */
	uint64_t clock;		/* granules of the coarse clock */
	uint64_t open_stamp;	/* what open() reported */
	int qresync;		/* mark() is heeded, expunges get MODSEQs */
	struct mem_mark mark;	/* for the next open() */
	struct mem_mark answered;	/* the open mailbox's, if it used one */
	char *arrival;		/* delivered by the next scan() before it
				   lists (NULL: none) */
};

struct store_append {
	struct memstore *ms;
	struct buf body;
	unsigned flags;
};

static struct mem_box *
find_box(struct memstore *ms, const char *name)
{
	for (size_t i = 0; i < ms->nboxes; i++)
		if (strcmp(ms->boxes[i].name, name) == 0)
			return &ms->boxes[i];
	return NULL;
}

static struct mem_box *
get_box(struct memstore *ms, const char *name)
{
	struct mem_box *b = find_box(ms, name);
	const char *open_name = ms->open ? ms->open->name : NULL;

	if (b != NULL)
		return b;
	ms->clock = ms->clock ? ms->clock : 1;
	ms->boxes = xreallocarray(ms->boxes, ms->nboxes + 1,
	    sizeof(*ms->boxes));
	b = &ms->boxes[ms->nboxes++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	b->clock = &ms->clock;
	b->uidvalidity = ms->uidvalidity;
	b->uidnext = 1;
	b->modseq = 1;
	b->version = 1;
	/* The array moved: find the open mailbox again. */
	if (open_name != NULL)
		ms->open = find_box(ms, open_name);
	return b;
}

static struct mem_msg *
find_msg(struct mem_box *b, uint32_t uid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->msgs[i].uid == uid)
			return &b->msgs[i];
	return NULL;
}

/* Any change of the mailbox's messages or flags, for its stamp. */
static void
touched(struct mem_box *b)
{
	b->version++;
	b->changed = *b->clock;
}

/* Like a CONDSTORE server: a new message or a flag change gets a new
 * MODSEQ. An expunge does not raise HIGHESTMODSEQ here, the least a
 * server may do, so that tests see the sync core cope without it. */
static void
set_flags(struct mem_box *b, struct mem_msg *m, unsigned flags)
{
	if (m->modseq != 0 && m->flags == flags)
		return;
	m->flags = flags;
	m->modseq = ++b->modseq;
	touched(b);
}

/* A Maildir's rule in small: a coarse stamp (the granule of the last
 * change) is only given once that granule is over, so that no later
 * change can give it again. */
static uint64_t
stamp_of(const struct memstore *ms, const struct mem_box *b)
{
	if (ms->stamps == MEMSTORE_STAMP_TRUE)
		return b->version;
	if (ms->stamps == MEMSTORE_STAMP_COARSE && b->changed < ms->clock)
		return b->changed + 1;
	return 0;
}

static uint32_t
box_add(struct mem_box *b, const char *body, size_t len, unsigned flags)
{
	struct mem_msg *m;

	b->msgs = xreallocarray(b->msgs, b->n + 1, sizeof(*b->msgs));
	m = &b->msgs[b->n++];
	m->uid = b->uidnext++;
	m->modseq = 0;
	set_flags(b, m, flags);
	m->body = xstrndup(body, len);
	return m->uid;
}

static int
mem_list(struct store *s, struct strlist *names, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	(void)err;
	for (size_t i = 0; i < ms->nboxes; i++)
		strlist_add(names, ms->boxes[i].name);
	strlist_sort(names);
	return 0;
}

static int
mem_create(struct store *s, const char *mbox, struct buf *err)
{
	(void)err;
	get_box((struct memstore *)s, mbox);
	return 0;
}

static int
mem_remove(struct store *s, const char *mbox, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	struct mem_box *b = find_box(ms, mbox);
	size_t i;

	if (b == NULL || b->n > 0) {
		buf_setf(err, "memstore: cannot remove '%s'", mbox);
		return -1;
	}
	if (ms->open == b)
		ms->open = NULL;
	i = (size_t)(b - ms->boxes);
	free(b->name);
	free(b->msgs);
	free(b->gone);
	memmove(b, b + 1, (ms->nboxes - i - 1) * sizeof(*b));
	ms->nboxes--;
	return 0;
}

static void
box_status(const struct memstore *ms, const struct mem_box *b,
    struct mbox_status *st)
{
	memset(st, 0, sizeof(*st));
	st->uidvalidity = b->uidvalidity;
	st->uidnext = b->uidnext;
	st->count = (uint32_t)b->n;
	st->highestmodseq = ms->modseqs ? b->modseq : 0;
	st->stamp = stamp_of(ms, b);
}

static int
mem_open(struct store *s, const char *mbox, struct mbox_status *st,
    struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	struct mem_box *b = find_box(ms, mbox);

	ms->calls.open++;
	if (b == NULL) {
		buf_setf(err, "memstore: no mailbox '%s'", mbox);
		return -1;
	}
	ms->open = b;
	box_status(ms, b, st);
	ms->open_stamp = st->stamp;
	ms->answered = ms->mark;
	ms->answered.set = ms->mark.set && ms->qresync &&
	    ms->mark.uidvalidity == b->uidvalidity &&
	    ms->mark.modseq <= b->modseq;
	st->changes_known = ms->answered.set;
	ms->mark.set = 0;
	return 0;
}

/* The truth, as open() would tell it: every change moves UIDNEXT,
 * HIGHESTMODSEQ (when reported) or the count. */
static int
mem_peek(struct store *s, const char *mbox, struct mbox_status *st,
    struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	struct mem_box *b = find_box(ms, mbox);

	(void)err;
	ms->calls.peek++;
	if (!ms->peek || b == NULL)
		return 0;
	box_status(ms, b, st);
	return 1;
}

static void
mem_mark(struct store *s, const struct store_mark *m)
{
	struct memstore *ms = (struct memstore *)s;

	ms->mark = (struct mem_mark){ 1, m->uidvalidity, m->uidnext,
	    m->modseq };
}

/* Sizes only where the hint wants them, as the real stores may do, so
 * that the model test catches any reader of a size that was not asked
 * for. */
static int
mem_scan(struct store *s, const struct scan_hint *hint, struct msg_list *out,
    struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	(void)err;
	ms->calls.scan++;
	if (ms->open != NULL && ms->arrival != NULL) {
		box_add(ms->open, ms->arrival, strlen(ms->arrival), 0);
		free(ms->arrival);
		ms->arrival = NULL;
	}
	for (size_t i = 0; ms->open && i < ms->open->n; i++) {
		struct mem_msg *m = &ms->open->msgs[i];
		struct msg_meta meta = { .uid = m->uid, .flags = m->flags };

		if (scan_hint_wants(hint, m->uid))
			meta.size = strlen(m->body);

		msg_list_add(out, &meta);
	}
	msg_list_sort(out);
	return 0;
}

/* The oracle for the sync core's claim that known is the mailbox but
 * for flags changed after since: any difference fails the sync. With a
 * stamp, known may lack empty messages (no message: a stamp's mark
 * allows for them, sync/plan.h), and only those. */
static int
check_known(const struct mem_box *b, const struct msg_list *known,
    uint64_t since, int stamp, struct buf *err)
{
	size_t lacked = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct mem_msg *m = &b->msgs[i];
		const struct msg_meta *k = msg_list_find(known, m->uid);

		if (k == NULL && stamp && m->body[0] == '\0') {
			lacked++;
			continue;
		}
		if (k == NULL) {
			buf_setf(err, "memstore: scan_changes did not know "
			    "UID %u of '%s'", m->uid, b->name);
			return -1;
		}
		if (m->modseq <= since && k->flags != m->flags) {
			buf_setf(err, "memstore: scan_changes knew flags %x "
			    "of UID %u of '%s', unchanged since MODSEQ %llu "
			    "as %x", k->flags, m->uid, b->name,
			    (unsigned long long)since, m->flags);
			return -1;
		}
	}
	if (known->n + lacked != b->n) {
		buf_setf(err, "memstore: scan_changes told of %zu messages, "
		    "mailbox '%s' holds %zu", known->n, b->name, b->n);
		return -1;
	}
	return 0;
}

static int
vanished_since(const struct mem_box *b, uint32_t uid, uint64_t since)
{
	for (size_t i = 0; i < b->ngone; i++)
		if (b->gone[i].uid == uid && b->gone[i].modseq > since)
			return 1;
	return 0;
}

/*
 * QRESYNC's answer, as a server gives it: known without what vanished
 * since the mark, the flags of what changed since, the messages from the
 * mark's UIDNEXT on. The oracle: that must be the mailbox exactly, and
 * a message unchanged since the mark must have the flags known gives it.
 */
static int
mem_qresync_changes(struct memstore *ms, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err)
{
	const struct mem_box *b = ms->open;
	uint32_t from = ms->answered.uidnext;
	int moved = 0;

	for (size_t i = 0; i < known->n; i++) {
		struct msg_meta meta = known->v[i];
		struct mem_msg *m = find_msg(ms->open, meta.uid);

		if (vanished_since(b, meta.uid, since)) {
			moved = 1;
			continue;
		}
		if (meta.uid >= from || m == NULL) {
			buf_setf(err, "memstore: scan_changes told of UID %u "
			    "of '%s', %s", meta.uid, b->name, m == NULL ?
			    "gone without an expunge since the mark" :
			    "above the mark's UIDNEXT");
			return -1;
		}
		if (m->modseq <= since && meta.flags != m->flags) {
			buf_setf(err, "memstore: scan_changes knew flags %x "
			    "of UID %u of '%s', unchanged since MODSEQ %llu "
			    "as %x", meta.flags, m->uid, b->name,
			    (unsigned long long)since, m->flags);
			return -1;
		}
		meta.flags = m->flags;
		msg_list_add(out, &meta);
	}
	for (size_t i = 0; i < b->n; i++) {
		struct msg_meta meta = { .uid = b->msgs[i].uid,
		    .flags = b->msgs[i].flags,
		    .size = strlen(b->msgs[i].body) };

		if (meta.uid < from)
			continue;
		msg_list_add(out, &meta);
		moved = 1;
	}
	msg_list_sort(out);
	if (out->n != b->n) {
		buf_setf(err, "memstore: scan_changes makes %zu messages of "
		    "'%s', which holds %zu: known lacks some", out->n,
		    b->name, b->n);
		return -1;
	}
	ms->calls.qresync_moved += moved;
	return 0;
}

static int
mem_scan_changes(struct store *s, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	ms->calls.scan_changes++;
	if (ms->open != NULL && ms->stamps && !ms->modseqs) {
		/* Nothing changed since the stamp: not even a flag. */
		if (since == 0 || since != ms->open_stamp) {
			buf_setf(err, "memstore: scan_changes at stamp %llu, "
			    "open() gave %llu", (unsigned long long)since,
			    (unsigned long long)ms->open_stamp);
			return -1;
		}
		since = UINT64_MAX;
	} else if (ms->open == NULL || !ms->modseqs) {
		buf_setf(err, "memstore: scan_changes without an open mailbox "
		    "with modification sequences");
		return -1;
	}
	if (ms->answered.set)
		return mem_qresync_changes(ms, known, since, out, err);
	if (check_known(ms->open, known, since, since == UINT64_MAX,
	    err) != 0)
		return -1;
	for (size_t i = 0; i < known->n; i++) {
		struct msg_meta meta = known->v[i];

		meta.flags = find_msg(ms->open, meta.uid)->flags;
		msg_list_add(out, &meta);
	}
	msg_list_sort(out);
	return 0;
}

/* The message, or with header_only its header (store.h), to sink. */
static int
send_msg(struct memstore *ms, const struct msg_sink *sink, struct mem_msg *m,
    int header_only, struct buf *err)
{
	struct msg_meta meta = { .uid = m->uid, .flags = m->flags,
	    .size = strlen(m->body) };
	struct header_scan hs = { 0 };
	size_t len = meta.size;

	if (header_only) {
		len = header_scan_add(&hs, m->body, len);
		ms->calls.headers++;
		ms->calls.header_bytes += len;
	} else {
		ms->calls.fetched++;
		ms->calls.fetched_bytes += len;
	}
	if (sink->begin(sink->ctx, &meta, err) != 0)
		return -1;
	if (sink->data(sink->ctx, m->body, len, err) != 0)
		return -1;
	return sink->end(sink->ctx, err);
}

static int
unreadable(const struct memstore *ms, uint32_t uid)
{
	for (size_t i = 0; i < MEM_FAIL_MAX; i++)
		if (ms->fail_fetch[i] == uid && uid != 0)
			return 1;
	return 0;
}

static int
fetch_some(struct store *s, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, int header_only, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	for (size_t i = 0; i < n; i++) {
		struct mem_msg *m = ms->open ? find_msg(ms->open, uids[i]) :
		    NULL;

		if (m == NULL) {
			sink->gone(sink->ctx, uids[i]);
			continue;
		}
		if (unreadable(ms, uids[i]) && sink->failed != NULL) {
			char why[64];

			snprintf(why, sizeof(why), "memstore: NO [TEST] UID %u",
			    uids[i]);
			sink->failed(sink->ctx, uids[i], why);
			continue;
		}
		if (unreadable(ms, uids[i])) {
			buf_setf(err, "memstore: UID %u: NO [TEST]", uids[i]);
			return -1;
		}
		if (send_msg(ms, sink, m, header_only, err) != 0)
			return -1;
	}
	return 0;
}

static int
mem_fetch(struct store *s, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return fetch_some(s, uids, n, sink, 0, err);
}

static int
mem_fetch_headers(struct store *s, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return fetch_some(s, uids, n, sink, 1, err);
}

static int
mem_append_begin(struct store *s, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	struct store_append *a;

	if (ms->open == NULL) {
		buf_setf(err, "memstore: append without an open mailbox");
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->ms = ms;
	a->flags = meta->flags;
	*planned_uid = ms->open->uidnext;
	for (size_t i = 0; i < ms->npending; i++)
		if (ms->pending[i].box == ms->open)
			(*planned_uid)++;
	if (ms->no_plans)
		*planned_uid = 0;
	*out = a;
	return 0;
}

static int
mem_append_write(struct store_append *a, const char *p, size_t n,
    struct buf *err)
{
	(void)err;
	buf_add(&a->body, p, n);
	return 0;
}

static int
mem_append_finish(struct store_append *a, struct buf *err)
{
	struct memstore *ms = a->ms;
	struct mem_pending *p;

	(void)err;
	ms->pending = xreallocarray(ms->pending, ms->npending + 1,
	    sizeof(*ms->pending));
	p = &ms->pending[ms->npending++];
	p->box = ms->open;
	p->msg.flags = a->flags;
	p->msg.body = buf_detach(&a->body);
	free(a);
	return 0;
}

static void
mem_append_cancel(struct store_append *a)
{
	buf_free(&a->body);
	free(a);
}

/* A refused message still uses up the UID it was planned as, so that
 * the plans of the others hold. */
static void
commit_one(struct memstore *ms, struct mem_pending *p,
    struct append_result *r)
{
	if (ms->refuse_marked && strncmp(p->msg.body, MEMSTORE_REFUSE_MARK,
	    strlen(MEMSTORE_REFUSE_MARK)) == 0) {
		r->status = STORE_REFUSED;
		buf_setf(&r->why, "memstore: NO [LIMIT] message refused");
		p->box->uidnext++;
	} else {
		r->status = STORE_OK;
		r->uid = box_add(p->box, p->msg.body, strlen(p->msg.body),
		    ms->drop_flags ? 0 : p->msg.flags);
	}
	free(p->msg.body);
}

/* With lose_after set, every message arrives but the answers of those
 * past the first lose_after are lost, as when a connection drops. */
static int
mem_commit(struct store *s, struct append_result **res, size_t *nres,
    struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	size_t lost = 0;

	ms->calls.commit++;
	*res = xcalloc(ms->npending ? ms->npending : 1, sizeof(**res));
	*nres = ms->npending;
	for (size_t i = 0; i < ms->npending; i++) {
		commit_one(ms, &ms->pending[i], &(*res)[i]);
		if (ms->lose_after != 0 && i >= ms->lose_after) {
			(*res)[i].status = STORE_FAILED;
			(*res)[i].uid = 0;
			lost++;
		}
	}
	ms->npending = 0;
	if (lost == 0)
		return 0;
	buf_setf(err, "memstore: connection lost");
	return -1;
}

static int
mem_set_flags(struct store *s, const uint32_t *uids, size_t n, unsigned add,
    unsigned del, int *results, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	(void)err;
	ms->calls.set_flags++;
	for (size_t i = 0; i < n; i++) {
		struct mem_msg *m = ms->open ? find_msg(ms->open, uids[i]) :
		    NULL;

		results[i] = m ? STORE_OK : STORE_GONE;
		if (m != NULL)
			set_flags(ms->open, m, (m->flags | add) & ~del);
	}
	return 0;
}

static int
mem_expunge(struct store *s, const uint32_t *uids, size_t n, int *results,
    struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;

	(void)err;
	ms->calls.expunge++;
	for (size_t i = 0; i < n; i++)
		results[i] = (ms->open &&
		    memstore_remove(s, ms->open->name, uids[i]) == 0) ?
		    STORE_OK : STORE_GONE;
	return 0;
}

/* 1 if a change of u marks uid \Deleted. */
static int
marks(const struct flag_change *c, uint32_t uid)
{
	if (!(c->add & MSG_DELETED))
		return 0;
	for (size_t k = 0; k < c->n; k++)
		if (c->uids[k] == uid)
			return 1;
	return 0;
}

/* As an IMAP store's UID EXPUNGE after the marks it sends: a message
 * whose mark the store refused in this update stays (STORE_FAILED). */
static void
expunge_marked(struct memstore *ms, const struct store_update *u,
    size_t refused)
{
	ms->calls.expunge++;
	for (size_t i = 0; i < u->nexp; i++) {
		uint32_t uid = u->exp[i];

		if (refused != 0 && marks(&u->chg[refused - 1], uid) &&
		    ms->open && find_msg(ms->open, uid)) {
			u->exp_results[i] = STORE_FAILED;
			continue;
		}
		u->exp_results[i] = (ms->open &&
		    memstore_remove(&ms->base, ms->open->name, uid) == 0) ?
		    STORE_OK : STORE_GONE;
	}
}

/* As an IMAP store's burst: every change, then between(), then the
 * expunge; a refused change (memstore_refuse_change()) leaves its
 * messages as they are, the rest goes on, and the call fails naming
 * it. */
static int
mem_update(struct store *s, const struct store_update *u, struct buf *err)
{
	struct memstore *ms = (struct memstore *)s;
	size_t refused = 0;

	ms->calls.update++;
	for (size_t i = 0; i < u->nchg; i++) {
		const struct flag_change *c = &u->chg[i];

		if (i + 1 != ms->refuse_change) {
			mem_set_flags(s, c->uids, c->n, c->add, c->del,
			    c->results, err);
			continue;
		}
		for (size_t k = 0; k < c->n; k++)
			c->results[k] = STORE_FAILED;
		refused = i + 1;
	}
	if (u->between != NULL && u->between(u->ctx, err) != 0)
		return -1;
	if (u->nexp > 0)
		expunge_marked(ms, u, refused);
	if (refused == 0)
		return 0;
	buf_setf(err, "memstore: flag change %zu of %zu refused", refused,
	    u->nchg);
	return -1;
}

static void
mem_free(struct store *s)
{
	struct memstore *ms = (struct memstore *)s;

	memstore_crash(s);
	for (size_t i = 0; i < ms->nboxes; i++) {
		for (size_t k = 0; k < ms->boxes[i].n; k++)
			free(ms->boxes[i].msgs[k].body);
		free(ms->boxes[i].msgs);
		free(ms->boxes[i].gone);
		free(ms->boxes[i].name);
	}
	free(ms->boxes);
	free(ms->pending);
	free(ms->arrival);
	free(ms);
}

static const struct store_ops mem_ops = {
	.kind = "memory",
	.list = mem_list,
	.create = mem_create,
	.remove = mem_remove,
	.open = mem_open,
	.scan = mem_scan,
	.scan_changes = mem_scan_changes,
	.peek = mem_peek,
	.mark = mem_mark,
	.fetch = mem_fetch,
	.fetch_headers = mem_fetch_headers,
	.append_begin = mem_append_begin,
	.append_write = mem_append_write,
	.append_finish = mem_append_finish,
	.append_cancel = mem_append_cancel,
	.commit = mem_commit,
	.set_flags = mem_set_flags,
	.expunge = mem_expunge,
	.free = mem_free,
};

void
memstore_headers(struct store *s, int on)
{
	struct memstore *ms = (struct memstore *)s;

	ms->ops.fetch_headers = on ? mem_fetch_headers : NULL;
}

void
memstore_updates(struct store *s, int on)
{
	struct memstore *ms = (struct memstore *)s;

	ms->ops.update = on ? mem_update : NULL;
}

void
memstore_refuse_change(struct store *s, size_t n)
{
	((struct memstore *)s)->refuse_change = n;
}

struct store *
memstore_new(uint32_t uidvalidity)
{
	struct memstore *ms = xcalloc(1, sizeof(*ms));

	ms->ops = mem_ops;
	ms->base.ops = &ms->ops;
	ms->uidvalidity = uidvalidity;
	return &ms->base;
}

uint32_t
memstore_deliver(struct store *s, const char *mbox, const char *body,
    unsigned flags)
{
	struct mem_box *b = get_box((struct memstore *)s, mbox);

	return box_add(b, body, strlen(body), flags);
}

int
memstore_set(struct store *s, const char *mbox, uint32_t uid, unsigned flags)
{
	struct mem_box *b = find_box((struct memstore *)s, mbox);
	struct mem_msg *m = b ? find_msg(b, uid) : NULL;

	if (m == NULL)
		return -1;
	set_flags(b, m, flags);
	return 0;
}

int
memstore_remove(struct store *s, const char *mbox, uint32_t uid)
{
	struct mem_box *b = find_box((struct memstore *)s, mbox);
	struct mem_msg *m = b ? find_msg(b, uid) : NULL;
	size_t i;

	if (m == NULL)
		return -1;
	if (((struct memstore *)s)->qresync) {
		b->gone = xreallocarray(b->gone, b->ngone + 1,
		    sizeof(*b->gone));
		b->gone[b->ngone].uid = uid;
		b->gone[b->ngone++].modseq = ++b->modseq;
	}
	i = (size_t)(m - b->msgs);
	free(m->body);
	memmove(m, m + 1, (b->n - i - 1) * sizeof(*m));
	b->n--;
	touched(b);
	return 0;
}

const char *
memstore_body(struct store *s, const char *mbox, uint32_t uid)
{
	struct mem_box *b = find_box((struct memstore *)s, mbox);
	struct mem_msg *m = b ? find_msg(b, uid) : NULL;

	return m ? m->body : NULL;
}

void
memstore_fail_fetch(struct store *s, uint32_t uid)
{
	struct memstore *ms = (struct memstore *)s;

	if (uid == 0) {
		memset(ms->fail_fetch, 0, sizeof(ms->fail_fetch));
		return;
	}
	for (size_t i = 0; i < MEM_FAIL_MAX; i++) {
		if (ms->fail_fetch[i] == 0) {
			ms->fail_fetch[i] = uid;
			return;
		}
	}
}

void
memstore_crash(struct store *s)
{
	struct memstore *ms = (struct memstore *)s;

	for (size_t i = 0; i < ms->npending; i++)
		free(ms->pending[i].msg.body);
	ms->npending = 0;
}

void
memstore_reset_uids(struct store *s, const char *mbox, uint32_t uidvalidity)
{
	struct mem_box *b = find_box((struct memstore *)s, mbox);

	if (b == NULL)
		return;
	b->uidvalidity = uidvalidity;
	b->uidnext = 1;
	b->ngone = 0;
	for (size_t i = 0; i < b->n; i++)
		b->msgs[i].uid = b->uidnext++;
	touched(b);
}

struct memstore_calls
memstore_calls(struct store *s)
{
	return ((struct memstore *)s)->calls;
}

void
memstore_plan_uids(struct store *s, int on)
{
	((struct memstore *)s)->no_plans = !on;
}

void
memstore_refuse_marked(struct store *s, int on)
{
	((struct memstore *)s)->refuse_marked = on;
}

void
memstore_lose_answers_after(struct store *s, size_t n)
{
	((struct memstore *)s)->lose_after = n;
}

void
memstore_modseqs(struct store *s, int on)
{
	((struct memstore *)s)->modseqs = on;
}

void
memstore_peek(struct store *s, int on)
{
	((struct memstore *)s)->peek = on;
}

void
memstore_qresync(struct store *s, int on)
{
	struct memstore *ms = (struct memstore *)s;

	ms->qresync = on;
	ms->modseqs |= on;
}

void
memstore_drop_flags(struct store *s, int on)
{
	((struct memstore *)s)->drop_flags = on;
}

void
memstore_arrive_on_scan(struct store *s, const char *body)
{
	struct memstore *ms = (struct memstore *)s;

	free(ms->arrival);
	ms->arrival = xstrdup(body);
}

void
memstore_stamps(struct store *s, enum memstore_stamp mode)
{
	((struct memstore *)s)->stamps = (int)mode;
}

void
memstore_tick(struct store *s)
{
	((struct memstore *)s)->clock++;
}
