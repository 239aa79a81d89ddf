/* state_rec: text form of state records; see state_rec.h. */
#include "sync/state_rec.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store.h"

struct kind_syntax {
	const char *name;
	size_t len;		/* strlen(name) */
	enum journal_kind kind;
	size_t nfields;		/* including the name */
};

#define KIND(name, kind, nfields) { name, sizeof(name) - 1, kind, nfields }

/* Pair lines first: a state file is almost all pair lines. */
static const struct kind_syntax kinds[] = {
	KIND("pair", JR_PAIR_NEW, 5),
	KIND("flags", JR_PAIR_FLAGS, 4),
	KIND("uidvalidity", JR_UIDVALIDITY, 3),
	KIND("maxuid", JR_MAXUID, 3),
	KIND("highestmodseq", JR_HIGHESTMODSEQ, 3),
	KIND("status", JR_PAIR_STATUS, 4),
	KIND("forget", JR_PAIR_FORGET, 3),
	KIND("copy", JR_COPY_INTENT, 8),
	KIND("done", JR_COPY_DONE, 4),
	KIND("abort", JR_COPY_ABORT, 3),
	KIND("settled", JR_SETTLED, 4),
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *const direction_words[2] = { "far>near", "near>far" };

static const struct kind_syntax *
kind_by_value(enum journal_kind kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

/*
 * A record's line is put together in place and added to the caller's
 * buf at once: a state file holds a line per message, and a buf call per
 * field cost more than the fields themselves. The longest line, a copy
 * intent's, is its name, a direction, the flags, five numbers of at most
 * 20 digits with their spaces and the seal: under 150 bytes.
 */
#define LINE_MAX_LEN 256

struct line {
	char b[LINE_MAX_LEN];
	size_t n;
};

static void
line_add(struct line *l, const char *s, size_t len)
{
	memcpy(l->b + l->n, s, len);
	l->n += len;
}

static void
line_word(struct line *l, const char *word)
{
	l->b[l->n++] = ' ';
	line_add(l, word, strlen(word));
}

/* " <v>" in decimal, without snprintf(), which cost more than the rest
 * of a line. */
static void
line_number(struct line *l, uint64_t v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	l->b[l->n++] = ' ';
	line_add(l, digits + i, sizeof(digits) - i);
}

/* " " and the Maildir letters of flags, or "-" for none. */
static void
line_flags(struct line *l, unsigned flags)
{
	char letters[MSG_FLAG_COUNT + 1];

	msg_flags_to_letters(flags, letters);
	line_word(l, letters[0] ? letters : "-");
}

static void
format_line(const struct journal_rec *rec, struct line *l)
{
	const struct pair_rec *p = &rec->pair;
	const struct copy_intent *c = &rec->copy;
	const struct kind_syntax *k = kind_by_value(rec->kind);

	l->n = 0;
	line_add(l, k->name, k->len);
	switch (rec->kind) {
	case JR_UIDVALIDITY:
	case JR_MAXUID:
	case JR_HIGHESTMODSEQ:
		line_word(l, side_names[rec->side]);
		line_number(l, rec->value);
		return;
	case JR_SETTLED:
		line_word(l, side_names[rec->side]);
		line_number(l, rec->mark.uidnext);
		line_number(l, rec->mark.modseq);
		return;
	case JR_PAIR_NEW:
	case JR_PAIR_FLAGS:
	case JR_PAIR_STATUS:
	case JR_PAIR_FORGET:
		line_number(l, p->uid[SIDE_FAR]);
		line_number(l, p->uid[SIDE_NEAR]);
		break;
	case JR_COPY_INTENT:
	case JR_COPY_DONE:
	case JR_COPY_ABORT:
		line_word(l, direction_words[c->src]);
		line_number(l, c->src_uid);
		break;
	}
	if (rec->kind == JR_PAIR_NEW || rec->kind == JR_PAIR_FLAGS)
		line_flags(l, p->flags);
	if (rec->kind == JR_PAIR_NEW || rec->kind == JR_PAIR_STATUS)
		line_number(l, p->status);
	if (rec->kind == JR_COPY_INTENT) {
		line_flags(l, c->flags);
		line_number(l, c->planned_uid);
		line_number(l, c->uidnext);
		line_number(l, c->size);
		line_number(l, c->hash);
	}
	if (rec->kind == JR_COPY_DONE)
		line_number(l, rec->target_uid);
}

void
rec_format(const struct journal_rec *rec, struct buf *out)
{
	struct line l;

	format_line(rec, &l);
	buf_add(out, l.b, l.n);
}

static uint32_t
payload_crc(const char *p, size_t len)
{
	uLong crc = 0;		/* crc32(0, Z_NULL, 0): the initial value */

	while (len > 0) {
		uInt chunk = len > 1u << 30 ? 1u << 30 : (uInt)len;

		crc = crc32(crc, (const Bytef *)p, chunk);
		p += chunk;
		len -= chunk;
	}
	return (uint32_t)crc;
}

/* The 8 lowercase hex digits of a seal; snprintf() would cost more than
 * the CRC itself on every line of a large state file. */
static void
hex_u32(uint32_t v, char out[9])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 7; i >= 0; i--) {
		out[i] = digits[v & 0xf];
		v >>= 4;
	}
	out[8] = '\0';
}

