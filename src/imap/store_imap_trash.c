/*
 * store_imap_trash: mbsync's Trash on an IMAP store. The messages are
 * copied into the Trash mailbox with UID COPY, one command per UID set,
 * pipelined; the server keeps their flags. A Trash the server does not
 * have (NO [TRYCREATE]) is created, as mbsync does, and the copy sent
 * once more; any other refusal fails the copy with the server's words,
 * and the caller expunges nothing.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/uidset.h"

struct copy_res {
	int ok;
	int trycreate;		/* the server said [TRYCREATE] */
	struct buf status;
};

static void
copy_done(void *ctx, const struct imap_response *r)
{
	struct copy_res *res = ctx;
	const char *code;

	if (imap_response_is(r, "OK") || !res->ok)
		return;
	res->ok = 0;
	code = imap_code_name(r);
	res->trycreate = code != NULL && strcasecmp(code, "TRYCREATE") == 0;
	imap_describe_status(r, &res->status);
}

static void
add_copy(struct imap_cmdline *l, const char *set, const void *wire)
{
	imap_cmd_addf(l, "UID COPY %s ", set);
	imap_cmd_add_string(l, wire, 0);
}

static int
copy_sets(struct imap_store *s, const char *wire, const uint32_t *sorted,
    size_t n, struct copy_res *res, struct buf *err)
{
	res->ok = 1;
	res->trycreate = 0;
	buf_reset(&res->status);
	return ims_over_uidsets(s, sorted, n, add_copy, wire, copy_done, res,
	    err);
}

int
ims_trash(struct store *st, const char *trash, const uint32_t *uids,
    size_t n, int *results, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct copy_res res = { 1, 0, BUF_INIT };
	struct buf wire = BUF_INIT;
	uint32_t *sorted;
	size_t ns;
	int rc;

	if (ims_require_open(s, err) != 0 ||
	    ims_to_wire(s, trash, &wire, err) != 0) {
		buf_free(&wire);
		return -1;
	}
	sorted = imap_uids_sorted(uids, n, &ns);
	rc = ns > 0 ? copy_sets(s, wire.data, sorted, ns, &res, err) : 0;
	if (rc == 0 && !res.ok && res.trycreate) {
		rc = ims_create(st, trash, err);
		if (rc == 0)
			rc = copy_sets(s, wire.data, sorted, ns, &res, err);
	}
	if (rc == 0 && !res.ok) {
		ims_err(s, err, "UID COPY to Trash '%s': %s", trash,
		    buf_cstr(&res.status));
		rc = -1;
	}
	if (rc == 0)
		ims_present_results(s, uids, n, results);
	buf_free(&res.status);
	buf_free(&wire);
	free(sorted);
	return rc;
}
