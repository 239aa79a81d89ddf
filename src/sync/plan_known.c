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
 */
#include "sync/plan_int.h"

static size_t
count_side(const struct sync_state *st, enum side s)
{
	size_t n = 0;

	for (size_t i = 0; i < st->npairs; i++)
		n += st->pairs[i].uid[s] != 0;
	return n;
}

int
plan_side_settled(const struct sync_state *st, const struct msg_list *scan,
    enum side s)
{
	if (count_side(st, s) != scan->n)
		return 0;
	/* UIDs are unique on both sides, so equal counts and every pair
	 * found means equal sets. */
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
status_matches(const struct sync_state *st, const struct mbox_status *now,
    enum side s)
{
	const struct side_mark *mk = &st->settled[s];

	return mk->uidnext != 0 && now->highestmodseq >= mk->modseq &&
	    now->uidvalidity == st->uidvalidity[s] &&
	    now->uidnext == mk->uidnext && st->nintents == 0 &&
	    now->count == count_side(st, s);
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

int
plan_stamp_holds(const struct sync_state *st, const struct mbox_status *now,
    enum side s)
{
	const struct side_mark *mk = &st->settled[s];

	return now->stamp != 0 && now->highestmodseq == 0 &&
	    mk->uidnext != 0 && mk->modseq == now->stamp &&
	    now->uidvalidity == st->uidvalidity[s] &&
	    now->uidnext == mk->uidnext && st->nintents == 0;
}

int
plan_known_scan(const struct sync_state *st, const struct mbox_status *now,
    enum side s, const struct scan_hint *hint, struct msg_list *known,
    uint64_t *since)
{
	if (!status_matches(st, now, s) && !plan_stamp_holds(st, now, s))
		return 0;
	for (size_t i = 0; i < st->npairs; i++) {
		const struct pair_rec *p = &st->pairs[i];
		struct msg_meta m = { .uid = p->uid[s], .flags = p->flags };

		if (m.uid == 0)
			continue;
		if (scan_hint_wants(hint, m.uid)) {
			msg_list_free(known);
			return 0;
		}
		msg_list_add(known, &m);
	}
	msg_list_sort(known);
	*since = st->settled[s].modseq;
	return 1;
}
