/* sasl: one AUTHENTICATE exchange, mechanism by mechanism; see sasl.h. */
#include "imap/sasl.h"

#include <string.h>

void
sasl_init(struct sasl *x, enum imap_auth_mech m, const char *user,
    const char *secret, const char *host, unsigned port)
{
	static const struct scram zero = SCRAM_INIT;

	memset(x, 0, sizeof *x);
	x->m = m;
	x->user = user;
	x->secret = secret;
	x->host = host != NULL ? host : "";
	x->port = port;
	x->scram = zero;
}

static int
is_scram(enum imap_auth_mech m)
{
	return m == AUTH_SCRAM_SHA_1 || m == AUTH_SCRAM_SHA_256;
}

static enum sasl_status
from_scram(enum scram_status st)
{
	switch (st) {
	case SCRAM_OK:
		return SASL_OK;
	case SCRAM_BAD_INPUT:
		return SASL_FAIL_INPUT;
	case SCRAM_BAD_MESSAGE:
		return SASL_FAIL_PROTOCOL;
	case SCRAM_SERVER_ERROR:
		return SASL_FAIL_SERVER_ERROR;
	case SCRAM_BAD_SIGNATURE:
		return SASL_FAIL_SERVER_PROOF;
	case SCRAM_CRYPTO:
		break;
	}
	return SASL_FAIL_CRYPTO;
}

enum sasl_status
sasl_initial(struct sasl *x, struct buf *out, int *has, struct buf *err)
{
	struct buf raw = BUF_INIT;
	enum scram_status st;

	*has = 1;
	switch (x->m) {
	case AUTH_PLAIN:
		imap_sasl_plain(x->user, x->secret, out);
		return SASL_OK;
	case AUTH_XOAUTH2:
		imap_sasl_xoauth2(x->user, x->secret, out);
		return SASL_OK;
	case AUTH_OAUTHBEARER:
		imap_sasl_oauthbearer(x->user, x->host, x->port, x->secret,
		    out);
		return SASL_OK;
	case AUTH_SCRAM_SHA_1:
	case AUTH_SCRAM_SHA_256:
		st = scram_start(&x->scram, x->m == AUTH_SCRAM_SHA_256 ?
		    SCRAM_SHA_256 : SCRAM_SHA_1, x->user, x->secret, NULL,
		    &raw, err);
		if (st == SCRAM_OK)
			imap_base64(raw.data, raw.len, out);
		buf_free(&raw);
		return from_scram(st);
	case AUTH_CRAM_MD5:
	case AUTH_LOGIN:
		break;
	}
	*has = 0;
	return SASL_OK;
}

static enum sasl_status
answer_cram(struct sasl *x, const struct buf *challenge, struct buf *out,
    struct buf *err)
{
	struct buf raw = BUF_INIT;

	if (x->step != 0) {
		buf_setf(err, "the server sent a second CRAM-MD5 challenge");
		return SASL_FAIL_PROTOCOL;
	}
	if (imap_sasl_cram_md5(x->user, x->secret, challenge->data,
	    challenge->len, &raw) != 0) {
		buf_setf(err, "cannot compute CRAM-MD5: the crypto library "
		    "refuses MD5 (FIPS mode?); use another AuthMechs");
		return SASL_FAIL_CRYPTO;
	}
	imap_base64(raw.data, raw.len, out);
	buf_wipe(&raw);
	return SASL_OK;
}

static enum sasl_status
answer_scram(struct sasl *x, const struct buf *challenge, struct buf *out,
    struct buf *err)
{
	struct buf raw = BUF_INIT;
	enum scram_status st;

	if (x->step == 0) {
		st = scram_client_final(&x->scram, challenge->data,
		    challenge->len, &raw, err);
		if (st == SCRAM_OK)
			imap_base64(raw.data, raw.len, out);
		buf_wipe(&raw);
		return from_scram(st);
	}
	if (x->step == 1) {
		st = scram_verify(&x->scram, challenge->data, challenge->len,
		    err);
		x->server_proven = st == SCRAM_OK;
		return from_scram(st);
	}
	buf_setf(err, "the server sent a SCRAM challenge after the exchange "
	    "ended");
	return SASL_FAIL_PROTOCOL;
}

enum sasl_status
sasl_answer(struct sasl *x, const char *challenge, size_t len,
    struct buf *out, struct buf *err)
{
	struct buf raw = BUF_INIT;
	enum sasl_status st = SASL_OK;

	if (imap_unbase64(challenge, len, &raw) != 0) {
		buf_setf(err, "the server's challenge is not base64");
		buf_free(&raw);
		return SASL_FAIL_PROTOCOL;
	}
	if (raw.data == NULL)
		buf_adds(&raw, "");
	if (x->m == AUTH_CRAM_MD5)
		st = answer_cram(x, &raw, out, err);
	else if (is_scram(x->m))
		st = answer_scram(x, &raw, out, err);
	buf_free(&raw);
	x->step++;
	return st;
}

enum sasl_status
sasl_complete(const struct sasl *x, struct buf *err)
{
	if (!is_scram(x->m) || x->server_proven)
		return SASL_OK;
	buf_setf(err, "the server accepted the login without proving that "
	    "it knows the password (no SCRAM signature)");
	return SASL_FAIL_SERVER_PROOF;
}

void
sasl_free(struct sasl *x)
{
	scram_free(&x->scram);
}
