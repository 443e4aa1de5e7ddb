/* SPDX-License-Identifier: GPL-2.0-only */
/* RFC 3339 timestamps, as the policy and every report write them. */
#ifndef WW_TIMEUTIL_H
#define WW_TIMEUTIL_H

#include <stdint.h>

/* Parses "2026-03-10T08:00:00Z" or with an offset "+01:00"; the seconds may be left out
 * ("2026-03-10T08:00Z"); fractions of a second are not accepted (windows are whole seconds). Returns 0 or -EINVAL. *t is unix seconds, within
 * [0, WW_TIME_MAX] so that its UTC form parses back. */
#define WW_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */
int ww_time_parse(const char *s, int64_t *t);
/* Formats unix seconds as "2026-03-10T08:00:00Z" into buf (at least WW_TIME_STRLEN). */
#define WW_TIME_STRLEN 32
char *ww_time_str(int64_t t, char *buf);

#endif
