/*
 * Model-based randomized test of the sync core (DESIGN.md §3).
 *
 * One history: two Maildir stores (far and near) in a temporary directory,
 * one mailbox pair INBOX<->INBOX, a policy drawn from policy_table, and a
 * random sequence of user actions done directly on the files, as a mail
 * reader does (deliver into new/ or cur/, rename to change flags, unlink),
 * interleaved with syncs. Some syncs run in a forked child that kills
 * itself with SIGKILL at a random step (sync/crash.h); the parent then
 * usually syncs again at once, sometimes only after more user actions.
 *
 * After every completed sync an independent model predicts where each
 * message must be and with which flags (model_predict(), written from the
 * rules of docs/sync-rules.md, not from the planner), and the test checks:
 *  - no loss, no resurrection: every message is on exactly the sides the
 *    model says, and a message the user never deleted nor marked \Deleted
 *    is on every side the policy copies it to;
 *  - no duplicates: a Message-ID appears at most once per side, and no
 *    file appears that the user did not write;
 *  - convergence: the planner, given the state on disk and fresh scans,
 *    plans no operation at all, and the scans rename nothing; at the end
 *    of each history a second real sync changes nothing;
 *  - bodies: every copy is byte-identical to what the user wrote.
 *
 * What a killed sync did is unknown to the model. For a message the user
 * did not touch between the kill and the next completed sync the
 * prediction is the same as without the kill (the rules are idempotent),
 * so it is checked exactly. A message the user touched in between (it is
 * "disturbed") may legitimately end in more than one way; it is checked
 * against the invariants only, and the model then adopts what the disk
 * shows.
 *
 * Now and then the state file and journal are lost (removed between two
 * syncs, pending copy intents and all). Without state the next sync meets
 * both mailboxes afresh (DESIGN invariant 9): what they hold in common is
 * paired by content, never copied again, but a deletion or a flag removal
 * made since the last sync cannot be told from mail that was never
 * synced. So every message is then checked against the invariants only
 * (no duplicate, no loss), and a message the user deleted may come back.
 *
 * Every history of a seed has its own random stream, so any one can be
 * replayed: TWINBOX_MODEL_REPLAY=SEED:INDEX runs that history alone and
 * prints its action log. TWINBOX_MODEL_HISTORIES=N changes the number of
 * histories per seed (for runs under valgrind).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir.h"
#include "store.h"
#include "support/testlib.h"
#include "sync/crash.h"
#include "sync/exec.h"
#include "sync/journal.h"
#include "sync/mailbox.h"
#include "sync/plan.h"
#include "sync/policy.h"
#include "sync/state_path.h"

#define MODEL_MAX_MSGS		48	/* messages created in one history */
#define MODEL_MAX_ALIVE		18	/* at once */
#define CRASH_MAX_STEP		30
#define DEFAULT_HISTORIES	1000	/* per seed; five seeds */
#define VALGRIND_HISTORIES	60	/* per seed, under valgrind */
#define COVERAGE_HISTORIES	200	/* enough to assert the coverage */
#define MSG_ID_FORMAT		"Message-ID: <m%u@model.test>"

static int
rng_percent(struct tl_rng *r, unsigned percent)
{
	return tl_rng_below(r, 100) < percent;
}

struct policy_choice {
	const char *name;
	unsigned ops[2];	/* indexed by source side */
	unsigned expunge;
	unsigned weight;	/* out of 100 */
};

#define EXP_FAR SYNC_EXPUNGE_SIDE(SIDE_FAR)
#define EXP_NEAR SYNC_EXPUNGE_SIDE(SIDE_NEAR)

static const struct policy_choice policy_table[] = {
	{ "Sync All, Expunge None", { SYNC_ALL, SYNC_ALL }, 0, 20 },
	{ "Sync All, Expunge Far", { SYNC_ALL, SYNC_ALL }, EXP_FAR, 20 },
	{ "Sync All, Expunge Near", { SYNC_ALL, SYNC_ALL }, EXP_NEAR, 20 },
	{ "Sync All, Expunge Both", { SYNC_ALL, SYNC_ALL },
	    EXP_FAR | EXP_NEAR, 20 },
	{ "Sync Pull, Expunge None", { SYNC_ALL, 0 }, 0, 5 },
	{ "Sync Pull, Expunge Both", { SYNC_ALL, 0 }, EXP_FAR | EXP_NEAR, 5 },
	{ "Sync Push, Expunge Near", { 0, SYNC_ALL }, EXP_NEAR, 5 },
	{ "Sync Push, Expunge Far", { 0, SYNC_ALL }, EXP_FAR, 5 },
};
#define POLICY_CHOICES (sizeof(policy_table) / sizeof(policy_table[0]))

/* What the runs of one seed exercised, so the test cannot pass vacuously. */
struct coverage {
	unsigned long kills[CRASH_MAX_STEP + 1];	/* killed at step N */
	unsigned long child_finished;	/* crash point beyond the last step */
	unsigned long syncs;		/* completed syncs, each checked */
	unsigned long recovered;	/* interrupted copies found */
	unsigned long copied[2], flagged[2], expunged[2];
	unsigned long exact;		/* messages checked exactly */
	unsigned long disturbed;	/* ... against invariants only */
	unsigned long user_deletes, user_flag_changes, creates;
	unsigned long states_lost;	/* state and journal removed */
	unsigned long histories[POLICY_CHOICES];
};

/* What the model remembers about the record of a message. */
enum rec_kind {
	REC_NONE,	/* never recorded: new, or left on its side */
	REC_BOTH,	/* paired; base is the agreed flags */
	REC_ONE,	/* lives on rec_side only, for good */
	REC_DEAD	/* gone from both sides */
};

struct model_msg {
	unsigned id;		/* the n of <mN@model.test> */
	char *body;
	size_t len;
	enum side origin;
	int exists[2];
	unsigned flags[2];	/* valid where exists */
	unsigned base;		/* REC_BOTH */
	enum rec_kind rec;
	enum side rec_side;	/* REC_ONE */
	int user_deleted[2];	/* unlinked by the user on that side */
	int may_return[2];	/* ... while a killed sync's copy was
				   unconfirmed: it may be copied again */
	int ever_deleted;	/* the user unlinked a copy at some point */
	int ever_marked;	/* carried \Deleted at some point */
	int disturbed;		/* touched by the user after a killed sync */
};

struct history {
	uint64_t seed;
	unsigned index;
	struct tl_rng rng;
	const struct policy_choice *choice;
	struct sync_policy policy;
	char *root;
	char *box[2];		/* the INBOX directory of each side */
	struct state_paths paths;
	struct model_msg msg[MODEL_MAX_MSGS];
	size_t nmsg;
	int crash_pending;	/* a sync was killed since the last check */
	int deliver_after_kill;	/* new mail may arrive before the resume */
	int state_lost;		/* since the last completed sync */
	unsigned step;
	struct buf log;		/* the action log, for replay */
	struct buf why;		/* the first failure */
	struct buf capture;	/* what the sync core logged */
	struct logger lg;
	struct coverage *cov;
};

