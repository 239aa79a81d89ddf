/* parser_tree: building the response tree in the arena; see parser_int.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/parser_int.h"

/*
 * Items of one response are allocated from a chain of blocks and freed all
 * at once; per-item malloc would cost more than the parsing itself.
 */
struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
};

#define ARENA_ALIGN 16
#define ARENA_HEADER \
	((sizeof(struct arena_block) + ARENA_ALIGN - 1) & \
	~(size_t)(ARENA_ALIGN - 1))
#define ARENA_MIN_BLOCK 4096
#define ARENA_MAX_STEP (1024 * 1024)

static struct arena_block *
arena_new_block(struct arena *a, size_t need)
{
	struct arena_block *b;
	size_t size = ARENA_MIN_BLOCK;

	if (a->head != NULL && a->head->size < ARENA_MAX_STEP)
		size = a->head->size * 2;
	else if (a->head != NULL)
		size = ARENA_MAX_STEP;
	if (size - ARENA_HEADER < need)
		size = need + ARENA_HEADER;
	b = xmalloc(size);
	b->size = size;
	b->used = ARENA_HEADER;
	b->next = a->head;
	a->head = b;
	a->bytes += size;
	return b;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	void *mem;

	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (b == NULL || b->size - b->used < n)
		b = arena_new_block(a, n);
	mem = (char *)b + b->used;
	b->used += n;
	return mem;
}

/* Keep only one small block so that an idle connection holds little. */
void
arena_reset(struct arena *a)
{
	struct arena_block *b = a->head, *next, *keep = NULL;

	for (; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->size == ARENA_MIN_BLOCK) {
			keep = b;
			continue;
		}
		a->bytes -= b->size;
		free(b);
	}
	a->head = keep;
	if (keep != NULL) {
		keep->next = NULL;
		keep->used = ARENA_HEADER;
	}
}

void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
	a->bytes = 0;
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
parser_begin_response(struct imap_parser *p)
{
	arena_reset(&p->arena);
	buf_reset(&p->tok);
	memset(&p->resp, 0, sizeof(p->resp));
	p->seq++;
	p->pos = 0;
	p->line_bytes = 0;
	p->nitems = 0;
	p->inline_total = 0;
	p->depth = 0;
	p->frames[0].list = arena_alloc(&p->arena, sizeof(struct imap_item));
	memset(p->frames[0].list, 0, sizeof(struct imap_item));
	p->frames[0].list->kind = IMAP_LIST;
	p->frames[0].last = NULL;
	p->frames[0].is_code = 0;
}

/* A token of a large response may have grown tok; do not keep that. */
void
parser_end_response(struct imap_parser *p)
{
	arena_reset(&p->arena);
	if (p->tok.cap > ARENA_MIN_BLOCK)
		buf_free(&p->tok);
	buf_reset(&p->tok);
}

static int
first_of_tagged(const struct imap_parser *p)
{
	return p->resp.type == IMAP_TAGGED && p->depth == 0 &&
	    p->frames[0].list->count == 0;
}

static int
new_item(struct imap_parser *p, enum imap_item_kind kind,
    struct imap_item **out)
{
	struct imap_item *it;

	if (p->nitems >= p->lim.max_items)
		return parser_fail(p, "more than %zu items in one response",
		    p->lim.max_items);
	p->nitems++;
	it = arena_alloc(&p->arena, sizeof(*it));
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	*out = it;
	return 0;
}

/* Append a new item to the list or code being filled. */
int
parser_add_item(struct imap_parser *p, enum imap_item_kind kind,
    struct imap_item **out)
{
	struct frame *f = &p->frames[p->depth];

	if (first_of_tagged(p) && kind != IMAP_ATOM)
		return parser_fail(p, "tagged response without OK, NO or BAD");
	if (new_item(p, kind, out) < 0)
		return -1;
	if (f->last == NULL)
		f->list->child = *out;
	else
		f->last->next = *out;
	f->last = *out;
	f->list->count++;
	return 0;
}

static int
is_status(const char *s, int tagged)
{
	if (strcasecmp(s, "OK") == 0 || strcasecmp(s, "NO") == 0 ||
	    strcasecmp(s, "BAD") == 0)
		return 1;
	return !tagged &&
	    (strcasecmp(s, "BYE") == 0 || strcasecmp(s, "PREAUTH") == 0);
}

