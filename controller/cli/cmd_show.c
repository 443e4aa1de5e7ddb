// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall show: what the kernel enforces now, decoded from netlink and the pinned BPF maps.
 * wardwall show --canonical POLICY: the normalized form of a policy file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "nft_diff.h"
#include "xdp_tier.h"
#include "cli.h"
#include "json.h"
#include "nft_compile.h"
#include "collect.h"
#include "xdp_compile.h"
#include "nft_nl.h"
#include "policy.h"
#include "nft_readback.h"
#include "quarantine.h"
#include "state.h"
#include "timeutil.h"

static int show_canonical(const char *path)
{
	struct ww_diags d = {.file = path};
	struct ww_policy *p = NULL;
	struct strbuf out = {0};
	int err = ww_policy_load(path, &d, &p), rc = WW_EXIT_USAGE;

	if (err == -EINVAL) {
		ww_diags_print(&d, &out);
		fputs(sb_str(&out), stderr);
		rc = WW_EXIT_INVALID;
	} else if (err) {
		ww_errorf("%s: %s", path, strerror(-err));
	} else {
		ww_policy_print_canonical(p, &out);
		fputs(sb_str(&out), stdout);
		rc = WW_EXIT_OK;
	}
	sb_free(&out);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}

/* What range_text says of a destination range, worked out once per distinct range: at 100k
 * flows show prints some 950,000 destinations over some 8,000 ranges. */
struct range_name {
	struct ww_rb_range r;
	char *cidrs; /* NULL: a free slot */
	const char *zone, *host;
};

struct range_names {
	struct range_name *slots;
	size_t n, cap; /* cap: 0 or a power of two */
};

/* What show prints: one collection (collect.h) of the kernel's state. */
struct view {
	struct ww_collect c;
	/* shorthands into c */
	struct nfr_table *live;
	struct ww_readback rb;
	struct ww_xdp *xdp;
	struct ww_xdp_state xs;
	bool has_xdp;
	struct ww_generation gen;
	const struct ww_policy *applied; /* names host groups; facts come from the kernel */
	long nft_drift;			 /* -1: unknown (nothing recorded) */
	int xdp_same;			 /* -1 unknown, 0 no, 1 yes */
	struct range_names names;
};

static const char *verdict_name(enum ww_rb_verdict v)
{
	static const char *const s[] = {"allow", "deny", "monitor"};
	return s[v];
}

struct cidr_ctx {
	struct strbuf *out;
	bool first;
};

static void add_cidr(const struct ww_prefix *p, void *arg)
{
	struct cidr_ctx *c = arg;
	char buf[WW_PREFIX_STRLEN];

	sb_addf(c->out, "%s%s", c->first ? "" : ", ", ww_prefix_str(p, true, buf));
	c->first = false;
}

/* The host group of the applied policy whose network is exactly r, or NULL. */
static const char *host_of(const struct ww_policy *p, const struct ww_rb_range *r)
{
	for (size_t z = 0; p && z < p->nzones; z++) {
		const struct ww_zone *zz = &p->zones[z];
		for (size_t h = 0; h < zz->nhosts; h++)
			for (size_t k = 0; k < zz->hosts[h].nnets; k++) {
				const struct ww_prefix *x = &zz->hosts[h].nets[k].pfx;
				if (x->a.family == r->family && ww_prefix_first(x) == r->lo &&
				    ww_prefix_last(x) == r->hi)
					return zz->hosts[h].name;
			}
	}
	return NULL;
}

static void range_describe(const struct view *v, const struct ww_rb_range *r, struct range_name *n)
{
	struct strbuf cidrs = {0};
	struct cidr_ctx c = {&cidrs, true};

	ww_range_to_prefixes(r->family, r->lo, r->hi, add_cidr, &c);
	n->r = *r;
	n->cidrs = sb_steal(&cidrs);
	n->zone = ww_rb_zone_of(&v->rb, r);
	n->host = host_of(v->applied, r);
}

