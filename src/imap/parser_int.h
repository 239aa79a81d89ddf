/*
 * parser_int: the parser's private state, shared by its source files.
 *
 * Contract:
 *  - struct imap_parser is owned by whoever called imap_parser_new().
 *  - Every item and string of the response being built lives in the arena
 *    and is freed in one go when the response has been delivered (or the
 *    parser is freed); nothing else points into the arena afterwards.
 *  - frames[0] is the top level of the response; frames[depth] is the list
 *    or response code that the next item goes into. depth never exceeds
 *    limits.max_depth.
 *  - tok holds the token being read (tag, atom, quoted string, text) and is
 *    bounded by limits.max_line because every byte of it was counted there.
 */
#ifndef TWINBOX_IMAP_PARSER_INT_H
#define TWINBOX_IMAP_PARSER_INT_H

#include <stdint.h>

#include "util/buf.h"
#include "imap/parser.h"

enum parser_state {
	ST_START,		/* first byte of a response */
	ST_TAG,			/* inside the tag */
	ST_STAR_SP,		/* after "*" */
	ST_PLUS,		/* after "+" */
	ST_ITEM,		/* where an item may start */
	ST_ATOM,		/* inside an atom */
	ST_TILDE,		/* after "~": literal8 or an atom */
	ST_SECTION,		/* inside "[...]" of an atom like BODY[...] */
	ST_SECTION_QUOTED,	/* a quoted string inside that section */
	ST_SECTION_ESC,		/* after a backslash there */
	ST_QUOTED,		/* inside a quoted string */
	ST_QUOTED_ESC,		/* after a backslash in a quoted string */
	ST_LIT_SIZE,		/* digits of "{n}" */
	ST_LIT_CLOSE,		/* after "{n+" */
	ST_LIT_CR,		/* after "}" */
	ST_LIT_LF,		/* after "}\r" */
	ST_LIT_DATA,		/* the literal's bytes */
	ST_AFTER,		/* after an item */
	ST_STATUS,		/* after a status atom such as OK */
	ST_TEXT_FIRST,		/* first byte of resp-text */
	ST_CODE_END,		/* after the "]" of a resp-text-code */
	ST_TEXT,		/* human-readable text */
	ST_CR,			/* CR seen at the end of the response */
	ST_FAILED
};

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t bytes;		/* sum of the block sizes */
};

struct frame {
	struct imap_item *list;
	struct imap_item *last;
	int is_code;
};

struct imap_parser {
	struct imap_parser_callbacks cb;
	struct imap_parser_limits lim;
	enum parser_state state;
	struct buf err;

	struct arena arena;
	struct imap_response resp;
	uint64_t seq;		/* responses started so far */
	uint64_t pos;		/* bytes of this response seen */
	size_t line_bytes;	/* of them, outside literals */
	size_t nitems;
	size_t inline_total;
	struct buf tok;

	struct frame *frames;
	size_t *path;
	size_t frames_cap;
	size_t depth;
	size_t section_depth;

	uint64_t lit_size;
	uint64_t lit_done;
	int lit_binary;
	int lit_digits;
	char *lit_inline;	/* arena space of an inline literal */
	struct imap_literal_info lit_info;
};

/* parser.c */
int parser_fail(struct imap_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int parser_stop(struct imap_parser *p, const char *callback);
int parser_finish_response(struct imap_parser *p);

/* parser_state.c */
int parser_step(struct imap_parser *p, unsigned char c);

/* parser_tree.c */
void *arena_alloc(struct arena *a, size_t n);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);
void parser_begin_response(struct imap_parser *p);
void parser_end_response(struct imap_parser *p);
int parser_add_item(struct imap_parser *p, enum imap_item_kind kind,
    struct imap_item **out);
int parser_finish_atom(struct imap_parser *p);
int parser_finish_quoted(struct imap_parser *p);
int parser_finish_text(struct imap_parser *p);
int parser_open(struct imap_parser *p, int is_code);
int parser_close(struct imap_parser *p, int is_code);

/* parser_literal.c */
int parser_start_literal(struct imap_parser *p);
size_t parser_literal_chunk(struct imap_parser *p, const char *data,
    size_t len);

#endif
