/* store_names: Flatten and MapInbox in front of a store; see store_names.h. */
#include "store_names.h"

#include <stdlib.h>
#include <string.h>

struct names_store {
	struct store base;
	struct store_ops ops;	/* this store's, built from the inner's */
	struct store *in;
	char *name;		/* the configured store's, for messages */
	char *flatten;		/* NULL: not set */
	char *map_inbox;	/* NULL: not set */
};

static int names_list(struct store *, struct strlist *, struct buf *);

static struct names_store *
ns_of(struct store *s)
{
	if (s == NULL || s->ops->list != names_list)
		return NULL;
	return (struct names_store *)s;
}

static struct store *
inner(struct store *s)
{
	return ((struct names_store *)s)->in;
}

struct store *
store_names_inner(struct store *s)
{
	struct names_store *ns = ns_of(s);

	return ns != NULL ? ns->in : s;
}

/* name with every occurrence of from replaced by to. */
static char *
replace_all(const char *name, const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	size_t flen = strlen(from);

	while (*name != '\0') {
		if (strncmp(name, from, flen) == 0) {
			buf_adds(&b, to);
			name += flen;
		} else {
			buf_addc(&b, *name++);
		}
	}
	buf_adds(&b, "");
	return buf_detach(&b);
}

static int
is_under(const char *name, const char *top)
{
	size_t n = strlen(top);

	return strncmp(name, top, n) == 0 && name[n] == '/';
}

int
store_names_to_inner(struct store *s, const char *name, char **out,
    struct buf *err)
{
	struct names_store *ns = ns_of(s);
	char *other;

	if (ns == NULL || strcmp(name, "INBOX") == 0) {
		*out = xstrdup(name);
		return 0;
	}
	if (ns->map_inbox != NULL && strcmp(name, ns->map_inbox) == 0) {
		*out = xstrdup("INBOX");
		return 0;
	}
	if (ns->map_inbox != NULL && is_under(name, ns->map_inbox)) {
		buf_setf(err, "store '%s': mailbox '%s' cannot be stored: "
		    "'%s' is the INBOX (MapInbox), which has no subfolders",
		    ns->name, name, ns->map_inbox);
		return -1;
	}
	if (ns->flatten == NULL) {
		*out = xstrdup(name);
		return 0;
	}
	if (strstr(name, ns->flatten) != NULL) {
		other = replace_all(name, ns->flatten, "/");
		buf_setf(err, "store '%s': mailbox '%s' cannot be stored with "
		    "Flatten '%s': its name holds the delimiter, so its "
		    "folder would be the one of mailbox '%s'; rename it",
		    ns->name, name, ns->flatten, other);
		free(other);
		return -1;
	}
	*out = replace_all(name, "/", ns->flatten);
	return 0;
}

/* The canonical name of an inner name, or NULL (after a warning) when
 * it has none. */
static char *
from_inner(struct names_store *ns, const char *iname)
{
	char *name;

	if (strcmp(iname, "INBOX") == 0)
		return xstrdup(iname);
	if (ns->flatten != NULL && strchr(iname, '/') != NULL) {
		log_warn(ns->base.lg, "store '%s': ignoring mailbox '%s': "
		    "with Flatten '%s' only folders without hierarchy are "
		    "read", ns->name, iname, ns->flatten);
		return NULL;
	}
	name = ns->flatten != NULL ? replace_all(iname, ns->flatten, "/") :
	    xstrdup(iname);
	if (ns->flatten != NULL && (name[0] == '/' ||
	    name[strlen(name) - 1] == '/' || strstr(name, "//") != NULL)) {
		log_warn(ns->base.lg, "store '%s': ignoring mailbox '%s': "
		    "with Flatten '%s' it would have an empty name component",
		    ns->name, iname, ns->flatten);
		free(name);
		return NULL;
	}
	if (ns->map_inbox != NULL && (strcmp(name, ns->map_inbox) == 0 ||
	    is_under(name, ns->map_inbox))) {
		log_warn(ns->base.lg, "store '%s': ignoring mailbox '%s': "
		    "MapInbox gives the name '%s' to INBOX", ns->name, iname,
		    ns->map_inbox);
		free(name);
		return NULL;
	}
	return name;
}

/* -1 with err naming both when two inner names give one name. */
static int
add_listed(const struct names_store *ns, struct strlist *names,
    struct strlist *from, const char *name, const char *iname,
    struct buf *err)
{
	for (size_t i = 0; i < names->n; i++) {
		if (strcmp(names->v[i], name) != 0)
			continue;
		buf_setf(err, "store '%s': folders '%s' and '%s' would both "
		    "be mailbox '%s' under Flatten '%s'; rename one of them",
		    ns->name, from->v[i], iname, name, ns->flatten);
		return -1;
	}
	strlist_add(names, name);
	strlist_add(from, iname);
	return 0;
}

