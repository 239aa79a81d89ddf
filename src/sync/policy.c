/* policy: the default channel policy. */
#include "sync/policy.h"

#include <string.h>

#include "util/buf.h"
#include "util/hash.h"

void
sync_policy_default(struct sync_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->ops[SIDE_FAR] = SYNC_ALL;
	p->ops[SIDE_NEAR] = SYNC_ALL;
	p->guard_wiped_over = 10;
	p->guard_wiped_percent = 90;
	p->guard_large_over = 100;
	p->guard_large_percent = 50;
	p->expire_unread = -1;
}

/*
 * The fields by value, in a fixed text form (no padding bytes), and the
 * Trash mailboxes by name. The mass-deletion guard is left out: it acts
 * only on messages that vanished since the records, and a pair whose
 * sides both hold exactly their records has none, so a one-off
 * --allow-mass-delete does not open every pair twice.
 */
uint64_t
sync_policy_digest(const struct sync_policy *p)
{
	struct buf b = BUF_INIT;
	uint64_t h;

	buf_addf(&b, "%u %u %u %u %llu %llu %u %d %u %u",
	    p->ops[0], p->ops[1], p->expunge, p->expunge_solo,
	    (unsigned long long)p->max_size[0],
	    (unsigned long long)p->max_size[1], p->max_messages,
	    p->expire_unread, p->trash_new_only, p->trash_remote_new);
	for (int s = 0; s < 2; s++) {
		buf_addc(&b, '\0');
		if (p->trash_box[s] != NULL)
			buf_addf(&b, "T%s", p->trash_box[s]);
	}
	h = hash_fnv1a64(b.data, b.len);
	buf_free(&b);
	return h != 0 ? h : 1;
}
