// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft_compile.c against the reference evaluator, without the kernel: each policy is compiled
 * with ww_compile_nft, random packets are walked through the table by a model of nf_tables
 * (nfr_eval.h) and the verdict and counters compared with what ww_evaluate (eval.h, `wardwall
 * query`) decides. The policies: the examples (every policies/NAME.json), random small policies
 * (the XDP differential test's generator, tests/xdp/randgen.h: nested zones and host groups,
 * monitor zones and flows, windows, rejects, all three modes; half of them with mark bits of
 * their own), and with WW_MODEL_POLICIES (files separated by ':', as suite 21-nft-model passes
 * tests/bench/genpolicy.py's) those instead.
 *
 * A packet is drawn around the policy: its source and destination from every zone's and host
 * group's networks (their first and last address, one past either end, anywhere inside), now and
 * then anywhere; tcp, udp, sctp, ICMP in its family, or another protocol; the port or type at the
 * edges of the policy's terms or anywhere; the time now or at a flow's window's edge.
 *
 * Compared: accept exactly when the reference allows (monitor is allow); the last counter the
 * packet moves is the decider's ("flow/<id>", or the default's "default/<src>/<dst>" named as
 * nft_compile.h says); any other counter is a monitor-mode flow that matches the packet, and the
 * reference's monitor flow is among them. A mismatch prints the packet, the chains it took and
 * both answers. Environment: WW_SEED (default: the time), WW_MODEL_PACKETS (packets per random
 * policy, 150), WW_MODEL_RANDOM (random policies, 1500), WW_MODEL_ONLY (only
 * random policy N: a mismatch names it).
 */
#include <glob.h>
#include <time.h>

#include "unit.h"

#include "../xdp/randgen.h"
#include "classmark.h"
#include "nfr_eval.h"
#include "nft_bridge.h"
#include "nft_compile.h"

#define MAX_SHOWN 5 /* mismatches printed per policy */

struct pool {
	struct ww_prefix *pfx; /* every zone's and host group's networks */
	size_t npfx, pcap;
	struct ww_term *terms; /* every term of every flow's services */
	size_t nterms;
	int64_t *edges; /* window bounds */
	size_t nedges;
};

struct tally {
	uint64_t policies, packets, exempt, mismatches, verdicts[3];
};

struct run {
	uint64_t seed;
	int64_t now;
	long packets, random, only;
	bool quiet; /* mismatches expected: not printed */
	struct tally tot;
};

static void pool_free(struct pool *pl)
{
	free(pl->pfx);
	free(pl->terms);
	free(pl->edges);
}

static int pool_nets(struct pool *pl, const struct ww_net *nets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (VEC_PUSH(pl->pfx, pl->npfx, pl->pcap, nets[i].pfx))
			return -ENOMEM;
	return 0;
}

static int pool_build(const struct ww_policy *p, struct pool *pl)
{
	size_t tcap = 0, ecap = 0;
	int err = 0;

	*pl = (struct pool){0};
	for (size_t z = 0; z < p->nzones && !err; z++) {
		err = pool_nets(pl, p->zones[z].nets, p->zones[z].nnets);
		for (size_t h = 0; h < p->zones[z].nhosts && !err; h++)
			err = pool_nets(pl, p->zones[z].hosts[h].nets, p->zones[z].hosts[h].nnets);
	}
	for (size_t i = 0; i < p->nflows && !err; i++) {
		const struct ww_flow *f = &p->flows[i];
		for (size_t s = 0; s < f->nsvcs && !err; s++)
			for (size_t t = 0; t < f->svcs[s]->nterms && !err; t++)
				if (VEC_PUSH(pl->terms, pl->nterms, tcap, f->svcs[s]->terms[t]))
					err = -ENOMEM;
		if (f->has_from && VEC_PUSH(pl->edges, pl->nedges, ecap, f->valid_from))
			err = -ENOMEM;
		if (f->has_until && VEC_PUSH(pl->edges, pl->nedges, ecap, f->valid_until))
			err = -ENOMEM;
	}
	return err;
}

/* ---- drawing packets ---- */

