// SPDX-License-Identifier: GPL-2.0-only
#include "nfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nfr_rule_clear(struct nfr_rule *r)
{
	free(r->iifname);
	free(r->oifname);
	free(r->set);
	free(r->counter);
	free(r->limit);
	free(r->log_prefix);
	free(r->v.chain);
	free(r->foreign);
	memset(r, 0, sizeof(*r));
}

void nfr_set_clear(struct nfr_set *s)
{
	for (size_t i = 0; i < s->nelems; i++) {
		free(s->elems[i].ifname);
		free(s->elems[i].v.chain);
	}
	free(s->elems);
	free(s->name);
	free(s->foreign);
	memset(s, 0, sizeof(*s));
}

void nfr_chain_clear(struct nfr_chain *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		nfr_rule_clear(&c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c->foreign);
	memset(c, 0, sizeof(*c));
}

void nfr_table_free(struct nfr_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncounters; i++)
		free(t->counters[i].name);
	free(t->counters);
	for (size_t i = 0; i < t->nlimits; i++)
		free(t->limits[i].name);
	free(t->limits);
	for (size_t i = 0; i < t->nsets; i++)
		nfr_set_clear(&t->sets[i]);
	free(t->sets);
	for (size_t i = 0; i < t->nchains; i++)
		nfr_chain_clear(&t->chains[i]);
	free(t->chains);
	free(t->comment);
	free(t);
}

static int name_cmp(const void *a, const void *b)
{
	/* Every object struct starts with its name. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int elem_cmp(const void *a, const void *b)
{
	const struct nfr_elem *x = a, *y = b;

	if (x->ifname || y->ifname)
		return strcmp(x->ifname ? x->ifname : "", y->ifname ? y->ifname : "");
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1) /* qsort wants a valid pointer even for nothing to sort */
		qsort(v, n, size, cmp);
}

void nfr_table_sort(struct nfr_table *t)
{
	sort(t->counters, t->ncounters, sizeof(*t->counters), name_cmp);
	sort(t->limits, t->nlimits, sizeof(*t->limits), name_cmp);
	sort(t->sets, t->nsets, sizeof(*t->sets), name_cmp);
	sort(t->chains, t->nchains, sizeof(*t->chains), name_cmp);
	for (size_t i = 0; i < t->nsets; i++)
		sort(t->sets[i].elems, t->sets[i].nelems, sizeof(*t->sets[i].elems), elem_cmp);
}

struct nfr_chain *nfr_chain_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->chains, t->nchains, sizeof(*t->chains), name_cmp);
}

struct nfr_set *nfr_set_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->sets, t->nsets, sizeof(*t->sets), name_cmp);
}

struct nfr_counter *nfr_counter_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->counters, t->ncounters, sizeof(*t->counters), name_cmp);
}

unsigned int nfr_key_len(enum nfr_key k)
{
	switch (k) {
	case NK_SADDR4:
	case NK_DADDR4:
		return 4;
	case NK_SADDR6:
	case NK_DADDR6:
	case NK_IFNAME:
		return 16;
	case NK_TCP_DPORT:
	case NK_UDP_DPORT:
	case NK_SCTP_DPORT:
	case NK_PROTOCOL:
		return 2;
	case NK_ICMP_TYPE:
	case NK_ICMPV6_TYPE:
	case NK_L4PROTO:
		return 1;
	default:
		return 0;
	}
}

u128 nfr_key_max(enum nfr_key k)
{
	unsigned int len = nfr_key_len(k);

	return len >= 16 ? ~(u128)0 : (((u128)1 << (8 * len)) - 1);
}

static const char *key_expr(enum nfr_key k)
{
	static const char *const s[] = {
		[NK_SADDR4] = "ip saddr",       [NK_DADDR4] = "ip daddr",
		[NK_SADDR6] = "ip6 saddr",      [NK_DADDR6] = "ip6 daddr",
		[NK_TCP_DPORT] = "tcp dport",   [NK_UDP_DPORT] = "udp dport",
		[NK_SCTP_DPORT] = "sctp dport", [NK_ICMP_TYPE] = "icmp type",
		[NK_ICMPV6_TYPE] = "icmpv6 type", [NK_L4PROTO] = "meta l4proto",
		[NK_IFNAME] = "iifname",        [NK_PROTOCOL] = "meta protocol",
	};
	return s[k];
}

const char *nfr_family_str(enum nfr_family f)
{
	return f == NFR_BRIDGE ? "bridge" : "inet";
}

const char *nfr_key_type(enum nfr_key k)
{
	static const char *const s[] = {
		[NK_SADDR4] = "ipv4_addr",     [NK_DADDR4] = "ipv4_addr",
		[NK_SADDR6] = "ipv6_addr",     [NK_DADDR6] = "ipv6_addr",
		[NK_TCP_DPORT] = "inet_service", [NK_UDP_DPORT] = "inet_service",
		[NK_SCTP_DPORT] = "inet_service", [NK_ICMP_TYPE] = "icmp_type",
		[NK_ICMPV6_TYPE] = "icmpv6_type", [NK_L4PROTO] = "inet_proto",
		[NK_IFNAME] = "ifname",        [NK_PROTOCOL] = "ether_type",
	};
	return s[k];
}

