/*
 * tls: the TLS layer of a transport (OpenSSL 3), with certificate
 * verification on by default, and the parsers for the TLS options.
 *
 * Contract:
 *  - A TLS layer verifies the server's certificate chain against the CA
 *    file and/or the system store, and the host name (DNS name with SNI,
 *    or IP literal) against the certificate; optionally it also requires
 *    the SHA-256 fingerprint of the server's certificate to match a pin.
 *    There is no switch to turn verification off: a certificate that the
 *    system does not trust is trusted by naming it (or its CA) in the CA
 *    file.
 *  - tls_layer_new borrows every string of struct tls_params for the
 *    duration of the call only; on failure the layer below is untouched
 *    and still owned by the caller, on success the TLS layer owns it.
 *  - The layer talks to the descriptor of the layer below directly and
 *    sends with tw_send() (compat.h), so it must sit right above a descriptor
 *    layer, and a vanished peer never raises SIGPIPE.
 *  - Messages put into err are causes without the peer's name (the
 *    transport adds it); verification failures say why (OpenSSL's verify
 *    error string) and what to do about it.
 */
#ifndef TWINBOX_IMAP_TLS_H
#define TWINBOX_IMAP_TLS_H

#include "util/buf.h"
#include "imap/layer.h"
#include "imap/tls_version.h"

/* Bits of an allowed-versions set. */

#define TLS_FINGERPRINT_LEN 32	/* SHA-256 */

struct tls_params {
	const char *host;	/* name or IP literal the certificate must match */
	const char *ca_file;	/* PEM CA certificates to trust, or NULL */
	int system_certs;	/* also trust the system's CA store */
	const char *client_cert; /* PEM chain presented to the server, or NULL */
	const char *client_key;	/* its PEM key; NULL: read from client_cert */
	unsigned versions;	/* enum tls_version bits; 0 means the default */
	const char *ciphers;	/* OpenSSL cipher list, or NULL */
	const unsigned char *pin; /* TLS_FINGERPRINT_LEN bytes, or NULL */
};

/*
 * Parse a TLSVersions value: whitespace-separated versions "1.0" "1.1"
 * "1.2" "1.3" (an optional "TLSv" prefix is accepted), each optionally
 * prefixed by '+' (allow) or '-' (refuse). When the first item has a sign
 * the set starts from the default (1.2 and 1.3); otherwise it starts
 * empty, so that "1.3" alone means exactly TLS 1.3. An empty result is an
 * error. Returns 0 and the set in *mask, or -1 with err set.
 */
int tls_parse_versions(const char *spec, unsigned *mask, struct buf *err);

/* Parse a SHA-256 fingerprint: 64 hex digits, colons allowed between
 * them, either case. Returns 0, or -1 with err set. */
int tls_parse_fingerprint(const char *spec,
    unsigned char out[TLS_FINGERPRINT_LEN], struct buf *err);

/* A TLS client layer over below (whose descriptor is fd); call
 * tls_handshake until it stops wanting before any read or write. */
struct layer *tls_layer_new(struct layer *below, int fd,
    const struct tls_params *p, struct buf *err);

/* Drive the handshake and the checks: IO_OK once the peer is verified,
 * IO_WANT_* to be called again, IO_EOF if the peer hung up, IO_ERROR. */
enum io_status tls_handshake(struct layer *l, struct buf *err);

#endif
