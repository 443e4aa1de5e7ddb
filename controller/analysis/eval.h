/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reference evaluator: what the policy decides for one new connection, computed directly
 * from the model by the rules of docs/policy.md. It is deliberately naive (linear scans, no
 * precomputation) so that it is obviously right; the nftables and XDP datapaths are tested
 * against it.
 */
#ifndef WW_EVAL_H
#define WW_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* What a packet's address belongs to: its zone and, inside it, its host group (or none). */
struct ww_class {
	const struct ww_zone *zone; /* NULL: the address is in no zone */
	const struct ww_host *host;
	const struct ww_net *net; /* the most specific matching network */
};

struct ww_packet {
	struct ww_addr src, dst; /* same family */
	int proto;               /* 0-255 */
	int key;                 /* port (tcp, udp, sctp) or ICMP type; -1 when not given */
	int64_t at;              /* unix seconds */
};

enum ww_verdict_kind {
	WW_V_ALLOW,
	WW_V_DENY,
	WW_V_MONITOR, /* passes, but would be denied if monitor mode were off */
};

/*
 * Ranks of matching flows. An enforced deny beats everything, whatever the order of the flows;
 * then an allow; then the defaults. A deny in monitor mode (its own, or a zone's) decides
 * nothing: it observes — counts and logs what it would deny — and the packet's fate is what it
 * would be without it. So monitor mode never lets through what is otherwise denied.
 */
enum ww_rank { WW_RANK_DENY, WW_RANK_MONITOR, WW_RANK_ALLOW };

struct ww_verdict {
	enum ww_verdict_kind kind;
	const struct ww_flow *flow;    /* the deciding flow (deny or allow), or NULL: the default */
	const struct ww_flow *monitor; /* the first monitor-mode deny that matched, or NULL */
	bool within_zone;              /* for defaults: same zone on both sides */
	struct ww_class src, dst;
};

void ww_classify(const struct ww_policy *p, const struct ww_addr *a, struct ww_class *out);
/* Does endpoint e contain addresses of class c? */
bool ww_endpoint_matches(const struct ww_endpoint *e, const struct ww_class *c);
bool ww_eplist_matches(const struct ww_eplist *l, const struct ww_class *c);
/* Does the service match protocol proto with key (port/type, -1 unknown)? */
bool ww_service_matches(const struct ww_service *s, int proto, int key);
/* Does flow f match (ignoring its validity window)? */
bool ww_flow_matches(const struct ww_flow *f, const struct ww_class *src,
		     const struct ww_class *dst, int proto, int key);

/* The rank a matching flow decides with between zones zs and zd (either may be NULL). */
enum ww_rank ww_flow_rank(const struct ww_flow *f, const struct ww_zone *zs,
			  const struct ww_zone *zd);
/* The default between two classes: allow, deny, or monitor (a deny touching a monitor zone). */
enum ww_verdict_kind ww_default_verdict(const struct ww_policy *p, const struct ww_class *src,
					const struct ww_class *dst, bool *within);

void ww_evaluate(const struct ww_policy *p, const struct ww_packet *pkt, struct ww_verdict *v);

const char *ww_verdict_str(enum ww_verdict_kind k);

#endif