static uint64_t range_hash(const struct ww_rb_range *r)
{
	return fnv1a64(&r->hi, sizeof(r->hi),
		       fnv1a64(&r->lo, sizeof(r->lo), FNV1A64_INIT + r->family));
}

static bool range_eq(const struct ww_rb_range *a, const struct ww_rb_range *b)
{
	return a->family == b->family && a->lo == b->lo && a->hi == b->hi;
}

/* The slot of r in t (cap > n): its entry, or the free slot it goes to. */
static struct range_name *names_slot(const struct range_names *t, const struct ww_rb_range *r)
{
	size_t i = (size_t)range_hash(r) & (t->cap - 1);

	while (t->slots[i].cidrs && !range_eq(&t->slots[i].r, r))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int names_grow(struct range_names *t)
{
	struct range_names g = {.cap = t->cap ? t->cap * 2 : 1024};

	g.slots = calloc(g.cap, sizeof(*g.slots));
	if (!g.slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].cidrs)
			*names_slot(&g, &t->slots[i].r) = t->slots[i];
	g.n = t->n;
	free(t->slots);
	*t = g;
	return 0;
}

static void names_free(struct range_names *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->slots[i].cidrs);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* What to say of r, from the cache (else into *tmp, which the caller frees: out of memory). */
static const struct range_name *range_named(struct view *v, const struct ww_rb_range *r,
					    struct range_name *tmp)
{
	struct range_names *t = &v->names;
	struct range_name *n;

	if ((t->n + 1) * 2 > t->cap && names_grow(t)) {
		range_describe(v, r, tmp);
		return tmp;
	}
	n = names_slot(t, r);
	if (!n->cidrs) {
		range_describe(v, r, n);
		if (!n->cidrs) { /* out of memory */
			*tmp = *n;
			return tmp;
		}
		t->n++;
	}
	return n;
}

/* "10.20.4.10 (biomed/pump-server)": a destination range, named as precisely as possible. */
static void range_text(struct view *v, const struct ww_rb_range *r, struct ww_jw *w,
		       struct strbuf *out)
{
	struct range_name tmp = {0};
	const struct range_name *n = range_named(v, r, &tmp);
	const char *cidrs = n->cidrs ? n->cidrs : "", *zone = n->zone, *host = n->host;

	if (w) {
		ww_jw_str(w, "addresses", cidrs);
		ww_jw_str(w, "zone", zone);
		if (host)
			ww_jw_str(w, "host", host);
	} else {
		sb_add(out, cidrs);
		if (zone && host)
			sb_addf(out, " (%s/%s)", zone, host);
		else if (zone)
			sb_addf(out, " (%s)", zone);
		else {
			/* Adjacent ranges with one verdict are merged, across zones too. */
			const char *zs[8];
			size_t nz = ww_rb_zones_overlapping(&v->rb, r, zs, 8);
			for (size_t i = 0; i < nz && i < 8; i++)
				sb_addf(out, "%s%s", i ? ", " : " (zones ", zs[i]);
			if (nz)
				sb_add(out, nz > 8 ? ", ...)" : ")");
		}
	}
	if (n == &tmp)
		free(tmp.cidrs);
}

static void svc_text(const struct ww_rb_fact *f, struct strbuf *out)
{
	char buf[32];

	if (f->proto < 0)
		sb_add(out, "any");
	else
		sb_add(out, ww_key_str(f->proto, f->lo, f->hi, buf));
}

static int fact_cmp(const void *a, const void *b)
{
	const struct ww_rb_fact *x = a, *y = b;
	int r = strcmp(x->counter, y->counter);

	if (!r)
		r = strcmp(x->from, y->from);
	if (!r && x->verdict != y->verdict)
		r = x->verdict < y->verdict ? -1 : 1;
	if (!r && x->dst.family != y->dst.family)
		r = x->dst.family < y->dst.family ? -1 : 1;
	if (!r && x->dst.lo != y->dst.lo)
		r = x->dst.lo < y->dst.lo ? -1 : 1;
	if (!r && x->proto != y->proto)
		r = x->proto < y->proto ? -1 : 1;
	if (!r)
		r = (int)x->lo - (int)y->lo;
	return r;
}