static bool is_addr(enum nfr_key k)
{
	return k == NK_SADDR4 || k == NK_DADDR4 || k == NK_SADDR6 || k == NK_DADDR6;
}

static void value_render(enum nfr_key k, u128 v, struct strbuf *out)
{
	char buf[WW_PREFIX_STRLEN];

	if (is_addr(k)) {
		struct ww_addr a = {.family = nfr_key_len(k) == 4 ? WW_INET : WW_INET6, .v = v};
		sb_add(out, ww_addr_str(&a, buf));
	} else if (k == NK_PROTOCOL) {
		if (v == NFR_ETH_IP || v == NFR_ETH_IP6)
			sb_add(out, v == NFR_ETH_IP ? "ip" : "ip6");
		else
			sb_addf(out, "0x%04x", (unsigned int)v);
	} else {
		sb_addf(out, "%u", (unsigned int)v);
	}
}

/* An address range that is exactly one prefix prints as the prefix, as nft does. */
static void range_render(enum nfr_key k, u128 lo, u128 hi, struct strbuf *out)
{
	char buf[WW_PREFIX_STRLEN];

	if (is_addr(k) && lo != hi) {
		uint8_t fam = nfr_key_len(k) == 4 ? WW_INET : WW_INET6;
		for (unsigned int len = 0; len <= ww_family_bits(fam); len++) {
			struct ww_prefix p = {.a = {.family = fam, .v = 0}, .len = (uint8_t)len};
			u128 hostmask = ww_prefix_last(&p);
			if ((lo & hostmask) == 0 && (lo | hostmask) == hi) {
				p.a.v = lo;
				sb_add(out, ww_prefix_str(&p, false, buf));
				return;
			}
		}
	}
	value_render(k, lo, out);
	if (hi != lo) {
		sb_add(out, "-");
		value_render(k, hi, out);
	}
}

static void verdict_render(const struct nfr_verdict *v, struct strbuf *out)
{
	switch (v->kind) {
	case NV_ACCEPT:
		sb_add(out, "accept");
		break;
	case NV_DROP:
		sb_add(out, "drop");
		break;
	case NV_RETURN:
		sb_add(out, "return");
		break;
	case NV_JUMP:
		sb_addf(out, "jump %s", v->chain);
		break;
	case NV_GOTO:
		sb_addf(out, "goto %s", v->chain);
		break;
	case NV_REJECT_RST:
		sb_add(out, "reject with tcp reset");
		break;
	case NV_REJECT_ADMIN:
		sb_add(out, "reject with icmpx admin-prohibited");
		break;
	case NV_NONE:
		break;
	}
}

static void sep(struct strbuf *out)
{
	if (out->len && out->s[out->len - 1] != '\t' && out->s[out->len - 1] != '\n')
		sb_add(out, " ");
}

void nfr_rule_render(const struct nfr_rule *r, struct strbuf *out)
{
	nfr_rule_render_fam(r, NFR_INET, out);
}

void nfr_rule_render_fam(const struct nfr_rule *r, enum nfr_family f, struct strbuf *out)
{
	size_t start = out->len;

	if (r->foreign) {
		sb_addf(out, "# not written by wardwall: %s", r->foreign);
		return;
	}
	if (r->ct_state) {
		static const char *const names[] = {"invalid", "established", "related"};
		bool first = true;
		sb_add(out, "ct state ");
		for (int b = 0; b < 3; b++)
			if (r->ct_state & (1u << b)) {
				sb_addf(out, "%s%s", first ? "" : ",", names[b]);
				first = false;
			}
	}
	if (r->not_ifaces) {
		sep(out);
		sb_add(out, "iifname != @ifaces oifname != @ifaces");
	}
	if (r->iifname) {
		sep(out);
		sb_addf(out, "iifname \"%s\"", r->iifname);
	}
	if (r->oifname) {
		sep(out);
		sb_addf(out, "oifname \"%s\"", r->oifname);
	}
	if (r->key) {
		sep(out);
		/* nft's own dependency for a bare `icmp type` in the bridge family is the ether type
		 * in the link header, which reads a VLAN tag's type instead; the compiler writes
		 * `meta protocol`, as for addresses, and says so. */
		if (f == NFR_BRIDGE && (r->key == NK_ICMP_TYPE || r->key == NK_ICMPV6_TYPE))
			sb_add(out, r->key == NK_ICMP_TYPE ? "meta protocol ip " : "meta protocol ip6 ");
		sb_addf(out, "%s ", key_expr(r->key));
		if (r->set)
			sb_addf(out, "%s@%s", r->vmap ? "vmap " : "", r->set);
		else
			range_render(r->key, r->lo, r->hi, out);
	}
	if (r->has_from) {
		sep(out);
		sb_addf(out, "meta time >= %lld", (long long)r->from);
	}
	if (r->has_until) {
		sep(out);
		sb_addf(out, "meta time < %lld", (long long)r->until);
	}
	if (r->counter) {
		sep(out);
		sb_addf(out, "counter name \"%s\"", r->counter);
	}
	if (r->limit) {
		sep(out);
		sb_addf(out, "limit name \"%s\"", r->limit);
	}
	if (r->log_prefix) {
		sep(out);
		sb_addf(out, "log prefix \"%s\" group %u", r->log_prefix, r->log_group);
	}
	if (r->v.kind) {
		if (out->len > start)
			sb_add(out, " ");
		verdict_render(&r->v, out);
	}
}

