/* verify: comparing two sides by content; see verify.h. Free of I/O. */
#include "sync/verify.h"

#include <stdlib.h>
#include <string.h>

/* What a message is sorted and matched by. */
struct vkey {
	uint64_t key;
	uint64_t header;
	uint64_t size;		/* 0 unless sizes are compared */
	uint32_t uid;
	size_t idx;
};

void
verify_side_add(struct verify_side *s, const struct verify_msg *m)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, 64, sizeof(*s->v));
	s->v[s->n++] = *m;
}

void
verify_side_free(struct verify_side *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].date);
		free(s->v[i].from);
		free(s->v[i].subject);
		free(s->v[i].msgid);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
verify_result_free(struct verify_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_vkey(const void *pa, const void *pb)
{
	const struct vkey *a = pa, *b = pb;
	int c;

	if ((c = cmp_u64(a->key, b->key)) != 0)
		return c;
	if ((c = cmp_u64(a->header, b->header)) != 0)
		return c;
	if ((c = cmp_u64(a->size, b->size)) != 0)
		return c;
	return cmp_u64(a->uid, b->uid);
}

/* The messages of a side that were read, sorted by key and content. */
static struct vkey *
sorted_keys(const struct verify_side *s, int compare_sizes, size_t *n)
{
	struct vkey *k = xcalloc(s->n + 1, sizeof(*k));

	*n = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct verify_msg *m = &s->v[i];

		if (!m->have)
			continue;
		k[*n].key = m->key;
		k[*n].header = m->header;
		k[*n].size = compare_sizes ? m->size : 0;
		k[*n].uid = m->uid;
		k[*n].idx = i;
		(*n)++;
	}
	qsort(k, *n, sizeof(*k), cmp_vkey);
	return k;
}

static void
add_diff(struct verify_result *r, enum verify_diff_kind kind, enum side side,
    size_t far, size_t near)
{
	r->v = xgrow(r->v, &r->cap, r->ndiff + 1, 16, sizeof(*r->v));
	r->v[r->ndiff].kind = kind;
	r->v[r->ndiff].side = side;
	r->v[r->ndiff].a[SIDE_FAR] = far;
	r->v[r->ndiff].a[SIDE_NEAR] = near;
	r->ndiff++;
}

/* Content order within one key: header hash, then size. */
static int
cmp_content(const struct vkey *a, const struct vkey *b)
{
	int c = cmp_u64(a->header, b->header);

	return c != 0 ? c : cmp_u64(a->size, b->size);
}

/* One key's messages: g[s] of them at k[s]. Equal content pairs first,
 * then what is left pairs as VD_CONTENT, and the rest is one-sided. */
static void
compare_group(const struct verify_side sides[2], struct vkey *const k[2],
    const size_t g[2], struct verify_result *r)
{
	size_t *left[2], nleft[2] = { 0, 0 }, i = 0, j = 0, m;

	left[0] = xcalloc(g[0] + 1, sizeof(size_t));
	left[1] = xcalloc(g[1] + 1, sizeof(size_t));
	while (i < g[0] || j < g[1]) {
		int c = i == g[0] ? 1 : j == g[1] ? -1 :
		    cmp_content(&k[0][i], &k[1][j]);

		if (c < 0)
			left[0][nleft[0]++] = k[0][i++].idx;
		else if (c > 0)
			left[1][nleft[1]++] = k[1][j++].idx;
		else {
			size_t a = k[0][i++].idx, b = k[1][j++].idx;

			r->both++;
			if ((sides[0].v[a].flags ^ sides[1].v[b].flags) &
			    MSG_ALL_FLAGS)
				add_diff(r, VD_FLAGS, SIDE_FAR, a, b);
		}
	}
	m = nleft[0] < nleft[1] ? nleft[0] : nleft[1];
	for (size_t x = 0; x < m; x++)
		add_diff(r, VD_CONTENT, SIDE_FAR, left[0][x], left[1][x]);
	for (int s = 0; s < 2; s++)
		for (size_t x = m; x < nleft[s]; x++)
			add_diff(r, g[!s] > 0 ? VD_EXTRA : VD_ONLY, (enum side)s,
			    s == 0 ? left[0][x] : 0, s == 1 ? left[1][x] : 0);
	free(left[0]);
	free(left[1]);
}

/* The UID a difference is sorted by: its side's message. */
static uint32_t
diff_uid(const struct verify_side sides[2], const struct verify_diff *d)
{
	return sides[d->side].v[d->a[d->side]].uid;
}

/* Differences by side, then UID. A message is in one difference at
 * most, so (side, uid) orders them fully. */
struct dkey {
	uint64_t order;
	size_t pos;
};

static int
cmp_dkey(const void *pa, const void *pb)
{
	const struct dkey *a = pa, *b = pb;

	return cmp_u64(a->order, b->order);
}

static void
sort_diffs(const struct verify_side sides[2], struct verify_result *r)
{
	struct dkey *k = xcalloc(r->ndiff + 1, sizeof(*k));
	struct verify_diff *v = xcalloc(r->ndiff + 1, sizeof(*v));

	for (size_t i = 0; i < r->ndiff; i++) {
		k[i].order = (uint64_t)r->v[i].side << 32 |
		    diff_uid(sides, &r->v[i]);
		k[i].pos = i;
	}
	qsort(k, r->ndiff, sizeof(*k), cmp_dkey);
	for (size_t i = 0; i < r->ndiff; i++)
		v[i] = r->v[k[i].pos];
	free(r->v);
	free(k);
	r->v = v;
	r->cap = r->ndiff + 1;
}

void
verify_compare(const struct verify_side sides[2], int compare_sizes,
    struct verify_result *out)
{
	struct vkey *k[2];
	size_t n[2], i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	k[0] = sorted_keys(&sides[0], compare_sizes, &n[0]);
	k[1] = sorted_keys(&sides[1], compare_sizes, &n[1]);
	out->n[0] = n[0];
	out->n[1] = n[1];
	while (i < n[0] || j < n[1]) {
		uint64_t key;
		struct vkey *at[2] = { k[0] + i, k[1] + j };
		size_t g[2] = { 0, 0 };

		/* The smaller of the two sides' next keys. */
		if (i == n[0] || (j < n[1] && k[1][j].key < k[0][i].key))
			key = k[1][j].key;
		else
			key = k[0][i].key;
		while (i + g[0] < n[0] && k[0][i + g[0]].key == key)
			g[0]++;
		while (j + g[1] < n[1] && k[1][j + g[1]].key == key)
			g[1]++;
		compare_group(sides, at, g, out);
		i += g[0];
		j += g[1];
	}
	sort_diffs(sides, out);
	free(k[0]);
	free(k[1]);
}
