/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy model: what a validated policy means, independent of its JSON spelling.
 *
 * Every node keeps the JSON pointer it came from (`ptr`), so diagnostics in any later stage can
 * name the place in the input. A model is built only by policy_parse() and is immutable after it;
 * ww_policy_free() releases everything.
 */
#ifndef WW_MODEL_H
#define WW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define WW_POLICY_VERSION 1
#define WW_NAME_MAX       32 /* zones, hosts */
#define WW_ID_MAX         48 /* flows, services, invariants */

/* Endpoint ids are one dense space: 0 is "no endpoint", zones come first, then hosts. */
typedef uint32_t ww_ep_t;

enum ww_action { WW_ALLOW, WW_DENY };
enum ww_mode { WW_ENFORCE, WW_MONITOR };
enum ww_crit { WW_CRIT_UNSET, WW_CRIT_LOW, WW_CRIT_MEDIUM, WW_CRIT_HIGH, WW_CRIT_LIFE };
enum ww_log { WW_LOG_NONE, WW_LOG_DENY, WW_LOG_ALL };
enum ww_hookmode { WW_GATEWAY, WW_HOST, WW_BRIDGE };
/* "gateway", "host", "bridge" */
extern const char *const ww_hookmode_names[3];
enum ww_xdp_mode { WW_XDP_OFF, WW_XDP_NATIVE, WW_XDP_GENERIC };
/* What `restore` loads when the last generation cannot be enforced (docs/operations.md). */
enum ww_on_failure { WW_FAIL_CLOSED, WW_FAIL_OPEN };

/* Protocol numbers the language names; any other is written as a number. */
#define WW_PROTO_ANY    (-1)
#define WW_PROTO_ICMP   1
#define WW_PROTO_TCP    6
#define WW_PROTO_UDP    17
#define WW_PROTO_ICMPV6 58
#define WW_PROTO_SCTP   132

/* Protocols whose key is a port (0-65535); ICMP and ICMPv6 key on the type (0-255). */
static inline bool ww_proto_has_ports(int p)
{
	return p == WW_PROTO_TCP || p == WW_PROTO_UDP || p == WW_PROTO_SCTP;
}
static inline bool ww_proto_has_types(int p)
{
	return p == WW_PROTO_ICMP || p == WW_PROTO_ICMPV6;
}
static inline unsigned int ww_proto_key_max(int p)
{
	return ww_proto_has_ports(p) ? 65535 : ww_proto_has_types(p) ? 255 : 0;
}

struct ww_net {
	struct ww_prefix pfx;
	char *ptr;
};

struct ww_zone;

struct ww_host {
	char *name;
	char *ptr;
	struct ww_net *nets;
	size_t nnets;
	struct ww_zone *zone;
	ww_ep_t ep;
};

struct ww_zone {
	char *name;
	char *ptr;
	char *description;
	enum ww_crit crit;
	enum ww_mode mode;
	bool untrusted; /* guest-like: guest Wi-Fi, internet, vendor networks */
	struct ww_net *nets; /* the zone's addresses: what every later stage classifies with */
	size_t nnets;
	/* As written, when "networks" names a built-in address set or the zone has "except"
	 * (NULL and 0 otherwise): canonical text of each entry, a prefix or a set's name. `nets`
	 * is then their union minus the exceptions. */
	char **spec_nets, **spec_except;
	size_t nspec_nets, nspec_except;
	struct ww_host *hosts;
	size_t nhosts;
	ww_ep_t ep; /* 1..nzones, in name order */
};

/* One protocol term of a service: proto (or ANY) and an inclusive key range. */
struct ww_term {
	int proto;
	uint16_t lo, hi; /* ports or ICMP types; the whole range when the service names none */
	char *ptr;
};

struct ww_service {
	char *name;
	char *ptr; /* NULL for a built-in that the policy does not redefine */
	char *description;
	struct ww_term *terms;
	size_t nterms;
	bool builtin;    /* comes from the built-in library, not the policy */
	bool referenced; /* some flow or invariant names it */
};

/* A named group of zones ("groups": {"clinical": [...]}), usable wherever a zone is. */
struct ww_group {
	char *name;
	char *ptr;
	struct ww_zone **zones; /* in the order written */
	size_t nzones;
};

/* A zone, or one named host group of a zone (host != NULL). An endpoint written as a zone
 * group's name stands for each of its zones: one endpoint per zone, `group` set. */
struct ww_endpoint {
	struct ww_zone *zone;
	struct ww_host *host;
	const struct ww_group *group;
	char *ptr;
};

struct ww_eplist {
	struct ww_endpoint *v;
	size_t n;
	bool all; /* written as "*": every zone */
};

