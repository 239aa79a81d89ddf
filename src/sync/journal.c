/* journal: appending state records during a run and folding them into the
 * state file at its end; see journal.h. */
#include "sync/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "sync/state_file.h"
#include "sync/state_rec.h"

struct journal {
	char *path;
	int fd;
	struct sync_state *st;
	const struct logger *lg;
	struct buf pending;	/* sealed lines not yet written */
};

/*
 * A fresh journal: header and base, durable before any record. The
 * directory is synced while the journal is still empty: that makes the
 * journal's name durable and, with it, the state file that the base
 * names, which a run without copies renamed into place without a sync of
 * its own (state_write_rebuildable()). A crash can then leave an empty
 * journal (nothing to replay) but never a base that the state file on
 * disk has not reached.
 */
static int
create_journal(struct journal *j, struct buf *err)
{
	size_t start;

	j->fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
	    O_CLOEXEC, 0600);
	if (j->fd < 0) {
		buf_setf(err, "%s: cannot create: %s", j->path,
		    strerror(errno));
		return -1;
	}
	if (state_file_sync_dir(j->path, err) != 0)
		return -1;
	buf_adds(&j->pending, "twinbox-journal " REC_VERSION "\n");
	start = j->pending.len;
	buf_addf(&j->pending, "base %llu",
	    (unsigned long long)j->st->generation);
	rec_seal(&j->pending, start);
	return journal_flush(j, err);
}

/* Continue a journal after its last good line, dropping a torn tail. */
static int
continue_journal(struct journal *j, const struct journal_info *info,
    struct buf *err)
{
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (j->fd < 0) {
		buf_setf(err, "%s: cannot open: %s", j->path,
		    strerror(errno));
		return -1;
	}
	if (!info->torn)
		return 0;
	if (ftruncate(j->fd, (off_t)info->good_len) != 0 ||
	    tw_fdatasync(j->fd) != 0) {
		buf_setf(err, "%s: cannot cut off the torn tail: %s",
		    j->path, strerror(errno));
		return -1;
	}
	log_debug(j->lg, "%s: torn tail cut off at byte %zu",
	    j->path, info->good_len);
	return 0;
}

static void
release(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	buf_free(&j->pending);
	free(j->path);
	free(j);
}

int
journal_open(const char *path, struct sync_state *st,
    const struct journal_info *info, const struct logger *lg,
    struct journal **out, struct buf *err)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	int rc;

	j->path = xstrdup(path);
	j->fd = -1;
	j->st = st;
	j->lg = lg;
	if (info->found && info->usable && !info->stale)
		rc = continue_journal(j, info, err);
	else
		rc = create_journal(j, err);
	if (rc != 0) {
		release(j);
		*out = NULL;
		return -1;
	}
	*out = j;
	return 0;
}

int
journal_append(struct journal *j, const struct journal_rec *rec,
    struct buf *err)
{
	if (state_apply(j->st, rec, err) != 0)
		return -1;
	rec_add_sealed(rec, &j->pending);
	return 0;
}

int
journal_flush(struct journal *j, struct buf *err)
{
	if (j->pending.len == 0)
		return 0;
	if (state_file_write_all(j->fd, j->pending.data, j->pending.len, j->path,
	    err) != 0)
		return -1;
	buf_reset(&j->pending);
	if (tw_fdatasync(j->fd) != 0) {
		buf_setf(err, "%s: cannot sync: %s", j->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
journal_close(struct journal *j, struct buf *err)
{
	int rc = journal_flush(j, err);

	if (close(j->fd) != 0 && rc == 0) {
		buf_setf(err, "%s: cannot close: %s", j->path,
		    strerror(errno));
		rc = -1;
	}
	j->fd = -1;
	release(j);
	return rc;
}

/*
 * The new state file must be in place before the journal goes: removing
 * the journal first would let a crash lose this run's records while the
 * store changes they describe remain (duplicates on the next run). The
 * other order leaves at worst a journal that is already folded, which its
 * base record identifies.
 */
int
journal_fold(struct journal *j, const char *state_path, const char *keep_as,
    struct buf *err)
{
	struct sync_state *st = j->st;
	char *journal_path = xstrdup(j->path);
	int rc = -1;

	if (journal_close(j, err) != 0)
		goto out;
	st->generation++;
	if (state_write(state_path, st, err) != 0) {
		st->generation--;
		goto out;
	}
	if (keep_as != NULL && rename(journal_path, keep_as) != 0) {
		buf_setf(err, "%s: cannot rename to %s: %s", journal_path,
		    keep_as, strerror(errno));
		goto out;
	}
	if (keep_as == NULL && unlink(journal_path) != 0 && errno != ENOENT) {
		buf_setf(err, "%s: cannot remove: %s", journal_path,
		    strerror(errno));
		goto out;
	}
	rc = state_file_sync_dir(journal_path, err);
out:
	free(journal_path);
	return rc;
}