/* One message file as found on disk. */
struct disk_msg {
	char *rel;		/* "new/NAME" or "cur/NAME" */
	unsigned id;
	unsigned flags;
	char *data;
	size_t len;
};

struct disk_view {
	struct disk_msg *v;
	size_t n, cap;
};


static void hlog(struct history *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static int hfail(struct history *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
hlog(struct history *h, const char *fmt, ...)
{
	va_list ap;

	buf_addf(&h->log, "%4u  ", ++h->step);
	va_start(ap, fmt);
	buf_vaddf(&h->log, fmt, ap);
	va_end(ap);
	buf_addc(&h->log, '\n');
}

/* Record the first failure; always returns -1. */
static int
hfail(struct history *h, const char *fmt, ...)
{
	va_list ap;

	if (h->why.len > 0)
		return -1;
	va_start(ap, fmt);
	buf_vaddf(&h->why, fmt, ap);
	va_end(ap);
	return -1;
}

static void
flags_text(unsigned flags, char out[MSG_FLAG_COUNT + 2])
{
	msg_flags_to_letters(flags, out);
	if (out[0] == '\0')
		strcpy(out, "-");
}

static int
allows(const struct history *h, enum side src, unsigned op)
{
	return (h->policy.ops[src] & op) != 0;
}

static int
expunges(const struct history *h, enum side s)
{
	return (h->policy.expunge & SYNC_EXPUNGE_SIDE(s)) != 0;
}

/* ---- the disk, read independently of the Maildir store ---- */

static void
disk_view_free(struct disk_view *dv)
{
	for (size_t i = 0; i < dv->n; i++) {
		free(dv->v[i].rel);
		free(dv->v[i].data);
	}
	free(dv->v);
	memset(dv, 0, sizeof(*dv));
}

/* Flags from the ":2," info of a name; -1 on a letter we never write. */
static int
parse_flags(const char *name, unsigned *flags)
{
	const char *info = strstr(name, ":2,");

	*flags = 0;
	if (info == NULL)
		return 0;
	for (const char *p = info + 3; *p != '\0'; p++) {
		const char *at = strchr(msg_flag_letters, *p);

		if (at == NULL)
			return -1;
		*flags |= 1u << (at - msg_flag_letters);
	}
	return 0;
}

static int
read_whole(const char *path, char **data, size_t *len, struct buf *err)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf_setf(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	if (n < 0) {
		buf_setf(err, "read %s: %s", path, strerror(errno));
		close(fd);
		buf_free(&b);
		return -1;
	}
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
}

/* The contents of d, and the Message-ID number in them. */
static int
read_disk_msg(const char *box, struct disk_msg *d, struct buf *err)
{
	struct buf path = BUF_INIT;
	int rc;

	buf_setf(&path, "%s/%s", box, d->rel);
	rc = read_whole(path.data, &d->data, &d->len, err);
	if (rc == 0 && sscanf(d->data, MSG_ID_FORMAT, &d->id) != 1) {
		buf_setf(err, "%s: not a message of this test", path.data);
		rc = -1;
	}
	buf_free(&path);
	return rc;
}

static int
add_disk_file(struct disk_view *dv, const char *sub, const char *name,
    struct buf *err)
{
	struct disk_msg m = { 0 };
	struct buf rel = BUF_INIT;

	buf_setf(&rel, "%s/%s", sub, name);
	if (parse_flags(name, &m.flags) != 0) {
		buf_setf(err, "%s: unexpected flag letter", rel.data);
		buf_free(&rel);
		return -1;
	}
	m.rel = buf_detach(&rel);
	dv->v = xgrow(dv->v, &dv->cap, dv->n + 1, 16, sizeof(*dv->v));
	dv->v[dv->n++] = m;
	return 0;
}

static int
scan_subdir(struct disk_view *dv, const char *box, const char *sub,
    struct buf *err)
{
	struct buf dir = BUF_INIT;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	buf_setf(&dir, "%s/%s", box, sub);
	if ((d = opendir(dir.data)) == NULL) {
		buf_setf(err, "opendir %s: %s", dir.data, strerror(errno));
		buf_free(&dir);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		rc = add_disk_file(dv, sub, e->d_name, err);
	}
	closedir(d);
	buf_free(&dir);
	return rc;
}

static int
cmp_disk_rel(const void *a, const void *b)
{
	return strcmp(((const struct disk_msg *)a)->rel,
	    ((const struct disk_msg *)b)->rel);
}

/* Every message file of a Maildir, sorted by name; with_data: with its
 * contents and Message-ID. */
static int
scan_disk(const char *box, struct disk_view *dv, int with_data,
    struct buf *err)
{
	memset(dv, 0, sizeof(*dv));
	if (scan_subdir(dv, box, "new", err) != 0 ||
	    scan_subdir(dv, box, "cur", err) != 0) {
		disk_view_free(dv);
		return -1;
	}
	if (dv->n > 1)
		qsort(dv->v, dv->n, sizeof(*dv->v), cmp_disk_rel);
	for (size_t i = 0; with_data && i < dv->n; i++) {
		if (read_disk_msg(box, &dv->v[i], err) != 0) {
			disk_view_free(dv);
			return -1;
		}
	}
	return 0;
}

static const struct disk_msg *
disk_find(const struct disk_view *dv, unsigned id)
{
	for (size_t i = 0; i < dv->n; i++)
		if (dv->v[i].id == id)
			return &dv->v[i];
	return NULL;
}

static int
same_names(const struct disk_view *a, const struct disk_view *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].rel, b->v[i].rel) != 0)
			return 0;
	return 1;
}

/* ---- the sync core, driven as the channel runner drives it ---- */

static void
free_stores(struct store *st[2])
{
	for (int s = 0; s < 2; s++)
		if (st[s] != NULL)
			st[s]->ops->free(st[s]);
}

static int
new_stores(struct history *h, struct store *st[2], struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		struct maildir_options opt = { .path = h->box[s],
		    .subfolders = MAILDIR_SUB_MAILDIRPP, .fsync = 0 };

		st[s] = maildir_store_new(&opt, &h->lg, err);
		if (st[s] == NULL) {
			free_stores(st);
			return -1;
		}
	}
	return 0;
}

static int
run_sync(struct history *h, struct crash_point *cp, struct exec_stats *stats,
    struct buf *err)
{
	struct store *st[2] = { NULL, NULL };
	struct mailbox_job job = { .box = { "INBOX", "INBOX" },
	    .label = "model:INBOX", .policy = &h->policy,
	    .paths = &h->paths, .crash = cp, .lg = &h->lg };
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (new_stores(h, st, err) != 0)
		return -1;
	job.store[0] = st[0];
	job.store[1] = st[1];
	rc = sync_mailbox(&job, stats, err);
	free_stores(st);
	return rc;
}

