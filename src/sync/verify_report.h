/*
 * verify_report: the words of a verification (sync/verify.h), one line
 * each, through the logger's information stream (stdout):
 *
 *   LABEL: only on far: UID 7: Date: ...; From: ...; Subject: ...;
 *       Message-ID: ...			(one line; "near" likewise)
 *   LABEL: extra copy on near: UID 9: ...	(a duplicate)
 *   LABEL: content differs: far UID 3, near UID 4: ...
 *   LABEL: flags differ: far UID 3 (FS), near UID 4 (S): ...
 *   LABEL: empty on near: UID 5: 0 bytes, not a message: not compared
 *       (an empty Maildir file, which a sync never copies; not a
 *       difference)
 *   LABEL: N on far, M on near, K on both: agree
 *   LABEL: N on far, M on near, K on both: differ (D differences)
 *
 * The summary line comes last, once per mailbox pair; scripts read it.
 * Header values are printed as the message has them (not decoded),
 * control characters replaced by '?'.
 */
#ifndef TWINBOX_SYNC_VERIFY_REPORT_H
#define TWINBOX_SYNC_VERIFY_REPORT_H

#include "util/log.h"
#include "sync/verify.h"

void verify_report(const char *label, const struct verify_side sides[2],
    const struct verify_result *r, const struct logger *lg);

#endif
