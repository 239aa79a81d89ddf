/*
 * verify: compare the two sides of a mailbox pair by content, without
 * state and without changing anything (twinbox --verify). This file is
 * the comparison alone, free of I/O; verify_read.h reads a side,
 * verify_report.c words the result.
 *
 * What identifies a message: its key, the hash part of its fingerprint
 * (sync/fingerprint.h: the Message-ID's hash, or the whole canonical
 * header's when it has none), then its content: the hash of its whole
 * canonical header and, when the caller compares sizes, its size as the
 * store reports it (only sizes of the same kind are ever compared: two
 * IMAP servers' RFC822.SIZE, both CRLF-counted).
 *
 * Contract: verify_compare() pairs, key by key, the messages of the two
 * sides whose content is equal, one to one. Of what is left in a key:
 *  - a message on each side whose content differs is a VD_CONTENT pair
 *    (same Message-ID, different header or size);
 *  - a message whose key the other side also has (paired or not) is a
 *    VD_EXTRA copy: a duplicate;
 *  - any other is VD_ONLY: on its side only.
 * Every pair of equal content whose system flags differ is a VD_FLAGS.
 * Counts: n[side] messages on each side, both = pairs of equal content.
 * The sides agree when there is no difference at all. The result points
 * into the sides (indices), which the caller keeps while it uses it;
 * differences are sorted by side, then by UID.
 */
#ifndef TWINBOX_SYNC_VERIFY_H
#define TWINBOX_SYNC_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "sync/plan.h"

/* One message of a side, as verify_read_side() gives it. */
struct verify_msg {
	uint32_t uid;
	unsigned flags;		/* enum msg_flag bits */
	uint64_t size;		/* the store's; compared only if asked */
	uint64_t key;		/* fingerprint hash (Message-ID or header) */
	uint64_t header;	/* hash of the whole canonical header */
	int have;		/* 0: not read (vanished): matches nothing */
	int empty;		/* read, and not one byte (an empty Maildir
				   file): no message, which a sync never
				   copies (STORE_EMPTY); have is 0 */
	/* For the report; unfolded, possibly cut; "" when absent. */
	char *date, *from, *subject, *msgid;
};

struct verify_side {
	struct verify_msg *v;
	size_t n, cap;
};

enum verify_diff_kind {
	VD_ONLY,	/* on side only: a[side] */
	VD_EXTRA,	/* an extra copy on side: a[side] */
	VD_CONTENT,	/* same key, other content: a[FAR], a[NEAR] */
	VD_FLAGS	/* equal content, other flags: a[FAR], a[NEAR] */
};

struct verify_diff {
	enum verify_diff_kind kind;
	enum side side;		/* VD_ONLY, VD_EXTRA */
	size_t a[2];		/* indices into the sides */
};

struct verify_result {
	size_t n[2];
	size_t both;
	struct verify_diff *v;
	size_t ndiff, cap;
};

/* Add a message to a side; it takes over m's strings. */
void verify_side_add(struct verify_side *s, const struct verify_msg *m);
void verify_side_free(struct verify_side *s);

void verify_compare(const struct verify_side sides[2], int compare_sizes,
    struct verify_result *out);
void verify_result_free(struct verify_result *r);

#endif
