/*
 * units: sizes and durations written for people, the same way in the
 * status line (progress.h) and the run's total (report.h).
 *
 * Contract: each appends to out and never fails. Sizes are in binary
 * units with one decimal ("0 B", "512 B", "1.5 KiB", "12.0 MiB"); times
 * as "M:SS" or "H:MM:SS" (units_add_clock, a million hours at the most)
 * or "12.3 s" (units_add_seconds).
 */
#ifndef TWINBOX_UNITS_H
#define TWINBOX_UNITS_H

#include <stdint.h>

#include "util/buf.h"

void units_add_bytes(struct buf *out, uint64_t bytes);
void units_add_clock(struct buf *out, double seconds);
void units_add_seconds(struct buf *out, double seconds);
/* Seconds on a monotonic clock, for differences only. */
double units_now(void);

#endif
