/*
 * maildir_fs: error texts, path joining and directory creation for the
 * Maildir store. Creation below the root never follows a symbolic link,
 * so a hostile name cannot steer a mkdir outside the root through a link
 * someone planted there.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const subdir_names[] = { "cur", "new" };

void
md_err(struct buf *err, const char *mbox, const char *file, const char *fmt,
    ...)
{
	va_list ap;

	buf_reset(err);
	buf_addf(err, "maildir %s: ", mbox != NULL ? mbox : "(none)");
	if (file != NULL)
		buf_addf(err, "%s: ", file);
	va_start(ap, fmt);
	buf_vaddf(err, fmt, ap);
	va_end(ap);
}

/* Callers pass errno untouched: this reads it first. */
void
md_syserr(struct buf *err, const char *mbox, const char *file,
    const char *what)
{
	int saved = errno;

	md_err(err, mbox, file, "%s: %s", what, strerror(saved));
	errno = saved;
}

char *
md_join(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/%s", dir, name);
	return buf_detach(&b);
}

const char *
md_subdir_name(int subdir)
{
	return subdir_names[subdir == MD_SUBDIR_NEW];
}

char *
md_subpath(const char *dir, int subdir, const char *name)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/%s", dir, md_subdir_name(subdir));
	if (name != NULL)
		buf_addf(&b, "/%s", name);
	return buf_detach(&b);
}

int
md_rename_entry(struct md_store *s, struct md_entry *e, int subdir,
    char *name, struct buf *err)
{
	char *from = md_subpath(s->dir, e->subdir, e->name);
	char *to = md_subpath(s->dir, subdir, name);
	int rc = 1;

	if (rename(from, to) == 0) {
		md_entry_name_set(e, name);
		name = NULL;
		e->subdir = subdir;
	} else if (errno == ENOENT)
		rc = 0;
	else {
		md_err(err, s->mbox, from, "rename to %s: %s", to,
		    strerror(errno));
		rc = -1;
	}
	free(name);
	free(from);
	free(to);
	return rc;
}

/* mbsync's rule: a directory is a mailbox when it has cur/. */
int
md_is_maildir(const char *dir)
{
	struct stat st;
	char *cur = md_join(dir, "cur");
	int ok = stat(cur, &st) == 0 && S_ISDIR(st.st_mode);

	free(cur);
	return ok;
}

static int
mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) != 0)
		return -1;
	/* mkdir's mode is filtered by the umask; the contract is 0700. */
	return chmod(path, 0700);
}

/* mkdir -p for a trusted path (the configured root or inbox). */
int
md_mkdirs(const char *path, const char *mbox, struct buf *err)
{
	char *p = xstrdup(path);
	struct stat st;
	int rc = 0;

	for (char *q = p + 1; rc == 0; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char saved = *q;

		*q = '\0';
		if (stat(p, &st) != 0 && (errno != ENOENT ||
		    mkdir_0700(p) != 0) && errno != EEXIST) {
			md_syserr(err, mbox, p, "mkdir");
			rc = -1;
		}
		*q = saved;
		if (saved == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * Enter (creating if needed) one component below the directory fd,
 * refusing symbolic links. Returns the new directory descriptor or -1.
 */
static int
enter_component(int fd, const char *comp, const char *shown,
    const char *mbox, struct buf *err)
{
	int created = 0, nfd;

	if (mkdirat(fd, comp, 0700) == 0)
		created = 1;
	else if (errno != EEXIST) {
		md_syserr(err, mbox, shown, "mkdir");
		return -1;
	}
	nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (nfd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			md_err(err, mbox, shown, "not a directory or a symbolic "
			    "link; refusing to create a mailbox through it");
		else
			md_syserr(err, mbox, shown, "open");
		return -1;
	}
	if (created && fchmod(nfd, 0700) != 0) {
		md_syserr(err, mbox, shown, "chmod");
		close(nfd);
		return -1;
	}
	return nfd;
}

static int
make_marker(int fd, const char *shown, const char *mbox, struct buf *err)
{
	int mfd = openat(fd, "maildirfolder", O_WRONLY | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);

	if (mfd < 0 || fchmod(mfd, 0600) != 0) {
		md_syserr(err, mbox, shown, "create maildirfolder");
		if (mfd >= 0)
			close(mfd);
		return -1;
	}
	close(mfd);
	return 0;
}

/* Walk rel ('/'-separated, already validated) below fd, then make
 * cur/ new/ tmp/. Consumes fd. */
static int
make_below(int fd, const char *root, const char *rel, const char *mbox,
    int marker, struct buf *err)
{
	static const char *const parts[] = { "cur", "new", "tmp" };
	struct buf shown = BUF_INIT;
	char *copy = xstrdup(rel != NULL ? rel : ""), *save = NULL;
	int nfd, rc = -1;

	buf_adds(&shown, root);
	for (char *c = strtok_r(copy, "/", &save); c != NULL;
	    c = strtok_r(NULL, "/", &save)) {
		buf_addf(&shown, "/%s", c);
		if ((nfd = enter_component(fd, c, shown.data, mbox, err)) < 0)
			goto out;
		close(fd);
		fd = nfd;
	}
	for (size_t i = 0; i < 3; i++) {
		size_t keep = shown.len;

		buf_addf(&shown, "/%s", parts[i]);
		if ((nfd = enter_component(fd, parts[i], shown.data, mbox,
		    err)) < 0)
			goto out;
		close(nfd);
		buf_truncate(&shown, keep);
	}
	rc = marker ? make_marker(fd, shown.data, mbox, err) : 0;
out:
	close(fd);
	free(copy);
	buf_free(&shown);
	return rc;
}

int
md_make_maildir_under(const char *root, const char *rel, const char *mbox,
    int maildirpp_folder, struct buf *err)
{
	int fd;

	if (md_mkdirs(root, mbox, err) != 0)
		return -1;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		md_syserr(err, mbox, root, "open");
		return -1;
	}
	return make_below(fd, root, rel, mbox, maildirpp_folder, err);
}

int
md_fsync_dir(const char *dir, const char *mbox, struct buf *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		md_syserr(err, mbox, dir, "open");
		return -1;
	}
	if (fsync(fd) != 0) {
		md_syserr(err, mbox, dir, "fsync");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
md_fsync_subdirs(struct md_store *s, const int touched[2], struct buf *err)
{
	for (int sub = MD_SUBDIR_CUR; sub <= MD_SUBDIR_NEW; sub++) {
		char *dir;
		int rc;

		if (!touched[sub] || !s->fsync)
			continue;
		dir = md_subpath(s->dir, sub, NULL);
		rc = md_fsync_dir(dir, s->mbox, err);
		free(dir);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int
md_dir_is_empty(const char *dir, const char *mbox, int *empty,
    struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		md_syserr(err, mbox, dir, "opendir");
		return -1;
	}
	*empty = 1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			*empty = 0;
	closedir(d);
	return 0;
}

int
md_each_name(struct md_store *s, int subdir, md_name_fn fn, void *ctx,
    struct buf *err)
{
	char *subpath = md_subpath(s->dir, subdir, NULL);
	DIR *d = opendir(subpath);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		md_syserr(err, s->mbox, subpath, "opendir");
		free(subpath);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			rc = fn(s, subdir, de->d_name, ctx, err);
	closedir(d);
	free(subpath);
	return rc;
}

int
md_refuse_write(const struct md_store *s, const char *mbox, const char *what,
    struct buf *err)
{
	if (!s->read_only)
		return 0;
	md_err(err, mbox, NULL, "%s: the store is read-only (dry run)", what);
	return -1;
}
