// SPDX-License-Identifier: GPL-2.0-only
#include "events.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nft_compile.h"

#include "nft_compile.h"
#include "eval.h"
#include "state.h"

char *ww_time_ms_str(int64_t ns, char *buf)
{
	/* Floor division: a time before 1970 (a ring record's 64-bit stamp read as signed) is
	 * still seconds and milliseconds 0-999, never ".-987Z" (found by fuzz_events). */
	int64_t sec = ns / 1000000000LL, rem = ns % 1000000000LL;
	if (rem < 0) {
		sec--;
		rem += 1000000000LL;
	}
	time_t s = (time_t)sec;
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&s, &tm))
		n = strftime(buf, WW_TIME_MS_STRLEN, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n) /* beyond what the calendar functions print */
		n = (size_t)snprintf(buf, WW_TIME_MS_STRLEN, "0000-01-01T00:00:00");
	snprintf(buf + n, WW_TIME_MS_STRLEN - n, ".%03dZ", (int)(rem / 1000000LL));
	return buf;
}

/* ---- names ---- */

static int slot_cmp(const void *a, const void *b)
{
	const struct ww_slot_name *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Every (name, slot) of a pinned registry (key: NUL-padded name, value: u32 slot). */
static int read_registry(int fd, struct ww_slot_name **out, size_t *n)
{
	char key[WW_FLOW_ID_LEN], next[WW_FLOW_ID_LEN];
	struct ww_slot_name *v = NULL;
	size_t cap = 0;
	void *prev = NULL;

	*n = 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		struct ww_slot_name s = {0};
		memcpy(key, next, sizeof(key));
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &s.slot))
			continue; /* deleted while we walked */
		memcpy(s.name, key, sizeof(s.name));
		s.name[sizeof(s.name) - 1] = '\0';
		if (VEC_PUSH(v, *n, cap, s)) {
			free(v);
			*n = 0;
			return -ENOMEM;
		}
	}
	qsort(v, *n, sizeof(*v), slot_cmp);
	*out = v;
	return 0;
}

int ww_lognames_refresh(struct ww_lognames *n, const char *state_dir, struct ww_xdp *x)
{
	struct strbuf err = {0};
	struct ww_state *st;
	struct ww_generation gen = {0};

	if (!ww_state_open(state_dir, false, &st, &err)) {
		ww_state_current(st, &gen);
		if (gen.gen != n->gen || (gen.gen && !n->policy)) {
			struct ww_diags d = {.file = "generation"};
			ww_policy_free(n->policy);
			n->policy = NULL;
			n->gen = gen.gen;
			if (gen.gen)
				ww_state_policy(st, gen.gen, &n->policy, &d);
			ww_diags_free(&d);
		}
		ww_state_close(st);
	}
	sb_free(&err);
	if (!x)
		return 0;
	int ffd = ww_xdp_fd(x, "ww_flow_slots"), zfd = ww_xdp_fd(x, "ww_zone_slots");
	struct ww_slot_name *flows = NULL, *zones = NULL;
	size_t nf = 0, nz = 0;
	int e = ffd < 0 ? ffd : read_registry(ffd, &flows, &nf);
	if (!e)
		e = zfd < 0 ? zfd : read_registry(zfd, &zones, &nz);
	if (e) {
		free(flows);
		free(zones);
		return e;
	}
	free(n->flows);
	n->flows = flows;
	n->nflows = nf;
	memset(n->zones, 0, sizeof(n->zones));
	for (size_t i = 0; i < nz; i++)
		if (zones[i].slot < WW_ZONE_SLOTS)
			memcpy(n->zones[zones[i].slot], zones[i].name, WW_FLOW_ID_LEN);
	free(zones);
	return 0;
}

void ww_lognames_free(struct ww_lognames *n)
{
	ww_policy_free(n->policy);
	free(n->flows);
	memset(n, 0, sizeof(*n));
}

/*
 * A name from the kernel (a log prefix, a slot registry) into a record: at most n bytes, control
 * characters as '?', so that a text record stays one line whatever a rule's prefix holds.
 */
