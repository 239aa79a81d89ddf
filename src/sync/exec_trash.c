/*
 * exec_trash: mbsync's Trash. Before a store expunges messages, copies go
 * into its Trash mailbox through the store's trash() (one call per side
 * and batch). Each copy the store committed is recorded at once
 * (exec_record_trashed(): PAIR_TRASHED of that side) and the records made
 * durable, so a run cut before the expunge does not trash the message
 * again. A copy that fails (the Trash cannot be created or written, a
 * server refuses it) keeps the message:
 * it is not expunged, no record of this plan drops it, the failure is
 * reported with the store's words and the run ends with exit status 1.
 * Nothing is lost; at worst (a crash between the store's answer and the
 * flush of the batch's records) a message lands in Trash twice.
 */
#include "sync/exec.h"

#include <stdlib.h>

static void
trash_failed(struct exec *x, enum side side, const struct plan_op *ops,
    const size_t *pick, size_t k, const char *why)
{
	log_error(x->lg, "%s: cannot copy %zu message%s to Trash '%s' on %s "
	    "(%s); %s not expunged and the next run tries again", x->box, k,
	    k == 1 ? "" : "s", x->trash_box[side] ? x->trash_box[side] : "",
	    side_names[side], why,
	    k == 1 ? "it is" : "they are");
	for (size_t i = 0; i < k; i++)
		exec_keep(x, side, ops[pick[i]].uid);
	x->ntrash_failed += k;
}

/* The records of the copies the store committed, durable before anything
 * is expunged. */
static int
record_batch(struct exec *x, enum side side, const struct plan_op *ops,
    const size_t *pick, size_t k, const int *results, struct buf *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < k; i++) {
		const struct plan_op *op = &ops[pick[i]];

		/* Gone: the expunge sees it. A message no record held gets
		 * none, so the plan's forgetting of one is skipped too. */
		if (results[i] != STORE_OK) {
			if (op->key[SIDE_FAR] == 0 && op->key[SIDE_NEAR] == 0)
				exec_keep(x, side, op->uid);
			continue;
		}
		x->stats.trashed[side]++;
		rc = exec_record_trashed(x, op, err);
	}
	if (rc == 0 && x->journal != NULL)
		rc = journal_flush(x->journal, err);
	return rc;
}

static int
trash_side(struct exec *x, enum side side, const struct plan_op *ops,
    const size_t *pick, size_t k, struct buf *err)
{
	struct store *s = x->store[side];
	uint32_t *uids = xcalloc(k, sizeof(*uids));
	int *results = xcalloc(k, sizeof(*results));
	struct buf why = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < k; i++)
		uids[i] = ops[pick[i]].uid;
	crash_step(x->crash);
	if (s->ops->trash == NULL || x->trash_box[side] == NULL) {
		trash_failed(x, side, ops, pick, k, "this kind of store "
		    "cannot trash");
	} else if (s->ops->trash(s, x->trash_box[side], uids, k, results,
	    &why) != 0) {
		if (store_failure(s) != STORE_FAIL_MAILBOX) {
			buf_setf(err, "%s", buf_cstr(&why));
			rc = -1;
		} else
			trash_failed(x, side, ops, pick, k, buf_cstr(&why));
	} else
		rc = record_batch(x, side, ops, pick, k, results, err);
	buf_free(&why);
	free(results);
	free(uids);
	return rc;
}

int
exec_trash_run(struct exec *x, const struct plan_op *ops, size_t n,
    struct buf *err)
{
	size_t *pick = xcalloc(n, sizeof(*pick));
	int rc = 0;

	for (int side = 0; rc == 0 && side < 2; side++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (ops[i].side == (enum side)side)
				pick[k++] = i;
		if (k > 0)
			rc = trash_side(x, (enum side)side, ops, pick, k, err);
	}
	free(pick);
	return rc;
}
