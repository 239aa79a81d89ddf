/*
 * maildir_store: the store_ops table of the Maildir store, and the
 * mailbox-level operations (create, remove, open, scan). See maildir.h
 * for the public contract and maildir_int.h for the internal one.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
md_close(struct md_store *s)
{
	if (s->nbusy > 0)
		log_warn(s->base.lg, "maildir %s: closing with %zu unfinished "
		    "appends", s->mbox, s->nbusy);
	md_queue_release(s, 0);
	md_entries_free(s);
	md_clashes_free(s);
	if (s->uvfd >= 0)
		close(s->uvfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->uvfd = s->dirfd = -1;
	s->stamp = 0;
	free(s->mbox);
	free(s->dir);
	s->mbox = s->dir = NULL;
}

static int
op_list(struct store *st, struct strlist *names, struct buf *err)
{
	return md_list((struct md_store *)st, names, err);
}

static int
op_create(struct store *st, const char *mbox, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	char *dir, *root, *rel;
	int rc = 0, marker;

	if (md_refuse_write(s, mbox, "create", err) != 0 ||
	    md_mbox_dir(s, mbox, &dir, &root, &rel, err) != 0)
		return -1;
	marker = s->subfolders == MAILDIR_SUB_MAILDIRPP && rel != NULL;
	if (!md_is_maildir(dir))
		rc = md_make_maildir_under(root, rel, mbox, marker, err);
	if (rc == 0)
		log_verbose(s->base.lg, "maildir %s: created %s", mbox, dir);
	free(dir);
	free(root);
	free(rel);
	return rc;
}

static int
check_empty(const char *dir, const char *mbox, struct buf *err)
{
	static const char *const parts[] = { "cur", "new", "tmp" };
	int empty = 1;

	for (size_t i = 0; i < 3 && empty; i++) {
		char *sub = md_join(dir, parts[i]);
		int rc = md_dir_is_empty(sub, mbox, &empty, err);

		if (rc == 0 && !empty)
			md_err(err, mbox, sub, "not empty; refusing to "
			    "remove the mailbox");
		free(sub);
		if (rc != 0)
			return -1;
	}
	return empty ? 0 : -1;
}

static int
remove_parts(const char *dir, const char *mbox, struct buf *err)
{
	static const char *const files[] = { ".uidvalidity", "maildirfolder" };
	static const char *const dirs[] = { "cur", "new", "tmp" };

	for (size_t i = 0; i < 2; i++) {
		char *p = md_join(dir, files[i]);
		int rc = unlink(p);

		if (rc != 0 && errno != ENOENT)
			md_syserr(err, mbox, p, "unlink");
		free(p);
		if (rc != 0 && errno != ENOENT)
			return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		char *p = md_join(dir, dirs[i]);
		int rc = rmdir(p);

		if (rc != 0)
			md_syserr(err, mbox, p, "rmdir");
		free(p);
		if (rc != 0)
			return -1;
	}
	/* Subfolders or foreign files may keep the directory itself. */
	return 0;
}

static int
op_remove(struct store *st, const char *mbox, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	char *dir;
	int rc = -1;

	if (md_refuse_write(s, mbox, "remove", err) != 0 ||
	    md_mbox_dir(s, mbox, &dir, NULL, NULL, err) != 0)
		return -1;
	if (strcmp(mbox, "INBOX") == 0)
		md_err(err, mbox, dir, "INBOX cannot be removed");
	else if (!md_is_maildir(dir))
		md_err(err, mbox, dir, "no such mailbox");
	else {
		if (s->mbox != NULL && strcmp(s->mbox, mbox) == 0)
			md_close(s);
		if (check_empty(dir, mbox, err) == 0 &&
		    remove_parts(dir, mbox, err) == 0) {
			rmdir(dir);
			rc = 0;
		}
	}
	free(dir);
	return rc;
}

static int
check_complete(const char *dir, const char *mbox, struct buf *err)
{
	static const char *const parts[] = { "cur", "new", "tmp" };

	for (size_t i = 0; i < 3; i++) {
		char *p = md_join(dir, parts[i]);
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			md_syserr(err, mbox, p, "not a mailbox");
		else
			close(fd);
		free(p);
		if (fd < 0)
			return -1;
	}
	return 0;
}

/*
 * A folder whose creation was cut short (cur/ made, new/ or tmp/ not yet:
 * a run killed in create()) holds nothing: cur/ is empty and there is no
 * UID file. Its missing parts are made: 1; 0 for any other folder, whose
 * missing part check_complete() refuses (a wiped new/ is mail gone, not a
 * folder to make again); -1 with err if a part cannot be made. Asked only
 * once a part is found missing, so an open() pays nothing for it.
 */
static int
complete_cut_creation(const char *dir, const char *mbox, struct buf *err)
{
	static const char *const parts[] = { "new", "tmp" };
	char *cur = md_join(dir, "cur"), *uv = md_join(dir, ".uidvalidity");
	struct buf ignored = BUF_INIT;
	struct stat sb;
	int empty = 0, rc = 0;

	if (md_dir_is_empty(cur, mbox, &empty, &ignored) == 0 && empty &&
	    stat(uv, &sb) != 0 && errno == ENOENT) {
		buf_reset(err);		/* check_complete()'s, answered */
		rc = 1;
		for (size_t i = 0; i < 2 && rc == 1; i++) {
			char *p = md_join(dir, parts[i]);

			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				md_syserr(err, mbox, p, "mkdir");
				rc = -1;
			}
			free(p);
		}
	}
	buf_free(&ignored);
	free(cur);
	free(uv);
	return rc;
}

