/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A model of the kernel's nf_tables walking one packet through a compiled table (struct
 * nfr_table, nfr.h), for the differential test test_nft_model.c. Test code only: it reads the
 * IR the compiler makes, never the policy, so that what it answers can be compared with the
 * reference evaluator (eval.h).
 *
 * The packet is the first of a new connection (ct state new: the established/related and invalid
 * rules never match) on an interface wardwall filters (`iifname != @ifaces ...` and `iifname
 * "lo"` never match). Chains are walked as nf_tables does: `jump` pushes the rest of the chain,
 * `goto` does not, the end of a jumped chain or `return` resumes after the jump, and the end of
 * the base chain (or a return there) is its policy, accept. Limits always pass; logs are recorded.
 *
 * Keys are taken as the kernel's expressions take them: an address only from a packet of its
 * family, a port (`tcp dport`, `th dport` in a concatenation) only from tcp, udp and sctp (and
 * `tcp dport` only from tcp), `icmp type` only from IPv4 ICMP and `icmpv6 type` only from IPv6
 * ICMPv6; a rule or a concatenation whose key the packet does not have does not match.
 */
#ifndef WW_TEST_NFR_EVAL_H
#define WW_TEST_NFR_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "nfr.h"
#include "util.h"

struct nfr_pkt {
	int family;	   /* WW_INET or WW_INET6 */
	u128 saddr, daddr; /* IPv4 in the low 32 bits */
	int l4proto;	   /* 0-255 */
	int key;	   /* destination port (tcp, udp, sctp) or ICMP type; -1: none */
	uint32_t mark;	   /* meta mark when the packet enters the base chain */
	int64_t now;	   /* meta time, unix seconds */
};

#define NFR_EVAL_MAX_COUNTERS 16
#define NFR_EVAL_MAX_STEPS    32

/* A rule that moved the packet on: chain name and rule index (SIZE_MAX: the chain's end). */
struct nfr_step {
	const char *chain;
	size_t rule;
};

struct nfr_result {
	enum nfr_vkind verdict; /* NV_ACCEPT, NV_DROP, NV_REJECT_RST or NV_REJECT_ADMIN */
	const char *counters[NFR_EVAL_MAX_COUNTERS]; /* counted, in order (names in the table) */
	size_t ncounters;
	const char *logs[NFR_EVAL_MAX_COUNTERS]; /* log prefixes, in order */
	size_t nlogs;
	struct nfr_step steps[NFR_EVAL_MAX_STEPS]; /* verdicts taken: jumps, gotos, returns, end */
	size_t nsteps;
	uint32_t mark; /* meta mark at the end */
};

/* An evaluator over table t (sorted, as ww_compile_nft returns it; t must outlive it). */
struct nfr_eval;

/* Returns 0 and *out, or -ENOMEM. */
int nfr_eval_new(const struct nfr_table *t, struct nfr_eval **out);
void nfr_eval_free(struct nfr_eval *e);

/*
 * Walks packet p from base chain base. Returns 0 and the result in *res, or -ENOENT (a chain or
 * set the table does not have), -ELOOP (more than nf_tables' 16 nested jumps, or a walk that
 * does not end), -EINVAL (a rule or set the model does not know: foreign, or an unknown key);
 * why (may be NULL) then says where.
 */
int nfr_eval_packet(struct nfr_eval *e, const char *base, const struct nfr_pkt *p,
		    struct nfr_result *res, struct strbuf *why);

/* The steps of res as text: "gw_forward#3 classify#1 from/ward-01#4 ...". */
void nfr_result_path(const struct nfr_result *res, struct strbuf *out);

#endif