/* An inner hierarchical folder is not read under Flatten; -1 with err
 * naming both when the flat folder it would be taken for exists too. */
static int
unflattened(const struct names_store *ns, const struct strlist *in,
    const char *iname, struct buf *err)
{
	char *flat;
	int clash;

	if (ns->flatten == NULL || strchr(iname, '/') == NULL)
		return 0;
	flat = replace_all(iname, "/", ns->flatten);
	clash = strlist_contains(in, flat);
	if (clash)
		buf_setf(err, "store '%s': folders '%s' and '%s' would both "
		    "be mailbox '%s' under Flatten '%s'; rename one of them",
		    ns->name, flat, iname, iname, ns->flatten);
	free(flat);
	return clash ? -1 : 0;
}

static int
names_list(struct store *s, struct strlist *names, struct buf *err)
{
	struct names_store *ns = (struct names_store *)s;
	struct strlist in = { 0 }, from = { 0 };
	int rc = ns->in->ops->list(ns->in, &in, err);

	for (size_t i = 0; rc == 0 && i < in.n; i++) {
		char *name;

		if ((rc = unflattened(ns, &in, in.v[i], err)) != 0)
			break;
		name = from_inner(ns, in.v[i]);

		if (name != NULL)
			rc = add_listed(ns, names, &from, name, in.v[i],
			    err);
		free(name);
	}
	if (rc == 0 && ns->map_inbox != NULL &&
	    strlist_contains(&in, "INBOX"))
		strlist_add(names, ns->map_inbox);
	strlist_sort(names);
	strlist_free(&in);
	strlist_free(&from);
	return rc;
}

typedef int (*name_op)(struct store *, const char *, struct buf *);

static int
by_inner_name(struct store *s, const char *name, name_op op,
    struct buf *err)
{
	char *iname;
	int rc;

	if (store_names_to_inner(s, name, &iname, err) != 0)
		return -1;
	rc = op(inner(s), iname, err);
	free(iname);
	return rc;
}

static int
names_create(struct store *s, const char *name, struct buf *err)
{
	return by_inner_name(s, name, inner(s)->ops->create, err);
}

static int
names_remove(struct store *s, const char *name, struct buf *err)
{
	return by_inner_name(s, name, inner(s)->ops->remove, err);
}

typedef int (*status_op)(struct store *, const char *, struct mbox_status *,
    struct buf *);

static int
status_by_inner_name(struct store *s, const char *name, status_op op,
    struct mbox_status *st, struct buf *err)
{
	char *iname;
	int rc;

	if (store_names_to_inner(s, name, &iname, err) != 0)
		return -1;
	rc = op(inner(s), iname, st, err);
	free(iname);
	return rc;
}

static int
names_open_begin(struct store *s, const char *name, struct buf *err)
{
	return by_inner_name(s, name, inner(s)->ops->open_begin, err);
}

static int
names_open(struct store *s, const char *name, struct mbox_status *st,
    struct buf *err)
{
	return status_by_inner_name(s, name, inner(s)->ops->open, st, err);
}

static int
names_peek(struct store *s, const char *name, struct mbox_status *st,
    struct buf *err)
{
	return status_by_inner_name(s, name, inner(s)->ops->peek, st, err);
}

/* Everything else goes to the inner store as it is. */
static int
names_scan(struct store *s, const struct scan_hint *hint,
    struct msg_list *out, struct buf *err)
{
	return inner(s)->ops->scan(inner(s), hint, out, err);
}

static int
names_scan_changes(struct store *s, const struct msg_list *known,
    uint64_t since, struct msg_list *out, struct buf *err)
{
	return inner(s)->ops->scan_changes(inner(s), known, since, out, err);
}

static void
names_mark(struct store *s, const struct store_mark *m)
{
	inner(s)->ops->mark(inner(s), m);
}

static void
names_recorded(struct store *s, uint32_t uidvalidity)
{
	inner(s)->ops->recorded(inner(s), uidvalidity);
}

static size_t
names_clashes(struct store *s, const struct uid_clash **v)
{
	return inner(s)->ops->clashes(inner(s), v);
}

static int
names_settle_clash(struct store *s, const struct uid_clash *c, int swap,
    uint32_t *moved, struct buf *err)
{
	return inner(s)->ops->settle_clash(inner(s), c, swap, moved, err);
}

static int
names_fetch(struct store *s, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return inner(s)->ops->fetch(inner(s), uids, n, sink, err);
}

static int
names_fetch_headers(struct store *s, const uint32_t *uids, size_t n,
    const struct msg_sink *sink, struct buf *err)
{
	return inner(s)->ops->fetch_headers(inner(s), uids, n, sink, err);
}

static int
names_append_begin(struct store *s, const struct msg_meta *meta,
    struct store_append **out, uint32_t *planned_uid, struct buf *err)
{
	return inner(s)->ops->append_begin(inner(s), meta, out, planned_uid,
	    err);
}

