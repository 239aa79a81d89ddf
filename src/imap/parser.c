/* parser: public entry points and the response life cycle; see parser.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parser_int.h"

#define INITIAL_FRAMES 8

void
imap_parser_default_limits(struct imap_parser_limits *limits)
{
	limits->max_line = 1024 * 1024;
	limits->max_inline_literal = 64 * 1024;
	limits->max_inline_total = 4 * 1024 * 1024;
	limits->max_literal = (uint64_t)2 * 1024 * 1024 * 1024;
	limits->max_depth = 32;
	limits->max_items = 100000;
	limits->max_number = INT64_MAX;
}

struct imap_parser *
imap_parser_new(const struct imap_parser_callbacks *cb,
    const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	if (cb != NULL)
		p->cb = *cb;
	if (limits != NULL)
		p->lim = *limits;
	else
		imap_parser_default_limits(&p->lim);
	p->frames_cap = INITIAL_FRAMES;
	if (p->lim.max_depth < INITIAL_FRAMES)
		p->frames_cap = p->lim.max_depth + 1;
	p->frames = xcalloc(p->frames_cap, sizeof(*p->frames));
	p->path = xcalloc(p->frames_cap, sizeof(*p->path));
	p->state = ST_START;
	return p;
}

void
imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	arena_free(&p->arena);
	buf_free(&p->tok);
	buf_free(&p->err);
	free(p->frames);
	free(p->path);
	free(p);
}

int
parser_fail(struct imap_parser *p, const char *fmt, ...)
{
	va_list ap;

	buf_setf(&p->err, "bad response: ");
	va_start(ap, fmt);
	buf_vaddf(&p->err, fmt, ap);
	va_end(ap);
	buf_addf(&p->err, " at byte %llu", (unsigned long long)p->pos);
	p->state = ST_FAILED;
	return -1;
}

int
parser_stop(struct imap_parser *p, const char *callback)
{
	buf_setf(&p->err, "%s callback stopped the parser at byte %llu",
	    callback, (unsigned long long)p->pos);
	p->state = ST_FAILED;
	return -1;
}

int
parser_finish_response(struct imap_parser *p)
{
	const struct imap_item *top = p->frames[0].list;
	int rc = 0;

	p->resp.items = top->child;
	p->resp.count = top->count;
	p->resp.seq = p->seq;
	if (p->cb.response != NULL)
		rc = p->cb.response(p->cb.ctx, &p->resp);
	parser_end_response(p);
	p->state = ST_START;
	if (rc != 0)
		return parser_stop(p, "response");
	return 0;
}

int
imap_parser_feed(struct imap_parser *p, const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && p->state != ST_FAILED) {
		if (p->state == ST_LIT_DATA) {
			i += parser_literal_chunk(p, data + i, len - i);
			continue;
		}
		if (p->state == ST_START)
			parser_begin_response(p);
		if (++p->line_bytes > p->lim.max_line)
			return parser_fail(p, "line exceeds limit of %zu bytes"
			    " outside literals", p->lim.max_line);
		if (parser_step(p, (unsigned char)data[i]) < 0)
			return -1;
		p->pos++;
		i++;
	}
	return p->state == ST_FAILED ? -1 : 0;
}

int
imap_parser_eof(struct imap_parser *p)
{
	switch (p->state) {
	case ST_START:
		return 0;
	case ST_FAILED:
		return -1;
	case ST_QUOTED:
	case ST_QUOTED_ESC:
		return parser_fail(p, "connection closed inside a quoted"
		    " string");
	case ST_LIT_DATA:
		return parser_fail(p, "connection closed inside a literal"
		    " after %llu of %llu bytes",
		    (unsigned long long)p->lit_done,
		    (unsigned long long)p->lit_size);
	default:
		return parser_fail(p, "connection closed before the end of"
		    " the response");
	}
}

const char *
imap_parser_error(const struct imap_parser *p)
{
	return p->state == ST_FAILED ? buf_cstr(&p->err) : NULL;
}

size_t
imap_parser_memory(const struct imap_parser *p)
{
	return sizeof(*p) + p->arena.bytes + p->tok.cap + p->err.cap +
	    p->frames_cap * (sizeof(*p->frames) + sizeof(*p->path));
}
