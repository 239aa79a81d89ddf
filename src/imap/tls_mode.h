/*
 * tls_mode: how a connection to an IMAP server uses TLS (mbsync's
 * TLSType, 1.4's SSLType), shared by the configuration, the IMAP store
 * and the transport, so that the three speak of one enum (as
 * tls_version.h for the protocol versions). The order is the one of
 * TLSType's values, None, STARTTLS, IMAPS (config_values.c reads them
 * by index).
 */
#ifndef TWINBOX_IMAP_TLS_MODE_H
#define TWINBOX_IMAP_TLS_MODE_H

enum tls_mode {
	TLS_NONE = 0,	/* plain text; the configuration's default when
			   Tunnel is set */
	TLS_STARTTLS,	/* plain, then STARTTLS before the login; port 143;
			   the configuration's default otherwise */
	TLS_IMAPS	/* TLS from the first byte, port 993 */
};

#endif
