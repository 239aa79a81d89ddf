/*
 * buf: the one growable byte buffer / string type used everywhere.
 *
 * Contract:
 *  - A struct buf is initialised with BUF_INIT or buf_init() and owns its
 *    memory until buf_free() or buf_detach().
 *  - data is always NUL-terminated (data[len] == '\0') once anything has been
 *    added, so a buf can be passed as a C string; it may also hold NUL bytes
 *    inside len (message bodies).
 *  - An empty, never-grown buf has data == NULL; use buf_cstr() to get "".
 *  - Allocation failure is fatal (the process prints a message and exits):
 *    every caller may assume success, as git's strbuf does.
 */
#ifndef TWINBOX_BUF_H
#define TWINBOX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* buf_free() for a buf that held a secret (a password, a token, a SASL
 * message): its whole allocation is overwritten with OPENSSL_cleanse(),
 * which no compiler drops, before it is freed. A buf that will hold a
 * secret is grown before the secret goes in (buf_grow()), so that no
 * reallocation leaves a copy behind. */
void buf_wipe(struct buf *b);
/* Make room for at least extra more bytes (plus the terminating NUL). */
void buf_grow(struct buf *b, size_t extra);
/* Drop the contents but keep the allocation. */
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t len);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Replace the contents with a formatted string. */
void buf_setf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Take ownership of the contents (never NULL); b is left empty. */
char *buf_detach(struct buf *b);
/* The contents as a C string; "" for an empty buf. */
const char *buf_cstr(const struct buf *b);

/* Fatal-on-failure allocation helpers, for the same reason as above. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least need elements of size elem. */
void *xreallocarray(void *p, size_t count, size_t elem);
/*
 * Room in the array p, of *cap elements of size elem, for at least need:
 * p itself when need <= *cap; else p reallocated to first elements (an
 * empty array) or to *cap doubled, doubling until need fits, and *cap
 * set. Returns the array, which may have moved. The one way an array
 * grows: v = xgrow(v, &cap, n + 1, 16, sizeof(*v)).
 */
void *xgrow(void *p, size_t *cap, size_t need, size_t first, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