static void name_copy(char *dst, size_t size, const char *src, size_t n)
{
	size_t i = 0;

	for (; i + 1 < size && i < n && src[i]; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

/* The zone and host group of an address, by the policy. */
static void classify(const struct ww_lognames *n, const struct ww_tuple *t, int side,
		     struct ww_logrec *r)
{
	struct ww_addr a = {.family = t->family};
	struct ww_class c;

	a.v = ww_addr_from_bytes(t->family, side ? t->dst : t->src);
	ww_classify(n->policy, &a, &c);
	snprintf(r->zone[side], sizeof(r->zone[side]), "%s", c.zone ? c.zone->name : "-");
	if (c.host)
		snprintf(r->host[side], sizeof(r->host[side]), "%s/%s", c.zone->name, c.host->name);
}

static void ifname(uint32_t index, char *out)
{
	if (!index || !if_indextoname(index, out))
		out[0] = '\0';
}

bool ww_logrec_from_nflog(const struct ww_lognames *n, const struct ww_nflog_msg *m,
			  struct ww_logrec *r)
{
	static const char *const verdicts[] = {"allow", "deny", "monitor"};
	const char *p = m->prefix, *colon;

	if (strncmp(p, WW_NFT_LOG_TAG, strlen(WW_NFT_LOG_TAG)))
		return false;
	p += strlen(WW_NFT_LOG_TAG);
	colon = strchr(p, ':');
	if (!colon)
		return false;
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < ARRAY_SIZE(verdicts); i++)
		if (strlen(verdicts[i]) == (size_t)(colon - p) &&
		    !strncmp(p, verdicts[i], colon - p))
			r->verdict = verdicts[i];
	if (!r->verdict)
		return false;
	r->time_ns = m->time_ns;
	r->tier = WW_TIER_NFT;
	r->t = m->t;
	const char *counter = colon + 1;
	const char *fp = WW_NFT_FLOW_PREFIX, *dp = WW_NFT_DEFAULT_PREFIX;
	char dz[2][WW_FLOW_ID_LEN] = {"?", "?"};
	if (!strncmp(counter, fp, strlen(fp))) {
		name_copy(r->flow, sizeof(r->flow), counter + strlen(fp), SIZE_MAX);
	} else if (!strncmp(counter, dp, strlen(dp))) {
		/* "default/<src>/<dst>": the zones are in the name, should there be no policy. */
		const char *a = counter + strlen(dp), *slash = strchr(a, '/');
		snprintf(r->flow, sizeof(r->flow), "default");
		if (slash) {
			name_copy(dz[0], sizeof(dz[0]), a, (size_t)(slash - a));
			name_copy(dz[1], sizeof(dz[1]), slash + 1, SIZE_MAX);
		}
	} else if (!strncmp(counter, "quarantine/", 11)) {
		/* The quarantine overlay's drops (docs/incident.md): "quarantine/q<id>". */
		name_copy(r->flow, sizeof(r->flow), counter, SIZE_MAX);
	} else {
		snprintf(r->flow, sizeof(r->flow), "?");
	}
	for (int side = 0; side < 2; side++) {
		if (n->policy && r->t.family)
			classify(n, &r->t, side, r);
		else
			memcpy(r->zone[side], dz[side], sizeof(dz[side]));
	}
	ifname(m->indev, r->ifname[0]);
	ifname(m->outdev, r->ifname[1]);
	return true;
}

static const char *flow_of_slot(const struct ww_lognames *n, uint32_t slot)
{
	struct ww_slot_name key = {.slot = slot};
	const struct ww_slot_name *s =
	    n->nflows ? bsearch(&key, n->flows, n->nflows, sizeof(key), slot_cmp) : NULL;

	return s ? s->name : NULL;
}

bool ww_logrec_from_xdp(const struct ww_lognames *n, const struct ww_event *e, struct ww_logrec *r)
{
	static const char *const verdicts[] = {
	    [WW_XV_ALLOW] = "allow", [WW_XV_DENY] = "deny", [WW_XV_MONITOR] = "monitor"};
	uint16_t zs[2] = {e->zone_src, e->zone_dst};
	bool known = true;

	memset(r, 0, sizeof(*r));
	r->time_ns = (int64_t)e->time_ns;
	r->tier = WW_TIER_XDP;
	r->verdict = e->verdict < ARRAY_SIZE(verdicts) ? verdicts[e->verdict] : "?";
	if (e->slot == WW_SLOT_DEFAULT) {
		snprintf(r->flow, sizeof(r->flow), "default");
	} else if ((e->slot & WW_SLOT_QUARANTINE) == WW_SLOT_QUARANTINE) {
		/* A quarantine's drop: named as the nftables overlay logs it. */
		snprintf(r->flow, sizeof(r->flow), "quarantine/q%u", e->slot & ~WW_SLOT_QUARANTINE);
	} else {
		const char *id = flow_of_slot(n, e->slot);
		name_copy(r->flow, sizeof(r->flow), id ? id : "?", SIZE_MAX);
		known &= id != NULL;
	}
	r->t.family = e->family;
	r->t.proto = e->proto;
	memcpy(r->t.src, e->src, 16);
	memcpy(r->t.dst, e->dst, 16);
	if (e->proto == IPPROTO_ICMP || e->proto == IPPROTO_ICMPV6) {
		r->t.icmp = true;
		r->t.type = (uint8_t)(e->dport >> 8);
		r->t.code = (uint8_t)e->dport;
	} else if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP || e->proto == IPPROTO_SCTP) {
		r->t.ports = true;
		r->t.sport = e->sport;
		r->t.dport = e->dport;
	}
	for (int side = 0; side < 2; side++) {
		const char *z = NULL;
		if (zs[side] == 0)
			z = "-";
		else if (zs[side] < WW_ZONE_SLOTS && n->zones[zs[side]][0])
			z = n->zones[zs[side]];
		name_copy(r->zone[side], sizeof(r->zone[side]), z ? z : "?", SIZE_MAX);
		known &= z != NULL;
		/* The host group by the policy, when it agrees with the kernel about the zone. */
		if (n->policy && (e->family == 4 || e->family == 6)) {
			struct ww_logrec c = {0};
			classify(n, &r->t, side, &c);
			if (!strcmp(c.zone[side], r->zone[side]))
				memcpy(r->host[side], c.host[side], sizeof(c.host[side]));
		}
	}
	ifname(e->ifindex, r->ifname[0]);
	return known;
}

