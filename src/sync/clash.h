/*
 * clash: settle the UID clashes a scan found (store.h, clashes()): two
 * messages of one mailbox claiming one UID, as when a mail reader moves
 * a Maildir file into another folder keeping its ",U=".
 *
 * Which of the two keeps the UID is decided by content, never by age:
 * when the state pairs the UID with a message of the other side, the
 * message with that message's fingerprint keeps it; the other keeps the
 * new UID the scan gave it and is new (copied like any new message).
 * With no such pair, or when the contents do not tell, the scan's
 * provisional choice stands.
 *
 * Contract: runs after both sides are scanned and before anything is
 * planned, on open mailboxes; the scans are updated to what the stores
 * now hold. Each settlement is a crash step. Returns 0, or -1 with err set.
 */
#ifndef TWINBOX_SYNC_CLASH_H
#define TWINBOX_SYNC_CLASH_H

#include "util/buf.h"
#include "util/log.h"
#include "store.h"
#include "sync/crash.h"
#include "sync/state.h"

struct clash_job {
	struct store *store[2];		/* by enum side */
	struct msg_list *scan[2];
	const struct sync_state *state;
	struct crash_point *crash;	/* may be NULL */
	const struct logger *lg;
	const char *label;		/* "channel:box", for messages */
};

int clash_settle(const struct clash_job *job, struct buf *err);

#endif
