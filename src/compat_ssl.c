/*
 * compat_ssl: the OpenSSL 3 calls and their fallbacks for OpenSSL 1.1.1
 * and LibreSSL; see compat.h. A file of its own so that what links
 * compat.o alone (the test tools) needs no OpenSSL. As in compat.c, each
 * TW_HAVE_* names what this library has, and the portable build
 * (TW_COMPAT_PORTABLE) defines none.
 */
#include "compat.h"

#include <limits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifndef TW_COMPAT_PORTABLE
/* SSL_read_ex() and SSL_write_ex(): OpenSSL 1.1.1, LibreSSL 3.5. */
#if !defined(LIBRESSL_VERSION_NUMBER) || LIBRESSL_VERSION_NUMBER >= 0x3050000fL
#define TW_HAVE_SSL_EX 1
#endif
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(LIBRESSL_VERSION_NUMBER)
#define TW_HAVE_OPENSSL_3 1
#endif
#endif /* !TW_COMPAT_PORTABLE */

/* Security levels: OpenSSL 1.1.0, LibreSSL 3.6 (not a fallback: a
 * library without them has nothing to lower). */
#if !defined(LIBRESSL_VERSION_NUMBER) || LIBRESSL_VERSION_NUMBER >= 0x3060000fL
#define TW_HAVE_SECURITY_LEVEL 1
#endif

int
tw_ssl_read(struct ssl_st *ssl, void *data, size_t cap, size_t *n)
{
#ifdef TW_HAVE_SSL_EX
	return SSL_read_ex(ssl, data, cap, n);
#else
	int r = SSL_read(ssl, data, cap > INT_MAX ? INT_MAX : (int)cap);

	*n = r > 0 ? (size_t)r : 0;
	return r > 0 ? 1 : r;
#endif
}

int
tw_ssl_write(struct ssl_st *ssl, const void *data, size_t len, size_t *n)
{
#ifdef TW_HAVE_SSL_EX
	return SSL_write_ex(ssl, data, len, n);
#else
	int r = SSL_write(ssl, data, len > INT_MAX ? INT_MAX : (int)len);

	*n = r > 0 ? (size_t)r : 0;
	return r > 0 ? 1 : r;
#endif
}

struct x509_st *
tw_ssl_peer_cert(const struct ssl_st *ssl)
{
#ifdef TW_HAVE_OPENSSL_3
	return SSL_get0_peer_certificate(ssl);
#else
	/* A new reference; the session keeps its own, so the certificate
	 * stays valid for as long as ssl. */
	X509 *cert = SSL_get_peer_certificate(ssl);

	X509_free(cert);
	return cert;
#endif
}

int
tw_md_size(const struct evp_md_st *md)
{
#ifdef TW_HAVE_OPENSSL_3
	return EVP_MD_get_size(md);
#else
	return EVP_MD_size(md);
#endif
}

void
tw_ssl_ctx_allow_old_tls(struct ssl_ctx_st *ctx)
{
#ifdef TW_HAVE_SECURITY_LEVEL
	SSL_CTX_set_security_level(ctx, 0);
#else
	(void)ctx;
#endif
}

/* OpenSSL 3 reports a peer that hung up without close_notify as this
 * error; earlier versions and LibreSSL as a system call error. */
int
tw_ssl_is_eof_error(unsigned long err)
{
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	return ERR_GET_LIB(err) == ERR_LIB_SSL &&
	    ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
	(void)err;
	return 0;
#endif
}
