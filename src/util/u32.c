/* u32: sorted arrays of 32-bit unsigned numbers; see u32.h. */
#include "util/u32.h"

#include <stdlib.h>

int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int
u32_sorted_has(const uint32_t *v, size_t n, uint32_t x)
{
	return n > 0 && bsearch(&x, v, n, sizeof(*v), cmp_u32) != NULL;
}

int
u32_ascending(const uint32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i - 1] > v[i])
			return 0;
	return 1;
}