static u128 fam_max(int f)
{
	return f == WW_INET ? 0xffffffffu : ~(u128)0;
}

/* An address in prefix p or just outside it: its ends, one past either end, or inside. */
static u128 addr_in(struct rng *r, const struct ww_prefix *p)
{
	u128 first = ww_prefix_first(p), last = ww_prefix_last(p);

	switch (below(r, 8)) {
	case 0:
		return first;
	case 1:
		return last;
	case 2:
		return first ? first - 1 : first;
	case 3:
		return last != fam_max(p->a.family) ? last + 1 : last;
	default:
		return first | (rnd128(r) & (last - first));
	}
}

/* An address of family f: in or at the edge of one of the pool's prefixes, else anywhere. */
static struct ww_addr draw_addr(struct rng *r, const struct pool *pl, int f)
{
	struct ww_addr a = {.family = (uint8_t)f};
	const struct ww_prefix *p = NULL;

	for (int tries = 0; tries < 8 && !p && pl->npfx && chance(r, 90); tries++) {
		const struct ww_prefix *q = &pl->pfx[below(r, (uint32_t)pl->npfx)];
		p = q->a.family == f ? q : NULL;
	}
	a.v = p ? addr_in(r, p) : rnd128(r) & fam_max(f);
	return a;
}

/* A network of an endpoint of list l (a zone's, or one of its host groups'), of family f (0:
 * any), or NULL. */
static const struct ww_prefix *ep_net(struct rng *r, const struct ww_policy *p,
				      const struct ww_eplist *l, int f)
{
	for (int tries = 0; tries < 8 && p->nzones; tries++) {
		const struct ww_zone *z = &p->zones[below(r, (uint32_t)p->nzones)];
		const struct ww_host *h = NULL;
		if (!l->all && l->n) {
			const struct ww_endpoint *e = &l->v[below(r, (uint32_t)l->n)];
			z = e->zone, h = e->host;
		}
		if (!h && z->nhosts && chance(r, 30))
			h = &z->hosts[below(r, (uint32_t)z->nhosts)];
		const struct ww_net *nets = h ? h->nets : z->nets;
		size_t n = h ? h->nnets : z->nnets;
		const struct ww_prefix *q = n ? &nets[below(r, (uint32_t)n)].pfx : NULL;
		if (q && (!f || q->a.family == f))
			return q;
	}
	return NULL;
}

/* A port or type of protocol proto: at the edges of a term of the pool, else anywhere. */
static int draw_key(struct rng *r, const struct pool *pl, int proto)
{
	unsigned int max = ww_proto_key_max(proto);

	if (!max)
		return -1;
	for (int tries = 0; tries < 6 && pl->nterms && chance(r, 80); tries++) {
		const struct ww_term *t = &pl->terms[below(r, (uint32_t)pl->nterms)];
		if (t->proto != proto)
			continue;
		unsigned int e = below(r, 5);
		unsigned int k = e == 0	  ? t->lo - 1u
				 : e == 1 ? t->lo
				 : e == 2 ? t->hi
				 : e == 3 ? t->hi + 1u
					  : t->lo + below(r, t->hi - t->lo + 1u);
		return k > max ? (int)t->lo : (int)k;
	}
	return (int)below(r, max + 1);
}

/* tcp, udp, sctp, ICMP of the family, a protocol of the pool's terms, or any other. */
static int draw_proto(struct rng *r, const struct pool *pl, int f)
{
	static const int others[] = {0, 2, 4, 41, 47, 50, 51, 89, 103, 136, 253, 255};
	unsigned int x = below(r, 100);
	int icmp = f == WW_INET ? WW_PROTO_ICMP : WW_PROTO_ICMPV6;

	if (x < 30)
		return WW_PROTO_TCP;
	if (x < 45)
		return WW_PROTO_UDP;
	if (x < 52)
		return WW_PROTO_SCTP;
	if (x < 67)
		return icmp;
	if (x < 80 && pl->nterms) {
		int p = pl->terms[below(r, (uint32_t)pl->nterms)].proto;
		if (p >= 0 && !ww_proto_has_types(p))
			return p;
	}
	int p = x < 90 ? others[below(r, ARRAY_SIZE(others))] : (int)below(r, 256);
	/* ICMP of the other family is not modelled (docs/nftables.md: it goes to the defaults). */
	return ww_proto_has_types(p) ? icmp : p;
}

