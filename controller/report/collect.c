// SPDX-License-Identifier: GPL-2.0-only
#include "collect.h"
#include "confirm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <signal.h>

#include "intent.h"
#include "nft_compile.h"
#include "xdp_compile.h"
#include "nft_mark.h"
#include "nft_nl.h"
#include "policy.h"

const char *ww_xdp_stat_name(int s)
{
	static const char *const names[WW_S_MAX] = {
		[WW_S_PACKETS] = "packets",		[WW_S_NOT_IP] = "not_ip",
		[WW_S_LOCAL] = "local",			[WW_S_FRAGMENT] = "fragment",
		[WW_S_TRUNCATED] = "truncated",		[WW_S_MALFORMED] = "malformed",
		[WW_S_EXTHDR_LIMIT] = "exthdr_limit",	[WW_S_NO_POLICY] = "no_policy",
		[WW_S_CT_HIT] = "ct_hit",		[WW_S_CT_REVOKED] = "ct_revoked",
		[WW_S_RELATED] = "related",		[WW_S_EVENTS] = "events",
		[WW_S_EVENTS_RATE] = "events_rate_limited", [WW_S_EVENTS_FULL] = "events_ring_full",
	};
	return s >= 0 && s < WW_S_MAX ? names[s] : "?";
}

static int flow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_flow_stat *)a)->id, ((const struct ww_flow_stat *)b)->id);
}

/* The entry for flow id among the first n (sorted by id), or NULL. */
static struct ww_flow_stat *find_flow(struct ww_collect *c, size_t n, const char *id)
{
	struct ww_flow_stat key = {.id = (char *)id};

	return n ? bsearch(&key, c->flows, n, sizeof(*c->flows), flow_cmp) : NULL;
}

static int add_flow(struct ww_collect *c, const char *id, size_t *cap, struct ww_flow_stat **out)
{
	struct ww_flow_stat f = {.id = strdup(id)};

	if (!f.id || VEC_PUSH(c->flows, c->nflows, *cap, f)) {
		free(f.id);
		return -ENOMEM;
	}
	*out = &c->flows[c->nflows - 1];
	return 0;
}

static long default_index(const struct ww_collect *c, const char *src, const char *dst)
{
	for (size_t i = 0; i < c->ndefaults; i++)
		if (!strcmp(c->defaults[i].src, src) && !strcmp(c->defaults[i].dst, dst))
			return (long)i;
	return -1;
}

/*
 * The XDP tier counts defaults per zone pair; each pair is added to the default the nftables
 * tier counts it in (compile_nft.h): within a zone to "<zone>/<zone>", to a zone in monitor mode
 * to "<zone>/_monitor" when that exists (the source is not in monitor mode itself), else to
 * "<zone>/_other". The zones are those the kernel's default stage names ("<zone>/_other" exists
 * for each, and "-"); a zone is in monitor mode when its "<zone>/_other" only monitors.
 */
static int xdp_defaults(struct ww_collect *c)
{
	size_t n = 0;
	long *within = NULL, *other = NULL, *tomon = NULL;
	const char **names = NULL;
	bool *msrc = NULL;
	int e = 0;

	names = calloc(c->ndefaults + 1, sizeof(*names));
	within = calloc(c->ndefaults + 1, sizeof(*within));
	other = calloc(c->ndefaults + 1, sizeof(*other));
	tomon = calloc(c->ndefaults + 1, sizeof(*tomon));
	msrc = calloc(c->ndefaults + 1, sizeof(*msrc));
	if (!names || !within || !other || !tomon || !msrc) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->ndefaults; i++) {
		const struct ww_default_stat *d = &c->defaults[i];
		if (strcmp(d->dst, WW_NFT_OTHER))
			continue;
		names[n] = d->src;
		other[n] = (long)i;
		msrc[n] = d->verdict == WW_RB_MONITOR;
		within[n] = default_index(c, d->src, d->src);
		tomon[n] = default_index(c, d->src, WW_NFT_MONITOR);
		n++;
	}
	for (size_t i = 0; i < c->ndefaults; i++)
		c->defaults[i].xdp.present = true;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++) {
			uint64_t pk, by;
			long t = a == b && within[a] >= 0 ? within[a]
				 : a != b && msrc[b] && tomon[a] >= 0 ? tomon[a]
								       : other[a];
			if (!ww_xdp_default_counter(c->xdp, names[a], names[b], &pk, &by))
				continue;
			c->defaults[t].xdp.packets += pk;
			c->defaults[t].xdp.bytes += by;
		}
