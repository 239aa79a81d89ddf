/* imap_date: INTERNALDATE; see imap_date.h. */
#include "imap/imap_date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* Days since 1970-01-01 of a proleptic Gregorian date (no tables, no
 * time zone database: timegm is not in C11). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int
imap_date_parse(const char *s, int64_t *out)
{
	char mon[4], sign;
	int day, year, hh, mm, ss, zone, used = 0;
	const char *m;

	if (sscanf(s, "%2d-%3[A-Za-z]-%4d %2d:%2d:%2d %c%4d%n", &day, mon,
	    &year, &hh, &mm, &ss, &sign, &zone, &used) != 8 ||
	    s[used] != '\0')
		return -1;
	m = strstr(months, mon);
	if (strlen(mon) != 3 || m == NULL || (m - months) % 3 != 0)
		return -1;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    (sign != '+' && sign != '-') || zone < 0 || zone % 100 > 59)
		return -1;
	*out = days_from_civil(year, (unsigned)((m - months) / 3 + 1),
	    (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
	*out -= (sign == '-' ? -1 : 1) * ((zone / 100) * 3600 +
	    (zone % 100) * 60);
	return 0;
}

void
imap_date_format(int64_t t, struct buf *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_addf(out, "%02d-%.3s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
	    months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}