static void
describe_plan(const struct plan *p, struct buf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		buf_adds(out, i ? "; " : "");
		plan_describe_op(&p->ops[i], out);
	}
	if (p->status != PLAN_OK)
		buf_addf(out, " (status %d: %s)", (int)p->status,
		    buf_cstr(&p->why));
}

static int
plan_fresh(struct history *h, struct store *st[2], struct plan *p,
    struct buf *err)
{
	struct sync_state state;
	struct mbox_status status[2];
	struct msg_list scan[2] = { { 0 }, { 0 } };
	struct plan_input in = { .state = &state, .policy = &h->policy };
	int rc = -1;

	state_init(&state);
	if (state_load(h->paths.state, h->paths.journal, &state, NULL, &h->lg,
	    err) != 0)
		goto out;
	for (int s = 0; s < 2; s++) {
		if (st[s]->ops->open(st[s], "INBOX", &status[s], err) != 0 ||
		    st[s]->ops->scan(st[s], NULL, &scan[s], err) != 0)
			goto out;
		in.side[s].scan = &scan[s];
		in.side[s].status = &status[s];
	}
	plan_mailbox(&in, p);
	rc = 0;
out:
	for (int s = 0; s < 2; s++)
		msg_list_free(&scan[s]);
	state_free(&state);
	return rc;
}

/* Invariant 3: given the state on disk and fresh scans of both sides, the
 * planner has nothing left to do. */
static int
check_plan_empty(struct history *h)
{
	struct store *st[2] = { NULL, NULL };
	struct plan p;
	struct buf err = BUF_INIT, ops = BUF_INIT;
	int rc = 0;

	plan_init(&p);
	if (new_stores(h, st, &err) != 0 || plan_fresh(h, st, &p, &err) != 0)
		rc = hfail(h, "planning again failed: %s", err.data);
	else if (p.status != PLAN_OK || p.n != 0) {
		describe_plan(&p, &ops);
		rc = hfail(h, "not converged: a sync right after plans %zu "
		    "operations: %s", p.n, ops.data);
	}
	free_stores(st);
	plan_free(&p);
	buf_free(&err);
	buf_free(&ops);
	return rc;
}

/* ---- the model ---- */

static struct model_msg *
model_find(struct history *h, unsigned id)
{
	return id < h->nmsg ? &h->msg[id] : NULL;
}

static size_t
model_alive(const struct history *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nmsg; i++)
		n += h->msg[i].exists[0] || h->msg[i].exists[1];
	return n;
}

/*
 * The flag merge of a recorded pair, bit by bit: with Flags in both
 * directions a bit that changed on a side since the base takes that side's
 * value (it cannot change in opposite ways on the two sides, as a change
 * is relative to the same base); with Flags in one direction the source's
 * changes are applied to the target and the new base is the source.
 */
static void
model_merge(const struct history *h, const struct model_msg *m,
    unsigned target[2], unsigned *base)
{
	int prop[2] = { allows(h, SIDE_FAR, SYNC_FLAGS),
	    allows(h, SIDE_NEAR, SYNC_FLAGS) };

	target[0] = m->flags[0];
	target[1] = m->flags[1];
	*base = m->base;
	for (unsigned bit = 1; bit <= MSG_DELETED; bit <<= 1) {
		unsigned was = m->base & bit;

		for (int s = 0; s < 2; s++) {
			if (!prop[s] || (m->flags[s] & bit) == was)
				continue;
			target[!s] = (target[!s] & ~bit) | (m->flags[s] & bit);
			*base = (*base & ~bit) | (m->flags[s] & bit);
		}
	}
}

static void
model_set_one(struct model_msg *m, enum side s)
{
	m->rec = REC_ONE;
	m->rec_side = s;
}

static void
model_kill(struct model_msg *m)
{
	m->exists[0] = m->exists[1] = 0;
	m->rec = REC_DEAD;
}

/* A recorded pair present on both sides. */
static void
predict_both(const struct history *h, struct model_msg *m)
{
	unsigned target[2], base;
	int exp[2];

	model_merge(h, m, target, &base);
	for (int s = 0; s < 2; s++)
		exp[s] = (target[s] & MSG_DELETED) && expunges(h, s);
	for (int s = 0; s < 2; s++) {
		if (!exp[s] || exp[!s] || !allows(h, s, SYNC_GONE))
			continue;
		target[!s] |= MSG_DELETED;
		exp[!s] = expunges(h, !s);
	}
	for (int s = 0; s < 2; s++) {
		m->flags[s] = target[s];
		m->ever_marked |= (target[s] & MSG_DELETED) != 0;
		if (exp[s])
			m->exists[s] = 0;
	}
	if (exp[0] && exp[1])
		model_kill(m);
	else if (exp[0] || exp[1])
		model_set_one(m, exp[0] ? SIDE_NEAR : SIDE_FAR);
	else
		m->base = base;
}

/* The message is on side s only. */
static void
predict_one(const struct history *h, struct model_msg *m, enum side s)
{
	if (m->rec == REC_BOTH && allows(h, !s, SYNC_GONE)) {
		m->flags[s] |= MSG_DELETED;
		m->ever_marked = 1;
	}
	if ((m->flags[s] & MSG_DELETED) && expunges(h, s)) {
		model_kill(m);
		return;
	}
	if (m->rec == REC_BOTH) {
		model_set_one(m, s);
		return;
	}
	if (m->rec != REC_NONE || !allows(h, s, SYNC_NEW))
		return;
	if ((m->flags[s] & MSG_DELETED) && expunges(h, !s)) {
		model_set_one(m, s);	/* left where it is, for good */
		return;
	}
	m->exists[!s] = 1;
	m->flags[!s] = m->flags[s];
	m->base = m->flags[s];
	m->rec = REC_BOTH;
}

/* What one completed sync does to an undisturbed message. */
static void
model_predict(const struct history *h, struct model_msg *m)
{
	if (m->exists[0] && m->exists[1])
		predict_both(h, m);
	else if (m->exists[0] || m->exists[1])
		predict_one(h, m, m->exists[0] ? SIDE_FAR : SIDE_NEAR);
	else
		model_kill(m);
}

/* A disturbed message, after the invariants were checked: take what the
 * disk shows as the record a completed sync leaves. */
static void
model_adopt(struct history *h, struct model_msg *m, const struct disk_msg *d[2])
{
	for (int s = 0; s < 2; s++) {
		if (d[s] != NULL)
			m->user_deleted[s] = 0;	/* it came back */
		m->may_return[s] = 0;
		m->exists[s] = d[s] != NULL;
		m->flags[s] = d[s] ? d[s]->flags : 0;
		m->ever_marked |= (m->flags[s] & MSG_DELETED) != 0;
	}
	if (m->exists[0] && m->exists[1]) {
		m->rec = REC_BOTH;
		m->base = allows(h, SIDE_FAR, SYNC_FLAGS) ? m->flags[SIDE_FAR] :
		    m->flags[SIDE_NEAR];
	} else if (m->exists[0] || m->exists[1]) {
		model_set_one(m, m->exists[0] ? SIDE_FAR : SIDE_NEAR);
	} else {
		model_kill(m);
	}
	m->disturbed = 0;
}

