// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verifier and load test: policies of 10, 1,000 and 100,000 flows are generated, parsed,
 * compiled and installed into a freshly loaded program (every size starts from an empty bpffs,
 * so the verifier checks the program each time), then a sample of packets is checked against
 * the reference evaluator. Prints the load and install times, the verifier's instruction count
 * and each generation map's entries and memory.
 *
 * Environment: WW_LOAD_SIZES (flow counts, comma-separated, default "10,1000,100000"; 0 for
 * none);
 * WW_LOAD_POLICY (a policy file to load as well, e.g. from tests/bench/genpolicy.py);
 * WW_LOAD_READBACK=1 (read the generation back and compare it past 10,000 flows too).
 * Run it under tests/xdp/sandbox.sh.
 */
#include "xdp.h"

#define NHOSTS 8
#define NSVCS  40
#define SAMPLE 300 /* packets checked against the oracle per policy */

struct genp {
	size_t nzones, neps;
	uint64_t r;
};

static uint64_t next(struct genp *g)
{
	g->r ^= g->r << 13;
	g->r ^= g->r >> 7;
	g->r ^= g->r << 17;
	return g->r;
}

/* Endpoint e (0..neps-1): a zone (e < nzones) or host e % NHOSTS of zone e / NHOSTS. */
static void ep_name(const struct genp *g, size_t e, char *buf, size_t n)
{
	if (e < g->nzones)
		snprintf(buf, n, "z%03zu", e);
	else
		snprintf(buf, n, "z%03zu/h%zu", (e - g->nzones) / NHOSTS, (e - g->nzones) % NHOSTS);
}

/*
 * A policy of nflows flows between zones and host groups, every flow on its own (source,
 * destination) endpoint pair so that no decision list outgrows the program's; services of
 * single ports, ranges, several protocols and ICMP types; a few denies, monitor-mode denies and
 * windows.
 */
static char *gen_policy(size_t nflows, int64_t now)
{
	struct genp g = {.r = 0x9e3779b97f4a7c15ULL};
	struct strbuf sb = {0};
	char a[32], b[32], tb[WW_TIME_STRLEN];

	g.nzones = nflows / 400 < 4 ? 4 : nflows / 400 > 250 ? 250 : nflows / 400;
	g.neps = g.nzones * (NHOSTS + 1);
	sb_addf(&sb, "{\"wardwall\": 1, \"name\": \"load-%zu\", \"zones\": {", nflows);
	for (size_t z = 0; z < g.nzones; z++) {
		sb_addf(
		    &sb,
		    "%s\n \"z%03zu\": {\"networks\": [\"10.%zu.%zu.0/24\", \"fd00:%zx::/48\"]%s, "
		    "\"hosts\": {",
		    z ? "," : "", z, z / 256, z % 256, z + 1,
		    z % 17 == 5 ? ", \"mode\": \"monitor\"" : "");
		for (size_t h = 0; h < NHOSTS; h++)
			sb_addf(&sb, "%s\"h%zu\": [\"10.%zu.%zu.%zu/28\", \"fd00:%zx:0:%zx::/64\"]",
				h ? ", " : "", h, z / 256, z % 256, 16 * (h + 1), z + 1, h + 1);
		sb_add(&sb, "}}");
	}
	sb_add(&sb, "},\n\"services\": {");
	for (size_t s = 0; s < NSVCS; s++) {
		unsigned int p = 2000 + 37 * (unsigned int)s;
		sb_addf(&sb, "%s\n \"svc%02zu\": ", s ? "," : "", s);
		switch (s % 5) {
		case 0:
			sb_addf(&sb, "[{\"proto\": \"tcp\", \"ports\": [%u]}]", p);
			break;
		case 1:
			sb_addf(&sb, "[{\"proto\": \"tcp\", \"ports\": [\"%u-%u\", %u]}]", p,
				p + 20, p + 30);
			break;
		case 2:
			sb_addf(
			    &sb,
			    "[{\"proto\": \"udp\", \"ports\": [\"%u-%u\"]}, {\"proto\": \"tcp\", "
			    "\"ports\": [%u]}]",
			    p, p + 3, p);
			break;
		case 3:
			sb_addf(&sb,
				"[{\"proto\": \"sctp\", \"ports\": [%u]}, {\"proto\": \"icmp\", "
				"\"types\": [\"3-5\", 11]}]",
				p);
			break;
		default:
			sb_addf(&sb,
				"[{\"proto\": \"icmpv6\", \"types\": [%u]}, {\"proto\": \"gre\"}]",
				1 + (unsigned int)s % 4);
		}
	}
	sb_add(&sb, "},\n\"flows\": [");
	for (size_t i = 0; i < nflows; i++) {
		/* Pair k of neps^2, k = i * 7919 mod neps^2: distinct while nflows <= neps^2. */
		uint64_t k = (uint64_t)i * 7919 % ((uint64_t)g.neps * g.neps);
		uint64_t x = next(&g);
		ep_name(&g, (size_t)(k / g.neps), a, sizeof(a));
		ep_name(&g, (size_t)(k % g.neps), b, sizeof(b));
		sb_addf(
		    &sb,
		    "%s\n {\"id\": \"f%06zu\", \"from\": \"%s\", \"to\": \"%s\", \"services\": ",
		    i ? "," : "", i, a, b);
		if (x % 10 == 0)
			sb_addf(&sb, "[\"svc%02u\", \"https\"]", (unsigned int)(x >> 8) % NSVCS);
		else if (x % 10 == 1)
			sb_add(&sb, "\"any\"");
		else
			sb_addf(&sb, "\"svc%02u\"", (unsigned int)(x >> 8) % NSVCS);
		sb_addf(&sb, ", \"action\": \"%s\"", x % 20 == 3 || x % 20 == 4 ? "deny" : "allow");
		if (x % 20 == 4)
			sb_add(&sb, ", \"mode\": \"monitor\"");
		if (x % 100 == 7)
			sb_addf(&sb, ", \"valid\": {\"until\": \"%s\"}",
				ww_time_str(now + 86400, tb));
		if (x % 100 == 8)
			sb_addf(&sb, ", \"valid\": {\"from\": \"%s\"}",
				ww_time_str(now + 86400, tb));
		sb_add(&sb, "}");
	}
	sb_add(&sb, "\n]}\n");
	return sb_steal(&sb);
}

