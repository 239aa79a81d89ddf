/*
 * store_imap_sets: one command per UID set over a list of UIDs, sent
 * pipelined (UID STORE, UID COPY); see store_imap_int.h.
 */
#include "imap/store_imap_int.h"

#include "imap/uidset.h"

/* Keep command lines well below what servers accept (8 KiB or more). */
#define UIDSET_MAX 4000

int
ims_over_uidsets(struct imap_store *s, const uint32_t *sorted, size_t n,
    ims_set_cmd add, const void *arg, imap_done_fn done, void *res,
    struct buf *err)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < n;) {
		struct imap_cmdline l;
		struct buf set = BUF_INIT;

		k += imap_uidset_format(sorted + k, n - k, UIDSET_MAX, &set);
		imap_cmd_init(&l);
		add(&l, set.data, arg);
		rc = imap_client_submit(s->c, &l, done, res, err);
		imap_cmd_free(&l);
		buf_free(&set);
	}
	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}
