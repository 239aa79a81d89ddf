/*
 * fingerprint: what identifies a message when UIDs cannot be trusted (a
 * UIDVALIDITY change, a server restored from a backup): its size in
 * canonical (CRLF) form and a 64-bit hash of its Message-ID, or of its
 * whole header when it has none.
 *
 * Both stores are read through fetch(), so a message gets the same
 * fingerprint whichever store holds it. Only the header is kept while
 * reading (at most FP_HEADER_MAX bytes); the body is counted and dropped.
 *
 * Contract: fp receives one entry per scan entry (fp[i] for scan->v[i]);
 * a message that vanished gets {0, 0}, which matches nothing.
 */
#ifndef TWINBOX_SYNC_FINGERPRINT_H
#define TWINBOX_SYNC_FINGERPRINT_H

#include "store.h"
#include "sync/plan.h"

#define FP_HEADER_MAX (64 * 1024)

int fingerprint_scan(struct store *s, const struct msg_list *scan,
    struct fingerprint *fp, struct buf *err);
/* The fingerprint of one message given whole, in canonical form. */
struct fingerprint fingerprint_of(const char *msg, size_t len);

#endif
