/*
 * store_imap_flags: flag changes (UID STORE ... +FLAGS.SILENT/-FLAGS.SILENT
 * over UID sets) and expunges (UID EXPUNGE with UIDPLUS; without it a
 * plain EXPUNGE, only when no other message is marked \Deleted).
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>

#include "imap/uidset.h"

struct store_res {
	int ok;
	struct buf status;
};

static void
store_done(void *ctx, const struct imap_response *r)
{
	struct store_res *res = ctx;

	if (imap_response_is(r, "OK") || !res->ok)
		return;
	res->ok = 0;
	imap_describe_status(r, &res->status);
}

struct affix {
	const char *prefix, *suffix;
};

static void
add_affixed(struct imap_cmdline *l, const char *set, const void *arg)
{
	const struct affix *a = arg;

	imap_cmd_addf(l, "%s%s%s", a->prefix, set, a->suffix);
}

/* Send "<prefix><set><suffix>" for every chunk of sorted; pipelined. */
static int
over_uidsets(struct imap_store *s, const char *prefix, const uint32_t *sorted,
    size_t n, const char *suffix, struct buf *err)
{
	struct store_res res = { 1, BUF_INIT };
	struct affix a = { prefix, suffix };
	int rc;

	rc = ims_over_uidsets(s, sorted, n, add_affixed, &a, store_done, &res,
	    err);
	if (rc == 0 && !res.ok) {
		ims_err(s, err, "%s...: %s", prefix, res.status.data);
		rc = -1;
	}
	buf_free(&res.status);
	return rc;
}

static int
store_flags(struct imap_store *s, const uint32_t *sorted, size_t n,
    char sign, unsigned flags, struct buf *err)
{
	struct imap_cmdline fl;
	struct buf suffix = BUF_INIT;
	char prefix[32];
	int rc;

	if (flags == 0 || n == 0)
		return 0;
	imap_cmd_init(&fl);
	ims_add_flags(&fl, flags);
	buf_setf(&suffix, " %cFLAGS.SILENT %s", sign, fl.log.data);
	snprintf(prefix, sizeof prefix, "UID STORE ");
	rc = over_uidsets(s, prefix, sorted, n, suffix.data, err);
	imap_cmd_free(&fl);
	buf_free(&suffix);
	return rc;
}

/* The flags a STORE the server accepted gave, in the last scan's list:
 * expunge() reads them there. */
static void
note_flags(struct imap_store *s, const uint32_t *sorted, size_t n,
    unsigned add, unsigned del)
{
	for (size_t i = 0; i < n; i++) {
		const struct msg_meta *m = msg_list_find(&s->known, sorted[i]);

		if (m != NULL)
			s->known.v[m - s->known.v].flags =
			    (m->flags | add) & ~del;
	}
}

int
ims_set_flags(struct store *st, const uint32_t *uids, size_t n,
    unsigned add, unsigned del, int *results, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	size_t ns;
	uint32_t *sorted;
	int rc;

	if (ims_require_open(s, err) != 0)
		return -1;
	sorted = imap_uids_sorted(uids, n, &ns);
	rc = store_flags(s, sorted, ns, '+', add & MSG_ALL_FLAGS, err);
	if (rc == 0)
		rc = store_flags(s, sorted, ns, '-', del & MSG_ALL_FLAGS, err);
	if (rc == 0)
		note_flags(s, sorted, ns, add, del);
	free(sorted);
	if (rc == 0)
		ims_present_results(s, uids, n, results);
	return rc;
}

struct search_ctx {
	uint32_t *v;
	size_t n;
};

static int
search_response(void *ctx, const struct imap_response *r)
{
	struct search_ctx *sc = ctx;

	if (!imap_atom_is(r->items, "SEARCH"))
		return 0;
	for (const struct imap_item *it = r->items->next; it; it = it->next) {
		if (it->kind != IMAP_NUMBER || it->num > UINT32_MAX)
			continue;
		sc->v = xreallocarray(sc->v, sc->n + 1, sizeof(*sc->v));
		sc->v[sc->n++] = (uint32_t)it->num;
	}
	return 0;
}

