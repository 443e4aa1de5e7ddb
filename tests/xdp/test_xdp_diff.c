// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential test of the XDP tier against the reference evaluator: random valid policies
 * (nested v4/v6 prefixes, host groups, services with ports, ranges and ICMP types, allow and
 * deny, monitor zones and flows, windows active or not), each compiled and installed as a
 * generation, then random packets run through the program (BPF_PROG_TEST_RUN). Every packet's
 * action must be the oracle's; a passed packet's connection entry must name the oracle's deciding
 * flow (or the default) and verdict; and at the end of each policy every flow and default counter
 * must have moved by what the oracle's decisions say. Connection-table hits never decide: each
 * packet has a fresh source port, and the entry a passed packet creates is deleted after it.
 *
 * Environment: WW_SEED (default: the time), WW_DIFF_POLICIES (40), WW_DIFF_PACKETS (packets per
 * policy, 300), WW_DIFF_ONLY (run only the policy with this index, to reproduce one),
 * WW_DIFF_TRACE=1 (print every packet's verdict). Run it under tests/xdp/sandbox.sh.
 */
#include "randgen.h"
#include "xdp.h"

#define MAX_SHOW	   8 /* mismatching packets printed per policy */
#define MAX_POLICIES_SHOWN 3

/* This network namespace's addresses (gateway mode passes packets to them as LOCAL). */
struct locals {
	int family[16];
	uint8_t a[16][16];
	size_t n;
};

static void locals_read(struct locals *l)
{
	struct ifaddrs *ifa = NULL;

	l->n = 0;
	if (getifaddrs(&ifa))
		return;
	for (struct ifaddrs *a = ifa; a && l->n < ARRAY_SIZE(l->a); a = a->ifa_next) {
		if (!a->ifa_addr)
			continue;
		memset(l->a[l->n], 0, 16);
		if (a->ifa_addr->sa_family == AF_INET) {
			l->family[l->n] = 4;
			memcpy(l->a[l->n++], &((struct sockaddr_in *)a->ifa_addr)->sin_addr, 4);
		} else if (a->ifa_addr->sa_family == AF_INET6) {
			l->family[l->n] = 6;
			memcpy(l->a[l->n++], &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
}

static bool is_local(const struct locals *l, const struct xpkt *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->family[i] == p->family && !memcmp(l->a[i], p->dst, p->family == 4 ? 4 : 16))
			return true;
	return false;
}

/* Does the program pass p without judging it (multicast, ND, this machine in gateway mode)? */
static bool unjudged(const struct ww_policy *pol, const struct locals *l, const struct xpkt *p)
{
	if (p->family == 4) {
		if ((p->dst[0] & 0xf0) == 0xe0 ||
		    (p->dst[0] == 255 && p->dst[1] == 255 && p->dst[2] == 255 && p->dst[3] == 255))
			return true;
	} else {
		if (p->dst[0] == 0xff || (p->dst[0] == 0xfe && (p->dst[1] & 0xc0) == 0x80))
			return true;
		if (p->proto == IPPROTO_ICMPV6 && p->type >= 133 && p->type <= 137)
			return true;
	}
	return pol->enf.mode != WW_HOST && is_local(l, p);
}

static void ct_key_of(const struct xpkt *p, struct ww_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p->family;
	k->proto = (uint8_t)p->proto;
	if (ww_proto_has_ports(p->proto)) {
		k->sport = p->sport;
		k->dport = p->dport;
	} else if (xt_is_icmp(p->proto) &&
		   (p->type == 8 || p->type == 0 || p->type == 128 || p->type == 129)) {
		k->sport = p->sport;
	}
	memcpy(k->src, p->src, p->family == 4 ? 4 : 16);
	memcpy(k->dst, p->dst, p->family == 4 ? 4 : 16);
}

/* ---- one policy ---- */

struct totals {
	uint64_t policies, packets, judged, unjudged, mismatches, counter_mismatches;
	uint64_t over_capacity, shown;
	uint64_t longest[WW_DLIST_MAX + 1]; /* policies by their longest decision list */
	uint64_t verdicts[3];
};

struct run {
	struct xt t;
	struct locals locals;
	uint64_t seed;
	long npolicies, npackets, only;
	bool trace; /* WW_DIFF_TRACE: every packet's verdict and observers */
	struct totals tot;
};

static uint64_t stat_delta(const uint64_t *a, const uint64_t *b, int s)
{
	return b[s] - a[s];
}

static void show_policy(struct run *r, const struct ww_policy *p, long idx, bool *shown)
{
	struct strbuf sb = {0};

	if (*shown)
		return;
	*shown = true;
	if (r->tot.shown++ >= MAX_POLICIES_SHOWN) {
		print_message(
		    "# policy %ld (WW_SEED=%llu WW_DIFF_ONLY=%ld): mismatches, not shown\n", idx,
		    (unsigned long long)r->seed, idx);
		return;
	}
	ww_policy_print_canonical(p, &sb);
	print_message("# policy %ld (reproduce: WW_SEED=%llu WW_DIFF_ONLY=%ld), canonical form:\n",
		      idx, (unsigned long long)r->seed, idx);
	xt_comment(sb_str(&sb));
	sb_free(&sb);
}

static uint32_t slot_of(struct run *r, const struct ww_flow *f)
{
	return f ? xt_flow_slot(&r->t, f->id) : WW_SLOT_DEFAULT;
}

/* Runs policy idx; returns 0 or -errno when the harness itself failed. */
static int run_policy(struct run *r, long idx)
{
	struct gen g = {.r = {r->seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(idx + 1))}};
	struct ww_policy *p = NULL;
	struct strbuf err = {0};
	uint64_t *want_flow = NULL, *want_dflt = NULL, *base_flow = NULL, *base_dflt = NULL;
	uint64_t s0[WW_S_MAX], s1[WW_S_MAX], nlocal = 0;
	bool shown = false;
	size_t nz;
	char *json;
	int e;

	g.now = time(NULL);
	rnd(&g.r);
	json = gen_policy(&g);
	e = xt_parse("diff.json", json, &p, &err);
	if (e) {
		print_message("# policy %ld: the generator made an invalid policy:\n", idx);
		xt_comment(json);
		xt_comment(sb_str(&err));
		goto out;
	}
	struct xt_gen gi;
	e = xt_install(&r->t, p, &gi, &err);
	if (e == -E2BIG) { /* more than WW_DLIST_MAX flows overlap: the compiler says so */
		r->tot.over_capacity++;
		e = 0;
		goto out;
	}
	if (e) {
		print_message("# policy %ld: installing: %s\n", idx, strerror(-e));
		xt_comment(sb_str(&err));
		goto out;
	}
	r->tot.policies++;
	r->tot.longest[gi.longest <= WW_DLIST_MAX ? gi.longest : 0]++;
	nz = p->nzones + 1;
	want_flow = calloc(p->nflows + 1, sizeof(*want_flow));
	base_flow = calloc(p->nflows + 1, sizeof(*base_flow));
	want_dflt = calloc(nz * nz, sizeof(*want_dflt));
	base_dflt = calloc(nz * nz, sizeof(*base_dflt));
	if (!want_flow || !base_flow || !want_dflt || !base_dflt) {
		e = -ENOMEM;
		goto out;
	}
	xt_ct_clear(&r->t);
	for (size_t i = 0; i < p->nflows; i++)
		base_flow[i] = xt_flow_packets(&r->t, p->flows[i].id);
	for (size_t a = 0; a < nz; a++)
		for (size_t b = 0; b < nz; b++)
			base_dflt[a * nz + b] =
			    xt_default_packets(&r->t, a ? p->zones[a - 1].name : NULL,
					       b ? p->zones[b - 1].name : NULL);
	xt_stats(&r->t, s0);
	for (long n = 0; n < r->npackets; n++) {
		uint8_t buf[XT_FRAME_MAX];
		struct xpkt pk;
		struct ww_packet k;
		struct ww_verdict v;
		struct ww_ct_key ck;
		struct ww_ct_val cv;
		uint32_t action = 0, want;
		struct strbuf why = {0}, trace = {0};
		bool have_ct;

		rnd_packet(&g, &pk);
		size_t len = xpkt_build(&pk, buf);
		e = xt_run(&r->t, buf, len, &action);
		if (e) {
			print_message("# BPF_PROG_TEST_RUN: %s\n", strerror(-e));
			goto out;
		}
		r->tot.packets++;
		ct_key_of(&pk, &ck);
		have_ct = !bpf_map_lookup_elem(r->t.ct, &ck, &cv);
		if (have_ct)
			bpf_map_delete_elem(r->t.ct, &ck);
		if (unjudged(p, &r->locals, &pk)) {
			r->tot.unjudged++;
			nlocal++;
			if (action != XDP_PASS || have_ct)
				sb_addf(&why, "not for the policy: %s%s, expected PASS",
					xt_action_str(action), have_ct ? " with a connection" : "");
		} else {
			r->tot.judged++;
			k = xpkt_oracle(&pk, time(NULL));
			ww_evaluate(p, &k, &v);
			r->tot.verdicts[v.kind]++;
			want = xt_action_of(v.kind);
			if (action != want)
				sb_addf(&why, "XDP %s, the oracle %s (%s)", xt_action_str(action),
					ww_verdict_str(v.kind),
					v.flow ? v.flow->id : "the default");
			else if (action == XDP_PASS && !have_ct)
				sb_add(&why, "passed without a connection entry");
			else if (action == XDP_PASS &&
				 (cv.slot != slot_of(r, v.flow) ||
				  cv.verdict !=
				      (v.kind == WW_V_ALLOW ? WW_XV_ALLOW : WW_XV_MONITOR)))
				sb_addf(&why,
					"connection entry slot %u verdict %u, the oracle %s by %s "
					"(slot %u)",
					cv.slot, cv.verdict, ww_verdict_str(v.kind),
					v.flow ? v.flow->id : "the default", slot_of(r, v.flow));
			/* What the counters must show at the end. */
			if (v.flow)
				want_flow[v.flow->index]++;
			else
				want_dflt[(v.src.zone ? v.src.zone->ep : 0) * nz +
					  (v.dst.zone ? v.dst.zone->ep : 0)]++;
			for (size_t i = 0; i < p->nflows && !(v.kind == WW_V_DENY && v.flow); i++) {
				const struct ww_flow *f = &p->flows[i];
				if (ww_flow_active(f, k.at) &&
				    ww_flow_matches(f, &v.src, &v.dst, k.proto, k.key) &&
				    ww_flow_rank(f, v.src.zone, v.dst.zone) == WW_RANK_MONITOR) {
					want_flow[i]++;
					if (r->trace)
						sb_addf(&trace, " observed by %s", f->id);
				}
			}
			if (r->trace) {
				struct strbuf ps = {0};
				xpkt_str(&pk, &ps);
				print_message("# packet %ld: %s: %s by %s%s\n", n, sb_str(&ps),
					      ww_verdict_str(v.kind),
					      v.flow ? v.flow->id : "default", sb_str(&trace));
				sb_free(&ps);
			}
		}
		if (why.len) {
			struct strbuf ps = {0};
			xpkt_str(&pk, &ps);
			show_policy(r, p, idx, &shown);
			if (r->tot.mismatches < MAX_SHOW * MAX_POLICIES_SHOWN)
				print_message("# mismatch, policy %ld packet %ld: %s: %s\n", idx, n,
					      sb_str(&ps), sb_str(&why));
			r->tot.mismatches++;
			sb_free(&ps);
		}
		sb_free(&why);
		sb_free(&trace);
	}
	xt_stats(&r->t, s1);
	/* Zones are numbered by name: z0 is ep 1, as p->zones[0]. */
	for (size_t i = 0; i < p->nflows; i++) {
		uint64_t got = xt_flow_packets(&r->t, p->flows[i].id) - base_flow[i];
		if (got != want_flow[i]) {
			show_policy(r, p, idx, &shown);
			print_message(
			    "# counters, policy %ld: flow %s counted %llu, expected %llu\n", idx,
			    p->flows[i].id, (unsigned long long)got,
			    (unsigned long long)want_flow[i]);
			r->tot.counter_mismatches++;
		}
	}
	for (size_t a = 0; a < nz; a++)
		for (size_t b = 0; b < nz; b++) {
			const char *zs = a ? p->zones[a - 1].name : NULL;
			const char *zd = b ? p->zones[b - 1].name : NULL;
			uint64_t got = xt_default_packets(&r->t, zs, zd) - base_dflt[a * nz + b];
			if (got != want_dflt[a * nz + b]) {
				show_policy(r, p, idx, &shown);
				print_message(
				    "# counters, policy %ld: default %s -> %s counted %llu, "
				    "expected %llu\n",
				    idx, zs ? zs : "-", zd ? zd : "-", (unsigned long long)got,
				    (unsigned long long)want_dflt[a * nz + b]);
				r->tot.counter_mismatches++;
			}
		}
	if (stat_delta(s0, s1, WW_S_LOCAL) != nlocal || stat_delta(s0, s1, WW_S_CT_HIT) ||
	    stat_delta(s0, s1, WW_S_RELATED) || stat_delta(s0, s1, WW_S_TRUNCATED) ||
	    stat_delta(s0, s1, WW_S_MALFORMED) || stat_delta(s0, s1, WW_S_FRAGMENT)) {
		show_policy(r, p, idx, &shown);
		print_message("# counters, policy %ld: LOCAL %llu (expected %llu), CT_HIT %llu, "
			      "RELATED %llu, TRUNCATED %llu, MALFORMED %llu, FRAGMENT %llu "
			      "(expected 0)\n",
			      idx, (unsigned long long)stat_delta(s0, s1, WW_S_LOCAL),
			      (unsigned long long)nlocal,
			      (unsigned long long)stat_delta(s0, s1, WW_S_CT_HIT),
			      (unsigned long long)stat_delta(s0, s1, WW_S_RELATED),
			      (unsigned long long)stat_delta(s0, s1, WW_S_TRUNCATED),
			      (unsigned long long)stat_delta(s0, s1, WW_S_MALFORMED),
			      (unsigned long long)stat_delta(s0, s1, WW_S_FRAGMENT));
		r->tot.counter_mismatches++;
	}
out:
	free(want_flow);
	free(base_flow);
	free(want_dflt);
	free(base_dflt);
	ww_policy_free(p);
	free(json);
	sb_free(&err);
	return e;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 10);
	return *end ? def : v;
}

static void test_differential(void **state)
{
	struct run r = {0};
	struct strbuf err = {0};
	const char *seed = getenv("WW_SEED");
	double t0 = xt_secs();
	int e = 0;

	r.seed = seed && *seed ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
	r.npolicies = env_long("WW_DIFF_POLICIES", 40);
	r.npackets = env_long("WW_DIFF_PACKETS", 300);
	r.only = env_long("WW_DIFF_ONLY", -1);
	r.trace = env_long("WW_DIFF_TRACE", 0) > 0;
	print_message("# WW_SEED=%llu\n", (unsigned long long)r.seed);
	locals_read(&r.locals);
	if (xt_open(&r.t, &err)) {
		xt_comment(sb_str(&err));
		sb_free(&err);
		fail();
	}
	for (long i = 0; i < r.npolicies && !e; i++)
		if (r.only < 0 || r.only == i)
			e = run_policy(&r, i);
	xt_close(&r.t);
	print_message("# %llu policies (%llu more over XDP capacity, skipped), %llu packets (%llu "
		      "judged: %llu allow, %llu deny, %llu monitor; %llu not for the policy), "
		      "%llu mismatches, %llu counter mismatches, %.1f s, WW_SEED=%llu\n",
		      (unsigned long long)r.tot.policies, (unsigned long long)r.tot.over_capacity,
		      (unsigned long long)r.tot.packets, (unsigned long long)r.tot.judged,
		      (unsigned long long)r.tot.verdicts[WW_V_ALLOW],
		      (unsigned long long)r.tot.verdicts[WW_V_DENY],
		      (unsigned long long)r.tot.verdicts[WW_V_MONITOR],
		      (unsigned long long)r.tot.unjudged, (unsigned long long)r.tot.mismatches,
		      (unsigned long long)r.tot.counter_mismatches, xt_secs() - t0,
		      (unsigned long long)r.seed);
	struct strbuf lb = {0};
	for (int i = 1; i <= WW_DLIST_MAX; i++)
		sb_addf(&lb, " %d: %llu", i, (unsigned long long)r.tot.longest[i]);
	print_message("# policies by their longest decision list (entries: policies):%s\n",
		      sb_str(&lb));
	sb_free(&lb);
	assert_int_equal(e, 0);
	assert_int_equal(r.tot.mismatches, 0);
	assert_int_equal(r.tot.counter_mismatches, 0);
	assert_true(r.tot.judged > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
