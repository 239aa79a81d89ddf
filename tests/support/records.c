/* records: journal record builders for tests; see records.h. */
#include "support/records.h"

#include <check.h>

#include "util/buf.h"

struct journal_rec
r_header(enum journal_kind kind, enum side side, uint64_t value)
{
	struct journal_rec r = { .kind = kind, .side = side, .value = value };

	return r;
}

struct journal_rec
r_pair(enum journal_kind kind, uint32_t far, uint32_t near, unsigned flags,
    unsigned status)
{
	struct journal_rec r = { .kind = kind };

	r.pair.uid[SIDE_FAR] = far;
	r.pair.uid[SIDE_NEAR] = near;
	r.pair.flags = flags;
	r.pair.status = status;
	return r;
}

struct journal_rec
r_copy(enum side src, uint32_t uid, unsigned flags, uint32_t planned,
    uint32_t uidnext, uint64_t size, uint64_t hash)
{
	struct journal_rec r = { .kind = JR_COPY_INTENT };

	r.copy.src = src;
	r.copy.src_uid = uid;
	r.copy.flags = flags;
	r.copy.planned_uid = planned;
	r.copy.uidnext = uidnext;
	r.copy.size = size;
	r.copy.hash = hash;
	return r;
}

struct journal_rec
r_done(enum journal_kind kind, enum side src, uint32_t uid, uint32_t target)
{
	struct journal_rec r = { .kind = kind, .target_uid = target };

	r.copy.src = src;
	r.copy.src_uid = uid;
	return r;
}

struct journal_rec
r_settled(enum side side, uint32_t uidnext, uint64_t modseq)
{
	struct journal_rec r = { .kind = JR_SETTLED, .side = side };

	r.mark.uidnext = uidnext;
	r.mark.modseq = modseq;
	return r;
}

void
apply_ok(struct sync_state *st, struct journal_rec r)
{
	struct buf err = BUF_INIT;

	ck_assert_msg(state_apply(st, &r, &err) == 0, "apply: %s",
	    buf_cstr(&err));
	buf_free(&err);
}