static int
names_commit(struct store *s, struct append_result **res, size_t *nres,
    struct buf *err)
{
	return inner(s)->ops->commit(inner(s), res, nres, err);
}

static void
names_msg_name(struct store *s, uint32_t uid, struct buf *out)
{
	inner(s)->ops->msg_name(inner(s), uid, out);
}

static int
names_set_flags(struct store *s, const uint32_t *uids, size_t n,
    unsigned add, unsigned del, int *results, struct buf *err)
{
	return inner(s)->ops->set_flags(inner(s), uids, n, add, del, results,
	    err);
}

/* The Trash is a mailbox of this store, named as the store names it. */
static int
names_trash(struct store *s, const char *trash, const uint32_t *uids,
    size_t n, int *results, struct buf *err)
{
	char *iname;
	int rc;

	if (store_names_to_inner(s, trash, &iname, err) != 0)
		return -1;
	rc = inner(s)->ops->trash(inner(s), iname, uids, n, results, err);
	free(iname);
	return rc;
}

static int
names_expunge(struct store *s, const uint32_t *uids, size_t n, int *results,
    struct buf *err)
{
	return inner(s)->ops->expunge(inner(s), uids, n, results, err);
}

static int
names_update(struct store *s, const struct store_update *u, struct buf *err)
{
	return inner(s)->ops->update(inner(s), u, err);
}

/* A mailbox's directory is its folder's, as the inner store names it. */
static int
names_local_dir(struct store *s, const char *name, char **dir,
    struct buf *err)
{
	char *iname;
	int rc;

	if (store_names_to_inner(s, name, &iname, err) != 0)
		return -1;
	rc = inner(s)->ops->local_dir(inner(s), iname, dir, err);
	free(iname);
	return rc;
}

static void
names_copy_arrival_date(struct store *s, int on)
{
	inner(s)->ops->copy_arrival_date(inner(s), on);
}

static void
names_prefetch(struct store *s)
{
	inner(s)->ops->prefetch(inner(s));
}

static enum store_fail
names_failure(const struct store *s)
{
	const struct store *in = ((const struct names_store *)s)->in;

	return in->ops->failure(in);
}

static void
names_free(struct store *s)
{
	struct names_store *ns = (struct names_store *)s;

	ns->in->ops->free(ns->in);
	free(ns->name);
	free(ns->flatten);
	free(ns->map_inbox);
	free(ns);
}

/* Optional operations stay absent where the inner store has none. */
#define OPTIONAL(in, op, fn) ((in)->op != NULL ? (fn) : NULL)

static void
build_ops(struct store_ops *o, const struct store_ops *in)
{
	*o = (struct store_ops){
		.kind = in->kind,
		.list = names_list,
		.create = names_create,
		.remove = names_remove,
		.open_begin = OPTIONAL(in, open_begin, names_open_begin),
		.open = names_open,
		.scan = names_scan,
		.scan_changes = OPTIONAL(in, scan_changes, names_scan_changes),
		.prefetch = OPTIONAL(in, prefetch, names_prefetch),
		.peek = OPTIONAL(in, peek, names_peek),
		.mark = OPTIONAL(in, mark, names_mark),
		.recorded = OPTIONAL(in, recorded, names_recorded),
		.clashes = OPTIONAL(in, clashes, names_clashes),
		.settle_clash = OPTIONAL(in, settle_clash, names_settle_clash),
		.fetch = names_fetch,
		.fetch_headers = OPTIONAL(in, fetch_headers,
		    names_fetch_headers),
		.append_begin = names_append_begin,
		.append_write = in->append_write,
		.append_finish = in->append_finish,
		.append_cancel = in->append_cancel,
		.commit = names_commit,
		.msg_name = OPTIONAL(in, msg_name, names_msg_name),
		.set_flags = names_set_flags,
		.trash = OPTIONAL(in, trash, names_trash),
		.expunge = names_expunge,
		.update = OPTIONAL(in, update, names_update),
		.local_dir = OPTIONAL(in, local_dir, names_local_dir),
		.copy_arrival_date = OPTIONAL(in, copy_arrival_date,
		    names_copy_arrival_date),
		.free = names_free,
		.failure = OPTIONAL(in, failure, names_failure),
	};
}

static char *
copy_if_set(const char *v)
{
	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

struct store *
store_names_wrap(struct store *in, const char *name, const char *flatten,
    const char *map_inbox)
{
	struct names_store *ns;

	if ((flatten == NULL || *flatten == '\0') &&
	    (map_inbox == NULL || *map_inbox == '\0'))
		return in;
	ns = xcalloc(1, sizeof(*ns));
	build_ops(&ns->ops, in->ops);
	ns->base.ops = &ns->ops;
	ns->base.lg = in->lg;
	ns->in = in;
	ns->name = xstrdup(name);
	ns->flatten = copy_if_set(flatten);
	ns->map_inbox = copy_if_set(map_inbox);
	return &ns->base;
}
