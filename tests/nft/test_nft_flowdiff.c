// SPDX-License-Identifier: GPL-2.0-only
/*
 * The diff of flow maps (nft_diff.c: stable names, changed element by element) against the
 * kernel: a table of class z's flow maps (tests/unit/flowmap.h) is committed, then changed flow
 * by flow; each time the live table is read back (ww_nft_read), diffed against the wanted one,
 * the batch committed, and the table read back again must be the wanted one, with nothing left
 * for a diff to do. A one-flow change must take the handful of messages test_nft_diff pins
 * (the kernel refusing the order would fail the commit).
 *
 * Usage: test_nft_flowdiff inet|bridge, in a network namespace without a wardwall table of that
 * family. tests/suites/38-nft-flowmap-text.sh runs it in a namespace of its own; it refuses to
 * run in the namespace named by WW_NFT_OUTER_NS (the suite's own). Prints one "PASS what" or
 * "FAIL what :: why" line per step (tap.sh's report).
 */
#include <stdio.h>
#include <sys/stat.h>

#include "../unit/flowmap.h"
#include "nft_diff.h"
#include "nft_nl.h"

static int failures;
static enum nfr_family family;

/* Class z's verdict and counter maps with the pieces els; `goto dec-x` brings chain dec-x,
 * counting flow x. */
static struct nfr_table *flows(const struct fm_el *els, size_t n, enum fm_kind k)
{
	struct nfr_table *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->family = family;
	for (size_t i = 0; i < n; i++)
		if (!strncmp(els[i].verdict, "goto dec-", 9)) {
			char *counter = xstrdup_printf("flow/%s", els[i].verdict + 9);
			fm_dec(t, els[i].verdict + 5, counter, "accept");
			free(counter);
		}
	fm_maps(t, "z", k, els, n);
	nfr_table_sort(t);
	return t;
}

/* The same maps under the names of kind `as` (fl4's content in fp4/z: a map of another type). */
static struct nfr_table *renamed(struct nfr_table *t, enum fm_kind as)
{
	for (size_t i = 0; i < t->nsets; i++) {
		char *n = t->sets[i].name, *slash = strchr(n, '/');
		t->sets[i].name = xstrdup_printf("%c%s%s", n[0], fm_kinds[as].prefix + 1, slash);
		free(n);
	}
	for (size_t c = 0; c < t->nchains; c++)
		for (size_t i = 0; i < t->chains[c].nrules; i++) {
			struct nfr_rule *r = &t->chains[c].rules[i];
			char **m = r->set ? &r->set : &r->counter_map;
			if (!r->cat.n)
				continue;
			char *n = *m;
			*m =
			    xstrdup_printf("%c%s%s", n[0], fm_kinds[as].prefix + 1, strchr(n, '/'));
			free(n);
		}
	nfr_table_sort(t);
	return t;
}

static struct nfr_table *readback(struct ww_nft *nl, uint32_t *genid, struct strbuf *err)
{
	struct nfr_table *t = NULL;

	return ww_nft_read(nl, &t, genid, err) ? NULL : t;
}

/* live (read from the kernel) to want in one batch of nmsgs messages (0: any number). */
static void step(struct ww_nft *nl, struct nfr_table *want, size_t nmsgs, const char *what)
{
	struct strbuf err = {0}, x = {0}, y = {0};
	struct ww_nft_diff d = {0}, again = {0};
	struct ww_nft_batch *b = NULL;
	uint32_t genid = 0;
	struct nfr_table *live = readback(nl, &genid, &err), *got = NULL;
	int e = err.len ? -EIO : ww_nft_diff(live, want, &d);
	size_t n = 0;

	if (!e)
		e = ww_nft_batch_new(&b, genid);
	if (!e)
		e = ww_nft_diff_batch(live, want, &d, b);
	n = e ? 0 : ww_nft_batch_count(b);
	if (!e)
		e = ww_nft_batch_commit(nl, b, &err);
	if (!e && !(got = readback(nl, &genid, &err)))
		e = -EIO;
	if (!e) {
		nfr_table_render(got, &x);
		nfr_table_render(want, &y);
		e = ww_nft_diff(got, want, &again);
	}
	if (e || strcmp(sb_str(&x), sb_str(&y)) || again.n || again.replace ||
	    (nmsgs && n != nmsgs)) {
		failures++;
		printf("FAIL %s: %zu messages :: %s%s\n", what, n, e ? strerror(-e) : "",
		       sb_str(&err));
		printf("# read back:\n%s# wanted:\n%s", sb_str(&x), sb_str(&y));
	} else {
		printf("PASS %s %s: %zu messages, read back as wanted\n", nfr_family_str(family),
		       what, n);
	}
	ww_nft_diff_free(&d);
	ww_nft_diff_free(&again);
	ww_nft_batch_free(b);
	nfr_table_free(live);
	nfr_table_free(got);
	nfr_table_free(want);
	sb_free(&err);
	sb_free(&x);
	sb_free(&y);
}