out:
	free(names);
	free(within);
	free(other);
	free(tomon);
	free(msrc);
	return e;
}

/* When each counter started, as the state directory records it (keys "nft:NAME", "xdp:ID"). */
struct since_tab {
	char **names;
	int64_t *since;
	size_t n;
};

static int64_t since_of(const struct since_tab *t, const char *key)
{
	return ww_state_counter_since(t->names, t->since, t->n, key);
}

static void since_free(struct since_tab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->since);
}

/* The kernel's table, read back into policy terms (without facts: only its defaults). */
static int collect_nft(struct ww_collect *c, bool facts, struct strbuf *err)
{
	struct ww_nft *nft = NULL;
	int e = ww_nft_open(&nft);

	if (!e)
		e = ww_nft_read(nft, &c->live, &c->genid, err);
	ww_nft_close(nft);
	if (!e && c->live)
		e = facts ? ww_readback(c->live, &c->rb) : ww_readback_defaults(c->live, &c->rb);
	return e;
}

/* The recorded generation, its policy and the counters' start times; an unreadable record is
 * no record (show says so), but a state directory that is a symbolic link is refused. */
static int collect_state(struct ww_collect *c, const char *state_dir, struct since_tab *t,
			 struct strbuf *err)
{
	struct ww_state *st = NULL;
	struct ww_diags d = {.file = "generation"};
	struct ww_pending pd;
	int e;

	/* A change on probation (apply --confirm): its deadline, for plan, stats and metrics. */
	if (!ww_pending_load(state_dir, &pd)) {
		c->pending = true;
		c->pending_gen = pd.gen;
		c->pending_previous = pd.previous;
		c->pending_deadline = pd.deadline;
	}
	e = ww_state_open(state_dir, false, &st, err);
	if (e == -ELOOP)
		return e;
	if (st) {
		if (!ww_state_current(st, &c->gen) && c->gen.gen)
			ww_state_policy_sha(st, c->gen.gen, &c->applied, &d, c->applied_sha256);
		ww_state_counters_load(st, &t->names, &t->since, &t->n);
	}
	sb_reset(err);
	ww_state_close(st);
	ww_diags_free(&d);
	return 0;
}

/* The XDP tier: its maps and statistics, and whether maps and links are the applied
 * policy's (xdp_same, xdp_links: -1 unknown, 0 no, 1 yes). */
static void collect_xdp(struct ww_collect *c, const char *bpffs, struct strbuf *err)
{
	bool wanted = c->applied && c->applied->enf.xdp != WW_XDP_OFF;

	if (ww_xdp_open(bpffs, false, &c->xdp, err)) {
		if (wanted)
			c->xdp_same = 0;
		sb_reset(err);
		return;
	}
	c->has_xdp = !ww_xdp_read(c->xdp, &c->xs, err) && !ww_xdp_stats(c->xdp, c->xdp_stats);
	struct ww_xdp_image img;
	struct ww_diags dx = {0};
	bool same;
	if (c->has_xdp && wanted && !ww_compile_xdp(c->applied, &img, &dx)) {
		if (!ww_xdp_same(c->xdp, &img, c->applied, &same, err))
			c->xdp_same = same;
		/* A link detached from its interface, or one missing: the maps may be right
		 * while an interface is not filtered as the policy says. */
		if (!ww_xdp_links_ok(c->xdp, c->applied, &same, err))
			c->xdp_links = same;
		ww_xdp_image_free(&img);
	} else if (wanted) {
		c->xdp_same = 0; /* asked for, not there */
	}
	ww_diags_free(&dx);
	sb_reset(err);
}

/* Flows: every counter the kernel has and every flow the record has, sorted by id, with the
 * counts of both tiers. */
