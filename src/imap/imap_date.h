/*
 * imap_date: INTERNALDATE values ("17-Jul-1996 02:44:25 -0700").
 *
 * Contract: imap_date_parse() returns 0 and the seconds since the epoch,
 * or -1 for anything malformed (a leading space before a one-digit day is
 * accepted, as RFC 3501's date-day-fixed allows). imap_date_format()
 * appends the date in UTC ("+0000") to out. No state.
 */
#ifndef TWINBOX_IMAP_DATE_H
#define TWINBOX_IMAP_DATE_H

#include <stdint.h>

#include "util/buf.h"

int imap_date_parse(const char *s, int64_t *out);
void imap_date_format(int64_t t, struct buf *out);

#endif