static bool same_group(const struct ww_rb_fact *a, const struct ww_rb_fact *b)
{
	return !strcmp(a->counter, b->counter) && !strcmp(a->from, b->from) &&
	       a->verdict == b->verdict && a->has_from == b->has_from &&
	       a->has_until == b->has_until && a->valid_from == b->valid_from &&
	       a->valid_until == b->valid_until;
}

/* The services of the facts [i, j) that share dst with facts[i], as one string. */
static void services_of(const struct ww_rb_fact *f, size_t i, size_t j, struct strbuf *out)
{
	for (size_t k = i; k < j; k++)
		if (f[k].dst.family == f[i].dst.family && f[k].dst.lo == f[i].dst.lo) {
			if (out->len)
				sb_add(out, ", ");
			svc_text(&f[k], out);
		}
}

static void print_flows(struct view *v, struct ww_jw *w, struct strbuf *out)
{
	struct ww_rb_fact *f = v->rb.facts;
	size_t n = v->rb.nfacts;
	const char *fp = WW_NFT_FLOW_PREFIX;
	char tb[WW_TIME_STRLEN];

	qsort(f, n, sizeof(*f), fact_cmp);
	if (w)
		ww_jw_arr(w, "flows");
	else
		sb_add(out, "flows (as the kernel enforces them):\n");
	for (size_t i = 0; i < n;) {
		const char *counter = f[i].counter;
		const char *id = strncmp(counter, fp, strlen(fp)) ? counter : counter + strlen(fp);
		const struct nfr_counter *nc = nfr_counter_find(v->live, counter);
		uint64_t xp = 0, xb = 0;
		bool hasx = v->has_xdp && ww_xdp_flow_counter(v->xdp, id, &xp, &xb);
		if (w) {
			ww_jw_wrap(w, "  "); /* one flow a line */
			ww_jw_obj(w, NULL);
			ww_jw_str(w, "id", id);
			ww_jw_obj(w, "nftables");
			ww_jw_u64(w, "packets", nc ? nc->packets : 0);
			ww_jw_u64(w, "bytes", nc ? nc->bytes : 0);
			ww_jw_end_obj(w);
			if (hasx) {
				ww_jw_obj(w, "xdp");
				ww_jw_u64(w, "packets", xp);
				ww_jw_u64(w, "bytes", xb);
				ww_jw_end_obj(w);
			}
			ww_jw_arr(w, "enforces");
		} else {
			sb_addf(out, "  %s: nftables %llu packets", id,
				nc ? (unsigned long long)nc->packets : 0ULL);
			if (hasx)
				sb_addf(out, ", xdp %llu packets", (unsigned long long)xp);
			sb_add(out, "\n");
		}

		/* One group per (source, verdict, window); inside, one line per set of services. */
		while (i < n && !strcmp(f[i].counter, counter)) {
			size_t j = i;
			while (j < n && same_group(&f[i], &f[j]))
				j++;
			if (w) {
				ww_jw_obj(w, NULL);
				ww_jw_str(w, "from", f[i].from);
				ww_jw_str(w, "verdict", verdict_name(f[i].verdict));
				if (f[i].has_from)
					ww_jw_str(w, "valid_from", ww_time_str(f[i].valid_from, tb));
				if (f[i].has_until)
					ww_jw_str(w, "valid_until", ww_time_str(f[i].valid_until, tb));
				ww_jw_arr(w, "to");
			} else {
				sb_addf(out, "    %s from %s", verdict_name(f[i].verdict), f[i].from);
				if (f[i].has_from)
					sb_addf(out, " from %s", ww_time_str(f[i].valid_from, tb));
				if (f[i].has_until)
					sb_addf(out, " until %s", ww_time_str(f[i].valid_until, tb));
				sb_add(out, ":\n");
			}

			for (size_t k = i; k < j; k++) {
				if (k > i && f[k].dst.family == f[k - 1].dst.family &&
				    f[k].dst.lo == f[k - 1].dst.lo)
					continue; /* services of this destination were printed with it */
				struct strbuf svc = {0};
				services_of(f, k, j, &svc);
				if (w) {
					ww_jw_obj(w, NULL);
					ww_jw_obj(w, "dst");
					range_text(v, &f[k].dst, w, out);
					ww_jw_end_obj(w);
					ww_jw_str(w, "services", sb_str(&svc));
					ww_jw_end_obj(w);
				} else {
					sb_add(out, "      to ");
					range_text(v, &f[k].dst, NULL, out);
					sb_addf(out, ": %s\n", sb_str(&svc));
				}
				sb_free(&svc);
			}
			if (w) {
				ww_jw_end_arr(w);
				ww_jw_end_obj(w);
			}
			i = j;
		}
		if (w) {
			ww_jw_end_arr(w);
			ww_jw_end_obj(w);
		}
	}
	if (w) {
		ww_jw_wrap(w, "");
		ww_jw_end_arr(w);
	}
}