/* " <crc>\n" after the payload p[0..len): 10 bytes at p + len. */
static void
put_seal(char *p, size_t len)
{
	char hex[9];

	hex_u32(payload_crc(p, len), hex);
	p[len] = ' ';
	memcpy(p + len + 1, hex, 8);
	p[len + 9] = '\n';
}

void
rec_seal(struct buf *out, size_t start)
{
	buf_grow(out, 10);
	put_seal(out->data + start, out->len - start);
	out->len += 10;
	out->data[out->len] = '\0';
}

void
rec_add_sealed(const struct journal_rec *rec, struct buf *out)
{
	struct line l;

	format_line(rec, &l);
	put_seal(l.b, l.n);
	buf_add(out, l.b, l.n + 10);
}

int
rec_unseal(const char *line, size_t len, size_t *payload_len,
    struct buf *err)
{
	char want[9];
	size_t plen;

	if (len < 10 || line[len - 9] != ' ') {
		buf_setf(err, "no checksum");
		return -1;
	}
	plen = len - 9;
	hex_u32(payload_crc(line, plen), want);
	if (memcmp(want, line + plen + 1, 8) != 0) {
		buf_setf(err, "checksum mismatch");
		return -1;
	}
	*payload_len = plen;
	return 0;
}

int
rec_split(const char *payload, size_t len, struct rec_fields *f,
    struct buf *err)
{
	const char *p = payload, *end = payload + len;

	f->n = 0;
	for (;;) {
		const char *space = memchr(p, ' ', (size_t)(end - p));
		const char *stop = space ? space : end;

		if (stop == p) {
			buf_setf(err, "empty field");
			return -1;
		}
		if (f->n == REC_MAX_FIELDS) {
			buf_setf(err, "too many fields");
			return -1;
		}
		f->p[f->n] = p;
		f->len[f->n++] = (size_t)(stop - p);
		if (space == NULL)
			return 0;
		p = space + 1;
	}
}

int
rec_is(const struct rec_fields *f, size_t i, const char *word)
{
	return i < f->n && f->len[i] == strlen(word) &&
	    memcmp(f->p[i], word, f->len[i]) == 0;
}

static void
bad_field(const struct rec_fields *f, size_t i, const char *what,
    struct buf *err)
{
	buf_setf(err, "bad %s \"%.*s\"", what, (int)f->len[i], f->p[i]);
}