static int
op_open(struct store *st, const char *mbox, struct mbox_status *status,
    struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	char *dir;
	int rc;

	md_close(s);
	if (md_mbox_dir(s, mbox, &dir, NULL, NULL, err) != 0)
		return -1;
	s->mbox = xstrdup(mbox);
	s->dir = dir;
	if (check_complete(dir, mbox, err) != 0 && (s->read_only ||
	    complete_cut_creation(dir, mbox, err) != 1 ||
	    check_complete(dir, mbox, err) != 0))
		goto fail;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		md_syserr(err, mbox, dir, "open");
		goto fail;
	}
	rc = md_uid_open(s, err);
	s->recorded = 0;	/* for this open() only */
	if (rc != 0)
		goto fail;
	md_clean_tmp(s);
	memset(status, 0, sizeof(*status));
	status->uidvalidity = s->uidvalidity;
	status->uidnext = s->lastuid + 1;
	/* Before any listing: a change made while this run lists or
	 * acts gives the next run another stamp. */
	s->stamp = status->stamp = md_stamp(s, dir);
	return 0;
fail:
	s->recorded = 0;
	md_close(s);
	return -1;
}

static int
op_scan(struct store *st, const struct scan_hint *hint, struct msg_list *out,
    struct buf *err)
{
	struct md_store *s = (struct md_store *)st;

	if (s->mbox == NULL) {
		md_err(err, NULL, NULL, "scan: no mailbox is open");
		return -1;
	}
	if (md_scan(s, hint, err) != 0)
		return -1;
	for (size_t i = 0; i < s->nents; i++) {
		const struct md_entry *e = &s->ents[i];
		struct msg_meta m = { .uid = e->uid, .flags = e->flags,
		    .size = e->size, .date = e->mtime };

		msg_list_add(out, &m);
	}
	return 0;
}

static void
op_free(struct store *st)
{
	struct md_store *s = (struct md_store *)st;

	if (s == NULL)
		return;
	md_close(s);
	free(s->path);
	free(s->inbox);
	free(s);
}

/* The file as last seen, under the mailbox directory ("new/NAME"). */
static void
op_msg_name(struct store *st, uint32_t uid, struct buf *out)
{
	struct md_entry *e = md_find((struct md_store *)st, uid);

	if (e == NULL)
		buf_addf(out, "UID %u", uid);
	else
		buf_addf(out, "%s/%s", md_subdir_name(e->subdir), e->name);
}

static const struct store_ops maildir_ops = {
	.kind = "maildir",
	.list = op_list,
	.create = op_create,
	.remove = op_remove,
	.open = op_open,
	.scan = op_scan,
	.scan_changes = md_scan_known,
	.prefetch = md_prefetch,
	.peek = md_peek,
	.recorded = md_recorded,
	.clashes = md_clashes,
	.settle_clash = md_settle_clash,
	.fetch = md_fetch,
	.fetch_headers = md_fetch_headers,
	.append_begin = md_append_begin,
	.append_write = md_append_write,
	.append_finish = md_append_finish,
	.append_cancel = md_append_cancel,
	.commit = md_commit,
	.msg_name = op_msg_name,
	.set_flags = md_set_flags,
	.trash = md_trash,
	.trash_in = md_trash_in,
	.expunge = md_expunge,
	.local_dir = maildir_mailbox_dir,
	.free = op_free,
};

/* A configured directory without trailing slashes ("/" stays "/"). */
static char *
clean_dir(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return xstrndup(p, n);
}

struct store *
maildir_store_new(const struct maildir_options *opt, const struct logger *lg,
    struct buf *err)
{
	struct md_store *s;

	if (opt == NULL || ((opt->path == NULL || *opt->path == '\0') &&
	    (opt->inbox == NULL || *opt->inbox == '\0'))) {
		buf_setf(err, "maildir: neither Path nor Inbox is set");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &maildir_ops;
	s->base.lg = lg;
	s->subfolders = opt->subfolders;
	s->fsync = opt->fsync;
	s->read_only = opt->read_only;
	s->info_delim = opt->info_delimiter ? opt->info_delimiter : ':';
	s->utf7_names = opt->utf7_names;
	s->clock = opt->clock != NULL ? opt->clock : md_real_clock;
	s->clock_arg = opt->clock_arg;
	s->barrier = opt->barrier != NULL ? *opt->barrier :
	    maildir_barrier_default();
	s->uvfd = s->dirfd = -1;
	if (opt->path != NULL && *opt->path != '\0')
		s->path = clean_dir(opt->path);
	if (opt->inbox != NULL && *opt->inbox != '\0')
		s->inbox = clean_dir(opt->inbox);
	else if (s->subfolders == MAILDIR_SUB_MAILDIRPP)
		s->inbox = xstrdup(s->path);
	else
		s->inbox = md_join(s->path, "INBOX");
	/* Maildir++ keeps every folder inside INBOX's directory; the
	 * configuration gives only Inbox for it, as mbsync's does. */
	if (s->path == NULL && s->subfolders == MAILDIR_SUB_MAILDIRPP)
		s->path = xstrdup(s->inbox);
	return &s->base;
}

int
maildir_mailbox_dir(struct store *st, const char *name, char **dir,
    struct buf *err)
{
	if (st->ops != &maildir_ops) {
		buf_setf(err, "store is not a Maildir store");
		return -1;
	}
	return md_mbox_dir((const struct md_store *)st, name, dir, NULL, NULL,
	    err);
}