/* ---- checks after a completed sync ---- */

/* Sides a message must reach whatever happened, unless the user deleted
 * it or it was marked \Deleted: its own, and the other one when New is on
 * in that direction. */
static int
must_be_on(const struct history *h, const struct model_msg *m, enum side s)
{
	if (m->ever_deleted || m->ever_marked)
		return 0;
	return s == m->origin || allows(h, m->origin, SYNC_NEW);
}

static int
check_invariants(struct history *h, const struct model_msg *m,
    const struct disk_msg *d[2])
{
	for (int s = 0; s < 2; s++) {
		if (d[s] == NULL && must_be_on(h, m, s))
			return hfail(h, "loss: m%u is missing on %s", m->id,
			    side_names[s]);
		if (d[s] != NULL && m->user_deleted[s] && !m->may_return[s])
			return hfail(h, "resurrection: m%u, deleted by the "
			    "user on %s, is there again", m->id, side_names[s]);
		if (d[s] != NULL && (d[s]->len != m->len ||
		    memcmp(d[s]->data, m->body, m->len) != 0))
			return hfail(h, "m%u on %s (%s) differs from what the "
			    "user wrote", m->id, side_names[s], d[s]->rel);
	}
	if (h->policy.ops[0] != SYNC_ALL || h->policy.ops[1] != SYNC_ALL)
		return 0;
	if (d[0] && d[1] && d[0]->flags != d[1]->flags)
		return hfail(h, "m%u has different flags on the two sides",
		    m->id);
	/* On one side only: the user deleted a copy, or the other side's
	 * Expunge removed it (or kept it from arriving) for its \\Deleted. */
	for (int s = 0; s < 2; s++)
		if (d[s] && !d[!s] && !m->ever_deleted &&
		    !(m->ever_marked && expunges(h, !s)))
			return hfail(h, "m%u is on %s only, but was neither "
			    "deleted there nor expunged", m->id, side_names[s]);
	return 0;
}

static int
check_exact(struct history *h, const struct model_msg *m,
    const struct disk_msg *d[2])
{
	char want[MSG_FLAG_COUNT + 2], got[MSG_FLAG_COUNT + 2];

	for (int s = 0; s < 2; s++) {
		if ((d[s] != NULL) != m->exists[s])
			return hfail(h, "m%u should %sbe on %s", m->id,
			    m->exists[s] ? "" : "no longer ", side_names[s]);
		if (d[s] == NULL || d[s]->flags == m->flags[s])
			continue;
		flags_text(m->flags[s], want);
		flags_text(d[s]->flags, got);
		return hfail(h, "m%u on %s has flags %s, the model expects %s",
		    m->id, side_names[s], got, want);
	}
	return 0;
}

/* Each side holds only messages of the model, each at most once. */
static int
check_no_strays(struct history *h, const struct disk_view dv[2])
{
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < dv[s].n; i++) {
			const struct disk_msg *d = &dv[s].v[i];

			if (model_find(h, d->id) == NULL)
				return hfail(h, "%s holds %s, a message nobody "
				    "wrote (m%u)", side_names[s], d->rel,
				    d->id);
			for (size_t j = i + 1; j < dv[s].n; j++)
				if (dv[s].v[j].id == d->id)
					return hfail(h, "duplicate: m%u twice "
					    "on %s (%s, %s)", d->id,
					    side_names[s], d->rel,
					    dv[s].v[j].rel);
		}
	}
	return 0;
}

static int
check_messages(struct history *h, const struct disk_view dv[2])
{
	for (size_t i = 0; i < h->nmsg; i++) {
		struct model_msg *m = &h->msg[i];
		const struct disk_msg *d[2] = { disk_find(&dv[0], m->id),
		    disk_find(&dv[1], m->id) };

		if (check_invariants(h, m, d) != 0)
			return -1;
		if (m->disturbed) {
			h->cov->disturbed++;
			model_adopt(h, m, d);
			continue;
		}
		if (check_exact(h, m, d) != 0)
			return -1;
		h->cov->exact++;
	}
	return 0;
}

static int
scan_both(struct history *h, struct disk_view dv[2], int with_data)
{
	struct buf err = BUF_INIT;

	memset(dv, 0, 2 * sizeof(*dv));
	for (int s = 0; s < 2; s++) {
		if (scan_disk(h->box[s], &dv[s], with_data, &err) != 0) {
			hfail(h, "reading %s: %s", side_names[s], err.data);
			disk_view_free(&dv[0]);
			buf_free(&err);
			return -1;
		}
	}
	buf_free(&err);
	return 0;
}

/* The names on both sides are still those of before; what names the
 * culprit in a failure. */
static int
check_same_names(struct history *h, const struct disk_view before[2],
    const char *culprit)
{
	struct disk_view after[2];
	int rc = 0;

	if (scan_both(h, after, 0) != 0)
		return -1;
	for (int s = 0; s < 2 && rc == 0; s++)
		if (!same_names(&before[s], &after[s]))
			rc = hfail(h, "%s renamed files on %s", culprit,
			    side_names[s]);
	disk_view_free(&after[0]);
	disk_view_free(&after[1]);
	return rc;
}

/* Planning again must not even rename a file (no UID left to assign). */
static int
check_converged(struct history *h, const struct disk_view before[2])
{
	if (check_plan_empty(h) != 0)
		return -1;
	return check_same_names(h, before, "planning again");
}

static void
count_stats(struct history *h, const struct exec_stats *st)
{
	for (int s = 0; s < 2; s++) {
		h->cov->copied[s] += st->copied[s];
		h->cov->flagged[s] += st->flagged[s];
		h->cov->expunged[s] += st->expunged[s];
	}
	h->cov->recovered += st->recovered;
}

/* Everything checked after a sync that ran to its end. */
static int
after_completed_sync(struct history *h, const struct exec_stats *st)
{
	struct disk_view dv[2];
	int rc;

	h->cov->syncs++;
	if (st != NULL)
		count_stats(h, st);
	for (size_t i = 0; i < h->nmsg; i++)
		if (!h->msg[i].disturbed)
			model_predict(h, &h->msg[i]);
	if (scan_both(h, dv, 1) != 0)
		return -1;
	rc = check_no_strays(h, dv);
	if (rc == 0)
		rc = check_messages(h, dv);
	if (rc == 0)
		rc = check_converged(h, dv);
	disk_view_free(&dv[0]);
	disk_view_free(&dv[1]);
	h->crash_pending = 0;
	h->state_lost = 0;
	return rc;
}

