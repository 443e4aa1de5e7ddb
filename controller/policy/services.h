/* SPDX-License-Identifier: GPL-2.0-only */
/* The built-in service library: the protocols hospitals run. A policy may redefine any of them. */
#ifndef WW_SERVICES_H
#define WW_SERVICES_H

#include <stddef.h>

struct ww_builtin_service {
	const char *name;
	const char *description;
	const char *spec; /* space-separated "proto[/key[-key]]" terms, e.g. "tcp/104 tcp/11112" */
};

extern const struct ww_builtin_service ww_builtin_services[];
extern const size_t ww_nbuiltin_services;

#endif
