/* auth: login mechanism choice and SASL messages; see auth.h. */
#include "imap/auth.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char *const mech_names[] = {
	[AUTH_OAUTHBEARER] = "OAUTHBEARER",
	[AUTH_XOAUTH2] = "XOAUTH2",
	[AUTH_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[AUTH_SCRAM_SHA_1] = "SCRAM-SHA-1",
	[AUTH_CRAM_MD5] = "CRAM-MD5",
	[AUTH_PLAIN] = "PLAIN",
	[AUTH_LOGIN] = "LOGIN",
};

#define NMECHS (sizeof(mech_names) / sizeof(mech_names[0]))

const char *
imap_auth_name(enum imap_auth_mech m)
{
	return mech_names[m];
}

static int
named(const struct strlist *mechs, const char *name)
{
	for (size_t i = 0; mechs != NULL && i < mechs->n; i++)
		if (strcasecmp(mechs->v[i], name) == 0)
			return 1;
	return 0;
}

static int
allowed(const struct strlist *mechs, enum imap_auth_mech m, int *explicit)
{
	int star = mechs == NULL || mechs->n == 0 || named(mechs, "*");

	*explicit = named(mechs, mech_names[m]);
	if (*explicit)
		return 1;
	return star && m != AUTH_OAUTHBEARER && m != AUTH_XOAUTH2;
}

static int
offered(const struct imap_caps *caps, enum imap_auth_mech m)
{
	if (m == AUTH_LOGIN)
		return !(caps->bits & CAP_LOGINDISABLED);
	return imap_caps_has_auth(caps, mech_names[m]);
}

static void
describe_offer(const struct imap_caps *caps, struct buf *out)
{
	for (size_t i = 0; i < caps->auth.n; i++)
		buf_addf(out, "%s%s", i ? " " : "", caps->auth.v[i]);
	if (!(caps->bits & CAP_LOGINDISABLED) &&
	    !imap_caps_has_auth(caps, "LOGIN"))
		buf_addf(out, "%sLOGIN", caps->auth.n ? " " : "");
	if (out->len == 0)
		buf_adds(out, "nothing");
}

/* The first mechanism from `from` on, in the order of preference, that
 * AuthMechs allows and the server offers; NMECHS when none is. */
static size_t
first_usable(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, size_t from, int *refused_insecure)
{
	for (size_t i = from; i < NMECHS; i++) {
		enum imap_auth_mech m = (enum imap_auth_mech)i;
		int explicit;

		if (!allowed(mechs, m, &explicit) || !offered(caps, m))
			continue;
		if (!secure && !explicit &&
		    (m == AUTH_PLAIN || m == AUTH_LOGIN)) {
			*refused_insecure = 1;
			continue;
		}
		return i;
	}
	return NMECHS;
}

int
imap_auth_next(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, enum imap_auth_mech refused, enum imap_auth_mech *out)
{
	int refused_insecure = 0;
	size_t i;

	if (refused != AUTH_SCRAM_SHA_256 && refused != AUTH_SCRAM_SHA_1 &&
	    refused != AUTH_CRAM_MD5)
		return -1;
	i = first_usable(mechs, caps, secure, (size_t)refused + 1,
	    &refused_insecure);
	if (i == NMECHS)
		return -1;
	*out = (enum imap_auth_mech)i;
	return 0;
}

int
imap_auth_choose(const struct strlist *mechs, const struct imap_caps *caps,
    int secure, const char *peer, enum imap_auth_mech *out, struct buf *err)
{
	int refused_insecure = 0;
	struct buf offer = BUF_INIT;
	size_t first = first_usable(mechs, caps, secure, 0, &refused_insecure);

	if (first < NMECHS) {
		*out = (enum imap_auth_mech)first;
		return 0;
	}
	if (refused_insecure) {
		buf_setf(err, "%s: refusing to send the password in clear "
		    "text over an unencrypted connection; use TLSType IMAPS "
		    "or STARTTLS, or name LOGIN or PLAIN in AuthMechs to "
		    "allow it", peer);
		return -1;
	}
	describe_offer(caps, &offer);
	buf_setf(err, "%s: no usable authentication mechanism: the server "
	    "offers %s, AuthMechs allows ", peer, offer.data);
	for (size_t i = 0; mechs != NULL && i < mechs->n; i++)
		buf_addf(err, "%s%s", i ? " " : "", mechs->v[i]);
	if (mechs == NULL || mechs->n == 0)
		buf_adds(err, "*");
	buf_free(&offer);
	return -1;
}

void
imap_base64(const void *data, size_t len, struct buf *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;

	/* Room first: what is encoded may be a secret, and a buffer that
	 * moved would leave a copy of it behind (buf_wipe()). */
	buf_grow(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		buf_addc(out, abc[(v >> 18) & 63]);
		buf_addc(out, abc[(v >> 12) & 63]);
		buf_addc(out, left > 1 ? abc[(v >> 6) & 63] : '=');
		buf_addc(out, left > 2 ? abc[v & 63] : '=');
	}
}

static int
unbase64_value(char ch)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch != '\0' ? strchr(abc, ch) : NULL;

	return p != NULL ? (int)(p - abc) : -1;
}

int
imap_unbase64(const char *text, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i = 0;

	for (; i < len && text[i] != '='; i++) {
		int v = unbase64_value(text[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (char)((acc >> bits) & 0xff));
		}
	}
	for (; i < len; i++)
		if (text[i] != '=')
			return -1;
	return bits >= 6 ? -1 : 0;
}

int
imap_sasl_cram_md5(const char *user, const char *pass, const char *challenge,
    size_t len, struct buf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_md5(), pass, (int)strlen(pass),
	    (const unsigned char *)challenge, len, md, &n) == NULL)
		return -1;
	buf_addf(out, "%s ", user);
	for (unsigned int i = 0; i < n; i++)
		buf_addf(out, "%02x", md[i]);
	OPENSSL_cleanse(md, sizeof md);
	return 0;
}

/* The raw messages hold the secret: wipe them before freeing. */
static void
encode_and_wipe(struct buf *raw, struct buf *out)
{
	imap_base64(raw->data, raw->len, out);
	if (raw->data != NULL)
		OPENSSL_cleanse(raw->data, raw->len);
	buf_free(raw);
}

void
imap_sasl_plain(const char *user, const char *pass, struct buf *out)
{
	struct buf raw = BUF_INIT;

	buf_grow(&raw, strlen(user) + strlen(pass) + 2);	/* never moved */
	buf_addc(&raw, '\0');
	buf_adds(&raw, user);
	buf_addc(&raw, '\0');
	buf_adds(&raw, pass);
	encode_and_wipe(&raw, out);
}

void
imap_sasl_xoauth2(const char *user, const char *token, struct buf *out)
{
	struct buf raw = BUF_INIT;

	buf_grow(&raw, strlen(user) + strlen(token) + 32);	/* never moved */
	buf_addf(&raw, "user=%s\001auth=Bearer %s\001\001", user, token);
	encode_and_wipe(&raw, out);
}

void
imap_sasl_oauthbearer(const char *user, const char *host, unsigned port,
    const char *token, struct buf *out)
{
	struct buf raw = BUF_INIT;

	/* never moved */
	buf_grow(&raw, strlen(user) + strlen(host) + strlen(token) + 64);
	buf_addf(&raw, "n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s"
	    "\001\001", user, host, port, token);
	encode_and_wipe(&raw, out);
}
