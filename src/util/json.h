/*
 * json: JSON text for --json (report.h), strings above all.
 *
 * Mailbox names come from servers and file systems and may hold any byte.
 * json_add_string() writes a string that every JSON parser reads:
 *  - '"' and '\\' are escaped; control characters (U+0000 to U+001F, a
 *    NUL inside len included) are written \b \f \n \r \t or \u00XX, DEL
 *    as \u007f, and U+2028 and U+2029 as \u2028 and \u2029 (JavaScript
 *    reads them as line ends);
 *  - valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 *    above U+10FFFF) is copied as it is;
 *  - every byte that is not part of valid UTF-8 becomes U+FFFD, written
 *    \ufffd. Such a name is then not given byte for byte: the JSON says
 *    that a byte was there, not which one (JSON has no way to carry a
 *    byte that is not text).
 * Contract: appends to out, never fails; s need not be NUL-terminated.
 */
#ifndef TWINBOX_JSON_H
#define TWINBOX_JSON_H

#include <stddef.h>

#include "util/buf.h"

void json_add_string(struct buf *out, const char *s, size_t len);
/* A C string, or null for NULL. */
void json_add_cstr(struct buf *out, const char *s);

#endif
