/*
 * maildir_clash: two files of a folder that claim the same ",U=" (a mail
 * reader or `mv` moved one in from another folder, keeping its name).
 *
 * The scan cannot tell which of the two is the message the sync state
 * paired with that UID: a file's age says nothing about it (a moved
 * message is often the older one). So the scan reports one of them
 * under the UID and the other under a new UID, provisionally, and
 * renames neither: both names still carry the UID, and a scan after a
 * crash finds the clash again. The caller compares contents and settles
 * each clash with one rename, of the file that is to carry the new UID;
 * until that rename the disk says "clash", after it the choice is made.
 * When the contents cannot tell and the UID is recorded, neither file
 * keeps it: two renames, the scan's choice first to a UID of its own,
 * so that a crash between them leaves the other file, the one the scan
 * took for new, holding the UID alone.
 */
#include "maildir/maildir_int.h"

#include <stdlib.h>
#include <string.h>

void
md_clash_add(struct md_store *s, uint32_t uid, uint32_t other)
{
	s->clashes = xreallocarray(s->clashes, s->nclashes + 1,
	    sizeof(*s->clashes));
	s->clashes[s->nclashes].uid = uid;
	s->clashes[s->nclashes].other = other;
	s->nclashes++;
}

void
md_clashes_free(struct md_store *s)
{
	free(s->clashes);
	s->clashes = NULL;
	s->nclashes = 0;
}

size_t
md_clashes(struct store *st, const struct uid_clash **v)
{
	struct md_store *s = (struct md_store *)st;

	*v = s->clashes;
	return s->nclashes;
}

/*
 * Rename e's file to carry uid, noting its directory in touched. A file
 * that vanished meanwhile is forgotten (the caller's fetch will report
 * it gone). 0 or -1.
 */
static int
rename_to(struct md_store *s, struct md_entry *e, uint32_t uid,
    int *touched, struct buf *err)
{
	char *name = md_name_set_uid(e->name, s->info_delim, uid);
	char *from;

	if (s->read_only) {
		md_entry_name_set(e, name);
		return 0;
	}
	switch (md_rename_entry(s, e, e->subdir, name, err)) {
	case 1:
		touched[e->subdir] = 1;
		return 0;
	case 0:
		from = md_subpath(s->dir, e->subdir, e->name);
		log_debug(s->base.lg, "maildir %s: %s vanished before its "
		    "clash was settled", s->mbox, from);
		free(from);
		md_forget(s, e);
		return 0;
	default:
		return -1;
	}
}

/* Exchange the files a and b stand for; each keeps its UID. */
static void
swap_files(struct md_entry *a, struct md_entry *b)
{
	struct md_entry t = *a;
	uint32_t ua = a->uid, ub = b->uid;

	*a = *b;
	*b = t;
	a->uid = ua;
	b->uid = ub;
}

static void
drop_clash(struct md_store *s, const struct uid_clash *c)
{
	for (size_t i = 0; i < s->nclashes; i++) {
		if (s->clashes[i].uid != c->uid ||
		    s->clashes[i].other != c->other)
			continue;
		s->clashes[i] = s->clashes[--s->nclashes];
		return;
	}
}

/*
 * Give e (the scan's choice for a clashing UID) a UID above every other,
 * and move its entry to the end of the table, which stays sorted. The
 * rename is on disk before the caller's second one: a crash must not
 * keep that one and lose this, which would leave e holding the UID.
 */
static int
renumber(struct md_store *s, struct md_entry *e, uint32_t *moved,
    struct buf *err)
{
	struct md_entry t;
	size_t i = (size_t)(e - s->ents);
	int touched[2] = { 0, 0 };

	if (s->lastuid == UINT32_MAX) {
		md_err(err, s->mbox, NULL, "UIDs exhausted");
		return -1;
	}
	s->lastuid++;
	if (md_uid_save(s, 1, err) != 0 ||
	    rename_to(s, e, s->lastuid, touched, err) != 0 ||
	    md_fsync_subdirs(s, touched, err) != 0)
		return -1;
	t = *e;
	t.uid = s->lastuid;
	memmove(&s->ents[i], &s->ents[i + 1],
	    (s->nents - i - 1) * sizeof(*s->ents));
	s->ents[s->nents - 1] = t;
	*moved = t.name != NULL ? t.uid : 0;
	return 0;
}

/*
 * One rename either way: the file that keeps the UID already carries
 * it. If the scan's choice for uid vanished meanwhile, the other file
 * simply takes the new UID, as when nothing is swapped. Neither keeping
 * it (swap 2) takes two renames: the scan's choice first, so that until
 * the second the other file holds the UID alone. The last rename is on
 * disk before the settlement returns, and with it the caller's record
 * of the new UID can be.
 */
int
md_settle_clash(struct store *st, const struct uid_clash *c, int swap,
    uint32_t *moved, struct buf *err)
{
	struct md_store *s = (struct md_store *)st;
	struct md_entry *a = md_find(s, c->uid), *b = md_find(s, c->other);
	int touched[2] = { 0, 0 };
	int rc;

	*moved = 0;
	if (b == NULL || b->claimed != c->uid)
		return 0;	/* vanished meanwhile, or settled */
	b->claimed = 0;
	if (swap == 2 && a != NULL && (rc = renumber(s, a, moved, err)) != 0) {
		b->claimed = c->uid;
		return rc;
	}
	if (swap == 2)
		b = md_find(s, c->other);	/* the table moved */
	if (swap != 1 || a == NULL)
		rc = rename_to(s, b, c->other, touched, err);
	else if ((rc = rename_to(s, a, c->other, touched, err)) == 0)
		swap_files(a, b);
	if (rc != 0) {
		b->claimed = c->uid;
		return rc;
	}
	drop_clash(s, c);	/* renamed: what the disk says now */
	return md_fsync_subdirs(s, touched, err);
}
