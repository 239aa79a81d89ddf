/*
 * Unit tests: the sync planner (src/sync/plan*.c).
 *
 * Two kinds of tests:
 *  - Tables: each case gives a recorded state, both scans, a policy and
 *    the exact plan, written as the lines plan_describe_op() prints. Every
 *    successful case is then applied to an in-memory model of the two
 *    stores and the state, and the plan of the result must be empty.
 *  - A randomized model test: thousands of random histories (fixed seed)
 *    of user actions, UIDVALIDITY changes and servers restored from a
 *    backup, each followed by a sync; after each sync the next plan must
 *    be empty and no message may be lost or duplicated.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "store.h"
#include "sync/plan.h"
#include "sync/plan_mbox.h"
#include "sync/policy.h"
#include "sync/state.h"
#include "support/testlib.h"

/* ---- the model: two stores and a state, as plain arrays ---- */

struct model_msg {
	struct msg_meta meta;
	struct fingerprint fp;
};

struct model_side {
	struct model_msg *v;
	size_t n, cap;
	struct mbox_status st;
};

struct model {
	struct model_side side[2];
	struct sync_state state;
	struct sync_policy pol;
	size_t trashed[2];	/* messages copied to each side's Trash */
};

static void
model_add_msg(struct model_side *ms, const struct model_msg *m)
{
	ms->v = xgrow(ms->v, &ms->cap, ms->n + 1, 16, sizeof(*ms->v));
	ms->v[ms->n++] = *m;
	if (m->meta.uid >= ms->st.uidnext)
		ms->st.uidnext = m->meta.uid + 1;
}

static long
model_find(const struct model_side *ms, uint32_t uid)
{
	for (size_t i = 0; i < ms->n; i++)
		if (ms->v[i].meta.uid == uid)
			return (long)i;
	return -1;
}

static void
model_remove(struct model_side *ms, size_t i)
{
	memmove(ms->v + i, ms->v + i + 1, (ms->n - i - 1) * sizeof(*ms->v));
	ms->n--;
}

static void
model_add_pair(struct sync_state *st, const struct pair_rec *rec)
{
	st->pairs = xgrow(st->pairs, &st->cap, st->npairs + 1, 16,
	    sizeof(*st->pairs));
	st->pairs[st->npairs++] = *rec;
}

static long
model_find_pair(const struct sync_state *st, const uint32_t key[2])
{
	for (size_t i = 0; i < st->npairs; i++)
		if (st->pairs[i].uid[0] == key[0] &&
		    st->pairs[i].uid[1] == key[1])
			return (long)i;
	return -1;
}

static void
model_free(struct model *m)
{
	free(m->side[0].v);
	free(m->side[1].v);
	free(m->state.pairs);
	memset(m, 0, sizeof(*m));
}

/* The inputs of plan_mailbox() for the model's current contents. */
struct model_input {
	struct msg_list scan[2];
	struct fingerprint *fp[2];
	struct header_hash *hh[2];
	struct plan_input in;
};

enum { WITH_NONE, WITH_FP, WITH_HH };

static void
model_input(struct model *m, struct model_input *mi, int with_fp)
{
	memset(mi, 0, sizeof(*mi));
	for (int s = 0; s < 2; s++) {
		struct model_side *ms = &m->side[s];

		mi->fp[s] = xcalloc(ms->n + 1, sizeof(struct fingerprint));
		mi->hh[s] = xcalloc(ms->n + 1, sizeof(struct header_hash));
		for (size_t i = 0; i < ms->n; i++) {
			msg_list_add(&mi->scan[s], &ms->v[i].meta);
			mi->fp[s][i] = ms->v[i].fp;
			mi->hh[s][i].hash = ms->v[i].fp.hash;
			mi->hh[s][i].have = 1;
		}
		ms->st.count = (uint32_t)ms->n;
		mi->in.side[s].scan = &mi->scan[s];
		mi->in.side[s].status = &ms->st;
		mi->in.side[s].fp = with_fp == WITH_FP ? mi->fp[s] : NULL;
		mi->in.side[s].hh = with_fp == WITH_HH ? mi->hh[s] : NULL;
	}
	mi->in.state = &m->state;
	mi->in.policy = &m->pol;
}

static void
model_input_free(struct model_input *mi)
{
	for (int s = 0; s < 2; s++) {
		msg_list_free(&mi->scan[s]);
		free(mi->fp[s]);
		free(mi->hh[s]);
	}
}

/* Plan, supplying fingerprints when the planner asks for them. */
static enum plan_status
model_plan(struct model *m, struct plan *p)
{
	struct model_input mi;

	model_input(m, &mi, WITH_NONE);
	if (plan_mailbox(&mi.in, p) == PLAN_NEED_FINGERPRINTS) {
		model_input_free(&mi);
		model_input(m, &mi, WITH_FP);
		plan_mailbox(&mi.in, p);
	}
	model_input_free(&mi);
	return p->status;
}

static void
apply_copy(struct model *m, const struct plan_op *op)
{
	struct model_side *src = &m->side[op->side];
	struct model_side *dst = &m->side[!op->side];
	long i = model_find(src, op->uid);
	struct model_msg copy;
	struct pair_rec rec = { .flags = op->flags };

	ck_assert_msg(i >= 0, "copy of missing uid %u", op->uid);
	copy = src->v[i];
	copy.meta.uid = dst->st.uidnext;
	copy.meta.flags = op->flags;
	model_add_msg(dst, &copy);
	rec.uid[op->side] = op->uid;
	rec.uid[!op->side] = copy.meta.uid;
	for (size_t k = 0; k < m->state.npairs; k++) {
		struct pair_rec *p = &m->state.pairs[k];

		if (p->uid[op->side] == op->uid && p->uid[!op->side] == 0) {
			*p = rec;
			return;
		}
	}
	model_add_pair(&m->state, &rec);
}

static void
apply_message_op(struct model *m, const struct plan_op *op)
{
	struct model_side *ms = &m->side[op->side];
	long i = model_find(ms, op->uid);

	ck_assert_msg(i >= 0, "operation on missing %s uid %u",
	    side_names[op->side], op->uid);
	if (op->kind == PLAN_SET_FLAGS) {
		unsigned f = ms->v[i].meta.flags;

		ck_assert_msg((op->add & ~f) | (op->del & f),
		    "flag change that changes nothing");
		ms->v[i].meta.flags = (f | op->add) & ~op->del;
		return;
	}
	ck_assert_msg(ms->v[i].meta.flags & MSG_DELETED,
	    "expunge of %s uid %u without \\Deleted",
	    side_names[op->side], op->uid);
	model_remove(ms, (size_t)i);
}

static void
apply_record_op(struct model *m, const struct plan_op *op)
{
	struct sync_state *st = &m->state;
	long k;

	switch (op->kind) {
	case PLAN_NEW_PAIR:
	case PLAN_SKIP:
		model_add_pair(st, &op->rec);
		break;
	case PLAN_UPDATE_PAIR:
	case PLAN_FORGET:
		k = model_find_pair(st, op->key);
		ck_assert_msg(k >= 0, "no record far %u near %u",
		    op->key[0], op->key[1]);
		if (op->kind == PLAN_UPDATE_PAIR)
			st->pairs[k] = op->rec;
		else
			st->pairs[k] = st->pairs[--st->npairs];
		break;
	case PLAN_SET_MAXUID:
		st->maxuid[op->side] = op->value;
		break;
	case PLAN_SET_UIDVALIDITY:
		st->uidvalidity[op->side] = op->value;
		break;
	default:
		ck_abort_msg("unexpected operation kind %d", op->kind);
	}
}

/* A trash copy: the message is there; its record says it was trashed,
 * into its own side's Trash or (TrashRemoteNew) the other's. */
static void
apply_trash(struct model *m, const struct plan_op *op)
{
	enum side to = op->kind == PLAN_TRASH_REMOTE ? !op->side : op->side;
	long k;

	ck_assert_msg(model_find(&m->side[op->side], op->uid) >= 0,
	    "trash of missing %s uid %u", side_names[op->side], op->uid);
	ck_assert(op->rec.status & PAIR_TRASHED(to));
	m->trashed[to]++;
	if (op->key[SIDE_FAR] == 0 && op->key[SIDE_NEAR] == 0) {
		model_add_pair(&m->state, &op->rec);
		return;
	}
	k = model_find_pair(&m->state, op->key);
	ck_assert_msg(k >= 0, "no record far %u near %u", op->key[0],
	    op->key[1]);
	m->state.pairs[k] = op->rec;
}

static void
model_apply(struct model *m, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_op *op = &p->ops[i];

		if (op->kind == PLAN_COPY)
			apply_copy(m, op);
		else if (op->kind == PLAN_TRASH ||
		    op->kind == PLAN_TRASH_REMOTE)
			apply_trash(m, op);
		else if (op->kind == PLAN_SET_FLAGS ||
		    op->kind == PLAN_EXPUNGE)
			apply_message_op(m, op);
		else
			apply_record_op(m, op);
	}
}

static void
describe_plan(const struct plan *p, struct buf *out)
{
	if (p->status == PLAN_REFUSED)
		buf_addf(out, "REFUSED: %s\n", buf_cstr(&p->why));
	if (p->status == PLAN_NEED_FINGERPRINTS)
		buf_addf(out, "NEED FINGERPRINTS: %s\n", buf_cstr(&p->why));
	for (size_t i = 0; i < p->n; i++) {
		plan_describe_op(&p->ops[i], out);
		buf_addc(out, '\n');
	}
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < p->empty[s].n; i++)
			buf_addf(out, "empty %s uid %u\n", side_names[s],
			    p->empty[s].v[i]);
}

/* After a sync, nothing is left to do. */
static void
assert_converged(struct model *m, const char *what)
{
	struct plan p;
	struct buf d = BUF_INIT;

	plan_init(&p);
	model_plan(m, &p);
	describe_plan(&p, &d);
	ck_assert_msg(p.status == PLAN_OK && p.n == 0,
	    "%s: second plan not empty:\n%s", what, buf_cstr(&d));
	buf_free(&d);
	plan_free(&p);
}

