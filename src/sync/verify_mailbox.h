/*
 * verify_mailbox: verify one mailbox pair (twinbox --verify): read both
 * sides (sync/verify_read.h), compare them (sync/verify.h) and print the
 * differences and the summary line (sync/verify_report.h). No state is
 * read or written and no lock taken: what it reports is what the stores
 * held when they were read; a sync running at the same time can make it
 * report a difference that the sync is about to remove.
 *
 * Contract: returns 0 when the sides agree, 1 when they differ, -1 with
 * err set (the mailbox and the cause) when a side could not be read; the
 * stores' failure() then says how wide the failure is.
 */
#ifndef TWINBOX_SYNC_VERIFY_MAILBOX_H
#define TWINBOX_SYNC_VERIFY_MAILBOX_H

#include "util/log.h"
#include "store.h"

struct verify_job {
	struct store *store[2];		/* indexed by enum side */
	const char *box[2];
	const char *label;		/* "CHANNEL:BOX" */
	int compare_sizes;		/* both sizes CRLF-counted (IMAP) */
	const struct logger *lg;
};

int verify_mailbox(const struct verify_job *job, struct buf *err);

#endif