/* A packet a flow of p names, near the edges of its addresses and terms; false if none. */
static bool draw_flow_packet(struct rng *r, const struct ww_policy *p, const struct pool *pl,
			     struct ww_packet *pk)
{
	const struct ww_flow *f = p->nflows ? &p->flows[below(r, (uint32_t)p->nflows)] : NULL;
	const struct ww_prefix *s = f ? ep_net(r, p, &f->from, 0) : NULL;
	const struct ww_prefix *d = s ? ep_net(r, p, &f->to, s->a.family) : NULL;
	int icmp;

	if (!d || !f->nsvcs)
		return false;
	pk->src = (struct ww_addr){.family = s->a.family, .v = addr_in(r, s)};
	pk->dst = (struct ww_addr){.family = s->a.family, .v = addr_in(r, d)};
	const struct ww_service *sv = f->svcs[below(r, (uint32_t)f->nsvcs)];
	const struct ww_term *t = sv->nterms ? &sv->terms[below(r, (uint32_t)sv->nterms)] : NULL;
	icmp = s->a.family == WW_INET ? WW_PROTO_ICMP : WW_PROTO_ICMPV6;
	pk->proto = !t || t->proto < 0		   ? draw_proto(r, pl, s->a.family)
		    : ww_proto_has_types(t->proto) ? icmp
						   : t->proto;
	pk->key = draw_key(r, pl, pk->proto);
	if (t && t->proto == pk->proto && pk->key >= 0 && chance(r, 70))
		pk->key = chance(r, 50)	  ? t->lo + (int)below(r, t->hi - t->lo + 1u)
			  : chance(r, 50) ? t->lo
					  : t->hi;
	return true;
}

static void draw_packet(struct rng *r, const struct ww_policy *p, const struct pool *pl,
			int64_t now, struct ww_packet *pk)
{
	int f = WW_INET;

	if (!chance(r, 50) || !draw_flow_packet(r, p, pl, pk)) {
		if (pl->npfx && chance(r, 90))
			f = pl->pfx[below(r, (uint32_t)pl->npfx)].a.family;
		else if (chance(r, 50))
			f = WW_INET6;
		pk->src = draw_addr(r, pl, f);
		pk->dst = draw_addr(r, pl, f);
		pk->proto = draw_proto(r, pl, f);
		pk->key = draw_key(r, pl, pk->proto);
	}
	pk->at = now;
	if (pl->nedges && chance(r, 15))
		pk->at = pl->edges[below(r, (uint32_t)pl->nedges)] + (int64_t)below(r, 3) - 1;
}

/* ---- what the reference says, as the table should count it ---- */

/* The counter of a default, as nft_compile.h names it. */
static void default_counter(const struct ww_policy *p, const struct ww_verdict *v,
			    struct strbuf *out)
{
	const struct ww_zone *zs = v->src.zone, *zd = v->dst.zone;
	const char *s = zs ? zs->name : "-";

	if (zs && zs == zd)
		sb_addf(out, WW_NFT_DEFAULT_PREFIX "%s/%s", s, s);
	else if (p->defaults.between_zones != WW_ALLOW && zd && zd->mode == WW_MONITOR &&
		 !(zs && zs->mode == WW_MONITOR))
		sb_addf(out, WW_NFT_DEFAULT_PREFIX "%s/" WW_NFT_MONITOR, s);
	else
		sb_addf(out, WW_NFT_DEFAULT_PREFIX "%s/" WW_NFT_OTHER, s);
}

static void decider_counter(const struct ww_policy *p, const struct ww_verdict *v,
			    struct strbuf *out)
{
	if (v->flow)
		sb_addf(out, WW_NFT_FLOW_PREFIX "%s", v->flow->id);
	else
		default_counter(p, v, out);
}

