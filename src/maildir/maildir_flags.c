/*
 * maildir_flags: flag changes (renames into cur/ with a new info part),
 * expunges (unlink) and Trash copies (a hard link into the Trash
 * mailbox's cur/, mbsync's Trash). All follow a message another mail
 * reader renamed meanwhile (md_locate) and report STORE_GONE for one that was
 * deleted, so a concurrent reader never makes a batch fail.
 */
#include "maildir/maildir_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* After ENOENT: follow the message, or report it gone. */
static int
follow(struct md_store *s, struct md_entry *e, int *gone, struct buf *err)
{
	int found;

	*gone = 0;
	if (md_locate(s, e, &found, err) != 0)
		return -1;
	if (!found) {
		log_debug(s->base.lg, "maildir %s: UID %u is gone", s->mbox,
		    e->uid);
		md_forget(s, e);
		*gone = 1;
	}
	return 0;
}

/* 1 done, 0 retry (the file moved), -1 failed. */
static int
rename_flags(struct md_store *s, struct md_entry *e, unsigned add,
    unsigned del, struct buf *err)
{
	unsigned flags = (e->flags | add) & ~del;
	int rc;

	if (flags == e->flags)
		return 1;
	rc = md_rename_entry(s, e, MD_SUBDIR_CUR,
	    md_name_with(e->name, s->info_delim, e->uid, flags), err);
	if (rc == 1) {
		e->flags = flags;
		e->claimed = 0;	/* the new name carries e->uid */
	}
	return rc;
}

/* What to do to one message: 1 done, 0 retry (the file moved), -1
 * failed with err set. */
struct md_action {
	const char *what;	/* for messages: "set flags", "expunge" */
	int (*attempt)(struct md_store *s, struct md_entry *e,
	    const struct md_action *a, struct buf *err);
	unsigned add, del;	/* set flags */
	const char *to;		/* trash: the Trash mailbox's cur/ */
};

static int
attempt_flags(struct md_store *s, struct md_entry *e,
    const struct md_action *a, struct buf *err)
{
	return rename_flags(s, e, a->add, a->del, err);
}

static int
attempt_unlink(struct md_store *s, struct md_entry *e,
    const struct md_action *a, struct buf *err)
{
	char *path = md_subpath(s->dir, e->subdir, e->name);
	int rc = unlink(path), saved = errno;

	(void)a;
	if (rc != 0 && saved != ENOENT)
		md_syserr(err, s->mbox, path, "unlink");
	free(path);
	if (rc == 0) {
		md_forget(s, e);
		return 1;
	}
	return saved == ENOENT ? 0 : -1;
}

/* A hard link under a name of its own (no ",U=": the Trash folder gives
 * its UIDs) with the message's flags. */
static int
attempt_link(struct md_store *s, struct md_entry *e,
    const struct md_action *a, struct buf *err)
{
	char *path = md_subpath(s->dir, e->subdir, e->name);
	char letters[MSG_FLAG_COUNT + 1], *base = md_unique_base(s);
	struct buf to = BUF_INIT;
	int rc, saved;

	msg_flags_to_letters(e->flags, letters);
	buf_addf(&to, "%s/%s:2,%s", a->to, base, letters);
	rc = link(path, buf_cstr(&to));
	saved = errno;
	if (rc != 0 && saved != ENOENT)
		md_syserr(err, s->mbox, buf_cstr(&to), "link to Trash");
	buf_free(&to);
	free(base);
	free(path);
	if (rc == 0)
		return 1;
	return saved == ENOENT ? 0 : -1;
}

/* One message: act, following it while another reader renames it. */
static int
act_on(struct md_store *s, uint32_t uid, const struct md_action *a,
    struct buf *err)
{
	struct md_entry *e = md_find(s, uid);
	int gone, rc;