/* ---- figures ---- */

static uint64_t fdinfo_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* One line per generation map: entries, sizes and the kernel's memory figure. */
static void print_maps(struct xt *t, struct strbuf *out, uint64_t *total)
{
	static const char *const outer[] = {"ww_cls4", "ww_cls6", "ww_rules", "ww_dlists",
					    "ww_settings"};
	struct ww_active a = {0};
	uint32_t zero = 0;

	*total = 0;
	bpf_map_lookup_elem(ww_xdp_fd(t->x, "ww_active"), &zero, &a);
	for (size_t i = 0; i < ARRAY_SIZE(outer); i++) {
		uint32_t id, slot = a.slot & 1;
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		int fd;
		if (bpf_map_lookup_elem(ww_xdp_fd(t->x, outer[i]), &slot, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
			uint64_t m = fdinfo_memlock(fd);
			*total += m;
			sb_addf(out, "#   %-12s %7u entries x (%u + %u bytes), %8.1f KiB\n",
				outer[i], info.max_entries, info.key_size, info.value_size,
				(double)m / 1024);
		}
		close(fd);
	}
}

/* Sample packets between the policy's endpoints, checked against the oracle; counts[] per
 * verdict. Returns how many differ, or -1. */
static int sample(struct xt *t, const struct ww_policy *p, int counts[3], struct strbuf *why)
{
	uint64_t r = 0x2545f4914f6cdd1dULL;
	int bad = 0;

	xt_ct_clear(t);
	for (int n = 0; n < SAMPLE && p->nflows; n++) {
		static const int protos[] = {IPPROTO_TCP,  IPPROTO_UDP,	   IPPROTO_SCTP,
					     IPPROTO_ICMP, IPPROTO_ICMPV6, 47};
		uint8_t buf[XT_FRAME_MAX];
		struct xpkt pk = {0};
		struct ww_verdict v;
		struct ww_packet k;
		uint32_t action = 0;
		const struct ww_flow *f;
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		f = &p->flows[r % p->nflows];
		/* An address of the flow's first source and destination endpoints. */
		const struct ww_endpoint *es = f->from.n ? &f->from.v[0] : NULL;
		const struct ww_endpoint *ed = f->to.n ? &f->to.v[0] : NULL;
		if (!es || !ed)
			continue;
		int fam = (r >> 20) & 1 ? WW_INET6 : WW_INET;
		const struct ww_net *ns = NULL, *nd = NULL;
		const struct ww_net *vs = es->host ? es->host->nets : es->zone->nets;
		size_t cs = es->host ? es->host->nnets : es->zone->nnets;
		const struct ww_net *vd = ed->host ? ed->host->nets : ed->zone->nets;
		size_t cd = ed->host ? ed->host->nnets : ed->zone->nnets;
		for (size_t i = 0; i < cs; i++)
			if (vs[i].pfx.a.family == fam)
				ns = &vs[i];
		for (size_t i = 0; i < cd; i++)
			if (vd[i].pfx.a.family == fam)
				nd = &vd[i];
		if (!ns || !nd)
			continue;
		pk.family = fam == WW_INET ? 4 : 6;
		ww_addr_bytes(fam, ww_prefix_first(&ns->pfx) + 1 + (r >> 32) % 7, pk.src);
		ww_addr_bytes(fam, ww_prefix_first(&nd->pfx) + 1 + (r >> 40) % 7, pk.dst);
		pk.proto = protos[(r >> 24) % ARRAY_SIZE(protos)];
		pk.sport = (uint16_t)(1024 + n);
		pk.dport = (uint16_t)(2000 + (r >> 28) % 1600);
		pk.type = (uint8_t)((r >> 28) % 16);
		size_t len = xpkt_build(&pk, buf);
		if (xt_run(t, buf, len, &action))
			return -1;
		k = xpkt_oracle(&pk, time(NULL));
		ww_evaluate(p, &k, &v);
		counts[v.kind]++;
		if (action != xt_action_of(v.kind)) {
			struct strbuf ps = {0};
			xpkt_str(&pk, &ps);
			sb_addf(why, "%s: XDP %s, the oracle %s\n", sb_str(&ps),
				xt_action_str(action), ww_verdict_str(v.kind));
			sb_free(&ps);
			bad++;
		}
		xt_ct_clear(t);
	}
	return bad;
}

/* Loads the program into an empty bpffs, installs p, reports; the pins are removed after. */
static void load_and_install(const char *what, const struct ww_policy *p, double parse_s)
{
	struct strbuf err = {0}, out = {0};
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	struct xt_gen g;
	struct xt t;
	uint64_t mem;
	bool changed;
	double t0;
	int e;

	ww_xdp_remove(NULL, &changed, &err); /* an empty bpffs: the verifier runs again */
	t0 = xt_secs();
	e = xt_open(&t, &err);
	double load_s = xt_secs() - t0;
	if (e) {
		xt_comment(sb_str(&err));
		fail_msg("%s: loading the program: %s", what, strerror(-e));
	}
	assert_int_equal(bpf_obj_get_info_by_fd(t.prog, &info, &len), 0);
	e = xt_install(&t, p, &g, &err);
	if (e) {
		xt_comment(sb_str(&err));
		xt_close(&t);
		fail_msg("%s: installing the generation: %s", what, strerror(-e));
	}
	sb_addf(&out, "%s: %zu zones, %zu hosts, %zu flows\n", what, p->nzones, p->nhosts,
		p->nflows);
	sb_addf(&out,
		"  parse %.3f s; load %.3f s (verifier: %u instructions processed, %u "
		"translated, %u JITed bytes)\n",
		parse_s, load_s, info.verified_insns, info.xlated_prog_len / 8,
		info.jited_prog_len);
	sb_addf(&out,
		"  compile %.3f s, prepare %.3f s, switch %.3f s, finish %.3f s: %zu "
		"classification entries, %zu rules, %zu decision lists\n",
		g.compile_s, g.prepare_s, g.switch_s, g.finish_s, g.ncls, g.nrules, g.ndlists);
	xt_comment(sb_str(&out));
	sb_reset(&out);
	print_maps(&t, &out, &mem);
	sb_addf(&out, "#   generation maps: %.1f KiB\n", (double)mem / 1024);
	print_message("%s", sb_str(&out));
	sb_reset(&out);
	/* What `wardwall apply` does first: is the kernel's generation this policy already?
	 * (Seconds at 100,000 flows: only on request there.) */
	bool same = true;
	if (p->nflows <= 10000 || getenv("WW_LOAD_READBACK")) {
		struct ww_xdp_image img;
		struct ww_diags d = {0};
		assert_int_equal(ww_compile_xdp(p, &img, &d), 0);
		t0 = xt_secs();
		e = ww_xdp_same(t.x, &img, p, &same, &err);
		print_message("#   readback and compare (ww_xdp_same): %.3f s, %s\n",
			      xt_secs() - t0,
			      e	     ? strerror(-e)
			      : same ? "same"
				     : "DIFFERENT");
		ww_xdp_image_free(&img);
		ww_diags_free(&d);
	}
	int counts[3] = {0, 0, 0};
	int bad = sample(&t, p, counts, &out);
	print_message("#   %d sample packets: %d allow, %d deny, %d monitor; %d differ from the "
		      "oracle\n",
		      SAMPLE, counts[WW_V_ALLOW], counts[WW_V_DENY], counts[WW_V_MONITOR], bad);
	xt_close(&t);
	ww_xdp_remove(NULL, &changed, &err);
	if (bad) {
		xt_comment(sb_str(&out));
		fail_msg("%s: %d of %d sample packets differ from the oracle", what, bad, SAMPLE);
	}
	if (e || !same)
		fail_msg("%s: the installed generation does not read back as the policy", what);
	sb_free(&out);
	sb_free(&err);
}

static void test_size(void **state)
{
	size_t n = (size_t)(uintptr_t)*state;
	struct ww_policy *p = NULL;
	struct strbuf err = {0};
	char what[32];
	double t0;
	char *json = gen_policy(n, time(NULL));

	snprintf(what, sizeof(what), "%zu flows", n);
	t0 = xt_secs();
	if (xt_parse(what, json, &p, &err)) {
		xt_comment(sb_str(&err));
		free(json);
		fail_msg("the generated policy of %zu flows is invalid", n);
	}
	free(json);
	load_and_install(what, p, xt_secs() - t0);
	ww_policy_free(p);
	sb_free(&err);
}

static void test_file(void **state)
{
	const char *path = *state;
	struct ww_diags d = {.file = path};
	struct ww_policy *p = NULL;
	struct strbuf err = {0};
	double t0 = xt_secs();
	int e = ww_policy_load(path, &d, &p);

	if (e) {
		ww_diags_print(&d, &err);
		xt_comment(sb_str(&err));
		fail_msg("%s: %s", path, strerror(-e));
	}
	ww_diags_free(&d);
	load_and_install(path, p, xt_secs() - t0);
	ww_policy_free(p);
}

int main(void)
{
	const char *sizes = getenv("WW_LOAD_SIZES"), *file = getenv("WW_LOAD_POLICY");
	struct CMUnitTest tests[16];
	char names[16][32];
	size_t n = 0;
	struct strbuf why = {0};

	if (xt_sandbox_check(&why)) {
		printf("1..1\nnot ok 1 - %s\n", sb_str(&why));
		sb_free(&why);
		return 1;
	}
	for (const char *s = sizes && *sizes ? sizes : "10,1000,100000"; *s && n < 15;) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s)
			break;
		s = *end == ',' ? end + 1 : end;
		if (!v) /* WW_LOAD_SIZES=0: only WW_LOAD_POLICY */
			continue;
		snprintf(names[n], sizeof(names[n]), "%lu flows", v);
		tests[n] = (struct CMUnitTest){.name = names[n],
					       .test_func = test_size,
					       .initial_state = (void *)(uintptr_t)v};
		n++;
	}
	if (file && *file)
		tests[n++] = (struct CMUnitTest){
		    .name = file, .test_func = test_file, .initial_state = (void *)file};
	return _cmocka_run_group_tests("xdp_load", tests, n, NULL, NULL);
}
