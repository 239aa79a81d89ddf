/*
 * mbsync_state: reading the synchronization state that mbsync (isync
 * 1.3, 1.4 and 1.5, and the older state files) keeps for a mailbox pair, so that a pair mbsync has
 * synced is adopted by twinbox instead of being met for the first time
 * (docs/mbsync-adoption.md).
 *
 * Where mbsync keeps it (mbsync_state_candidates()):
 *  - SyncState "*": .mbsyncstate in the near mailbox's directory;
 *  - a channel's own SyncState prefix: the prefix followed by the near
 *    mailbox name, every '/' written as '!';
 *  - a global SyncState prefix: the prefix followed by
 *    ":FARSTORE:FARBOX_:NEARSTORE:NEARBOX" (':' being FieldDelimiter, '/'
 *    in the mailbox names written as '!');
 *  - no SyncState at all: that name under ~/.mbsync/ (mbsync 1.4) or
 *    $XDG_STATE_HOME/isync/ (mbsync 1.5; ~/.local/state/isync/).
 * The journal is the state file's name plus ".journal"; mbsync replays it
 * only while the ".new" file of an unfinished run exists, and so does
 * this reader.
 *
 * What is imported: both UIDVALIDITYs, the highest UID dealt with on each
 * side (MaxPulledUid, MaxPushedUid), and one pair record per entry with
 * its flags. An entry of one side only becomes a pair whose survivor is
 * marked \Deleted (PAIR_GONE_MARKED), an entry skipped for MaxSize
 * PAIR_TOO_BIG, an expired one PAIR_EXPIRED. Whatever twinbox cannot
 * take over safely is refused with an error, and the pair is then met by
 * content as on any first contact: placeholder entries (mbsync 1.5's
 * "<" / ">" and the journal's placeholder records), a journal that
 * leaves a copy unfinished, a status record, a journal of another
 * version than 3 (1.3), 4 (1.4) or 5 (1.5), and any line that does not
 * parse.
 *
 * Contract: nothing here writes, creates, locks or renames a file;
 * mbsync's files are only read. mbsync_state_read() fills an initialised,
 * empty sync_state (generation 0) through state_apply() and state_check(),
 * so the result satisfies every invariant of state.h. Errors read
 * "PATH:LINE: what" (or "PATH: what"); st is then left empty.
 */
#ifndef TWINBOX_SYNC_MBSYNC_STATE_H
#define TWINBOX_SYNC_MBSYNC_STATE_H

#include "util/buf.h"
#include "store.h"
#include "sync/state.h"

struct mbsync_where {
	const char *sync_state;	/* the SyncState that applies, or NULL */
	int from_channel;	/* 1: it is the channel's own SyncState */
	char delimiter;		/* FieldDelimiter; 0 means ':' */
	const char *far_store;
	const char *far_box;	/* mailbox names as mbsync spells them */
	const char *near_store;
	const char *near_box;
	const char *near_dir;	/* near Maildir directory, or NULL */
	const char *home;	/* $HOME, or NULL */
	const char *xdg_state_home;	/* $XDG_STATE_HOME, or NULL */
};

/* Append the paths where mbsync may keep this pair's state, most likely
 * first, to out (no duplicates). Pure: no file system access. */
void mbsync_state_candidates(const struct mbsync_where *w,
    struct strlist *out);

/*
 * Read mbsync's state file at path (and its journal, if mbsync would
 * replay it) into st. A missing state file is not an error: *found = 0.
 * Returns 0, or -1 with err set.
 */
int mbsync_state_read(const char *path, struct sync_state *st, int *found,
    struct buf *err);

#endif