void nfr_set_body(const struct nfr_set *s, struct strbuf *out)
{
	if (s->foreign) {
		sb_addf(out, "# not written by wardwall: %s\n", s->foreign);
		return;
	}
	sb_addf(out, "type %s%s\n", nfr_key_type(s->key), s->vmap ? " : verdict" : "");
	if (s->interval)
		sb_add(out, "flags interval\n");
	if (!s->nelems)
		return;
	sb_add(out, "elements = { ");
	for (size_t i = 0; i < s->nelems; i++) {
		const struct nfr_elem *e = &s->elems[i];
		if (i)
			sb_add(out, ",\n\t     ");
		if (e->ifname)
			sb_addf(out, "\"%s\"", e->ifname);
		else
			range_render(s->key, e->lo, e->hi, out);
		if (s->vmap) {
			sb_add(out, " : ");
			verdict_render(&e->v, out);
		}
	}
	sb_add(out, " }\n");
}

static void indented(const char *body, const char *indent, struct strbuf *out)
{
	for (const char *p = body; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sb_add(out, indent);
		sb_addn(out, p, n);
		sb_add(out, "\n");
		p += n + (nl != NULL);
	}
}

void nfr_set_render(const struct nfr_set *s, const char *indent, struct strbuf *out)
{
	struct strbuf body = {0};
	char *in2 = xstrdup_printf("%s\t", indent);

	nfr_set_body(s, &body);
	sb_addf(out, "%s%s %s {\n", indent, s->vmap ? "map" : "set", s->name);
	indented(sb_str(&body), in2 ? in2 : "\t", out);
	sb_addf(out, "%s}\n", indent);
	free(in2);
	sb_free(&body);
}

void nfr_chain_body(const struct nfr_chain *c, struct strbuf *out)
{
	nfr_chain_body_fam(c, NFR_INET, out);
}

void nfr_chain_body_fam(const struct nfr_chain *c, enum nfr_family f, struct strbuf *out)
{
	static const char *const hooks[] = {"", "forward", "input", "output", "forward"};

	if (c->foreign)
		sb_addf(out, "# not written by wardwall: %s\n", c->foreign);
	if (c->hook == NH_BR_FORWARD) {
		/* The bridge family's "filter" is -200. */
		sb_add(out, "type filter hook forward priority ");
		if (c->prio == -200)
			sb_add(out, "filter");
		else
			sb_addf(out, "filter %c %d", c->prio < -200 ? '-' : '+', abs(c->prio + 200));
		sb_add(out, "; policy accept;\n");
	} else if (c->hook) {
		sb_addf(out, "type filter hook %s priority ", hooks[c->hook]);
		if (c->prio == 0)
			sb_add(out, "filter");
		else
			sb_addf(out, "filter %c %d", c->prio < 0 ? '-' : '+', abs(c->prio));
		sb_add(out, "; policy accept;\n");
	}
	for (size_t i = 0; i < c->nrules; i++) {
		nfr_rule_render_fam(&c->rules[i], f, out);
		sb_add(out, "\n");
	}
}

void nfr_chain_render(const struct nfr_chain *c, enum nfr_family f, const char *indent,
		      struct strbuf *out)
{
	struct strbuf body = {0};
	char *in2 = xstrdup_printf("%s\t", indent);

	nfr_chain_body_fam(c, f, &body);
	sb_addf(out, "%schain %s {\n", indent, c->name);
	indented(sb_str(&body), in2 ? in2 : "\t", out);
	sb_addf(out, "%s}\n", indent);
	free(in2);
	sb_free(&body);
}

void nfr_table_render(const struct nfr_table *t, struct strbuf *out)
{
	sb_addf(out, "table %s " WW_NFT_TABLE " {\n", nfr_family_str(t->family));
	if (t->comment)
		sb_addf(out, "\tcomment \"%s\"\n", t->comment);
	for (size_t i = 0; i < t->ncounters; i++)
		sb_addf(out, "\tcounter %s {\n\t}\n", t->counters[i].name);
	for (size_t i = 0; i < t->nlimits; i++)
		sb_addf(out, "\tlimit %s {\n\t\trate %llu/second burst %u packets\n\t}\n",
			t->limits[i].name, (unsigned long long)t->limits[i].rate,
			t->limits[i].burst);
	for (size_t i = 0; i < t->nsets; i++)
		nfr_set_render(&t->sets[i], "\t", out);
	for (size_t i = 0; i < t->nchains; i++)
		nfr_chain_render(&t->chains[i], t->family, "\t", out);
	sb_add(out, "}\n");
}