/* Is name the counter of a monitor-mode flow that matches the packet? */
static bool monitor_counter(const struct ww_policy *p, const struct ww_packet *pk,
			    const struct ww_verdict *v, const char *name)
{
	size_t n = strlen(WW_NFT_FLOW_PREFIX);

	if (strncmp(name, WW_NFT_FLOW_PREFIX, n))
		return false;
	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (!strcmp(f->id, name + n))
			return ww_flow_active(f, pk->at) &&
			       ww_flow_matches(f, &v->src, &v->dst, pk->proto, pk->key) &&
			       ww_flow_rank(f, v->src.zone, v->dst.zone) == WW_RANK_MONITOR;
	}
	return false;
}

/* Does the table's answer agree with the reference's? */
static bool agrees(const struct ww_policy *p, const struct ww_packet *pk,
		   const struct ww_verdict *v, const struct nfr_result *res)
{
	struct strbuf want = {0};
	bool ok = (res->verdict == NV_ACCEPT) == (v->kind != WW_V_DENY) && res->ncounters;
	bool seen_monitor = !v->monitor;

	decider_counter(p, v, &want);
	ok = ok && !strcmp(res->counters[res->ncounters - 1], sb_str(&want));
	for (size_t i = 0; ok && i + 1 < res->ncounters; i++) {
		ok = monitor_counter(p, pk, v, res->counters[i]);
		seen_monitor |= v->monitor && !strcmp(res->counters[i] + strlen(WW_NFT_FLOW_PREFIX),
						      v->monitor->id);
	}
	sb_free(&want);
	return ok && seen_monitor;
}

/* ---- one policy ---- */

/* The packets the base chains pass before any policy by design (docs/nftables.md): IPv6
 * neighbour discovery in host and bridge mode, multicast and link-local in bridge mode. */
static bool exempt(const struct ww_policy *p, const struct ww_packet *pk)
{
	bool nd = pk->proto == WW_PROTO_ICMPV6 && pk->key >= 133 &&
		  pk->key <= (p->enf.mode == WW_BRIDGE ? 137 : 136);
	u128 d = pk->dst.v;

	if (p->enf.mode == WW_GATEWAY)
		return false;
	if (p->enf.mode == WW_HOST || nd)
		return nd;
	if (pk->dst.family == WW_INET)
		return d >> 28 == 0xe || d == 0xffffffffu;
	return d >> 118 == 0x3fa || d >> 120 == 0xff; /* fe80::/10, ff00::/8 */
}

static const char *base_chain(const struct ww_policy *p)
{
	return p->enf.mode == WW_BRIDGE ? WW_NFT_BRIDGE_BASE
	       : p->enf.mode == WW_HOST ? "host_input"
					: "gw_forward";
}

static void show_mismatch(const char *name, const struct ww_packet *pk, uint32_t mark,
			  const struct ww_verdict *v, const struct nfr_result *res,
			  const struct ww_policy *p, int rc, const struct strbuf *why)
{
	static const char *const vk[] = {
	    "none",	     "accept", "drop", "return", "jump", "goto", "reject (tcp reset)",
	    "reject (admin)"};
	char s[WW_PREFIX_STRLEN], d[WW_PREFIX_STRLEN], ps[8];
	struct strbuf sb = {0};

	sb_addf(&sb, "# %s: %s -> %s %s", name, ww_addr_str(&pk->src, s), ww_addr_str(&pk->dst, d),
		ww_proto_str(pk->proto, ps));
	if (pk->key >= 0)
		sb_addf(&sb, "/%d", pk->key);
	sb_addf(&sb, " at %lld mark 0x%08x\n#   reference: %s by ", (long long)pk->at, mark,
		ww_verdict_str(v->kind));
	decider_counter(p, v, &sb);
	if (v->monitor)
		sb_addf(&sb, ", monitor flow/%s", v->monitor->id);
	if (rc)
		sb_addf(&sb, "\n#   table: error %s: %s", strerror(-rc), sb_str(why));
	else
		sb_addf(&sb, "\n#   table: %s, counters:", vk[res->verdict]);
	for (size_t i = 0; !rc && i < res->ncounters; i++)
		sb_addf(&sb, " %s", res->counters[i]);
	sb_add(&sb, "\n#   chains: ");
	nfr_result_path(res, &sb);
	print_message("%s\n", sb_str(&sb));
	sb_free(&sb);
}

