/*
 * strpool: many short strings that live and die together (the file
 * names of one Maildir listing), copied into large chunks instead of a
 * malloc() each.
 *
 * Contract:
 *  - A zeroed struct strpool is an empty pool. strpool_dup() returns a
 *    NUL-terminated copy that stays put until strpool_free(), which
 *    releases every copy at once; a copy is never freed alone.
 */
#ifndef TWINBOX_UTIL_STRPOOL_H
#define TWINBOX_UTIL_STRPOOL_H

#include <stddef.h>

struct strpool_chunk;

struct strpool {
	struct strpool_chunk *head;	/* the chunk being filled first */
};

char *strpool_dup(struct strpool *p, const char *s, size_t len);
void strpool_free(struct strpool *p);

#endif
