/* strpool: strings copied into shared chunks; see strpool.h. */
#include "util/strpool.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* A listing of a few thousand names fits in a chunk or two. */
#define CHUNK_SIZE (64 * 1024)

struct strpool_chunk {
	struct strpool_chunk *next;
	size_t used;
	size_t size;
	char data[];
};

static struct strpool_chunk *
chunk_new(size_t size, struct strpool_chunk *next)
{
	struct strpool_chunk *c = xmalloc(sizeof(*c) + size);

	c->next = next;
	c->used = 0;
	c->size = size;
	return c;
}

char *
strpool_dup(struct strpool *p, const char *s, size_t len)
{
	struct strpool_chunk *c = p->head;
	char *copy;

	if (c == NULL || c->size - c->used < len + 1) {
		/* A string longer than a chunk gets a chunk of its own,
		 * behind the one being filled. */
		if (len + 1 > CHUNK_SIZE && c != NULL) {
			c->next = chunk_new(len + 1, c->next);
			c = c->next;
		} else {
			c = chunk_new(len + 1 > CHUNK_SIZE ? len + 1 :
			    CHUNK_SIZE, p->head);
			p->head = c;
		}
	}
	copy = c->data + c->used;
	memcpy(copy, s, len);
	copy[len] = '\0';
	c->used += len + 1;
	return copy;
}

void
strpool_free(struct strpool *p)
{
	struct strpool_chunk *c = p->head;

	while (c != NULL) {
		struct strpool_chunk *next = c->next;

		free(c);
		c = next;
	}
	p->head = NULL;
}