struct ww_flow {
	char *id;
	bool id_given;
	char *ptr;
	size_t index; /* position in the policy: ties between flows of equal rank go to the first */
	struct ww_eplist from, to;
	struct ww_service **svcs;
	size_t nsvcs;
	char **svc_ptrs;
	enum ww_action action;
	/* "action": "reject": action is WW_DENY, decided as a deny everywhere; the gateway answers
	 * (TCP reset, ICMP administratively prohibited) instead of dropping silently. */
	bool reject;
	enum ww_mode mode;
	bool has_from, has_until; /* validity window, unix seconds, [from, until) */
	int64_t valid_from, valid_until;
	int log; /* -1: as defaults.log, else enum ww_log */
	char *owner, *ticket, *description;
	char **controls;
	size_t ncontrols;
	/* With "except": {"services": [...]}: the names as written, for the canonical form; svcs
	 * then holds one derived service, their difference. (Endpoints in "except" are taken out of
	 * from/to directly.) */
	char **spec_svcs, **except_svcs;
	size_t nspec_svcs, nexcept_svcs;
	/* Incident handling (docs/incident.md): a quarantine keeps a life-critical flow unless
	 * --strict, and a management flow always. Neither changes a decision of the policy.
	 * The fail-closed policy of restore keeps the management flows too (failsafe.h). */
	bool life_critical, management;
};

struct ww_invariant {
	char *id;
	char *ptr;
	enum ww_action expect;
	struct ww_eplist from, to, except;
	struct ww_service *svc; /* NULL: any traffic */
	/* "service" as a list, or "except" naming services: the names as written (canonical form);
	 * svc is then a derived service, the union of spec_svcs (all traffic if none) minus
	 * except_svcs. */
	char **spec_svcs, **except_svcs;
	size_t nspec_svcs, nexcept_svcs;
	char *description;
};

/* A health probe: a TCP connection that must keep working after every apply (docs/operations.md). */
struct ww_probe {
	char *id;
	char *ptr;
	char *description;
	struct ww_addr from, to; /* the probe binds to from; check proves from -> to is allowed */
	uint16_t port;           /* tcp */
	char *netns;             /* run inside this named network namespace (/run/netns), or NULL:
				    from the namespace wardwall runs in */
	uint32_t timeout_ms;
};

struct ww_defaults {
	enum ww_action between_zones, within_zone;
	enum ww_log log;
};

struct ww_enforcement {
	enum ww_hookmode mode;
	char **ifaces;
	size_t nifaces;
	enum ww_xdp_mode xdp;
	uint16_t log_group; /* NFLOG group of denials */
	uint32_t log_rate;  /* logged packets per second, across all flows */
	enum ww_on_failure on_failure;
	/* "mark_bits": the packet-mark bits the nftables tier writes the destination's class into,
	 * one contiguous run of at least 2 bits (classmark.h); WW_MARK_DEFAULT 0xffff0000 */
	uint32_t mark_mask;
};

/* One enforcement point of a fleet (the policy's "gateways" section, docs/fleet.md). */
struct ww_gateway {
	char *name;
	char *ptr;
	enum ww_hookmode mode;
	char **ifaces;
	size_t nifaces;
	enum ww_xdp_mode xdp;
	struct ww_zone **zones; /* the zones it serves, in name order */
	size_t nzones;
};
#define WW_DETECT_TARGETS_MAX 256 /* scan.targets at most: the per-source target set */

/* The "detect" section: detectors over the event stream (controller/report/detect.h). */
struct ww_detect_cfg {
	bool scan, lateral, new_talker, flood; /* enabled */
	uint32_t scan_targets, scan_window;    /* distinct targets within seconds */
	enum ww_crit lateral_min_crit;	       /* a clinical zone: at least this criticality */
	uint32_t flood_rate, flood_window;     /* denials a second from one source, over seconds */
	uint32_t max_sources;		       /* per-source entries kept (memory bound) */
	uint32_t cooldown;		       /* seconds before a detector alerts again for a source */
};
/* The defaults: every detector on; scan 20 targets in 60 s; lateral from "high"; flood 20/s over
 * 10 s; 4096 sources; cooldown 300 s. */
void ww_detect_cfg_default(struct ww_detect_cfg *c);
bool ww_detect_cfg_is_default(const struct ww_detect_cfg *c);

/* The "siem" section: where `wardwall serve` sends events and alerts (controller/report/siem.h,
 * docs/siem.md). Also what `serve --siem` and `alerts --siem` build from the command line. */
enum ww_siem_transport { WW_SIEM_UNIX, WW_SIEM_UDP, WW_SIEM_TCP, WW_SIEM_TLS };
enum ww_siem_format { WW_SIEM_SYSLOG, WW_SIEM_CEF, WW_SIEM_JSON };
#define WW_SIEM_OUTPUTS	  4	  /* outputs at most */
#define WW_SIEM_QUEUE	  10000	  /* messages queued per output, by default */
#define WW_SIEM_QUEUE_MAX 1000000 /* the largest queue one may ask for */
#define WW_SIEM_SDID	  "wardwall@32473" /* RFC 5424 SD-ID by default (32473: RFC 5612) */
#define WW_SIEM_SDID_LEN  33

