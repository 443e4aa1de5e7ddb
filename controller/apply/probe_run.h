/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: the health probes run for real after a change. Each probe is one TCP
 * connection, made from its network namespace (or wardwall's own), bound to its source address;
 * all start at once, and each must complete its handshake within its timeout.
 */
#ifndef WW_PROBE_RUN_H
#define WW_PROBE_RUN_H

#include "model.h"
#include "util.h"

/*
 * Runs every probe of p. Returns 0 when all connected; -EHOSTUNREACH when one did not: *failed
 * is the first such probe (in policy order) and why says what happened ("connection refused",
 * "no answer within 1000 ms"); or -errno when a probe could not be started at all (a missing
 * namespace, the source address not there), also said in why, with *failed set.
 */
int ww_probes_run(const struct ww_policy *p, const struct ww_probe **failed, struct strbuf *why);

#endif
