/*
 * fingerprint: what identifies a message when UIDs cannot be trusted (a
 * UIDVALIDITY change, a server restored from a backup, a copy interrupted
 * before its target told its UID, two mailboxes meeting without state):
 * its size in canonical form and a 64-bit hash of its Message-ID, or of
 * its whole canonical header when it has none.
 *
 * The canonical form: every line end, that is an LF with any CRs right
 * before it (LF, CRLF, CR CR LF), is one CRLF; CRs that end the message
 * are dropped; every other byte, a CR before another byte included, stays.
 * It is what Dovecot gives back of a message it was sent (its APPEND
 * turns CRLF into LF, keeps other CRs and drops a CR that ends the
 * message; its FETCH turns a bare LF into CRLF), and what a Maildir store
 * gives back after an append (CRLF -> LF in the file, other CRs kept; LF
 * -> CRLF on the way out), or of a file another program wrote with CRLF
 * line ends (read as CR CR LF). So one message has one fingerprint
 * whichever store holds it and however often it went through either.
 * Sizes a store reports (scan) are not in this form and are never
 * compared with a fingerprint.
 *
 * Messages are read through the stores' fetch(), so a message gets the
 * same fingerprint whichever store holds it. Only the header is kept while
 * reading (at most FP_HEADER_MAX bytes); the body is counted and dropped.
 *
 * The hash part needs the header only: fingerprint_headers() reads it
 * through the store's fetch_headers() (the store must have it) and gives
 * the hash that the whole message's fingerprint has, byte for byte the
 * same computation over the same canonical header. A message whose header
 * did not end in an empty line within what the store sent (a header
 * alone, an empty first line, which a server may take for an empty
 * header) is read whole instead, so no server's idea of where a header
 * ends can make the hash differ.
 *
 * Contract: fingerprint_scan() fills one entry per scan entry (fp[i] for
 * scan->v[i]); a message that vanished gets {0, 0}, which matches nothing.
 * fingerprint_some() reads only the messages uids (ascending, each in
 * scan): the other entries get {0, 0}. fingerprint_headers() likewise
 * fills hh[i], have = 0 for a message not read or vanished.
 * A struct fp_stream is initialised with fp_stream_init(), fed any
 * chunking of one message, and released by fp_stream_finish().
 *
 * A struct fp_cursor reads what a fetch() or fetch_headers() sends into
 * an fp_stream per message: fp_cursor_begin() and fp_cursor_data() are a
 * struct msg_sink's begin and data, with the cursor as the sink's ctx
 * (or as the first member of the ctx). The caller sets uids and n (the
 * UIDs of its own array, ascending, borrowed) and next = 0 before each
 * fetch; its end() takes the stream of message uids[current], its gone()
 * finds a UID with fp_cursor_locate(); after the fetch it frees
 * stream.header (a fetch that failed may leave it allocated).
 */
#ifndef TWINBOX_SYNC_FINGERPRINT_H
#define TWINBOX_SYNC_FINGERPRINT_H

#include "store.h"
#include "sync/plan.h"

#define FP_HEADER_MAX (64 * 1024)

struct fp_stream {
	struct buf header;
	int header_done;
	size_t pending_cr;	/* CRs just read, not yet counted: they
				 * belong to a line end if an LF follows */
	uint64_t size;		/* canonical bytes so far */
};

struct fp_cursor {
	const uint32_t *uids;	/* the caller's order; borrowed */
	size_t n;
	size_t next;		/* index the next message may have */
	size_t current;		/* index of the message being read */
	struct fp_stream stream;
};

void fp_stream_init(struct fp_stream *fs);
void fp_stream_add(struct fp_stream *fs, const char *p, size_t n);
/* The fingerprint of what was added; releases fs (init again to reuse). */
struct fingerprint fp_stream_finish(struct fp_stream *fs);

/* The index of uid at or after next, which moves past it; -1 if none. */
int fp_cursor_locate(struct fp_cursor *cur, uint32_t uid, size_t *out);
int fp_cursor_begin(void *ctx, const struct msg_meta *meta, struct buf *err);
int fp_cursor_data(void *ctx, const char *p, size_t n, struct buf *err);

int fingerprint_scan(struct store *s, const struct msg_list *scan,
    struct fingerprint *fp, struct buf *err);
int fingerprint_some(struct store *s, const struct msg_list *scan,
    const uint32_t *uids, size_t n, struct fingerprint *fp, struct buf *err);
int fingerprint_headers(struct store *s, const struct msg_list *scan,
    const uint32_t *uids, size_t n, struct header_hash *hh, struct buf *err);
/* The fingerprint of one message given whole, in canonical form. */
struct fingerprint fingerprint_of(const char *msg, size_t len);

#endif