struct ww_siem_out {
	char *to; /* as written: "tls://siem.example:6514", "unix:/dev/log" */
	enum ww_siem_transport transport;
	char *host, *port; /* udp, tcp, tls */
	char *path;	   /* unix */
	enum ww_siem_format format;
	bool events, alerts;	      /* what is sent ("send") */
	unsigned int facility;	      /* syslog facility code 0-23 */
	char sd_id[WW_SIEM_SDID_LEN]; /* syslog: the structured data element's SD-ID */
	char *ca, *cert, *key;	      /* tls: PEM files; NULL: system CAs, no client certificate */
	uint32_t queue;		      /* messages queued at most */
};
struct ww_siem_cfg {
	struct ww_siem_out *v;
	size_t n;
};
/* Sets o from a target "unix:PATH", "udp://HOST[:PORT]", "tcp://HOST[:PORT]" or
 * "tls://HOST[:PORT]" (IPv6 in brackets; ports by default 514, 514, 6514) and the defaults for
 * the rest (syslog, events and alerts, facility local0, WW_SIEM_SDID, WW_SIEM_QUEUE). Returns 0,
 * -EINVAL with the reason in why, or -ENOMEM. o is cleared with ww_siem_out_clear(). */
int ww_siem_out_init(struct ww_siem_out *o, const char *to, char *why, size_t whylen);
void ww_siem_out_clear(struct ww_siem_out *o);
void ww_siem_cfg_clear(struct ww_siem_cfg *c);
extern const char *const ww_siem_transport_names[]; /* "unix", "udp", "tcp", "tls" */
extern const char *const ww_siem_format_names[];    /* "syslog", "cef", "json" */
/* "local0" .. "local7", "kern", "user", ...: the RFC 5424 facility code, or -1. */
int ww_syslog_facility(const char *name);
const char *ww_syslog_facility_name(unsigned int code);

struct ww_policy {
	char *file; /* as given to the parser, for diagnostics */
	char *name;
	char *description;
	struct ww_defaults defaults;
	struct ww_zone *zones;
	size_t nzones;
	struct ww_service *svcs;
	size_t nsvcs;
	struct ww_flow *flows;
	size_t nflows;
	struct ww_invariant *invs;
	size_t ninvs;
	struct ww_group *groups; /* sorted by name */
	size_t ngroups;
	/* Derived services: "PROTO/NAME" ("tcp/ldap", named by that spelling) and the differences
	 * that flows' and invariants' "except" make; each allocated alone so flows may point at it.
	 * Never printed in the "services" section. */
	struct ww_service **narrowed;
	size_t nnarrowed;
	struct ww_probe *probes;
	size_t nprobes;
	struct ww_enforcement enf;
	struct ww_gateway *gws; /* by name; none: one enforcement point, as "enforcement" says */
	size_t ngws;
	struct ww_detect_cfg detect;
	struct ww_siem_cfg siem;
	size_t nhosts;         /* over all zones */
	struct ww_host **host_by_ep; /* index ep - nzones - 1 */
	struct ww_flow **flow_by_id; /* sorted by id, for ww_flow_find (NULL: it scans) */
	size_t nflow_by_id;
};

void ww_policy_free(struct ww_policy *p);
/* Frees what a zone owns (not the zone itself). */
void ww_zone_clear(struct ww_zone *z);

struct ww_zone *ww_zone_find(const struct ww_policy *p, const char *name);
struct ww_host *ww_host_find(const struct ww_zone *z, const char *name);
struct ww_service *ww_service_find(const struct ww_policy *p, const char *name);
struct ww_flow *ww_flow_find(const struct ww_policy *p, const char *id);
const struct ww_group *ww_group_find(const struct ww_policy *p, const char *name);
struct ww_gateway *ww_gateway_find(const struct ww_policy *p, const char *name);

static inline size_t ww_nendpoints(const struct ww_policy *p)
{
	return p->nzones + p->nhosts;
}
/* The zone of an endpoint id (a zone's own id, or its host's zone). */
const struct ww_zone *ww_ep_zone(const struct ww_policy *p, ww_ep_t ep);
/* "zone" or "zone/host" into buf of at least 2 * WW_NAME_MAX + 2 bytes. */
char *ww_ep_name(const struct ww_policy *p, ww_ep_t ep, char *buf);
#define WW_EP_STRLEN (2 * WW_NAME_MAX + 2)

bool ww_flow_active(const struct ww_flow *f, int64_t t);
/* The flow's effective log setting. */
enum ww_log ww_flow_log(const struct ww_policy *p, const struct ww_flow *f);

const char *ww_action_str(enum ww_action a);
/* A flow's action as written: "allow", "deny" or "reject". */
const char *ww_flow_action_str(const struct ww_flow *f);
const char *ww_crit_str(enum ww_crit c);
const char *ww_log_str(enum ww_log l);
/* "tcp", "icmpv6", "any", or the number. buf: at least 8 bytes. */
const char *ww_proto_str(int proto, char *buf);
/* Parses a protocol name or number 0-255; returns 0 or -EINVAL. */
int ww_proto_parse(const char *s, int *proto);

#endif
