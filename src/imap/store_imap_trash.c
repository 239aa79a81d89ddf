/*
 * store_imap_trash: mbsync's Trash on an IMAP store. The messages are
 * copied into the Trash mailbox with UID COPY, one command per UID set,
 * pipelined; the server keeps their flags. A Trash the server does not
 * have (NO [TRYCREATE]) is created, as mbsync does, and the copy sent
 * once more; any other refusal fails the copy with the server's words,
 * and the caller expunges nothing.
 *
 * TrashRemoteNew (trash_in): a message of the other store is stored with
 * APPEND into the Trash mailbox, without selecting it; [TRYCREATE] is
 * answered likewise.
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
	ims_peek_forget(s, wire.data);
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

static int
append_trash(struct imap_store *s, const char *wire,
    const struct msg_meta *meta, const struct imap_lit *lit,
    struct copy_res *res, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	res->ok = 1;
	res->trycreate = 0;
	buf_reset(&res->status);
	imap_cmd_init(&l);
	imap_cmd_add(&l, "APPEND ");
	imap_cmd_add_string(&l, wire, 0);
	imap_cmd_add(&l, " ");
	ims_add_flags(&l, meta->flags);
	imap_cmd_add(&l, " ");
	imap_cmd_add_literal(&l, lit);
	rc = imap_client_submit(s->c, &l, copy_done, res, err);
	imap_cmd_free(&l);
	if (rc == 0)
		rc = imap_client_wait(s->c, err);
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}

int
ims_trash_in(struct store *st, const char *trash, const struct msg_meta *meta,
    int fd, uint64_t len, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct imap_lit lit = { .mem = NULL, .fd = fd, .off = 0, .len = len };
	struct copy_res res = { 1, 0, BUF_INIT };
	struct buf wire = BUF_INIT;
	int rc;

	if (ims_require_open(s, err) != 0 ||
	    ims_to_wire(s, trash, &wire, err) != 0) {
		buf_free(&wire);
		return -1;
	}
	ims_peek_forget(s, wire.data);
	rc = append_trash(s, wire.data, meta, &lit, &res, err);
	if (rc == 0 && !res.ok && res.trycreate) {
		rc = ims_create(st, trash, err);
		if (rc == 0)
			rc = append_trash(s, wire.data, meta, &lit, &res, err);
	}
	if (rc == 0 && !res.ok) {
		ims_err(s, err, "APPEND to Trash '%s': %s", trash,
		    buf_cstr(&res.status));
		rc = -1;
	}
	buf_free(&res.status);
	buf_free(&wire);
	return rc;
}
