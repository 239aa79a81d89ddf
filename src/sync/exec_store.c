/* exec_store: the executor's batched copies; see exec.h. Flag changes
 * and expunges are in exec_update.c. */
#include "sync/exec.h"

#include <stdlib.h>
#include <string.h>

#include "sync/copy.h"

struct copy_run {
	struct exec *x;
	const struct plan_op *ops;
	enum side src;
	struct buf *why;	/* per message: why the source could not
				   read it (the batch's, shared with the
				   target's refusals, which never meet it) */
	uint64_t *size;		/* per message: its canonical size */
	int unplanned;		/* the target named no UID in advance */
};

static void
copy_failed(void *ctx, size_t i, const char *why)
{
	struct copy_run *r = ctx;

	buf_setf(&r->why[i], "%s", why);
}

/* Not copied this run and not gone: keep it wanted (invariant 8; see
 * record_maxuid() in exec.c). */
static void
keep_wanted(struct exec *x, enum side src, uint32_t uid)
{
	x->failed[src] = xreallocarray(x->failed[src], x->nfailed[src] + 1,
	    sizeof(*x->failed[src]));
	x->failed[src][x->nfailed[src]++] = uid;
}

/* The source could not read it, and did not say it is gone. */
static void
note_failed(struct copy_run *r, uint32_t uid, const struct buf *why)
{
	struct exec *x = r->x;

	log_warn(x->lg, "%s: %s UID %u was not copied this run and stays "
	    "wanted: %s", x->box, side_names[r->src], uid, why->len ?
	    why->data : "the store neither delivered it nor said it is "
	    "gone");
	keep_wanted(x, r->src, uid);
}

/* The target chose where the message goes: journal the intent. */
static int
copy_planned(void *ctx, size_t i, uint32_t planned_uid,
    const struct fingerprint *fp, struct buf *err)
{
	struct copy_run *r = ctx;
	const struct plan_op *op = &r->ops[i];
	struct journal_rec rec = { .kind = JR_COPY_INTENT };

	rec.copy.src = r->src;
	rec.copy.src_uid = op->uid;
	rec.copy.flags = op->flags;
	rec.copy.planned_uid = planned_uid;
	r->unplanned |= planned_uid == 0;
	rec.copy.uidnext = r->x->status[!r->src]->uidnext;
	rec.copy.size = fp->size;
	rec.copy.hash = fp->hash;
	r->size[i] = fp->size;
	if (r->x->progress != NULL && r->x->progress->copied != NULL)
		r->x->progress->copied(r->x->progress->ctx, fp->size);
	return exec_record(r->x, &rec, err);
}

/* Write-ahead: intents are durable before any copy becomes visible. */
static int
copy_before_commit(void *ctx, struct buf *err)
{
	struct copy_run *r = ctx;

	if (journal_flush(r->x->journal, err) != 0)
		return -1;
	crash_step(r->x->crash);
	return 0;
}

void
exec_message_name(struct exec *x, enum side s, uint32_t uid,
    struct buf *out)
{
	struct store *st = x->store[s];

	buf_addf(out, "%s message ", side_names[s]);
	if (st->ops->msg_name != NULL)
		st->ops->msg_name(st, uid, out);
	else
		buf_addf(out, "UID %u", uid);
}

/* The target said no to this one message: it did not arrive, so its
 * intent is closed, and it stays wanted: the next run tries it again,
 * once. */
static int
copy_refused(struct exec *x, enum side src, uint32_t src_uid,
    const struct buf *why, struct buf *err)
{
	struct journal_rec rec = { .kind = JR_COPY_ABORT };
	struct buf name = BUF_INIT;

	exec_message_name(x, src, src_uid, &name);
	log_error(x->lg, "%s: %s not copied: %s", x->box, name.data,
	    buf_cstr(why));
	buf_free(&name);
	keep_wanted(x, src, src_uid);
	rec.copy.src = src;
	rec.copy.src_uid = src_uid;
	return exec_record(x, &rec, err);
}

/* An empty message of side src (an empty Maildir file), which is no
 * message: it is not copied, and the file is not touched. As mbsync
 * does, the run warns and goes on without failing. */
static void
warn_empty(struct exec *x, enum side src, uint32_t src_uid)
{
	struct buf name = BUF_INIT;

	exec_message_name(x, src, src_uid, &name);
	log_warn(x->lg, "%s: %s is empty (0 bytes): not copied; it is left "
	    "as it is (delete it, or give it content to have it copied)",
	    x->box, name.data);
	buf_free(&name);
	x->stats.empty[!src]++;
}

void
exec_warn_empty(struct exec *x)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; x->empty != NULL && i < x->empty[s].n; i++)
			warn_empty(x, (enum side)s, x->empty[s].v[i]);
}

/* The source delivered not one byte of a message the scan gave a size
 * (emptied since, or a store's size that was wrong): not copied either,
 * and kept wanted as a failed copy is, but no failure. */
static void
copy_empty(struct exec *x, enum side src, uint32_t src_uid)
{
	warn_empty(x, src, src_uid);
	keep_wanted(x, src, src_uid);
	x->nfailed_empty++;
}

