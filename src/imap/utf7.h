/*
 * utf7: modified UTF-7, the encoding of IMAP mailbox names (RFC 3501
 * section 5.1.3), to and from UTF-8.
 *
 * Contract:
 *  - Both functions append to out and return 0, or return -1 with a
 *    one-line message in err (out then holds an unspecified prefix).
 *  - Encoding refuses input that is not valid UTF-8 (overlong forms,
 *    surrogates, code points above U+10FFFF, NUL).
 *  - Decoding is strict, because a name that decodes two ways could make
 *    two server mailboxes collide in one local folder: raw 8-bit bytes,
 *    an unterminated or empty shift sequence other than "&-", base64
 *    outside the modified alphabet, non-zero padding bits, a half UTF-16
 *    unit, unpaired surrogates, printable ASCII or NUL encoded in base64,
 *    and two adjacent shift sequences are all refused.
 *  - No allocation beyond out's growth; no state.
 */
#ifndef TWINBOX_IMAP_UTF7_H
#define TWINBOX_IMAP_UTF7_H

#include "util/buf.h"

int imap_utf7_encode(const char *utf8, struct buf *out, struct buf *err);
int imap_utf7_decode(const char *mutf7, struct buf *out, struct buf *err);

#endif