static int collect_flows(struct ww_collect *c, const struct since_tab *t)
{
	const char *fp = WW_NFT_FLOW_PREFIX;
	size_t fcap = 0;
	int e = 0;

	for (size_t i = 0; c->live && i < c->live->ncounters && !e; i++) {
		const struct nfr_counter *n = &c->live->counters[i];
		struct ww_flow_stat *f;
		char key[128];
		if (!strcmp(n->name, "ct-invalid"))
			c->ct_invalid = n->packets;
		if (strncmp(n->name, fp, strlen(fp)))
			continue;
		e = add_flow(c, n->name + strlen(fp), &fcap, &f);
		if (e)
			break;
		f->nft = (struct ww_tier_count){true, n->packets, n->bytes, 0};
		snprintf(key, sizeof(key), "nft:%s", n->name);
		f->nft.since = since_of(t, key);
	}
	/* Sorted by id: the kernel's, then those of the record the kernel lacks (one each). */
	size_t nlive = c->nflows;
	if (nlive)
		qsort(c->flows, nlive, sizeof(*c->flows), flow_cmp);
	for (size_t i = 0; c->applied && i < c->applied->nflows && !e; i++) {
		struct ww_flow_stat *f;
		if (!find_flow(c, nlive, c->applied->flows[i].id))
			e = add_flow(c, c->applied->flows[i].id, &fcap, &f);
	}
	if (!e && c->nflows)
		qsort(c->flows, c->nflows, sizeof(*c->flows), flow_cmp);
	for (size_t i = 0; c->applied && i < c->nflows; i++)
		c->flows[i].flow = ww_flow_find(c->applied, c->flows[i].id);
	for (size_t i = 0; i < c->nflows && c->has_xdp && !e; i++) {
		struct ww_flow_stat *f = &c->flows[i];
		char key[128];
		f->xdp.present = ww_xdp_flow_counter(c->xdp, f->id, &f->xdp.packets, &f->xdp.bytes);
		snprintf(key, sizeof(key), "xdp:%s", f->id);
		f->xdp.since = since_of(t, key);
	}
	return e;
}

/* Defaults as the kernel's default chains say (O(zones), see compile_nft.h), with the counts
 * of both tiers. */
static int collect_defaults(struct ww_collect *c, const struct since_tab *t)
{
	size_t dcap = 0;

	for (size_t i = 0; i < c->rb.ndefaults; i++) {
		const struct ww_rb_default *rd = &c->rb.defaults[i];
		const struct nfr_counter *n = nfr_counter_find(c->live, rd->counter);
		char key[256];
		struct ww_default_stat ds = {.src = strdup(rd->src), .dst = strdup(rd->dst),
					     .verdict = rd->verdict};
		if (!ds.src || !ds.dst || VEC_PUSH(c->defaults, c->ndefaults, dcap, ds)) {
			free(ds.src), free(ds.dst);
			return -ENOMEM;
		}
		struct ww_default_stat *x = &c->defaults[c->ndefaults - 1];
		snprintf(key, sizeof(key), "nft:%s%s/%s", WW_NFT_DEFAULT_PREFIX, rd->src, rd->dst);
		if (n)
			x->nft = (struct ww_tier_count){true, n->packets, n->bytes, since_of(t, key)};
	}
	return c->has_xdp ? xdp_defaults(c) : 0;
}

/* The counters of c->expected as the kernel has them now, copied into it; -ENOENT when one is
 * missing. */
static int read_counters(struct ww_nft *nft, struct ww_collect *c, struct strbuf *err)
{
	struct nfr_table *got = NULL;
	int e = ww_nft_read_counters(nft, c->expected, &got, err);

	if (!e && got->ncounters != c->expected->ncounters)
		e = -ENOENT;
	for (size_t i = 0; !e && i < got->ncounters; i++) {
		struct nfr_counter *x = nfr_counter_find(c->expected, got->counters[i].name);
		if (!x) {
			e = -ENOENT;
			break;
		}
		x->packets = got->counters[i].packets;
		x->bytes = got->counters[i].bytes;
	}
	nfr_table_free(got);
	return e;
}

/*
 * The table as the mark vouches for it (nft_mark.h): while the ruleset generation is still the
 * one wardwall's own commit of the applied policy left, no commit has changed any table since,
 * so the table is that policy compiled; only its counters, which packets move, are read.
 * Returns 1 (c->live is c->expected, counters read, no drift), 0 (read the kernel) or -errno.
 */
static int collect_vouched(struct ww_collect *c, const char *state_dir, bool facts,
			   struct strbuf *err)
{
	struct ww_nft *nft = NULL;
	bool ok = false;
	int e;

