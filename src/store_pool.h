/*
 * store_pool: the stores of one run, so that the channels that use the
 * same IMAPAccount share one connection and one login (PassCmd runs once
 * per run, not once per channel).
 *
 * Contract:
 *  - The pool is owned by the run (main) and lives until store_pool_free(),
 *    which closes (logs out of) every store it holds.
 *  - store_pool_get() lends an open store for sc: an idle one of the pool
 *    opened for the same IMAPStore if there is one, else an idle one of
 *    another IMAPStore of the same IMAPAccount, moved over to sc
 *    (imap_store_rebind(): same connection, sc's Path and namespace)
 *    (*reused = 1 in both cases), else a new one, connected and logged in
 *    now (*reused = 0). A store is lent to one borrower at a time, so a
 *    channel with the same IMAPAccount at both ends gets two. Maildir
 *    stores are never shared.
 *  - store_pool_put() takes a store back. One that can no longer be used
 *    (its last failure is STORE_FAIL_CONNECTION or worse, store.h) is
 *    closed at once, so that the next borrower logs in again.
 *  - A new IMAP connection is named "ACCOUNT#N" in the protocol trace
 *    (imap/trace.h): its IMAPAccount's name and its number among the
 *    connections the pool opened, from 1.
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
#include "interrupt.h"
#include "util/log.h"
#include "store.h"

struct store_pool;

struct store_pool *store_pool_new(void);
void store_pool_free(struct store_pool *p);

/* dry_run: opens a Maildir store read-only. stop: see interrupt.h. */
struct store *store_pool_get(struct store_pool *p, const struct store_conf *sc,
    int dry_run, const interrupt_flag *stop, const struct logger *lg,
    int *reused, struct buf *err);
void store_pool_put(struct store_pool *p, struct store *s);

#endif
