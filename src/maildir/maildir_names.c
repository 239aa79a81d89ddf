/*
 * maildir_names: canonical mailbox names ('/' separated, "INBOX") to
 * directories, for each subfolder style. Names come from a server and are
 * untrusted: anything that could leave the root, hide a folder, collide
 * with cur/new/tmp or be read back differently is refused here, before
 * any path is built.
 */
#include "maildir/maildir_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Quote a name for an error line: no control byte may reach the log. */
static void
add_quoted(struct buf *b, const char *name)
{
	buf_addc(b, '"');
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else if (*p == '"' || *p == '\\')
			buf_addf(b, "\\%c", *p);
		else
			buf_addc(b, (char)*p);
	}
	buf_addc(b, '"');
}

static int
refuse(const char *name, const char *why, struct buf *err)
{
	buf_reset(err);
	buf_adds(err, "maildir: refusing mailbox name ");
	add_quoted(err, name);
	buf_addf(err, ": %s", why);
	return -1;
}

static int
is_reserved(const char *c, size_t n)
{
	return n == 3 && (memcmp(c, "cur", 3) == 0 ||
	    memcmp(c, "new", 3) == 0 || memcmp(c, "tmp", 3) == 0);
}

static const char *
component_problem(const char *c, size_t n, enum maildir_subfolders style)
{
	if (n == 0)
		return "empty path component";
	if ((n == 1 && c[0] == '.') || (n == 2 && memcmp(c, "..", 2) == 0))
		return "\".\" and \"..\" components are not allowed "
		    "(they would leave the folder tree)";
	if (n > NAME_MAX)
		return "a path component is longer than NAME_MAX";
	if (style == MAILDIR_SUB_MAILDIRPP && memchr(c, '.', n) != NULL)
		return "'.' is the Maildir++ hierarchy separator and cannot "
		    "appear inside a folder name";
	if (style != MAILDIR_SUB_MAILDIRPP && c[0] == '.')
		return "a component starting with '.' would be hidden or "
		    "taken for a subfolder";
	if (style != MAILDIR_SUB_MAILDIRPP && is_reserved(c, n))
		return "\"cur\", \"new\" and \"tmp\" are Maildir's own "
		    "directories";
	return NULL;
}

int
md_check_name(const char *name, enum maildir_subfolders style,
    struct buf *err)
{
	const char *why, *c, *slash;

	if (*name == '\0')
		return refuse(name, "empty name", err);
	if (strcmp(name, "INBOX") == 0)
		return 0;
	if (name[0] == '/')
		return refuse(name, "absolute paths are not allowed", err);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return refuse(name, "control characters are not "
			    "allowed", err);
	if (style == MAILDIR_SUB_NONE && strchr(name, '/') != NULL)
		return refuse(name, "hierarchical names need a SubFolders "
		    "style", err);
	if (style == MAILDIR_SUB_MAILDIRPP && strlen(name) + 1 > NAME_MAX)
		return refuse(name, "too long for one Maildir++ directory",
		    err);
	for (c = name;; c = slash + 1) {
		slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if ((why = component_problem(c, n, style)) != NULL)
			return refuse(name, why, err);
		if (slash == NULL)
			return 0;
	}
}

/* The directory of name relative to the root, in the store's style. */
static char *
relative_dir(const char *name, enum maildir_subfolders style)
{
	struct buf b = BUF_INIT;

	switch (style) {
	case MAILDIR_SUB_MAILDIRPP:
		buf_addc(&b, '.');
		for (const char *p = name; *p; p++)
			buf_addc(&b, *p == '/' ? '.' : *p);
		break;
	case MAILDIR_SUB_LEGACY:
		for (const char *p = name; *p; p++) {
			buf_addc(&b, *p);
			if (*p == '/')
				buf_addc(&b, '.');
		}
		break;
	default:
		buf_adds(&b, name);
		break;
	}
	return buf_detach(&b);
}

int
md_mbox_dir(const struct md_store *s, const char *name, char **dir,
    char **root, char **rel, struct buf *err)
{
	char *r, *spelt;

	if (md_check_name(name, s->subfolders, err) != 0)
		return -1;
	if (strcmp(name, "INBOX") == 0) {
		*dir = xstrdup(s->inbox);
		if (root != NULL)
			*root = xstrdup(s->inbox);
		if (rel != NULL)
			*rel = NULL;
		return 0;
	}
	if (s->path == NULL) {
		md_err(err, name, NULL, "no Path is configured, only INBOX "
		    "exists");
		return -1;
	}
	spelt = md_disk_name(s, name, relative_dir);
	r = relative_dir(spelt, s->subfolders);
	free(spelt);
	*dir = md_join(s->path, r);
	if (root != NULL)
		*root = xstrdup(s->path);
	if (rel != NULL)
		*rel = r;
	else
		free(r);
	return 0;
}
