/*
 * maildir_list: find every mailbox under the root. A directory is a
 * mailbox when it has cur/ (mbsync's rule). Directories whose names would
 * not survive the way back through md_check_name() are reported and
 * skipped, so every listed name can be opened.
 *
 * Symbolic links are followed, but never back into a directory the walk
 * is inside of: each directory on the way down is known by device and
 * inode, and an entry that is one of them is a loop, skipped with a
 * warning that names it (a `Loop -> .` would otherwise list the tree
 * again under Loop/, Loop/Loop/, ... and multiply its mail). A link to a
 * directory outside its own ancestry is listed under its name, as any
 * folder.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A bound on nesting even without loops. */
#define MD_LIST_MAX_DEPTH 32

/* One directory on the way from the root down to the one being read. */
struct md_ancestor {
	dev_t dev;
	ino_t ino;
	const char *path;
	const struct md_ancestor *up;
};

/* 1 if path is a directory; fills st. */
static int
is_dir(const char *path, struct stat *st)
{
	return stat(path, st) == 0 && S_ISDIR(st->st_mode);
}

/* 1 (after a warning) if st is the directory of one of the ancestors. */
static int
is_loop(const struct md_store *s, const char *path, const struct stat *st,
    const struct md_ancestor *up)
{
	for (; up != NULL; up = up->up) {
		if (up->dev != st->st_dev || up->ino != st->st_ino)
			continue;
		log_warn(s->base.lg, "maildir: skipping %s: a symbolic link "
		    "loop (the same directory as %s)", path, up->path);
		return 1;
	}
	return 0;
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

/* Maildir++ folders are one level deep: only the root can be looped to. */
static int
list_maildirpp(struct md_store *s, struct strlist *names, struct buf *err)
{
	DIR *d = opendir(s->path);
	struct dirent *e;
	struct stat st;
	struct md_ancestor root = { .path = s->path };

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		md_syserr(err, "(list)", s->path, "opendir");
		return -1;
	}
	if (fstat(dirfd(d), &st) != 0) {
		md_syserr(err, "(list)", s->path, "fstat");
		closedir(d);
		return -1;
	}
	root.dev = st.st_dev;
	root.ino = st.st_ino;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		char *name = xstrdup(e->d_name + 1);
		char *dir = md_join(s->path, e->d_name);

		for (char *p = name; *p; p++)
			if (*p == '.')
				*p = '/';
		if (!is_dir(dir, &st) || !is_loop(s, dir, &st, &root))
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

static int walk(struct md_store *, const char *, const char *, int,
    const struct md_ancestor *, struct strlist *, struct buf *);

/* List the directory sub (named name) and what is below it. */
static void
visit(struct md_store *s, const char *sub, const char *name, int depth,
    const struct md_ancestor *up, struct strlist *names, struct buf *err)
{
	struct stat st;

	if (!is_dir(sub, &st) || is_loop(s, sub, &st, up))
		return;
	add_if_mailbox(s, sub, name, names);
	if (s->subfolders != MAILDIR_SUB_NONE &&
	    md_check_name(name, s->subfolders, err) == 0)
		walk(s, sub, name, depth + 1, up, names, err);
	buf_reset(err);
}

/* up: the directories above dir, nearest first; dir itself is added. */
static int
walk(struct md_store *s, const char *dir, const char *prefix, int depth,
    const struct md_ancestor *up, struct strlist *names, struct buf *err)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	struct md_ancestor here = { .path = dir, .up = up };

	if (depth >= MD_LIST_MAX_DEPTH)
		return 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR || depth > 0)
			return 0;
		md_syserr(err, "(list)", dir, "opendir");
		return -1;
	}
	if (fstat(dirfd(d), &st) != 0) {
		md_syserr(err, "(list)", dir, "fstat");
		closedir(d);
		return -1;
	}
	here.dev = st.st_dev;
	here.ino = st.st_ino;
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
		visit(s, sub, name.data, depth, &here, names, err);
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
			rc = walk(s, s->path, NULL, 0, NULL, names, err);
	}
	md_decode_names(names);
	strlist_sort(names);
	return rc;
}
