/*
 * exec_trash_remote: TrashRemoteNew. A message one side is about to
 * expunge, never propagated to the other side, goes into the other
 * store's Trash first: read from its side into an unlinked temporary file
 * (bodies never sit in memory), then stored there by the other store's
 * trash_in(). Once stored, the record says so (PAIR_TRASHED of the side
 * whose Trash has it) and is made durable before anything is expunged, so
 * a run cut between the two does not store it twice. A message that
 * cannot be read or stored is kept: not expunged, no record of this plan
 * drops it, the failure is reported and the run ends with exit status 1.
 * Nothing is lost; at worst (a crash between the store's answer and the
 * journal's flush) a message lands in the Trash twice.
 */
#include "sync/exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spool {
	int fd;
	uint64_t len;
	struct msg_meta meta;
	int got, gone;
	struct buf why;		/* the source's refusal */
};

static int
sp_begin(void *ctx, const struct msg_meta *meta, struct buf *err)
{
	struct spool *sp = ctx;

	(void)err;
	sp->meta = *meta;
	sp->got = 1;
	return 0;
}

static int
sp_data(void *ctx, const char *p, size_t n, struct buf *err)
{
	struct spool *sp = ctx;

	while (n > 0) {
		ssize_t w = pwrite(sp->fd, p, n, (off_t)sp->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			buf_setf(err, "writing a temporary file: %s",
			    strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
		sp->len += (uint64_t)w;
	}
	return 0;
}

static int
sp_end(void *ctx, struct buf *err)
{
	(void)ctx;
	(void)err;
	return 0;
}

static void
sp_gone(void *ctx, uint32_t uid)
{
	struct spool *sp = ctx;

	(void)uid;
	sp->gone = 1;
}

static void
sp_failed(void *ctx, uint32_t uid, const char *why)
{
	struct spool *sp = ctx;

	(void)uid;
	buf_setf(&sp->why, "%s", why);
}

static int
open_spool(struct spool *sp, struct buf *err)
{
	const char *dir = getenv("TMPDIR");
	struct buf path = BUF_INIT;

	buf_setf(&path, "%s/twinbox-trash-XXXXXX",
	    dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	sp->fd = mkstemp(path.data);
	if (sp->fd < 0) {
		buf_setf(err, "cannot create a temporary file %s: %s",
		    path.data, strerror(errno));
		buf_free(&path);
		return -1;
	}
	unlink(path.data);
	buf_free(&path);
	return 0;
}

static void
kept(struct exec *x, const struct plan_op *op, const char *why)
{
	enum side to = !op->side;

	log_error(x->lg, "%s: cannot copy UID %u of %s to Trash '%s' on %s "
	    "(%s); it is not expunged and the next run tries again", x->box,
	    (unsigned)op->uid, side_names[op->side],
	    x->trash_box[to] ? x->trash_box[to] : "", side_names[to],
	    why);
	exec_keep(x, op->side, op->uid);
	x->ntrash_failed++;
}

/* Read op's message into the spool; 1 if it is gone, -1 with err if the
 * source store failed as a whole. */
static int
read_message(struct exec *x, const struct plan_op *op, struct spool *sp,
    struct buf *err)
{
	struct store *src = x->store[op->side];
	struct msg_sink sink = { .begin = sp_begin, .data = sp_data,
	    .end = sp_end, .gone = sp_gone, .ctx = sp, .failed = sp_failed };
	struct buf why = BUF_INIT;

	sp->len = 0;
	sp->got = sp->gone = 0;
	buf_reset(&sp->why);
	if (ftruncate(sp->fd, 0) != 0) {
		buf_setf(err, "truncating a temporary file: %s",
		    strerror(errno));
		return -1;
	}
	crash_step(x->crash);
	if (src->ops->fetch(src, &op->uid, 1, &sink, &why) != 0) {
		if (store_failure(src) != STORE_FAIL_MAILBOX) {
			buf_setf(err, "%s", buf_cstr(&why));
			buf_free(&why);
			return -1;
		}
		buf_setf(&sp->why, "%s", buf_cstr(&why));
	}
	buf_free(&why);
	return sp->gone || (!sp->got && sp->why.len == 0) ? 1 : 0;
}

/* The copy done, or nothing to copy: recorded, durable before the
 * expunge. */
static int
record_trashed(struct exec *x, const struct plan_op *op, struct buf *err)
{
	if (exec_record_trashed(x, op, err) != 0)
		return -1;
	return x->journal != NULL ? journal_flush(x->journal, err) : 0;
}

/*
 * An empty message (an empty Maildir file) is no message: no store is
 * asked to keep it (Dovecot refuses it, sync/copy.c), so that a deletion
 * the user asked for is not held back by it run after run. It is
 * expunged as if trashed, as mbsync does.
 */
static int
empty_trashed(struct exec *x, const struct plan_op *op, struct buf *err)
{
	struct buf name = BUF_INIT;
	enum side to = !op->side;

	exec_message_name(x, op->side, op->uid, &name);
	log_warn(x->lg, "%s: %s is empty (0 bytes): nothing to copy to Trash "
	    "'%s' on %s; it is expunged", x->box, name.data,
	    x->trash_box[to] ? x->trash_box[to] : "", side_names[to]);
	buf_free(&name);
	return record_trashed(x, op, err);
}

static int
trash_one(struct exec *x, const struct plan_op *op, struct spool *sp,
    struct buf *err)
{
	struct store *dst = x->store[!op->side];
	struct buf why = BUF_INIT;
	int rc = read_message(x, op, sp, err);

	if (rc != 0)
		return rc < 0 ? -1 : 0;	/* gone: the expunge sees it */
	if (sp->why.len > 0 || !sp->got) {
		kept(x, op, buf_cstr(&sp->why));
		return 0;
	}
	if (sp->len == 0)
		return empty_trashed(x, op, err);
	crash_step(x->crash);
	if (dst->ops->trash_in == NULL || x->trash_box[!op->side] == NULL) {
		kept(x, op, "this kind of store cannot take it");
		return 0;
	}
	if (dst->ops->trash_in(dst, x->trash_box[!op->side], &sp->meta,
	    sp->fd, sp->len, &why) != 0) {
		if (store_failure(dst) != STORE_FAIL_MAILBOX) {
			buf_setf(err, "%s", buf_cstr(&why));
			rc = -1;
		} else
			kept(x, op, buf_cstr(&why));
		buf_free(&why);
		return rc;
	}
	buf_free(&why);
	x->stats.trashed[!op->side]++;
	return record_trashed(x, op, err);
}

int
exec_trash_remote_run(struct exec *x, const struct plan_op *ops, size_t n,
    struct buf *err)
{
	struct spool sp = { .fd = -1, .why = BUF_INIT };
	int rc = open_spool(&sp, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = trash_one(x, &ops[i], &sp, err);
	if (sp.fd >= 0)
		close(sp.fd);
	buf_free(&sp.why);
	return rc;
}
