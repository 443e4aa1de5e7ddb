// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpcost: the cost of wardwall's XDP program per packet, without live frames, for
 * tests/bench/xdp-cost.sh. It uses xdpcost.bpf.c, embedded as a libbpf skeleton.
 *
 *   xdpcost [-n REPEAT] [-r ROUNDS] [-c CASE] [-4 SRC,ALLOW,DENY] [-6 SRC,ALLOW,DENY]
 *           NAME=POLICY...
 *
 * Installs each POLICY's XDP tier (compile, prepare, switch: the calls of `wardwall apply`,
 * without links or nftables) into its own directory of the bpffs $WARDWALL_BPFFS, then times
 * the program with BPF_PROG_TEST_RUN, REPEAT runs (default 10^6) per measurement, ROUNDS rounds
 * (default 5) of every case at every size in turn, keeping the best of each: the sizes and the
 * bare programs are measured under the same conditions (-c: only that case, e.g. to profile it
 * with perf). The program is run through
 * xdpcost_drive (xdpcost.bpf.c), which gives every run a new tuple in the "-new" cases.
 *
 * Frames (TCP, 64 bytes for IPv4 and 74 for IPv6, from SRC, source port 40000, to port 443):
 *   bare-drop, bare-pass        the bare programs (count, then drop or pass); -new: through the
 *                               driver's varying, as the wardwall rows with a new tuple
 *   established                 an ACK to ALLOW: after the first run, a connection-table hit
 *   new                         a SYN to ALLOW from a new source port (and address) every run:
 *                               classified, decided, allowed, entered in the connection table
 *   denied                      a SYN to DENY, the same tuple: after the first run, the deny cache
 *   denied-sport                a SYN to DENY from a new source port (and address) every run: a
 *                               SYN flood (the deny cache keys no source port)
 *   denied-new                  a SYN to DENY port after port, from a new address every 65,536:
 *                               a scan, every (source, destination, port) never seen
 * The last byte of SRC varies: SRC's zone must hold its /24 (or /120); every port of DENY must be
 * denied.
 *
 * Prints one JSON object per line: {"size": NAME, "family": 4, "case": ..., "ns": best ns per
 * run, "retval": the XDP action}. A case whose action is not what it must be (pass for
 * established and new, drop for the denied ones) is an error. Run it under tests/xdp/sandbox.sh
 * (a private network and mount namespace and bpffs).
 *
 * Exit status: 0, 1 on a failure (said on standard error), 2 on a usage error.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xdp_tier.h"
#include "xdp_compile.h"
#include "diag.h"
#include "policy.h"
#include "util.h"
#include "xdpcost.skel.h"

#define MAX_SIZES 8
#define FRAME_MAX 128
#define SPORT	  40000
#define DPORT	  443
#define TCP_SYN	  0x02
#define TCP_ACK	  0x10

/* What the driver changes every run (xdpcost.bpf.c): nothing, the source or the destination
 * port, each with the source address's last byte. */
enum vary { VARY_NONE, VARY_SPORT, VARY_DPORT, VARY_MAX };

struct fam {
	int family; /* 0: not measured */
	uint8_t src[16], allow[16], deny[16];
	struct xdpcost_bpf *drv[VARY_MAX]; /* by enum vary */
};

struct size {
	const char *name, *policy;
	struct ww_xdp *x;
	int prog;
};

enum cases {
	C_DROP,
	C_DROP_NEW,
	C_PASS,
	C_PASS_NEW,
	C_EST,
	C_NEW,
	C_DENY,
	C_DENY_SPORT,
	C_DENY_NEW,
	C_MAX
};

static const struct {
	const char *name;
	enum vary vary;
	bool bare, syn, to_deny;
	uint32_t want;
} CASES[C_MAX] = {
    [C_DROP] = {"bare-drop", VARY_NONE, true, true, true, XDP_DROP},
    [C_DROP_NEW] = {"bare-drop-new", VARY_DPORT, true, true, true, XDP_DROP},
    [C_PASS] = {"bare-pass", VARY_NONE, true, true, false, XDP_PASS},
    [C_PASS_NEW] = {"bare-pass-new", VARY_SPORT, true, true, false, XDP_PASS},
    [C_EST] = {"established", VARY_NONE, false, false, false, XDP_PASS},
    [C_NEW] = {"new", VARY_SPORT, false, true, false, XDP_PASS},
    [C_DENY] = {"denied", VARY_NONE, false, true, true, XDP_DROP},
    [C_DENY_SPORT] = {"denied-sport", VARY_SPORT, false, true, true, XDP_DROP},
    [C_DENY_NEW] = {"denied-new", VARY_DPORT, false, true, true, XDP_DROP},
};

static int usage(void)
{
	fprintf(stderr, "usage: xdpcost [-n REPEAT] [-r ROUNDS] [-c CASE] [-4 SRC,ALLOW,DENY] "
			"[-6 SRC,ALLOW,DENY] NAME=POLICY...\n");
	return 2;
}