/* ---- table notation ----
 * flags:   Maildir letters, "-" for none
 * message: "uid[:flags[:size[:hash]]]" (size 1000, hash 0 by default;
 *          hash "-": no fingerprint, as not fetched or vanished; size 0:
 *          an empty message)
 * record:  "far:near:base[:status]", status b (too big), e (expired),
 *          g (gone-marked), F and N (trashed on far, near)
 * policy:  mbsync's Sync words (None Pull Push New ReNew Gone Flags All,
 *          with its rule: no direction = both, no operation = all) and
 *          Expunge=none|far|near|both ExpungeSolo=none|far|near|both
 *          MaxSizeFar=N MaxSizeNear=N
 *          MaxMessages=N ExpireUnread=yes|no TrashFar TrashNear
 *          TrashNewOnlyFar TrashNewOnlyNear TrashRemoteNewFar
 *          TrashRemoteNewNear GuardEmpty=N GuardLarge=N GuardPercent=N Force
 */

static unsigned
parse_flags(const char *s)
{
	unsigned f = 0;

	for (; *s && *s != ':'; s++) {
		const char *p = strchr(msg_flag_letters, *s);

		if (*s == '-')
			continue;
		ck_assert_msg(p != NULL, "bad flag letter '%c'", *s);
		f |= 1u << (p - msg_flag_letters);
	}
	return f;
}

static const char *
next_field(const char *s)
{
	const char *c = strchr(s, ':');

	return c ? c + 1 : NULL;
}

static void
parse_msgs(const char *spec, struct model_side *ms)
{
	char *copy = xstrdup(spec ? spec : ""), *save = NULL;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save)) {
		struct model_msg m = { .meta.size = 1000 };
		const char *f = next_field(t);

		m.meta.uid = (uint32_t)strtoul(t, NULL, 10);
		if (f) {
			m.meta.flags = parse_flags(f);
			f = next_field(f);
		}
		if (f) {
			m.meta.size = strtoull(f, NULL, 10);
			f = next_field(f);
		}
		m.fp.size = m.meta.size;
		if (f && *f == '-')
			m.fp = (struct fingerprint){ 0, 0 };
		else if (f)
			m.fp.hash = strtoull(f, NULL, 10);
		model_add_msg(ms, &m);
	}
	free(copy);
}

static unsigned
parse_status(const char *s)
{
	unsigned st = 0;

	for (; s && *s; s++) {
		if (*s == 'b')
			st |= PAIR_TOO_BIG;
		else if (*s == 'e')
			st |= PAIR_EXPIRED;
		else if (*s == 'g')
			st |= PAIR_GONE_MARKED;
		else if (*s == 'F')
			st |= PAIR_TRASHED_FAR;
		else if (*s == 'N')
			st |= PAIR_TRASHED_NEAR;
	}
	return st;
}

static void
parse_pairs(const char *spec, struct sync_state *st)
{
	char *copy = xstrdup(spec ? spec : ""), *save = NULL;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save)) {
		struct pair_rec rec = { .status = 0 };
		const char *f = next_field(t);

		ck_assert_msg(f && next_field(f), "bad record '%s'", t);
		rec.uid[SIDE_FAR] = (uint32_t)strtoul(t, NULL, 10);
		rec.uid[SIDE_NEAR] = (uint32_t)strtoul(f, NULL, 10);
		f = next_field(f);
		rec.flags = parse_flags(f);
		rec.status = parse_status(next_field(f));
		model_add_pair(st, &rec);
	}
	free(copy);
}

static const struct {
	const char *word;
	unsigned ops;
} sync_words[] = {
	{ "New", SYNC_NEW }, { "ReNew", SYNC_RENEW }, { "Gone", SYNC_GONE },
	{ "Delete", SYNC_GONE }, { "Flags", SYNC_FLAGS }, { "All", SYNC_ALL },
};

static int
parse_sync_word(const char *t, unsigned *dirs, unsigned *ops, int *seen)
{
	if (strcmp(t, "Pull") == 0 || strcmp(t, "Push") == 0) {
		*dirs |= 1u << (strcmp(t, "Push") == 0 ? SIDE_NEAR : SIDE_FAR);
		*seen = 1;
		return 1;
	}
	if (strcmp(t, "None") == 0) {
		*seen = 1;
		return 1;
	}
	for (size_t i = 0; i < sizeof(sync_words) / sizeof(*sync_words); i++) {
		if (strcmp(t, sync_words[i].word) == 0) {
			*ops |= sync_words[i].ops;
			*seen = 1;
			return 1;
		}
	}
	return 0;
}

static void
parse_setting(const char *t, struct sync_policy *pol)
{
	const char *v = strchr(t, '=');
	unsigned long long n = v ? strtoull(v + 1, NULL, 10) : 0;

	if (strcmp(t, "AllowMassDelete") == 0)
		pol->allow_mass_delete = 1;
	else if (strncmp(t, "Expunge=", 8) == 0)
		pol->expunge = strcmp(v + 1, "far") == 0 ? 1u :
		    strcmp(v + 1, "near") == 0 ? 2u :
		    strcmp(v + 1, "both") == 0 ? 3u : 0u;
	else if (strncmp(t, "ExpungeSolo=", 12) == 0)
		pol->expunge_solo = strcmp(v + 1, "far") == 0 ? 1u :
		    strcmp(v + 1, "near") == 0 ? 2u :
		    strcmp(v + 1, "both") == 0 ? 3u : 0u;
	else if (strncmp(t, "MaxSizeFar=", 11) == 0)
		pol->max_size[SIDE_FAR] = n;
	else if (strncmp(t, "MaxSizeNear=", 12) == 0)
		pol->max_size[SIDE_NEAR] = n;
	else if (strncmp(t, "MaxMessages=", 12) == 0)
		pol->max_messages = (uint32_t)n;
	else if (strcmp(t, "TrashFar") == 0)
		pol->trash_box[SIDE_FAR] = "Trash";
	else if (strcmp(t, "TrashNear") == 0)
		pol->trash_box[SIDE_NEAR] = "Trash";
	else if (strcmp(t, "TrashNewOnlyFar") == 0)
		pol->trash_new_only |= SYNC_EXPUNGE_SIDE(SIDE_FAR);
	else if (strcmp(t, "TrashNewOnlyNear") == 0)
		pol->trash_new_only |= SYNC_EXPUNGE_SIDE(SIDE_NEAR);
	else if (strcmp(t, "TrashRemoteNewFar") == 0)
		pol->trash_remote_new |= SYNC_EXPUNGE_SIDE(SIDE_FAR);
	else if (strcmp(t, "TrashRemoteNewNear") == 0)
		pol->trash_remote_new |= SYNC_EXPUNGE_SIDE(SIDE_NEAR);
	else if (strncmp(t, "ExpireUnread=", 13) == 0)
		pol->expire_unread = strcmp(v + 1, "yes") == 0;
	else if (strncmp(t, "GuardWiped=", 11) == 0)
		pol->guard_wiped_over = (uint32_t)n;
	else if (strncmp(t, "GuardWipedPercent=", 18) == 0)
		pol->guard_wiped_percent = (unsigned)n;
	else if (strncmp(t, "GuardLarge=", 11) == 0)
		pol->guard_large_over = (uint32_t)n;
	else if (strncmp(t, "GuardLargePercent=", 18) == 0)
		pol->guard_large_percent = (unsigned)n;
	else
		ck_abort_msg("bad policy word '%s'", t);
}

static void
parse_policy(const char *spec, struct sync_policy *pol)
{
	char *copy = xstrdup(spec ? spec : ""), *save = NULL;
	unsigned dirs = 0, ops = 0;
	int seen = 0;

	sync_policy_default(pol);
	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save))
		if (!parse_sync_word(t, &dirs, &ops, &seen))
			parse_setting(t, pol);
	free(copy);
	if (!seen)
		return;
	if (dirs == 0 && ops != 0)
		dirs = 3;
	if (ops == 0 && dirs != 0)
		ops = SYNC_ALL;
	for (int s = 0; s < 2; s++)
		pol->ops[s] = (dirs & (1u << s)) ? ops : 0;
}

struct table_case {
	const char *name;
	uint32_t uv[2];		/* recorded UIDVALIDITY, 0 = never synced */
	uint32_t max[2];	/* recorded maxuid */
	const char *pairs;
	const char *far, *near;
	uint32_t now_uv[2];	/* 0: as recorded (1 if never synced) */
	uint32_t uidnext[2];	/* 0: above every UID seen or recorded */
	const char *policy;
	int fp;			/* give fingerprints up front */
	const char *expect;	/* described plan, one line per op */
	const char *summary;	/* plan_describe_summary(), if not NULL */
};

static void
model_from_case(struct model *m, const struct table_case *tc)
{
	const char *spec[2] = { tc->far, tc->near };

	memset(m, 0, sizeof(*m));
	parse_policy(tc->policy, &m->pol);
	parse_pairs(tc->pairs, &m->state);
	for (int s = 0; s < 2; s++) {
		struct model_side *ms = &m->side[s];

		m->state.uidvalidity[s] = tc->uv[s];
		m->state.maxuid[s] = tc->max[s];
		parse_msgs(spec[s], ms);
		ms->st.uidvalidity = tc->now_uv[s] ? tc->now_uv[s] :
		    tc->uv[s] ? tc->uv[s] : 1;
		if (ms->st.uidnext <= tc->max[s])
			ms->st.uidnext = tc->max[s] + 1;
		if (tc->uidnext[s])
			ms->st.uidnext = tc->uidnext[s];
	}
}

static void
run_table_case(const struct table_case *tc)
{
	struct model m;
	struct model_input mi;
	struct plan p;
	struct buf got = BUF_INIT;

	model_from_case(&m, tc);
	plan_init(&p);
	model_input(&m, &mi, tc->fp);
	plan_mailbox(&mi.in, &p);
	model_input_free(&mi);
	describe_plan(&p, &got);
	ck_assert_msg(strcmp(buf_cstr(&got), tc->expect) == 0,
	    "%s: plan differs.\n--- expected\n%s--- got\n%s", tc->name,
	    tc->expect, buf_cstr(&got));
	if (tc->summary) {
		buf_reset(&got);
		plan_describe_summary(&p, &got);
		ck_assert_msg(strcmp(buf_cstr(&got), tc->summary) == 0,
		    "%s: summary '%s'", tc->name, buf_cstr(&got));
	}
	if (p.status == PLAN_OK) {
		model_apply(&m, &p);
		assert_converged(&m, tc->name);
	}
	buf_free(&got);
	plan_free(&p);
	model_free(&m);
}

/* ---- tables ---- */