/* Walks one packet and compares; returns 0 (agrees or exempt) or 1 (a mismatch). */
static int one_packet(struct run *run, const char *name, const struct ww_policy *p,
		      struct nfr_eval *e, const struct ww_packet *pk, uint32_t mark,
		      struct tally *t)
{
	struct nfr_pkt np = {.family = pk->src.family,
			     .saddr = pk->src.v,
			     .daddr = pk->dst.v,
			     .l4proto = pk->proto,
			     .key = pk->key,
			     .mark = mark,
			     .now = pk->at};
	struct nfr_result res;
	struct strbuf why = {0};
	struct ww_verdict v;
	int rc;

	t->packets++;
	if (exempt(p, pk)) {
		t->exempt++;
		return 0;
	}
	ww_evaluate(p, pk, &v);
	t->verdicts[v.kind]++;
	rc = nfr_eval_packet(e, base_chain(p), &np, &res, &why);
	if (!rc && agrees(p, pk, &v, &res)) {
		sb_free(&why);
		return 0;
	}
	if (t->mismatches < MAX_SHOWN && !run->quiet)
		show_mismatch(name, pk, mark, &v, &res, p, rc, &why);
	sb_free(&why);
	t->mismatches++;
	return 1;
}

/*
 * Compiles p (or uses table tab when not NULL), draws n packets from stream r and compares each.
 * Returns the mismatches; -errno when the harness itself failed.
 */
static long run_table(struct run *run, const char *name, const struct ww_policy *p,
		      const struct nfr_table *tab, struct rng *r, long n)
{
	struct nfr_table *own = NULL;
	struct nfr_eval *e = NULL;
	struct tally t = {0};
	struct pool pl;
	int err = tab ? 0 : ww_compile_nft(p, &own);

	if (!err)
		err = nfr_eval_new(tab ? tab : own, &e);
	if (!err)
		err = pool_build(p, &pl);
	if (err) {
		print_message("# %s: %s\n", name, strerror(-err));
		nfr_table_free(own);
		nfr_eval_free(e);
		return err;
	}
	for (long i = 0; i < n; i++) {
		struct ww_packet pk;
		/* Whatever the packet's mark when it comes in (another program's bits), the
		 * table decides alike. */
		uint32_t mark = chance(r, 50) ? (uint32_t)rnd(r) : 0;
		draw_packet(r, p, &pl, run->now, &pk);
		one_packet(run, name, p, e, &pk, mark, &t);
	}
	if (t.mismatches && !run->quiet)
		print_message("# %s: %llu of %llu packets disagree (WW_SEED=%llu)\n", name,
			      (unsigned long long)t.mismatches, (unsigned long long)t.packets,
			      (unsigned long long)run->seed);
	run->tot.policies++;
	run->tot.packets += t.packets;
	run->tot.exempt += t.exempt;
	run->tot.mismatches += t.mismatches;
	for (int k = 0; k < 3; k++)
		run->tot.verdicts[k] += t.verdicts[k];
	pool_free(&pl);
	nfr_eval_free(e);
	nfr_table_free(own);
	return (long)t.mismatches;
}

/* ---- the runs ---- */

