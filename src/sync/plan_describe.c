/*
 * plan_describe: one human line per operation (for --dry-run and -V) and
 * a one-line summary of a plan. The exact wording is what the table tests
 * assert, so changing it means changing those tables.
 */
#include "sync/plan.h"

#include <inttypes.h>

static void
add_letters(struct buf *out, unsigned flags)
{
	char letters[MSG_FLAG_COUNT + 1];

	msg_flags_to_letters(flags, letters);
	buf_adds(out, letters[0] ? letters : "-");
}

static void
add_key(struct buf *out, const uint32_t key[2])
{
	buf_addf(out, "pair far %" PRIu32 " near %" PRIu32, key[SIDE_FAR],
	    key[SIDE_NEAR]);
}

static const char *
status_name(unsigned status)
{
	if (status & PAIR_TOO_BIG)
		return "too big";
	if (status & PAIR_EXPIRED)
		return "expired";
	if (status & PAIR_GONE_MARKED)
		return "gone-marked";
	if ((status & PAIR_TRASHED_BOTH) == PAIR_TRASHED_BOTH)
		return "trashed on both sides";
	if (status & PAIR_TRASHED_FAR)
		return "trashed on far";
	if (status & PAIR_TRASHED_NEAR)
		return "trashed on near";
	return NULL;
}

static void
describe_update(const struct plan_op *op, struct buf *out)
{
	const char *status = status_name(op->rec.status);

	buf_adds(out, "update ");
	add_key(out, op->key);
	buf_adds(out, ":");
	for (int s = 0; s < 2; s++) {
		if (op->rec.uid[s] == op->key[s])
			continue;
		if (op->rec.uid[s] == 0)
			buf_addf(out, " %s gone,", side_names[s]);
		else	/* a held-back message found on first contact */
			buf_addf(out, " %s UID %" PRIu32 ",",
			    side_names[s], op->rec.uid[s]);
	}
	buf_adds(out, " base ");
	add_letters(out, op->rec.flags);
	if (status)
		buf_addf(out, ", %s", status);
}

static void
describe_set_flags(const struct plan_op *op, struct buf *out)
{
	buf_addf(out, "flags %s uid %" PRIu32, side_names[op->side],
	    op->uid);
	if (op->add) {
		buf_adds(out, " +");
		add_letters(out, op->add);
	}
	if (op->del) {
		buf_adds(out, " -");
		add_letters(out, op->del);
	}
}

static void
describe_record(const struct plan_op *op, struct buf *out)
{
	if (op->kind == PLAN_NEW_PAIR) {
		buf_adds(out, "new ");
		add_key(out, op->rec.uid);
		buf_adds(out, " (base ");
		add_letters(out, op->rec.flags);
		if (op->rec.status & PAIR_EXPIRED)
			buf_adds(out, ", expiring");
		buf_adds(out, ")");
		return;
	}
	buf_addf(out, "skip %s uid %" PRIu32 ": %s",
	    side_names[op->side], op->rec.uid[op->side],
	    status_name(op->rec.status));
}

void
plan_describe_op(const struct plan_op *op, struct buf *out)
{
	switch (op->kind) {
	case PLAN_COPY:
		buf_addf(out, "copy %s->%s uid %" PRIu32 " (flags ",
		    side_names[op->side], side_names[!op->side],
		    op->uid);
		add_letters(out, op->flags);
		buf_adds(out, ")");
		break;
	case PLAN_SET_FLAGS:
		describe_set_flags(op, out);
		break;
	case PLAN_EXPUNGE:
		buf_addf(out, "expunge %s uid %" PRIu32,
		    side_names[op->side], op->uid);
		break;
	case PLAN_NEW_PAIR:
	case PLAN_SKIP:
		describe_record(op, out);
		break;
	case PLAN_UPDATE_PAIR:
		describe_update(op, out);
		break;
	case PLAN_FORGET:
		buf_adds(out, "forget ");
		add_key(out, op->key);
		break;
	case PLAN_SET_MAXUID:
		buf_addf(out, "maxuid %s %" PRIu32, side_names[op->side],
		    op->value);
		break;
	case PLAN_SET_UIDVALIDITY:
		buf_addf(out, "uidvalidity %s %" PRIu32,
		    side_names[op->side], op->value);
		break;
	case PLAN_TRASH:
		buf_addf(out, "trash %s uid %" PRIu32,
		    side_names[op->side], op->uid);
		break;
	case PLAN_TRASH_REMOTE:
		buf_addf(out, "trash %s uid %" PRIu32 " in %s's Trash",
		    side_names[op->side], op->uid,
		    side_names[!op->side]);
		break;
	case PLAN_OP_KINDS:
		buf_adds(out, "invalid operation");
		break;
	}
}

static size_t
count_copies(const struct plan *p, enum side source)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->ops[i].kind == PLAN_COPY && p->ops[i].side == source)
			n++;
	return n;
}

static void
describe_repair(const struct plan *p, struct buf *out)
{
	const struct plan_repair *r = &p->repair;

	if (r->reason[SIDE_FAR] == DISTRUST_NONE &&
	    r->reason[SIDE_NEAR] == DISTRUST_NONE) {
		if (r->repaired > 0)
			buf_addf(out, "; %zu found on both sides by "
			    "fingerprint", r->repaired);
		return;
	}
	buf_addf(out, "; UIDs not trusted on %s: %zu re-paired by "
	    "fingerprint, %zu unmatched on far, %zu unmatched on near",
	    r->reason[SIDE_FAR] == DISTRUST_NONE ? "near" :
	    r->reason[SIDE_NEAR] == DISTRUST_NONE ? "far" : "both sides",
	    r->repaired, r->unmatched[SIDE_FAR], r->unmatched[SIDE_NEAR]);
}

void
plan_describe_summary(const struct plan *p, struct buf *out)
{
	if (p->status != PLAN_OK) {
		buf_adds(out, buf_cstr(&p->why));
		return;
	}
	if (p->n == 0)
		return;
	buf_addf(out, "%zu far->near, %zu near->far, %zu flag changes, "
	    "%zu expunges", count_copies(p, SIDE_FAR),
	    count_copies(p, SIDE_NEAR), plan_count(p, PLAN_SET_FLAGS),
	    plan_count(p, PLAN_EXPUNGE));
	if (plan_count(p, PLAN_TRASH) + plan_count(p, PLAN_TRASH_REMOTE) > 0)
		buf_addf(out, ", %zu copied to Trash first",
		    plan_count(p, PLAN_TRASH) +
		    plan_count(p, PLAN_TRASH_REMOTE));
	describe_repair(p, out);
}