/* ---- syncs: plain and killed ---- */

static void
log_stats(struct history *h, const char *what, const struct exec_stats *st)
{
	struct buf line = BUF_INIT;

	sync_describe_stats(st, &line);
	hlog(h, "%s: %s", what, line.len ? line.data : "nothing to do");
	buf_free(&line);
}

static int
plain_sync(struct history *h)
{
	struct exec_stats st;
	struct buf err = BUF_INIT;

	buf_reset(&h->capture);
	if (run_sync(h, NULL, &st, &err) != 0) {
		hlog(h, "sync failed: %s", err.data);
		hfail(h, "sync failed: %s", err.data);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	log_stats(h, "sync", &st);
	return after_completed_sync(h, &st);
}

static void
child_sync(struct history *h, unsigned long after)
{
	struct crash_point cp = { .after = after };
	struct exec_stats st;
	struct buf err = BUF_INIT;
	int rc = run_sync(h, &cp, &st, &err);

	if (rc != 0)
		dprintf(STDERR_FILENO, "crash child: %s\n", err.data);
	buf_free(&err);
	_exit(rc == 0 ? 0 : 1);
}

static int
wait_child(struct history *h, pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return hfail(h, "waitpid: %s", strerror(errno));
	}
	return 0;
}

static int
killed_sync(struct history *h, unsigned long after)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return hfail(h, "fork: %s", strerror(errno));
	if (pid == 0)
		child_sync(h, after);
	if (wait_child(h, pid, &status) != 0)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		hlog(h, "sync killed at step %lu", after);
		h->cov->kills[after]++;
		h->crash_pending = 1;
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		hlog(h, "sync with crash point %lu: finished first", after);
		h->cov->child_finished++;
		return after_completed_sync(h, NULL);
	}
	hlog(h, "sync with crash point %lu: failed (status 0x%x)", after,
	    (unsigned)status);
	return hfail(h, "a sync with crash point %lu failed (status 0x%x)",
	    after, (unsigned)status);
}

/* At the end of a history: a second real sync changes nothing at all. */
static int
idle_sync(struct history *h)
{
	struct disk_view before[2];
	struct exec_stats st, zero;
	struct buf err = BUF_INIT;
	int rc = 0;

	memset(&zero, 0, sizeof(zero));
	if (scan_both(h, before, 0) != 0)
		return -1;
	if (run_sync(h, NULL, &st, &err) != 0) {
		rc = hfail(h, "idle sync failed: %s", err.data);
	} else if (memcmp(&st, &zero, sizeof(st)) != 0) {
		buf_reset(&err);
		sync_describe_stats(&st, &err);
		rc = hfail(h, "idle sync did something: %s", err.data);
	} else {
		hlog(h, "idle sync: nothing to do");
		rc = check_same_names(h, before, "the idle sync");
	}
	disk_view_free(&before[0]);
	disk_view_free(&before[1]);
	buf_free(&err);
	return rc;
}

/* ---- user actions, on the files ---- */

/* Mostly text; now and then a lone CR, a tab or an 8-bit byte, which
 * must survive the LF <-> CRLF conversion at the Maildir boundary. */
static char
body_byte(struct history *h)
{
	unsigned roll = tl_rng_below(&h->rng, 100);

	if (roll < 2)
		return '\r';
	if (roll < 4)
		return '\t';
	if (roll < 6)
		return (char)(0x80 + tl_rng_below(&h->rng, 0x80));
	return (char)(' ' + tl_rng_below(&h->rng, 95));
}

static void
make_body(struct history *h, struct model_msg *m)
{
	struct buf b = BUF_INIT;
	/* Some bodies span several of the stores' read and write chunks. */
	unsigned lines = rng_percent(&h->rng, 5) ?
	    50 + tl_rng_below(&h->rng, 250) : tl_rng_below(&h->rng, 6);

	buf_addf(&b, MSG_ID_FORMAT "\nSubject: model message %u\n",
	    m->id, m->id);
	buf_addf(&b, "From: user%u@model.test\n\n", tl_rng_below(&h->rng, 5));
	for (unsigned i = 0; i < lines; i++) {
		unsigned len = tl_rng_below(&h->rng, 100);

		for (unsigned j = 0; j < len; j++)
			buf_addc(&b, body_byte(h));
		if (i + 1 < lines || rng_percent(&h->rng, 90))
			buf_addc(&b, '\n');
	}
	m->len = b.len;
	m->body = buf_detach(&b);
}

static unsigned
random_new_flags(struct history *h)
{
	unsigned flags = 0;

	if (rng_percent(&h->rng, 50))
		flags |= MSG_SEEN;
	if (rng_percent(&h->rng, 15))
		flags |= MSG_FLAGGED;
	if (rng_percent(&h->rng, 10))
		flags |= MSG_ANSWERED;
	if (rng_percent(&h->rng, 5))
		flags |= MSG_DELETED;
	return flags;
}

static int
user_create(struct history *h, enum side s)
{
	struct model_msg *m = &h->msg[h->nmsg];
	struct buf path = BUF_INIT;
	char letters[MSG_FLAG_COUNT + 2];
	int in_cur = rng_percent(&h->rng, 50);

	memset(m, 0, sizeof(*m));
	m->id = (unsigned)h->nmsg++;
	m->origin = s;
	m->exists[s] = 1;
	m->flags[s] = in_cur ? random_new_flags(h) : 0;
	m->ever_marked = (m->flags[s] & MSG_DELETED) != 0;
	make_body(h, m);
	msg_flags_to_letters(m->flags[s], letters);
	if (in_cur)
		buf_setf(&path, "%s/cur/u%u.model:2,%s", h->box[s], m->id,
		    letters);
	else
		buf_setf(&path, "%s/new/u%u.model", h->box[s], m->id);
	tl_write_file(path.data, m->body, m->len);
	buf_free(&path);
	flags_text(m->flags[s], letters);
	hlog(h, "%s: deliver m%u into %s, flags %s, %zu bytes", side_names[s],
	    m->id, in_cur ? "cur" : "new", letters, m->len);
	h->cov->creates++;
	return 0;
}

/* The user acts on a file the model knows to be there, with the flags the
 * model knows, unless a killed sync may have changed things since. */
static int
user_target(struct history *h, enum side s, const struct disk_msg *d,
    struct model_msg **out)
{
	struct model_msg *m = model_find(h, d->id);

	if (m == NULL)
		return hfail(h, "%s holds %s, a message nobody wrote",
		    side_names[s], d->rel);
	if (h->crash_pending) {
		m->disturbed = 1;
	} else if (!m->exists[s] || m->flags[s] != d->flags) {
		return hfail(h, "the model lost track of m%u on %s (%s)",
		    m->id, side_names[s], d->rel);
	}
	*out = m;
	return 0;
}

