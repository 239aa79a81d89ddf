/*
 * parser_state: the byte-at-a-time state machine that tokenises a response;
 * see parser_int.h. Literal contents bypass it (parser.c copies them in
 * bulk), everything else passes here one byte at a time so that the result
 * cannot depend on how the input was chunked.
 */
#include <string.h>

#include "imap/parser_int.h"

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Liberal on purpose: astrings (mailbox names) may hold ']' and the list
 * wildcards, flags start with '\', and 8-bit bytes cost nothing to accept.
 * Only what would make the structure ambiguous is excluded.
 */
static int
is_atom_char(const struct imap_parser *p, unsigned char c)
{
	if (c == ' ' || is_ctl(c) || c == '(' || c == ')' || c == '"')
		return 0;
	return !(c == ']' && p->frames[p->depth].is_code);
}

static int
is_tag_char(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return 0;
	return c != '(' && c != ')' && c != '{' && c != '"' && c != '\\' &&
	    c != '%' && c != '*' && c != '+';
}

static const char *
shown_char(unsigned char c, char out[8])
{
	static const char hex[] = "0123456789abcdef";

	if (c > ' ' && c < 0x7f) {
		out[0] = '\'';
		out[1] = (char)c;
		out[2] = '\'';
		out[3] = '\0';
	} else {
		out[0] = '0';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 15];
		out[4] = '\0';
	}
	return out;
}

static int
unexpected(struct imap_parser *p, unsigned char c, const char *where)
{
	char s[8];

	return parser_fail(p, "unexpected %s %s", shown_char(c, s), where);
}

static int
end_of_line(struct imap_parser *p, unsigned char c)
{
	if (c == '\r') {
		p->state = ST_CR;
		return 0;
	}
	return parser_finish_response(p);
}

static int
st_start(struct imap_parser *p, unsigned char c)
{
	if (c == '*') {
		p->resp.type = IMAP_UNTAGGED;
		p->state = ST_STAR_SP;
	} else if (c == '+') {
		p->resp.type = IMAP_CONTINUATION;
		p->state = ST_PLUS;
	} else if (is_tag_char(c)) {
		p->resp.type = IMAP_TAGGED;
		buf_addc(&p->tok, (char)c);
		p->state = ST_TAG;
	} else
		return unexpected(p, c, "at start of response");
	return 0;
}

static int
st_tag(struct imap_parser *p, unsigned char c)
{
	char *tag;

	if (is_tag_char(c)) {
		buf_addc(&p->tok, (char)c);
		return 0;
	}
	if (c != ' ')
		return unexpected(p, c, "in tag");
	tag = arena_alloc(&p->arena, p->tok.len + 1);
	memcpy(tag, p->tok.data, p->tok.len + 1);
	p->resp.tag = tag;
	buf_reset(&p->tok);
	p->state = ST_ITEM;
	return 0;
}

static int
st_plus(struct imap_parser *p, unsigned char c)
{
	if (c == ' ') {
		p->state = ST_TEXT_FIRST;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		if (parser_finish_text(p) < 0)
			return -1;
		return end_of_line(p, c);
	}
	return unexpected(p, c, "after '+'");
}

static int
close_or_end(struct imap_parser *p, unsigned char c)
{
	const struct frame *f = &p->frames[p->depth];

	if (c == ')' || c == ']')
		return parser_close(p, c == ']');
	if (c != '\r' && c != '\n')
		return unexpected(p, c, "after item");
	if (p->depth > 0)
		return parser_fail(p, "line ended inside %s",
		    f->is_code ? "a response code" : "a list");
	if (f->list->count == 0)
		return parser_fail(p, "empty response");
	return end_of_line(p, c);
}

