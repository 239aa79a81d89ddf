/*
 * maildir_scan: read cur/ and new/ into the store's entry table, giving
 * UIDs to files that have none (or a duplicate, or one above the last UID
 * handed out). The new last UID is written durably to .uidvalidity before
 * any file is renamed, so a crash can waste UIDs but never hand one out
 * twice; the renames are durable before the scan returns. Files that
 * vanish while we look are skipped: another mail reader may be working
 * in the same folder. A re-sync of a large folder should
 * cost its readdir() and little more, so files are stat()ed only where
 * the name does not tell enough (see inspect()).
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/u32.h"

struct entry_vec {
	struct md_entry *v;
	size_t n;
	size_t cap;
	struct strpool names;	/* the names read_subdir() found */
};

void
md_entry_name_drop(struct md_entry *e)
{
	if (!e->pooled)
		free(e->name);
	e->name = NULL;
	e->pooled = 0;
}

void
md_entry_name_set(struct md_entry *e, char *name)
{
	md_entry_name_drop(e);
	e->name = name;
}

static void
vec_add(struct entry_vec *vec, const struct md_entry *e)
{
	vec->v = xgrow(vec->v, &vec->cap, vec->n + 1, 64, sizeof(*vec->v));
	vec->v[vec->n++] = *e;
}

static void
vec_free(struct entry_vec *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		md_entry_name_drop(&vec->v[i]);
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
	strpool_free(&vec->names);
}

/* Size and mtime of e from st; 0 = use it, -1 = not a regular file. */
static int
take_stat(struct md_store *s, const char *subpath, struct md_entry *e,
    const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		log_debug(s->base.lg, "maildir %s: %s/%s is not a regular "
		    "file; ignored", s->mbox, subpath, e->name);
		return -1;
	}
	if (md_name_size(e->name, s->info_delim, &e->size) != 0)
		e->size = (uint64_t)st->st_size;
	e->mtime = (int64_t)st->st_mtime;
	e->stated = 1;
	return 0;
}

/* stat() e, found in dirfd; 1 = use it, 0 = skip it, -1 = error. */
static int
stat_entry(struct md_store *s, int dirfd, const char *rel,
    const char *subpath, struct md_entry *e, struct buf *err)
{
	struct stat st;

	if (fstatat(dirfd, rel, &st, 0) != 0) {
		if (errno == ENOENT) {
			log_debug(s->base.lg, "maildir %s: %s/%s vanished "
			    "during the scan", s->mbox, subpath, e->name);
			return 0;
		}
		char *path = md_join(subpath, e->name);

		md_syserr(err, s->mbox, path, "stat");
		free(path);
		return -1;
	}
	return take_stat(s, subpath, e, &st) == 0;
}

/*
 * Fill e from a directory entry; 1 = use it, 0 = skip it, -1 = error.
 * A file is stat()ed only when something needs what only stat() tells:
 * the directory does not say it is a regular file, it needs a UID (which
 * go out in arrival order), or the hint wants its size and date.
 */
static int
inspect(struct md_store *s, DIR *d, const char *subpath,
    struct dirent *de, struct md_entry *e,
    const struct scan_hint *hint, struct buf *err)
{
	struct md_name_fields f;

	md_name_parse(de->d_name, s->info_delim, &f);
	e->name = de->d_name;
	e->uid = s->uid_fresh ? 0 : f.uid;
	e->flags = f.flags;
	if (de->d_type != DT_REG || e->uid == 0 || e->uid > s->lastuid ||
	    scan_hint_wants(hint, e->uid))
		return stat_entry(s, dirfd(d), de->d_name, subpath, e, err);
	e->size = f.has_size ? f.size : 0;
	return 1;
}

static int
read_subdir(struct md_store *s, int subdir, const struct scan_hint *hint,
    struct entry_vec *vec, struct buf *err)
{
	char *subpath = md_subpath(s->dir, subdir, NULL);
	DIR *d = opendir(subpath);
	struct dirent *de;
	int rc = 0, use;

	if (d == NULL) {
		md_syserr(err, s->mbox, subpath, "opendir");
		free(subpath);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct md_entry e = { .subdir = subdir };

		/* Dot files are the store's own (.uidvalidity) or junk. */
		if (de->d_name[0] == '.')
			continue;
		use = inspect(s, d, subpath, de, &e, hint, err);
		if (use < 0)
			rc = -1;
		else if (use > 0) {
			/* One copy a file in a few chunks: a malloc() and
			 * a free() each cost more than reading the name. */
			e.name = strpool_dup(&vec->names, de->d_name,
			    strlen(de->d_name));
			e.pooled = 1;
			vec_add(vec, &e);
		}
	}
	closedir(d);
	free(subpath);
	return rc;
}

