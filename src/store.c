/* store: the small shared helpers of store.h (lists, flag names, the end
 * of a header). */
#include "store.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/u32.h"

const char msg_flag_letters[MSG_FLAG_COUNT + 1] = "DFPRST";

const char *const msg_flag_names[MSG_FLAG_COUNT] = {
	"\\Draft", "\\Flagged", "$Forwarded", "\\Answered", "\\Seen",
	"\\Deleted"
};

void
msg_flags_to_letters(unsigned flags, char out[MSG_FLAG_COUNT + 1])
{
	size_t n = 0;

	for (int i = 0; i < MSG_FLAG_COUNT; i++)
		if (flags & (1u << i))
			out[n++] = msg_flag_letters[i];
	out[n] = '\0';
}

void
msg_list_add(struct msg_list *l, const struct msg_meta *m)
{
	l->v = xgrow(l->v, &l->cap, l->n + 1, 64, sizeof(*l->v));
	l->v[l->n++] = *m;
}

static int
cmp_meta_uid(const void *a, const void *b)
{
	const struct msg_meta *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* Scans mostly arrive in UID order already: check before sorting. */
void
msg_list_sort(struct msg_list *l)
{
	size_t i = 1;

	while (i < l->n && l->v[i - 1].uid <= l->v[i].uid)
		i++;
	if (i < l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_meta_uid);
}

int
msg_list_check(const struct msg_list *l, struct buf *err)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].uid == 0) {
			buf_setf(err, "the scan lists UID 0 (entry %zu)",
			    i + 1);
			return -1;
		}
		if (i > 0 && l->v[i].uid <= l->v[i - 1].uid) {
			buf_setf(err, "the scan lists UID %u after UID %u "
			    "(UIDs must be unique and ascending)",
			    l->v[i].uid, l->v[i - 1].uid);
			return -1;
		}
	}
	return 0;
}

enum store_fail
store_failure(const struct store *s)
{
	if (s->ops->failure == NULL)
		return STORE_FAIL_MAILBOX;
	return s->ops->failure(s);
}

size_t
header_scan_add(struct header_scan *h, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !h->done; i++) {
		if (p[i] == '\n') {
			h->done = h->after_lf;
			h->after_lf = 1;
			if (h->done)
				return i + 1;
		} else if (p[i] != '\r') {
			h->after_lf = 0;
		}
	}
	return h->done ? 0 : n;
}

int
scan_hint_wants_all(const struct scan_hint *h)
{
	return h == NULL || (h->sizes_from <= 1 && h->nskip_uids == 0);
}

int
scan_hint_wants(const struct scan_hint *h, uint32_t uid)
{
	if (h == NULL)
		return 1;
	if (uid >= h->sizes_from &&
	    !u32_sorted_has(h->skip_uids, h->nskip_uids, uid))
		return 1;
	return u32_sorted_has(h->size_uids, h->nsize_uids, uid);
}

/* The first index in [lo, hi) of sorted l whose UID is not below uid
 * (hi if none). */
static size_t
lower_bound_in(const struct msg_list *l, uint32_t uid, size_t lo, size_t hi)
{
	return u32_key_lower_bound(l->v, sizeof(*l->v),
	    offsetof(struct msg_meta, uid), lo, hi, uid);
}

/* msg_list_lower_bound(), searched outwards from the index guess (a
 * gallop: steps of 1, 2, 4, ... then a binary search), so that it costs
 * the logarithm of its distance from guess. */
static size_t
lower_bound_near(const struct msg_list *l, uint32_t uid, size_t guess)
{
	size_t lo, hi, step = 1;

	if (l->v[guess].uid >= uid) {
		for (hi = guess; hi > 0; hi = lo, step *= 2) {
			lo = hi > step ? hi - step : 0;
			if (l->v[lo].uid < uid)
				return lower_bound_in(l, uid, lo + 1, hi);
		}
		return 0;
	}
	for (lo = guess + 1; lo < l->n; lo = hi, step *= 2) {
		hi = l->n - lo > step ? lo + step : l->n;
		if (l->v[hi - 1].uid >= uid)
			return lower_bound_in(l, uid, lo, hi - 1);
	}
	return l->n;
}

/*
 * UIDs mostly run without gaps, so the message of uid is usually at
 * uid - (the first UID), and otherwise a few entries before it (as many
 * at most as UIDs are missing below it): the search starts there. Looked
 * up once per pair and per side in every run, hence no bsearch()
 * callback either.
 */
const struct msg_meta *
msg_list_find(const struct msg_list *l, uint32_t uid)
{
	size_t off, i;

	if (l->n == 0 || uid < l->v[0].uid)
		return NULL;
	off = uid - l->v[0].uid;
	i = lower_bound_near(l, uid, off < l->n ? off : l->n - 1);
	return i < l->n && l->v[i].uid == uid ? &l->v[i] : NULL;
}

size_t
msg_list_lower_bound(const struct msg_list *l, uint32_t uid)
{
	return lower_bound_in(l, uid, 0, l->n);
}

void
msg_list_free(struct msg_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xgrow(l->v, &l->cap, l->n + 1, 16, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
strlist_sort(struct strlist *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

int
strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void
append_results_free(struct append_result *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++)
		buf_free(&r[i].why);
	free(r);
}
