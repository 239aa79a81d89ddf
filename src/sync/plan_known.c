/*
 * plan_known: when the state can stand in for a side's scan; see the
 * contract in plan.h.
 *
 * Why the rule is safe. When the mark was recorded, the side held
 * exactly the pairs' messages as of its open() at (UIDNEXT u, HIGHESTMODSEQ
 * m), or fewer of them if some were expunged between that open() and the
 * scan. Every record that changes the pairs clears the mark, so the pairs
 * are still those. Since then: a new message would have raised UIDNEXT
 * above u; every flag change gets a MODSEQ above m (RFC 7162 §3.1); an
 * expunge lowers the message count, and nothing raises it again without
 * raising UIDNEXT. So if UIDNEXT is still u and the count equals the
 * number of paired messages, no message came or went since the scan, and
 * the messages whose flags changed are exactly those with a MODSEQ above
 * m. This holds whether or not a server raises HIGHESTMODSEQ on expunge.
 *
 * With QRESYNC (open() said changes_known after mark() gave it the mark)
 * UIDNEXT and the count may have moved. The server then answered, for
 * the mark's UIDVALIDITY and HIGHESTMODSEQ m: every UID expunged since m
 * (VANISHED (EARLIER); RFC 7162 obliges a QRESYNC server to
 * remember expunges by MODSEQ, or to report more UIDs than vanished,
 * never fewer) and every message whose MODSEQ is above m (FETCH FLAGS
 * MODSEQ). No UID below u can appear after the mark, so the messages
 * below u are the pairs' minus the vanished, with the flags the FETCHes
 * gave or else the pairs'; the messages at or above u are new and are
 * fetched whole (UID FETCH u:*). The store checks that this adds up to
 * the server's count (EXISTS) and else asks for a full scan, so an answer
 * that forgot an expunge, or named one that did not happen, is caught.
 * A UIDNEXT below u or a HIGHESTMODSEQ below m still means a restored
 * server (invariant 6): the full scan.
 */
#include "sync/plan_int.h"

int
plan_side_settled(const struct sync_state *st, const struct msg_list *scan,
    enum side s, const struct uid_vec *left)
{
	size_t nleft = left != NULL ? left->n : 0;

	if (state_count_side(st, s) + nleft != scan->n)
		return 0;
	/* UIDs are unique on both sides, so equal counts, with every
	 * pair's message and every message left found, mean equal sets (a
	 * message both left and held by a record would be counted twice,
	 * and fail the count). */
	for (size_t i = 0; i < nleft; i++)
		if (msg_list_find(scan, left->v[i]) == NULL)
			return 0;
	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *p = &st->pairs[i];
		const struct msg_meta *m;

		if (p->uid[s] == 0)
			continue;
		m = msg_list_find(scan, p->uid[s]);
		if (m == NULL || m->flags != p->flags)
			return 0;
	}
	return 1;
}

static int
has_mark(const struct sync_state *st, enum side s)
{
	return st->settled[s].uidnext != 0 && st->nintents == 0 &&
	    st->uidvalidity[s] != 0;
}

static int
status_matches(const struct sync_state *st, const struct mbox_status *now,
    enum side s)
{
	const struct side_mark *mk = &st->settled[s];

	if (!has_mark(st, s) || now->highestmodseq < mk->modseq ||
	    now->uidvalidity != st->uidvalidity[s])
		return 0;
	if (now->changes_known)
		return now->uidnext >= mk->uidnext;
	return now->uidnext == mk->uidnext &&
	    now->count == state_count_side(st, s);
}

/*
 * Why the stamp rule is safe. The mark's stamp was read at open(),
 * before the listing that showed exactly the pairs; a stamp is only
 * given for directory times that no later change can give again
 * (maildir_stamp.c), and every message and flag of a Maildir lives in
 * the names of cur/ and new/. So an equal stamp now means no name there
 * changed since that listing, and the pairs (unchanged: any record that
 * changes them clears the mark) are the folder, flags included.
 */
uint64_t
plan_mark_value(const struct mbox_status *now)
{
	return now->highestmodseq != 0 ? now->highestmodseq : now->stamp;
}

/* A stamp side (no modification sequences) is as its mark found it:
 * the same non-zero stamp, UIDVALIDITY and UIDNEXT. */