	for (int tries = 0; e != NULL && tries < 3; tries++) {
		if ((rc = a->attempt(s, e, a, err)) != 0)
			return rc > 0 ? STORE_OK : STORE_FAILED;
		if (follow(s, e, &gone, err) != 0)
			return STORE_FAILED;
		if (gone)
			return STORE_GONE;
	}
	if (e == NULL)
		return STORE_GONE;
	md_err(err, s->mbox, e->name, "keeps being renamed; giving up");
	return STORE_FAILED;
}

static int
act_on_all(struct store *st, const uint32_t *uids, size_t n, int *results,
    const struct md_action *a, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	int rc = 0;

	if (s->mbox == NULL) {
		md_err(err, NULL, NULL, "%s: no mailbox is open", a->what);
		return -1;
	}
	if (md_refuse_write(s, s->mbox, a->what, err) != 0 ||
	    md_resolve(s, err) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		results[i] = act_on(s, uids[i], a, err);
		if (results[i] == STORE_FAILED)
			rc = -1;
	}
	return rc;
}

/*
 * Flag renames are not flushed one by one: a crash that loses one, after
 * the state recorded the new flags, reads at the next run as the user
 * taking the change back, which that run carries to both sides. For
 * every flag but one that costs the change, not a message. Taking
 * \Deleted away is the exception: lost, the T would come back as a fresh
 * deletion of the message, which an Expunge would then carry out on both
 * sides. So a batch that takes \Deleted away is on disk before it
 * returns, and with it before the state can record it.
 */
int
md_set_flags(struct store *st, const uint32_t *uids, size_t n, unsigned add,
    unsigned del, int *results, struct buf *err)
{
	struct md_action a = { "set flags", attempt_flags,
	    add & MSG_ALL_FLAGS, del & MSG_ALL_FLAGS, NULL };
	struct md_store *s = (struct md_store *)st;
	int touched[2] = { 1, 1 };	/* the files may have come from new/ */
	struct buf ignored = BUF_INIT;
	int rc = act_on_all(st, uids, n, results, &a, err);

	if (!(a.del & MSG_DELETED) || s->mbox == NULL)
		return rc;
	/* Also after a failure: what was renamed may be recorded; the
	 * first failure is the one reported. */
	if (md_fsync_subdirs(s, touched, rc == 0 ? err : &ignored) != 0)
		rc = -1;
	buf_free(&ignored);
	return rc;
}

/* The Trash mailbox's directory, made if missing (as mbsync does). */
int
md_trash_dir(struct md_store *s, const char *trash, char **dir, struct buf *err)
{
	char *root, *rel;
	int rc = 0;

	if (md_mbox_dir(s, trash, dir, &root, &rel, err) != 0)
		return -1;
	if (!md_is_maildir(*dir))
		rc = md_make_maildir_under(root, rel, trash,
		    s->subfolders == MAILDIR_SUB_MAILDIRPP && rel != NULL, err);
	free(root);
	free(rel);
	if (rc != 0) {
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

int
md_trash(struct store *st, const char *trash, const uint32_t *uids,
    size_t n, int *results, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	struct md_action a = { "trash", attempt_link, 0, 0, NULL };
	char *dir, *cur;
	int rc;

	if (s->mbox == NULL || md_refuse_write(s, trash, "trash", err) != 0 ||
	    md_trash_dir(s, trash, &dir, err) != 0) {
		if (s->mbox == NULL)
			md_err(err, NULL, NULL, "trash: no mailbox is open");
		return -1;
	}
	cur = md_join(dir, "cur");
	a.to = cur;
	rc = act_on_all(st, uids, n, results, &a, err);
	if (rc == 0 && s->fsync)
		rc = md_fsync_dir(cur, trash, err);
	free(cur);
	free(dir);
	return rc;
}

int
md_expunge(struct store *st, const uint32_t *uids, size_t n, int *results,
    struct buf *err)
{
	struct md_action a = { "expunge", attempt_unlink, 0, 0, NULL };

	return act_on_all(st, uids, n, results, &a, err);
}
