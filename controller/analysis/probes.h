/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 2, analysis of the health probes: before anything is applied, every probe must be a
 * connection the policy allows. Stage 4 (probe_run.h) then makes the real connections.
 */
#ifndef WW_PROBES_H
#define WW_PROBES_H

#include <stdint.h>

#include "diag.h"
#include "model.h"

/*
 * For each probe, the policy's verdict for a new TCP connection from -> to:port at `now` (the
 * reference evaluator): an error "probe-denied" when it is denied, a warning when it passes only
 * in monitor mode or thanks to a flow with a validity window, and "probe-not-filtered" when the
 * policy cannot affect it (gateway mode and no netns: the gateway's own connections are not
 * filtered).
 */
void ww_probes_check(const struct ww_policy *p, int64_t now, struct ww_diags *d);

#endif