/* Without UIDPLUS, EXPUNGE removes every \Deleted message: refuse when
 * one of them is not ours to remove. */
static int
check_no_foreign_deleted(struct imap_store *s, const uint32_t *sorted,
    size_t n, struct buf *err)
{
	struct search_ctx sc = { NULL, 0 };
	struct imap_cmdline l;
	struct buf others = BUF_INIT;
	int rc;

	imap_cmd_init(&l);
	imap_cmd_add(&l, "UID SEARCH DELETED");
	rc = ims_run(s, &l, search_response, &sc, err);
	imap_cmd_free(&l);
	for (size_t i = 0; rc == 0 && i < sc.n; i++)
		if (!ims_uid_present(sorted, n, sc.v[i]))
			buf_addf(&others, "%s%u", others.len ? " " : "",
			    sc.v[i]);
	if (rc == 0 && others.len > 0) {
		ims_err(s, err, "cannot expunge: the server has no UIDPLUS, "
		    "so EXPUNGE would also remove UIDs %s, which are marked "
		    "\\Deleted but not meant to be removed; expunge them "
		    "yourself or clear their \\Deleted flag", others.data);
		rc = -1;
	}
	buf_free(&others);
	free(sc.v);
	return rc;
}

/*
 * Mark \Deleted what does not carry it yet. The planner marks a message
 * before it expunges it (the mark is what a killed run leaves behind), so
 * mostly nothing is left to mark here: a second STORE of the same mark
 * would only cost a round trip. Flags are as the last scan saw them,
 * with the STOREs of this store since (note_flags()); a message not in
 * that list is marked all the same.
 */
static int
mark_deleted(struct imap_store *s, const uint32_t *sorted, size_t n,
    struct buf *err)
{
	uint32_t *need = xcalloc(n ? n : 1, sizeof(*need));
	size_t nneed = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct msg_meta *m = msg_list_find(&s->known, sorted[i]);

		if (m == NULL || !(m->flags & MSG_DELETED))
			need[nneed++] = sorted[i];
	}
	rc = store_flags(s, need, nneed, '+', MSG_DELETED, err);
	free(need);
	return rc;
}

static int
do_expunge(struct imap_store *s, const uint32_t *sorted, size_t n,
    struct buf *err)
{
	int uidplus = imap_client_has(s->c, CAP_UIDPLUS);
	struct imap_cmdline l;
	int rc;

	if (!uidplus && check_no_foreign_deleted(s, sorted, n, err) != 0)
		return -1;
	if (mark_deleted(s, sorted, n, err) != 0)
		return -1;
	if (uidplus)
		return over_uidsets(s, "UID EXPUNGE ", sorted, n, "", err);
	imap_cmd_init(&l);
	imap_cmd_add(&l, "EXPUNGE");
	rc = ims_run(s, &l, NULL, NULL, err);
	imap_cmd_free(&l);
	return rc;
}

int
ims_expunge(struct store *st, const uint32_t *uids, size_t n, int *results,
    struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	size_t ns, np;
	uint32_t *sorted, *present;
	int rc;

	if (ims_require_open(s, err) != 0)
		return -1;
	sorted = imap_uids_sorted(uids, n, &ns);
	present = ims_present_uids(s, &np);
	s->track_expunges = 1;
	s->nexpunged = 0;
	rc = ns > 0 ? do_expunge(s, sorted, ns, err) : 0;
	s->track_expunges = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int gone = 0;

		for (size_t k = 0; k < s->nexpunged && !gone; k++)
			gone = s->expunged[k] == uids[i];
		results[i] = gone ? STORE_OK :
		    !ims_uid_present(present, np, uids[i]) ? STORE_GONE :
		    STORE_FAILED;
	}
	free(s->expunged);
	s->expunged = NULL;
	s->nexpunged = 0;
	free(sorted);
	free(present);
	return rc;
}
