/*
 * maildir_locate: find a message again after another mail reader renamed
 * it (changed its flags, moved it from new/ to cur/) since our scan. The
 * unique part of the name and the ,U= field identify it; a copy of the
 * file under another unique name is not taken for it.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
same_message(const char *cand, char delim, const char *unique, size_t ulen,
    uint32_t uid)
{
	return md_name_unique_len(cand, delim) == ulen &&
	    memcmp(cand, unique, ulen) == 0 && md_name_uid(cand, delim) == uid;
}

struct search {
	struct md_entry *e;
	const char *unique;
	size_t ulen;
};

/* 1 when name in subdir is the message searched for, which it then
 * names; 0 to go on. */
static int
match(struct md_store *s, int subdir, const char *name, void *ctx,
    struct buf *err)
{
	struct search *q = ctx;
	struct md_entry *e = q->e;

	(void)err;
	if (!same_message(name, s->info_delim, q->unique, q->ulen,
	    e->claimed ? e->claimed : e->uid))
		return 0;
	md_entry_name_set(e, xstrdup(name));
	e->subdir = subdir;
	e->flags = md_name_flags(e->name, s->info_delim);
	return 1;
}

int
md_locate(struct md_store *s, struct md_entry *e, int *found,
    struct buf *err)
{
	char *unique = xstrndup(e->name,
	    md_name_unique_len(e->name, s->info_delim));
	struct search q = { e, unique, strlen(unique) };
	int rc = 0;

	*found = 0;
	for (int sub = MD_SUBDIR_CUR; sub <= MD_SUBDIR_NEW && !*found;
	    sub++) {
		rc = md_each_name(s, sub, match, &q, err);
		if (rc < 0)
			break;
		*found = rc;
		rc = 0;
	}
	free(unique);
	if (rc == 0 && *found)
		log_debug(s->base.lg, "maildir %s: UID %u is now %s/%s",
		    s->mbox, e->uid, md_subdir_name(e->subdir), e->name);
	return rc;
}

/* Forget an entry (after expunge, or when its file is gone for good);
 * it stays in the sorted table as a tombstone that md_find() skips. */
void
md_forget(struct md_store *s, struct md_entry *e)
{
	(void)s;
	md_entry_name_drop(e);
}
