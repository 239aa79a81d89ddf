/*
 * store_pool: the stores of one run, so that the channels that use the
 * same IMAPAccount share one connection and one login, and an account's
 * UserCmd and PassCmd run once per run, however many connections log in.
 *
 * Contract:
 *  - The pool is owned by the run (main) and lives until store_pool_free(),
 *    which closes (logs out of) every store it holds.
 *  - store_pool_get() lends an open store for sc: an idle one of the pool
 *    opened for the same IMAPStore if there is one, else an idle one of
 *    another IMAPStore of the same IMAPAccount, moved over to sc
 *    (imap_store_rebind(): same connection, sc's Path and namespace)
 *    (*reused = 1 in both cases), else a new one, connected and logged in
 *    now (*reused = 0). A store opened or moved over for an IMAPStore
 *    that another connection of the run already serves is given the
 *    namespace prefix and delimiter that connection was told, and asks
 *    the server for neither (no NAMESPACE). A store is lent to one
 *    borrower at a time, so a channel with the same IMAPAccount at both
 *    ends gets two. Maildir stores are never shared.
 *  - store_pool_put() takes a store back. One that can no longer be used
 *    (its last failure is STORE_FAIL_CONNECTION or worse, store.h) is
 *    closed at once, so that the next borrower logs in again.
 *  - A new IMAP connection is named "ACCOUNT#N" in the protocol trace
 *    (imap/trace.h): its IMAPAccount's name and its number among the
 *    connections the pool opened, from 1.
 *  - Every IMAP store the pool opens for an account is given the
 *    account's imap_secrets (imap/secret.h), made at the account's first
 *    get and wiped by store_pool_free(): UserCmd and PassCmd run at the
 *    first login only, and every other connection (Connections above 1,
 *    a login again after a lost connection) reuses what they printed.
 *  - A NULL pool is valid: get opens a new store, put frees it.
 *  - get and put may be called from several threads at once (the workers
 *    of channel_workers.h): the pool's bookkeeping is under its own
 *    mutex, while a new store's login and a dropped store's logout happen
 *    outside it, so that the workers' logins overlap. A lent store belongs
 *    to its borrower (one thread) until it is put back.
 */
#ifndef TWINBOX_STORE_POOL_H
#define TWINBOX_STORE_POOL_H

#include "util/buf.h"
#include "config/config.h"
#include "imap/secret.h"
#include "imap/store_imap.h"
#include "interrupt.h"
#include "util/log.h"
#include "store.h"

/* How a store is opened. */
struct store_open {
	int dry_run;			/* a Maildir store is read-only */
	const interrupt_flag *stop;	/* NULL, or cuts the IMAP store's
					   waits short (interrupt.h) */
	struct imap_secrets *secrets;	/* NULL, or the IMAP account's
					   UserCmd and PassCmd outputs,
					   shared with its other connections
					   (imap/secret.h) */
	int no_list;			/* the store's list() will not be
					   called: an IMAP store sends no
					   LIST when it connects */
	const struct imap_hierarchy *hierarchy;	/* NULL, or where the
					   IMAP store's mailboxes live, as
					   another connection was told
					   (imap/store_imap.h) */
	const char *label;		/* NULL, or the IMAP connection's
					   name in the protocol trace */
};

struct store_pool;

struct store_pool *store_pool_new(void);
void store_pool_free(struct store_pool *p);

/* how: its secrets are the pool's to set. */
struct store *store_pool_get(struct store_pool *p, const struct store_conf *sc,
    const struct store_open *how, const struct logger *lg, int *reused,
    struct buf *err);
void store_pool_put(struct store_pool *p, struct store *s);
/* An extra connection for sc (Connections) could not be opened: 1 the
 * first time in the run for sc's account (the user is told once), else
 * 0. */
int store_pool_extra_failed(struct store_pool *p, const struct store_conf *sc);

#endif
