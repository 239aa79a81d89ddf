/*
 * maildir_locate: find a message again after another mail reader renamed
 * it (changed its flags, moved it from new/ to cur/) since our scan. The
 * unique part of the name and the ,U= field identify it; a copy of the
 * file under another unique name is not taken for it.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
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

/* Look in one subdirectory; 1 found, 0 not there, -1 error. */
static int
search_subdir(struct md_store *s, struct md_entry *e, int subdir,
    const char *unique, size_t ulen, struct buf *err)
{
	char *subpath = md_subpath(s->dir, subdir, NULL);
	DIR *d = opendir(subpath);
	struct dirent *de;
	int found = 0;

	if (d == NULL) {
		md_syserr(err, s->mbox, subpath, "opendir");
		free(subpath);
		return -1;
	}
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !same_message(de->d_name,
		    s->info_delim, unique, ulen,
		    e->claimed ? e->claimed : e->uid))
			continue;
		free(e->name);
		e->name = xstrdup(de->d_name);
		e->subdir = subdir;
		e->flags = md_name_flags(e->name, s->info_delim);
		found = 1;
	}
	closedir(d);
	free(subpath);
	return found;
}

int
md_locate(struct md_store *s, struct md_entry *e, int *found,
    struct buf *err)
{
	char *unique = xstrndup(e->name,
	    md_name_unique_len(e->name, s->info_delim));
	size_t ulen = strlen(unique);
	int rc = 0;

	*found = 0;
	for (int sub = MD_SUBDIR_CUR; sub <= MD_SUBDIR_NEW && !*found;
	    sub++) {
		rc = search_subdir(s, e, sub, unique, ulen, err);
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
	free(e->name);
	e->name = NULL;
}
