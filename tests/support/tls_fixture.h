/*
 * tls_fixture: certificates made at test time, and the server side of TLS
 * for in-process test servers.
 *
 *  - tlsf_create makes a temporary directory holding a test CA and
 *    certificates it signed, made with the openssl command; every
 *    failure fails the current test with the command and its output.
 *  - Every path in struct tls_fixture is malloc'd and owned by the
 *    fixture until tlsf_destroy, which also removes the directory.
 */
#ifndef TWINBOX_TLS_FIXTURE_H
#define TWINBOX_TLS_FIXTURE_H

#include <openssl/ssl.h>

struct tls_fixture {
	char *dir;
	char *ca_cert;		/* the CA that signed good and wrong */
	char *good_cert;	/* subjectAltName IP:127.0.0.1, DNS:localhost */
	char *good_key;
	char *good_sha256;	/* "AB:CD:..." as openssl prints it */
	char *wrong_cert;	/* subjectAltName DNS:wrong.example only */
	char *wrong_key;
	char *self_cert;	/* self-signed, IP:127.0.0.1, DNS:localhost */
	char *self_key;
};

void tlsf_create(struct tls_fixture *f);
void tlsf_destroy(struct tls_fixture *f);

/* A server SSL_CTX with cert and key; max_version 0 means no limit.
 * Returns NULL on failure (servers run in a child: they just exit). */
SSL_CTX *tlsf_server_ctx(const char *cert, const char *key, int max_version);

#endif
