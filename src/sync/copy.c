/* copy: stream messages between stores in batches; see copy.h. */
#include "sync/copy.h"

#include "sync/fingerprint.h"

#include <stdlib.h>
#include <string.h>

struct copy_ctx {
	struct store *dst;
	struct copy_batch *batch;
	const struct copy_hooks *hooks;
	size_t next;		/* index of the message being fetched */
	size_t current;		/* index of the message being written */
	struct msg_meta meta;	/* its metadata, with the flags wanted */
	struct store_append *app;
	uint32_t planned;	/* of the message being written */
	struct fp_stream fp;
	size_t *order;		/* commit order: queue position -> index */
	size_t queued;
};

/* Messages arrive in the order asked for, but a vanished one is skipped,
 * so find the index by UID from where we are. */
static int
index_of(struct copy_ctx *c, uint32_t uid, size_t *out)
{
	for (size_t i = c->next; i < c->batch->n; i++) {
		if (c->batch->uids[i] == uid) {
			*out = i;
			c->next = i + 1;
			return 0;
		}
	}
	return -1;
}

static int
sink_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct copy_ctx *c = ctx;
	size_t i;

	/* The last message's bytes must never end up in this one's. */
	if (c->app != NULL) {
		buf_setf(err, "store began message UID %u before the last one "
		    "ended", meta->uid);
		return -1;
	}
	if (index_of(c, meta->uid, &i) != 0) {
		buf_setf(err, "store sent message UID %u, which was not asked "
		    "for", meta->uid);
		return -1;
	}
	c->current = i;
	c->meta = *meta;
	c->meta.flags = c->batch->flags[i];
	fp_stream_init(&c->fp);
	return 0;
}

/* The target's append starts with the message's first byte, so that a
 * message without any is never handed to it (STORE_EMPTY). */
static int
start_append(struct copy_ctx *c, struct buf *err)
{
	c->planned = 0;
	if (c->dst->ops->append_begin(c->dst, &c->meta, &c->app, &c->planned,
	    err) != 0)
		return -1;
	c->batch->results[c->current] = c->planned;
	return 0;
}

static int
sink_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct copy_ctx *c = ctx;

	if (n == 0)
		return 0;
	if (c->app == NULL && start_append(c, err) != 0)
		return -1;
	fp_stream_add(&c->fp, p, n);
	return c->dst->ops->append_write(c->app, p, n, err);
}

static int
sink_end(void *ctx, struct buf *err)
{
	struct copy_ctx *c = ctx;
	struct store_append *a = c->app;
	struct fingerprint fp = fp_stream_finish(&c->fp);

	if (a == NULL) {
		c->batch->status[c->current] = STORE_EMPTY;
		return 0;
	}
	c->app = NULL;
	if (c->dst->ops->append_finish(a, err) != 0)
		return -1;
	c->order[c->queued++] = c->current;
	if (c->hooks->planned != NULL && c->hooks->planned(c->hooks->ctx,
	    c->current, c->planned, &fp, err) != 0)
		return -1;
	return 0;
}

/* gone() and failed() may come after later messages (the source store
 * learns their fate from its answer to the whole batch): search all. */
static int
unanswered_index(const struct copy_ctx *c, uint32_t uid, size_t *out)
{
	for (size_t i = 0; i < c->batch->n; i++) {
		if (c->batch->uids[i] == uid &&
		    c->batch->status[i] == STORE_FAILED) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

static void
sink_gone(void *ctx, uint32_t uid)
{
	struct copy_ctx *c = ctx;
	size_t i;

	if (unanswered_index(c, uid, &i) == 0)
		c->batch->status[i] = STORE_GONE;
}

/* The status stays STORE_FAILED, as for a message never answered. */
static void
sink_failed(void *ctx, uint32_t uid, const char *why)
{
	struct copy_ctx *c = ctx;
	size_t i;

	if (unanswered_index(c, uid, &i) == 0 && c->hooks->failed != NULL)
		c->hooks->failed(c->hooks->ctx, i, why);
}

/* Each queued message's result goes back to its index in the batch. */
static void
take_results(struct copy_ctx *c, struct append_result *res, size_t nres)
{
	for (size_t k = 0; k < nres && k < c->queued; k++) {
		size_t i = c->order[k];

		c->batch->status[i] = res[k].status;
		if (res[k].status == STORE_OK && res[k].uid != 0)
			c->batch->results[i] = res[k].uid;
		if (res[k].status == STORE_REFUSED)
			buf_setf(&c->batch->why[i], "%s",
			    buf_cstr(&res[k].why));
	}
}

static int
commit_batch(struct copy_ctx *c, struct buf *err)
{
	struct append_result *res = NULL;
	size_t nres = 0;
	int rc;

	if (c->hooks->before_commit != NULL &&
	    c->hooks->before_commit(c->hooks->ctx, err) != 0)
		return -1;
	rc = c->dst->ops->commit(c->dst, &res, &nres, err);
	if (nres != c->queued) {
		if (rc == 0)
			buf_setf(err, "target store committed %zu messages, "
			    "expected %zu", nres, c->queued);
		rc = -1;
	} else
		take_results(c, res, nres);
	append_results_free(res, nres);
	return rc;
}

int
copy_messages(struct store *src, struct store *dst, struct copy_batch *batch,
    const struct copy_hooks *hooks, struct buf *err)
{
	struct copy_ctx c = { .dst = dst, .batch = batch, .hooks = hooks };
	struct msg_sink sink = { sink_begin, sink_data, sink_end, sink_gone,
	    &c, sink_failed };
	int rc;

	for (size_t i = 0; i < batch->n; i++) {
		batch->results[i] = 0;
		batch->status[i] = STORE_FAILED;
	}
	c.order = xcalloc(batch->n ? batch->n : 1, sizeof(*c.order));
	fp_stream_init(&c.fp);
	rc = src->ops->fetch(src, batch->uids, batch->n, &sink, err);
	if (c.app != NULL)
		dst->ops->append_cancel(c.app);
	buf_free(&c.fp.header);
	if (rc == 0)
		rc = commit_batch(&c, err);
	free(c.order);
	return rc;
}
