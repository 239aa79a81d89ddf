/*
 * fingerprint: what identifies a message when UIDs cannot be trusted (a
 * UIDVALIDITY change, a server restored from a backup, a copy interrupted
 * before its target told its UID): its size in canonical (CRLF) form and
 * a 64-bit hash of its Message-ID, or of its whole header when it has
 * none.
 *
 * Messages are read through the stores' fetch(), so a message gets the
 * same fingerprint whichever store holds it. Only the header is kept while
 * reading (at most FP_HEADER_MAX bytes); the body is counted and dropped.
 *
 * Contract: fingerprint_scan() fills one entry per scan entry (fp[i] for
 * scan->v[i]); a message that vanished gets {0, 0}, which matches nothing.
 * A struct fp_stream is initialised with fp_stream_init(), fed any
 * chunking of one message, and released by fp_stream_finish().
 */
#ifndef TWINBOX_SYNC_FINGERPRINT_H
#define TWINBOX_SYNC_FINGERPRINT_H

#include "store.h"
#include "sync/plan.h"

#define FP_HEADER_MAX (64 * 1024)

struct fp_stream {
	struct buf header;
	int header_done;
	uint64_t size;
};

void fp_stream_init(struct fp_stream *fs);
void fp_stream_add(struct fp_stream *fs, const char *p, size_t n);
/* The fingerprint of what was added; releases fs (init again to reuse). */
struct fingerprint fp_stream_finish(struct fp_stream *fs);

int fingerprint_scan(struct store *s, const struct msg_list *scan,
    struct fingerprint *fp, struct buf *err);
/* The fingerprint of one message given whole, in canonical form. */
struct fingerprint fingerprint_of(const char *msg, size_t len);

#endif