/* Prints text as TAP comments, a line at a time (print_message cuts long messages). */
static void unit_comment(const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		print_message("# %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

static struct run the_run;

static struct rng stream(const struct run *run, uint64_t k)
{
	return (struct rng){run->seed ^ (0x5851f42d4c957f2dULL * (k + 1))};
}

static void summary(const char *what, const struct tally *t, double secs)
{
	print_message("# %s: %llu policies, %llu packets (%llu exempt; %llu allow, %llu deny, %llu "
		      "monitor), %llu mismatches, %.1f s, WW_SEED=%llu\n",
		      what, (unsigned long long)t->policies, (unsigned long long)t->packets,
		      (unsigned long long)t->exempt, (unsigned long long)t->verdicts[WW_V_ALLOW],
		      (unsigned long long)t->verdicts[WW_V_DENY],
		      (unsigned long long)t->verdicts[WW_V_MONITOR],
		      (unsigned long long)t->mismatches, secs, (unsigned long long)the_run.seed);
}

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each policy file, n packets. */
static void run_files(char **files, size_t nfiles, long n)
{
	struct run *run = &the_run;
	double t0 = secs();

	run->tot = (struct tally){0};
	for (size_t i = 0; i < nfiles; i++) {
		struct ww_diags d = {.file = files[i]};
		struct ww_policy *p = NULL;
		int err = ww_policy_load(files[i], &d, &p);
		if (err) {
			print_message("# %s: not a valid policy (%s)\n", files[i], strerror(-err));
			unit_dump_diags(&d);
			ww_diags_free(&d);
			fail();
		}
		ww_diags_free(&d);
		struct rng r = stream(run, i);
		assert_true(run_table(run, files[i], p, NULL, &r, n) >= 0);
		ww_policy_free(p);
	}
	summary("policy files", &run->tot, secs() - t0);
	assert_true(run->tot.packets > 0);
	assert_int_equal(run->tot.mismatches, 0);
}

static void test_examples(void **state)
{
	glob_t g;
	char **files;
	size_t n = 0;

	(void)state;
	assert_int_equal(glob("policies/*.json", 0, NULL, &g), 0);
	files = calloc(g.gl_pathc + 1, sizeof(*files));
	assert_non_null(files);
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (!strstr(g.gl_pathv[i], ".schema.json"))
			files[n++] = g.gl_pathv[i];
	assert_true(n >= 3);
	run_files(files, n, 20000);
	free(files);
	globfree(&g);
}

/* The policies of WW_MODEL_POLICIES (suite 21-nft-model), 20,000 packets each. */
static void test_policy_files(void **state)
{
	char *list = strdup(getenv("WW_MODEL_POLICIES")), *save = NULL;
	char *files[64];
	size_t n = 0;

	(void)state;
	assert_non_null(list);
	for (char *f = strtok_r(list, ":", &save); f && n < ARRAY_SIZE(files);
	     f = strtok_r(NULL, ":", &save))
		files[n++] = f;
	run_files(files, n, 20000);
	free(list);
}

/*
 * Half the time, json (freed) with mark bits of its own: a run of 6-16 bits anywhere in the
 * mark (the generator's 5 zones and 3 host groups a zone fit in 3 bits and 2), so that the
 * class-keyed layout's fields move and shrink. Returns the policy text to use.
 */
static char *with_mark_bits(struct rng *r, char *json)
{
	static const char enf[] = "\"enforcement\": {";
	char *at = strstr(json, enf), mask[WW_MARK_STRLEN];
	unsigned int n = 6 + below(r, 11), shift = below(r, 32 - n + 1);
	struct strbuf sb = {0};

	if (!at || chance(r, 50))
		return json;
	at += strlen(enf);
	sb_addn(&sb, json, (size_t)(at - json));
	sb_addf(&sb, "\"mark_bits\": \"%s\", ", ww_mark_str(((1u << n) - 1) << shift, mask));
	sb_add(&sb, at);
	free(json);
	return sb_steal(&sb);
}

static void test_random_policies(void **state)
{
	struct run *run = &the_run;
	double t0 = secs();

	(void)state;
	run->tot = (struct tally){0};
	for (long i = 0; i < run->random; i++) {
		if (run->only >= 0 && i != run->only)
			continue;
		struct gen g = {.r = stream(run, 1000 + (uint64_t)i), .now = run->now};
		char *json = with_mark_bits(&g.r, gen_policy(&g));
		struct ww_policy *p = NULL;
		struct strbuf err = {0};
		char name[96];
		snprintf(name, sizeof(name), "random policy %ld (WW_MODEL_ONLY=%ld)", i, i);
		assert_non_null(json);
		if (xt_parse("random.json", json, &p, &err)) {
			print_message("# %s: the generator made an invalid policy:\n", name);
			unit_comment(json);
			unit_comment(sb_str(&err));
			fail();
		}
		long m = run_table(run, name, p, NULL, &g.r, run->packets);
		if (m > 0) {
			struct strbuf sb = {0};
			ww_policy_print_canonical(p, &sb);
			print_message("# %s, canonical form:\n", name);
			unit_comment(sb_str(&sb));
			sb_free(&sb);
		}
		assert_true(m >= 0);
		ww_policy_free(p);
		sb_free(&err);
		free(json);
	}
	summary("random policies", &run->tot, secs() - t0);
	assert_int_equal(run->tot.mismatches, 0);
}

/* ---- shapes where a host group's decision and its zone's meet ---- */

/* The zones of the shapes: z0 10.0.0.0/24 with host h0 10.0.0.1, fd00::1; z1 10.0.1.0/24 with
 * host h1 10.0.1.1, fd00:1::1. */
#define SHAPE(defaults, flows)                                                                     \
	"{" UNIT_HDR "'defaults': {" defaults "}, 'zones': {"                                      \
	"'z0': {'networks': ['10.0.0.0/24', 'fd00::/64'], 'hosts': {'h0': ['10.0.0.1', "           \
	"'fd00::1']}},"                                                                            \
	"'z1': {'networks': ['10.0.1.0/24', 'fd00:1::/64'], 'hosts': {'h1': ['10.0.1.1', "         \
	"'fd00:1::1']}}}, 'flows': [" flows "]}"

static const char *const shapes[] = {
    /* A zone whose addresses are all its host groups' is still a destination. */
    "{" UNIT_HDR "'zones': {'z0': {'networks': ['10.0.0.0/24']}, 'z1': {'networks': "
    "['10.0.1.0/31'], 'hosts': {'h0': ['10.0.1.0'], 'h1': ['10.0.1.1']}}}, 'flows': [{'id': "
    "'f0', 'from': 'z0', 'to': 'z1', 'services': ['https'], 'action': 'allow'}]}",
    /* A deny towards a host group beats an allow from a host group of the source zone towards
     * the destination's zone. */
    SHAPE("", "{'id': 'f0', 'from': 'z0', 'to': 'z1/h1', 'services': ['any'], 'action': 'deny'},"
	      "{'id': 'f2', 'from': 'z0/h0', 'to': 'z1', 'services': ['https'], 'action': "
	      "'allow'}"),
    /* The same deny beats a monitor of the source host towards the zone, which only observes;
     * the default between zones allows. */
    SHAPE("'between_zones': 'allow'",
	  "{'id': 'm', 'from': 'z0/h0', 'to': 'z1', 'services': ['any'], 'action': 'deny', "
	  "'mode': 'monitor'},"
	  "{'id': 'd', 'from': 'z0', 'to': 'z1/h1', 'services': ['https'], 'action': 'deny'}"),
    /* An allow towards a host group is not lost to a windowed deny of the source host. */
    SHAPE("", "{'id': 'w', 'from': 'z0/h0', 'to': 'z1', 'services': ['https'], 'action': "
	      "'deny', 'valid': {'from': '2030-01-01T00:00:00Z'}},"
	      "{'id': 'a', 'from': 'z0', 'to': 'z1/h1', 'services': ['https'], 'action': "
	      "'allow'}"),
};

static void test_precedence_shapes(void **state)
{
	struct run *run = &the_run;

	(void)state;
	run->tot = (struct tally){0};
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		struct ww_policy *p = unit_parse_ok(shapes[i]);
		struct rng r = stream(run, 2000 + i);
		char name[32];
		snprintf(name, sizeof(name), "shape %zu", i);
		assert_true(run_table(run, name, p, NULL, &r, 4000) >= 0);
		ww_policy_free(p);
	}
	assert_int_equal(run->tot.mismatches, 0);
}

/* ---- the test can fail ---- */

/* Flows whose decisions are map elements (allow, deny), decision chains (window, monitor) and
 * defaults, between zones and host groups of UNIT_ZONES. */
#define BROKEN_POL                                                                                 \
	UNIT_POL(", 'flows': ["                                                                    \
		 "{'id': 'web', 'from': 'lab', 'to': 'campus/servers', 'services': ['https'], "    \
		 "'action': 'allow'},"                                                             \
		 "{'id': 'dns', 'from': 'campus', 'to': 'lab', 'services': ['dns'], "              \
		 "'action': 'allow'},"                                                             \
		 "{'id': 'nossh', 'from': 'lab/scope', 'to': 'campus', 'services': ['ssh'], "      \
		 "'action': 'deny'},"                                                              \
		 "{'id': 'pump', 'from': 'campus', 'to': 'icu/pump', 'services': ['https'], "      \
		 "'action': 'allow', 'valid': {'until': '2027-01-01T00:00:00Z'}}]")

enum breakage { BREAK_ELEM_VERDICT, BREAK_ELEM_COUNTER, BREAK_DEFAULT };

/* Breaks table t as b says; false when t has nothing to break that way. */
static bool break_table(struct nfr_table *t, enum breakage b)
{
	for (size_t i = 0; i < t->nsets && b != BREAK_DEFAULT; i++) {
		struct nfr_set *s = &t->sets[i];
		for (size_t k = 0; s->cat.n && k < s->nelems; k++) {
			struct nfr_elem *e = &s->elems[k];
			if (b == BREAK_ELEM_VERDICT && s->vmap && e->v.kind == NV_ACCEPT) {
				e->v.kind = NV_DROP;
				return true;
			}
			if (b == BREAK_ELEM_COUNTER && s->objmap && e->obj) {
				free(e->obj);
				e->obj = strdup("ct-invalid");
				return e->obj != NULL;
			}
		}
	}
	for (size_t i = 0; i < t->nchains && b == BREAK_DEFAULT; i++)
		for (size_t k = 0; k < t->chains[i].nrules; k++) {
			struct nfr_rule *r = &t->chains[i].rules[k];
			if (!strncmp(t->chains[i].name, "def/", 4) && r->v.kind == NV_DROP) {
				r->v.kind = NV_ACCEPT;
				return true;
			}
		}
	return false;
}

/* A map element's verdict swapped, its counter changed, a default's verdict swapped: each is
 * found (the test can fail), and the table as compiled agrees. */
static void test_broken_tables(void **state)
{
	struct ww_policy *p = unit_parse_ok(BROKEN_POL);
	struct run *run = &the_run;

	(void)state;
	for (int b = -1; b <= BREAK_DEFAULT; b++) {
		struct nfr_table *t = NULL;
		struct rng r = stream(run, 7);
		assert_int_equal(ww_compile_nft(p, &t), 0);
		assert_true(b < 0 || break_table(t, (enum breakage)b));
		run->quiet = b >= 0;
		long m = run_table(run, "broken table", p, t, &r, 4000);
		run->quiet = false;
		print_message("# breakage %d: %ld of 4000 packets disagree\n", b, m);
		if (b < 0)
			assert_int_equal(m, 0);
		else
			assert_true(m > 0);
		nfr_table_free(t);
	}
	ww_policy_free(p);
}

int main(void)
{
	const char *seed = getenv("WW_SEED"), *files = getenv("WW_MODEL_POLICIES");
	const char *pk = getenv("WW_MODEL_PACKETS"), *rp = getenv("WW_MODEL_RANDOM");
	const char *only = getenv("WW_MODEL_ONLY");
	const struct CMUnitTest all[] = {
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_random_policies),
	    cmocka_unit_test(test_precedence_shapes),
	    cmocka_unit_test(test_broken_tables),
	};
	const struct CMUnitTest given[] = {
	    cmocka_unit_test(test_policy_files),
	};

	the_run.seed = seed && *seed ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
	the_run.packets = pk && *pk ? atol(pk) : 150;
	the_run.random = rp && *rp ? atol(rp) : 1500;
	the_run.only = only && *only ? atol(only) : -1;
	assert_int_equal(ww_time_parse("2026-11-29T12:00:00Z", &the_run.now), 0);
	print_message("# WW_SEED=%llu\n", (unsigned long long)the_run.seed);
	if (files && *files)
		return cmocka_run_group_tests(given, NULL, NULL);
	return cmocka_run_group_tests(all, NULL, NULL);
}
