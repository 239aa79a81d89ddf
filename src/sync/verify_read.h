/*
 * verify_read: one side of a mailbox pair read for a verification
 * (sync/verify.h), changing nothing: the mailbox opened, scanned (flags,
 * sizes only when asked) and the header of every message read through
 * the store's fetch_headers(), which an IMAP store asks for in one
 * pipelined UID FETCH of BODY.PEEK[HEADER] per chunk of UIDs. No body is
 * read, but for the rare header that does not end in an empty line in
 * what the store sent (sync/fingerprint.h): such a message is read whole.
 *
 * Headers are read in the canonical form of sync/fingerprint.h through
 * its struct fp_stream, so a message's key is the hash part of its
 * fingerprint, whichever store holds it.
 *
 * Contract: verify_read_side() fills out with one entry per message of
 * the scan (a message that vanished meanwhile has have = 0; an empty one,
 * not one byte, has empty set and have = 0) and returns
 * 0, or -1 with err naming the mailbox and the cause (the store's
 * failure() then says how wide it is).
 */
#ifndef TWINBOX_SYNC_VERIFY_READ_H
#define TWINBOX_SYNC_VERIFY_READ_H

#include "store.h"
#include "sync/verify.h"

int verify_read_side(struct store *s, const char *mbox, int want_sizes,
    struct verify_side *out, struct buf *err);

#endif