int
rec_number(const struct rec_fields *f, size_t i, uint64_t max,
    const char *what, uint64_t *out, struct buf *err)
{
	const char *p = f->p[i];
	size_t len = f->len[i];
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && p[0] == '0'))
		goto bad;
	for (size_t k = 0; k < len; k++) {
		unsigned d = (unsigned char)p[k] - '0';

		/* v * 10 + d <= UINT64_MAX, without a division per digit */
		if (d > 9 || v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			goto bad;
		v = v * 10 + d;
	}
	if (v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	bad_field(f, i, what, err);
	return -1;
}

int
rec_hex64(const struct rec_fields *f, size_t i, const char *what,
    uint64_t *out, struct buf *err)
{
	const char *p = f->p[i];
	uint64_t v = 0;

	if (f->len[i] != 16)
		goto bad;
	for (size_t k = 0; k < 16; k++) {
		const char *d = strchr("0123456789abcdef", p[k]);

		if (p[k] == '\0' || d == NULL)
			goto bad;
		v = v << 4 | (uint64_t)(d - "0123456789abcdef");
	}
	*out = v;
	return 0;
bad:
	bad_field(f, i, what, err);
	return -1;
}

static int
parse_u32(const struct rec_fields *f, size_t i, const char *what,
    uint32_t *out, struct buf *err)
{
	uint64_t v;

	if (rec_number(f, i, UINT32_MAX, what, &v, err) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "-" or Maildir letters in their canonical order, each at most once. */
static int
parse_flags(const struct rec_fields *f, size_t i, unsigned *out,
    struct buf *err)
{
	unsigned flags = 0;
	int last = -1;

	if (rec_is(f, i, "-")) {
		*out = 0;
		return 0;
	}
	for (size_t k = 0; k < f->len[i]; k++) {
		const char *at = memchr(msg_flag_letters, f->p[i][k],
		    MSG_FLAG_COUNT);
		int bit = at ? (int)(at - msg_flag_letters) : -1;

		if (bit <= last) {
			bad_field(f, i, "flags", err);
			return -1;
		}
		flags |= 1u << bit;
		last = bit;
	}
	*out = flags;
	return 0;
}

static int
parse_word(const struct rec_fields *f, size_t i,
    const char *const words[2], const char *what, enum side *out,
    struct buf *err)
{
	for (int s = 0; s < 2; s++) {
		if (rec_is(f, i, words[s])) {
			*out = (enum side)s;
			return 0;
		}
	}
	bad_field(f, i, what, err);
	return -1;
}

static int
parse_pair_fields(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err)
{
	struct pair_rec *p = &rec->pair;
	size_t next = 3;

	if (parse_u32(f, 1, "far UID", &p->uid[SIDE_FAR], err) != 0 ||
	    parse_u32(f, 2, "near UID", &p->uid[SIDE_NEAR], err) != 0)
		return -1;
	if (rec->kind == JR_PAIR_NEW || rec->kind == JR_PAIR_FLAGS) {
		if (parse_flags(f, next++, &p->flags, err) != 0)
			return -1;
	}
	if (rec->kind == JR_PAIR_NEW || rec->kind == JR_PAIR_STATUS) {
		uint64_t v;

		if (rec_number(f, next, PAIR_ALL_STATUS, "status", &v,
		    err) != 0)
			return -1;
		p->status = (unsigned)v;
	}
	return 0;
}

static int
parse_copy_fields(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err)
{
	struct copy_intent *c = &rec->copy;

	if (parse_word(f, 1, direction_words, "direction", &c->src,
	    err) != 0 ||
	    parse_u32(f, 2, "source UID", &c->src_uid, err) != 0)
		return -1;
	if (rec->kind == JR_COPY_DONE)
		return parse_u32(f, 3, "target UID", &rec->target_uid, err);
	if (rec->kind != JR_COPY_INTENT)
		return 0;
	if (parse_flags(f, 3, &c->flags, err) != 0 ||
	    parse_u32(f, 4, "planned UID", &c->planned_uid, err) != 0 ||
	    parse_u32(f, 5, "UIDNEXT", &c->uidnext, err) != 0 ||
	    rec_number(f, 6, UINT64_MAX, "size", &c->size, err) != 0 ||
	    rec_number(f, 7, UINT64_MAX, "hash", &c->hash, err) != 0)
		return -1;
	return 0;
}

static int
parse_value_fields(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err)
{
	uint64_t max = rec->kind == JR_HIGHESTMODSEQ ? UINT64_MAX :
	    UINT32_MAX;

	if (parse_word(f, 1, side_names, "side", &rec->side, err) != 0 ||
	    rec_number(f, 2, max, "value", &rec->value, err) != 0)
		return -1;
	return 0;
}

static int
parse_settled_fields(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err)
{
	if (parse_word(f, 1, side_names, "side", &rec->side, err) != 0 ||
	    parse_u32(f, 2, "UIDNEXT", &rec->mark.uidnext, err) != 0 ||
	    rec_number(f, 3, UINT64_MAX, "HIGHESTMODSEQ", &rec->mark.modseq,
	    err) != 0)
		return -1;
	return 0;
}

int
rec_parse(const struct rec_fields *f, struct journal_rec *rec,
    struct buf *err)
{
	const struct kind_syntax *k = NULL;

	memset(rec, 0, sizeof(*rec));
	for (size_t i = 0; i < NKINDS && f->n > 0 && k == NULL; i++)
		if (f->len[0] == kinds[i].len &&
		    memcmp(f->p[0], kinds[i].name, kinds[i].len) == 0)
			k = &kinds[i];
	if (k == NULL) {
		buf_setf(err, "unknown record kind \"%.*s\"",
		    f->n > 0 ? (int)f->len[0] : 0, f->n > 0 ? f->p[0] : "");
		return -1;
	}
	if (f->n != k->nfields) {
		buf_setf(err, "%s: %zu fields, expected %zu", k->name, f->n,
		    k->nfields);
		return -1;
	}
	rec->kind = k->kind;
	switch (k->kind) {
	case JR_UIDVALIDITY:
	case JR_MAXUID:
	case JR_HIGHESTMODSEQ:
		return parse_value_fields(f, rec, err);
	case JR_SETTLED:
		return parse_settled_fields(f, rec, err);
	case JR_COPY_INTENT:
	case JR_COPY_DONE:
	case JR_COPY_ABORT:
		return parse_copy_fields(f, rec, err);
	default:
		return parse_pair_fields(f, rec, err);
	}
}

int
rec_next_line(struct rec_reader *r, const char **line, size_t *len,
    int *complete)
{
	const char *start, *nl;

	if (r->pos >= r->len)
		return 0;
	start = r->data + r->pos;
	nl = memchr(start, '\n', r->len - r->pos);
	r->lineno++;
	*line = start;
	*complete = nl != NULL;
	*len = nl ? (size_t)(nl - start) : r->len - r->pos;
	r->pos += *len + (nl != NULL);
	return 1;
}

int
rec_check_header(const char *line, size_t len, const char *magic,
    const char *what, struct buf *err)
{
	size_t mlen = strlen(magic);

	if (len <= mlen || memcmp(line, magic, mlen) != 0 ||
	    line[mlen] != ' ') {
		buf_setf(err, "not a twinbox %s (no \"%s\" header)", what,
		    magic);
		return -1;
	}
	if (len - mlen - 1 != strlen(REC_VERSION) ||
	    memcmp(line + mlen + 1, REC_VERSION, len - mlen - 1) != 0) {
		buf_setf(err, "unsupported %s version \"%.*s\" (this twinbox "
		    "reads version " REC_VERSION ")", what,
		    (int)(len - mlen - 1 > 20 ? 20 : len - mlen - 1),
		    line + mlen + 1);
		return -1;
	}
	return 0;
}
