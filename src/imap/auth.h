/*
 * auth: choosing how to log in (AuthMechs, as mbsync does) and building
 * the SASL messages; pure functions, tested without a server.
 *
 * Contract:
 *  - imap_auth_choose() picks one mechanism from what AuthMechs allows and
 *    the server offers, in the order OAUTHBEARER, XOAUTH2, SCRAM-SHA-256,
 *    SCRAM-SHA-1, CRAM-MD5, PLAIN (AUTHENTICATE), LOGIN (the command):
 *    the strongest first, as mbsync's SASL library does. "*" allows all
 *    the password mechanisms; the token mechanisms are used only when
 *    named, because their secret is a token, not a password. Over a
 *    connection that is neither TLS nor a Tunnel, PLAIN and LOGIN are
 *    refused unless named explicitly; when that is why nothing is left,
 *    the message says so and what to do.
 *  - imap_auth_next() gives the mechanism to try after the server refused
 *    one that needs the password stored in clear on its side (SCRAM-*,
 *    CRAM-MD5): a server may offer them and still keep only a hash (GNU
 *    Mailutils does), so AuthMechs "*" must not end there. It follows the
 *    same order and rules as imap_auth_choose(); -1 when nothing is left
 *    or the refused mechanism is not one of those. A failure of ours (a
 *    server that did not prove itself) is never a reason to go on.
 *  - imap_sasl_*() append the base64 of the initial client response to
 *    out. The output holds the secret: never log it.
 *  - imap_base64() appends the base64 (standard alphabet, padded) of data.
 */
#ifndef TWINBOX_IMAP_AUTH_H
#define TWINBOX_IMAP_AUTH_H

#include <stddef.h>

#include "util/buf.h"
#include "imap/caps.h"
#include "store.h"

/* In order of preference. */
enum imap_auth_mech {
	AUTH_OAUTHBEARER,
	AUTH_XOAUTH2,
	AUTH_SCRAM_SHA_256,
	AUTH_SCRAM_SHA_1,
	AUTH_CRAM_MD5,
	AUTH_PLAIN,
	AUTH_LOGIN
};

/* "OAUTHBEARER", "XOAUTH2", "SCRAM-SHA-256", ..., "PLAIN", "LOGIN". */
const char *imap_auth_name(enum imap_auth_mech m);

/* mechs: AuthMechs as configured (NULL or empty: "*"); secure: the
 * connection is TLS or a Tunnel; peer names the server in messages. */
int imap_auth_choose(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, const char *peer, enum imap_auth_mech *out, struct buf *err);

int imap_auth_next(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, enum imap_auth_mech refused, enum imap_auth_mech *out);

void imap_base64(const void *data, size_t len, struct buf *out);
/* Append the bytes of base64 text (padded or not, no white space) to
 * out; -1 if text is not base64. */
int imap_unbase64(const char *text, size_t len, struct buf *out);
/* The raw CRAM-MD5 response (RFC 2195): "USER HEXDIGEST" of the raw
 * challenge. It holds no secret, but a digest of one. -1 when the
 * crypto library refuses MD5 (FIPS mode). */
int imap_sasl_cram_md5(const char *user, const char *pass,
    const char *challenge, size_t len, struct buf *out);
void imap_sasl_plain(const char *user, const char *pass, struct buf *out);
void imap_sasl_xoauth2(const char *user, const char *token, struct buf *out);
void imap_sasl_oauthbearer(const char *user, const char *host, unsigned port,
    const char *token, struct buf *out);

#endif
