/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 2, analysis: what `check` says beyond validity, and the proofs of invariants. */
#ifndef WW_ANALYSE_H
#define WW_ANALYSE_H

#include <stdint.h>

#include "diag.h"
#include "model.h"

struct ww_inv_result {
	bool holds;
	bool monitor_only; /* holds only because monitor mode is counted as denying */
	size_t violations; /* (class pair, atom, time slice) triples that break it */
	char *detail;      /* one sentence: a counterexample and the flows responsible; or NULL */
};

/*
 * Analyses a valid policy as of time `now` (unix seconds): warnings for unused zones and
 * services, shadowed and redundant flows, exposure of life-critical zones, expired windows; an
 * error for each violated invariant. Results for each invariant go to res (p->ninvs entries,
 * may be NULL). Returns 0 or -ENOMEM.
 */
int ww_analyse(const struct ww_policy *p, int64_t now, struct ww_diags *d,
	       struct ww_inv_result *res);
void ww_inv_results_free(struct ww_inv_result *res, size_t n);

/* "tcp/443", "tcp/1000-2000", "icmp/8", "gre", "any" into buf (at least 32 bytes). */
char *ww_key_str(int proto, unsigned int lo, unsigned int hi, char *buf);

#endif