static int
user_delete(struct history *h, enum side s, const struct disk_msg *d)
{
	struct model_msg *m;
	struct buf path = BUF_INIT;

	if (user_target(h, s, d, &m) != 0)
		return -1;
	buf_setf(&path, "%s/%s", h->box[s], d->rel);
	if (unlink(path.data) != 0)
		hfail(h, "unlink %s: %s", path.data, strerror(errno));
	buf_free(&path);
	/* A copy the model did not know of: a killed sync made it, and the
	 * next one may not be able to tell that it ever finished. */
	m->may_return[s] = !m->exists[s] || h->state_lost;
	m->exists[s] = 0;
	m->user_deleted[s] = 1;
	m->ever_deleted = 1;
	hlog(h, "%s: delete m%u (%s)%s", side_names[s], m->id, d->rel,
	    m->disturbed ? " [disturbed]" : "");
	h->cov->user_deletes++;
	return h->why.len ? -1 : 0;
}

/* Toggle one flag; \Deleted less often than the others. */
static unsigned
toggle_flag(struct history *h, unsigned flags)
{
	static const unsigned pick[] = { MSG_SEEN, MSG_SEEN, MSG_FLAGGED,
	    MSG_FLAGGED, MSG_ANSWERED, MSG_DRAFT, MSG_FORWARDED, MSG_DELETED };

	return flags ^ pick[tl_rng_below(&h->rng,
	    sizeof(pick) / sizeof(pick[0]))];
}

static int
rename_with_flags(struct history *h, enum side s, const struct disk_msg *d,
    unsigned flags)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	char letters[MSG_FLAG_COUNT + 1];
	const char *name = d->rel + 4;
	int rc = 0;

	msg_flags_to_letters(flags, letters);
	buf_setf(&from, "%s/%s", h->box[s], d->rel);
	buf_setf(&to, "%s/cur/%.*s:2,%s", h->box[s], (int)strcspn(name, ":"),
	    name, letters);
	if (rename(from.data, to.data) != 0)
		rc = hfail(h, "rename %s to %s: %s", from.data, to.data,
		    strerror(errno));
	buf_free(&from);
	buf_free(&to);
	return rc;
}

static int
user_flags(struct history *h, enum side s, const struct disk_msg *d)
{
	struct model_msg *m;
	unsigned flags = toggle_flag(h, d->flags);
	char was[MSG_FLAG_COUNT + 2], now[MSG_FLAG_COUNT + 2];

	if (user_target(h, s, d, &m) != 0 ||
	    rename_with_flags(h, s, d, flags) != 0)
		return -1;
	m->flags[s] = flags;
	m->ever_marked |= (flags & MSG_DELETED) != 0;
	flags_text(d->flags, was);
	flags_text(flags, now);
	hlog(h, "%s: flags of m%u %s -> %s (%s)%s", side_names[s], m->id, was,
	    now, d->rel, m->disturbed ? " [disturbed]" : "");
	h->cov->user_flag_changes++;
	return 0;
}

/* Change or delete a random message of side s, as found on disk. */
static int
user_touch(struct history *h, enum side s, int delete)
{
	struct disk_view dv;
	struct buf err = BUF_INIT;
	int rc = 0;

	if (scan_disk(h->box[s], &dv, 0, &err) != 0) {
		hfail(h, "reading %s: %s", side_names[s], err.data);
		buf_free(&err);
		return -1;
	}
	if (dv.n > 0) {
		struct disk_msg *d =
		    &dv.v[tl_rng_below(&h->rng, (unsigned)dv.n)];

		if (read_disk_msg(h->box[s], d, &err) != 0)
			rc = hfail(h, "reading %s: %s", side_names[s],
			    err.data);
		else if (delete)
			rc = user_delete(h, s, d);
		else
			rc = user_flags(h, s, d);
	}
	buf_free(&err);
	disk_view_free(&dv);
	return rc;
}

/* The state file and journal are lost (a user's clean-up, a disk
 * restored without them): every message is disturbed, and one the user
 * deleted since the last sync, or deletes before the next one, may be
 * copied back from the other side. */
static int
lose_state(struct history *h)
{
	if ((unlink(h->paths.state) != 0 && errno != ENOENT) ||
	    (unlink(h->paths.journal) != 0 && errno != ENOENT))
		return hfail(h, "removing the state: %s", strerror(errno));
	for (size_t i = 0; i < h->nmsg; i++) {
		struct model_msg *m = &h->msg[i];

		m->disturbed = 1;
		for (int s = 0; s < 2; s++)
			m->may_return[s] |= m->user_deleted[s];
	}
	h->state_lost = 1;
	hlog(h, "state and journal lost");
	h->cov->states_lost++;
	return 0;
}

static int
user_action(struct history *h)
{
	enum side s = rng_percent(&h->rng, 50) ? SIDE_FAR : SIDE_NEAR;
	unsigned roll = tl_rng_below(&h->rng, 100);

	if (roll >= 97)
		return lose_state(h);

	if (roll < 40 && h->nmsg < MODEL_MAX_MSGS &&
	    model_alive(h) < MODEL_MAX_ALIVE &&
	    (!h->crash_pending || h->deliver_after_kill))
		return user_create(h, s);
	if (roll < 82)
		return user_touch(h, s, 0);
	return user_touch(h, s, 1);
}

/* ---- one history ---- */

static void
set_policy(struct history *h, size_t i)
{
	h->choice = &policy_table[i];
	sync_policy_default(&h->policy);
	/* A history may delete most of its messages at once; the guard
	 * (tested in check_plan) must not stop it: no side ever holds more
	 * than MODEL_MAX_ALIVE records. */
	h->policy.guard_wiped_over = MODEL_MAX_ALIVE;
	h->policy.ops[SIDE_FAR] = h->choice->ops[SIDE_FAR];
	h->policy.ops[SIDE_NEAR] = h->choice->ops[SIDE_NEAR];
	h->policy.expunge = h->choice->expunge;
}

static size_t
pick_policy(struct history *h)
{
	unsigned roll = tl_rng_below(&h->rng, 100), sum = 0;
	size_t i;

	for (i = 0; i + 1 < POLICY_CHOICES; i++) {
		sum += policy_table[i].weight;
		if (roll < sum)
			break;
	}
	return i;
}

static void
make_box(struct history *h, enum side s)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	struct buf path = BUF_INIT;

	h->box[s] = tl_path(h->root, side_names[s]);
	for (int i = 0; i < 3; i++) {
		buf_setf(&path, "%s/%s", h->box[s], sub[i]);
		tl_mkdirs(path.data);
	}
	buf_free(&path);
}

