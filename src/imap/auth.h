/*
 * auth: choosing how to log in (AuthMechs, as mbsync does) and building
 * the SASL messages; pure functions, tested without a server.
 *
 * Contract:
 *  - imap_auth_choose() picks one mechanism from what AuthMechs allows and
 *    the server offers, in the order OAUTHBEARER, XOAUTH2, PLAIN
 *    (AUTHENTICATE), LOGIN (the command). "*" allows PLAIN and LOGIN; the
 *    token mechanisms are used only when named, because their secret is
 *    a token, not a password. Over a connection that is neither TLS nor
 *    a Tunnel, PLAIN and LOGIN are refused unless named explicitly; when
 *    that is why nothing is left, the message says so and what to do.
 *  - imap_sasl_*() append the base64 of the initial client response to
 *    out. The output holds the secret: never log it.
 *  - imap_base64() appends the base64 (standard alphabet, padded) of data.
 */
#ifndef TWINBOX_IMAP_AUTH_H
#define TWINBOX_IMAP_AUTH_H

#include <stddef.h>

#include "buf.h"
#include "imap/caps.h"
#include "store.h"

enum imap_auth_mech {
	AUTH_OAUTHBEARER,
	AUTH_XOAUTH2,
	AUTH_PLAIN,
	AUTH_LOGIN
};

/* "OAUTHBEARER", "XOAUTH2", "PLAIN", "LOGIN". */
const char *imap_auth_name(enum imap_auth_mech m);

/* mechs: AuthMechs as configured (NULL or empty: "*"); secure: the
 * connection is TLS or a Tunnel; peer names the server in messages. */
int imap_auth_choose(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, const char *peer, enum imap_auth_mech *out, struct buf *err);

void imap_base64(const void *data, size_t len, struct buf *out);
void imap_sasl_plain(const char *user, const char *pass, struct buf *out);
void imap_sasl_xoauth2(const char *user, const char *token, struct buf *out);
void imap_sasl_oauthbearer(const char *user, const char *host, unsigned port,
    const char *token, struct buf *out);

#endif