static void print_zones(const struct view *v, struct ww_jw *w, struct strbuf *out)
{
	if (w)
		ww_jw_arr(w, "zones");
	else
		sb_add(out, "zones (from the classification maps):\n");
	for (size_t i = 0; i < v->rb.nzones; i++) {
		const struct ww_rb_zone *z = &v->rb.zones[i];
		struct strbuf cidrs = {0};
		struct cidr_ctx c = {&cidrs, true};
		for (size_t k = 0; k < z->n; k++)
			ww_range_to_prefixes(z->ranges[k].family, z->ranges[k].lo, z->ranges[k].hi,
					     add_cidr, &c);
		if (w) {
			ww_jw_obj(w, NULL);
			ww_jw_str(w, "name", z->name);
			ww_jw_str(w, "addresses", sb_str(&cidrs));
			ww_jw_end_obj(w);
		} else {
			sb_addf(out, "  %s: %s\n", z->name, sb_str(&cidrs));
		}
		sb_free(&cidrs);
	}
	if (w)
		ww_jw_end_arr(w);
}

static void print_defaults(const struct view *v, struct ww_jw *w, struct strbuf *out)
{
	size_t count[3] = {0, 0, 0};
	int common = 0;

	for (size_t i = 0; i < v->rb.ndefaults; i++)
		count[v->rb.defaults[i].verdict]++;
	for (int k = 1; k < 3; k++)
		if (count[k] > count[common])
			common = k;
	if (w)
		ww_jw_arr(w, "defaults");
	else
		sb_addf(out, "defaults: %s between %zu zone pairs%s\n", verdict_name(common),
			count[common], v->rb.ndefaults > count[common] ? ", except:" : "");
	for (size_t i = 0; i < v->rb.ndefaults; i++) {
		const struct ww_rb_default *d = &v->rb.defaults[i];
		const struct nfr_counter *c = nfr_counter_find(v->live, d->counter);
		if (w) {
			ww_jw_obj(w, NULL);
			ww_jw_str(w, "from", d->src);
			ww_jw_str(w, "to", d->dst);
			ww_jw_str(w, "verdict", verdict_name(d->verdict));
			ww_jw_u64(w, "packets", c ? c->packets : 0);
			ww_jw_end_obj(w);
		} else if ((int)d->verdict != common) {
			sb_addf(out, "  %s %s -> %s (%llu packets)\n", verdict_name(d->verdict), d->src,
				d->dst, c ? (unsigned long long)c->packets : 0ULL);
		}
	}
	if (w)
		ww_jw_end_arr(w);
}