static const struct table_case new_cases[] = {
	{ .name = "first sync copies both ways and records limits",
	  .far = "1:S:1000:1 2:-:1000:2", .near = "1:F:1000:3",
	  .now_uv = { 7, 9 }, .fp = 1,
	  .expect =
	    "copy far->near uid 1 (flags S)\n"
	    "copy far->near uid 2 (flags -)\n"
	    "copy near->far uid 1 (flags F)\n"
	    "maxuid far 2\n"
	    "maxuid near 1\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n",
	  .summary = "2 far->near, 1 near->far, 0 flag changes, "
	    "0 expunges" },
	{ .name = "first contact: fingerprints of the new messages only",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "1:S 2 3 4", .near = "1:F", .now_uv = { 1, 1 },
	  .expect = "NEED FINGERPRINTS: 3 far and 1 near messages would be "
	    "copied: comparing their header hashes first\n" },
	{ .name = "first contact: pairs by content, unites flags, copies "
	    "the rest",
	  .far = "1:S:1000:11 2:-:1000:12 3:F:1000:13",
	  .near = "1:-:1000:12 2:R:1000:11 3:-:1000:14",
	  .now_uv = { 7, 9 }, .fp = 1,
	  .expect =
	    "new pair far 1 near 2 (base -)\n"
	    "new pair far 2 near 1 (base -)\n"
	    "copy far->near uid 3 (flags F)\n"
	    "copy near->far uid 3 (flags -)\n"
	    "flags far uid 1 +R\n"
	    "flags near uid 2 +S\n"
	    "update pair far 1 near 2: base RS\n"
	    "maxuid far 3\n"
	    "maxuid near 3\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n",
	  .summary = "1 far->near, 1 near->far, 2 flag changes, "
	    "0 expunges; 2 found on both sides by fingerprint" },
	{ .name = "first contact: duplicates on one side pair one to one",
	  .far = "1:-:1000:5 2:S:1000:5 3:-:900:5", .near = "4:-:1000:5",
	  .now_uv = { 7, 9 }, .fp = 1,
	  .expect =
	    "new pair far 1 near 4 (base -)\n"
	    "copy far->near uid 2 (flags S)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "maxuid far 3\n"
	    "maxuid near 4\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n" },
	{ .name = "first contact: a message without fingerprint matches "
	    "nothing",
	  .far = "1:-:1000:-", .near = "1:-:1000:-", .now_uv = { 7, 9 },
	  .fp = 1,
	  .expect =
	    "copy far->near uid 1 (flags -)\n"
	    "copy near->far uid 1 (flags -)\n"
	    "maxuid far 1\n"
	    "maxuid near 1\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n" },
	{ .name = "new: an empty message is not copied and stays new",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S 2:-:0 3:F", .near = "1:S",
	  .expect =
	    "copy far->near uid 3 (flags F)\n"
	    "empty far uid 2\n" },
	{ .name = "new: maxuid rises to below the first empty message",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "1:S 2 3:-:0 4 5:-:0",
	  .expect =
	    "copy near->far uid 2 (flags -)\n"
	    "copy near->far uid 4 (flags -)\n"
	    "maxuid near 2\n"
	    "empty near uid 3\n"
	    "empty near uid 5\n" },
	{ .name = "first contact: empty messages are compared with nothing",
	  .far = "1:-:0 2:-:1000:5", .near = "1:-:0", .now_uv = { 7, 9 },
	  .expect =
	    "copy far->near uid 2 (flags -)\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n"
	    "empty far uid 1\n"
	    "empty near uid 1\n" },
	{ .name = "repair: an empty message is left, maxuid below it",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 3:3:-",
	  .far = "1:-:1000:1 2:-:0 3:-:1000:3",
	  .near = "1:-:1000:1 3:-:1000:3", .now_uv = { 5, 0 }, .fp = 1,
	  .expect =
	    "forget pair far 1 near 1\n"
	    "forget pair far 3 near 3\n"
	    "new pair far 1 near 1 (base -)\n"
	    "new pair far 3 near 3 (base -)\n"
	    "maxuid far 1\n"
	    "uidvalidity far 5\n"
	    "empty far uid 2\n" },
	{ .name = "first contact: a message ReNew copies is compared too",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:S:b",
	  .far = "2:S:5000:7", .near = "3:F:5000:7",
	  .policy = "MaxSizeNear=10000", .fp = 1,
	  .expect =
	    "update pair far 2 near 0: near UID 3, base -\n"
	    "flags far uid 2 +F\n"
	    "flags near uid 3 +S\n"
	    "update pair far 2 near 3: base FS\n"
	    "maxuid near 3\n" },
	{ .name = "first contact: held back on both sides, not paired",
	  .uv = { 1, 1 }, .max = { 2, 3 }, .pairs = "2:0:-:b 0:3:-:b",
	  .far = "2:-:5000:7", .near = "3:-:5000:7",
	  .policy = "MaxSizeNear=10000 MaxSizeFar=10000", .fp = 1,
	  .expect =
	    "copy far->near uid 2 (flags -)\n"
	    "copy near->far uid 3 (flags -)\n" },
	{ .name = "unrecorded below maxuid is left alone",
	  .uv = { 1, 1 }, .max = { 5, 0 }, .far = "3 6:S",
	  .expect =
	    "copy far->near uid 6 (flags S)\n"
	    "maxuid far 6\n" },
	{ .name = "Sync Pull copies far to near only",
	  .uv = { 1, 1 }, .far = "2:-:1000:2", .near = "3:-:1000:3",
	  .policy = "Pull", .fp = 1,
	  .expect =
	    "copy far->near uid 2 (flags -)\n"
	    "maxuid far 2\n" },
	{ .name = "Sync Push copies near to far only",
	  .uv = { 1, 1 }, .far = "2:-:1000:2", .near = "3:-:1000:3",
	  .policy = "Push", .fp = 1,
	  .expect =
	    "copy near->far uid 3 (flags -)\n"
	    "maxuid near 3\n" },
	{ .name = "Sync Pull New copies but propagates no flags",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:S 2", .near = "1:F", .policy = "Pull New",
	  .expect =
	    "copy far->near uid 2 (flags -)\n"
	    "maxuid far 2\n" },
	{ .name = "Sync None plans nothing",
	  .uv = { 1, 1 }, .far = "2", .near = "3", .policy = "None",
	  .expect = "" },
	{ .name = "new message marked deleted is expunged where allowed",
	  .uv = { 1, 1 }, .far = "2:T", .policy = "Expunge=far",
	  .expect =
	    "expunge far uid 2\n"
	    "maxuid far 2\n" },
	{ .name = "new deleted message not copied to an expunging side",
	  .uv = { 1, 1 }, .far = "2:T 3:ST", .policy = "Expunge=near",
	  .expect = "maxuid far 3\n" },
	{ .name = "new deleted message copied when nobody expunges",
	  .uv = { 1, 1 }, .far = "2:T",
	  .expect =
	    "copy far->near uid 2 (flags T)\n"
	    "maxuid far 2\n" },
	{ .name = "left message marked deleted is expunged",
	  .uv = { 1, 1 }, .max = { 5, 0 }, .far = "3:T",
	  .policy = "Expunge=both",
	  .expect = "expunge far uid 3\n" },
};

static const struct table_case flag_cases[] = {
	{ .name = "three-way merge writes both sides",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:FS", .near = "1",
	  .expect =
	    "flags far uid 1 -S\n"
	    "flags near uid 1 +F\n"
	    "update pair far 1 near 1: base F\n" },
	{ .name = "same change on both sides only moves the base",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:RS", .near = "1:RS",
	  .expect = "update pair far 1 near 1: base RS\n" },
	{ .name = "unchanged pair plans nothing",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "1:S", .expect = "", .summary = "" },
	{ .name = "Pull Flags: near keeps its own change, base is far's",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:FS", .near = "1", .policy = "Pull Flags",
	  .expect =
	    "flags near uid 1 +F\n"
	    "update pair far 1 near 1: base FS\n" },
	{ .name = "Push Flags: far keeps its own change, base is near's",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:FS", .near = "1", .policy = "Push Flags",
	  .expect =
	    "flags far uid 1 -S\n"
	    "update pair far 1 near 1: base -\n" },
	{ .name = "no Flags in either direction keeps the base",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:FS", .near = "1", .policy = "New Gone",
	  .expect = "" },
	{ .name = "deleted flag propagates like any flag without Expunge",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:ST", .near = "1:S",
	  .expect =
	    "flags near uid 1 +T\n"
	    "update pair far 1 near 1: base ST\n" },
};

static const struct table_case gone_cases[] = {
	{ .name = "gone on far marks near deleted",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .near = "1:S",
	  .expect =
	    "flags near uid 1 +T\n"
	    "update pair far 1 near 1: far gone, base ST, gone-marked\n" },
	{ .name = "gone on near with Expunge far removes far's copy",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1", .policy = "Expunge=far",
	  .expect =
	    "flags far uid 1 +T\n"
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "gone without the Gone operation only records it",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .near = "1:S", .policy = "New Flags",
	  .expect = "update pair far 1 near 1: far gone, base S\n" },
	{ .name = "gone on both sides is forgotten",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S 2:0:-:b",
	  .expect =
	    "forget pair far 1 near 1\n"
	    "forget pair far 2 near 0\n" },
	{ .name = "gone-marked message expunged later is forgotten",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "0:1:T:g",
	  .expect = "forget pair far 0 near 1\n" },
	{ .name = "gone-marked message is left alone",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "0:1:T:g",
	  .near = "1:T", .expect = "" },
	{ .name = "gone-marked message goes once Expunge allows",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "0:1:T:g",
	  .near = "1:T", .policy = "Expunge=near",
	  .expect =
	    "expunge near uid 1\n"
	    "forget pair far 0 near 1\n" },
};

