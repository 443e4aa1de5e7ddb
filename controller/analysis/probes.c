// SPDX-License-Identifier: GPL-2.0-only
#include "probes.h"

#include "eval.h"
#include "timeutil.h"

void ww_probes_check(const struct ww_policy *p, int64_t now, struct ww_diags *d)
{
	for (size_t i = 0; i < p->nprobes; i++) {
		const struct ww_probe *pr = &p->probes[i];
		struct ww_packet pkt = {.src = pr->from, .dst = pr->to, .proto = WW_PROTO_TCP,
					.key = pr->port, .at = now};
		struct ww_verdict v;
		char a[WW_PREFIX_STRLEN], b[WW_PREFIX_STRLEN], tb[WW_TIME_STRLEN];

		if (!pr->id || !pr->from.family || pr->from.family != pr->to.family)
			continue; /* already an error */
		ww_evaluate(p, &pkt, &v);
		ww_addr_str(&pr->from, a);
		ww_addr_str(&pr->to, b);
		if (v.kind == WW_V_DENY)
			ww_err(d, "probe-denied", pr->ptr,
			       "probe \"%s\" (%s -> %s tcp/%u) is denied by %s%s%s: an apply would "
			       "break it",
			       pr->id, a, b, pr->port, v.flow ? "flow \"" : "the default",
			       v.flow ? v.flow->id : "", v.flow ? "\"" : "");
		else if (v.kind == WW_V_MONITOR)
			ww_warn(d, "probe-monitor-only", pr->ptr,
				"probe \"%s\" (%s -> %s tcp/%u) passes only because of monitor mode",
				pr->id, a, b, pr->port);
		else if (v.flow && v.flow->has_until)
			ww_warn(d, "probe-expires", pr->ptr,
				"probe \"%s\" is allowed by flow \"%s\" only until %s", pr->id,
				v.flow->id, ww_time_str(v.flow->valid_until, tb));
		if (p->enf.mode == WW_GATEWAY && !pr->netns)
			ww_warn(d, "probe-not-filtered", pr->ptr,
				"probe \"%s\" runs from the gateway itself, whose own connections "
				"gateway mode does not filter: it tests the network, not the policy "
				"(give \"netns\": a namespace in a zone)",
				pr->id);
	}
}
