/*
 * plan_mbox: the Create/Remove rules for the mailbox list of a channel.
 *
 *   on both sides                    sync
 *   on one side, never synced        create on the other if Create allows
 *                                    it there, else skip
 *   on one side, synced before       it vanished from the other: remove it
 *                                    here if Remove allows this side (the
 *                                    executor removes only an empty one),
 *                                    else skip it and leave it alone
 *   on neither, synced before        forget the name
 */
#include "sync/plan_mbox.h"

#include <stdlib.h>
#include <string.h>

static void
add_step(struct mbox_plan *p, const char *name, enum mbox_action action,
    enum side side)
{
	struct mbox_step *st;

	p->v = xgrow(p->v, &p->cap, p->n + 1, 16, sizeof(*p->v));
	st = &p->v[p->n++];
	st->name = xstrdup(name);
	st->action = action;
	st->side = side;
}

static void
plan_one(const char *name, const struct strlist *far,
    const struct strlist *near, const struct strlist *known,
    const struct mbox_policy *pol, struct mbox_plan *out)
{
	int on_far = strlist_contains(far, name);
	int on_near = strlist_contains(near, name);
	enum side missing = on_far ? SIDE_NEAR : SIDE_FAR;

	if (on_far && on_near) {
		add_step(out, name, MBOX_SYNC, SIDE_FAR);
	} else if (!on_far && !on_near) {
		add_step(out, name, MBOX_FORGET, SIDE_FAR);
	} else if (!strlist_contains(known, name)) {
		add_step(out, name, (pol->create & (1u << missing)) ?
		    MBOX_CREATE : MBOX_SKIP_NEW, missing);
	} else {
		add_step(out, name, (pol->remove & (1u << !missing)) ?
		    MBOX_REMOVE : MBOX_SKIP_GONE, !missing);
	}
}

static void
add_all(struct strlist *all, const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strlist_contains(all, l->v[i]))
			strlist_add(all, l->v[i]);
}

void
plan_mailboxes(const struct strlist *far, const struct strlist *near,
    const struct strlist *known, const struct mbox_policy *pol,
    struct mbox_plan *out)
{
	struct strlist all = { 0 };

	add_all(&all, far);
	add_all(&all, near);
	add_all(&all, known);
	strlist_sort(&all);
	for (size_t i = 0; i < all.n; i++)
		plan_one(all.v[i], far, near, known, pol, out);
	strlist_free(&all);
}

void
mbox_plan_free(struct mbox_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void
mbox_describe_step(const struct mbox_step *st, struct buf *out)
{
	const char *side = side_names[st->side];
	const char *other = side_names[!st->side];

	switch (st->action) {
	case MBOX_SYNC:
		buf_addf(out, "sync %s", st->name);
		break;
	case MBOX_CREATE:
		buf_addf(out, "create %s %s", side, st->name);
		break;
	case MBOX_REMOVE:
		buf_addf(out, "remove %s %s (if empty)", side, st->name);
		break;
	case MBOX_FORGET:
		buf_addf(out, "forget %s", st->name);
		break;
	case MBOX_SKIP_NEW:
		buf_addf(out, "skip %s: only on %s, Create does not allow %s",
		    st->name, other, side);
		break;
	case MBOX_SKIP_GONE:
		buf_addf(out, "skip %s: gone from %s, Remove does not allow "
		    "%s", st->name, other, side);
		break;
	}
}