static const struct table_case expunge_cases[] = {
	{ .name = "Expunge None keeps deleted messages",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:T",
	  .far = "1:T", .near = "1:T", .expect = "" },
	{ .name = "Expunge Far: far goes, near is marked by the gone rule",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:T", .near = "1", .policy = "Expunge=far",
	  .expect =
	    "flags near uid 1 +T\n"
	    "expunge far uid 1\n"
	    "update pair far 1 near 1: far gone, base T, gone-marked\n" },
	{ .name = "Expunge Near: near's deletion reaches far as a flag",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1", .near = "1:T", .policy = "Expunge=near",
	  .expect =
	    "flags far uid 1 +T\n"
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base T, gone-marked\n" },
	{ .name = "Expunge Both removes both and forgets",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:T", .near = "1", .policy = "Expunge=both",
	  .expect =
	    "flags near uid 1 +T\n"
	    "expunge far uid 1\n"
	    "expunge near uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "Expunge Far without Pull Gone leaves near unmarked",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:T", .near = "1", .policy = "Expunge=far New Flags",
	  .expect =
	    "flags near uid 1 +T\n"
	    "expunge far uid 1\n"
	    "update pair far 1 near 1: far gone, base T\n" },
	{ .name = "Expunge Far with only Push: far's flag stays there",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:T", .near = "1", .policy = "Expunge=far Push",
	  .expect =
	    "expunge far uid 1\n"
	    "update pair far 1 near 1: far gone, base -\n" },
};

static const struct table_case limit_cases[] = {
	{ .name = "MaxSize near: too big recorded, not copied",
	  .uv = { 1, 1 }, .far = "1::500 2::2000",
	  .policy = "MaxSizeNear=1000",
	  .expect =
	    "copy far->near uid 1 (flags -)\n"
	    "skip far uid 2: too big\n"
	    "maxuid far 2\n" },
	{ .name = "MaxSize far applies to near's messages",
	  .uv = { 1, 1 }, .far = "1::5000:1", .near = "4:S:3000:2",
	  .policy = "MaxSizeFar=2000", .fp = 1,
	  .expect =
	    "copy far->near uid 1 (flags -)\n"
	    "skip near uid 4: too big\n"
	    "maxuid far 1\n"
	    "maxuid near 4\n" },
	{ .name = "ReNew copies a too-big message once the limit allows",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:S:2000", .policy = "MaxSizeNear=5000",
	  .expect = "copy far->near uid 2 (flags S)\n" },
	{ .name = "without ReNew a too-big message stays skipped",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:S:2000", .policy = "New Gone Flags",
	  .expect = "" },
	{ .name = "too-big message still over the limit stays skipped",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:S:2000", .policy = "MaxSizeNear=1999",
	  .expect = "" },
	{ .name = "MaxMessages: unread and flagged ones beyond it are kept",
	  .uv = { 1, 1 }, .far = "1:F 2 3 4:S", .policy = "MaxMessages=2",
	  .expect =
	    "copy far->near uid 1 (flags F)\n"
	    "copy far->near uid 2 (flags -)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "copy far->near uid 4 (flags S)\n"
	    "maxuid far 4\n" },
	{ .name = "MaxMessages: older read ones expire, oldest UID first",
	  .uv = { 1, 1 }, .far = "1:S 2:S 3:S 4:S 5:S",
	  .policy = "MaxMessages=2",
	  .expect =
	    "skip far uid 1: expired\n"
	    "skip far uid 2: expired\n"
	    "skip far uid 3: expired\n"
	    "copy far->near uid 4 (flags S)\n"
	    "copy far->near uid 5 (flags S)\n"
	    "maxuid far 5\n" },
	{ .name = "MaxMessages: a kept unread one takes an excess place",
	  .uv = { 1, 1 }, .far = "1:S 2 3:S 4:S 5:S",
	  .policy = "MaxMessages=2 ExpireUnread=no",
	  .expect =
	    "skip far uid 1: expired\n"
	    "copy far->near uid 2 (flags -)\n"
	    "skip far uid 3: expired\n"
	    "copy far->near uid 4 (flags S)\n"
	    "copy far->near uid 5 (flags S)\n"
	    "maxuid far 5\n" },
	{ .name = "ExpireUnread yes: unread ones expire, flagged stay",
	  .uv = { 1, 1 }, .far = "1 2:F 3 4",
	  .policy = "MaxMessages=2 ExpireUnread=yes",
	  .expect =
	    "skip far uid 1: expired\n"
	    "copy far->near uid 2 (flags F)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "copy far->near uid 4 (flags -)\n"
	    "maxuid far 4\n" },
	{ .name = "ExpireUnread no: every unread one is copied",
	  .uv = { 1, 1 }, .far = "1 2 3 4 5:S 6:S",
	  .policy = "MaxMessages=2 ExpireUnread=no",
	  .expect =
	    "copy far->near uid 1 (flags -)\n"
	    "copy far->near uid 2 (flags -)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "copy far->near uid 4 (flags -)\n"
	    "copy far->near uid 5 (flags S)\n"
	    "copy far->near uid 6 (flags S)\n"
	    "maxuid far 6\n" },
	{ .name = "ExpireUnread not set: many unread beyond it stop the box",
	  .uv = { 1, 1 }, .far = "1 2 3:S 4:S", .policy = "MaxMessages=2",
	  .expect = "REFUSED: 2 unread messages are beyond MaxMessages (2); "
	    "set ExpireUnread to yes (they expire from near) or no (near "
	    "keeps them) in the channel to decide; mailbox skipped\n" },
	{ .name = "ExpireUnread not set: one unread beyond it is kept",
	  .uv = { 1, 1 }, .far = "1 2:S 3:S 4:S", .policy = "MaxMessages=3",
	  .expect =
	    "copy far->near uid 1 (flags -)\n"
	    "copy far->near uid 2 (flags S)\n"
	    "copy far->near uid 3 (flags S)\n"
	    "copy far->near uid 4 (flags S)\n"
	    "maxuid far 4\n" },
	{ .name = "MaxMessages: an old near copy expires, far keeps it",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:S",
	  .far = "1:S 2:S 3:S", .near = "1:S 2:S", .policy = "MaxMessages=2",
	  .expect =
	    "update pair far 1 near 1: base S, expired\n"
	    "copy far->near uid 3 (flags S)\n"
	    "flags near uid 1 +T\n"
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base S, expired\n"
	    "maxuid far 3\n" },
	{ .name = "MaxMessages: expiry ignores Expunge None and Gone",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:S",
	  .far = "1:S 2:S", .near = "1:S 2:S",
	  .policy = "MaxMessages=1 Expunge=none",
	  .expect =
	    "update pair far 1 near 1: base S, expired\n"
	    "flags near uid 1 +T\n"
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base S, expired\n" },
	{ .name = "MaxMessages: a flag set near saves the copy",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:S",
	  .far = "1:S 2:S", .near = "1:FS 2:S", .policy = "MaxMessages=1",
	  .expect =
	    "flags far uid 1 +F\n"
	    "update pair far 1 near 1: base FS\n" },
	{ .name = "MaxMessages: messages pushed to far count as newest",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:S",
	  .far = "1:S 2:S", .near = "1:S 2:S 3:S", .policy = "MaxMessages=2",
	  .expect =
	    "update pair far 1 near 1: base S, expired\n"
	    "copy near->far uid 3 (flags S)\n"
	    "flags near uid 1 +T\n"
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base S, expired\n"
	    "maxuid near 3\n" },
	{ .name = "an expiry a crash interrupted is finished",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S:e 2:2:S",
	  .far = "1:S 2:S", .near = "1:ST 2:S", .policy = "MaxMessages=1",
	  .expect =
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base S, expired\n" },
	{ .name = "an expiring copy that vanished is not a deletion",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S:e 2:2:S",
	  .far = "1:S 2:S", .near = "2:S", .policy = "MaxMessages=1",
	  .expect =
	    "update pair far 1 near 1: near gone, base S, expired\n" },
	{ .name = "expired record is final",
	  .uv = { 1, 1 }, .max = { 4, 0 }, .pairs = "1:0:-:e",
	  .far = "1", .policy = "MaxMessages=2", .expect = "" },
	{ .name = "MaxMessages does not limit near to far",
	  .uv = { 1, 1 }, .near = "1:F 2:F 3:F", .policy = "MaxMessages=1",
	  .expect =
	    "copy near->far uid 1 (flags F)\n"
	    "copy near->far uid 2 (flags F)\n"
	    "copy near->far uid 3 (flags F)\n"
	    "maxuid near 3\n" },
};

static const struct table_case trash_cases[] = {
	{ .name = "Trash far: a deletion from near is trashed on far first",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "", .policy = "Expunge=both TrashFar",
	  .expect =
	    "flags far uid 1 +T\n"
	    "trash far uid 1\n"
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n",
	  .summary = "0 far->near, 0 near->far, 1 flag changes, 1 expunges, "
	    "1 copied to Trash first" },
	{ .name = "Trash near: a deletion from far is trashed on near first",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "", .near = "1:S", .policy = "Expunge=both TrashNear",
	  .expect =
	    "flags near uid 1 +T\n"
	    "trash near uid 1\n"
	    "expunge near uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "Trash: a \\Deleted pair is trashed where expunged",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:-",
	  .far = "1:T", .near = "1", .policy = "Expunge=both TrashFar TrashNear",
	  .expect =
	    "flags near uid 1 +T\n"
	    "trash far uid 1\n"
	    "trash near uid 1\n"
	    "expunge far uid 1\n"
	    "expunge near uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "Trash: only where Expunge removes the message",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "", .policy = "Expunge=near TrashFar",
	  .expect =
	    "flags far uid 1 +T\n"
	    "update pair far 1 near 1: near gone, base ST, gone-marked\n" },
	{ .name = "TrashNewOnly: a propagated message is not trashed",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "",
	  .policy = "Expunge=both TrashFar TrashNewOnlyFar",
	  .expect =
	    "flags far uid 1 +T\n"
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "TrashNewOnly: a message never propagated is trashed",
	  .uv = { 1, 1 }, .max = { 1, 0 }, .far = "2:T",
	  .policy = "Expunge=far TrashFar TrashNewOnlyFar",
	  .expect =
	    "trash far uid 2\n"
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n"
	    "maxuid far 2\n" },
	{ .name = "TrashNewOnly: a message MaxSize held back is new",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:T:5000", .policy = "Expunge=far TrashFar TrashNewOnlyFar "
	    "MaxSizeNear=1000",
	  .expect =
	    "trash far uid 2\n"
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n" },
	{ .name = "a message already trashed is not copied again",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:ST:F",
	  .far = "1:ST", .near = "", .policy = "Expunge=both TrashFar",
	  .expect =
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "trashed on far is not trashed on near",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:ST:F",
	  .far = "", .near = "1:ST", .policy = "Expunge=both TrashFar TrashNear",
	  .expect =
	    "trash near uid 1\n"
	    "expunge near uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "a new message trashed before a crash is only expunged",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:T:F",
	  .far = "2:T", .policy = "Expunge=far TrashFar",
	  .expect =
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n" },
	{ .name = "TrashRemoteNew: a far message never copied goes to near's "
	    "Trash before far expunges it",
	  .uv = { 1, 1 }, .max = { 1, 0 }, .far = "2:T",
	  .policy = "Expunge=far TrashNear TrashRemoteNewNear",
	  .expect =
	    "trash far uid 2 in near's Trash\n"
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n"
	    "maxuid far 2\n",
	  .summary = "0 far->near, 0 near->far, 0 flag changes, 1 expunges, "
	    "1 copied to Trash first" },
	{ .name = "TrashRemoteNew: likewise a near message into far's Trash",
	  .uv = { 1, 1 }, .max = { 0, 1 }, .near = "2:T",
	  .policy = "Expunge=near TrashFar TrashRemoteNewFar",
	  .expect =
	    "trash near uid 2 in far's Trash\n"
	    "expunge near uid 2\n"
	    "forget pair far 0 near 2\n"
	    "maxuid near 2\n" },
	{ .name = "TrashRemoteNew: not when the expunging side has a Trash",
	  .uv = { 1, 1 }, .max = { 1, 0 }, .far = "2:T",
	  .policy = "Expunge=far TrashFar TrashNear TrashRemoteNewNear",
	  .expect =
	    "trash far uid 2\n"
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n"
	    "maxuid far 2\n" },
	{ .name = "TrashRemoteNew: not a message that was propagated",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "", .policy = "Expunge=both TrashNear "
	    "TrashRemoteNewNear",
	  .expect =
	    "flags far uid 1 +T\n"
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "TrashRemoteNew: not a message too big for near",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:T:5000", .policy = "Expunge=far TrashNear "
	    "TrashRemoteNewNear MaxSizeNear=1000",
	  .expect =
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n" },
	{ .name = "TrashRemoteNew: not without a Trash on near",
	  .uv = { 1, 1 }, .max = { 1, 0 }, .far = "2:T",
	  .policy = "Expunge=far TrashRemoteNewNear",
	  .expect =
	    "expunge far uid 2\n"
	    "maxuid far 2\n" },
	{ .name = "TrashRemoteNew: stored before a crash, only expunged",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:T:N",
	  .far = "2:T", .policy = "Expunge=far TrashNear TrashRemoteNewNear",
	  .expect =
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n" },
	{ .name = "a near copy MaxMessages expires is not trashed",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:S",
	  .far = "1:S 2:S", .near = "1:S 2:S",
	  .policy = "MaxMessages=1 Expunge=both TrashNear",
	  .expect =
	    "update pair far 1 near 1: base S, expired\n"
	    "flags near uid 1 +T\n"
	    "expunge near uid 1\n"
	    "update pair far 1 near 1: near gone, base S, expired\n" },
};

static const struct table_case solo_cases[] = {
	{ .name = "ExpungeSolo: a \\Deleted message paired near stays",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:ST", .near = "1:S", .policy = "ExpungeSolo=far",
	  .expect =
	    "flags near uid 1 +T\n"
	    "update pair far 1 near 1: base ST\n" },
	{ .name = "ExpungeSolo: its near copy gone, it is expunged",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:S", .near = "", .policy = "ExpungeSolo=far",
	  .expect =
	    "flags far uid 1 +T\n"
	    "expunge far uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "ExpungeSolo: a new \\Deleted message is expunged",
	  .uv = { 1, 1 }, .max = { 1, 0 }, .far = "2:T",
	  .policy = "ExpungeSolo=far",
	  .expect =
	    "expunge far uid 2\n"
	    "maxuid far 2\n" },
	{ .name = "ExpungeSolo: a copy whose counterpart is expunged goes too",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "1:ST", .near = "1:S", .policy = "Expunge=far ExpungeSolo=near",
	  .expect =
	    "flags near uid 1 +T\n"
	    "expunge far uid 1\n"
	    "expunge near uid 1\n"
	    "forget pair far 1 near 1\n" },
	{ .name = "ExpungeSolo: a held-back message marked \\Deleted goes",
	  .uv = { 1, 1 }, .max = { 2, 0 }, .pairs = "2:0:-:b",
	  .far = "2:T:5000", .policy = "ExpungeSolo=far MaxSizeNear=1000",
	  .expect =
	    "expunge far uid 2\n"
	    "forget pair far 2 near 0\n" },
};

static const struct table_case repair_cases[] = {
	{ .name = "far UIDVALIDITY changed: fingerprints are asked for",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:S",
	  .far = "10:S:1000:101", .near = "1:S:1000:101",
	  .now_uv = { 2, 0 },
	  .expect = "NEED FINGERPRINTS: far UIDVALIDITY changed (1 -> 2); "
	    "fingerprints of every message of both sides are needed\n" },
	{ .name = "far UIDVALIDITY changed: re-paired by fingerprint",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:S 2:2:- 3:3:F",
	  .far = "10:S:1000:101 11:F:1000:103 12:-:1000:200",
	  .near = "1:S:1000:101 2:-:1000:102 3:F:1000:103",
	  .now_uv = { 2, 0 }, .fp = 1,
	  .expect =
	    "forget pair far 1 near 1\n"
	    "forget pair far 2 near 2\n"
	    "forget pair far 3 near 3\n"
	    "new pair far 10 near 1 (base S)\n"
	    "new pair far 11 near 3 (base F)\n"
	    "copy far->near uid 12 (flags -)\n"
	    "copy near->far uid 2 (flags -)\n"
	    "maxuid far 12\n"
	    "uidvalidity far 2\n",
	  .summary = "1 far->near, 1 near->far, 0 flag changes, "
	    "0 expunges; UIDs not trusted on far: 2 re-paired by "
	    "fingerprint, 1 unmatched on far, 1 unmatched on near" },
	{ .name = "near UIDVALIDITY changed: old bases merge flags",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:-",
	  .far = "1:-:1000:1 2:-:1000:2",
	  .near = "7:S:1000:1 8:F:1000:2 9:-:1000:3",
	  .now_uv = { 0, 5 }, .fp = 1,
	  .expect =
	    "forget pair far 1 near 1\n"
	    "forget pair far 2 near 2\n"
	    "new pair far 1 near 7 (base S)\n"
	    "new pair far 2 near 8 (base -)\n"
	    "copy near->far uid 9 (flags -)\n"
	    "flags near uid 7 -S\n"
	    "flags far uid 2 +F\n"
	    "update pair far 1 near 7: base -\n"
	    "update pair far 2 near 8: base F\n"
	    "maxuid near 9\n"
	    "uidvalidity near 5\n" },
	{ .name = "both UIDVALIDITYs changed: flags are united",
	  .uv = { 1, 1 }, .max = { 1, 1 }, .pairs = "1:1:S",
	  .far = "5:S:1000:1", .near = "6:-:1000:1 7:-:1000:2",
	  .now_uv = { 2, 3 }, .fp = 1,
	  .expect =
	    "forget pair far 1 near 1\n"
	    "new pair far 5 near 6 (base -)\n"
	    "copy near->far uid 7 (flags -)\n"
	    "flags near uid 6 +S\n"
	    "update pair far 5 near 6: base S\n"
	    "maxuid far 5\n"
	    "maxuid near 7\n"
	    "uidvalidity far 2\n"
	    "uidvalidity near 3\n" },
	{ .name = "server went back in time: compared, nothing deleted",
	  .uv = { 1, 1 }, .max = { 5, 5 }, .pairs = "4:4:S 5:5:-",
	  .far = "4:S:1000:40", .near = "4:S:1000:40 5:-:1000:50",
	  .uidnext = { 5, 0 },
	  .expect = "NEED FINGERPRINTS: far UIDNEXT 5 is not above the "
	    "recorded UID 5; fingerprints of every message of both sides "
	    "are needed\n" },
	{ .name = "server went back in time: re-paired by fingerprint",
	  .uv = { 1, 1 }, .max = { 5, 5 }, .pairs = "4:4:S 5:5:-",
	  .far = "4:S:1000:40", .near = "4:S:1000:40 5:-:1000:50",
	  .uidnext = { 5, 0 }, .fp = 1,
	  .expect =
	    "forget pair far 4 near 4\n"
	    "forget pair far 5 near 5\n"
	    "new pair far 4 near 4 (base S)\n"
	    "copy near->far uid 5 (flags -)\n"
	    "maxuid far 4\n",
	  .summary = "0 far->near, 1 near->far, 0 flag changes, "
	    "0 expunges; UIDs not trusted on far: 1 re-paired by "
	    "fingerprint, 0 unmatched on far, 1 unmatched on near" },
	{ .name = "an interrupted repair is redone: unrecorded trusted "
	    "messages are compared again",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:7:S",
	  .far = "1:S:1000:1 3:-:1000:3", .near = "7:S:1000:1",
	  .now_uv = { 0, 5 }, .fp = 1,
	  .expect =
	    "forget pair far 1 near 7\n"
	    "new pair far 1 near 7 (base S)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "maxuid near 7\n"
	    "uidvalidity near 5\n" },
	{ .name = "reused UIDs on a restored server are not confused",
	  .uv = { 1, 1 }, .max = { 8, 6 }, .pairs = "5:5:- 6:6:S",
	  .far = "5:-:1000:50 6:F:1000:99",
	  .near = "5:-:1000:50 6:S:1000:60",
	  .uidnext = { 7, 0 }, .fp = 1, .policy = "Expunge=both",
	  .expect =
	    "forget pair far 5 near 5\n"
	    "forget pair far 6 near 6\n"
	    "new pair far 5 near 5 (base -)\n"
	    "copy far->near uid 6 (flags F)\n"
	    "copy near->far uid 6 (flags S)\n"
	    "maxuid far 6\n" },
};

/* The plan when the guard lets the deletion of pairs 1 to 3 through with
 * Expunge=near. */
#define NEAR_1_2_3_EXPUNGED \
	"flags near uid 1 +T\n" \
	"flags near uid 2 +T\n" \
	"flags near uid 3 +T\n" \
	"expunge near uid 1\n" \
	"expunge near uid 2\n" \
	"expunge near uid 3\n" \
	"forget pair far 1 near 1\n" \
	"forget pair far 2 near 2\n" \
	"forget pair far 3 near 3\n"

static const struct table_case guard_cases[] = {
	{ .name = "guard: a side that appears empty is refused",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "1 2 3", .policy = "GuardWiped=2",
	  .expect = "REFUSED: 3 of the 3 messages recorded on far are gone "
	    "from it (more than 90%); refusing to propagate 3 deletions to "
	    "near (if they were meant, sync with --allow-mass-delete)\n",
	  .summary = "3 of the 3 messages recorded on far are gone from it "
	    "(more than 90%); refusing to propagate 3 deletions to near (if "
	    "they were meant, sync with --allow-mass-delete)" },
	{ .name = "guard: near side is watched too",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .far = "1 2 3", .policy = "GuardWiped=2",
	  .expect = "REFUSED: 3 of the 3 messages recorded on near are gone "
	    "from it (more than 90%); refusing to propagate 3 deletions to "
	    "far (if they were meant, sync with --allow-mass-delete)\n" },
	{ .name = "guard: allowed explicitly",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "1 2 3", .policy = "GuardWiped=2 AllowMassDelete "
	    "Expunge=near",
	  .expect = NEAR_1_2_3_EXPUNGED },
	{ .name = "guard: no Gone in that direction, nothing to guard",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:-",
	  .near = "1 2", .policy = "GuardWiped=1 Push",
	  .expect =
	    "update pair far 1 near 1: far gone, base -\n"
	    "update pair far 2 near 2: far gone, base -\n" },
	{ .name = "guard: gone from both sides, nothing propagates",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "", .policy = "GuardWiped=1",
	  .expect =
	    "forget pair far 1 near 1\n"
	    "forget pair far 2 near 2\n"
	    "forget pair far 3 near 3\n" },
	{ .name = "guard: losses also gone from the other side count",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "1", .policy = "GuardWiped=2",
	  .expect = "REFUSED: 3 of the 3 messages recorded on far are gone "
	    "from it (more than 90%); refusing to propagate 1 deletion to "
	    "near (if they were meant, sync with --allow-mass-delete)\n" },
	{ .name = "guard: at the wiped percentage passes",
	  .uv = { 1, 1 }, .max = { 4, 4 }, .pairs = "1:1:- 2:2:- 3:3:- 4:4:-",
	  .far = "1", .near = "1 2 3 4",
	  .policy = "GuardWiped=2 GuardWipedPercent=75",
	  .expect =
	    "flags near uid 2 +T\n"
	    "flags near uid 3 +T\n"
	    "flags near uid 4 +T\n"
	    "update pair far 2 near 2: far gone, base T, gone-marked\n"
	    "update pair far 3 near 3: far gone, base T, gone-marked\n"
	    "update pair far 4 near 4: far gone, base T, gone-marked\n" },
	{ .name = "guard: at the wiped count passes",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "1 2 3", .policy = "GuardWiped=3 Expunge=near",
	  .expect = NEAR_1_2_3_EXPUNGED },
	{ .name = "guard: a percentage of 100 turns a rule off",
	  .uv = { 1, 1 }, .max = { 3, 3 }, .pairs = "1:1:- 2:2:- 3:3:-",
	  .near = "1 2 3", .policy = "GuardWiped=0 GuardWipedPercent=100 "
	    "GuardLarge=0 GuardLargePercent=100 Expunge=near",
	  .expect = NEAR_1_2_3_EXPUNGED },
	{ .name = "guard: more than the large percentage vanished",
	  .uv = { 1, 1 }, .max = { 5, 5 },
	  .pairs = "1:1:- 2:2:- 3:3:- 4:4:- 5:5:-",
	  .far = "1 2", .near = "1 2 3 4 5",
	  .policy = "GuardLarge=4 GuardLargePercent=50",
	  .expect = "REFUSED: 3 of the 5 messages recorded on far are gone "
	    "from it (more than 50%); refusing to propagate 3 deletions to "
	    "near (if they were meant, sync with --allow-mass-delete)\n" },
	{ .name = "guard: up to the large percentage passes",
	  .uv = { 1, 1 }, .max = { 5, 5 },
	  .pairs = "1:1:- 2:2:- 3:3:- 4:4:- 5:5:-",
	  .far = "1 2 3", .near = "1 2 3 4 5",
	  .policy = "GuardLarge=4 GuardLargePercent=50 Expunge=near",
	  .expect =
	    "flags near uid 4 +T\n"
	    "flags near uid 5 +T\n"
	    "expunge near uid 4\n"
	    "expunge near uid 5\n"
	    "forget pair far 4 near 4\n"
	    "forget pair far 5 near 5\n" },
	{ .name = "guard: new mail on the wiped side does not hide it",
	  .uv = { 1, 1 }, .max = { 12, 12 },
	  .pairs = "1:1:- 2:2:- 3:3:- 4:4:- 5:5:- 6:6:- 7:7:- 8:8:- 9:9:- "
	    "10:10:- 11:11:- 12:12:-",
	  .far = "1 2 3 4 5 6 7 8 9 10 11 12", .near = "13",
	  .expect = "REFUSED: 12 of the 12 messages recorded on near are "
	    "gone from it (more than 90%); refusing to propagate 12 "
	    "deletions to far (if they were meant, sync with "
	    "--allow-mass-delete)\n" },
	{ .name = "guard: a small mailbox deleted entirely passes",
	  .uv = { 1, 1 }, .max = { 2, 2 }, .pairs = "1:1:S 2:2:-",
	  .near = "1:S 2",
	  .expect =
	    "flags near uid 1 +T\n"
	    "flags near uid 2 +T\n"
	    "update pair far 1 near 1: far gone, base ST, gone-marked\n"
	    "update pair far 2 near 2: far gone, base T, gone-marked\n" },
};

static void
run_table(const struct table_case *tc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_table_case(&tc[i]);
}

#define RUN_TABLE(t) run_table((t), sizeof(t) / sizeof((t)[0]))

START_TEST(test_table_new)
{
	RUN_TABLE(new_cases);
}
END_TEST

START_TEST(test_table_flags)
{
	RUN_TABLE(flag_cases);
}
END_TEST

START_TEST(test_table_gone)
{
	RUN_TABLE(gone_cases);
}
END_TEST

START_TEST(test_table_expunge)
{
	RUN_TABLE(expunge_cases);
}
END_TEST

START_TEST(test_table_limits)
{
	RUN_TABLE(limit_cases);
	RUN_TABLE(trash_cases);
	RUN_TABLE(solo_cases);
}
END_TEST

START_TEST(test_table_repair)
{
	RUN_TABLE(repair_cases);
}
END_TEST

START_TEST(test_table_guard)
{
	RUN_TABLE(guard_cases);
}
END_TEST

static void
describe_uids(const struct uid_vec *v, struct buf *out)
{
	for (size_t i = 0; i < v->n; i++)
		buf_addf(out, "%s%u", i ? " " : "", v->v[i]);
}

/*
 * First contact in two passes: header hashes of the new messages, then
 * fingerprints of those whose hash the other side's new ones share (far
 * 2 and near 1; far 3 and near 2 share a Message-ID, not a size), then
 * pairs by fingerprint. Header hashes that nothing shares plan at once.
 */
START_TEST(test_first_contact_header_pass)
{
	static const struct table_case tc = {
		.name = "header pass", .now_uv = { 7, 9 },
		.far = "1:S:1000:11 2:-:1000:12 3:-:900:13",
		.near = "1:-:1000:12 2:-:800:13 3:-:500:14",
	};
	struct model m;
	struct model_input mi;
	struct plan p;
	struct buf got = BUF_INIT;

	model_from_case(&m, &tc);
	plan_init(&p);
	model_input(&m, &mi, WITH_NONE);
	ck_assert_int_eq(plan_mailbox(&mi.in, &p), PLAN_NEED_FINGERPRINTS);
	ck_assert_int_eq(p.fp_headers, 1);
	ck_assert_uint_eq(p.fp_uids[SIDE_FAR].n + p.fp_uids[SIDE_NEAR].n, 6);
	model_input_free(&mi);
	model_input(&m, &mi, WITH_HH);
	ck_assert_int_eq(plan_mailbox(&mi.in, &p), PLAN_NEED_FINGERPRINTS);
	ck_assert_int_eq(p.fp_headers, 0);
	describe_uids(&p.fp_uids[SIDE_FAR], &got);
	buf_adds(&got, "/");
	describe_uids(&p.fp_uids[SIDE_NEAR], &got);
	ck_assert_str_eq(buf_cstr(&got), "2 3/1 2");
	ck_assert_str_eq(buf_cstr(&p.why), "2 far and 2 near messages share "
	    "a header hash with the other side: comparing their "
	    "fingerprints");
	model_input_free(&mi);
	model_input(&m, &mi, WITH_FP);
	ck_assert_int_eq(plan_mailbox(&mi.in, &p), PLAN_OK);
	buf_reset(&got);
	describe_plan(&p, &got);
	ck_assert_str_eq(buf_cstr(&got),
	    "new pair far 2 near 1 (base -)\n"
	    "copy far->near uid 1 (flags S)\n"
	    "copy far->near uid 3 (flags -)\n"
	    "copy near->far uid 2 (flags -)\n"
	    "copy near->far uid 3 (flags -)\n"
	    "maxuid far 3\n"
	    "maxuid near 3\n"
	    "uidvalidity far 7\n"
	    "uidvalidity near 9\n");
	model_input_free(&mi);
	/* Nothing shared: no fingerprint is asked for. */
	m.side[SIDE_NEAR].v[0].fp.hash = 99;
	m.side[SIDE_NEAR].v[1].fp.hash = 98;
	model_input(&m, &mi, WITH_HH);
	ck_assert_int_eq(plan_mailbox(&mi.in, &p), PLAN_OK);
	ck_assert_uint_eq(plan_count(&p, PLAN_COPY), 6);
	model_input_free(&mi);
	buf_free(&got);
	plan_free(&p);
	model_free(&m);
}
END_TEST

/* HIGHESTMODSEQ below the recorded one also means a server went back. */
START_TEST(test_modseq_went_back)
{
	static const struct table_case tc = {
		.name = "modseq", .uv = { 1, 1 }, .max = { 1, 1 },
		.pairs = "1:1:S", .far = "1:S:1000:7", .near = "1:S:1000:7",
	};
	struct model m;
	struct model_input mi;
	struct plan p;
	struct buf got = BUF_INIT;

	model_from_case(&m, &tc);
	m.state.highestmodseq[SIDE_NEAR] = 50;
	m.side[SIDE_NEAR].st.highestmodseq = 49;
	plan_init(&p);
	model_input(&m, &mi, WITH_NONE);
	ck_assert_int_eq(plan_mailbox(&mi.in, &p), PLAN_NEED_FINGERPRINTS);
	model_input_free(&mi);
	ck_assert_str_eq(buf_cstr(&p.why), "near HIGHESTMODSEQ 49 is below "
	    "the recorded 50; fingerprints of every message of both sides "
	    "are needed");
	ck_assert_uint_eq(p.need_fp, 3);
	ck_assert_int_eq(model_plan(&m, &p), PLAN_OK);
	describe_plan(&p, &got);
	ck_assert_str_eq(buf_cstr(&got),
	    "forget pair far 1 near 1\n"
	    "new pair far 1 near 1 (base S)\n");
	ck_assert_int_eq(p.repair.reason[SIDE_NEAR], DISTRUST_MODSEQ);
	ck_assert_uint_eq(p.repair.repaired, 1);
	buf_free(&got);
	plan_free(&p);
	model_free(&m);
}
END_TEST

/* The default thresholds of invariant 7, at their edges: guard_status()
 * plans a mailbox of held records of which far kept the first kept. */
static enum plan_status
guard_status(size_t held, size_t kept)
{
	struct model m;
	struct plan p;
	enum plan_status st;

	memset(&m, 0, sizeof(m));
	sync_policy_default(&m.pol);
	for (uint32_t uid = 1; uid <= held; uid++) {
		struct model_msg msg = { .meta = { .uid = uid, .size = 10 } };
		struct pair_rec rec = { .uid = { uid, uid } };

		model_add_pair(&m.state, &rec);
		model_add_msg(&m.side[SIDE_NEAR], &msg);
		if (uid <= kept)
			model_add_msg(&m.side[SIDE_FAR], &msg);
	}
	for (int s = 0; s < 2; s++) {
		m.state.uidvalidity[s] = m.side[s].st.uidvalidity = 1;
		m.state.maxuid[s] = (uint32_t)held;
		m.side[s].st.uidnext = (uint32_t)held + 1;
	}
	plan_init(&p);
	st = model_plan(&m, &p);
	if (st == PLAN_OK)
		ck_assert_uint_eq(plan_count(&p, PLAN_SET_FLAGS), held - kept);
	else
		ck_assert_uint_eq(p.n, 0);
	plan_free(&p);
	model_free(&m);
	return st;
}

/* A side that lost nearly all its recorded messages is refused whatever
 * its scan still shows: more than 90% and more than 10 of them. */
START_TEST(test_guard_wiped_side)
{
	ck_assert_int_eq(guard_status(80, 1), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(60, 1), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(11, 0), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(10, 0), PLAN_OK);
	ck_assert_int_eq(guard_status(11, 1), PLAN_OK);
	ck_assert_int_eq(guard_status(12, 1), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(20, 2), PLAN_OK);
	ck_assert_int_eq(guard_status(20, 1), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(100, 10), PLAN_OK);
	ck_assert_int_eq(guard_status(100, 9), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(60, 30), PLAN_OK);
	ck_assert_int_eq(guard_status(5, 0), PLAN_OK);
}
END_TEST

START_TEST(test_guard_default_thresholds)
{
	ck_assert_int_eq(guard_status(101, 51), PLAN_OK);
	ck_assert_int_eq(guard_status(101, 50), PLAN_REFUSED);
	ck_assert_int_eq(guard_status(200, 100), PLAN_OK);
	ck_assert_int_eq(guard_status(200, 99), PLAN_REFUSED);
}
END_TEST

/* ---- mailbox list: Create and Remove ---- */

static void
split_names(const char *spec, struct strlist *l)
{
	char *copy = xstrdup(spec), *save = NULL;

	for (char *t = strtok_r(copy, " ", &save); t;
	    t = strtok_r(NULL, " ", &save))
		strlist_add(l, t);
	free(copy);
}

static void
check_mailboxes(const char *far, const char *near, const char *known,
    unsigned create, unsigned remove, const char *expect)
{
	struct strlist l[3] = { { 0 }, { 0 }, { 0 } };
	struct mbox_policy pol = { .create = create, .remove = remove };
	struct mbox_plan p = { 0 };
	struct buf got = BUF_INIT;

	split_names(far, &l[0]);
	split_names(near, &l[1]);
	split_names(known, &l[2]);
	plan_mailboxes(&l[0], &l[1], &l[2], &pol, &p);
	for (size_t i = 0; i < p.n; i++) {
		mbox_describe_step(&p.v[i], &got);
		buf_addc(&got, '\n');
	}
	ck_assert_str_eq(buf_cstr(&got), expect);
	buf_free(&got);
	mbox_plan_free(&p);
	for (int i = 0; i < 3; i++)
		strlist_free(&l[i]);
}

START_TEST(test_mailbox_list)
{
	/* Create None, Remove None: only common mailboxes sync. */
	check_mailboxes("INBOX b a", "INBOX c", "", 0, 0,
	    "sync INBOX\n"
	    "skip a: only on far, Create does not allow near\n"
	    "skip b: only on far, Create does not allow near\n"
	    "skip c: only on near, Create does not allow far\n");
	/* Create Both. */
	check_mailboxes("INBOX a", "INBOX c", "INBOX", 3, 0,
	    "sync INBOX\n"
	    "create near a\n"
	    "create far c\n");
	/* Create Near only. */
	check_mailboxes("a", "c", "", 1u << SIDE_NEAR, 0,
	    "create near a\n"
	    "skip c: only on near, Create does not allow far\n");
	/* Vanished mailboxes: never re-created, removed where allowed. */
	check_mailboxes("a", "b", "a b", 3, 1u << SIDE_FAR,
	    "remove far a (if empty)\n"
	    "skip b: gone from far, Remove does not allow near\n");
	check_mailboxes("", "b", "b gone", 0, 3,
	    "remove near b (if empty)\n"
	    "forget gone\n");
}
END_TEST

/* ---- the randomized model test ---- */

struct rng {
	uint64_t s;
};

static uint32_t
rnd(struct rng *r, uint32_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return n ? (uint32_t)(r->s % n) : 0;
}

static void
random_policy(struct rng *r, struct sync_policy *pol)
{
	sync_policy_default(pol);
	for (int s = 0; s < 2; s++)
		pol->ops[s] = rnd(r, 2) ? SYNC_ALL : rnd(r, SYNC_ALL + 1);
	pol->expunge = rnd(r, 4);
	if (rnd(r, 3) == 0)
		pol->expunge_solo = rnd(r, 4) & ~pol->expunge;
	if (rnd(r, 5) == 0)
		pol->max_size[rnd(r, 2)] = 500 + rnd(r, 1500);
	if (rnd(r, 5) == 0) {
		pol->max_messages = 1 + rnd(r, 5);
		pol->expire_unread = (int)rnd(r, 2);
	}
	for (int s = 0; s < 2; s++)
		if (rnd(r, 3) == 0) {
			pol->trash_box[s] = "Trash";
			if (rnd(r, 2))
				pol->trash_new_only |= SYNC_EXPUNGE_SIDE(s);
			if (rnd(r, 2))
				pol->trash_remote_new |= SYNC_EXPUNGE_SIDE(s);
		}
}

static void
add_random_msg(struct rng *r, struct model_side *ms, uint64_t *next_hash)
{
	struct model_msg m = { .meta = { .uid = ms->st.uidnext } };

	if (m.meta.uid == 0)
		m.meta.uid = 1;
	m.meta.flags = rnd(r, MSG_DELETED);
	if (rnd(r, 6) == 0)
		m.meta.flags |= MSG_DELETED;
	m.meta.size = 100 + rnd(r, 1900);
	m.fp.size = m.meta.size;
	m.fp.hash = ++*next_hash;
	model_add_msg(ms, &m);
}

static void
random_user_action(struct rng *r, struct model *m, uint64_t *next_hash)
{
	struct model_side *ms = &m->side[rnd(r, 2)];
	uint32_t kind = rnd(r, 4);
	size_t i;

	if (kind == 0 || ms->n == 0) {
		add_random_msg(r, ms, next_hash);
		return;
	}
	i = rnd(r, (uint32_t)ms->n);
	if (kind == 1)
		model_remove(ms, i);
	else
		ms->v[i].meta.flags ^= 1u << rnd(r, MSG_FLAG_COUNT);
}

/* A new UIDVALIDITY: every message renumbered from 1. */
static void
renumber(struct rng *r, struct model_side *ms)
{
	ms->st.uidvalidity += 1 + rnd(r, 5);
	for (size_t i = 0; i < ms->n; i++)
		ms->v[i].meta.uid = (uint32_t)i + 1;
	ms->st.uidnext = (uint32_t)ms->n + 1;
}

/* A server restored from a backup taken before UID cut; new mail then
 * reuses UIDs from cut on, staying below the recorded maxuid. */
static void
restore(struct rng *r, struct model *m, enum side s, uint64_t *next_hash)
{
	struct model_side *ms = &m->side[s];
	uint32_t max = m->state.maxuid[s], cut, extra;

	if (max < 2)
		return;
	cut = 1 + rnd(r, max);
	while (ms->n > 0 && ms->v[ms->n - 1].meta.uid >= cut)
		ms->n--;
	ms->st.uidnext = cut;
	extra = rnd(r, max - cut + 1);
	for (uint32_t k = 0; k < extra; k++)
		add_random_msg(r, ms, next_hash);
}

static int
hash_present(const struct model *m, uint64_t hash)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < m->side[s].n; i++)
			if (m->side[s].v[i].fp.hash == hash)
				return 1;
	return 0;
}

/* Before a sync, message i of side s may vanish only if it is marked
 * \Deleted somewhere, or its record says the other side lost it. */
static int
may_vanish(const struct model *pre, enum side s, size_t i, int trusted)
{
	const struct model_msg *msg = &pre->side[s].v[i];

	for (int k = 0; k < 2; k++)
		for (size_t j = 0; j < pre->side[k].n; j++)
			if (pre->side[k].v[j].fp.hash == msg->fp.hash &&
			    (pre->side[k].v[j].meta.flags & MSG_DELETED))
				return 1;
	if (!trusted)
		return 0;
	for (size_t k = 0; k < pre->state.npairs; k++) {
		const struct pair_rec *p = &pre->state.pairs[k];

		if (p->uid[s] == msg->meta.uid && p->uid[!s] != 0 &&
		    model_find(&pre->side[!s], p->uid[!s]) < 0)
			return 1;
	}
	return 0;
}

static void
check_no_loss(const struct model *pre, const struct model *post,
    int trusted, unsigned seed)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < pre->side[s].n; i++) {
			const struct model_msg *msg = &pre->side[s].v[i];

			if (hash_present(post, msg->fp.hash))
				continue;
			ck_assert_msg(may_vanish(pre, s, i, trusted),
			    "seed %u: message %" PRIu64 " lost", seed,
			    msg->fp.hash);
		}
}

static int
held_by_record(const struct model *m, enum side s, uint32_t uid)
{
	for (size_t k = 0; k < m->state.npairs; k++)
		if (m->state.pairs[k].uid[s] == uid)
			return 1;
	return 0;
}

/* Sync All, no Expunge, no limits: every message ends up recorded. */
static void
check_all_recorded(const struct model *m, unsigned seed)
{
	const struct sync_policy *pol = &m->pol;

	if (pol->ops[SIDE_FAR] != SYNC_ALL || pol->ops[SIDE_NEAR] != SYNC_ALL ||
	    pol->expunge || pol->expunge_solo || pol->max_size[SIDE_FAR] ||
	    pol->max_size[SIDE_NEAR] || pol->max_messages)
		return;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < m->side[s].n; i++)
			ck_assert_msg(held_by_record(m, s,
			    m->side[s].v[i].meta.uid),
			    "seed %u: %s uid %u not recorded", seed,
			    side_names[s], m->side[s].v[i].meta.uid);
}

static void
check_pairs(const struct model *m, unsigned seed)
{
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < m->side[s].n; i++)
			for (size_t j = i + 1; j < m->side[s].n; j++)
				ck_assert_msg(m->side[s].v[i].fp.hash !=
				    m->side[s].v[j].fp.hash,
				    "seed %u: duplicate on %s", seed,
				    side_names[s]);
	for (size_t k = 0; k < m->state.npairs; k++) {
		const struct pair_rec *p = &m->state.pairs[k];
		long f = model_find(&m->side[SIDE_FAR], p->uid[SIDE_FAR]);
		long n = model_find(&m->side[SIDE_NEAR], p->uid[SIDE_NEAR]);

		if (f < 0 || n < 0)
			continue;
		ck_assert_msg(m->side[SIDE_FAR].v[f].fp.hash ==
		    m->side[SIDE_NEAR].v[n].fp.hash,
		    "seed %u: pair far %u near %u joins different messages",
		    seed, p->uid[SIDE_FAR], p->uid[SIDE_NEAR]);
		if ((m->pol.ops[SIDE_FAR] & m->pol.ops[SIDE_NEAR] &
		    SYNC_FLAGS))
			ck_assert_msg(m->side[SIDE_FAR].v[f].meta.flags ==
			    m->side[SIDE_NEAR].v[n].meta.flags,
			    "seed %u: flags differ in pair far %u near %u",
			    seed, p->uid[SIDE_FAR], p->uid[SIDE_NEAR]);
	}
}

static void
model_copy(struct model *dst, const struct model *src)
{
	*dst = *src;
	for (int s = 0; s < 2; s++) {
		dst->side[s].v = xcalloc(src->side[s].cap + 1,
		    sizeof(struct model_msg));
		if (src->side[s].n)
			memcpy(dst->side[s].v, src->side[s].v,
			    src->side[s].n * sizeof(struct model_msg));
	}
	dst->state.pairs = xcalloc(src->state.cap + 1,
	    sizeof(struct pair_rec));
	if (src->state.npairs)
		memcpy(dst->state.pairs, src->state.pairs,
		    src->state.npairs * sizeof(struct pair_rec));
}

/* What the random histories exercised, so the test cannot pass by
 * never reaching a rule. */
struct coverage {
	size_t ops[PLAN_OP_KINDS];
	size_t distrusted;
	size_t gone_marked;
};

static void
count_coverage(const struct plan *p, struct coverage *cov)
{
	for (size_t i = 0; i < p->n; i++) {
		cov->ops[p->ops[i].kind]++;
		if (p->ops[i].kind == PLAN_UPDATE_PAIR &&
		    (p->ops[i].rec.status & PAIR_GONE_MARKED))
			cov->gone_marked++;
	}
	if (p->repair.reason[0] || p->repair.reason[1])
		cov->distrusted++;
}

/* 1 if op belongs to the expiry of a near copy (plan_expire.c). */
static int
expiry_op(const struct plan_op *op)
{
	switch (op->kind) {
	case PLAN_UPDATE_PAIR:
		return (op->rec.status & PAIR_EXPIRED) != 0;
	case PLAN_SET_FLAGS:
		return op->side == SIDE_NEAR && op->add == MSG_DELETED &&
		    op->del == 0;
	case PLAN_EXPUNGE:
		return op->side == SIDE_NEAR;
	default:
		return 0;
	}
}

/*
 * The one case in which MaxMessages needs a second run: a sync pushed
 * more near messages to far than the window holds, and those beyond it
 * can expire only once they are on far (docs/sync-rules.md, Known
 * limits). That run may expire near copies and do nothing else.
 */
static void
expire_pushed(struct model *m, unsigned seed)
{
	struct plan p;

	if (m->pol.max_messages == 0)
		return;
	plan_init(&p);
	ck_assert_int_eq(model_plan(m, &p), PLAN_OK);
	for (size_t i = 0; i < p.n; i++)
		ck_assert_msg(expiry_op(&p.ops[i]), "seed %u: op %zu of the "
		    "run after MaxMessages is not an expiry", seed, i);
	model_apply(m, &p);
	plan_free(&p);
}

static void
sync_and_check(struct model *m, unsigned seed, struct coverage *cov)
{
	struct model pre;
	struct plan p;
	char what[64];

	model_copy(&pre, m);
	plan_init(&p);
	ck_assert_msg(model_plan(m, &p) == PLAN_OK, "seed %u: status %d: %s",
	    seed, p.status, buf_cstr(&p.why));
	count_coverage(&p, cov);
	model_apply(m, &p);
	check_no_loss(&pre, m, p.repair.reason[0] == DISTRUST_NONE &&
	    p.repair.reason[1] == DISTRUST_NONE, seed);
	check_pairs(m, seed);
	check_all_recorded(m, seed);
	snprintf(what, sizeof(what), "seed %u", seed);
	expire_pushed(m, seed);
	assert_converged(m, what);
	plan_free(&p);
	model_free(&pre);
}

static void
random_history(unsigned seed, struct coverage *cov)
{
	struct rng r = { 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 20) };
	struct model m;
	uint64_t next_hash = 0;
	uint32_t rounds = 1 + rnd(&r, 4);

	memset(&m, 0, sizeof(m));
	random_policy(&r, &m.pol);
	for (int s = 0; s < 2; s++) {
		m.side[s].st.uidvalidity = 1 + rnd(&r, 1000);
		m.side[s].st.uidnext = 1;
		for (uint32_t k = rnd(&r, 7); k > 0; k--)
			add_random_msg(&r, &m.side[s], &next_hash);
	}
	sync_and_check(&m, seed, cov);
	for (uint32_t round = 0; round < rounds; round++) {
		for (uint32_t k = rnd(&r, 6); k > 0; k--)
			random_user_action(&r, &m, &next_hash);
		if (rnd(&r, 12) == 0)
			renumber(&r, &m.side[rnd(&r, 2)]);
		else if (rnd(&r, 12) == 0)
			restore(&r, &m, rnd(&r, 2), &next_hash);
		sync_and_check(&m, seed, cov);
	}
	model_free(&m);
}

