/* store_pool: the stores of one run; see store_pool.h. */
#include "store_pool.h"

#include <stdlib.h>

#include "channel.h"

struct pool_entry {
	const struct store_conf *sc;
	struct store *s;
	int lent;
};

struct store_pool {
	struct pool_entry *v;
	size_t n;
};

struct store_pool *
store_pool_new(void)
{
	return xcalloc(1, sizeof(struct store_pool));
}

void
store_pool_free(struct store_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		p->v[i].s->ops->free(p->v[i].s);
	free(p->v);
	free(p);
}

struct store *
store_pool_get(struct store_pool *p, const struct store_conf *sc,
    int dry_run, const interrupt_flag *stop, const struct logger *lg,
    int *reused, struct buf *err)
{
	struct store *s;

	*reused = 0;
	for (size_t i = 0; p != NULL && i < p->n; i++)
		if (p->v[i].sc == sc && !p->v[i].lent) {
			p->v[i].lent = 1;
			*reused = 1;
			return p->v[i].s;
		}
	s = channel_open_store(sc, dry_run, stop, lg, err);
	if (s == NULL || p == NULL || sc->kind != STORE_IMAP)
		return s;
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = (struct pool_entry){ sc, s, 1 };
	return s;
}

void
store_pool_put(struct store_pool *p, struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; p != NULL && i < p->n; i++)
		if (p->v[i].s == s)
			break;
	if (p == NULL || i == p->n) {
		s->ops->free(s);
		return;
	}
	if (store_failure(s) == STORE_FAIL_MAILBOX) {
		p->v[i].lent = 0;
		return;
	}
	s->ops->free(s);
	p->v[i] = p->v[--p->n];
}