bool ww_logrec_has_zone(const struct ww_logrec *r, const char *z)
{
	return !strcmp(r->zone[0], z) || !strcmp(r->zone[1], z);
}

/* ---- printing ---- */

static void addr_str(const struct ww_tuple *t, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(t->family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void json_str_or_null(struct strbuf *out, const char *key, const char *v)
{
	sb_addf(out, ", \"%s\": ", key);
	if (v && *v)
		sb_add_json_str(out, v);
	else
		sb_add(out, "null");
}

void ww_logrec_print(const struct ww_logrec *r, bool json, struct strbuf *out)
{
	static const char *const tiers[] = {"nftables", "xdp"};
	char tb[WW_TIME_MS_STRLEN], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[8];
	const struct ww_tuple *t = &r->t;
	const char *proto = t->family ? ww_proto_str(t->proto, pb) : "?";

	addr_str(t, t->src, a, sizeof(a));
	addr_str(t, t->dst, b, sizeof(b));
	if (json) {
		sb_addf(out,
			"{\"type\": \"event\", \"time\": \"%s\", \"tier\": \"%s\", "
			"\"verdict\": \"%s\", \"flow\": ",
			ww_time_ms_str(r->time_ns, tb), tiers[r->tier], r->verdict);
		sb_add_json_str(out, r->flow);
		json_str_or_null(out, "src_zone", r->zone[0]);
		json_str_or_null(out, "dst_zone", r->zone[1]);
		json_str_or_null(out, "src_host", r->host[0]);
		json_str_or_null(out, "dst_host", r->host[1]);
		sb_addf(out, ", \"proto\": \"%s\"", proto);
		json_str_or_null(out, "src", t->family ? a : NULL);
		json_str_or_null(out, "dst", t->family ? b : NULL);
		if (t->ports)
			sb_addf(out, ", \"sport\": %u, \"dport\": %u", t->sport, t->dport);
		if (t->icmp)
			sb_addf(out, ", \"icmp_type\": %u, \"icmp_code\": %u", t->type, t->code);
		json_str_or_null(out, "in", r->ifname[0]);
		json_str_or_null(out, "out", r->ifname[1]);
		sb_add(out, "}\n");
		return;
	}
	/* An endpoint reads as its host group when it has one ("ehr/his-app"), else its zone. */
	sb_addf(out, "%s %-8s %-7s %s %s -> %s %s ", ww_time_ms_str(r->time_ns, tb), tiers[r->tier],
		r->verdict, r->flow, r->host[0][0] ? r->host[0] : r->zone[0],
		r->host[1][0] ? r->host[1] : r->zone[1], proto);
	if (!t->family)
		sb_add(out, "(not an IP packet)");
	else if (t->ports && t->family == 6)
		sb_addf(out, "[%s]:%u -> [%s]:%u", a, t->sport, b, t->dport);
	else if (t->ports)
		sb_addf(out, "%s:%u -> %s:%u", a, t->sport, b, t->dport);
	else if (t->icmp)
		sb_addf(out, "%s -> %s type %u code %u", a, b, t->type, t->code);
	else
		sb_addf(out, "%s -> %s", a, b);
	if (r->ifname[1][0])
		sb_addf(out, " (%s -> %s)", r->ifname[0][0] ? r->ifname[0] : "-", r->ifname[1]);
	else if (r->ifname[0][0])
		sb_addf(out, " (in %s)", r->ifname[0]);
	sb_add(out, "\n");
}

void ww_logdrops_print(const struct ww_logdrops *d, bool json, struct strbuf *out)
{
	static const char *const tiers[] = {"nftables", "xdp"};
	char tb[WW_TIME_MS_STRLEN];

	ww_time_ms_str(d->time_ns, tb);
	if (json) {
		sb_addf(out,
			"{\"type\": \"dropped\", \"time\": \"%s\", \"tier\": \"%s\", "
			"\"interval\": %u, \"rate_limited\": %llu",
			tb, tiers[d->tier], d->interval, (unsigned long long)d->rate_limited);
		if (d->tier == WW_TIER_XDP)
			sb_addf(out, ", \"ring_full\": %llu", (unsigned long long)d->ring_full);
		if (d->tier == WW_TIER_NFT) {
			sb_addf(out, ", \"overflow\": %s, \"counters\": {",
				d->overflow ? "true" : "false");
			for (size_t i = 0; i < d->nby; i++) {
				sb_add(out, i ? ", " : "");
				sb_add_json_str(out, d->by_counter[i].counter);
				sb_addf(out, ": %llu", (unsigned long long)d->by_counter[i].n);
			}
			sb_add(out, "}");
		}
		sb_add(out, ", \"zones\": {");
		for (size_t i = 0; i < d->nbz; i++) {
			sb_add(out, i ? ", " : "");
			sb_add_json_str(out, d->by_zone[i].counter);
			sb_addf(out, ": %llu", (unsigned long long)d->by_zone[i].n);
		}
		sb_add(out, "}}\n");
		return;
	}
	sb_addf(out, "%s %-8s dropped %llu event%s in the last %u s: ", tb, tiers[d->tier],
		(unsigned long long)(d->rate_limited + d->ring_full),
		d->rate_limited + d->ring_full == 1 ? "" : "s", d->interval);
	if (d->tier == WW_TIER_XDP) {
		sb_addf(out, "%llu over the rate limit, %llu with the ring buffer full",
			(unsigned long long)d->rate_limited, (unsigned long long)d->ring_full);
	} else {
		sb_add(out, d->overflow ? "over the rate limit or lost to a full receive buffer ("
					: "over the rate limit (");
		for (size_t i = 0; i < d->nby; i++)
			sb_addf(out, "%s%s %llu", i ? ", " : "", d->by_counter[i].counter,
				(unsigned long long)d->by_counter[i].n);
		sb_add(out, ")");
	}
	for (size_t i = 0; i < d->nbz; i++)
		sb_addf(out, "%s%s %llu", i ? ", " : "; over the budget of source zone ",
			d->by_zone[i].counter, (unsigned long long)d->by_zone[i].n);
	sb_add(out, "\n");
}

int ww_logdrops_add_zone(struct ww_logdrops *d, const char *zone, uint64_t n)
{
	for (size_t i = 0; i < d->nbz; i++)
		if (!strcmp(d->by_zone[i].counter, zone)) {
			d->by_zone[i].n += n;
			return 0;
		}
	struct ww_logdrop_counter z = {.counter = strdup(zone), .n = n};
	if (!z.counter || VEC_PUSH(d->by_zone, d->nbz, d->bzcap, z)) {
		free(z.counter);
		return -ENOMEM;
	}
	return 0;
}

static int by_counter_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_logdrop_counter *)a)->counter,
		      ((const struct ww_logdrop_counter *)b)->counter);
}