/* Which store a plan leaves alone: the one no operation reads or
 * writes; a copy or a Trash copy touches both. */
START_TEST(test_plan_leaves_side)
{
	struct plan_op ops[2];
	struct plan p;

	memset(ops, 0, sizeof(ops));
	memset(&p, 0, sizeof(p));
	p.ops = ops;
	ck_assert_int_eq(plan_leaves_side(&p, SIDE_FAR), 1);
	ops[0].kind = PLAN_UPDATE_PAIR;
	ops[1].kind = PLAN_SET_FLAGS;
	ops[1].side = SIDE_NEAR;
	p.n = 2;
	ck_assert_int_eq(plan_leaves_side(&p, SIDE_FAR), 1);
	ck_assert_int_eq(plan_leaves_side(&p, SIDE_NEAR), 0);
	ops[1].kind = PLAN_EXPUNGE;
	ops[1].side = SIDE_FAR;
	ck_assert_int_eq(plan_leaves_side(&p, SIDE_FAR), 0);
	ck_assert_int_eq(plan_leaves_side(&p, SIDE_NEAR), 1);
	for (int k = 0; k < 3; k++) {
		static const enum plan_op_kind both[3] = { PLAN_COPY,
		    PLAN_TRASH, PLAN_TRASH_REMOTE };

		ops[1].kind = both[k];
		ck_assert_int_eq(plan_leaves_side(&p, SIDE_FAR), 0);
		ck_assert_int_eq(plan_leaves_side(&p, SIDE_NEAR), 0);
	}
}
END_TEST

