/* u32: sorted arrays of 32-bit unsigned numbers; see u32.h. */
#include "util/u32.h"

#include <stdlib.h>

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
	size_t lo = 0, hi = n;

	if (n == 0 || x < v[0] || x > v[n - 1])
		return 0;
	if (x - v[0] < n && v[x - v[0]] == x)
		return 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x;
}

int
u32_ascending(const uint32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i - 1] > v[i])
			return 0;
	return 1;
}
