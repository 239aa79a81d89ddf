/* store_imap_idle: IDLE on an IMAP store's open mailbox (watch mode); see
 * store_imap.h. */
#include "imap/store_imap_int.h"

/* What tells that the mailbox changed: new, gone or re-flagged mail. */
static int
idle_note(void *ctx, const struct imap_response *r)
{
	struct imap_store *s = ctx;
	const struct imap_item *num = r->items;
	const struct imap_item *what = num ? num->next : NULL;

	if (imap_atom_is(num, "VANISHED") || imap_atom_is(what, "EXISTS") ||
	    imap_atom_is(what, "EXPUNGE") || imap_atom_is(what, "FETCH"))
		s->idle_changes++;
	return 0;
}

int
ims_idle_begin(struct imap_store *s, imap_op_fn note, struct buf *err)
{
	s->op_fn = note;
	s->op_ctx = s;
	if (imap_client_idle_start(s->c, err) != 0) {
		s->op_fn = NULL;
		ims_err(s, err, "%s", buf_cstr(err));
		return -1;
	}
	return 0;
}

int
imap_store_idle_start(struct store *st, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;

	if (ims_require_open(s, err) != 0)
		return -1;
	s->idle_changes = 0;
	return ims_idle_begin(s, idle_note, err);
}

int
imap_store_idle_fd(const struct store *st, int *buffered)
{
	const struct imap_store *s = (const struct imap_store *)st;

	*buffered = imap_client_buffered(s->c);
	return imap_client_fd(s->c);
}

int
imap_store_idle_read(struct store *st, unsigned *changed, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;

	s->idle_changes = 0;
	if (imap_client_read(s->c, err) != 0) {
		ims_err(s, err, "%s", buf_cstr(err));
		return -1;
	}
	*changed += s->idle_changes;
	return 0;
}

int
imap_store_idle_done(struct store *st, unsigned *changed, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	int rc;

	s->idle_changes = 0;
	rc = imap_client_idle_done(s->c, err);
	*changed += s->idle_changes;
	s->op_fn = NULL;
	s->op_ctx = NULL;
	if (rc != 0)
		ims_err(s, err, "%s", buf_cstr(err));
	return rc;
}
