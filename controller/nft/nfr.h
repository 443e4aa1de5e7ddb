/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The nftables tier's ruleset, as wardwall compiles it (nft_compile.c), prints it (nfr_render)
 * and reads it back from the kernel (nft_read.c). Only the shapes wardwall emits are modelled;
 * anything else found in the kernel is kept as an opaque "foreign" rule or set so that it shows
 * up as drift instead of being silently ignored.
 *
 * Names are unquoted nft identifiers. Decision chains and classification maps whose content can
 * change are named after a hash of their content ("dec-3fa9c2e1d0b4"), so an apply only creates
 * what is new, rewrites the few stable chains that refer to changed objects, and deletes what is
 * no longer referenced — and counters, named after flows, survive. A source's flow maps
 * ("fp4/<source>") have stable names: an apply adds and deletes their elements.
 */
#ifndef WW_NFR_H
#define WW_NFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

#define WW_NFT_TABLE "wardwall"

/* What a rule or set keys on. */
enum nfr_key {
	NK_NONE,
	NK_SADDR4,
	NK_DADDR4,
	NK_SADDR6,
	NK_DADDR6,
	NK_TCP_DPORT,
	NK_UDP_DPORT,
	NK_SCTP_DPORT,
	NK_ICMP_TYPE,
	NK_ICMPV6_TYPE,
	NK_L4PROTO,
	NK_IFNAME,
	NK_PROTOCOL, /* meta protocol: the frame's ether type (bridge family) */
	NK_TH_DPORT, /* th dport: the transport header's bytes 2-3, only in a concatenation after
		      * NK_L4PROTO (tcp, udp, sctp, dccp and udplite all keep the destination port there) */
	NK_MARK,     /* `meta mark & nfr_cat.mark_mask`: only as field 0 of a concatenation; the
		      * set's type is nft's mark (`typeof meta mark`), 4 bytes in network order */
};

/*
 * A concatenation (`ip daddr . meta l4proto . th dport`): its fields are loaded into consecutive
 * registers, each rounded up to 4 bytes, and looked up together in one set whose key is the same
 * concatenation (interval flags: every field may be a range; the kernel's pipapo set type).
 * Field 0 is an address (NK_SADDR4/6, NK_DADDR4/6) or the class bits of the mark (NK_MARK);
 * the others fit in 32 bits (NK_L4PROTO, NK_TH_DPORT, NK_ICMP_TYPE, NK_ICMPV6_TYPE). An ICMP field brings its dependency (`meta l4proto
 * icmp`) as a bare `icmp type` match does. n == 0: no concatenation.
 */
#define NFR_CAT_MAX 3
struct nfr_cat {
	enum nfr_key f[NFR_CAT_MAX];
	unsigned int n;
	uint32_t mark_mask; /* f[0] == NK_MARK in a rule: the bits of the mark looked up (a set's
			     * cat ignores it: its elements hold the masked values) */
};

/* The table's family: `table inet wardwall` (gateway and host mode) or `table bridge wardwall`
 * (bridge mode). Address and ICMP matches load their dependency differently in each: `meta
 * nfproto` in inet, `meta protocol` (the ether type) in bridge. */
enum nfr_family { NFR_INET, NFR_BRIDGE };
/* "inet", "bridge" */
const char *nfr_family_str(enum nfr_family f);
/* The ether types of IPv4 and IPv6, as NK_PROTOCOL compares them. */
#define NFR_ETH_IP  0x0800u
#define NFR_ETH_IP6 0x86ddu

/* NV_REJECT_RST, NV_REJECT_ADMIN: the reject statement, `reject with tcp reset` and `reject with
 * icmpx admin-prohibited` (ICMP or ICMPv6 administratively prohibited); terminal, as a drop. */
enum nfr_vkind {
	NV_NONE,
	NV_ACCEPT,
	NV_DROP,
	NV_RETURN,
	NV_JUMP,
	NV_GOTO,
	NV_REJECT_RST,
	NV_REJECT_ADMIN,
};

/*
 * A flow with "action": "reject" ends its decision with `goto answer`: that chain answers a TCP
 * packet with a reset and anything else with ICMP administratively prohibited, both under one
 * named limit (WW_NFT_REJECT_RATE answers a second, burst WW_NFT_REJECT_BURST); beyond it the
 * packet is dropped without an answer. Both exist only when some flow rejects.
 */
#define WW_NFT_REJECT_CHAIN "answer"
#define WW_NFT_REJECT_LIMIT "reject/10"
#define WW_NFT_REJECT_RATE  10u
#define WW_NFT_REJECT_BURST 20u

struct nfr_verdict {
	enum nfr_vkind kind;
	char *chain; /* jump and goto */
};

/* ct state bits as the kernel has them (NF_CT_STATE_*_BIT). */
#define NFR_CT_INVALID     1u
#define NFR_CT_ESTABLISHED 2u
#define NFR_CT_RELATED     4u

/*
 * A rule: optional matches, in this order, then statements, then a verdict. Each field not set
 * is absent from the rule.
 */
