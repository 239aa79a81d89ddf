/* u32: sorted arrays of 32-bit unsigned numbers; see u32.h. */
#include "util/u32.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * UIDs mostly run without gaps, so x is usually at x - v[0]: looked at
 * first. A scan asks this of every file it lists (scan_hint_wants()),
 * hence no bsearch() callback either.
 */
int
u32_sorted_has(const uint32_t *v, size_t n, uint32_t x)
{
	size_t i;

	if (n == 0 || x < v[0] || x > v[n - 1])
		return 0;
	if (x - v[0] < n && v[x - v[0]] == x)
		return 1;
	i = u32_key_lower_bound(v, sizeof(*v), 0, 0, n, x);
	return i < n && v[i] == x;
}

size_t
u32_key_lower_bound(const void *base, size_t stride, size_t off,
    size_t lo, size_t hi, uint32_t x)
{
	/* base + off only inside the loop: an empty array's base may be
	 * NULL, and NULL + 0 is undefined. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t key;

		memcpy(&key, (const unsigned char *)base + off + mid * stride,
		    sizeof(key));
		if (key < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
u32_ascending(const uint32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i - 1] > v[i])
			return 0;
	return 1;
}

/* One pass: in's numbers into out by their byte at shift; 0 when every
 * number has the same byte there (nothing moved). */
static int
radix_pass(const uint64_t *in, uint64_t *out, size_t n, int shift)
{
	size_t at[256] = { 0 }, sum = 0;

	for (size_t i = 0; i < n; i++)
		at[(in[i] >> shift) & 0xff]++;
	if (at[(in[0] >> shift) & 0xff] == n)
		return 0;
	for (int b = 0; b < 256; b++) {
		size_t c = at[b];

		at[b] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		out[at[(in[i] >> shift) & 0xff]++] = in[i];
	return 1;
}

void
u64_sort_bytes(uint64_t *v, size_t n, int from_byte, int to_byte)
{
	uint64_t *tmp, *in = v, *out;

	if (n < 2)
		return;
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	out = tmp;
	for (int b = from_byte; b < to_byte; b++)
		if (radix_pass(in, out, n, 8 * b)) {
			uint64_t *t = in;

			in = out;
			out = t;
		}
	if (in != v)
		memcpy(v, in, n * sizeof(*v));
	free(tmp);
}

void
u32_sort(uint32_t *v, size_t n)
{
	uint64_t *w;

	if (n < 2 || u32_ascending(v, n))
		return;
	w = xreallocarray(NULL, n, sizeof(*w));
	for (size_t i = 0; i < n; i++)
		w[i] = v[i];
	u64_sort_bytes(w, n, 0, 4);
	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)w[i];
	free(w);
}
