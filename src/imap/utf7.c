/* utf7: modified UTF-7 mailbox names; see utf7.h. */
#include "imap/utf7.h"

#include <stdint.h>
#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64_alphabet, c);
	return p ? (int)(p - b64_alphabet) : -1;
}

/* The name comes from a server or a file: escape what a terminal would
 * interpret. */
static void
name_error(struct buf *err, const char *name, const char *what, size_t at)
{
	buf_setf(err, "mailbox name '");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '\\')
			buf_addc(err, (char)*p);
		else
			buf_addf(err, "\\x%02X", *p);
	}
	buf_addf(err, "' is not valid %s (at byte %zu)", what, at);
}

/* Read one code point of UTF-8 at s; its length in *len, 0 if invalid. */
static uint32_t
utf8_next(const unsigned char *s, size_t *len)
{
	uint32_t cp, min;
	size_t n;

	*len = 0;
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*len = n;
	return cp;
}

static void
utf8_put(struct buf *out, uint32_t cp)
{
	if (cp < 0x80) {
		buf_addc(out, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(out, (char)(0xc0 | (cp >> 6)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(out, (char)(0xe0 | (cp >> 12)));
		buf_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(out, (char)(0xf0 | (cp >> 18)));
		buf_addc(out, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_addc(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Base64 writer state for one shift sequence. */
struct b64w {
	uint32_t bits;
	int nbits;
};

static void
b64_put16(struct buf *out, struct b64w *w, uint32_t unit)
{
	w->bits = (w->bits << 16) | unit;
	w->nbits += 16;
	while (w->nbits >= 6) {
		w->nbits -= 6;
		buf_addc(out, b64_alphabet[(w->bits >> w->nbits) & 0x3f]);
	}
}

static void
b64_close(struct buf *out, struct b64w *w)
{
	if (w->nbits > 0)
		buf_addc(out, b64_alphabet[(w->bits << (6 - w->nbits)) & 0x3f]);
	buf_addc(out, '-');
	w->bits = 0;
	w->nbits = 0;
}

static void
encode_cp(struct buf *out, struct b64w *w, uint32_t cp)
{
	if (cp < 0x10000) {
		b64_put16(out, w, cp);
		return;
	}
	cp -= 0x10000;
	b64_put16(out, w, 0xd800 | (cp >> 10));
	b64_put16(out, w, 0xdc00 | (cp & 0x3ff));
}

int
imap_utf7_encode(const char *utf8, struct buf *out, struct buf *err)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct b64w w = { 0, 0 };
	int shifted = 0;

	while (*s != '\0') {
		size_t len;
		uint32_t cp = utf8_next(s, &len);

		if (len == 0) {
			name_error(err, utf8, "UTF-8", (size_t)(s -
			    (const unsigned char *)utf8));
			return -1;
		}
		s += len;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted)
				b64_close(out, &w);
			shifted = 0;
			buf_adds(out, cp == '&' ? "&-" : (char[]){ (char)cp,
			    '\0' });
			continue;
		}
		if (!shifted)
			buf_addc(out, '&');
		shifted = 1;
		encode_cp(out, &w, cp);
	}
	if (shifted)
		b64_close(out, &w);
	return 0;
}

/* Decoder state for one shift sequence. */
struct b64r {
	uint32_t bits;
	int nbits;
	uint32_t high;		/* pending high surrogate, or 0 */
	size_t units;
};

static int
decode_unit(struct b64r *r, uint32_t unit, struct buf *out)
{
	r->units++;
	if (r->high != 0) {
		if (unit < 0xdc00 || unit > 0xdfff)
			return -1;
		utf8_put(out, 0x10000 + ((r->high - 0xd800) << 10) +
		    (unit - 0xdc00));
		r->high = 0;
		return 0;
	}
	if (unit >= 0xd800 && unit <= 0xdbff) {
		r->high = unit;
		return 0;
	}
	if (unit >= 0xdc00 && unit <= 0xdfff)
		return -1;
	/* Printable ASCII must appear as itself, NUL never. */
	if (unit < 0x20 ? unit == 0 : unit <= 0x7e)
		return -1;
	utf8_put(out, unit);
	return 0;
}

/* Decode the shift sequence starting after '&' at *sp, through its '-'. */
static int
decode_shift(const char **sp, struct buf *out)
{
	struct b64r r = { 0, 0, 0, 0 };
	const char *s = *sp;

	for (; *s != '-'; s++) {
		int v = b64_value((unsigned char)*s);

		if (v < 0)
			return -1;
		r.bits = (r.bits << 6) | (uint32_t)v;
		r.nbits += 6;
		if (r.nbits >= 16) {
			r.nbits -= 16;
			if (decode_unit(&r, (r.bits >> r.nbits) & 0xffff,
			    out) != 0)
				return -1;
		}
	}
	if (r.units == 0 || r.high != 0 || r.nbits >= 6 ||
	    (r.bits & ((1u << r.nbits) - 1)) != 0)
		return -1;
	*sp = s + 1;
	return 0;
}

int
imap_utf7_decode(const char *mutf7, struct buf *out, struct buf *err)
{
	const char *s = mutf7;
	int after_shift = 0;

	while (*s != '\0') {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e)
			goto bad;
		if (c != '&') {
			buf_addc(out, (char)c);
			s++;
			after_shift = 0;
			continue;
		}
		if (s[1] == '-') {
			buf_addc(out, '&');
			s += 2;
			after_shift = 0;
			continue;
		}
		if (after_shift)
			goto bad;
		s++;
		if (decode_shift(&s, out) != 0)
			goto bad;
		after_shift = 1;
	}
	return 0;
bad:
	name_error(err, mutf7, "modified UTF-7", (size_t)(s - mutf7));
	return -1;
}
