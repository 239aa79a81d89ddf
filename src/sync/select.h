/*
 * select: which mailboxes of a channel take part in a run.
 *
 * A channel's Patterns are matched against canonical mailbox names ('/'
 * separated). Semantics, as mbsync documents them:
 *  - '*' matches any run of characters, '/' included;
 *  - '%' matches any run of characters except '/';
 *  - a pattern starting with '!' excludes what it matches;
 *  - patterns are tried in order and the LAST one that matches decides, so
 *    "Patterns * !Trash" means everything but Trash, and
 *    "Patterns !Archive* Archive/2024" keeps Archive/2024 alone of the
 *    Archive hierarchy;
 *  - a name no pattern matches is not selected;
 *  - "INBOX" is matched case-insensitively, as IMAP requires.
 * Pure functions; no I/O.
 */
#ifndef TWINBOX_SYNC_SELECT_H
#define TWINBOX_SYNC_SELECT_H

#include "store.h"

/* 1 if name matches the single pattern (without a leading '!'). */
int select_glob(const char *pattern, const char *name);
/* 1 if the pattern list selects name (see the rules above). */
int select_match(const struct strlist *patterns, const char *name);
/* Append to out every name of the union of the two lists that the patterns
 * select, once each, sorted. */
void select_boxes(const struct strlist *patterns, const struct strlist *far,
    const struct strlist *near, struct strlist *out);

#endif
