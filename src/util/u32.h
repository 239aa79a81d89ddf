/*
 * u32: sorted arrays of 32-bit unsigned numbers (UIDs above all).
 *
 * Contract: cmp_u32() orders two uint32_t for qsort() and bsearch();
 * u32_sorted_has() says whether x is in v, of n numbers sorted by
 * cmp_u32() (v may be NULL when n is 0); u32_ascending() whether v is
 * already in that order (a sort of a sorted array can then be spared).
 * None allocates or fails.
 */
#ifndef TWINBOX_U32_H
#define TWINBOX_U32_H

#include <stddef.h>
#include <stdint.h>

int cmp_u32(const void *a, const void *b);
int u32_sorted_has(const uint32_t *v, size_t n, uint32_t x);
int u32_ascending(const uint32_t *v, size_t n);

#endif