static void
history_init(struct history *h, const char *base, uint64_t seed,
    unsigned index, struct coverage *cov)
{
	struct buf path = BUF_INIT;

	memset(h, 0, sizeof(*h));
	h->seed = seed;
	h->index = index;
	h->rng.state = seed ^ (0xd1b54a32d192ed03ULL * (index + 1));
	h->cov = cov;
	h->lg.level = LOG_NORMAL;
	h->lg.capture = &h->capture;
	buf_setf(&path, "%s/h%u", base, index);
	h->root = buf_detach(&path);
	make_box(h, SIDE_FAR);
	make_box(h, SIDE_NEAR);
	h->paths.dir = tl_path(h->root, "state");
	h->paths.state = tl_path(h->paths.dir, "pair");
	buf_setf(&path, "%s%s", h->paths.state, STATE_JOURNAL_SUFFIX);
	h->paths.journal = buf_detach(&path);
	buf_setf(&path, "%s%s", h->paths.state, STATE_LOCK_SUFFIX);
	h->paths.lock = buf_detach(&path);
	set_policy(h, pick_policy(h));
}

static void
history_free(struct history *h)
{
	tl_rmtree(h->root);
	free(h->root);
	free(h->box[0]);
	free(h->box[1]);
	state_paths_free(&h->paths);
	for (size_t i = 0; i < h->nmsg; i++)
		free(h->msg[i].body);
	buf_free(&h->log);
	buf_free(&h->why);
	buf_free(&h->capture);
}

/* User actions, then a sync that may be killed; after a kill, usually
 * sync again at once. */
static int
history_round(struct history *h)
{
	unsigned actions = tl_rng_below(&h->rng, 8);

	for (unsigned i = 0; i < actions; i++)
		if (user_action(h) != 0)
			return -1;
	if (!rng_percent(&h->rng, 35))
		return plain_sync(h);
	if (killed_sync(h, 1 + tl_rng_below(&h->rng, CRASH_MAX_STEP)) != 0)
		return -1;
	if (h->crash_pending && rng_percent(&h->rng, 70))
		return plain_sync(h);
	return 0;
}

static int
history_run(struct history *h)
{
	unsigned rounds = 2 + tl_rng_below(&h->rng, 6);

	h->cov->histories[h->choice - policy_table]++;
	hlog(h, "policy: %s", h->choice->name);
	/* Mail that was there before the first sync: a first sync with
	 * many copies has many steps to be killed at. */
	for (int s = 0; s < 2; s++) {
		unsigned n = tl_rng_below(&h->rng, 8);

		for (unsigned i = 0; i < n; i++)
			user_create(h, s);
	}
	for (unsigned r = 0; r < rounds; r++)
		if (history_round(h) != 0)
			return -1;
	if (h->crash_pending && plain_sync(h) != 0)
		return -1;
	return idle_sync(h);
}

static void
print_side(const struct history *h, enum side s)
{
	struct disk_view dv;
	struct buf err = BUF_INIT;

	if (scan_disk(h->box[s], &dv, 1, &err) != 0) {
		fprintf(stderr, "model: %s: %s\n", side_names[s], err.data);
		buf_free(&err);
		return;
	}
	fprintf(stderr, "model: %s holds:\n", side_names[s]);
	for (size_t i = 0; i < dv.n; i++)
		fprintf(stderr, "  m%u  %s\n", dv.v[i].id, dv.v[i].rel);
	disk_view_free(&dv);
	buf_free(&err);
}

static void
print_file(const char *what, const char *path)
{
	char *data;
	size_t len;
	struct buf err = BUF_INIT;

	if (read_whole(path, &data, &len, &err) == 0) {
		fprintf(stderr, "model: %s:\n%s", what, data);
		free(data);
	}
	buf_free(&err);
}

/* The failure, the action log, and what the disk holds now. */
static void
report_failure(const struct history *h)
{
	print_side(h, SIDE_FAR);
	print_side(h, SIDE_NEAR);
	print_file("state file", h->paths.state);
	print_file("journal", h->paths.journal);
	fprintf(stderr, "model: FAILED: seed %" PRIu64 " history %u: %s\n"
	    "model: replay with TWINBOX_MODEL_REPLAY=%" PRIu64 ":%u\n"
	    "model: action log:\n%s", h->seed, h->index, h->why.data,
	    h->seed, h->index, buf_cstr(&h->log));
	if (h->capture.len > 0)
		fprintf(stderr, "model: the last sync logged:\n%s",
		    h->capture.data);
}

struct run_opts {
	int (*script)(struct history *);
	int deliver_after_kill;
	int verbose;		/* print the action log even on success */
};

/* Run one history; on failure report it in full and fail the test. */
static void
run_history(const char *base, uint64_t seed, unsigned index,
    struct coverage *cov, const struct run_opts *opts)
{
	struct history h;
	char why[512];
	int rc;

	history_init(&h, base, seed, index, cov);
	h.deliver_after_kill = opts->deliver_after_kill;
	rc = opts->script(&h);
	if (rc != 0)
		report_failure(&h);
	else if (opts->verbose)
		fprintf(stderr, "model: seed %" PRIu64 " history %u passed; "
		    "action log:\n%s", seed, index, buf_cstr(&h.log));
	snprintf(why, sizeof(why), "seed %" PRIu64 " history %u: %s (action "
	    "log on stderr)", seed, index, buf_cstr(&h.why));
	history_free(&h);
	ck_assert_msg(rc == 0, "%s", why);
}

#ifdef __SANITIZE_ADDRESS__
/*
 * ASan keeps up to 256 MB of freed memory in quarantine; every fork of a
 * crash child then copies the page tables of all of it, which made this
 * test several times slower under `make asan`. 16 MB still holds far more
 * than this test frees between two uses of anything. ASAN_OPTIONS in the
 * environment still overrides it.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}
#endif

/* ---- the temporary directory, on tmpfs when there is one ---- */

static char *
model_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	struct stat st;
	char *path;

	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK | X_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&path, "%s/twinbox-model-XXXXXX", base) < 0)
		ck_abort_msg("asprintf failed");
	if (mkdtemp(path) == NULL)
		ck_abort_msg("mkdtemp %s: %s", path, strerror(errno));
	return path;
}

/* Valgrind runs its client with its preload libraries in LD_PRELOAD. */
static int
under_valgrind(void)
{
	const char *v = getenv("LD_PRELOAD");

	return v != NULL && strstr(v, "vgpreload") != NULL;
}

static unsigned
histories_per_seed(void)
{
	const char *v = getenv("TWINBOX_MODEL_HISTORIES");
	char *end;
	unsigned long n;

	if ((v == NULL || *v == '\0') && under_valgrind())
		return VALGRIND_HISTORIES;
	if (v == NULL || *v == '\0')
		return DEFAULT_HISTORIES;
	errno = 0;
	n = strtoul(v, &end, 10);
	ck_assert_msg(errno == 0 && *end == '\0' && n > 0 && n <= 1000000,
	    "TWINBOX_MODEL_HISTORIES=%s: not a count of histories", v);
	return (unsigned)n;
}

/* ---- coverage: the histories must have exercised what they claim ---- */

static unsigned long
kills_total(const struct coverage *c)
{
	unsigned long n = 0;

	for (int i = 0; i <= CRASH_MAX_STEP; i++)
		n += c->kills[i];
	return n;
}