struct nfr_rule {
	uint32_t ct_state;   /* ct state & mask != 0 */
	bool not_ifaces;     /* iifname != @ifaces oifname != @ifaces */
	char *iifname, *oifname;
	enum nfr_key key;    /* a match on key: */
	uint32_t lo, hi;     /*   == lo, or lo-hi when hi > lo */
	char *set;           /*   or a lookup in a named set; a verdict map when vmap */
	bool vmap;
	struct nfr_cat cat;  /* cat.n > 0: set (and counter_map) key on this concatenation, not key */
	char *counter_map;   /* `counter name <cat> map @counter_map`: the counter an object map
			      * names for the packet's key (none on a miss; the rule goes on) */
	bool set_mark;       /* `meta mark set meta mark & mark_keep | mark_or` (mark_or is within
			      * ~mark_keep; `| 0x00000000` is not rendered) */
	uint32_t mark_keep, mark_or;
	bool has_from, has_until; /* meta time, unix seconds */
	int64_t from, until;
	char *counter;       /* a named counter */
	char *limit;         /* a named limit guarding the log */
	char *log_prefix;    /* log to NFLOG group log_group */
	uint16_t log_group;
	struct nfr_verdict v;
	char *foreign;       /* read back: an expression list wardwall does not write */
	uint64_t handle;     /* read back: the kernel's handle */
};

struct nfr_elem {
	u128 lo, hi; /* inclusive; lo == hi for a single key; field 0 of a concatenation */
	uint32_t clo[NFR_CAT_MAX - 1], chi[NFR_CAT_MAX - 1]; /* fields 1.. of a concatenation */
	char *ifname;
	struct nfr_verdict v;
	char *obj;   /* object map: the named counter this key maps to */
};

struct nfr_set {
	char *name;
	enum nfr_key key; /* NK_SADDR4 etc. only say the type: ipv4_addr, inet_service, ... */
	struct nfr_cat cat; /* cat.n > 0: keyed on a concatenation (always interval); key unused */
	bool vmap;
	bool objmap;        /* an object map: each element names a counter (elem.obj) */
	bool interval;
	struct nfr_elem *elems;
	size_t nelems, cap;
	char *foreign; /* read back: a set wardwall does not write */
};

/* NH_BR_FORWARD: the bridge family's forward hook (frames a bridge forwards between its ports),
 * at the bridge filter priority (-200), rendered "priority filter". */
enum nfr_hook { NH_NONE, NH_FORWARD, NH_INPUT, NH_OUTPUT, NH_BR_FORWARD };

struct nfr_chain {
	char *name;
	enum nfr_hook hook; /* NH_NONE: a regular chain */
	int prio;
	struct nfr_rule *rules;
	size_t nrules, cap;
	char *foreign; /* read back: base chain settings wardwall does not write */
};

struct nfr_counter {
	char *name;
	uint64_t packets, bytes; /* read back */
};

struct nfr_limit {
	char *name;
	uint64_t rate; /* per second */
	uint32_t burst;
};

struct nfr_table {
	struct nfr_counter *counters;
	size_t ncounters, ccap;
	struct nfr_limit *limits;
	size_t nlimits, lcap;
	struct nfr_set *sets;
	size_t nsets, scap;
	struct nfr_chain *chains;
	size_t nchains, chcap;
	char *comment;
	enum nfr_family family;
	/* Read back: a wardwall table of the other family exists too (drift; apply deletes it). */
	bool other_family;
};

void nfr_table_free(struct nfr_table *t);
void nfr_rule_clear(struct nfr_rule *r);
void nfr_set_clear(struct nfr_set *s);
void nfr_chain_clear(struct nfr_chain *c);

/* Sorts objects by name (and elements by key) so that two tables compare by content. */
void nfr_table_sort(struct nfr_table *t);
/* The order of elements in a sorted set: by key (every field of a concatenation), data ignored. */
int nfr_elem_cmp(const struct nfr_elem *a, const struct nfr_elem *b);

struct nfr_chain *nfr_chain_find(const struct nfr_table *t, const char *name);
struct nfr_set *nfr_set_find(const struct nfr_table *t, const char *name);
struct nfr_counter *nfr_counter_find(const struct nfr_table *t, const char *name);

/* nft syntax, as `nft list` prints it; render of a whole table loads with `nft -f`. */
void nfr_rule_render(const struct nfr_rule *r, struct strbuf *out);
/* As in a table of family f (bridge: ICMP matches carry their `meta protocol` dependency). */
void nfr_rule_render_fam(const struct nfr_rule *r, enum nfr_family f, struct strbuf *out);
void nfr_set_render(const struct nfr_set *s, const char *indent, struct strbuf *out);
void nfr_chain_render(const struct nfr_chain *c, enum nfr_family f, const char *indent,
		      struct strbuf *out);
void nfr_table_render(const struct nfr_table *t, struct strbuf *out);
/* The body of a set or chain (no name): what content-addressed names hash. */
void nfr_set_body(const struct nfr_set *s, struct strbuf *out);
void nfr_chain_body(const struct nfr_chain *c, struct strbuf *out);
void nfr_chain_body_fam(const struct nfr_chain *c, enum nfr_family f, struct strbuf *out);

/* nft's name of a key's type ("ipv4_addr"): sets only have a type, not a direction. */
const char *nfr_key_type(enum nfr_key k);
/* Key width in bytes of a set key type, and the largest key value. */
unsigned int nfr_key_len(enum nfr_key k);
u128 nfr_key_max(enum nfr_key k);

#endif
