// SPDX-License-Identifier: GPL-2.0-only
/* Capturing libbpf's messages (bpf_log.h). */
#include "bpf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The end of what libbpf said during the current capture. Process-wide because libbpf's print
 * callback is; only the capture functions touch it. */
static char tail[4096];

static int keep(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n, have;

	if (getenv("WARDWALL_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	have = strlen(tail);
	if (have + n >= sizeof(tail)) {
		size_t drop = have + n - sizeof(tail) + 1; /* <= have: a line is shorter than tail */
		memmove(tail, tail + drop, have - drop + 1);
	}
	strncat(tail, line, sizeof(tail) - strlen(tail) - 1);
	return (int)n;
}

void ww_bpf_log_begin(struct ww_bpf_log *l)
{
	tail[0] = '\0';
	l->old = libbpf_set_print(keep);
}

void ww_bpf_log_end(struct ww_bpf_log *l)
{
	libbpf_set_print(l->old);
}

const char *ww_bpf_log_tail(int n)
{
	char *end = tail + strlen(tail);

	while (end > tail && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	for (int lines = 0; end > tail; end--)
		if (end[-1] == '\n' && ++lines == n)
			break;
	return *end ? end : "no message";
}