void ww_logdrops_sort_zones(struct ww_logdrops *d)
{
	if (d->nbz)
		qsort(d->by_zone, d->nbz, sizeof(*d->by_zone), by_counter_cmp);
}

void ww_logdrops_clear(struct ww_logdrops *d)
{
	for (size_t i = 0; i < d->nby; i++)
		free(d->by_counter[i].counter);
	free(d->by_counter);
	for (size_t i = 0; i < d->nbz; i++)
		free(d->by_zone[i].counter);
	free(d->by_zone);
	memset(d, 0, sizeof(*d));
}

/* ---- the nftables estimate ---- */

struct ww_logacct_entry {
	char *counter;
	bool based; /* base holds the counter at the first reading */
	bool seen;  /* in the last reading */
	uint64_t base, last;
	uint64_t received; /* messages since the base */
	uint64_t reported; /* not logged, already reported */
};

static struct ww_logacct_entry *entry(struct ww_logacct *a, const char *counter)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].counter, counter))
			return &a->v[i];
	struct ww_logacct_entry e = {.counter = strdup(counter)};
	if (!e.counter || VEC_PUSH(a->v, a->n, a->cap, e)) {
		free(e.counter);
		return NULL;
	}
	return &a->v[a->n - 1];
}

void ww_logacct_received(struct ww_logacct *a, const char *counter)
{
	struct ww_logacct_entry *e = entry(a, counter);

	if (e)
		e->received++;
}

