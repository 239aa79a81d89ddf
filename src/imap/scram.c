/* scram: SASL SCRAM-SHA-1 and SCRAM-SHA-256, client side; see scram.h. */
#include "imap/scram.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "compat.h"
#include "imap/auth.h"

#define NONCE_BYTES 24

static const EVP_MD *
digest(enum scram_hash h)
{
	return h == SCRAM_SHA_256 ? EVP_sha256() : EVP_sha1();
}

static int
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* RFC 5802 saslname: "=" and "," escaped. */
static void
add_saslname(struct buf *out, const char *user)
{
	for (; *user != '\0'; user++) {
		if (*user == '=')
			buf_adds(out, "=3D");
		else if (*user == ',')
			buf_adds(out, "=2C");
		else
			buf_addc(out, *user);
	}
}

static enum scram_status
make_nonce(struct buf *out, struct buf *err)
{
	unsigned char raw[NONCE_BYTES];

	if (RAND_bytes(raw, sizeof raw) != 1) {
		buf_setf(err, "cannot draw a random nonce");
		return SCRAM_CRYPTO;
	}
	imap_base64(raw, sizeof raw, out);
	return SCRAM_OK;
}

enum scram_status
scram_start(struct scram *s, enum scram_hash h, const char *user,
    const char *pass, const char *nonce, struct buf *out, struct buf *err)
{
	enum scram_status st;

	if (!printable_ascii(user) || !printable_ascii(pass)) {
		buf_setf(err, "the user name or the password holds a character "
		    "outside printable ASCII, which twinbox cannot prepare "
		    "for SCRAM (SASLprep); use AuthMechs PLAIN over TLS");
		return SCRAM_BAD_INPUT;
	}
	s->hash = h;
	s->pass = xstrdup(pass);
	if (nonce != NULL)
		buf_adds(&s->nonce, nonce);
	else if ((st = make_nonce(&s->nonce, err)) != SCRAM_OK)
		return st;
	buf_adds(&s->first_bare, "n=");
	add_saslname(&s->first_bare, user);
	buf_addf(&s->first_bare, ",r=%s", s->nonce.data);
	buf_addf(out, "n,,%s", s->first_bare.data);
	return SCRAM_OK;
}

/* The server's first message, its attributes in RFC 5802's order. */
struct server_first {
	const char *nonce;
	size_t nonce_len;
	struct buf salt;
	unsigned long iter;
};

/* The value of attribute a at *p ("a=value,..."), advancing *p. */
static int
attribute(const char **p, const char *end, char a, const char **v,
    size_t *len)
{
	const char *comma;

	if (end - *p < 2 || (*p)[0] != a || (*p)[1] != '=')
		return -1;
	*v = *p + 2;
	comma = memchr(*v, ',', (size_t)(end - *v));
	*len = (size_t)((comma != NULL ? comma : end) - *v);
	*p = comma != NULL ? comma + 1 : end;
	return 0;
}

static int
all_digits(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return len > 0;
}

static enum scram_status
parse_server_first(const struct scram *s, const char *msg, size_t len,
    struct server_first *f, struct buf *err)
{
	const char *p = msg, *end = msg + len, *v;
	size_t vlen;
	char num[16];

	if (len > 0 && msg[0] == 'm') {
		buf_setf(err, "the server requires a SCRAM extension "
		    "twinbox does not know");
		return SCRAM_BAD_MESSAGE;
	}
	if (attribute(&p, end, 'r', &f->nonce, &f->nonce_len) != 0 ||
	    f->nonce_len <= s->nonce.len ||
	    memcmp(f->nonce, s->nonce.data, s->nonce.len) != 0) {
		buf_setf(err, "the server's SCRAM challenge does not extend "
		    "our nonce");
		return SCRAM_BAD_MESSAGE;
	}
	if (attribute(&p, end, 's', &v, &vlen) != 0 ||
	    imap_unbase64(v, vlen, &f->salt) != 0 || f->salt.len == 0) {
		buf_setf(err, "the server's SCRAM challenge has no valid salt");
		return SCRAM_BAD_MESSAGE;
	}
	if (attribute(&p, end, 'i', &v, &vlen) != 0 || !all_digits(v, vlen) ||
	    vlen >= sizeof num) {
		buf_setf(err, "the server's SCRAM challenge has no valid "
		    "iteration count");
		return SCRAM_BAD_MESSAGE;
	}
	memcpy(num, v, vlen);
	num[vlen] = '\0';
	f->iter = strtoul(num, NULL, 10);
	if (f->iter < 1 || f->iter > SCRAM_MAX_ITERATIONS) {
		buf_setf(err, "the server asks for %s SCRAM iterations; "
		    "expected 1 to %d", num, SCRAM_MAX_ITERATIONS);
		return SCRAM_BAD_MESSAGE;
	}
	return SCRAM_OK;
}

