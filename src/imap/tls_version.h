/*
 * tls_version: the TLS protocol versions as bits, shared by the
 * configuration (TLSVersions) and the TLS layer, so that both speak of the
 * same set with the same names.
 */
#ifndef TWINBOX_IMAP_TLS_VERSION_H
#define TWINBOX_IMAP_TLS_VERSION_H

enum tls_version {
	TLS_V1_0 = 1u << 0,
	TLS_V1_1 = 1u << 1,
	TLS_V1_2 = 1u << 2,
	TLS_V1_3 = 1u << 3,
	TLS_V_DEFAULT = TLS_V1_2 | TLS_V1_3	/* mbsync's default too */
};

#endif