int ww_nft_log_group(const struct nfr_table *live)
{
	for (size_t c = 0; live && c < live->nchains; c++)
		for (size_t r = 0; r < live->chains[c].nrules; r++)
			if (live->chains[c].rules[r].log_prefix)
				return live->chains[c].rules[r].log_group;
	return -1;
}

/* A counter and the source zone whose log budget (nft_compile.h, WW_NFT_LOG_LIMIT_FMT) a
 * logging rule counting in it spends. */
struct budget_use {
	const char *counter;
	char zone[WW_FLOW_ID_LEN];
};

static int budget_use_cmp(const void *a, const void *b)
{
	const struct budget_use *x = a, *y = b;
	int c = strcmp(x->counter, y->counter);

	return c ? c : strcmp(x->zone, y->zone);
}

/* The budgets the logging rules of live (group) spend, sorted by counter: *out, *n. */
static int budget_uses(const struct nfr_table *live, uint16_t group, struct budget_use **out,
		       size_t *n)
{
	size_t cap = 0, plen = strlen(WW_NFT_LOG_LIMIT_PREFIX);

	*out = NULL;
	*n = 0;
	for (size_t c = 0; live && c < live->nchains; c++)
		for (size_t i = 0; i < live->chains[c].nrules; i++) {
			const struct nfr_rule *r = &live->chains[c].rules[i];
			if (!r->counter || !r->log_prefix || r->log_group != group || !r->limit ||
			    strncmp(r->limit, WW_NFT_LOG_LIMIT_PREFIX, plen))
				continue;
			struct budget_use u = {.counter = r->counter};
			const char *z = r->limit + plen, *end = strchr(z, '/');
			snprintf(u.zone, sizeof(u.zone), "%.*s", (int)(end ? end - z : 0), z);
			if (VEC_PUSH(*out, *n, cap, u))
				return -ENOMEM;
		}
	if (*n)
		qsort(*out, *n, sizeof(**out), budget_use_cmp);
	return 0;
}

