/*
 * maildir_known: the Maildir's scan_changes(). The caller (sync/
 * plan_known.c) found the folder's stamp at open() equal to the one of
 * its settled mark, so nothing in cur/ or new/ changed since a listing
 * that showed exactly the caller's list: that list is the folder, with
 * the flags it gives, and no listing is made.
 *
 * The entry table then holds UIDs and flags without file names. The
 * first operation that needs a file (fetch, flags, expunge, Trash) reads
 * cur/ and new/ once and names them (md_resolve()), unless prefetch()
 * did so before, while the caller waited for the other side; a no-op run
 * reads neither. What that reading does not find is gone (absent from a fresh
 * listing, DESIGN.md invariant 8). A file that came after open() is left
 * to the next run, whose stamp differs: it gets no UID here, and a
 * second file claiming one of the UIDs (moved in meanwhile) fails the
 * operation rather than guess which file is the message.
 */
#include "maildir/maildir_int.h"

#include <stddef.h>
#include <string.h>

#include "util/u32.h"

int
md_scan_known(struct store *st, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;

	if (s->mbox == NULL) {
		md_err(err, NULL, NULL, "scan: no mailbox is open");
		return -1;
	}
	if (s->stamp == 0 || since != s->stamp) {
		md_err(err, s->mbox, NULL, "asked to stand in for a listing "
		    "at stamp %llx, but the folder's stamp is %llx",
		    (unsigned long long)since, (unsigned long long)s->stamp);
		return -1;
	}
	md_entries_free(s);
	md_clashes_free(s);
	s->ents = xcalloc(known->n ? known->n : 1, sizeof(*s->ents));
	s->capents = known->n ? known->n : 1;
	for (size_t i = 0; i < known->n; i++) {
		struct msg_meta m = { .uid = known->v[i].uid,
		    .flags = known->v[i].flags };

		s->ents[i].uid = m.uid;
		s->ents[i].flags = m.flags;
		msg_list_add(out, &m);
	}
	s->nents = known->n;
	s->unlisted = 1;
	s->uid_fresh = 0;
	return 0;
}

static struct md_entry *
entry_of(struct md_store *s, uint32_t uid)
{
	size_t i = u32_key_lower_bound(s->ents, sizeof(*s->ents),
	    offsetof(struct md_entry, uid), 0, s->nents, uid);

	return i < s->nents && s->ents[i].uid == uid ? &s->ents[i] : NULL;
}

/* Name the entry that file name in subdir claims; -1 for a second file
 * claiming one. Entries an append of this run named keep their name. */
static int
take_name(struct md_store *s, int subdir, const char *name, void *ctx,
    struct buf *err)
{
	struct md_name_fields f;
	struct md_entry *e;

	(void)ctx;
	md_name_parse(name, s->info_delim, &f);
	e = entry_of(s, f.uid);
	if (e == NULL)
		return 0;
	if (e->name == NULL) {
		e->name = strpool_dup(&s->names, name, strlen(name));
		e->pooled = 1;
		e->subdir = subdir;
		e->flags = f.flags;
		return 0;
	}
	if (e->subdir == subdir && strcmp(e->name, name) == 0)
		return 0;
	md_err(err, s->mbox, name, "claims UID %u of %s/%s too; a file moved "
	    "in after this run opened the folder, and the next run settles "
	    "which is which", e->uid, md_subdir_name(e->subdir), e->name);
	return -1;
}

/* new/ before cur/: a file a mail reader moves from new/ to cur/ while
 * we read is seen in one of them. */
int
md_resolve(struct md_store *s, struct buf *err)
{
	size_t gone = 0;

	if (!s->unlisted)
		return 0;
	if (md_each_name(s, MD_SUBDIR_NEW, take_name, NULL, err) != 0 ||
	    md_each_name(s, MD_SUBDIR_CUR, take_name, NULL, err) != 0)
		return -1;
	s->unlisted = 0;
	for (size_t i = 0; i < s->nents; i++)
		gone += s->ents[i].name == NULL;
	log_debug(s->base.lg, "maildir %s: listed for the names of %zu "
	    "messages; %zu of them gone since the run began", s->mbox,
	    s->nents - gone, gone);
	return 0;
}

/* store_ops.prefetch: the names read while the caller waits for the
 * other side. A failure (a second file claiming a UID) leaves the
 * folder unlisted, so the first operation reads again and fails there,
 * as it would have without this read. */
void
md_prefetch(struct store *st)
{
	struct buf ignored = BUF_INIT;

	(void)md_resolve((struct md_store *)st, &ignored);
	buf_free(&ignored);
}
