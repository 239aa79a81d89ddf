/*
 * tls_bio: the socket BIO under the TLS layer (internal to src/imap).
 *
 * OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE
 * when the server has gone; this one uses tw_send() (compat.h), which
 * reports EPIPE instead, and leaves the process's signal dispositions
 * alone.
 *
 * Contract:
 *  - The BIO's data (BIO_set_data) points to the int holding the socket,
 *    which the caller owns and keeps alive as long as the BIO; the BIO
 *    never closes it. Set BIO_set_init(b, 1) before use.
 *  - The caller owns the returned method and frees it with BIO_meth_free
 *    after every BIO made from it is gone. NULL if OpenSSL is out of
 *    memory.
 */
#ifndef TWINBOX_IMAP_TLS_BIO_H
#define TWINBOX_IMAP_TLS_BIO_H

#include <openssl/bio.h>

BIO_METHOD *tls_bio_socket_method(void);

#endif