/* The kernel modes run only in a namespace other than the suite's own. */
static void refuse_outer_namespace(void)
{
	const char *outer = getenv("WW_NFT_OUTER_NS");
	struct stat st;

	if (!outer || stat("/proc/self/ns/net", &st) ||
	    (unsigned long)st.st_ino == strtoul(outer, NULL, 10)) {
		fprintf(stderr, "test_nft_flowdiff: refusing to touch this network namespace "
				"(run it through tests/suites/38-nft-flowmap-text.sh)\n");
		exit(2);
	}
}

#define EL_E                                                                                       \
	{                                                                                          \
		"10.5.0.1", 132, 132, 1, 100, "accept", "flow/e"                                   \
	}

int main(int argc, char **argv)
{
	const struct fm_el s0[] = {EL_A("10.1.0.0/24", 443), EL_B, EL_C("drop")};
	const struct fm_el s1[] = {EL_A("10.1.0.0/24", 8443), EL_B, EL_C("drop")};
	const struct fm_el s2[] = {EL_A("10.1.0.0/16", 8443), EL_B, EL_C("drop")};
	const struct fm_el s3[] = {EL_A("10.1.0.0/16", 8443), EL_B, EL_C("accept")};
	const struct fm_el s4[] = {EL_A("10.1.0.0/16", 8443), EL_C("accept")};
	const struct fm_el s5[] = {EL_A("10.1.0.0/16", 8443), EL_B, EL_C("accept"), EL_E};
	const struct fm_el l0[] = {{"10.1.0.0/16", 6, 6, 0, 0, "accept", "flow/a"},
				   {"10.3.0.0/16", 17, 17, 0, 0, "goto dec-b", NULL}};
	struct ww_nft *nl = NULL;

	if (argc != 2 || (strcmp(argv[1], "inet") && strcmp(argv[1], "bridge"))) {
		fprintf(stderr, "usage: test_nft_flowdiff inet|bridge\n");
		return 2;
	}
	family = strcmp(argv[1], "bridge") ? NFR_INET : NFR_BRIDGE;
	refuse_outer_namespace();
	if (ww_nft_open(&nl)) {
		printf("FAIL a netlink socket to nf_tables\n");
		return 1;
	}
	step(nl, flows(s0, 3, FM_P4), 0, "the table with class z's flow maps, cold");
	step(nl, flows(s1, 3, FM_P4), 4, "one flow's port (an element of each map)");
	step(nl, flows(s2, 3, FM_P4), 4, "a wider destination over the old one (deleted first)");
	step(nl, flows(s3, 3, FM_P4), 2, "one verdict (one element)");
	step(nl, flows(s4, 2, FM_P4), 4, "a flow gone with its decision chain and counter");
	step(nl, flows(s5, 4, FM_P4), 6, "two flows new, a decision chain and two counters");
	step(nl, renamed(flows(l0, 2, FM_L4), FM_P4), 0,
	     "fp4/z and cp4/z of another type: made again, their chain rewritten");
	step(nl, flows(s0, 3, FM_P4), 0, "and back");
	ww_nft_close(nl);
	return failures ? 1 : 0;
}