START_TEST(test_random_histories_converge)
{
	struct coverage cov;

	memset(&cov, 0, sizeof(cov));
	for (unsigned seed = 1; seed <= 4000; seed++)
		random_history(seed, &cov);
	for (int k = 0; k < PLAN_OP_KINDS; k++)
		ck_assert_msg(cov.ops[k] > 100, "operation kind %d seen %zu "
		    "times only", k, cov.ops[k]);
	ck_assert_uint_gt(cov.distrusted, 300);
	ck_assert_uint_gt(cov.gone_marked, 100);
}
END_TEST

static Suite *
plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tables = tcase_create("tables");
	TCase *model = tcase_create("model");

	tcase_add_test(tables, test_table_new);
	tcase_add_test(tables, test_table_flags);
	tcase_add_test(tables, test_table_gone);
	tcase_add_test(tables, test_table_expunge);
	tcase_add_test(tables, test_table_limits);
	tcase_add_test(tables, test_table_repair);
	tcase_add_test(tables, test_table_guard);
	tcase_add_test(tables, test_modseq_went_back);
	tcase_add_test(tables, test_first_contact_header_pass);
	tcase_add_test(tables, test_guard_default_thresholds);
	tcase_add_test(tables, test_guard_wiped_side);
	tcase_add_test(tables, test_mailbox_list);
	tcase_add_test(tables, test_plan_leaves_side);
	tcase_add_test(model, test_random_histories_converge);
	tcase_set_timeout(model, 60);
	suite_add_tcase(s, tables);
	suite_add_tcase(s, model);
	return s;
}

int
main(void)
{
	return run_suite(plan_suite());
}
