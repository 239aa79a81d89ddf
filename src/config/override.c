/* override: the command line's operation options; see override.h. */
#include "config/override.h"

void
override_apply(const struct override *o, struct channel_opts *opt)
{
	if (o == NULL)
		return;
	if (o->have & OVR_SYNC)
		opt->sync = o->sync;
	if (o->have & OVR_CREATE)
		opt->create = o->create;
	if (o->have & OVR_REMOVE)
		opt->remove = o->remove;
	if (o->have & OVR_EXPUNGE)
		opt->expunge = o->expunge;
}