/* The zone whose budget counter's logging rules spend: "*" for several, "?" for none known. */
static const char *budget_zone(const struct budget_use *u, size_t n, const char *counter)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first entry of counter */
		size_t mid = (lo + hi) / 2;
		if (strcmp(u[mid].counter, counter) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || strcmp(u[lo].counter, counter) || !u[lo].zone[0])
		return "?";
	for (size_t i = lo + 1; i < n && !strcmp(u[i].counter, counter); i++)
		if (strcmp(u[i].zone, u[lo].zone))
			return "*";
	return u[lo].zone;
}

int ww_logacct_tick(struct ww_logacct *a, const struct nfr_table *live, uint16_t group,
		    struct ww_logdrops *d)
{
	struct budget_use *uses = NULL;
	size_t nuses = 0;
	struct strset logged = {0}, unlogged = {0};
	size_t cap = 0;
	int e = 0;

	for (size_t i = 0; i < a->n; i++)
		a->v[i].seen = false;
	/* Counters of logging rules; a counter some rule uses without logging is not comparable. */
	for (size_t c = 0; live && c < live->nchains && !e; c++)
		for (size_t i = 0; i < live->chains[c].nrules && !e; i++) {
			const struct nfr_rule *r = &live->chains[c].rules[i];
			if (!r->counter)
				continue;
			bool logs = r->log_prefix && r->log_group == group;
			e = strset_add(logs ? &logged : &unlogged, r->counter);
			e = e < 0 ? e : 0;
		}
	for (size_t i = 0; live && i < live->ncounters && !e; i++) {
		const struct nfr_counter *n = &live->counters[i];
		if (!strset_has(&logged, n->name) || strset_has(&unlogged, n->name))
			continue;
		struct ww_logacct_entry *x = entry(a, n->name);
		if (!x) {
			e = -ENOMEM;
			break;
		}
		x->seen = true;
		/* First sight, or the counter was deleted and made again: start over. */
		if (!x->based || n->packets < x->last) {
			*x = (struct ww_logacct_entry){.counter = x->counter,
						       .based = true,
						       .seen = true,
						       .base = n->packets,
						       .last = n->packets};
			continue;
		}
		x->last = n->packets;
		uint64_t counted = n->packets - x->base;
		uint64_t missing = counted > x->received ? counted - x->received : 0;
		if (missing <= x->reported)
			continue;
		struct ww_logdrop_counter bc = {.counter = strdup(n->name),
						.n = missing - x->reported};
		if (!bc.counter || VEC_PUSH(d->by_counter, d->nby, cap, bc)) {
			free(bc.counter);
			e = -ENOMEM;
			break;
		}
		d->rate_limited += bc.n;
		x->reported = missing;
		if (!uses && !nuses && (e = budget_uses(live, group, &uses, &nuses)))
			break;
		if ((e = ww_logdrops_add_zone(d, budget_zone(uses, nuses, n->name), bc.n)))
			break;
	}
	/* A counter gone (or not logging any more) starts over if it comes back; messages for a
	 * counter not read yet count from its baseline on. */
	for (size_t i = 0; i < a->n; i++)
		if (!a->v[i].seen)
			a->v[i].based = false, a->v[i].received = 0;
	strset_free(&logged);
	strset_free(&unlogged);
	free(uses);
	if (d->nby)
		qsort(d->by_counter, d->nby, sizeof(*d->by_counter), by_counter_cmp);
	ww_logdrops_sort_zones(d);
	return e;
}

void ww_logacct_free(struct ww_logacct *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].counter);
	free(a->v);
	memset(a, 0, sizeof(*a));
}