static int parse_fam(struct fam *f, int family, char *arg)
{
	char *a = strtok(arg, ","), *b = strtok(NULL, ","), *c = strtok(NULL, ",");
	int af = family == 4 ? AF_INET : AF_INET6;

	f->family = family;
	if (!a || !b || !c || inet_pton(af, a, f->src) != 1 || inet_pton(af, b, f->allow) != 1 ||
	    inet_pton(af, c, f->deny) != 1)
		return -EINVAL;
	return 0;
}

/* A TCP frame from f->src to dst; returns its length. */
static size_t frame(const struct fam *f, const uint8_t *dst, uint8_t flags, uint8_t *b)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	size_t l3 = 14, l4 = f->family == 4 ? l3 + 20 : l3 + 40;
	uint16_t sport = htons(SPORT), dport = htons(DPORT);

	memset(b, 0, FRAME_MAX);
	memcpy(b, macs, 12);
	if (f->family == 4) {
		b[12] = 0x08, b[13] = 0x00;
		b[l3] = 0x45;
		b[l3 + 3] = 40; /* total length */
		b[l3 + 8] = 64, b[l3 + 9] = IPPROTO_TCP;
		memcpy(b + l3 + 12, f->src, 4);
		memcpy(b + l3 + 16, dst, 4);
	} else {
		b[12] = 0x86, b[13] = 0xdd;
		b[l3] = 0x60;
		b[l3 + 5] = 20; /* payload length */
		b[l3 + 6] = IPPROTO_TCP, b[l3 + 7] = 64;
		memcpy(b + l3 + 8, f->src, 16);
		memcpy(b + l3 + 24, dst, 16);
	}
	memcpy(b + l4, &sport, 2);
	memcpy(b + l4 + 2, &dport, 2);
	b[l4 + 12] = 5 << 4; /* data offset */
	b[l4 + 13] = flags;
	return l4 + 20 < 64 ? 64 : l4 + 20;
}

static int drivers_load(struct fam *f)
{
	for (int v = 0; v < VARY_MAX; v++) {
		struct xdpcost_bpf *s = xdpcost_bpf__open();
		if (!s)
			return -errno;
		s->rodata->vary = (uint32_t)v;
		s->rodata->sport_off = f->family == 4 ? 14 + 20 : 14 + 40;
		s->rodata->saddr_last = f->family == 4 ? 14 + 12 + 3 : 14 + 8 + 15;
		if (xdpcost_bpf__load(s)) {
			int e = -errno;
			xdpcost_bpf__destroy(s);
			return e;
		}
		f->drv[v] = s;
	}
	return 0;
}

/* Compiles and installs one policy into <bpffs>/<name>; s->prog is the program to time. */
static int install(struct size *s, const char *bpffs)
{
	struct ww_diags d = {.file = s->policy};
	struct ww_policy *p = NULL;
	struct ww_xdp_image img = {0};
	struct ww_xdp_txn t = {0};
	struct strbuf err = {0};
	char dir[4096];
	int e;

	snprintf(dir, sizeof(dir), "%s/%s", bpffs, s->name);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	e = ww_policy_load(s->policy, &d, &p);
	if (!e)
		e = ww_compile_xdp(p, &img, &d);
	if (e) {
		ww_diags_print(&d, &err);
		fprintf(stderr, "xdpcost: %s: %s\n", s->policy,
			err.len ? sb_str(&err) : strerror(-e));
		goto out;
	}
	e = ww_xdp_open(dir, true, &s->x, &err);
	if (!e)
		e = ww_xdp_prepare(s->x, &img, p, &t, &err);
	if (!e)
		e = ww_xdp_switch(s->x, &t, &err);
	if (e)
		fprintf(stderr, "xdpcost: %s: %s\n", s->policy,
			err.len ? sb_str(&err) : strerror(-e));
	else
		s->prog = ww_xdp_fd(s->x, "prog");
out:
	ww_xdp_txn_free(&t);
	ww_xdp_image_free(&img);
	ww_diags_free(&d);
	ww_policy_free(p);
	sb_free(&err);
	return e;
}

/* One measurement: target run through the driver, repeat times. */
static int measure(struct fam *f, int c, int target, uint32_t repeat, uint32_t *ns, uint32_t *ret)
{
	uint8_t b[FRAME_MAX];
	size_t len =
	    frame(f, CASES[c].to_deny ? f->deny : f->allow, CASES[c].syn ? TCP_SYN : TCP_ACK, b);
	struct xdpcost_bpf *s = f->drv[CASES[c].vary];
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(s->maps.xdpcost_target), &zero, &target, BPF_ANY))
		return -errno;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = (uint32_t)len,
		    .repeat = repeat);
	if (bpf_prog_test_run_opts(bpf_program__fd(s->progs.xdpcost_drive), &o))
		return -errno;
	*ns = o.duration;
	*ret = o.retval;
	return 0;
}

