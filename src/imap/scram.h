/*
 * scram: the client side of SASL SCRAM-SHA-1 (RFC 5802) and
 * SCRAM-SHA-256 (RFC 7677), without channel binding ("n,,"); pure
 * computation over raw (not base64) messages, tested with the RFCs'
 * vectors.
 *
 * Contract:
 *  - scram_start() copies the user and the password; scram_free() wipes
 *    them and every derived key. A struct scram is zeroed before use
 *    (SCRAM_INIT) and freed once, whatever happened.
 *  - SASLprep is limited to ASCII: a user name or password holding a
 *    byte outside printable ASCII (0x20-0x7e) is refused with
 *    SCRAM_BAD_INPUT, before anything is sent.
 *  - The client nonce is 24 random bytes in base64 (RAND_bytes), unless
 *    the caller gives one (tests).
 *  - scram_client_final() checks the server's first message: its nonce
 *    must extend ours, the salt must be base64, the iteration count
 *    between 1 and SCRAM_MAX_ITERATIONS, and no mandatory extension
 *    ("m=") may be present.
 *  - scram_verify() accepts the server's final message only when it
 *    carries the signature that proves the server knows the password;
 *    an "e=" message is SCRAM_SERVER_ERROR with the server's reason.
 *  - Every failure returns its enum scram_status with a message in err
 *    (what is wrong, not the peer's name); messages never hold the
 *    password, the salted password or the proof.
 *  - The client messages produced hold no secret in the clear but the
 *    final one holds the proof: do not log it.
 */
#ifndef TWINBOX_IMAP_SCRAM_H
#define TWINBOX_IMAP_SCRAM_H

#include <stddef.h>

#include "util/buf.h"

#define SCRAM_MAX_ITERATIONS 10000000
#define SCRAM_MAX_HASH 32		/* SHA-256 */

enum scram_hash {
	SCRAM_SHA_1,
	SCRAM_SHA_256
};

enum scram_status {
	SCRAM_OK = 0,
	SCRAM_BAD_INPUT,	/* user or password outside printable ASCII */
	SCRAM_BAD_MESSAGE,	/* the server's message is malformed */
	SCRAM_SERVER_ERROR,	/* the server sent "e=" */
	SCRAM_BAD_SIGNATURE,	/* the server's signature is wrong */
	SCRAM_CRYPTO		/* the crypto library failed */
};

struct scram {
	enum scram_hash hash;
	char *pass;
	struct buf first_bare;		/* client-first-message-bare */
	struct buf nonce;		/* our nonce */
	unsigned char server_sig[SCRAM_MAX_HASH];
	size_t sig_len;			/* 0 until client-final is made */
};

#define SCRAM_INIT { SCRAM_SHA_1, NULL, BUF_INIT, BUF_INIT, { 0 }, 0 }

/* The client's first message ("n,,n=USER,r=NONCE") into out. nonce:
 * NULL for a random one. */
enum scram_status scram_start(struct scram *s, enum scram_hash h,
    const char *user, const char *pass, const char *nonce, struct buf *out,
    struct buf *err);

/* From the server's first message, the client's final message (with
 * the proof) into out. */
enum scram_status scram_client_final(struct scram *s, const char *server,
    size_t len, struct buf *out, struct buf *err);

/* Check the server's final message ("v=SIGNATURE"). */
enum scram_status scram_verify(const struct scram *s, const char *server,
    size_t len, struct buf *err);

void scram_free(struct scram *s);

#endif