static int
all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/* Show at most a short prefix of a hostile token in an error. */
static const char *
shown(const struct buf *b)
{
	return b->len > 24 ? "(too long to show)" : buf_cstr(b);
}

static int
finish_number(struct imap_parser *p)
{
	struct imap_item *it;
	uint64_t v = 0;

	for (size_t i = 0; i < p->tok.len; i++) {
		unsigned d = (unsigned)(p->tok.data[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return parser_fail(p, "number %s is too large",
			    shown(&p->tok));
		v = v * 10 + d;
	}
	if (v > p->lim.max_number)
		return parser_fail(p, "number %s exceeds limit %llu",
		    shown(&p->tok), (unsigned long long)p->lim.max_number);
	if (parser_add_item(p, IMAP_NUMBER, &it) < 0)
		return -1;
	it->num = v;
	/* The digits too: where the grammar allows an astring (a mailbox
	 * named "007") the text is what counts, leading zeros and all. */
	it->str = arena_strndup(&p->arena, buf_cstr(&p->tok), p->tok.len);
	it->len = p->tok.len;
	return 0;
}

int
parser_finish_atom(struct imap_parser *p)
{
	const char *s = buf_cstr(&p->tok);
	int first = (p->depth == 0 && p->frames[0].list->count == 0);
	struct imap_item *it;

	p->state = ST_AFTER;
	if (first && p->resp.type == IMAP_TAGGED && !is_status(s, 1))
		return parser_fail(p, "tagged response without OK, NO or BAD");
	if (all_digits(s, p->tok.len))
		return finish_number(p);
	if (strcasecmp(s, "NIL") == 0)
		return parser_add_item(p, IMAP_NIL, &it);
	if (parser_add_item(p, IMAP_ATOM, &it) < 0)
		return -1;
	it->str = arena_strndup(&p->arena, s, p->tok.len);
	it->len = p->tok.len;
	if (first && is_status(s, 0))
		p->state = ST_STATUS;
	return 0;
}

int
parser_finish_quoted(struct imap_parser *p)
{
	struct imap_item *it;

	p->state = ST_AFTER;
	if (parser_add_item(p, IMAP_STRING, &it) < 0)
		return -1;
	it->str = arena_strndup(&p->arena, buf_cstr(&p->tok), p->tok.len);
	it->len = p->tok.len;
	return 0;
}

int
parser_finish_text(struct imap_parser *p)
{
	struct imap_item *it;

	if (new_item(p, IMAP_STRING, &it) < 0)
		return -1;
	it->str = arena_strndup(&p->arena, buf_cstr(&p->tok), p->tok.len);
	it->len = p->tok.len;
	p->resp.text = it;
	return 0;
}

static void
grow_frames(struct imap_parser *p)
{
	size_t cap = p->frames_cap * 2;

	/* Written so that max_depth == SIZE_MAX cannot wrap around. */
	if (cap - 1 > p->lim.max_depth)
		cap = p->lim.max_depth + 1;
	p->frames = xreallocarray(p->frames, cap, sizeof(*p->frames));
	p->path = xreallocarray(p->path, cap, sizeof(*p->path));
	p->frames_cap = cap;
}

int
parser_open(struct imap_parser *p, int is_code)
{
	struct imap_item *it;
	struct frame *f;

	if (p->depth >= p->lim.max_depth)
		return parser_fail(p, "nesting deeper than %zu",
		    p->lim.max_depth);
	if (is_code) {
		if (new_item(p, IMAP_LIST, &it) < 0)
			return -1;
		p->resp.code = it;
	} else if (parser_add_item(p, IMAP_LIST, &it) < 0)
		return -1;
	if (p->depth + 1 >= p->frames_cap)
		grow_frames(p);
	f = &p->frames[++p->depth];
	f->list = it;
	f->last = NULL;
	f->is_code = is_code;
	p->state = ST_ITEM;
	return 0;
}

int
parser_close(struct imap_parser *p, int is_code)
{
	const struct frame *f = &p->frames[p->depth];

	if (p->depth == 0 || f->is_code != is_code)
		return parser_fail(p, "unexpected '%c'", is_code ? ']' : ')');
	if (is_code && f->list->count == 0)
		return parser_fail(p, "empty response code");
	if (is_code && f->list->child->kind != IMAP_ATOM)
		return parser_fail(p, "response code does not start with"
		    " an atom");
	p->depth--;
	p->state = is_code ? ST_CODE_END : ST_AFTER;
	return 0;
}
