/* SPDX-License-Identifier: GPL-2.0-only */
/* The --siem options `serve` and `alerts` share: one output, given on the command line. */
#ifndef WW_SIEM_ARGS_H
#define WW_SIEM_ARGS_H

#include "cli.h"
#include "model.h"

struct ww_siem_args {
	const char *to, *format, *send, *facility, *ca, *cert, *key, *queue;
};

#define WW_SIEM_OPTS(a)                                                                            \
	{"--siem", &(a).to, NULL}, {"--siem-format", &(a).format, NULL},                           \
	    {"--siem-send", &(a).send, NULL}, {"--siem-facility", &(a).facility, NULL},            \
	    {"--siem-ca", &(a).ca, NULL}, {"--siem-cert", &(a).cert, NULL},                        \
	    {"--siem-key", &(a).key, NULL},                                                        \
	{                                                                                          \
		"--siem-queue", &(a).queue, NULL                                                   \
	}
#define WW_SIEM_USAGE                                                                              \
	"[--siem TARGET [--siem-format syslog|cef|json] [--siem-send alerts,events] "              \
	"[--siem-facility NAME] [--siem-ca FILE] [--siem-cert FILE --siem-key FILE] "              \
	"[--siem-queue N]]"

/* Builds cfg (one output, or none without --siem) from the options; says what is wrong with the
 * option's name and returns -EINVAL, or -ENOMEM. */
int ww_siem_args_cfg(const char *cmd, const struct ww_siem_args *a, struct ww_siem_cfg *cfg);

#endif