/* Valid UIDs first by uid; among equals the older file keeps it. */
static int
cmp_claim(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;
	uint32_t ux = x->uid ? x->uid : UINT32_MAX;
	uint32_t uy = y->uid ? y->uid : UINT32_MAX;

	if (ux != uy)
		return ux < uy ? -1 : 1;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
cmp_uid(const void *a, const void *b)
{
	const struct md_entry *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

/*
 * vec sorted by UID: a radix sort of (UID, position) keys by their UID
 * bytes (u64_sort_bytes()). A re-sync lists every file of a folder it
 * opens, and qsort() of the entries took a sixth of that listing's time.
 */
static void
sort_by_uid(struct entry_vec *vec)
{
	size_t n = vec->n;
	uint64_t *key = xcalloc(n, sizeof(*key));
	struct md_entry *sorted = xcalloc(vec->cap, sizeof(*sorted));

	for (size_t i = 0; i < n; i++)
		key[i] = (uint64_t)vec->v[i].uid << 32 | i;
	u64_sort_bytes(key, n, 4, 8);
	for (size_t i = 0; i < n; i++)
		sorted[i] = vec->v[key[i] & 0xffffffffu];
	free(vec->v);
	vec->v = sorted;
	free(key);
}

/* A file's mtime decides which of two files with the same UID keeps it,
 * and the size and date of both are reported whatever the hint (store.h,
 * clashes()); the scan did not stat() them. A file that vanished keeps
 * mtime 0. */
static int
stat_duplicates(struct md_store *s, struct entry_vec *vec, struct buf *err)
{
	if (vec->n < 2)
		return 0;
	sort_by_uid(vec);
	for (size_t i = 1; i < vec->n; i++) {
		struct md_entry *pair[2] = { &vec->v[i - 1], &vec->v[i] };

		if (pair[1]->uid == 0 || pair[0]->uid != pair[1]->uid)
			continue;
		for (int k = 0; k < 2; k++) {
			struct md_entry *e = pair[k];
			char *rel, *subpath;
			int rc;

			if (e->stated)
				continue;
			rel = md_join(md_subdir_name(e->subdir), e->name);
			subpath = md_subpath(s->dir, e->subdir, NULL);
			rc = stat_entry(s, s->dirfd, rel, subpath, e, err);
			free(rel);
			free(subpath);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * The common case, decided without sorting again: every file has its own
 * UID, one the store handed out (vec is sorted by UID: stat_duplicates).
 */
static int
all_uids_good(const struct md_store *s, const struct entry_vec *vec)
{
	for (size_t i = 0; i < vec->n; i++) {
		uint32_t uid = vec->v[i].uid;

		if (uid == 0 || uid > s->lastuid ||
		    (i > 0 && uid == vec->v[i - 1].uid))
			return 0;
	}
	return 1;
}

/* Clear UIDs that cannot stand; returns how many files need one. */
static size_t
clear_bad_uids(struct md_store *s, struct entry_vec *vec)
{
	size_t need = 0;
	uint32_t prev = 0;

	if (vec->n == 0)
		return 0;
	qsort(vec->v, vec->n, sizeof(*vec->v), cmp_claim);
	for (size_t i = 0; i < vec->n; i++) {
		struct md_entry *e = &vec->v[i];

		if (e->uid != 0 && e->uid == prev) {
			e->claimed = e->uid;
			e->uid = 0;
		} else if (e->uid > s->lastuid) {
			log_warn(s->base.lg, "maildir %s: %s/%s has UID %u, "
			    "above the last one handed out (%u); giving it a "
			    "new one", s->mbox, md_subdir_name(e->subdir),
			    e->name, e->uid, s->lastuid);
			e->uid = 0;
		} else if (e->uid != 0)
			prev = e->uid;
		need += e->uid == 0;
	}
	/* The files that need a UID get them in arrival order. */
	qsort(vec->v, vec->n, sizeof(*vec->v), cmp_claim);
	return need;
}

/*
 * A file that repeats another's UID keeps its name until the caller
 * settles the clash (maildir_clash.c); it is known by the new UID meanwhile.
 */
static void
defer_clash(struct md_store *s, struct md_entry *e, uint32_t uid)
{
	log_warn(s->base.lg, "maildir %s: %s/%s repeats UID %u; one of the "
	    "two files gets the new UID %u", s->mbox,
	    md_subdir_name(e->subdir), e->name, e->claimed, uid);
	e->uid = uid;
	md_clash_add(s, e->claimed, uid);
}

/* Rename one file to carry its new UID, noting its directory in
 * touched; ENOENT drops it quietly. */
static int
rename_with_uid(struct md_store *s, struct md_entry *e, uint32_t uid,
    int *touched, struct buf *err)
{
	char *newname;
	int rc;

	/* Read-only: the UID lives in memory, and the file keeps the name
	 * it is found by (a verify or a dry run reads it). */
	if (s->read_only) {
		e->uid = uid;
		return 0;
	}
	newname = md_name_set_uid(e->name, s->info_delim, uid);
	rc = md_rename_entry(s, e, e->subdir, newname, err);
	if (rc == 1) {
		e->uid = uid;
		touched[e->subdir] = 1;
	} else if (rc == 0)
		log_debug(s->base.lg, "maildir %s: %s vanished before it got "
		    "a UID", s->mbox, e->name);
	return rc < 0 ? -1 : 0;
}

/*
 * The new last UID is on disk before the first rename, and the renames
 * before the scan returns: a sync state records a UID only after that,
 * so a crash cannot leave the state pairing a UID whose file lost it
 * again (the next scan would give the file another UID, and the pair's
 * message would look deleted while a copy of it looked new).
 */
static int
assign_uids(struct md_store *s, struct entry_vec *vec, size_t need,
    struct buf *err)
{
	size_t first = vec->n - need;
	uint32_t base = s->lastuid;
	int touched[2] = { 0, 0 };

	if (need == 0)
		return 0;
	if (need > UINT32_MAX - base) {
		md_err(err, s->mbox, NULL, "UIDs exhausted");
		return -1;
	}
	s->lastuid = base + (uint32_t)need;
	if (md_uid_save(s, 1, err) != 0)
		return -1;
	for (size_t i = 0; i < need; i++) {
		struct md_entry *e = &vec->v[first + i];
		uint32_t uid = base + 1 + (uint32_t)i;

		if (e->claimed != 0)
			defer_clash(s, e, uid);
		else if (rename_with_uid(s, e, uid, touched, err) != 0)
			return -1;
	}
	return md_fsync_subdirs(s, touched, err);
}

/* Keep only entries that ended up with a UID, sorted by it. */
static void
install(struct md_store *s, struct entry_vec *vec, int sorted)
{
	size_t kept = 0;

	for (size_t i = 0; i < vec->n; i++) {
		if (vec->v[i].uid == 0)
			md_entry_name_drop(&vec->v[i]);
		else
			vec->v[kept++] = vec->v[i];
	}
	vec->n = kept;
	if (kept > 1 && !sorted)
		sort_by_uid(vec);
	md_entries_free(s);
	s->ents = vec->v;
	s->nents = kept;
	s->capents = vec->cap;
	s->names = vec->names;
	vec->v = NULL;
	vec->n = vec->cap = 0;
	vec->names = (struct strpool){ 0 };
}

int
md_scan(struct md_store *s, const struct scan_hint *hint, struct buf *err)
{
	struct entry_vec vec = { 0 };
	size_t need;

	md_clashes_free(s);
	if (read_subdir(s, MD_SUBDIR_CUR, hint, &vec, err) != 0 ||
	    read_subdir(s, MD_SUBDIR_NEW, hint, &vec, err) != 0 ||
	    stat_duplicates(s, &vec, err) != 0)
		goto fail;
	if (all_uids_good(s, &vec)) {
		s->uid_fresh = 0;
		install(s, &vec, 1);
		return 0;
	}
	need = clear_bad_uids(s, &vec);
	if (assign_uids(s, &vec, need, err) != 0)
		goto fail;
	s->uid_fresh = 0;
	install(s, &vec, 0);
	return 0;
fail:
	vec_free(&vec);
	return -1;
}

struct md_entry *
md_find(struct md_store *s, uint32_t uid)
{
	struct md_entry key = { .uid = uid };

	struct md_entry *e;

	if (s->nents == 0)
		return NULL;
	e = bsearch(&key, s->ents, s->nents, sizeof(*s->ents), cmp_uid);
	return e != NULL && e->name != NULL ? e : NULL;
}

void
md_entries_free(struct md_store *s)
{
	for (size_t i = 0; i < s->nents; i++)
		md_entry_name_drop(&s->ents[i]);
	strpool_free(&s->names);
	free(s->ents);
	s->ents = NULL;
	s->nents = s->capents = 0;
	s->unlisted = 0;
}