static int
stamp_matches(const struct side_mark *mk, uint32_t uidvalidity,
    const struct mbox_status *now)
{
	return now->stamp != 0 && now->highestmodseq == 0 &&
	    mk->uidnext != 0 && mk->modseq == now->stamp &&
	    now->uidvalidity == uidvalidity && now->uidnext == mk->uidnext;
}

int
plan_stamp_holds(const struct sync_state *st, const struct mbox_status *now,
    enum side s)
{
	return stamp_matches(&st->settled[s], st->uidvalidity[s], now) &&
	    st->nintents == 0;
}

/* The pairs' messages of side s, with the pairs' flags, sorted; 0 (and
 * known empty) if check_hint is set and the hint wants the size of one
 * of them. */
static int
known_list(const struct sync_state *st, enum side s, int check_hint,
    const struct scan_hint *hint, struct msg_list *known)
{
	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *p = &st->pairs[i];
		struct msg_meta m = { .uid = p->uid[s], .flags = p->flags };

		if (m.uid == 0)
			continue;
		if (check_hint && scan_hint_wants(hint, m.uid)) {
			msg_list_free(known);
			return 0;
		}
		msg_list_add(known, &m);
	}
	msg_list_sort(known);
	return 1;
}

int
plan_known_mark(const struct sync_state *st, enum side s,
    struct store_mark *mark, struct msg_list *known)
{
	if (!has_mark(st, s))
		return 0;
	known_list(st, s, 0, NULL, known);
	*mark = (struct store_mark){ .uidvalidity = st->uidvalidity[s],
	    .uidnext = st->settled[s].uidnext,
	    .modseq = st->settled[s].modseq, .known = known };
	return 1;
}

int
plan_known_scan(const struct sync_state *st, const struct mbox_status *now,
    enum side s, const struct scan_hint *hint, struct msg_list *known,
    uint64_t *since)
{
	if (!status_matches(st, now, s) && !plan_stamp_holds(st, now, s))
		return 0;
	if (!known_list(st, s, 1, hint, known))
		return 0;
	*since = st->settled[s].modseq;
	return 1;
}

/*
 * Why a quiet pair needs no run. Both sides earned their marks after a
 * run whose scan of them showed exactly the pairs (with the pairs'
 * flags) at the status of the mark, and a side that still has that
 * status holds the same messages with the same flags (the argument
 * above; with HIGHESTMODSEQ equal, no flag changed either). The state
 * then says of both sides what it said when that run ended, and the run
 * that wrote the state file carried out its whole plan under the same
 * policy (the digest is written only then): the plan of this run, made
 * of the same state, the same messages and the same policy, would be
 * empty (DESIGN.md invariant 3). What the plan reads besides:
 *  - a message that failed in that run (a copy, a flag change, an
 *    expunge, a Trash copy) is still wanted, so that run wrote no digest
 *    and the pair is opened (invariant 8);
 *  - a one-sided record MaxSize held back: the scan hint wants its size
 *    only to see whether the limit now lets it through; under the same
 *    policy it does not, as a message's size never changes;
 *  - Trash, ExpungeSolo, MaxMessages, ExpireUnread decide by the policy,
 *    the pairs and the flags, never by the clock; a Trash copy or an
 *    expunge changes its side, which then earns its mark again first.
 */
int
plan_side_quiet(const struct state_head *h, const struct mbox_status *now,
    enum side s)
{
	const struct side_mark *mk = &h->settled[s];

	if (mk->uidnext == 0 || now->uidvalidity != h->uidvalidity[s])
		return 0;
	/* A side that vouches by a stamp (Maildir) instead of modification
	 * sequences: its stamp, which changes with any change of its
	 * messages or flags, stands for the rest (count included, which a
	 * Maildir cannot tell without listing). */
	if (now->stamp != 0)
		return stamp_matches(mk, h->uidvalidity[s], now);
	return now->highestmodseq != 0 && now->highestmodseq == mk->modseq &&
	    now->uidnext == mk->uidnext && now->count == h->count[s];
}

int
plan_pair_quiet(const struct state_head *h, const struct mbox_status *now[2],
    uint64_t policy)
{
	return h->nintents == 0 && policy != 0 && h->policy == policy &&
	    plan_side_quiet(h, now[SIDE_FAR], SIDE_FAR) &&
	    plan_side_quiet(h, now[SIDE_NEAR], SIDE_NEAR);
}
