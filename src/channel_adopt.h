/*
 * channel_adopt: where mbsync may have kept the state of one mailbox pair
 * of a channel, for its adoption (sync/mbsync_state.h,
 * docs/mbsync-adoption.md).
 *
 * Contract: channel_mbsync_states() only computes names (the near
 * mailbox's directory comes from the near store, without touching the
 * disk); the list is appended to out, most likely first. mbsync 1.4 wrote
 * non-ASCII mailbox names in modified UTF-7, so both that spelling and
 * the UTF-8 one are tried. A name that cannot be encoded, or a near
 * mailbox without a directory, just gives fewer candidates.
 */
#ifndef TWINBOX_CHANNEL_ADOPT_H
#define TWINBOX_CHANNEL_ADOPT_H

#include "config/config.h"
#include "store.h"

void channel_mbsync_states(const struct config *cfg,
    const struct channel_conf *ch, struct store *near,
    char *const box[2], const char *home, const char *xdg_state_home,
    struct strlist *out);

/* 1 if one of the candidates exists (mbsync has synced the pair). */
int channel_mbsync_known(const struct strlist *candidates);

#endif
