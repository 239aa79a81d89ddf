/*
 * sasl: one SASL exchange of AUTHENTICATE, as base64 text in and out:
 * the initial response and the answer to each challenge, for every
 * mechanism of auth.h but LOGIN; pure, no I/O.
 *
 * Contract:
 *  - struct sasl borrows user, secret and host until sasl_free(); every
 *    message it builds from the secret is wiped before it is freed.
 *  - sasl_initial() says whether the mechanism has an initial response
 *    (all but CRAM-MD5, where the server speaks first).
 *  - sasl_answer() answers the server's challenge (the base64 text of a
 *    "+" line). A challenge that comes after the exchange is complete is
 *    answered with an empty line (XOAUTH2 and OAUTHBEARER send their
 *    error that way, RFC 7628); for CRAM-MD5 and SCRAM it is a protocol
 *    error.
 *  - sasl_complete(), after the server's OK, fails with
 *    SASL_FAIL_SERVER_PROOF when the mechanism authenticates the server
 *    (SCRAM) and the server never proved it knows the password.
 *  - Every failure returns its enum sasl_status and puts in err what
 *    went wrong, without the peer's name, the user or any secret. On a
 *    failure the caller cancels the exchange ("*").
 */
#ifndef TWINBOX_IMAP_SASL_H
#define TWINBOX_IMAP_SASL_H

#include "util/buf.h"
#include "imap/auth.h"
#include "imap/scram.h"

enum sasl_status {
	SASL_OK = 0,
	SASL_FAIL_INPUT,	/* our user or secret cannot be used */
	SASL_FAIL_PROTOCOL,	/* the server's challenge is malformed or
				 * unexpected */
	SASL_FAIL_SERVER_ERROR,	/* the server reported an error in SASL */
	SASL_FAIL_SERVER_PROOF,	/* the server did not prove it knows the
				 * password: possibly an impostor */
	SASL_FAIL_CRYPTO	/* the crypto library failed */
};

struct sasl {
	enum imap_auth_mech m;
	const char *user;
	const char *secret;
	const char *host;
	unsigned port;
	int step;		/* challenges answered so far */
	int server_proven;	/* SCRAM: the server's signature checked */
	struct scram scram;
};

void sasl_init(struct sasl *x, enum imap_auth_mech m, const char *user,
    const char *secret, const char *host, unsigned port);

/* The base64 initial response into out, *has set to 0 when the
 * mechanism has none. */
enum sasl_status sasl_initial(struct sasl *x, struct buf *out, int *has,
    struct buf *err);

enum sasl_status sasl_answer(struct sasl *x, const char *challenge,
    size_t len, struct buf *out, struct buf *err);

enum sasl_status sasl_complete(const struct sasl *x, struct buf *err);

void sasl_free(struct sasl *x);

#endif
