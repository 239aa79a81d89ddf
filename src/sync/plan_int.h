/*
 * plan_int: the planner's working view, shared by plan*.c only.
 *
 * Contract:
 *  - A struct plan_work lives for one plan_mailbox() call; work_init()
 *    allocates every array, work_free() releases them all.
 *  - pairs[] starts as the state's records (minus those a distrusted side
 *    dissolves) and gains the records re-made by fingerprint; idx[] of a
 *    pair is the position of each of its UIDs in that side's scan, -1 when
 *    the record has no UID there or the message is missing.
 *  - Operations are collected per phase and concatenated in phase order
 *    at the end; the phase order is the crash-safety order of plan.h.
 */
#ifndef TWINBOX_SYNC_PLAN_INT_H
#define TWINBOX_SYNC_PLAN_INT_H

#include <stddef.h>

#include "sync/plan.h"

enum plan_phase {
	PHASE_REPAIR,
	PHASE_COPY,
	PHASE_FLAGS,
	PHASE_TRASH,
	PHASE_EXPUNGE,
	PHASE_RECORD,
	PHASE_LIMITS,
	PHASE_COUNT
};

struct op_list {
	struct plan_op *v;
	size_t n, cap;
};

struct work_pair {
	struct pair_rec rec;
	long idx[2];
};

struct plan_work {
	const struct plan_input *in;
	const struct sync_policy *pol;
	struct work_pair *pairs;
	size_t npairs, cap;
	unsigned char *claimed[2];	/* per scan message: in a pair */
	unsigned char *orphan[2];	/* per scan message: lost its pair to
					 * a distrusted side; treated as new */
	unsigned *orphan_base[2];	/* base flags of that lost pair */
	unsigned char *orphan_expiring[2];	/* that lost pair was
					 * expiring (PAIR_EXPIRED with both
					 * UIDs): its \Deleted is MaxMessages' */
	long *renew[2];			/* per scan message: the index in
					 * pairs of the one-sided record
					 * (PAIR_TOO_BIG) whose message ReNew
					 * copies in this plan; -1 if none */
	unsigned char *expire;		/* per far scan message: MaxMessages
					 * expires it from near (plan_expire) */
	uint32_t maxuid[2];		/* 0 on a distrusted side */
	uint32_t top_unpaired[2];	/* highest UID no record held
					 * before this plan paired it */
	struct uid_vec *empty;		/* the plan's empty[2]: new
					 * messages left because empty */
	unsigned distrusted;		/* 1u << side bits */
	struct op_list phase[PHASE_COUNT];
};

void work_init(struct plan_work *w, const struct plan_input *in);
void work_free(struct plan_work *w);
struct work_pair *work_add_pair(struct plan_work *w,
    const struct pair_rec *rec);
struct plan_op *work_emit(struct plan_work *w, enum plan_phase phase,
    enum plan_op_kind kind);
const struct msg_meta *work_msg(const struct plan_work *w, enum side s,
    long idx);
/* Index of uid in the scan of side s, -1 if absent (or uid 0). */
long work_find(const struct plan_work *w, enum side s, uint32_t uid);
/* Expunge removes side s's \Deleted messages. */
int work_expunges(const struct plan_work *w, enum side s);
/* ... or, with ExpungeSolo, those of them that have no counterpart on the
 * other side (no record holds one, or it is being expunged there). */
int work_expunges_alone(const struct plan_work *w, enum side s);
/* 1 if message i of side s is new: above maxuid, or orphaned. */
int work_is_new(const struct plan_work *w, enum side s, size_t i);
/* 1 if message i of side s, new, is empty: no message (size 0, which a
 * scan reports as the real size of every new message, store.h). */
int work_is_empty(const struct plan_work *w, enum side s, size_t i);
int work_allows(const struct plan_work *w, enum side source, unsigned op);
/* 1 if a message of size bytes may be copied to side target (MaxSize). */
int work_fits(const struct plan_work *w, enum side target, uint64_t size);
void work_emit_copy(struct plan_work *w, enum side s,
    const struct msg_meta *m);
void work_emit_expunge(struct plan_work *w, enum side s, uint32_t uid);

/* plan_flags.c: the three-way merge. */
struct flag_merge {
	unsigned target[2];	/* flags each side must end with */
	unsigned base;		/* base to record afterwards */
};
void plan_merge_flags(unsigned base, const unsigned cur[2],
    const int propagate[2], struct flag_merge *out);

/* plan_repair.c: distrust detection (a side without a status yet is
 * trusted: plan_scan_hint()) and fingerprint re-pairing. */
void plan_detect_distrust(const struct plan_input *in,
    struct plan_repair *rep);
void plan_why_fingerprints(const struct plan_input *in,
    const struct plan_repair *rep, struct buf *why);
void plan_load_pairs(struct plan_work *w);
/*
 * First contact (DESIGN invariant 9): 1 if no side is distrusted and both
 * sides hold new messages that no record holds, which must then be
 * compared by content before anything is copied. want, if not NULL, gets
 * their UIDs per side (ascending).
 */
int plan_contact_wanted(const struct plan_work *w, struct uid_vec want[2]);
/*
 * First contact's second pass: 1 if a message compared there has the
 * header hash (plan_side.hh) of one compared on the other side; want
 * gets the UIDs of all such messages per side (ascending).
 */
int plan_contact_candidates(const struct plan_work *w,
    struct uid_vec want[2]);
/* Pair by fingerprint the messages that are compared: every unrecorded
 * one when a side is distrusted, else the new ones (first contact). */
void plan_repair_match(struct plan_work *w, struct plan_repair *rep);

/* plan_guard.c: the mass-deletion guard; 1 and why filled if refused. */
int plan_guard_refuses(const struct plan_work *w, struct buf *why);

/*
 * plan_expire.c: MaxMessages. Marks in w->expire the far messages whose
 * near copy goes (or which are not copied). 1 and why filled if the
 * mailbox must stop instead: unread messages beyond the window while
 * ExpireUnread is not set, as mbsync asks the user to decide.
 */
int plan_expire(struct plan_work *w, struct buf *why);
/* The flags the near side would end with for a pair present on both
 * sides: the three-way merge's result there. */
void plan_pair_merge(const struct plan_work *w, const struct work_pair *p,
    struct flag_merge *m);

/*
 * plan_trash.c: before message m of side s is expunged, copy it to its
 * store's Trash if the policy says so: rec is its record (NULL: none),
 * is_new says it was never propagated (TrashNewOnly). Not for a near
 * copy expired by MaxMessages.
 */
void plan_trash(struct plan_work *w, enum side s, const struct msg_meta *m,
    const struct pair_rec *rec, int is_new);

/* plan_pair.c: rules for recorded pairs. */
void plan_pair_rules(struct plan_work *w, struct work_pair *p);

/* plan_new.c: rules for messages no record holds, and the limits. */
void plan_new_rules(struct plan_work *w, enum side s);
void plan_limits(struct plan_work *w);

#endif