/* show --json: compact, each of the top-level members on a line of its own. */
static void print_view_json(struct view *v, struct strbuf *out)
{
	struct ww_jw w = {.out = out, .compact = true};
	char tb[WW_TIME_STRLEN];

	ww_jw_obj(&w, NULL);
	if (v->gen.gen) {
		ww_jw_obj(&w, "applied");
		ww_jw_u64(&w, "generation", v->gen.gen);
		ww_jw_str(&w, "name", v->gen.policy_name);
		ww_jw_str(&w, "sha256", v->gen.policy_sha256);
		ww_jw_str(&w, "time", ww_time_str(v->gen.time, tb));
		ww_jw_end_obj(&w);
	} else {
		ww_jw_null(&w, "applied");
	}
	ww_jw_wrap(&w, "");
	ww_jw_obj(&w, "nftables");
	ww_jw_bool(&w, "present", v->live);
	if (v->live) {
		ww_jw_str(&w, "mode", ww_rb_mode(&v->rb));
		ww_jw_u64(&w, "chains", v->live->nchains);
		ww_jw_u64(&w, "maps", v->live->nsets);
		ww_jw_u64(&w, "counters", v->live->ncounters);
		ww_jw_u64(&w, "unexplained", v->rb.unexplained);
		ww_jw_i64(&w, "drift", v->nft_drift);
		ww_jw_str(&w, "read", v->c.vouched ? "generation-unchanged" : "kernel");
	}
	ww_jw_end_obj(&w);
	ww_jw_wrap(&w, "");
	ww_jw_obj(&w, "xdp");
	ww_jw_bool(&w, "present", v->has_xdp);
	if (v->has_xdp) {
		ww_jw_u64(&w, "generation", v->xs.generation);
		ww_jw_str(&w, "program_tag", v->xs.prog_tag);
		if (v->xdp_same < 0)
			ww_jw_null(&w, "matches_applied");
		else
			ww_jw_bool(&w, "matches_applied", v->xdp_same);
		ww_jw_arr(&w, "links");
		for (size_t i = 0; i < v->xs.nlinks; i++) {
			ww_jw_obj(&w, NULL);
			ww_jw_str(&w, "interface", v->xs.links[i].ifname);
			ww_jw_str(&w, "mode", v->xs.links[i].generic ? "generic" : "native");
			ww_jw_bool(&w, "attached", v->xs.links[i].present);
			ww_jw_end_obj(&w);
		}
		ww_jw_end_arr(&w);
	}
	ww_jw_end_obj(&w);
	if (v->live) {
		ww_jw_wrap(&w, "");
		print_zones(v, &w, out);
		ww_jw_wrap(&w, "");
		print_flows(v, &w, out);
		ww_jw_wrap(&w, "");
		print_defaults(v, &w, out);
	}
	ww_jw_end_obj(&w);
}

