// SPDX-License-Identifier: GPL-2.0-only
#include "timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

int ww_time_parse(const char *s, int64_t *t)
{
	int Y, M, D, h, m, sec = 0, oh = 0, om = 0, sign = 0;
	struct tm tm = {0};
	size_t len = strlen(s);
	const char *z;

	/* Seconds may be left out ("2026-03-10T08:00Z"): people write change windows that way. */
	if (len < 17 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':')
		return -EINVAL;
	if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &m))
		return -EINVAL;
	z = s + 16;
	if (*z == ':') {
		if (len < 20 || digits(s + 17, 2, &sec))
			return -EINVAL;
		z = s + 19;
	}
	if ((*z == 'Z' || *z == 'z') && z[1] == '\0') {
		sign = 0;
	} else if ((*z == '+' || *z == '-') && strlen(z) == 6 && z[3] == ':') {
		if (digits(z + 1, 2, &oh) || digits(z + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		sign = *z == '+' ? 1 : -1;
	} else {
		return -EINVAL;
	}
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 ||
	    sec > 59)
		return -EINVAL;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	/* An offset may carry the instant out of what ww_time_str() prints as a time that parses
	 * back (before 1970, after 9999): refuse it, or the canonical form would not parse. */
	int64_t v = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
	if (v < 0 || v > WW_TIME_MAX)
		return -EINVAL;
	*t = v;
	return 0;
}

char *ww_time_str(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, WW_TIME_STRLEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
