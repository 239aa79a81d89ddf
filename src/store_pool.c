/* store_pool: the stores of one run; see store_pool.h. */
#include "store_pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "channel.h"
#include "imap/store_imap.h"
#include "store_names.h"

struct pool_entry {
	const struct store_conf *sc;
	struct store *s;
	int lent;
	struct imap_hierarchy h;	/* what s was told of sc's
					   hierarchy (prefix NULL: nothing) */
};

/* What the run keeps about one IMAPAccount. */
struct pool_account {
	const struct imap_account_conf *a;
	struct imap_secrets *secrets;	/* UserCmd and PassCmd outputs */
	int told_extra;		/* store_pool_extra_failed() was called */
};

struct store_pool {
	pthread_mutex_t lock;	/* v and n, every entry's lent, acc, opened */
	struct pool_entry *v;
	size_t n;
	struct pool_account *acc;
	size_t nacc;
	unsigned opened;	/* connections opened so far */
};

struct store_pool *
store_pool_new(void)
{
	struct store_pool *p = xcalloc(1, sizeof(struct store_pool));

	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void
store_pool_free(struct store_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		p->v[i].s->ops->free(p->v[i].s);
		imap_hierarchy_free(&p->v[i].h);
	}
	for (size_t i = 0; i < p->nacc; i++)
		imap_secrets_free(p->acc[i].secrets);
	pthread_mutex_destroy(&p->lock);
	free(p->acc);
	free(p->v);
	free(p);
}

/* Forget entry i and return its store, for the caller to log out of
 * once the lock is released. */
static struct store *
forget(struct store_pool *p, size_t i)
{
	struct store *s = p->v[i].s;

	imap_hierarchy_free(&p->v[i].h);
	p->v[i] = p->v[--p->n];
	return s;
}

/* Flatten and MapInbox put a names store in front of the IMAP store
 * (store_names.h), made for one IMAPStore's keys: such a store is
 * never moved over to another IMAPStore. */
static int
plain_names(const struct store_conf *sc)
{
	return sc->flatten == NULL && sc->map_inbox == NULL;
}

/* A copy of the hierarchy another connection of the run was told for
 * sc into *out: 0, or -1 when none was (out untouched). Called with the
 * lock held. */
static int
known_hierarchy(const struct store_pool *p, const struct store_conf *sc,
    struct imap_hierarchy *out)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].sc == sc && p->v[i].h.prefix != NULL) {
			out->prefix = xstrdup(p->v[i].h.prefix);
			out->delim = p->v[i].h.delim;
			return 0;
		}
	return -1;
}

/* What the store of entry e, just opened or moved over, was told of its
 * IMAPStore's hierarchy. Called with the lock held. */
static void
note_hierarchy(struct pool_entry *e)
{
	imap_hierarchy_free(&e->h);
	(void)imap_store_hierarchy(store_names_inner(e->s), &e->h);
}

/* An idle store for sc: one opened for sc itself, else one of another
 * IMAPStore of the same IMAPAccount, moved over to sc. Called with the
 * lock held; a store that cannot be moved goes to *dead, logged out by
 * the caller. */
static struct store *
lend_idle(struct store_pool *p, const struct store_conf *sc,
    const struct logger *lg, struct store **dead)
{
	struct imap_store_options io;
	struct imap_hierarchy known = { NULL, '\0' };
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].sc == sc && !p->v[i].lent)
			break;
	for (size_t j = 0; i == p->n && j < p->n; j++)
		if (!p->v[j].lent && p->v[j].sc->account == sc->account &&
		    plain_names(p->v[j].sc) && plain_names(sc))
			i = j;
	if (i == p->n)
		return NULL;
	if (p->v[i].sc != sc) {
		imap_store_options_from_conf(sc, &io);
		if (known_hierarchy(p, sc, &known) == 0)
			io.hierarchy = &known;
		if (imap_store_rebind(p->v[i].s, &io, &err) != 0) {
			log_verbose(lg, "%s; logging in again", buf_cstr(&err));
			buf_free(&err);
			imap_hierarchy_free(&known);
			*dead = forget(p, i);
			return NULL;
		}
		imap_hierarchy_free(&known);
		p->v[i].sc = sc;
		note_hierarchy(&p->v[i]);
	}
	p->v[i].lent = 1;
	return p->v[i].s;
}

/* "ACCOUNT#N": a new connection's name in the protocol trace. */
static void
connection_label(const struct store_conf *sc, unsigned n, struct buf *out)
{
	buf_setf(out, "%s#%u", sc->account->name, n);
}

/* What the run keeps about sc's account, made at its first use. Called
 * with the lock held. */
static struct pool_account *
account_of(struct store_pool *p, const struct store_conf *sc)
{
	for (size_t i = 0; i < p->nacc; i++)
		if (p->acc[i].a == sc->account)
			return &p->acc[i];
	p->acc = xreallocarray(p->acc, p->nacc + 1, sizeof(*p->acc));
	p->acc[p->nacc] = (struct pool_account){ sc->account,
	    imap_secrets_new(), 0 };
	return &p->acc[p->nacc++];
}

int
store_pool_extra_failed(struct store_pool *p, const struct store_conf *sc)
{
	struct pool_account *pa;
	int first;

	if (p == NULL || sc->kind != STORE_IMAP)
		return 1;
	pthread_mutex_lock(&p->lock);
	pa = account_of(p, sc);
	first = !pa->told_extra;
	pa->told_extra = 1;
	pthread_mutex_unlock(&p->lock);
	return first;
}

struct store *
store_pool_get(struct store_pool *p, const struct store_conf *sc,
    const struct store_open *how, const struct logger *lg, int *reused,
    struct buf *err)
{
	struct store *s = NULL, *dead = NULL;
	struct store_open o = *how;
	struct imap_hierarchy known = { NULL, '\0' };
	struct buf label = BUF_INIT;

	*reused = 0;
	if (p != NULL && sc->kind == STORE_IMAP) {
		pthread_mutex_lock(&p->lock);
		s = lend_idle(p, sc, lg, &dead);
		o.secrets = account_of(p, sc)->secrets;
		if (s == NULL) {
			connection_label(sc, ++p->opened, &label);
			if (known_hierarchy(p, sc, &known) == 0)
				o.hierarchy = &known;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (dead != NULL)
		dead->ops->free(dead);
	if (s != NULL) {
		*reused = 1;
		return s;
	}
	o.label = label.data;
	s = channel_open_store(sc, &o, lg, err);
	buf_free(&label);
	imap_hierarchy_free(&known);
	if (s == NULL || p == NULL || sc->kind != STORE_IMAP)
		return s;
	pthread_mutex_lock(&p->lock);
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n] = (struct pool_entry){ sc, s, 1, { NULL, '\0' } };
	note_hierarchy(&p->v[p->n++]);
	pthread_mutex_unlock(&p->lock);
	return s;
}

void
store_pool_put(struct store_pool *p, struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (p == NULL) {
		s->ops->free(s);
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n; i++)
		if (p->v[i].s == s)
			break;
	if (i < p->n && store_failure(s) == STORE_FAIL_MAILBOX) {
		p->v[i].lent = 0;
		s = NULL;
	} else if (i < p->n) {
		forget(p, i);
	}
	pthread_mutex_unlock(&p->lock);
	if (s != NULL)
		s->ops->free(s);
}
