// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the nftables tier's event decoder: the input is one datagram as the
 * NFLOG socket would deliver it (netlink messages with NFULA_* attributes: prefix, timestamp,
 * interfaces, the packet from its network header). Each logged packet is decoded (nflog.c),
 * turned into a record with and without a policy naming its addresses (events.c), and printed;
 * fuzz_report.h says what the output must be. Seeds: tests/fuzz/nflog/ (tests/fuzz/mkseeds.py).
 */
#include <stdint.h>

#include "fuzz_report.h"
#include "nflog.h"

struct ctx {
	struct ww_lognames with, without;
	int n;
};

static void on_msg(const struct ww_nflog_msg *m, void *arg)
{
	struct ctx *c = arg;
	struct ww_logrec r;

	c->n++;
	if (strnlen(m->prefix, sizeof(m->prefix)) == sizeof(m->prefix))
		abort(); /* the prefix must be a C string */
	const struct ww_tuple *t = &m->t;
	if (t->family != 0 && t->family != 4 && t->family != 6)
		abort();
	if ((t->ports || t->icmp) && !t->family)
		abort();
	if (t->ports && t->icmp)
		abort();
	if (ww_logrec_from_nflog(&c->with, m, &r))
		fuzz_report_check(&r);
	if (ww_logrec_from_nflog(&c->without, m, &r))
		fuzz_report_check(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = {0};

	c.with.policy = fuzz_report_load();
	/* A fixed clock: the decoder keeps kernel stamps within a minute of it. */
	int n = ww_nflog_decode(data, size, 1780000000LL * 1000000000LL, on_msg, &c);
	if (n >= 0 && n != c.n)
		abort();
	return 0;
}