	if (!c->applied || !c->gen.gen || ww_nft_open(&nft))
		return 0;
	if (ww_nft_mark_vouches(nft, state_dir, c->gen.policy_sha256, &c->genid)) {
		/* The saved file's bytes are its canonical text: their hash is the policy's.
		 * Without facts only the counters and the defaults are decoded: no flow maps. */
		ok = !strcmp(c->applied_sha256, c->gen.policy_sha256) &&
		     !(facts ? ww_compile_nft : ww_compile_nft_counts)(c->applied, &c->expected);
	}
	e = ok ? read_counters(nft, c, err) : 0;
	ww_nft_close(nft);
	if (ok && !e) {
		c->live = c->expected;
		c->vouched = true;
		c->drift_known = true;
		e = facts ? ww_readback(c->live, &c->rb) : ww_readback_defaults(c->live, &c->rb);
		return e ? e : 1;
	}
	nfr_table_free(c->expected);
	c->expected = NULL;
	sb_reset(err);
	return e == -ENOMEM ? e : 0;
}

/* One read of the kernel and the record together (ww_collect makes sure it saw one
 * generation); with vouch, the table as the mark vouches for it when it does. */
static int collect_once(const char *state_dir, const char *bpffs, bool vouch, bool facts,
			struct ww_collect *c, struct strbuf *err)
{
	struct since_tab t = {0};
	int e;

	memset(c, 0, sizeof(*c));
	c->time = (int64_t)time(NULL);
	c->xdp_same = -1;
	c->xdp_links = -1;
	e = collect_state(c, state_dir, &t, err);
	if (!e && vouch)
		e = collect_vouched(c, state_dir, facts, err);
	if (e == 0) {
		e = collect_nft(c, facts, err);
		if (!e && c->applied && !ww_compile_nft(c->applied, &c->expected) &&
		    !ww_nft_diff(c->live, c->expected, &c->drift))
			c->drift_known = true;
	}
	if (e < 0) {
		since_free(&t);
		ww_collect_free(c);
		return e;
	}
	collect_xdp(c, bpffs, err);
	e = collect_flows(c, &t);
	if (!e)
		e = collect_defaults(c, &t);
	since_free(&t);
	if (e)
		ww_collect_free(c);
	return e;
}

/* What an apply moves, read before and after a collection to know it saw one generation. */
struct mark {
	bool busy;	   /* an apply, rollback or remove of a live process is under way */
	int pid;	   /* its process */
	unsigned long gen; /* the applied generation recorded */
	uint32_t genid;	   /* the nftables ruleset generation */
	uint64_t xdp_gen;  /* the XDP generation enforced (when x is given) */
};

static void read_mark(const char *state_dir, struct ww_xdp *x, struct mark *m)
{
	struct ww_state *st = NULL;
	struct ww_nft *nft = NULL;
	struct strbuf err = {0};
	struct ww_intent in;
	struct ww_generation g = {0};

	memset(m, 0, sizeof(*m));
	if (!ww_state_open(state_dir, false, &st, &err)) {
		/* A dead process's intent is an interrupted apply, not one under way: the state
		 * is what it is (drift) until a command finishes or undoes it. So is this
		 * process's own (the fleet agent's failed apply): it is not applying now. */
		if (ww_intent_load(st, &in) == 1 && in.pid > 0 && in.pid != getpid() &&
		    (!kill(in.pid, 0) || errno == EPERM))
			m->busy = true, m->pid = in.pid;
		if (!ww_state_current(st, &g))
			m->gen = g.gen;
	}
	ww_state_close(st);
	sb_free(&err);
	if (!ww_nft_open(&nft))
		ww_nft_genid(nft, &m->genid);
	ww_nft_close(nft);
	struct ww_active a = {0};
	uint32_t zero = 0;
	int fd = x ? ww_xdp_fd(x, "ww_active") : -1;
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &a))
		m->xdp_gen = a.generation;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int collect(const char *state_dir, const char *bpffs, bool vouch, bool facts,
		   struct ww_collect *c, struct strbuf *err)
{
	int64_t until = mono_ms() + WW_COLLECT_SETTLE_MS;
	struct mark before, after;
	int e;

