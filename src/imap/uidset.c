/* uidset: UID sets; see uidset.h. */
#include "imap/uidset.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/u32.h"

uint32_t *
imap_uids_sorted(const uint32_t *uids, size_t n, size_t *nout)
{
	uint32_t *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (n > 0)
		memcpy(v, uids, n * sizeof(*v));
	u32_sort(v, n);
	for (size_t i = 0; i < n; i++)
		if (v[i] != 0 && (k == 0 || v[k - 1] != v[i]))
			v[k++] = v[i];
	*nout = k;
	return v;
}

size_t
imap_uidset_format(const uint32_t *sorted, size_t n, size_t max_len,
    struct buf *out)
{
	size_t used = 0, start_len = out->len;
	char piece[32];

	while (used < n) {
		size_t end = used;
		int len;

		while (end + 1 < n && sorted[end + 1] == sorted[end] + 1)
			end++;
		if (end > used)
			len = snprintf(piece, sizeof piece, "%s%u:%u",
			    used ? "," : "", sorted[used], sorted[end]);
		else
			len = snprintf(piece, sizeof piece, "%s%u",
			    used ? "," : "", sorted[used]);
		if (used > 0 && max_len > 0 &&
		    out->len - start_len + (size_t)len > max_len)
			break;
		buf_add(out, piece, (size_t)len);
		used = end + 1;
	}
	return used;
}

/* A UID: digits only, 1 .. 2^32-1. */
static int
parse_uid(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || v == 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	*sp = end;
	return 0;
}

/* One range a..b (either order) of a set, for parse_set(). */
typedef int (*range_fn)(uint32_t a, uint32_t b, void *arg);

/* 0, or 1 when fn refused a range, or -1 when s is malformed. */
static int
parse_set(const char *s, range_fn fn, void *arg)
{
	const char *p = s;

	for (;;) {
		uint32_t a, b;

		if (parse_uid(&p, &a) != 0)
			break;
		b = a;
		if (*p == ':') {
			p++;
			if (parse_uid(&p, &b) != 0)
				break;
		}
		if (fn(a, b, arg) != 0)
			return 1;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			break;
	}
	return -1;
}

struct expand {
	size_t max;
	uint32_t **v;
	size_t *n;
};

static int
add_range(uint32_t a, uint32_t b, void *arg)
{
	struct expand *x = arg;
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;

	if ((uint64_t)hi - lo + 1 > x->max - *x->n)
		return -1;
	*x->v = xreallocarray(*x->v, *x->n + (hi - lo) + 1, sizeof(**x->v));
	for (uint64_t u = lo; u <= hi; u++)
		(*x->v)[(*x->n)++] = (uint32_t)u;
	return 0;
}

int
imap_uidset_parse(const char *s, size_t max, uint32_t **v, size_t *n,
    struct buf *err)
{
	struct expand x = { max, v, n };
	int rc = parse_set(s, add_range, &x);

	if (rc > 0)
		buf_setf(err, "UID set '%s' holds more than %zu UIDs", s, max);
	else if (rc < 0)
		buf_setf(err, "malformed UID set '%s'", s);
	return rc == 0 ? 0 : -1;
}

static int
add_span(uint32_t a, uint32_t b, void *arg)
{
	struct uid_ranges *r = arg;

	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	r->v[r->n].lo = a < b ? a : b;
	r->v[r->n++].hi = a < b ? b : a;
	return 0;
}

static int
cmp_range(const void *a, const void *b)
{
	const struct uid_range *x = a, *y = b;

	return (x->lo > y->lo) - (x->lo < y->lo);
}

int
imap_uid_ranges_add(struct uid_ranges *r, const char *s, struct buf *err)
{
	size_t w = 0, before = r->n;

	if (parse_set(s, add_span, r) != 0) {
		r->n = before;
		buf_setf(err, "malformed UID set '%.200s'", s);
		return -1;
	}
	qsort(r->v, r->n, sizeof(*r->v), cmp_range);
	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && (uint64_t)r->v[w - 1].hi + 1 >= r->v[i].lo) {
			if (r->v[i].hi > r->v[w - 1].hi)
				r->v[w - 1].hi = r->v[i].hi;
			continue;
		}
		r->v[w++] = r->v[i];
	}
	r->n = w;
	return 0;
}

/* Index of the first range whose hi is not below uid. */
static size_t
first_not_below(const struct uid_ranges *r, uint32_t uid)
{
	return u32_key_lower_bound(r->v, sizeof(*r->v),
	    offsetof(struct uid_range, hi), 0, r->n, uid);
}

int
imap_uid_ranges_has(const struct uid_ranges *r, uint32_t uid)
{
	size_t i = first_not_below(r, uid);

	return i < r->n && r->v[i].lo <= uid;
}

uint64_t
imap_uid_ranges_count(const struct uid_ranges *r, uint32_t lo, uint32_t hi)
{
	uint64_t n = 0;

	for (size_t i = first_not_below(r, lo); i < r->n && r->v[i].lo <= hi;
	    i++) {
		uint32_t a = r->v[i].lo > lo ? r->v[i].lo : lo;
		uint32_t b = r->v[i].hi < hi ? r->v[i].hi : hi;

		n += (uint64_t)b - a + 1;
	}
	return n;
}

void
imap_uid_ranges_free(struct uid_ranges *r)
{
	free(r->v);
	*r = (struct uid_ranges){ 0 };
}
