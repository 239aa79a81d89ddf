/* tls_opts: parsers for TLSVersions and certificate fingerprints; see
 * tls.h for the contract. */
#include "imap/tls.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned bit;
} version_names[] = {
	{ "1.0", TLS_V1_0 },
	{ "1.1", TLS_V1_1 },
	{ "1.2", TLS_V1_2 },
	{ "1.3", TLS_V1_3 },
};

static unsigned
version_bit(const char *tok, size_t len)
{
	if (len > 4 && strncasecmp(tok, "TLSv", 4) == 0) {
		tok += 4;
		len -= 4;
	}
	for (size_t i = 0; i < sizeof version_names / sizeof version_names[0];
	    i++)
		if (strlen(version_names[i].name) == len &&
		    strncmp(version_names[i].name, tok, len) == 0)
			return version_names[i].bit;
	return 0;
}

int
tls_parse_versions(const char *spec, unsigned *mask, struct buf *err)
{
	const char *p = spec;
	unsigned set = 0;
	int first = 1;

	while (*p != '\0') {
		char sign = 0;
		size_t len;
		unsigned bit;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '+' || *p == '-')
			sign = *p++;
		if (first && sign != 0)
			set = TLS_V_DEFAULT;
		first = 0;
		len = strcspn(p, " \t\r\n");
		bit = version_bit(p, len);
		if (bit == 0) {
			buf_setf(err, "TLSVersions: unknown TLS version '%.*s' "
			    "(expected 1.0, 1.1, 1.2 or 1.3)", (int)len, p);
			return -1;
		}
		set = sign == '-' ? set & ~bit : set | bit;
		p += len;
	}
	if (set == 0) {
		buf_setf(err, "TLSVersions '%s' allows no TLS version", spec);
		return -1;
	}
	*mask = set;
	return 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
bad_fingerprint(const char *spec, struct buf *err)
{
	buf_setf(err, "certificate fingerprint '%s' is not a SHA-256 "
	    "fingerprint (64 hexadecimal digits)", spec);
	return -1;
}

int
tls_parse_fingerprint(const char *spec, unsigned char out[TLS_FINGERPRINT_LEN],
    struct buf *err)
{
	size_t digits = 0;

	for (const char *p = spec; *p != '\0'; p++) {
		int v = hex_value(*p);

		if (*p == ':')
			continue;
		if (v < 0 || digits == 2 * TLS_FINGERPRINT_LEN)
			return bad_fingerprint(spec, err);
		if (digits % 2 == 0)
			out[digits / 2] = (unsigned char)(v << 4);
		else
			out[digits / 2] |= (unsigned char)v;
		digits++;
	}
	if (digits != 2 * TLS_FINGERPRINT_LEN)
		return bad_fingerprint(spec, err);
	return 0;
}