	for (;;) {
		read_mark(state_dir, NULL, &before);
		if (!before.busy) {
			e = collect_once(state_dir, bpffs, vouch, facts, c, err);
			if (e && e != -EAGAIN)
				return e;
			if (!e) {
				/* Nothing began, ended or committed while it read: one generation.
				 */
				read_mark(state_dir, c->xdp, &after);
				if (!after.busy && after.gen == c->gen.gen &&
				    after.genid == c->genid &&
				    (!c->has_xdp || after.xdp_gen == c->xs.generation))
					return 0;
				if (after.busy)
					before = after;
				ww_collect_free(c);
			}
			sb_reset(err);
		}
		if (mono_ms() >= until)
			break;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (before.busy)
		sb_addf(err,
			"an apply (pid %d) has been changing the kernel for over %d s: "
			"between two generations",
			before.pid, WW_COLLECT_SETTLE_MS / 1000);
	else
		sb_add(err, "the ruleset kept changing while it was read");
	return -EAGAIN;
}

int ww_collect(const char *state_dir, const char *bpffs, struct ww_collect *c, struct strbuf *err)
{
	return collect(state_dir, bpffs, false, true, c, err);
}

int ww_collect_vouched(const char *state_dir, const char *bpffs, struct ww_collect *c,
		       struct strbuf *err)
{
	return collect(state_dir, bpffs, true, true, c, err);
}

int ww_collect_counts(const char *state_dir, const char *bpffs, struct ww_collect *c,
		      struct strbuf *err)
{
	return collect(state_dir, bpffs, true, false, c, err);
}

/* Drops the counts of c (flows, defaults), keeping the structure they were read for. */
static void counts_free(struct ww_collect *c)
{
	for (size_t i = 0; i < c->nflows; i++)
		free(c->flows[i].id);
	free(c->flows);
	for (size_t i = 0; i < c->ndefaults; i++) {
		free(c->defaults[i].src);
		free(c->defaults[i].dst);
	}
	free(c->defaults);
	c->flows = NULL, c->defaults = NULL;
	c->nflows = c->ndefaults = 0;
	c->ct_invalid = 0;
}

/* The nftables counters of c->live read again into it, while the ruleset generation is still
 * c->genid (1: it moved). */
static int reread_nft(struct ww_collect *c, struct strbuf *err)
{
	struct ww_nft *nft = NULL;
	int e = ww_nft_open(&nft);

	if (!e)
		e = ww_nft_refresh_counters(nft, c->live, c->genid, err);
	ww_nft_close(nft);
	return e;
}

int ww_collect_refresh(const char *state_dir, struct ww_collect *c, struct strbuf *err)
{
	struct since_tab t = {0};
	struct ww_state *st = NULL;
	struct ww_pending pd;
	struct mark m;
	int e;

	if (!c->live)
		return 1;
	read_mark(state_dir, c->xdp, &m);
	if (m.busy || m.gen != c->gen.gen || m.genid != c->genid ||
	    (c->has_xdp && m.xdp_gen != c->xs.generation))
		return 1;
	e = reread_nft(c, err);
	if (e)
		return e;
	c->pending = !ww_pending_load(state_dir, &pd);
	c->pending_gen = c->pending ? pd.gen : 0;
	c->pending_previous = c->pending ? pd.previous : 0;
	c->pending_deadline = c->pending ? pd.deadline : 0;
	if (c->has_xdp && ww_xdp_stats(c->xdp, c->xdp_stats))
		return 1;
	if (!ww_state_open(state_dir, false, &st, err))
		ww_state_counters_load(st, &t.names, &t.since, &t.n);
	ww_state_close(st);
	sb_reset(err);
	counts_free(c);
	e = collect_flows(c, &t);
	if (!e)
		e = collect_defaults(c, &t);
	since_free(&t);
	c->time = (int64_t)time(NULL);
	return e;
}

bool ww_collect_in_sync(const struct ww_collect *c)
{
	return c->drift_known && !c->drift.n && !c->drift.replace && c->xdp_same != 0 &&
	       c->xdp_links != 0;
}

void ww_collect_free(struct ww_collect *c)
{
	counts_free(c);
	ww_nft_diff_free(&c->drift);
	if (c->live != c->expected)
		nfr_table_free(c->live);
	nfr_table_free(c->expected);
	ww_readback_free(&c->rb);
	ww_xdp_state_free(&c->xs);
	ww_xdp_close(c->xdp);
	ww_policy_free(c->applied);
	memset(c, 0, sizeof(*c));
}
