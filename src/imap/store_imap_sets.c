/*
 * store_imap_sets: one command per UID set over a list of UIDs, sent
 * pipelined (UID STORE, UID COPY, UID EXPUNGE); see store_imap_int.h.
 */
#include "imap/store_imap_int.h"

#include "imap/uidset.h"

/* Keep command lines well below what servers accept (8 KiB or more). */
#define UIDSET_MAX 4000

int
ims_each_uidset(const uint32_t *sorted, size_t n, ims_set_cmd add,
    const void *arg, ims_send_fn send, void *ctx, struct buf *err)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < n;) {
		struct imap_cmdline l;
		struct buf set = BUF_INIT;

		k += imap_uidset_format(sorted + k, n - k, UIDSET_MAX, &set);
		imap_cmd_init(&l);
		add(&l, set.data, arg);
		rc = send(ctx, &l, err);
		imap_cmd_free(&l);
		buf_free(&set);
	}
	return rc;
}

struct submit_ctx {
	struct imap_store *s;
	imap_done_fn done;
	void *res;
};

static int
submit(void *ctx, const struct imap_cmdline *l, struct buf *err)
{
	struct submit_ctx *sc = ctx;

	return imap_client_submit(sc->s->c, l, sc->done, sc->res, err);
}

int
ims_over_uidsets(struct imap_store *s, const uint32_t *sorted, size_t n,
    ims_set_cmd add, const void *arg, imap_done_fn done, void *res,
    struct buf *err)
{
	struct submit_ctx sc = { s, done, res };
	int rc;

	imap_client_cork(s->c);
	rc = ims_each_uidset(sorted, n, add, arg, submit, &sc, err);

	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}
