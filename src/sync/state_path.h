/*
 * state_path: where the state file, journal and lock of a mailbox pair
 * live, following the meaning of mbsync's SyncState option.
 *
 *  - SyncState "*": inside the near mailbox's directory (a Maildir):
 *    .twinboxstate, .twinboxstate.journal, .twinboxstate.lock.
 *  - SyncState anything else: a path prefix (a leading "~/" is the home
 *    directory); the file name appended to it is built from both store
 *    and mailbox names: ":FARSTORE:FARBOX_:NEARSTORE:NEARBOX.twinboxstate",
 *    where ':' is the FieldDelimiter (mbsync's global key, default ':');
 *    the suffix keeps it apart from mbsync's file of the same pair, which
 *    is the same name without it. Every
 *    byte that could leave the directory or make the name ambiguous
 *    ('/', '%', ':', the FieldDelimiter, control characters) is written
 *    as %XX, so the name is
 *    one path component, never "." or "..", and distinct pairs get
 *    distinct names. An over-long name keeps its start and ends in a hash
 *    of the whole name, to stay within file name limits.
 *  - SyncState unset: the prefix "$XDG_STATE_HOME/twinbox/" (XDG_STATE_HOME
 *    defaults to ~/.local/state), as mbsync 1.5 defaults to
 *    $XDG_STATE_HOME/isync/.
 *
 * Contract: state_paths_compute() is pure (no file system access, the
 * environment comes in the state_location). Every string of
 * struct state_paths is owned by it and released by state_paths_free().
 */
#ifndef TWINBOX_SYNC_STATE_PATH_H
#define TWINBOX_SYNC_STATE_PATH_H

#include "util/buf.h"

struct state_location {
	const char *sync_state;		/* the SyncState option; NULL = unset */
	const char *far_store;		/* store names from the configuration */
	const char *far_box;		/* canonical mailbox names */
	const char *near_store;
	const char *near_box;
	const char *near_dir;		/* near mailbox directory if it is a
					   Maildir, else NULL */
	const char *home;		/* $HOME */
	const char *xdg_state_home;	/* $XDG_STATE_HOME; NULL = unset */
	char field_delim;		/* FieldDelimiter; '\0' = ':' */
};

struct state_paths {
	char *dir;		/* the directory holding the files */
	char *state;
	char *journal;
	char *lock;
	char *legacy;		/* prefix form: the state file's name before
				   twinbox ended it in .twinboxstate and
				   used FieldDelimiter (':' then); NULL for
				   SyncState "*" */
};

/* The file name suffixes, after the state file's name. */
#define STATE_JOURNAL_SUFFIX ".journal"
#define STATE_LOCK_SUFFIX ".lock"
/* The state file name inside a near Maildir (SyncState "*"). */
#define STATE_IN_MAILBOX_NAME ".twinboxstate"
/* What ends the pair name in the prefix form. */
#define STATE_PREFIX_SUFFIX ".twinboxstate"

/*
 * A state file that twinbox wrote under the legacy name (p->legacy, with
 * its journal) while none exists under the current one: 1, else 0. Only
 * a file that starts as twinbox's state counts; mbsync's file of the same
 * pair has that name too (sync/mbsync_state.h).
 */
int state_paths_legacy_found(const struct state_paths *p);

/* Rename the legacy state file and its journal (journal first) to the
 * current names. Returns 0, or -1 with err set. */
int state_paths_take_legacy(const struct state_paths *p, struct buf *err);

int state_paths_compute(const struct state_location *loc,
    struct state_paths *out, struct buf *err);
void state_paths_free(struct state_paths *p);
/* Create the directory and its parents (mode 0700) if missing. */
int state_paths_mkdir(const struct state_paths *p, struct buf *err);

#endif
