/*
 * uidset: IMAP UID sets ("1:3,7,9:12") for commands that act on many
 * messages, so that a flag change is one command, not one per message.
 *
 * Contract:
 *  - imap_uids_sorted() returns a malloc'd, ascending, duplicate-free copy
 *    of uids (*nout entries; zero UIDs dropped); the caller frees it.
 *  - imap_uidset_format() appends to out the set of as many leading UIDs
 *    of sorted (ascending, unique) as fit in max_len bytes (0: no limit),
 *    runs of consecutive UIDs compressed to "a:b", and returns how many
 *    UIDs it used: at least one when n > 0, so a caller that loops always
 *    progresses (a single UID is at most 10 bytes).
 *  - imap_uidset_parse() reads a set as a server sends it (APPENDUID,
 *    COPYUID): "a", "a:b" or "b:a", comma-separated, no "*"; it appends
 *    the UIDs in the order written (ranges ascending) to *v / *n (the
 *    caller frees *v) and refuses sets of more than max UIDs.
 *  - struct uid_ranges holds a set as sorted, disjoint, merged ranges,
 *    so that a server's "1:4000000000" costs two numbers, not a list:
 *    imap_uid_ranges_add() adds a set as a server sends it (VANISHED;
 *    a malformed one adds nothing),
 *    _has() tests a UID and _count() counts the UIDs of the set within
 *    lo..hi (inclusive). Zero-initialise; _free() releases.
 */
#ifndef TWINBOX_IMAP_UIDSET_H
#define TWINBOX_IMAP_UIDSET_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

uint32_t *imap_uids_sorted(const uint32_t *uids, size_t n, size_t *nout);
size_t imap_uidset_format(const uint32_t *sorted, size_t n, size_t max_len,
    struct buf *out);
int imap_uidset_parse(const char *s, size_t max, uint32_t **v, size_t *n,
    struct buf *err);

struct uid_range {
	uint32_t lo, hi;
};

struct uid_ranges {
	struct uid_range *v;
	size_t n;
};

int imap_uid_ranges_add(struct uid_ranges *r, const char *s,
    struct buf *err);
int imap_uid_ranges_has(const struct uid_ranges *r, uint32_t uid);
uint64_t imap_uid_ranges_count(const struct uid_ranges *r, uint32_t lo,
    uint32_t hi);
void imap_uid_ranges_free(struct uid_ranges *r);

#endif
