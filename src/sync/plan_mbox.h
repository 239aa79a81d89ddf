/*
 * plan_mbox: which mailboxes of a channel to create, remove and sync (the
 * Create and Remove policies). A pure function like plan_mailbox().
 *
 * Contract:
 *  - Inputs are canonical names (store.h), already filtered by the
 *    channel's patterns; the lists need not be sorted and are borrowed.
 *    `known` is every name that existed on both sides at the end of an
 *    earlier sync (the caller keeps that list).
 *  - The result owns copies of the names; mbox_plan_free() releases them.
 *    Steps are sorted by name, one per name of the union of the lists.
 *  - A mailbox that vanished from one side is removed from the other only
 *    when Remove allows that side; otherwise it is skipped, never
 *    re-created, so that its recorded pairs cannot turn into a mass
 *    deletion or a re-download.
 */
#ifndef TWINBOX_SYNC_PLAN_MBOX_H
#define TWINBOX_SYNC_PLAN_MBOX_H

#include <stddef.h>

#include "util/buf.h"
#include "store.h"
#include "sync/state.h"

enum mbox_action {
	MBOX_SYNC,		/* on both sides: sync the pair */
	MBOX_CREATE,		/* create on `side`, then sync */
	MBOX_REMOVE,		/* gone from the other side: remove on `side`
				 * if it is empty, then forget the name */
	MBOX_FORGET,		/* gone from both: drop from the known list */
	MBOX_SKIP_NEW,		/* only on one side; Create forbids `side` */
	MBOX_SKIP_GONE		/* vanished; Remove forbids `side` */
};

struct mbox_step {
	char *name;
	enum mbox_action action;
	enum side side;		/* CREATE, REMOVE, SKIP_*: the side acted on
				 * (or that would have been) */
};

struct mbox_plan {
	struct mbox_step *v;
	size_t n, cap;
};

/* Bits (1u << side) of where creating and removing are allowed. */
struct mbox_policy {
	unsigned create;
	unsigned remove;
};

void plan_mailboxes(const struct strlist *far, const struct strlist *near,
    const struct strlist *known, const struct mbox_policy *pol,
    struct mbox_plan *out);
void mbox_plan_free(struct mbox_plan *p);
/* One human line, e.g. "create near Lists/foo". */
void mbox_describe_step(const struct mbox_step *st, struct buf *out);

#endif
