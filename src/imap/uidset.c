/* uidset: UID sets; see uidset.h. */
#include "imap/uidset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

uint32_t *
imap_uids_sorted(const uint32_t *uids, size_t n, size_t *nout)
{
	uint32_t *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (n > 0)
		memcpy(v, uids, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_u32);
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

static int
add_range(uint32_t a, uint32_t b, size_t max, uint32_t **v, size_t *n)
{
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;

	if ((uint64_t)hi - lo + 1 > max - *n)
		return -1;
	*v = xreallocarray(*v, *n + (hi - lo) + 1, sizeof(**v));
	for (uint64_t u = lo; u <= hi; u++)
		(*v)[(*n)++] = (uint32_t)u;
	return 0;
}

int
imap_uidset_parse(const char *s, size_t max, uint32_t **v, size_t *n,
    struct buf *err)
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
		if (add_range(a, b, max, v, n) != 0) {
			buf_setf(err, "UID set '%s' holds more than %zu UIDs",
			    s, max);
			return -1;
		}
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			break;
	}
	buf_setf(err, "malformed UID set '%s'", s);
	return -1;
}