struct best {
	uint32_t ns[MAX_SIZES][2][C_MAX], ret[MAX_SIZES][2][C_MAX];
	int only; /* the case to measure, -1: all */
};

/* Every case of size i and family fi once, keeping the best; the bare rows do not depend on the
 * size and are measured with the first. */
static int round_one(struct fam *f, int fi, struct size *sz, int i, uint32_t repeat, struct best *b)
{
	for (int c = 0; c < C_MAX; c++) {
		if ((CASES[c].bare && i) || (b->only >= 0 && c != b->only))
			continue;
		struct xdpcost_bpf *d = f->drv[0];
		int target = !CASES[c].bare		 ? sz->prog
			     : CASES[c].want == XDP_DROP ? bpf_program__fd(d->progs.xdpcost_drop)
							 : bpf_program__fd(d->progs.xdpcost_pass);
		uint32_t ns = 0, rv = 0;
		int e = measure(f, c, target, repeat, &ns, &rv);
		if (e) {
			fprintf(stderr, "xdpcost: %s, IPv%d, %s: %s\n", sz->name, f->family,
				CASES[c].name, strerror(-e));
			return e;
		}
		if (rv != CASES[c].want) {
			fprintf(stderr, "xdpcost: %s, IPv%d, %s: action %u, not %u\n", sz->name,
				f->family, CASES[c].name, rv, CASES[c].want);
			return -EPROTO;
		}
		if (ns < b->ns[i][fi][c])
			b->ns[i][fi][c] = ns;
		b->ret[i][fi][c] = rv;
	}
	return 0;
}

static int run(struct fam *fams, struct size *sizes, int nsizes, uint32_t repeat, int rounds,
	       int only)
{
	static struct best b;
	int e = 0;

	memset(b.ns, 0xff, sizeof(b.ns));
	b.only = only;
	for (int r = 0; r < rounds && !e; r++)
		for (int i = 0; i < nsizes && !e; i++)
			for (int fi = 0; fi < 2 && !e; fi++)
				if (fams[fi].family)
					e = round_one(&fams[fi], fi, &sizes[i], i, repeat, &b);
	for (int i = 0; i < nsizes && !e; i++)
		for (int fi = 0; fi < 2; fi++)
			for (int c = 0; c < C_MAX && fams[fi].family; c++)
				if ((!CASES[c].bare || !i) && (only < 0 || c == only))
					printf(
					    "{\"size\": \"%s\", \"family\": %d, \"case\": \"%s\", "
					    "\"ns\": %u, \"retval\": %u}\n",
					    CASES[c].bare ? "-" : sizes[i].name, fams[fi].family,
					    CASES[c].name, b.ns[i][fi][c], b.ret[i][fi][c]);
	return e;
}

int main(int argc, char **argv)
{
	struct fam fams[2] = {0};
	struct size sizes[MAX_SIZES] = {0};
	uint32_t repeat = 1000000;
	int rounds = 5, nsizes = 0, opt, e = 0, only = -1;
	const char *bpffs = getenv("WARDWALL_BPFFS");

	while ((opt = getopt(argc, argv, "n:r:c:4:6:")) != -1) {
		if (opt == 'c') {
			for (int c = 0; c < C_MAX; c++)
				if (!strcmp(optarg, CASES[c].name))
					only = c;
			if (only < 0)
				return usage();
		} else if (opt == 'n')
			repeat = (uint32_t)strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else if ((opt == '4' || opt == '6') &&
			 !parse_fam(&fams[opt == '6'], opt == '4' ? 4 : 6, optarg))
			continue;
		else
			return usage();
	}
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || nsizes == MAX_SIZES)
			return usage();
		*eq = 0;
		sizes[nsizes++] = (struct size){.name = argv[i], .policy = eq + 1};
	}
	if (!nsizes || repeat < 1 || rounds < 1 || (!fams[0].family && !fams[1].family))
		return usage();
	if (!bpffs || !*bpffs || !strncmp(bpffs, "/sys/fs/bpf", 11)) {
		fprintf(stderr, "xdpcost: WARDWALL_BPFFS must name a private bpffs "
				"(run under tests/xdp/sandbox.sh)\n");
		return 2;
	}
	for (int fi = 0; fi < 2 && !e; fi++)
		if (fams[fi].family && (e = drivers_load(&fams[fi])))
			fprintf(stderr, "xdpcost: loading xdpcost.bpf.o: %s\n", strerror(-e));
	for (int i = 0; i < nsizes && !e; i++)
		e = install(&sizes[i], bpffs);
	if (!e)
		e = run(fams, sizes, nsizes, repeat, rounds, only);
	for (int i = 0; i < nsizes; i++)
		ww_xdp_close(sizes[i].x);
	for (int fi = 0; fi < 2; fi++)
		for (int v = 0; v < VARY_MAX; v++)
			xdpcost_bpf__destroy(fams[fi].drv[v]);
	return e ? 1 : 0;
}