static int
record_copy_result(struct exec *x, enum side src, uint32_t src_uid,
    uint32_t target_uid, uint64_t size, struct buf *err)
{
	struct journal_rec rec = { .kind = JR_COPY_DONE };

	if (target_uid == 0) {
		/* The intent stays pending; recovery must find the copy. */
		buf_setf(err, "the %s store did not report the UID of "
		    "the copy of %s UID %u", side_names[!src],
		    side_names[src], src_uid);
		return -1;
	}
	rec.copy.src = src;
	rec.copy.src_uid = src_uid;
	rec.target_uid = target_uid;
	x->stats.copied[!src]++;
	x->stats.bytes[!src] += size;
	return exec_record(x, &rec, err);
}

/*
 * Record what each message of the batch came to. Gone at the source: no
 * intent was made. STORE_FAILED in a batch whose target failed (ok == 0):
 * the target never answered, the intent stays for recovery; in a batch
 * that went through, the source could not read it.
 */
static int
record_results(struct copy_run *r, const struct copy_batch *b, int ok,
    struct buf *err)
{
	for (size_t i = 0; i < b->n; i++) {
		int rc = 0;

		if (b->status[i] == STORE_OK)
			rc = record_copy_result(r->x, r->src, b->uids[i],
			    b->results[i], r->size[i], err);
		else if (b->status[i] == STORE_REFUSED)
			rc = copy_refused(r->x, r->src, b->uids[i],
			    &b->why[i], err);
		else if (b->status[i] == STORE_EMPTY)
			copy_empty(r->x, r->src, b->uids[i]);
		else if (b->status[i] == STORE_FAILED && ok)
			note_failed(r, b->uids[i], &b->why[i]);
		if (rc != 0)
			return -1;
	}
	/* Not flushed here: the next durable point (the next batch's
	 * intents, flag changes, expunges, the end of the plan) carries
	 * these records, one sync fewer per batch. A crash before it
	 * leaves the intents pending, and recovery finds the committed
	 * copies by their planned UIDs (or fingerprints), as after a crash
	 * between commit and record. */
	return 0;
}

/*
 * A target that cannot name UIDs in advance (IMAP) may also drop the
 * flags an APPEND carries (a server whose APPEND ignores them). The pair's
 * base is what was sent, so a copy without its flags would look to the
 * next plan as if the user had cleared them, and the merge would clear
 * them on the source. So such copies get their flags once more, one
 * change per distinct set, all in one update (one round trip), before
 * their results are journalled (a crash in between leaves the intents
 * pending, and recovery does the same). Not counted as flag changes:
 * nothing changes where the APPEND kept them.
 */
static int
reassert_flags(struct copy_run *r, const struct copy_batch *b,
    struct buf *err)
{
	struct store *t = r->x->store[!r->src];
	struct flag_change chg[MSG_ALL_FLAGS];
	struct store_update u = { chg, 0, NULL, NULL, NULL, 0, NULL };
	uint32_t *uids = xcalloc(b->n ? b->n : 1, sizeof(*uids));
	int *res = xcalloc(b->n ? b->n : 1, sizeof(*res));
	size_t k = 0;
	int rc;

	for (unsigned f = 1; f <= MSG_ALL_FLAGS; f++) {
		size_t first = k;

		for (size_t i = 0; i < b->n; i++)
			if (b->flags[i] == f && b->status[i] == STORE_OK &&
			    b->results[i] != 0)
				uids[k++] = b->results[i];
		if (k > first)
			chg[u.nchg++] = (struct flag_change){ uids + first,
			    k - first, f, 0, res + first };
	}
	rc = u.nchg > 0 ? exec_store_update(r->x, t, &u, err) : 0;
	free(uids);
	free(res);
	return rc;
}

int
exec_copy_run(struct exec *x, const struct plan_op *ops, size_t n,
    struct buf *err)
{
	struct buf *why = xcalloc(n, sizeof(*why));
	uint64_t *size = xcalloc(n, sizeof(*size));
	struct copy_run r = { x, ops, ops[0].side, why, size, 0 };
	struct copy_hooks hooks = { copy_planned, copy_before_commit, &r,
	    copy_failed };
	uint32_t *uids = xcalloc(n, sizeof(*uids));
	unsigned *flags = xcalloc(n, sizeof(*flags));
	uint32_t *results = xcalloc(n, sizeof(*results));
	int *status = xcalloc(n, sizeof(*status));
	struct copy_batch batch = { uids, flags, n, results, status, why };
	struct buf later = BUF_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		uids[i] = ops[i].uid;
		flags[i] = ops[i].flags;
	}
	rc = copy_messages(x->store[r.src], x->store[!r.src], &batch, &hooks,
	    err);
	/* What arrived before a target failed is recorded all the same,
	 * so that no recovery has to find it again; err keeps the cause.
	 * Unless its flags could not be set again: then the intents stay
	 * pending and recovery sets them and records the copies. */
	if (r.unplanned &&
	    reassert_flags(&r, &batch, rc == 0 ? err : &later) != 0)
		rc = -1;
	else if (record_results(&r, &batch, rc == 0,
	    rc == 0 ? err : &later) != 0)
		rc = -1;
	buf_free(&later);
	for (size_t i = 0; i < n; i++)
		buf_free(&why[i]);
	free(why);
	free(size);
	free(uids);
	free(flags);
	free(results);
	free(status);
	return rc;
}
