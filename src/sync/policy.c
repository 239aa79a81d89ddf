/* policy: the default channel policy. */
#include "sync/policy.h"

#include <string.h>

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
