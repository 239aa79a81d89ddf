/*
 * override: what mbsync's operation options on the command line (-C, -R,
 * -X and the Sync letters -n -o -u -g -f -0 -F -L -H, with their long
 * forms) change in a channel's options.
 *
 * Contract: each category (Sync, Create, Remove, Expunge) the command line
 * names replaces the channel's setting for that category whole, as mbsync
 * does; a category it does not name keeps the channel's (or the global)
 * setting. override_apply() is pure: it edits only the copy it is given.
 */
#ifndef TWINBOX_OVERRIDE_H
#define TWINBOX_OVERRIDE_H

#include "config/config.h"

enum {
	OVR_SYNC = 1u << 0,
	OVR_CREATE = 1u << 1,
	OVR_REMOVE = 1u << 2,
	OVR_EXPUNGE = 1u << 3
};

struct override {
	unsigned have;		/* OVR_* bits: the categories named */
	unsigned sync;		/* SYNC_PULL_* | SYNC_PUSH_* */
	unsigned create;	/* SIDE_BIT_* */
	unsigned remove;	/* SIDE_BIT_* */
	unsigned expunge;	/* SIDE_BIT_* */
};

void override_apply(const struct override *o, struct channel_opts *opt);

#endif