static unsigned
kill_steps(const struct coverage *c)
{
	unsigned n = 0;

	for (int i = 0; i <= CRASH_MAX_STEP; i++)
		n += c->kills[i] > 0;
	return n;
}

static void
print_coverage(uint64_t seed, unsigned n, const struct coverage *c)
{
	printf("model: seed %" PRIu64 ": %u histories, %lu checked syncs, "
	    "%lu syncs killed at %u distinct steps, %lu finished before "
	    "their crash point, %lu interrupted copies recovered; copies "
	    "%lu/%lu, flag changes %lu/%lu, expunges %lu/%lu (on far/near); "
	    "user: %lu deliveries, %lu flag changes, %lu deletions, %lu "
	    "states lost; %lu exact and %lu disturbed message checks\n", seed,
	    n, c->syncs,
	    kills_total(c), kill_steps(c), c->child_finished, c->recovered,
	    c->copied[0], c->copied[1], c->flagged[0], c->flagged[1],
	    c->expunged[0], c->expunged[1], c->creates, c->user_flag_changes,
	    c->user_deletes, c->states_lost, c->exact, c->disturbed);
	fflush(stdout);
}

/* The bars hold with a wide margin at COVERAGE_HISTORIES and above; a
 * smaller run (valgrind) says that it does not assert them. */
static void
check_coverage(const struct coverage *c, unsigned n)
{
	unsigned min_steps = n >= DEFAULT_HISTORIES ? 25 : 16;

	if (n < COVERAGE_HISTORIES) {
		printf("model: coverage not asserted: %u histories per seed, "
		    "below %u\n", n, COVERAGE_HISTORIES);
		return;
	}
	ck_assert_msg(kill_steps(c) >= min_steps, "syncs were killed at only "
	    "%u distinct steps", kill_steps(c));
	ck_assert_msg(c->child_finished > 0, "no crash point beyond the end");
	ck_assert_msg(c->recovered > 0, "no interrupted copy was recovered");
	for (int s = 0; s < 2; s++) {
		ck_assert_msg(c->copied[s] > 0, "nothing copied to %s",
		    side_names[s]);
		ck_assert_msg(c->flagged[s] > 0, "no flag change propagated "
		    "to %s", side_names[s]);
		ck_assert_msg(c->expunged[s] > 0, "nothing expunged on %s",
		    side_names[s]);
	}
	ck_assert_msg(c->disturbed > 0, "no message was touched after a "
	    "killed sync");
	ck_assert_msg(c->user_deletes > 0 && c->user_flag_changes > 0,
	    "the user never deleted or never changed flags");
	ck_assert_msg(c->states_lost > 0, "the state was never lost");
	ck_assert_msg(c->exact > 10 * (unsigned long)n, "only %lu exact "
	    "message checks", c->exact);
	for (size_t i = 0; i < POLICY_CHOICES; i++)
		ck_assert_msg(c->histories[i] > 0, "policy \"%s\" never drawn",
		    policy_table[i].name);
}

/* New mail may arrive between a killed sync and the next one;
 * TWINBOX_MODEL_DELIVER_AFTER_KILL=0 turns that off (to tell a failure
 * about recovery apart from others). */
static int
deliver_after_kill(void)
{
	const char *v = getenv("TWINBOX_MODEL_DELIVER_AFTER_KILL");

	return v == NULL || strcmp(v, "0") != 0;
}

static const uint64_t model_seeds[] = {
	20240601, 1, 0x5eed0002, 777777, 0xfeedface
};
#define MODEL_SEEDS (sizeof(model_seeds) / sizeof(model_seeds[0]))

START_TEST(test_model_histories)
{
	uint64_t seed = model_seeds[_i];
	unsigned n = histories_per_seed();
	struct run_opts opts = { history_run, deliver_after_kill(), 0 };
	struct coverage cov;
	char *base = model_tmpdir();

	memset(&cov, 0, sizeof(cov));
	for (unsigned i = 0; i < n; i++)
		run_history(base, seed, i, &cov, &opts);
	tl_rmtree(base);
	free(base);
	print_coverage(seed, n, &cov);
	check_coverage(&cov, n);
}
END_TEST

/* TWINBOX_MODEL_REPLAY=SEED:INDEX: one history, with its action log. */
START_TEST(test_model_replay)
{
	const char *v = getenv("TWINBOX_MODEL_REPLAY");
	struct run_opts opts = { history_run, deliver_after_kill(), 1 };
	unsigned long long seed;
	unsigned index;
	struct coverage cov;
	char *base, tail;

	ck_assert_msg(v != NULL && sscanf(v, "%llu:%u%c", &seed, &index,
	    &tail) == 2, "TWINBOX_MODEL_REPLAY=%s: want SEED:INDEX",
	    v ? v : "");
	memset(&cov, 0, sizeof(cov));
	base = model_tmpdir();
	run_history(base, seed, index, &cov, &opts);
	tl_rmtree(base);
	free(base);
}
END_TEST

/*
 * The Maildir store plans the UID of a copy (journalled in the intent)
 * but records it in .uidvalidity only at commit. A sync killed between the
 * intent and the commit leaves that UID free; a message delivered to the
 * target before the next sync takes it at the next scan. Recovery must not
 * take that other message for the interrupted copy (it compares the
 * fingerprint journalled with the intent); this once paired the two.
 */
static int
script_planned_uid_reused(struct history *h)
{
	set_policy(h, 0);	/* Sync All, Expunge None */
	hlog(h, "policy: %s", h->choice->name);
	if (user_create(h, SIDE_FAR) != 0 || killed_sync(h, 2) != 0)
		return -1;
	if (!h->crash_pending)
		return hfail(h, "the sync was not killed at step 2");
	if (user_create(h, SIDE_NEAR) != 0 || plain_sync(h) != 0)
		return -1;
	return idle_sync(h);
}

START_TEST(test_planned_uid_reused_by_new_mail)
{
	struct run_opts opts = { script_planned_uid_reused, 1, 0 };
	struct coverage cov;
	char *base = model_tmpdir();

	memset(&cov, 0, sizeof(cov));
	run_history(base, 1, 0, &cov, &opts);
	tl_rmtree(base);
	free(base);
}
END_TEST

static Suite *
model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("histories");

	/* Several seconds per seed; under valgrind, lower
	 * TWINBOX_MODEL_HISTORIES (Check's timeouts do not apply with
	 * CK_FORK=no). */
	tcase_set_timeout(tc, 600);
	if (getenv("TWINBOX_MODEL_REPLAY") != NULL) {
		tcase_add_test(tc, test_model_replay);
	} else {
		tcase_add_test(tc, test_planned_uid_reused_by_new_mail);
		tcase_add_loop_test(tc, test_model_histories, 0, MODEL_SEEDS);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(model_suite());
}
