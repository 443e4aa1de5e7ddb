// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpload: the XDP tier of a policy alone, for the rate benchmark (tests/bench/xdp-rate.sh).
 *
 *   xdpload POLICY
 *       Compiles POLICY for XDP and installs it under $WARDWALL_BPFFS/wardwall with the calls
 *       `wardwall apply` makes (ww_compile_xdp, ww_xdp_open, prepare, attach, switch),
 *       attached to the policy's enforcement.interfaces in its XDP mode; nftables is not
 *       touched. The benchmark needs this because loading the nftables tier of a policy of
 *       100,000 flows takes far longer than the benchmark itself (tests/bench/nft-apply.sh
 *       measures that). Prints one JSON object: rule entries, decision lists, prefixes, and the
 *       seconds compiling and installing took.
 *   xdpload remove
 *       Detaches and unpins everything (ww_xdp_remove).
 *
 * Exit status: 0, 1 on a failure (said on standard error), 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xdp_tier.h"
#include "xdp_compile.h"
#include "diag.h"
#include "policy.h"
#include "util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *path)
{
	struct ww_diags d = {.file = path};
	struct ww_policy *p = NULL;
	struct ww_xdp_image img = {0};
	struct ww_xdp *x = NULL;
	struct ww_xdp_txn t = {0};
	struct strbuf err = {0};
	double t0 = now_s(), t1 = 0;
	int e;

	e = ww_policy_load(path, &d, &p);
	if (!e)
		e = ww_compile_xdp(p, &img, &d);
	if (e) {
		ww_diags_print(&d, &err);
		fprintf(stderr, "xdpload: %s: %s\n", path, err.len ? sb_str(&err) : strerror(-e));
		goto out;
	}
	t1 = now_s();
	e = ww_xdp_open(NULL, true, &x, &err);
	if (!e)
		e = ww_xdp_prepare(x, &img, p, &t, &err);
	if (!e)
		e = ww_xdp_attach(x, p, &t, &err);
	if (!e)
		e = ww_xdp_switch(x, &t, &err);
	/* No ww_xdp_finish: in the fresh bpffs the benchmark gives every size, there is nothing
	 * to detach and no counter slot to free (and its walk of the slots is the slow part of
	 * an apply of 100,000 flows). */
	if (e) {
		fprintf(stderr, "xdpload: %s: %s\n", path, err.len ? sb_str(&err) : strerror(-e));
		ww_xdp_abort(x, &t);
		goto out;
	}
	printf("{\"rules\": %zu, \"lists\": %zu, \"prefixes\": %zu, \"compile_s\": %.3f, "
	       "\"install_s\": %.3f}\n",
	       img.nrules, img.ndlists, img.ncls, t1 - t0, now_s() - t1);
out:
	ww_xdp_txn_free(&t);
	ww_xdp_close(x);
	ww_xdp_image_free(&img);
	ww_diags_free(&d);
	ww_policy_free(p);
	sb_free(&err);
	return e ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct strbuf err = {0};
	bool changed;
	int e;

	if (argc != 2) {
		fprintf(stderr, "usage: xdpload POLICY | xdpload remove\n");
		return 2;
	}
	if (strcmp(argv[1], "remove"))
		return load(argv[1]);
	e = ww_xdp_remove(NULL, &changed, &err);
	if (e)
		fprintf(stderr, "xdpload: remove: %s\n", err.len ? sb_str(&err) : strerror(-e));
	sb_free(&err);
	return e ? 1 : 0;
}
