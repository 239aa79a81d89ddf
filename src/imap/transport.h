/*
 * transport: the byte stream between the IMAP client and a server, over
 * plain TCP, TLS (IMAPS, or STARTTLS upgraded by the client) or a Tunnel
 * command, optionally compressed (COMPRESS=DEFLATE).
 *
 * Contract:
 *  - transport_open copies what it needs from struct transport_options;
 *    the caller keeps ownership of the options and their strings.
 *  - The returned struct transport is owned by the caller and released by
 *    transport_free (which closes it first if needed). transport_close
 *    ends the connection (TLS close_notify, socket closed, Tunnel command
 *    reaped) but keeps the object for error reporting; every I/O call on
 *    a closed transport fails.
 *  - Every function that can fail returns 0 on success and -1 with a
 *    one-line message in err naming the peer ("127.0.0.1 port 993" or
 *    "tunnel 'CMD'"), what was being done and the cause.
 *  - Reads and writes wait with poll(); timeout is the longest the peer
 *    may stay silent (or not accept data) in one wait, not a bound on a
 *    whole operation; 0 means no limit. A wait cut short by a signal
 *    that set the options' stop flag fails at once ("PEER: interrupted",
 *    see interrupt.h).
 *  - transport_write writes everything, or fails; no data stays buffered
 *    inside the transport after it returns 0 (DEFLATE is flushed with
 *    Z_SYNC_FLUSH), so a command is on its way once written.
 *  - transport_read returns at least one byte. A peer that closes the
 *    stream is an error ("connection closed by PEER"); transport_at_eof
 *    then tells that it was an orderly end (after BYE, say).
 *  - STARTTLS and COMPRESS are negotiated by the client; it calls
 *    transport_start_tls / transport_start_deflate right after the
 *    server's OK, having read nothing past that response line (bytes
 *    beyond it would belong to the new layer).
 *  - Writes never raise SIGPIPE (tw_send()); no signal disposition of
 *    the process is changed.
 *  - When the peer may have bytes buffered inside the transport (TLS,
 *    DEFLATE), transport_pending is nonzero: a caller that polls
 *    transport_fd must read first while it is.
 */
#ifndef TWINBOX_IMAP_TRANSPORT_H
#define TWINBOX_IMAP_TRANSPORT_H

#include <stddef.h>

#include "util/buf.h"
#include "imap/tls.h"
#include "imap/tls_mode.h"
#include "interrupt.h"

struct transport_options {
	const char *host;	/* name or IP literal; also what TLS verifies */
	const char *port;	/* number or service name; NULL: port_number */
	unsigned port_number;	/* used when port is NULL; 0: 993 for IMAPS,
				 * 143 otherwise */
	int timeout;		/* seconds; 0 = wait forever */
	enum tls_mode tls;	/* TLS_STARTTLS: the client upgrades it */
	const char *ca_file;	/* CertificateFile: PEM certificates to trust */
	int system_certs;	/* SystemCertificates: trust the system store */
	const char *client_cert; /* ClientCertificate: PEM chain to present */
	const char *client_key;	/* ClientKey: its PEM private key; NULL: in
				 * client_cert */
	unsigned tls_versions;	/* enum tls_version bits; 0 = 1.2 and 1.3 */
	const char *fingerprint; /* SHA-256 of the server certificate (hex) */
	const char *ciphers;	/* CipherString (TLS 1.2 and below); NULL:
				 * OpenSSL's defaults */
	const char *tunnel;	/* run this instead of connecting to host */
	const interrupt_flag *stop;	/* NULL, or a wait that a signal cuts
					 * short while *stop is set fails */
};

struct transport;

/* The defaults: no TLS, system certificates trusted, TLS 1.2 and 1.3. */
void transport_options_init(struct transport_options *o);

/* Connect (or start the tunnel) and, for IMAPS, complete the verified TLS
 * handshake. Returns NULL with err set on failure. */
struct transport *transport_open(const struct transport_options *o,
    struct buf *err);

/* Wrap an already connected stream socket (taking ownership of fd), named
 * peer in messages; used for socketpairs and by tests. */
struct transport *transport_from_fd(int fd, const char *peer, int timeout);

/* Upgrade to TLS with the verification of transport_open. */
int transport_start_tls(struct transport *t, struct buf *err);

/* Compress both directions with raw DEFLATE (RFC 4978). */
int transport_start_deflate(struct transport *t, struct buf *err);

/* Read between 1 and cap bytes into data; *n tells how many. */
int transport_read(struct transport *t, void *data, size_t cap, size_t *n,
    struct buf *err);

/* Write all len bytes. */
int transport_write(struct transport *t, const void *data, size_t len,
    struct buf *err);

/* The descriptor to poll for readability; -1 once closed. */
int transport_fd(const struct transport *t);

/* Nonzero when a read may succeed without the descriptor being readable. */
int transport_pending(const struct transport *t);

/* "127.0.0.1 port 993" or "tunnel 'CMD'", for messages. */
const char *transport_peer(const struct transport *t);

int transport_is_tls(const struct transport *t);
int transport_is_compressed(const struct transport *t);

/* Nonzero once a read found that the peer closed the stream. */
int transport_at_eof(const struct transport *t);

/* From now on the waits are cut short by stop (interrupt.h; NULL:
 * never) instead of the flag the options gave. */
void transport_set_stop(struct transport *t, const interrupt_flag *stop);

void transport_close(struct transport *t);
void transport_free(struct transport *t);

#endif