static int
st_item(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case '(':
		return parser_open(p, 0);
	case '"':
		p->state = ST_QUOTED;
		return 0;
	case '{':
		p->lit_binary = 0;
		p->state = ST_LIT_SIZE;
		return 0;
	case '~':
		p->state = ST_TILDE;
		return 0;
	case '[':
		/* A mailbox name (astring) may begin with it: Gmail's
		 * "[Gmail].Drafts" comes as an atom; read to its ']'. */
		buf_addc(&p->tok, (char)c);
		p->section_depth = 1;
		p->state = ST_SECTION;
		return 0;
	}
	if (is_atom_char(p, c)) {
		buf_addc(&p->tok, (char)c);
		p->state = ST_ATOM;
		return 0;
	}
	/* A stray space before ')' or at the end is harmless. */
	return close_or_end(p, c);
}

/*
 * Lists inside a list may follow each other without a space: RFC 3501's
 * body-type-mpart is "1*body SP media-subtype" and RFC 2342's namespaces
 * are "1*( ... )", so "((a)(b))" is valid. Anywhere else '(' needs a space.
 */
static int
after_list(const struct imap_parser *p)
{
	const struct imap_item *last = p->frames[p->depth].last;

	return p->depth > 0 && !p->frames[p->depth].is_code &&
	    last != NULL && last->kind == IMAP_LIST;
}

static int
st_after(struct imap_parser *p, unsigned char c)
{
	if (c == ' ') {
		p->state = ST_ITEM;
		return 0;
	}
	if (c == '(' && after_list(p))
		return parser_open(p, 0);
	return close_or_end(p, c);
}

static int
st_atom(struct imap_parser *p, unsigned char c)
{
	if (c == '[') {
		buf_addc(&p->tok, (char)c);
		p->section_depth = 1;
		p->state = ST_SECTION;
		return 0;
	}
	if (is_atom_char(p, c)) {
		buf_addc(&p->tok, (char)c);
		return 0;
	}
	if (parser_finish_atom(p) < 0)
		return -1;
	buf_reset(&p->tok);
	return parser_step(p, c);
}

static int
st_tilde(struct imap_parser *p, unsigned char c)
{
	if (c == '{') {
		p->lit_binary = 1;
		p->state = ST_LIT_SIZE;
		return 0;
	}
	buf_addc(&p->tok, '~');
	p->state = ST_ATOM;
	return st_atom(p, c);
}

/* BODY[HEADER.FIELDS (A B)]<0> is one item although it holds spaces. */
static int
st_section(struct imap_parser *p, unsigned char c)
{
	if (c == '\r' || c == '\n' || c == '\0')
		return unexpected(p, c, "inside '[...]' of an atom");
	buf_addc(&p->tok, (char)c);
	if (p->state == ST_SECTION_ESC) {
		p->state = ST_SECTION_QUOTED;
	} else if (p->state == ST_SECTION_QUOTED) {
		if (c == '\\')
			p->state = ST_SECTION_ESC;
		else if (c == '"')
			p->state = ST_SECTION;
	} else if (c == '"') {
		p->state = ST_SECTION_QUOTED;
	} else if (c == '[') {
		p->section_depth++;
	} else if (c == ']' && --p->section_depth == 0) {
		p->state = ST_ATOM;
	}
	return 0;
}

static int
st_quoted(struct imap_parser *p, unsigned char c)
{
	if (p->state == ST_QUOTED_ESC) {
		if (c != '\\' && c != '"')
			return unexpected(p, c,
			    "after '\\' in quoted string");
		buf_addc(&p->tok, (char)c);
		p->state = ST_QUOTED;
		return 0;
	}
	if (c == '"') {
		if (parser_finish_quoted(p) < 0)
			return -1;
		buf_reset(&p->tok);
		return 0;
	}
	if (c == '\\') {
		p->state = ST_QUOTED_ESC;
		return 0;
	}
	if (c == '\r' || c == '\n')
		return parser_fail(p, "unterminated quoted string");
	if (c == '\0')
		return unexpected(p, c, "in quoted string");
	buf_addc(&p->tok, (char)c);
	return 0;
}

