/*
 * maildir_spelling: the two spellings of a non-ASCII folder name on disk.
 * Canonical names are UTF-8; mbsync 1.4 (and other tools) wrote folders
 * under the server's modified UTF-7 name ("Entw&APw-rfe" for "Entwürfe").
 * A folder that exists in either spelling is used under that spelling,
 * so that a tree written by mbsync gets no twin; a new folder is created
 * in UTF-8, or in modified UTF-7 with the store's Utf7Names (see
 * docs/maildir.md).
 */
#include "maildir/maildir_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imap/utf7.h"

/* The modified UTF-7 spelling of name; NULL when it is the same. */
static char *
utf7_spelling(const char *name)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *r = NULL;

	if (imap_utf7_encode(name, &out, &err) == 0 &&
	    strcmp(out.data, name) != 0)
		r = buf_detach(&out);
	buf_free(&out);
	buf_free(&err);
	return r;
}

static int
is_dir_at(const struct md_store *s, const char *rel)
{
	struct stat st;
	char *dir = md_join(s->path, rel);
	int yes = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);

	free(dir);
	return yes;
}

char *
md_disk_name(const struct md_store *s, const char *name,
    char *(*rel)(const char *, enum maildir_subfolders))
{
	struct buf ignored = BUF_INIT;
	char *alt = utf7_spelling(name), *r8, *r7;
	int use7;

	if (alt == NULL || s->path == NULL ||
	    md_check_name(alt, s->subfolders, &ignored) != 0) {
		buf_free(&ignored);
		free(alt);
		return xstrdup(name);
	}
	buf_free(&ignored);
	r8 = rel(name, s->subfolders);
	r7 = rel(alt, s->subfolders);
	if (is_dir_at(s, r8))
		use7 = 0;
	else
		use7 = s->utf7_names || is_dir_at(s, r7);
	free(r8);
	free(r7);
	if (use7)
		return alt;
	free(alt);
	return xstrdup(name);
}

void
md_decode_names(struct strlist *names)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	for (size_t i = 0; i < names->n; i++) {
		if (strchr(names->v[i], '&') == NULL)
			continue;
		buf_reset(&out);
		if (imap_utf7_decode(names->v[i], &out, &err) != 0 ||
		    strcmp(out.data, names->v[i]) == 0 ||
		    strlist_contains(names, out.data))
			continue;
		free(names->v[i]);
		names->v[i] = xstrdup(out.data);
	}
	buf_free(&out);
	buf_free(&err);
}
