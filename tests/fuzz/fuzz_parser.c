/*
 * libFuzzer harness for the IMAP response parser.
 *
 * The first three bytes choose how the rest is fed: the chunk sizes, the
 * limits (defaults or tiny ones, so that every limit is reachable) and
 * whether a callback stops the parser. Both callbacks are always set and
 * walk what they receive, so that every pointer the parser hands out is
 * read under the sanitizers; the parser is freed at the end, so a leak is
 * reported by LeakSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	struct imap_parser *parser;
	size_t memory_cap;
	uint64_t expect_offset;
	unsigned stop_at;
	unsigned calls;
	unsigned long sum;
};

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
walk(struct fuzz_ctx *c, const struct imap_item *first, size_t count)
{
	size_t n = 0;

	for (const struct imap_item *it = first; it != NULL; it = it->next) {
		n++;
		if (it->kind == IMAP_ATOM || it->kind == IMAP_STRING) {
			check(it->str[it->len] == '\0');
			if (it->len > 0)
				c->sum += (unsigned char)it->str[it->len - 1];
		}
		if (it->kind == IMAP_LIST) {
			walk(c, it->child, it->count);
			(void)imap_fetch_find(it, "BODY[]");
			(void)imap_list_get(it, it->count / 2);
		}
	}
	check(n == count);
}

static int
on_response(void *ctx, const struct imap_response *r)
{
	struct fuzz_ctx *c = ctx;
	uint64_t num;

	walk(c, r->items, r->count);
	if (r->code != NULL)
		walk(c, r->code->child, r->code->count);
	if (r->text != NULL)
		check(r->text->str[r->text->len] == '\0');
	check(r->type != IMAP_TAGGED || r->tag != NULL);
	(void)imap_response_is(r, "OK");
	(void)imap_code_name(r);
	(void)imap_code_number(r, "UIDNEXT", &num);
	check(imap_parser_memory(c->parser) <= c->memory_cap);
	return ++c->calls == c->stop_at;
}

static int
on_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct fuzz_ctx *c = ctx;

	if (w->offset == 0)
		c->expect_offset = 0;
	check(w->offset == c->expect_offset);
	check(n > 0 && w->offset + n <= w->size);
	check(w->depth > 0 && w->path != NULL);
	c->expect_offset += n;
	c->sum += (unsigned char)p[n - 1];
	check(imap_parser_memory(c->parser) <= c->memory_cap);
	return ++c->calls == c->stop_at;
}

static void
choose_limits(uint8_t sel, struct imap_parser_limits *lim)
{
	imap_parser_default_limits(lim);
	if ((sel & 1) == 0)
		return;
	lim->max_line = 64 + (sel >> 1);
	lim->max_inline_literal = sel >> 4;
	lim->max_inline_total = 32;
	lim->max_literal = 4096;
	lim->max_depth = 1 + (sel >> 5);
	lim->max_items = 4 + (sel >> 3);
	lim->max_number = 100000;
}

/* Upper bound of what the parser may hold, given its limits. */
static size_t
memory_cap(const struct imap_parser_limits *lim)
{
	size_t items = lim->max_items + 2;

	return 64 * 1024 + 4 * lim->max_line + 2 * lim->max_inline_total +
	    items * (sizeof(struct imap_item) + 32) + 64 * lim->max_depth;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx c;
	struct imap_parser_callbacks cb = { on_response, on_literal, &c };
	struct imap_parser_limits lim;
	uint32_t seed;
	size_t off = 3;
	int rc = 0;

	if (size < 3)
		return 0;
	memset(&c, 0, sizeof(c));
	seed = data[0];
	choose_limits(data[1], &lim);
	c.stop_at = data[2] < 16 ? data[2] : 0;
	c.memory_cap = memory_cap(&lim);
	c.parser = imap_parser_new(&cb, &lim);
	while (off < size && rc == 0) {
		size_t n = size - off;

		if (data[0] != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % (1 + data[0] % 32);
		}
		if (n > size - off)
			n = size - off;
		rc = imap_parser_feed(c.parser, (const char *)data + off, n);
		off += n;
	}
	if (rc == 0)
		rc = imap_parser_eof(c.parser);
	check((rc != 0) == (imap_parser_error(c.parser) != NULL));
	if (rc != 0)
		check(imap_parser_feed(c.parser, "* OK\r\n", 6) == -1);
	imap_parser_free(c.parser);
	return 0;
}
