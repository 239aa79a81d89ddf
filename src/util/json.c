/* json: JSON strings from any bytes; see json.h. */
#include "util/json.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if the
 * byte there does not start one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;	/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* One byte below 0x80, escaped where JSON needs it. */
static void
add_ascii(struct buf *out, unsigned char c)
{
	static const char named[] = "\bb\ff\nn\rr\tt";
	const char *e;

	if (c == '"' || c == '\\') {
		buf_addc(out, '\\');
		buf_addc(out, (char)c);
	} else if (c != 0 && (e = memchr(named, c, sizeof(named) - 1)) !=
	    NULL && (e - named) % 2 == 0) {
		buf_addc(out, '\\');
		buf_addc(out, e[1]);
	} else if (c < 0x20 || c == 0x7f) {
		buf_addf(out, "\\u%04x", c);
	} else {
		buf_addc(out, (char)c);
	}
}

void
json_add_string(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	buf_addc(out, '"');
	while (i < len) {
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			buf_adds(out, "\\ufffd");
			n = 1;
		} else if (n == 1) {
			add_ascii(out, p[i]);
		} else if (n == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			buf_addf(out, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 :
			    0x2029);
		} else {
			buf_add(out, p + i, n);
		}
		i += n;
	}
	buf_addc(out, '"');
}

void
json_add_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_adds(out, "null");
	else
		json_add_string(out, s, strlen(s));
}
