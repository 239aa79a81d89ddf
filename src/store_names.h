/*
 * store_names: mbsync's Flatten and MapInbox, as a store in front of
 * another that translates mailbox names and passes everything else on.
 *
 * Contract:
 *  - Above it, names are canonical (store.h); below it, they are what
 *    the inner store is asked for. Flatten DELIM: the canonical "a/b" is
 *    the inner store's "a<DELIM>b" (one folder, no hierarchy), and an
 *    inner "a<DELIM>b" lists as "a/b". MapInbox NAME: a mailbox NAME
 *    (relative to Path, without subfolders) that is the inner INBOX;
 *    list() adds it beside INBOX when INBOX exists.
 *  - Two folders are never merged into one: a canonical name that
 *    Flatten would map onto another's folder (a component that holds
 *    DELIM: "a.b" would be the folder of "a/b") is refused naming both;
 *    a list in which two inner folders stand for one canonical name
 *    ("a.b" and a hierarchical "a/b") fails naming both; an inner
 *    hierarchical folder that Flatten cannot reach is skipped with a
 *    warning, as is a real folder hidden by MapInbox.
 *  - store_names_wrap() takes over in and returns it unchanged when
 *    neither key is set; the result is released by its ops->free().
 */
#ifndef TWINBOX_STORE_NAMES_H
#define TWINBOX_STORE_NAMES_H

#include "util/buf.h"
#include "store.h"

/* name: the store's, for messages; flatten, map_inbox: NULL or empty
 * when not set. Every string is copied. */
struct store *store_names_wrap(struct store *in, const char *name,
    const char *flatten, const char *map_inbox);

/* The store under s (s itself when it is no names store). */
struct store *store_names_inner(struct store *s);

/*
 * The inner store's name of the canonical name (a copy of name when s is
 * no names store): 0 and *out set (the caller's to free), or -1 with err
 * set when the name cannot be stored.
 */
int store_names_to_inner(struct store *s, const char *name, char **out,
    struct buf *err);

#endif
