/*
 * maildir_scan: read cur/ and new/ into the store's entry table, giving
 * UIDs to files that have none (or a duplicate, or one above the last UID
 * handed out). The new last UID is written durably to .uidvalidity before
 * any file is renamed, so a crash can waste UIDs but never hand one out
 * twice. Files that vanish while we look are skipped: another mail reader
 * may be working in the same folder.
 */
#include "maildir/maildir_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct entry_vec {
	struct md_entry *v;
	size_t n;
	size_t cap;
};

static void
vec_add(struct entry_vec *vec, const struct md_entry *e)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 64;
		vec->v = xreallocarray(vec->v, vec->cap, sizeof(*vec->v));
	}
	vec->v[vec->n++] = *e;
}

static void
vec_free(struct entry_vec *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		free(vec->v[i].name);
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

/* Fill e from a directory entry; 1 = use it, 0 = skip it, -1 = error. */
static int
inspect(struct md_store *s, DIR *d, const char *subpath, const char *name,
    struct md_entry *e, struct buf *err)
{
	struct stat st;

	if (fstatat(dirfd(d), name, &st, 0) != 0) {
		if (errno == ENOENT) {
			log_debug(s->base.lg, "maildir %s: %s/%s vanished "
			    "during the scan", s->mbox, subpath, name);
			return 0;
		}
		char *path = md_join(subpath, name);

		md_syserr(err, s->mbox, path, "stat");
		free(path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_debug(s->base.lg, "maildir %s: %s/%s is not a regular "
		    "file; ignored", s->mbox, subpath, name);
		return 0;
	}
	e->uid = s->uid_fresh ? 0 : md_name_uid(name);
	e->flags = md_name_flags(name);
	if (md_name_size(name, &e->size) != 0)
		e->size = (uint64_t)st.st_size;
	e->mtime = (int64_t)st.st_mtime;
	return 1;
}

static int
read_subdir(struct md_store *s, int subdir, struct entry_vec *vec,
    struct buf *err)
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
		use = inspect(s, d, subpath, de->d_name, &e, err);
		if (use < 0)
			rc = -1;
		else if (use > 0) {
			e.name = xstrdup(de->d_name);
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
			log_warn(s->base.lg, "maildir %s: %s/%s repeats UID "
			    "%u; giving it a new one", s->mbox,
			    md_subdir_name(e->subdir), e->name, e->uid);
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

/* Rename one file to carry its new UID; ENOENT drops it quietly. */
static int
rename_with_uid(struct md_store *s, struct md_entry *e, uint32_t uid,
    struct buf *err)
{
	char *newname = md_name_set_uid(e->name, uid);
	char *from = md_subpath(s->dir, e->subdir, e->name);
	char *to = md_subpath(s->dir, e->subdir, newname);
	int rc = 0;

	if (s->read_only || rename(from, to) == 0) {
		free(e->name);
		e->name = newname;
		e->uid = uid;
		newname = NULL;
	} else if (errno == ENOENT) {
		log_debug(s->base.lg, "maildir %s: %s vanished before it got "
		    "a UID", s->mbox, from);
	} else {
		md_err(err, s->mbox, from, "rename to %s: %s", to,
		    strerror(errno));
		rc = -1;
	}
	free(newname);
	free(from);
	free(to);
	return rc;
}

static int
assign_uids(struct md_store *s, struct entry_vec *vec, size_t need,
    struct buf *err)
{
	size_t first = vec->n - need;
	uint32_t base = s->lastuid;

	if (need == 0)
		return 0;
	if (need > UINT32_MAX - base) {
		md_err(err, s->mbox, NULL, "UIDs exhausted");
		return -1;
	}
	s->lastuid = base + (uint32_t)need;
	if (md_uid_save(s, 1, err) != 0)
		return -1;
	for (size_t i = 0; i < need; i++)
		if (rename_with_uid(s, &vec->v[first + i], base + 1 +
		    (uint32_t)i, err) != 0)
			return -1;
	return 0;
}

/* Keep only entries that ended up with a UID, sorted by it. */
static void
install(struct md_store *s, struct entry_vec *vec)
{
	size_t kept = 0;

	for (size_t i = 0; i < vec->n; i++) {
		if (vec->v[i].uid == 0)
			free(vec->v[i].name);
		else
			vec->v[kept++] = vec->v[i];
	}
	if (kept > 1)
		qsort(vec->v, kept, sizeof(*vec->v), cmp_uid);
	md_entries_free(s);
	s->ents = vec->v;
	s->nents = kept;
	s->capents = vec->cap;
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

int
md_scan(struct md_store *s, struct buf *err)
{
	struct entry_vec vec = { 0 };
	size_t need;

	if (read_subdir(s, MD_SUBDIR_CUR, &vec, err) != 0 ||
	    read_subdir(s, MD_SUBDIR_NEW, &vec, err) != 0)
		goto fail;
	need = clear_bad_uids(s, &vec);
	if (assign_uids(s, &vec, need, err) != 0)
		goto fail;
	s->uid_fresh = 0;
	install(s, &vec);
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
		free(s->ents[i].name);
	free(s->ents);
	s->ents = NULL;
	s->nents = s->capents = 0;
}
