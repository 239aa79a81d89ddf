/* tls: the TLS client layer over OpenSSL 3; see tls.h for the contract. */
#include "imap/tls.h"
#include "imap/tls_bio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "compat.h"

struct tls_layer {
	struct layer base;
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	BIO_METHOD *bio_method;
	X509 *leaf;		/* the server's certificate, once seen */
	int pinned;
	unsigned char pin[TLS_FINGERPRINT_LEN];
};

/* The reason of the most recent OpenSSL error, for messages. */
static const char *
openssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : "unknown TLS library error";
}

static const struct {
	unsigned bit;
	int proto;
	uint64_t disable;
} version_protos[] = {
	{ TLS_V1_0, TLS1_VERSION, SSL_OP_NO_TLSv1 },
	{ TLS_V1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
	{ TLS_V1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
	{ TLS_V1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
};

#define N_VERSION_PROTOS (sizeof version_protos / sizeof version_protos[0])

/* Bound the protocol by the lowest and highest allowed version and
 * switch off any version in between that is not allowed. */
static void
set_versions(SSL_CTX *ctx, unsigned versions)
{
	int min = 0, max = 0;

	for (size_t i = 0; i < N_VERSION_PROTOS; i++) {
		if (versions & version_protos[i].bit) {
			if (min == 0)
				min = version_protos[i].proto;
			max = version_protos[i].proto;
		} else
			SSL_CTX_set_options(ctx, version_protos[i].disable);
	}
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_max_proto_version(ctx, max);
	/* OpenSSL's default security level refuses TLS below 1.2 even when
	 * the range allows it; the user asked for it explicitly. */
	if (min < TLS1_2_VERSION)
		tw_ssl_ctx_allow_old_tls(ctx);
}

static int
load_ca_file(SSL_CTX *ctx, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		buf_setf(err, "CertificateFile %s: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		buf_setf(err, "CertificateFile %s: cannot load certificates: "
		    "%s", path, openssl_reason());
		return -1;
	}
	return 0;
}

/* Never prompt on the terminal for a key's pass phrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
is_key_mismatch(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
}

static int
readable(const char *key, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		buf_setf(err, "%s %s: %s", key, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* ClientCertificate and ClientKey: the chain and the key that prove who
 * we are to a server that asks; a key that does not match is an error
 * here rather than a refusal by the server. */
static int
load_client_cert(SSL_CTX *ctx, const struct tls_params *p, struct buf *err)
{
	const char *key = p->client_key != NULL ? p->client_key :
	    p->client_cert;
	const char *key_name = p->client_key != NULL ? "ClientKey" :
	    "ClientCertificate";

	if (p->client_cert == NULL)
		return 0;
	if (readable("ClientCertificate", p->client_cert, err) < 0 ||
	    readable(key_name, key, err) < 0)
		return -1;
	if (SSL_CTX_use_certificate_chain_file(ctx, p->client_cert) != 1) {
		buf_setf(err, "ClientCertificate %s: cannot load a PEM "
		    "certificate: %s", p->client_cert, openssl_reason());
		return -1;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 &&
	    is_key_mismatch()) {
		buf_setf(err, "%s %s does not match ClientCertificate %s: "
		    "name the key of that certificate", key_name, key,
		    p->client_cert);
		return -1;
	}
	if (SSL_CTX_get0_privatekey(ctx) == NULL) {
		buf_setf(err, "%s %s: cannot load a PEM private key (%s); "
		    "a key protected by a pass phrase is not supported: "
		    "store it decrypted, readable only by you", key_name, key,
		    openssl_reason());
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		buf_setf(err, "%s %s does not match ClientCertificate %s: "
		    "name the key of that certificate", key_name, key,
		    p->client_cert);
		return -1;
	}
	return 0;
}

static SSL_CTX *
make_ctx(const struct tls_params *p, struct buf *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		buf_setf(err, "cannot set up TLS: %s", openssl_reason());
		return NULL;
	}
	set_versions(ctx, p->versions != 0 ? p->versions : TLS_V_DEFAULT);
	if (p->ciphers != NULL && SSL_CTX_set_cipher_list(ctx, p->ciphers) != 1) {
		buf_setf(err, "CipherString '%s': %s", p->ciphers,
		    openssl_reason());
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (p->ca_file != NULL && load_ca_file(ctx, p->ca_file, err) < 0)
		goto fail;
	if (p->system_certs && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		buf_setf(err, "cannot load the system's CA certificates: %s",
		    openssl_reason());
		goto fail;
	}
	if (load_client_cert(ctx, p, err) < 0)
		goto fail;
	if (p->ca_file == NULL && !p->system_certs) {
		buf_setf(err, "no certificate to verify the server against: "
		    "set CertificateFile, or SystemCertificates yes");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int
is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/* SNI and the name the certificate must carry. */
static int
set_peer_name(SSL *ssl, const char *host, struct buf *err)
{
	int ok;

	if (is_ip_literal(host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set_tlsext_host_name(ssl, host) == 1 &&
		    SSL_set1_host(ssl, host) == 1;
	}
	if (!ok)
		buf_setf(err, "cannot set up TLS for host name '%s': %s", host,
		    openssl_reason());
	return ok ? 0 : -1;
}

static int
attach_socket(struct tls_layer *t, struct buf *err)
{
	BIO *bio;

	t->bio_method = tls_bio_socket_method();
	bio = t->bio_method != NULL ? BIO_new(t->bio_method) : NULL;
	if (bio == NULL) {
		buf_setf(err, "cannot set up TLS: %s", openssl_reason());
		return -1;
	}
	BIO_set_data(bio, &t->fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(t->ssl, bio, bio);
	return 0;
}

static const struct layer_ops tls_ops;

/* OpenSSL forgets the server's certificate when verification fails, yet
 * its names are what the user needs to see then: keep a reference. */
static int
remember_leaf(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_layer *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(store);

	if (t != NULL && t->leaf == NULL && leaf != NULL &&
	    X509_up_ref(leaf) == 1)
		t->leaf = leaf;
	return ok;
}

static void
tls_free_parts(struct tls_layer *t)
{
	X509_free(t->leaf);
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	BIO_meth_free(t->bio_method);
	free(t);
}

struct layer *
tls_layer_new(struct layer *below, int fd, const struct tls_params *p,
    struct buf *err)
{
	struct tls_layer *t = xcalloc(1, sizeof *t);

	ERR_clear_error();
	t->base.ops = &tls_ops;
	t->fd = fd;
	if (p->host == NULL || *p->host == '\0') {
		buf_setf(err, "TLS needs the server's host name to verify its "
		    "certificate");
		goto fail;
	}
	t->ctx = make_ctx(p, err);
	if (t->ctx == NULL)
		goto fail;
	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL) {
		buf_setf(err, "cannot set up TLS: %s", openssl_reason());
		goto fail;
	}
	SSL_set_app_data(t->ssl, t);
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, remember_leaf);
	if (set_peer_name(t->ssl, p->host, err) < 0 ||
	    attach_socket(t, err) < 0)
		goto fail;
	if (p->pin != NULL) {
		t->pinned = 1;
		memcpy(t->pin, p->pin, sizeof t->pin);
	}
	t->base.below = below;
	return &t->base;
fail:
	tls_free_parts(t);
	return NULL;
}

/* " (the certificate is for DNS:a, IP:b)" from its subjectAltName, so the
 * user sees which name to connect with. */
static void
add_cert_names(X509 *cert, struct buf *err)
{
	GENERAL_NAMES *names;
	const char *sep = " (the certificate is for ";
	char ip[INET6_ADDRSTRLEN];

	if (cert == NULL)
		return;
	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s;

		if (g->type == GEN_DNS) {
			s = g->d.dNSName;
			buf_addf(err, "%sDNS:%.*s", sep, ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			s = g->d.iPAddress;
			if (inet_ntop(ASN1_STRING_length(s) == 4 ? AF_INET :
			    AF_INET6, ASN1_STRING_get0_data(s), ip,
			    sizeof ip) == NULL)
				continue;
			buf_addf(err, "%sIP:%s", sep, ip);
		} else
			continue;
		sep = ", ";
	}
	if (strcmp(sep, ", ") == 0)
		buf_addc(err, ')');
	GENERAL_NAMES_free(names);
}

static void
verify_error(X509 *leaf, long result, struct buf *err)
{
	buf_setf(err, "certificate verify failed: %s",
	    X509_verify_cert_error_string(result));
	if (result == X509_V_ERR_HOSTNAME_MISMATCH ||
	    result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		add_cert_names(leaf, err);
		buf_adds(err, "; connect with a name the certificate is "
		    "issued for");
		return;
	}
	buf_adds(err, "; if you trust this server's certificate, name it or "
	    "the CA that issued it in CertificateFile");
}

/* The peer hung up without a TLS close_notify: OpenSSL 3 reports an
 * error, older versions a system call error with nothing queued. */
static int
is_unexpected_eof(int ssl_error, int saved_errno)
{
	unsigned long e = ERR_peek_last_error();

	if (ssl_error == SSL_ERROR_SYSCALL)
		return e == 0 && saved_errno == 0;
	return ssl_error == SSL_ERROR_SSL && tw_ssl_is_eof_error(e);
}

/* Map the failure of an SSL_* call made right before. */
static enum io_status
ssl_status(struct tls_layer *t, int ret, int saved_errno, struct buf *err)
{
	int e = SSL_get_error(t->ssl, ret);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return IO_EOF;
	default:
		break;
	}
	if (is_unexpected_eof(e, saved_errno))
		return IO_EOF;
	if (e == SSL_ERROR_SYSCALL && saved_errno != 0)
		buf_setf(err, "%s", strerror(saved_errno));
	else
		buf_setf(err, "TLS error: %s", openssl_reason());
	return IO_ERROR;
}

static void
add_fingerprint(struct buf *out, const unsigned char *md, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf_addf(out, "%s%02X", i > 0 ? ":" : "", md[i]);
}

static enum io_status
check_pin(struct tls_layer *t, struct buf *err)
{
	X509 *cert = tw_ssl_peer_cert(t->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!t->pinned)
		return IO_OK;
	if (cert == NULL || !X509_digest(cert, EVP_sha256(), md, &len) ||
	    len != TLS_FINGERPRINT_LEN) {
		buf_setf(err, "cannot compute the fingerprint of the server's "
		    "certificate: %s", openssl_reason());
		return IO_ERROR;
	}
	if (memcmp(md, t->pin, len) == 0)
		return IO_OK;
	buf_setf(err, "certificate fingerprint mismatch: the server's "
	    "certificate has SHA-256 fingerprint ");
	add_fingerprint(err, md, len);
	buf_adds(err, ", not the configured ");
	add_fingerprint(err, t->pin, len);
	return IO_ERROR;
}

static int
is_version_failure(void)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	return ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
	    reason == SSL_R_UNSUPPORTED_PROTOCOL ||
	    reason == SSL_R_NO_PROTOCOLS_AVAILABLE);
}

enum io_status
tls_handshake(struct layer *l, struct buf *err)
{
	struct tls_layer *t = (struct tls_layer *)l;
	enum io_status st;
	long verified;
	int r, saved_errno;

	ERR_clear_error();
	errno = 0;
	r = SSL_connect(t->ssl);
	saved_errno = errno;
	if (r == 1)
		return check_pin(t, err);
	verified = SSL_get_verify_result(t->ssl);
	if (verified != X509_V_OK) {
		verify_error(t->leaf, verified, err);
		return IO_ERROR;
	}
	st = ssl_status(t, r, saved_errno, err);
	if (st == IO_ERROR && is_version_failure())
		buf_adds(err, " (the server and TLSVersions have no TLS "
		    "version in common)");
	return st;
}

static enum io_status
tls_read(struct layer *l, void *data, size_t cap, size_t *n, struct buf *err)
{
	struct tls_layer *t = (struct tls_layer *)l;
	int saved_errno;

	ERR_clear_error();
	errno = 0;
	if (tw_ssl_read(t->ssl, data, cap, n) == 1)
		return IO_OK;
	saved_errno = errno;
	return ssl_status(t, 0, saved_errno, err);
}

static enum io_status
tls_write(struct layer *l, const void *data, size_t len, size_t *n,
    struct buf *err)
{
	struct tls_layer *t = (struct tls_layer *)l;
	int saved_errno;

	ERR_clear_error();
	errno = 0;
	if (tw_ssl_write(t->ssl, data, len, n) == 1)
		return IO_OK;
	saved_errno = errno;
	return ssl_status(t, 0, saved_errno, err);
}

/* SSL_write returns only once a record is handed to the socket. */
static enum io_status
tls_flush(struct layer *l, struct buf *err)
{
	(void)l;
	(void)err;
	return IO_OK;
}

static int
tls_pending(const struct layer *l)
{
	const struct tls_layer *t = (const struct tls_layer *)l;

	/* Decrypted bytes only: without read-ahead, OpenSSL holds no
	 * undecrypted record that the descriptor would not announce. */
	return SSL_pending(t->ssl) > 0;
}

/* One close_notify, without waiting for the server's. */
static void
tls_shutdown(struct layer *l)
{
	struct tls_layer *t = (struct tls_layer *)l;

	if (SSL_is_init_finished(t->ssl)) {
		ERR_clear_error();
		(void)SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
}

static void
tls_free(struct layer *l)
{
	struct tls_layer *t = (struct tls_layer *)l;
	struct layer *below = t->base.below;

	tls_free_parts(t);
	if (below != NULL)
		below->ops->free(below);
}

static const struct layer_ops tls_ops = {
	.read = tls_read,
	.write = tls_write,
	.flush = tls_flush,
	.pending = tls_pending,
	.shutdown = tls_shutdown,
	.free = tls_free,
};
