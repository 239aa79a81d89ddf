/*
 * parser_literal: literals ({n}, {n+}, ~{n}). Small ones are copied into
 * the arena and become STRING items; large ones pass straight through to
 * the literal_data callback, so that a message body never sits in memory.
 */
#include <string.h>

#include "imap/parser_int.h"

/* tok holds 1 to 20 digits (checked while reading them). */
static int
literal_size(struct imap_parser *p, uint64_t *size)
{
	uint64_t v = 0;
	int overflow = 0;

	for (size_t i = 0; i < p->tok.len; i++) {
		unsigned d = (unsigned)(p->tok.data[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = 1;
		v = v * 10 + d;
	}
	if (overflow || v > p->lim.max_literal)
		return parser_fail(p, "literal size %s exceeds limit %llu",
		    buf_cstr(&p->tok), (unsigned long long)p->lim.max_literal);
	*size = v;
	return 0;
}

static int
start_inline(struct imap_parser *p, uint64_t size)
{
	struct imap_item *it;

	if (size > p->lim.max_inline_total - p->inline_total)
		return parser_fail(p, "literals exceed limit of %zu bytes"
		    " held for one response", p->lim.max_inline_total);
	if (parser_add_item(p, IMAP_STRING, &it) < 0)
		return -1;
	p->inline_total += size;
	p->lit_inline = arena_alloc(&p->arena, size + 1);
	p->lit_inline[size] = '\0';
	it->str = p->lit_inline;
	it->len = size;
	return 0;
}

static void
describe_place(struct imap_parser *p, const struct imap_item *prev)
{
	struct imap_literal_info *info = &p->lit_info;
	const struct imap_item *first = p->frames[0].list->child;

	memset(info, 0, sizeof(*info));
	info->seq = p->seq;
	info->tag = p->resp.tag;
	if (p->resp.type == IMAP_UNTAGGED && first != NULL &&
	    first->kind == IMAP_NUMBER)
		info->number = first->num;
	if (prev != NULL && prev->kind == IMAP_ATOM)
		info->item_name = prev->str;
	for (size_t i = 0; i <= p->depth; i++)
		p->path[i] = p->frames[i].list->count - 1;
	info->path = p->path;
	info->depth = p->depth + 1;
	info->size = p->lit_size;
	info->binary = p->lit_binary;
}

static int
start_streamed(struct imap_parser *p, uint64_t size)
{
	const struct imap_item *prev = p->frames[p->depth].last;
	struct imap_item *it;

	if (p->cb.literal_data == NULL)
		return parser_fail(p, "literal of %llu bytes is over the inline"
		    " limit %zu and nothing accepts streamed data",
		    (unsigned long long)size, p->lim.max_inline_literal);
	if (parser_add_item(p, IMAP_LITERAL, &it) < 0)
		return -1;
	it->num = size;
	p->lit_inline = NULL;
	describe_place(p, prev);
	return 0;
}

int
parser_start_literal(struct imap_parser *p)
{
	uint64_t size = 0;
	int rc;

	if (literal_size(p, &size) < 0)
		return -1;
	p->lit_size = size;
	p->lit_done = 0;
	if (size <= p->lim.max_inline_literal)
		rc = start_inline(p, size);
	else
		rc = start_streamed(p, size);
	if (rc < 0)
		return -1;
	p->state = (size == 0) ? ST_AFTER : ST_LIT_DATA;
	return 0;
}

size_t
parser_literal_chunk(struct imap_parser *p, const char *data, size_t len)
{
	uint64_t left = p->lit_size - p->lit_done;
	size_t n = (len < left) ? len : (size_t)left;

	if (p->lit_inline != NULL) {
		memcpy(p->lit_inline + p->lit_done, data, n);
	} else {
		p->lit_info.offset = p->lit_done;
		if (p->cb.literal_data(p->cb.ctx, &p->lit_info, data, n) != 0) {
			parser_stop(p, "literal_data");
			return n;
		}
	}
	p->lit_done += n;
	p->pos += n;
	if (p->lit_done == p->lit_size)
		p->state = ST_AFTER;
	return n;
}
