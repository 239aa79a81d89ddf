/*
 * maildir: the Maildir implementation of the store interface (store.h).
 *
 * Contract:
 *  - maildir_store_new() copies every string of the options; the caller
 *    keeps ownership of its own. The store is released by s->ops->free(s).
 *  - Layout follows mbsync's MaildirStore: `path` is the root under which
 *    mailboxes live, `inbox` is where INBOX lives, `subfolders` chooses how
 *    a hierarchical name a/b maps to directories.
 *  - UIDs live in file names (",U=<uid>") with a `.uidvalidity` file per
 *    mailbox, the scheme mbsync uses, so its users switch without a
 *    re-download.
 *  - Files are created 0600, directories 0700. Names that would leave the
 *    root are refused.
 *  - An open mailbox holds the lock on its .uidvalidity (taken without
 *    waiting; open() fails if another process holds it).
 *  - open() and peek() report the folder's stamp (the times of cur/ and
 *    new/, 0 while they are too recent to vouch for); scan_changes()
 *    takes the caller's list as the folder while the stamp is the one
 *    the caller names, and reads file names only when an operation needs
 *    them. See docs/maildir.md. Whether the times are too recent is
 *    judged against the options' clock (real time unless given).
 *  - Every append must be finished or cancelled before open() of another
 *    mailbox or ops->free(); finished appends not yet committed are then
 *    dropped. See docs/maildir.md for the UID scheme and crash safety.
 */
#ifndef TWINBOX_MAILDIR_H
#define TWINBOX_MAILDIR_H

#include <time.h>

#include "util/buf.h"
#include "util/log.h"
#include "maildir/maildir_barrier.h"
#include "store.h"

enum maildir_subfolders {
	MAILDIR_SUB_NONE = 0,	/* no hierarchy: a/b is refused */
	MAILDIR_SUB_VERBATIM,	/* a/b -> <path>/a/b */
	MAILDIR_SUB_MAILDIRPP,	/* a/b -> <path>/.a.b, INBOX = <path> */
	MAILDIR_SUB_LEGACY	/* a/b -> <path>/a/.b */
};

struct maildir_options {
	const char *path;	/* root of the mailboxes; NULL = none, or
				   for Maildir++ the inbox directory */
	const char *inbox;	/* directory of INBOX; NULL = <path>/INBOX,
				   or <path> itself for Maildir++ */
	enum maildir_subfolders subfolders;
	int fsync;		/* 1: make deliveries durable (default) */
	int utf7_names;		/* Utf7Names: new non-ASCII folders are
				   spelt in modified UTF-7 on disk, as
				   mbsync 1.4 does (default: UTF-8) */
	int read_only;		/* dry runs: nothing on disk changes; files
				   without a UID get provisional ones in
				   memory, and every write is refused */
	char info_delimiter;	/* InfoDelimiter: the character before a
				   file name's info part ("2,<flags>");
				   '\0' means ':' */
	/* The clock a folder's stamp is judged by (the moment its
	   directory times must be older than): 0 with *now set, -1 if it
	   cannot tell. NULL: clock_gettime(CLOCK_REALTIME). Tests give a
	   fixed time, so that "fresh" and "old" do not depend on how long
	   a test takes. */
	int (*clock)(void *clock_arg, struct timespec *now);
	void *clock_arg;
	/* The thresholds of the rule choosing each batch's durability
	   barrier (maildir_barrier.h); NULL: maildir_barrier_default().
	   Tests give their own, so that both barriers run whatever the
	   machine's load. */
	const struct maildir_barrier *barrier;
};

struct store *maildir_store_new(const struct maildir_options *opt,
    const struct logger *lg, struct buf *err);

/* The directory of mailbox name (canonical form) in store s, which must be
 * a Maildir store; *dir is the caller's to free. Refuses unsafe names. */
int maildir_mailbox_dir(struct store *s, const char *name, char **dir,
    struct buf *err);

#endif
