/*
 * maildir_list: find every mailbox under the root. A directory is a
 * mailbox when it has cur/ (mbsync's rule). Directories whose names would
 * not survive the way back through md_check_name() are reported and
 * skipped, so every listed name can be opened.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Symbolic links are followed when listing; this bounds a loop. */
#define MD_LIST_MAX_DEPTH 32

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
add_if_mailbox(struct md_store *s, const char *dir, const char *name,
    struct strlist *names)
{
	struct buf why = BUF_INIT;

	if (!md_is_maildir(dir) || strlist_contains(names, name))
		return;
	if (md_check_name(name, s->subfolders, &why) != 0)
		log_warn(s->base.lg, "maildir: ignoring %s: %s", dir,
		    buf_cstr(&why));
	else
		strlist_add(names, name);
	buf_free(&why);
}

static int
list_maildirpp(struct md_store *s, struct strlist *names, struct buf *err)
{
	DIR *d = opendir(s->path);
	struct dirent *e;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		md_syserr(err, "(list)", s->path, "opendir");
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		char *name = xstrdup(e->d_name + 1);
		char *dir = md_join(s->path, e->d_name);

		for (char *p = name; *p; p++)
			if (*p == '.')
				*p = '/';
		add_if_mailbox(s, dir, name, names);
		free(name);
		free(dir);
	}
	closedir(d);
	return 0;
}

/* The canonical component an entry stands for, or NULL to skip it. */
static const char *
entry_component(const struct md_store *s, const char *ent, int depth)
{
	if (strcmp(ent, ".") == 0 || strcmp(ent, "..") == 0 ||
	    strcmp(ent, "cur") == 0 || strcmp(ent, "new") == 0 ||
	    strcmp(ent, "tmp") == 0)
		return NULL;
	if (s->subfolders == MAILDIR_SUB_LEGACY && depth > 0)
		return ent[0] == '.' && ent[1] != '\0' ? ent + 1 : NULL;
	return ent[0] == '.' ? NULL : ent;
}

static int
walk(struct md_store *s, const char *dir, const char *prefix, int depth,
    struct strlist *names, struct buf *err)
{
	DIR *d;
	struct dirent *e;

	if (depth >= MD_LIST_MAX_DEPTH)
		return 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR || depth > 0)
			return 0;
		md_syserr(err, "(list)", dir, "opendir");
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		const char *comp = entry_component(s, e->d_name, depth);
		struct buf name = BUF_INIT;
		char *sub;

		if (comp == NULL)
			continue;
		sub = md_join(dir, e->d_name);
		if (prefix != NULL)
			buf_addf(&name, "%s/", prefix);
		buf_adds(&name, comp);
		if (is_dir(sub)) {
			add_if_mailbox(s, sub, name.data, names);
			if (s->subfolders != MAILDIR_SUB_NONE &&
			    md_check_name(name.data, s->subfolders, err) == 0)
				walk(s, sub, name.data, depth + 1, names, err);
		}
		buf_reset(err);
		buf_free(&name);
		free(sub);
	}
	closedir(d);
	return 0;
}

int
md_list(struct md_store *s, struct strlist *names, struct buf *err)
{
	int rc = 0;

	if (md_is_maildir(s->inbox))
		strlist_add(names, "INBOX");
	if (s->path != NULL) {
		if (s->subfolders == MAILDIR_SUB_MAILDIRPP)
			rc = list_maildirpp(s, names, err);
		else
			rc = walk(s, s->path, NULL, 0, names, err);
	}
	strlist_sort(names);
	return rc;
}