static int
hmac(enum scram_hash h, const void *key, size_t klen, const void *data,
    size_t dlen, unsigned char *out)
{
	unsigned int n = 0;

	return HMAC(digest(h), key, (int)klen, data, dlen, out, &n) != NULL ?
	    0 : -1;
}

/* The keys of RFC 5802 section 3, wiped by the caller. */
struct keys {
	unsigned char salted[SCRAM_MAX_HASH];
	unsigned char client_key[SCRAM_MAX_HASH];
	unsigned char stored_key[SCRAM_MAX_HASH];
	unsigned char server_key[SCRAM_MAX_HASH];
	unsigned char client_sig[SCRAM_MAX_HASH];
};

static int
derive(const struct scram *s, const struct server_first *f,
    const struct buf *auth_msg, struct keys *k, size_t n)
{
	unsigned int slen = 0;

	if (PKCS5_PBKDF2_HMAC(s->pass, (int)strlen(s->pass),
	    (const unsigned char *)f->salt.data, (int)f->salt.len,
	    (int)f->iter, digest(s->hash), (int)n, k->salted) != 1 ||
	    hmac(s->hash, k->salted, n, "Client Key", 10, k->client_key) ||
	    EVP_Digest(k->client_key, n, k->stored_key, &slen,
	    digest(s->hash), NULL) != 1 ||
	    hmac(s->hash, k->stored_key, n, auth_msg->data, auth_msg->len,
	    k->client_sig) ||
	    hmac(s->hash, k->salted, n, "Server Key", 10, k->server_key))
		return -1;
	return 0;
}

enum scram_status
scram_client_final(struct scram *s, const char *server, size_t len,
    struct buf *out, struct buf *err)
{
	struct server_first f = { NULL, 0, BUF_INIT, 0 };
	struct buf auth_msg = BUF_INIT, without_proof = BUF_INIT;
	struct keys k;
	size_t n = (size_t)tw_md_size(digest(s->hash));
	enum scram_status st;

	st = parse_server_first(s, server, len, &f, err);
	if (st != SCRAM_OK)
		goto out;
	/* "biws" is base64 of the GS2 header "n,,". */
	buf_addf(&without_proof, "c=biws,r=%.*s", (int)f.nonce_len, f.nonce);
	buf_addf(&auth_msg, "%s,", s->first_bare.data);
	buf_add(&auth_msg, server, len);
	buf_addf(&auth_msg, ",%s", without_proof.data);
	if (derive(s, &f, &auth_msg, &k, n) != 0 ||
	    hmac(s->hash, k.server_key, n, auth_msg.data, auth_msg.len,
	    s->server_sig) != 0) {
		buf_setf(err, "cannot compute the SCRAM proof");
		st = SCRAM_CRYPTO;
		goto wipe;
	}
	s->sig_len = n;
	for (size_t i = 0; i < n; i++)
		k.client_key[i] ^= k.client_sig[i];
	buf_addf(out, "%s,p=", without_proof.data);
	imap_base64(k.client_key, n, out);
wipe:
	OPENSSL_cleanse(&k, sizeof k);
out:
	buf_free(&f.salt);
	buf_free(&auth_msg);
	buf_free(&without_proof);
	return st;
}

enum scram_status
scram_verify(const struct scram *s, const char *server, size_t len,
    struct buf *err)
{
	const char *p = server, *end = server + len, *v;
	size_t vlen;
	struct buf sig = BUF_INIT;
	int ok;

	if (attribute(&p, end, 'e', &v, &vlen) == 0) {
		buf_setf(err, "the server ended SCRAM with the error "
		    "'%.*s'", (int)(vlen > 100 ? 100 : vlen), v);
		return SCRAM_SERVER_ERROR;
	}
	p = server;
	if (s->sig_len == 0 || attribute(&p, end, 'v', &v, &vlen) != 0 ||
	    imap_unbase64(v, vlen, &sig) != 0) {
		buf_free(&sig);
		buf_setf(err, "the server's final SCRAM message carries no "
		    "signature");
		return SCRAM_BAD_MESSAGE;
	}
	ok = sig.len == s->sig_len &&
	    CRYPTO_memcmp(sig.data, s->server_sig, s->sig_len) == 0;
	buf_free(&sig);
	if (ok)
		return SCRAM_OK;
	buf_setf(err, "the server's SCRAM signature is wrong: it does not "
	    "know the password, or something between us and it is "
	    "impersonating it; check Host and the server's certificate");
	return SCRAM_BAD_SIGNATURE;
}

void
scram_free(struct scram *s)
{
	if (s->pass != NULL) {
		OPENSSL_cleanse(s->pass, strlen(s->pass));
		free(s->pass);
		s->pass = NULL;
	}
	buf_free(&s->first_bare);
	buf_free(&s->nonce);
	OPENSSL_cleanse(s->server_sig, sizeof s->server_sig);
	s->sig_len = 0;
}
