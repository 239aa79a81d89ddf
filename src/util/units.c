/* units: sizes and durations for people; see units.h. */
#include "util/units.h"

#include <time.h>

void
units_add_bytes(struct buf *out, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		buf_addf(out, "%llu B", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	buf_addf(out, "%.1f %s", v, unit[u]);
}

/* A million hours: more is shown as that, and fits an unsigned long of
 * 32 bits. */
#define UNITS_CLOCK_MAX 3600000000.0

void
units_add_clock(struct buf *out, double seconds)
{
	unsigned long s;

	if (seconds > UNITS_CLOCK_MAX)
		seconds = UNITS_CLOCK_MAX;
	s = seconds > 0 ? (unsigned long)(seconds + 0.5) : 0;

	if (s >= 3600)
		buf_addf(out, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
		    s % 60);
	else
		buf_addf(out, "%lu:%02lu", s / 60, s % 60);
}

void
units_add_seconds(struct buf *out, double seconds)
{
	buf_addf(out, "%.1f s", seconds > 0 ? seconds : 0.0);
}

double
units_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
