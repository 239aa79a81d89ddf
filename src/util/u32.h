/*
 * u32: sorted arrays of 32-bit unsigned numbers (UIDs above all).
 *
 * Contract: cmp_u32() orders two uint32_t for qsort() and bsearch();
 * u32_sorted_has() says whether x is in v, of n numbers sorted by
 * cmp_u32() (v may be NULL when n is 0); u32_ascending() whether v is
 * already in that order (a sort of a sorted array can then be spared).
 * None of those allocates or fails.
 *
 * u32_key_lower_bound() is the one binary search over arrays of records
 * sorted by a uint32_t key (a UID, the end of a range): the first index
 * in [lo, hi) whose key is not below x, or hi if none. The records are
 * stride bytes apart from base, the key at byte off of each (offsetof());
 * it does not allocate or fail either.
 *
 * u32_sort() sorts v ascending; u64_sort_bytes() sorts v ascending by
 * the bytes from_byte to to_byte - 1 of each number (0 = the lowest),
 * stably, so that the other bytes can carry a payload (an index). Both
 * are radix sorts that skip a byte all numbers share (the high bytes of
 * UIDs), for the arrays of thousands of UIDs a run sorts: qsort()'s
 * calls of the comparison cost several times as much. They allocate a
 * copy (xmalloc(): never fail).
 */
#ifndef TWINBOX_U32_H
#define TWINBOX_U32_H

#include <stddef.h>
#include <stdint.h>

int cmp_u32(const void *a, const void *b);
int u32_sorted_has(const uint32_t *v, size_t n, uint32_t x);
int u32_ascending(const uint32_t *v, size_t n);
size_t u32_key_lower_bound(const void *base, size_t stride, size_t off,
    size_t lo, size_t hi, uint32_t x);
void u32_sort(uint32_t *v, size_t n);
void u64_sort_bytes(uint64_t *v, size_t n, int from_byte, int to_byte);

#endif