static void print_view(struct view *v, bool json, struct strbuf *out)
{
	static const char *const hooks[] = {"-", "gateway (hook forward)", "host (hooks input and output)",
					    "host", "bridge (hook forward of the bridge family)"};
	char tb[WW_TIME_STRLEN];

	if (json) {
		print_view_json(v, out);
		return;
	}
	if (v->gen.gen)
		sb_addf(out, "applied: generation %lu (%s, sha256 %.12s, %s by %s)\n", v->gen.gen,
			v->gen.policy_name, v->gen.policy_sha256, ww_time_str(v->gen.time, tb),
			v->gen.user);
	else
		sb_add(out, "applied: nothing recorded in the state directory\n");
	if (!v->live) {
		sb_add(out, "nftables: no table inet " WW_NFT_TABLE " (nor bridge)\n");
	} else {
		sb_addf(out, "nftables: table %s " WW_NFT_TABLE ", %s; %zu chains, %zu maps, %zu "
			     "counters",
			nfr_family_str(v->live->family), hooks[v->rb.hook], v->live->nchains, v->live->nsets, v->live->ncounters);
		if (v->nft_drift >= 0)
			sb_addf(out, "; %s", v->nft_drift ? "DRIFT: differs from the applied generation "
							    "(see `wardwall plan`)"
							  : "equals the applied generation");
		if (v->c.vouched)
			sb_addf(out,
				" (ruleset generation %" PRIu32 " is still wardwall's own: "
				"counters read, the rest not read back)",
				v->c.genid);
		sb_add(out, "\n");
		if (v->rb.nifaces) {
			sb_add(out, "  filters traffic through:");
			for (size_t i = 0; i < v->rb.nifaces; i++)
				sb_addf(out, " %s", v->rb.ifaces[i]);
			sb_add(out, "\n");
		}
	}
	if (!v->has_xdp) {
		sb_add(out, "xdp: nothing pinned\n");
	} else {
		sb_addf(out, "xdp: program tag %s, kernel generation %llu%s", v->xs.prog_tag,
			(unsigned long long)v->xs.generation, v->xs.valid ? "" : " (none installed)");
		if (v->xdp_same >= 0)
			sb_addf(out, "; %s", v->xdp_same ? "maps equal the applied generation"
							 : "DRIFT: maps differ from the applied generation");
		if (v->c.xdp_links == 0)
			sb_add(out, "; DRIFT: links differ from the policy's interfaces");
		sb_add(out, "\n");
		for (size_t i = 0; i < v->xs.nlinks; i++)
			sb_addf(out, "  %s: %s%s\n", v->xs.links[i].ifname,
				v->xs.links[i].generic ? "generic" : "native",
				v->xs.links[i].present    ? ""
				: v->xs.links[i].detached ? " (DETACHED: the link no longer holds the "
							    "interface; run wardwall apply)"
							  : " (interface gone: stale link)");
	}
	if (v->live) {
		print_zones(v, NULL, out);
		print_flows(v, NULL, out);
		print_defaults(v, NULL, out);
		if (v->rb.unexplained)
			sb_addf(out, "note: %zu rules or elements fit no shape wardwall writes (drift)\n",
				v->rb.unexplained);
	}
}

static int build_view(struct view *v, const char *state_dir, const char *bpffs, struct strbuf *err)
{
	int e = ww_collect_vouched(state_dir, bpffs, &v->c, err);

	if (e)
		return e;
	v->live = v->c.live;
	v->rb = v->c.rb;
	v->xdp = v->c.xdp;
	v->xs = v->c.xs;
	v->has_xdp = v->c.has_xdp;
	v->gen = v->c.gen;
	v->applied = v->c.applied;
	v->nft_drift = v->c.drift_known ? (long)(v->c.drift.n + v->c.drift.replace) : -1;
	v->xdp_same = v->c.xdp_same;
	return 0;
}

struct show_args {
	bool canonical, json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt show_opts[] = {
	WW_FLAG("--canonical", struct show_args, canonical),
	WW_FLAG("--json", struct show_args, json),
	WW_STR("--state-dir", struct show_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct show_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_show(int argc, char **argv)
{
	struct show_args a = {0};
	char *pos[1];
	int npos, rc = WW_EXIT_USAGE;
	struct view v = {0};
	struct strbuf err = {0}, out = {0};

	if (ww_opts_parse(show_opts, argc, argv, &a, pos, 1, &npos))
		return ww_usage(&ww_cmd_show);
	if (a.canonical)
		return npos == 1 ? show_canonical(pos[0]) : ww_usage(&ww_cmd_show);
	if (npos)
		return ww_usage(&ww_cmd_show);
	ww_cli_recover(a.state_dir, a.bpffs);
	if (build_view(&v, a.state_dir, a.bpffs, &err)) {
		ww_errorf("show: %s", sb_str(&err));
	} else {
		print_view(&v, a.json, &out);
		ww_quar_report_into(a.state_dir, a.bpffs, ww_now(), a.json, &out);
		fputs(sb_str(&out), stdout);
		rc = WW_EXIT_OK;
	}
	sb_free(&err);
	sb_free(&out);
	names_free(&v.names);
	ww_collect_free(&v.c);
	return rc;
}

const struct ww_cmd ww_cmd_show = {
	"show", cmd_show,
	"what the kernel enforces now, in policy terms; with --canonical POLICY, a policy's "
	"canonical form",
	show_opts, "[POLICY]", NULL,
};
