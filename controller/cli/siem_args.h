/* SPDX-License-Identifier: GPL-2.0-only */
/* The --siem options `serve` and `alerts` share: one output, given on the command line. */
#ifndef WW_SIEM_ARGS_H
#define WW_SIEM_ARGS_H

#include "cli.h"
#include "model.h"

struct ww_siem_args {
	const char *to, *format, *send, *facility, *ca, *cert, *key, *queue;
};

/* Option table entries for a command whose options struct T has a struct ww_siem_args sa. */
#define WW_SIEM_OPTS(T)                                                                            \
	WW_STR("--siem", T, sa.to, "TARGET"),                                                      \
		WW_STR("--siem-format", T, sa.format, "syslog|cef|json"),                          \
		WW_STR("--siem-send", T, sa.send, "alerts,events"),                                \
		WW_STR("--siem-facility", T, sa.facility, "NAME"),                                 \
		WW_STR("--siem-ca", T, sa.ca, "FILE"), WW_STR("--siem-cert", T, sa.cert, "FILE"),  \
		WW_STR("--siem-key", T, sa.key, "FILE"), WW_STR("--siem-queue", T, sa.queue, "N")

/* Builds cfg (one output, or none without --siem) from the options; says what is wrong with the
 * option's name and returns -EINVAL, or -ENOMEM. */
int ww_siem_args_cfg(const char *cmd, const struct ww_siem_args *a, struct ww_siem_cfg *cfg);

#endif
