/*
 * parser: streaming parser for IMAP server responses (RFC 3501, RFC 9051).
 *
 * Contract:
 *  - Bytes from the server are handed to imap_parser_feed() in chunks of any
 *    size; the result never depends on where the chunks were cut.
 *  - Each complete response (tagged, untagged or continuation) is delivered
 *    as a small tree to the response callback. The tree, and every string
 *    in it, belongs to the parser and is valid only during that callback:
 *    copy what must outlive it.
 *  - Literals no larger than limits.max_inline_literal become STRING items.
 *    Larger ones are never held in memory: their bytes go to the
 *    literal_data callback as they arrive, and the tree holds a LITERAL
 *    item that carries only the size. Without a literal_data callback such
 *    a literal is a protocol error.
 *  - Every length the server sends is checked against a limit before it is
 *    trusted; the memory the parser holds (imap_parser_memory()) is bounded
 *    by the limits and does not grow with the size of a streamed literal.
 *  - Malformed input or an exceeded limit puts the parser in a failed state:
 *    imap_parser_error() says what was wrong and at which byte of the
 *    response (0-based, counting literal bytes), and every later call to
 *    imap_parser_feed() fails. The connection must then be dropped.
 *  - A callback that returns non-zero stops the parser the same way, with
 *    an error naming the callback. Callbacks must not feed or free the
 *    parser that called them. The imap_literal_info (and its path) is, like
 *    the tree, valid only during the callback.
 *  - The parser owns no global state; one parser serves one connection.
 */
#ifndef TWINBOX_IMAP_PARSER_H
#define TWINBOX_IMAP_PARSER_H

#include <stddef.h>
#include <stdint.h>

enum imap_item_kind {
	IMAP_ATOM,		/* str/len: the atom, e.g. "BODY[]<0>" */
	IMAP_NUMBER,		/* num: the value; str/len: the digits */
	IMAP_STRING,		/* str/len: quoted string or inline literal */
	IMAP_LITERAL,		/* num: size of a literal that was streamed */
	IMAP_LIST,		/* child/count: the elements */
	IMAP_NIL
};

/*
 * One node of a response tree. str is NUL-terminated; an inline literal
 * may also hold NUL bytes within len. Siblings are linked through next.
 */
struct imap_item {
	enum imap_item_kind kind;
	uint64_t num;
	const char *str;
	size_t len;
	struct imap_item *child;
	size_t count;
	struct imap_item *next;
};

enum imap_response_type {
	IMAP_UNTAGGED,		/* "* ..." */
	IMAP_TAGGED,		/* "A001 OK ..." */
	IMAP_CONTINUATION	/* "+ ..." */
};

/*
 * A complete response. items lists what follows the tag, "*" or "+":
 * "* 3 FETCH (UID 7)" gives NUMBER 3, ATOM FETCH, LIST (UID 7).
 * For a status response (OK, NO, BAD, BYE, PREAUTH, tagged or not) items
 * holds the status atom only; the bracketed resp-text-code, if any, is the
 * LIST code (its first element is the code's name) and the human-readable
 * rest is the STRING text (possibly empty). A continuation has no items,
 * only code and text.
 */
struct imap_response {
	enum imap_response_type type;
	const char *tag;		/* NULL unless tagged */
	const struct imap_item *items;	/* first top-level item or NULL */
	size_t count;			/* number of top-level items */
	const struct imap_item *code;	/* LIST or NULL */
	const struct imap_item *text;	/* STRING or NULL */
	uint64_t seq;			/* 1 for the first response parsed */
};

/* Where a streamed literal's bytes belong. */
struct imap_literal_info {
	uint64_t seq;		/* imap_response.seq of its response */
	const char *tag;	/* NULL unless tagged */
	uint64_t number;	/* leading number ("* 12 FETCH") or 0 */
	const char *item_name;	/* preceding atom ("BODY[]") or NULL */
	const size_t *path;	/* index of the literal at each depth */
	size_t depth;		/* elements in path */
	uint64_t size;		/* total size announced */
	uint64_t offset;	/* offset of this chunk within the literal */
	int binary;		/* 1 for a literal8 (~{n}) */
};

struct imap_parser_callbacks {
	int (*response)(void *ctx, const struct imap_response *resp);
	int (*literal_data)(void *ctx, const struct imap_literal_info *where,
	    const char *p, size_t n);
	void *ctx;
};

struct imap_parser_limits {
	size_t max_line;		/* response bytes outside literals */
	size_t max_inline_literal;	/* larger literals are streamed */
	size_t max_inline_total;	/* inline literal bytes per response */
	uint64_t max_literal;		/* largest literal accepted */
	size_t max_depth;		/* nesting of lists and codes */
	size_t max_items;		/* items in one response */
	uint64_t max_number;		/* largest number accepted */
};

struct imap_parser;

/* Fill limits with the defaults (see docs/imap-parser.md). */
void imap_parser_default_limits(struct imap_parser_limits *limits);
/* limits NULL means the defaults; both structs are copied. */
struct imap_parser *imap_parser_new(
    const struct imap_parser_callbacks *cb,
    const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser *p);
/* 0 when all of data was consumed, -1 on error (see imap_parser_error). */
int imap_parser_feed(struct imap_parser *p, const char *data, size_t len);
/* The connection closed: -1 (with an error) if a response was cut short. */
int imap_parser_eof(struct imap_parser *p);
/* The error message, or NULL while the parser is healthy. */
const char *imap_parser_error(const struct imap_parser *p);
/* Bytes of heap memory the parser holds right now. */
size_t imap_parser_memory(const struct imap_parser *p);

/* Helpers for reading trees; all accept NULL items and then fail. */

/* 1 if item is an ATOM equal to name, ignoring ASCII case. */
int imap_atom_is(const struct imap_item *item, const char *name);
/* The index-th element of a LIST, or NULL. */
const struct imap_item *imap_list_get(const struct imap_item *list,
    size_t index);
/* In a FETCH-style LIST of name/value pairs, the value after name. */
const struct imap_item *imap_fetch_find(const struct imap_item *list,
    const char *name);
/* 0 and *out for a NUMBER, -1 otherwise. */
int imap_item_number(const struct imap_item *item, uint64_t *out);
/* 0 with *s and *len for a STRING, ATOM or NUMBER (its digits as sent),
 * -1 otherwise (NIL included). */
int imap_item_string(const struct imap_item *item, const char **s,
    size_t *len);
/* 1 if resp is a status response with this status (OK, NO, ...). */
int imap_response_is(const struct imap_response *resp, const char *status);
/* Name of the resp-text-code ("UIDNEXT"), or NULL if there is none. */
const char *imap_code_name(const struct imap_response *resp);
/* The index-th argument of the code (0 is the first after the name). */
const struct imap_item *imap_code_arg(const struct imap_response *resp,
    size_t index);
/* 0 and *out if the code is name with a NUMBER first argument. */
int imap_code_number(const struct imap_response *resp, const char *name,
    uint64_t *out);

#endif