/* 20 digits hold any uint64; more can only be an attack or garbage. */
static int
st_lit_size(struct imap_parser *p, unsigned char c)
{
	if (p->state == ST_LIT_CLOSE) {
		if (c != '}')
			return unexpected(p, c, "after '+' in literal size");
		p->state = ST_LIT_CR;
		return 0;
	}
	if (c >= '0' && c <= '9') {
		if (p->tok.len >= 20)
			return parser_fail(p, "literal size too long");
		buf_addc(&p->tok, (char)c);
		return 0;
	}
	if ((c != '}' && c != '+') || p->tok.len == 0)
		return unexpected(p, c, "in literal size");
	p->state = (c == '+') ? ST_LIT_CLOSE : ST_LIT_CR;
	return 0;
}

static int
st_lit_crlf(struct imap_parser *p, unsigned char c)
{
	if (c == '\r' && p->state == ST_LIT_CR) {
		p->state = ST_LIT_LF;
		return 0;
	}
	if (c != '\n')
		return unexpected(p, c, "after literal size");
	if (parser_start_literal(p) < 0)
		return -1;
	buf_reset(&p->tok);
	return 0;
}

static int
st_status(struct imap_parser *p, unsigned char c)
{
	if (c == ' ') {
		p->state = ST_TEXT_FIRST;
		return 0;
	}
	if (c != '\r' && c != '\n')
		return unexpected(p, c, "after status");
	if (parser_finish_text(p) < 0)
		return -1;
	return end_of_line(p, c);
}

static int
st_text(struct imap_parser *p, unsigned char c)
{
	if (p->state == ST_TEXT_FIRST && c == '[')
		return parser_open(p, 1);
	if (p->state == ST_CODE_END && c != '\r' && c != '\n') {
		if (c != ' ')
			return unexpected(p, c, "after response code");
		p->state = ST_TEXT;
		return 0;
	}
	if (c == '\r' || c == '\n') {
		if (parser_finish_text(p) < 0)
			return -1;
		return end_of_line(p, c);
	}
	if (c == '\0')
		return unexpected(p, c, "in text");
	buf_addc(&p->tok, (char)c);
	p->state = ST_TEXT;
	return 0;
}

static int
st_cr(struct imap_parser *p, unsigned char c)
{
	if (c != '\n')
		return unexpected(p, c, "after CR");
	return parser_finish_response(p);
}

static int
st_star_sp(struct imap_parser *p, unsigned char c)
{
	if (c != ' ')
		return unexpected(p, c, "after '*'");
	p->state = ST_ITEM;
	return 0;
}

typedef int (*state_handler)(struct imap_parser *, unsigned char);

/* ST_LIT_DATA and ST_FAILED never see single bytes: parser.c keeps them. */
static const state_handler handlers[] = {
	[ST_START] = st_start,
	[ST_TAG] = st_tag,
	[ST_STAR_SP] = st_star_sp,
	[ST_PLUS] = st_plus,
	[ST_ITEM] = st_item,
	[ST_ATOM] = st_atom,
	[ST_TILDE] = st_tilde,
	[ST_SECTION] = st_section,
	[ST_SECTION_QUOTED] = st_section,
	[ST_SECTION_ESC] = st_section,
	[ST_QUOTED] = st_quoted,
	[ST_QUOTED_ESC] = st_quoted,
	[ST_LIT_SIZE] = st_lit_size,
	[ST_LIT_CLOSE] = st_lit_size,
	[ST_LIT_CR] = st_lit_crlf,
	[ST_LIT_LF] = st_lit_crlf,
	[ST_LIT_DATA] = NULL,
	[ST_AFTER] = st_after,
	[ST_STATUS] = st_status,
	[ST_TEXT_FIRST] = st_text,
	[ST_CODE_END] = st_text,
	[ST_TEXT] = st_text,
	[ST_CR] = st_cr,
	[ST_FAILED] = NULL
};

int
parser_step(struct imap_parser *p, unsigned char c)
{
	state_handler h = handlers[p->state];

	if (h == NULL)
		return parser_fail(p, "internal error: byte in state %d",
		    (int)p->state);
	return h(p, c);
}
