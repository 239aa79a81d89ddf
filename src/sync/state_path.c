/* state_path: the location of a mailbox pair's state; see state_path.h. */
#include "sync/state_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hash.h"

/* Longest pair name; leaves room for suffixes within NAME_MAX (255). */
#define PAIR_NAME_MAX 200
#define HASH_TAIL_LEN 17	/* "~" and 16 hex digits */

static int
needs_escape(unsigned char c, char delim)
{
	return c == '/' || c == '%' || c == ':' || c == (unsigned char)delim ||
	    c < 0x20 || c == 0x7f;
}

static void
add_escaped(struct buf *out, const char *s, char delim)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (needs_escape(c, delim))
			buf_addf(out, "%%%02X", c);
		else
			buf_addc(out, (char)c);
	}
}

/* Cut an over-long name, never inside a %XX escape, and add a hash of the
 * whole name so that names sharing a long start stay distinct. */
static void
shorten(struct buf *name)
{
	size_t keep = PAIR_NAME_MAX - HASH_TAIL_LEN;
	uint64_t h;

	if (name->len <= PAIR_NAME_MAX)
		return;
	h = hash_fnv1a64(name->data, name->len);
	if (name->data[keep - 1] == '%')
		keep -= 1;
	else if (name->data[keep - 2] == '%')
		keep -= 2;
	buf_truncate(name, keep);
	buf_addf(name, "~%016llx", (unsigned long long)h);
}

static void
pair_name(const struct state_location *loc, struct buf *out)
{
	char d = loc->field_delim != '\0' ? loc->field_delim : ':';

	buf_addc(out, d);
	add_escaped(out, loc->far_store, d);
	buf_addc(out, d);
	add_escaped(out, loc->far_box, d);
	buf_addf(out, "_%c", d);
	add_escaped(out, loc->near_store, d);
	buf_addc(out, d);
	add_escaped(out, loc->near_box, d);
	shorten(out);
	buf_adds(out, STATE_PREFIX_SUFFIX);
}

/* The prefix the SyncState option stands for, "~/" expanded. */
static int
expand_prefix(const struct state_location *loc, struct buf *out,
    struct buf *err)
{
	const char *opt = loc->sync_state;
	int has_home = loc->home != NULL && loc->home[0] == '/';

	if (opt == NULL) {
		if (loc->xdg_state_home != NULL &&
		    loc->xdg_state_home[0] == '/') {
			buf_addf(out, "%s/twinbox/", loc->xdg_state_home);
			return 0;
		}
		opt = "~/.local/state/twinbox/";
	}
	if (*opt == '\0') {
		buf_setf(err, "SyncState is empty");
		return -1;
	}
	if (strncmp(opt, "~/", 2) != 0) {
		buf_adds(out, opt);
		return 0;
	}
	if (!has_home) {
		buf_setf(err, "SyncState %s: HOME is not set to an absolute "
		    "path", opt);
		return -1;
	}
	buf_addf(out, "%s%s", loc->home, opt + 1);
	return 0;
}

static char *
dir_of_prefix(const char *prefix)
{
	const char *slash = strrchr(prefix, '/');
	size_t len;

	if (slash == NULL)
		return xstrdup(".");
	len = (size_t)(slash - prefix);
	while (len > 0 && prefix[len - 1] == '/')
		len--;
	return len == 0 ? xstrdup("/") : xstrndup(prefix, len);
}

static int
in_mailbox(const struct state_location *loc, struct state_paths *out,
    struct buf *err)
{
	size_t len;

	if (loc->near_dir == NULL || loc->near_dir[0] == '\0') {
		buf_setf(err, "SyncState *: near store %s is not a Maildir, "
		    "so the state cannot live in the mailbox", loc->near_store);
		return -1;
	}
	len = strlen(loc->near_dir);
	while (len > 1 && loc->near_dir[len - 1] == '/')
		len--;
	out->dir = xstrndup(loc->near_dir, len);
	return 0;
}

int
state_paths_compute(const struct state_location *loc,
    struct state_paths *out, struct buf *err)
{
	struct buf path = BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (loc->sync_state != NULL && strcmp(loc->sync_state, "*") == 0) {
		if (in_mailbox(loc, out, err) != 0)
			return -1;
		buf_addf(&path, "%s%s" STATE_IN_MAILBOX_NAME, out->dir,
		    strcmp(out->dir, "/") == 0 ? "" : "/");
	} else {
		if (expand_prefix(loc, &path, err) != 0) {
			buf_free(&path);
			return -1;
		}
		struct state_location before = *loc;
		struct buf legacy = BUF_INIT;

		out->dir = dir_of_prefix(path.data);
		/* Before: ':' whatever FieldDelimiter says, and no ending. */
		before.field_delim = '\0';
		buf_add(&legacy, path.data, path.len);
		pair_name(&before, &legacy);
		buf_truncate(&legacy, legacy.len - strlen(STATE_PREFIX_SUFFIX));
		out->legacy = buf_detach(&legacy);
		pair_name(loc, &path);
	}
	out->state = xstrdup(path.data);
	buf_adds(&path, STATE_JOURNAL_SUFFIX);
	out->journal = xstrdup(path.data);
	buf_setf(&path, "%s" STATE_LOCK_SUFFIX, out->state);
	out->lock = buf_detach(&path);
	return 0;
}

void
state_paths_free(struct state_paths *p)
{
	free(p->dir);
	free(p->state);
	free(p->journal);
	free(p->lock);
	free(p->legacy);
	memset(p, 0, sizeof(*p));
}

static int
make_one_dir(const char *path, struct buf *err)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	buf_setf(err, "%s: cannot create state directory: %s", path,
	    strerror(errno));
	return -1;
}

int
state_paths_mkdir(const struct state_paths *p, struct buf *err)
{
	char *path = xstrdup(p->dir);
	int rc = 0;

	for (char *s = path + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = make_one_dir(path, err);
		*s = '/';
	}
	if (rc == 0)
		rc = make_one_dir(path, err);
	free(path);
	return rc;
}

int
state_paths_legacy_found(const struct state_paths *p)
{
	static const char magic[] = "twinbox-state ";
	char head[sizeof(magic) - 1];
	struct stat sb;
	ssize_t n;
	int fd;

	if (p->legacy == NULL || lstat(p->state, &sb) == 0 ||
	    errno != ENOENT)
		return 0;
	fd = open(p->legacy, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n == (ssize_t)sizeof(head) &&
	    memcmp(head, magic, sizeof(head)) == 0;
}

int
state_paths_take_legacy(const struct state_paths *p, struct buf *err)
{
	struct buf journal = BUF_INIT;
	struct stat sb;
	int rc = 0;

	buf_setf(&journal, "%s" STATE_JOURNAL_SUFFIX, p->legacy);
	if (lstat(p->journal, &sb) != 0 && errno == ENOENT &&
	    rename(journal.data, p->journal) != 0 && errno != ENOENT) {
		buf_setf(err, "%s: cannot rename to %s: %s", journal.data,
		    p->journal, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && rename(p->legacy, p->state) != 0) {
		buf_setf(err, "%s: cannot rename to %s: %s", p->legacy,
		    p->state, strerror(errno));
		rc = -1;
	}
	buf_free(&journal);
	return rc;
}
