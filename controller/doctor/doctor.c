// SPDX-License-Identifier: GPL-2.0-only
/* wardwall doctor: the feature table, the results and their one printer. */
#include "doctor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "model.h"

/*
 * One line each of kernel/features.txt says the same (tests/unit/test_doctor.c compares them).
 * "since" is the first mainline release with the feature; wardwall as a whole needs
 * WW_KERNEL_MIN, so older versions only matter to say what a too-old kernel lacks.
 */
const struct ww_feature ww_features[] = {
    {"kernel.version", WW_KERNEL_MIN, "-", "the running kernel is new enough",
     "upgrade to Linux " WW_KERNEL_MIN " or later (Debian 12's linux-image-amd64 is 6.1)"},
    {"caps", "5.8", "-", "CAP_NET_ADMIN for nftables and XDP links, CAP_BPF for BPF",
     "run wardwall as root, or give it CAP_NET_ADMIN and CAP_BPF (systemd: "
     "AmbientCapabilities=CAP_NET_ADMIN CAP_BPF)"},
    {"nft.netlink", "3.13", "CONFIG_NF_TABLES,CONFIG_NETFILTER_NETLINK",
     "nf_tables answers on netlink (ruleset generation)",
     "modprobe nf_tables, or build the kernel with CONFIG_NF_TABLES=y|m"},
    {"nft.inet", "3.14", "CONFIG_NF_TABLES_INET", "table inet wardwall (IPv4 and IPv6 in one)",
     "build the kernel with CONFIG_NF_TABLES_INET=y (needs CONFIG_IPV6)"},
    {"nft.chain", "3.14", "CONFIG_NF_TABLES_INET",
     "filter base chains on the forward, input and output hooks; regular chains",
     "build the kernel with CONFIG_NF_TABLES_INET=y (the inet filter chain type comes with it)"},
    {"nft.core", "3.13", "CONFIG_NF_TABLES",
     "meta nfproto/l4proto, payload, cmp, bitwise, immediate accept/drop/jump/goto",
     "these are part of nf_tables itself: modprobe nf_tables, or rebuild with CONFIG_NF_TABLES"},
    {"nft.set.ipv4_addr", "3.13", "CONFIG_NF_TABLES",
     "interval verdict maps of IPv4 prefixes (rbtree backend)",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.ipv6_addr", "3.13", "CONFIG_NF_TABLES",
     "interval verdict maps of IPv6 prefixes (rbtree backend)",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.inet_service", "3.13", "CONFIG_NF_TABLES",
     "port verdict maps, single ports (hash) and ranges (rbtree)",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.inet_proto", "3.13", "CONFIG_NF_TABLES", "protocol verdict maps",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.icmp_type", "3.13", "CONFIG_NF_TABLES", "ICMP type verdict maps",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.icmpv6_type", "3.13", "CONFIG_NF_TABLES",
     "ICMPv6 types: the neighbour discovery set nd6",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.set.ifname", "3.13", "CONFIG_NF_TABLES", "the interface set ifaces (gateway mode)",
     "set backends are built into nf_tables since 5.7; before: modprobe nf_tables_set"},
    {"nft.counter", "4.10", "CONFIG_NF_TABLES", "named counters: one per flow and default",
     "built into nf_tables since 5.17; before: modprobe nft_counter (CONFIG_NFT_COUNTER)"},
    {"nft.limit", "4.15", "CONFIG_NFT_LIMIT", "named limits: the log rate",
     "modprobe nft_limit, or build the kernel with CONFIG_NFT_LIMIT=y|m"},
    {"nft.ifname", "3.13", "CONFIG_NF_TABLES",
     "meta iifname/oifname matches (gateway mode interfaces)",
     "part of nf_tables itself: rebuild with CONFIG_NF_TABLES"},
    {"nft.ct", "3.13", "CONFIG_NFT_CT,CONFIG_NF_CONNTRACK",
     "ct state established,related: replies pass without a rule of their own",
     "modprobe nft_ct, or build the kernel with CONFIG_NFT_CT=y|m (needs CONFIG_NF_CONNTRACK)"},
    {"nft.time", "5.4", "CONFIG_NF_TABLES", "meta time: flow validity windows",
     "upgrade to Linux 5.4 or later (meta time)"},
    {"nft.lookup", "4.10", "CONFIG_NF_TABLES", "set lookups, inverted too (!= @ifaces)",
     "built into nf_tables since 5.7; before: modprobe nf_tables_set (CONFIG_NF_TABLES_SET)"},
    {"nft.vmap", "3.13", "CONFIG_NF_TABLES", "verdict maps: the per-zone and per-port dispatch",
     "built into nf_tables since 5.7; before: modprobe nf_tables_set (CONFIG_NF_TABLES_SET)"},
    {"nft.objref", "4.10", "CONFIG_NF_TABLES", "rules referring to named counters and limits",
     "built into nf_tables since 6.2; before: modprobe nft_objref (CONFIG_NFT_OBJREF)"},
    {"nft.log", "3.13", "CONFIG_NFT_LOG,CONFIG_NETFILTER_NETLINK_LOG",
     "log group N: denials to NFLOG (nfnetlink_log)",
     "modprobe nft_log nfnetlink_log, or build the kernel with CONFIG_NFT_LOG=y|m and "
     "CONFIG_NETFILTER_NETLINK_LOG=y|m"},
    {"nft.mark", "3.14", "CONFIG_NF_TABLES",
     "meta mark set meta mark & K | O (the class bits), meta mark & M as a key field",
     "part of nf_tables itself (meta set, bitwise, byteorder): upgrade to Linux 3.14 or later, "
     "or rebuild with CONFIG_NF_TABLES"},
    {"nft.concat", "5.6", "CONFIG_NF_TABLES",
     "the flow maps: concatenated interval verdict maps (pipapo backend) keyed on the mark's "
     "class bits, the protocol and a port range",
     "upgrade to Linux 5.6 or later (the pipapo set type); built into nf_tables since 5.7, in "
     "5.6: modprobe nf_tables_set (CONFIG_NF_TABLES_SET)"},
    {"nft.objmap", "5.6", "CONFIG_NF_TABLES",
     "the flow maps' counters: concatenated interval counter maps, counter name ... map @m",
     "upgrade to Linux 5.6 or later (concatenated intervals); objref is built into nf_tables "
     "since 6.2, before: modprobe nft_objref (CONFIG_NFT_OBJREF)"},
    {"nft.bridge", "3.13", "CONFIG_NF_TABLES_BRIDGE",
     "bridge mode: table bridge wardwall, a filter chain on the bridge forward hook",
     "modprobe nf_tables_bridge, or build the kernel with CONFIG_NF_TABLES_BRIDGE=y|m "
     "(needed only in bridge mode)"},
    {"nft.bridge-ct", "5.3", "CONFIG_NF_CONNTRACK_BRIDGE",
     "bridge mode: ct state in the bridge family (replies of bridged connections)",
     "modprobe nf_conntrack_bridge, or build the kernel with CONFIG_NF_CONNTRACK_BRIDGE=y|m "
     "(needed only in bridge mode)"},
    {"bpf.syscall", "3.18", "CONFIG_BPF,CONFIG_BPF_SYSCALL", "the bpf() system call",
     "build the kernel with CONFIG_BPF=y and CONFIG_BPF_SYSCALL=y"},
    {"bpf.jit", "3.16", "CONFIG_BPF_JIT", "the XDP program runs JIT-compiled, not interpreted",
     "sysctl -w net.core.bpf_jit_enable=1 (persist it in /etc/sysctl.d/); the kernel needs "
     "CONFIG_BPF_JIT=y"},
    {"bpf.btf", "5.4", "CONFIG_DEBUG_INFO_BTF",
     "kernel BTF: lets the doctor confirm XDP links; bpftool and debuggers use it",
     "build the kernel with CONFIG_DEBUG_INFO_BTF=y (needs pahole)"},
    {"bpf.fs", "4.4", "CONFIG_BPF_SYSCALL",
     "a writable bpffs where the program, maps and links are pinned",
     "mount -t bpf bpf /sys/fs/bpf"},
    {"bpf.map.array", "3.19", "CONFIG_BPF_SYSCALL", "ARRAY: the active generation, settings",
     "build the kernel with CONFIG_BPF_SYSCALL=y"},
    {"bpf.map.percpu_array", "4.6", "CONFIG_BPF_SYSCALL", "PERCPU_ARRAY: counters",
     "upgrade to Linux 4.6 or later"},
    {"bpf.map.hash", "3.19", "CONFIG_BPF_SYSCALL", "HASH: stable counter slots of flows and zones",
     "build the kernel with CONFIG_BPF_SYSCALL=y"},
    {"bpf.map.lru_hash", "4.10", "CONFIG_BPF_SYSCALL", "LRU_HASH: the connection table",
     "upgrade to Linux 4.10 or later"},
    {"bpf.map.lpm_trie", "4.11", "CONFIG_BPF_SYSCALL",
     "LPM_TRIE: address classification and the rule trie", "upgrade to Linux 4.11 or later"},
    {"bpf.map.array_of_maps", "4.12", "CONFIG_BPF_SYSCALL",
     "ARRAY_OF_MAPS: generations switched by one write", "upgrade to Linux 4.12 or later"},
    {"bpf.map.ringbuf", "5.8", "CONFIG_BPF_SYSCALL", "RINGBUF: log events",
     "upgrade to Linux 5.8 or later"},
    {"bpf.map.inner_map", "5.10", "CONFIG_BPF_SYSCALL",
     "BPF_F_INNER_MAP: inner arrays of different sizes per generation",
     "upgrade to Linux 5.10 or later"},
    {"bpf.prog.xdp", "4.8", "CONFIG_BPF_SYSCALL,CONFIG_NET", "XDP programs",
     "build the kernel with CONFIG_BPF_SYSCALL=y (XDP is part of the network core)"},
    {"bpf.helper.ktime_get_tai_ns", "6.1", "CONFIG_BPF_SYSCALL",
     "bpf_ktime_get_tai_ns: wall-clock time in XDP for validity windows",
     "upgrade to Linux 6.1 or later"},
    {"bpf.helper.ringbuf_reserve", "5.8", "CONFIG_BPF_SYSCALL",
     "bpf_ringbuf_reserve: log events from XDP", "upgrade to Linux 5.8 or later"},
    {"bpf.link.xdp", "5.9", "CONFIG_BPF_SYSCALL",
     "XDP attached through bpf_link (BPF_XDP link_create), pinned so it outlives wardwall",
     "upgrade to Linux 5.9 or later"},
    {"xdp.load", WW_KERNEL_MIN, "CONFIG_BPF_SYSCALL", "the verifier accepts wardwall's XDP program",
     "read the verifier's message above; WARDWALL_DEBUG=1 wardwall doctor prints its whole log"},
    {"xdp.iface", "6.3", "-",
     "per interface: attached program, native XDP support (netdev xdp-features, 6.3+)",
     "see the detail"},
    {"clock.tai", "-", "-", "CLOCK_TAI - CLOCK_REALTIME, which XDP windows subtract",
     "see the detail"},
    {"state.nft", "-", "-", "table inet wardwall, when present, holds only what wardwall writes",
     "wardwall plan POLICY shows the drift; wardwall apply --force POLICY rewrites the table"},
    {"state.xdp", "-", "-", "wardwall's pins, when present, open and are consistent",
     "wardwall apply POLICY restores them; wardwall remove clears them"},
};
const size_t ww_nfeatures = ARRAY_SIZE(ww_features);

const struct ww_feature *ww_feature_find(const char *id)
{
	size_t n = strcspn(id, "/");

	for (size_t i = 0; i < ww_nfeatures; i++)
		if (strlen(ww_features[i].id) == n && !strncmp(ww_features[i].id, id, n))
			return &ww_features[i];
	return NULL;
}

const char *ww_dstatus_str(enum ww_dstatus s)
{
	return s == WW_D_OK ? "ok" : s == WW_D_WARNING ? "warning" : "missing";
}

int ww_doctor_add(struct ww_doctor *d, const char *id, enum ww_dstatus st, const char *fix,
		  const char *fmt, ...)
{
	const struct ww_feature *f = ww_feature_find(id);
	struct ww_dcheck c = {.status = st};
	va_list ap;

	va_start(ap, fmt);
	c.detail = xstrdup_vprintf(fmt, ap);
	va_end(ap);
	if (fix && !*fix)
		fix = NULL;
	else if (!fix && st != WW_D_OK && f)
		fix = f->fix;
	c.id = strdup(id);
	c.fix = fix ? strdup(fix) : NULL;
	if (!c.id || !c.detail || (fix && !c.fix) || VEC_PUSH(d->v, d->n, d->cap, c)) {
		free(c.id);
		free(c.detail);
		free(c.fix);
		d->oom = true;
		return -ENOMEM;
	}
	return 0;
}

static bool xdp_tier(const char *id)
{
	return !strncmp(id, "bpf.", 4) || !strncmp(id, "xdp.", 4);
}

void ww_doctor_relax(struct ww_doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct ww_dcheck *c = &d->v[i];
		bool bridge = !strncmp(c->id, "nft.bridge", 10);
		char *s;
		if (c->status != WW_D_MISSING)
			continue;
		/* XDP: not needed when the policy turns it off; bridge mode: unless the policy
		 * (none given: any policy) asks for it. */
		if (bridge && d->hook_mode != WW_BRIDGE && d->policy)
			s = xstrdup_printf("%s (not needed: %s is not in bridge mode)", c->detail,
					   d->policy);
		else if (bridge && d->hook_mode != WW_BRIDGE)
			s = xstrdup_printf("%s (needed only in bridge mode)", c->detail);
		else if (!bridge && xdp_tier(c->id) && d->xdp_mode == WW_XDP_OFF)
			s = xstrdup_printf("%s (not needed: %s has enforcement.xdp \"off\")",
					   c->detail, d->policy);
		else
			continue;
		if (!s)
			continue; /* still missing: over-reporting beats hiding */
		free(c->detail);
		c->detail = s;
		c->status = WW_D_WARNING;
	}
}

int ww_kver_parse(const char *release, unsigned int v[3])
{
	unsigned int out[3] = {0, 0, 0};
	const char *p = release;
	int n = 0;

	while (n < 3 && *p >= '0' && *p <= '9') {
		char *end;
		unsigned long x = strtoul(p, &end, 10);
		if (x > 65535)
			return -EINVAL;
		out[n++] = (unsigned int)x;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2)
		return -EINVAL;
	memcpy(v, out, sizeof(out));
	return 0;
}

int ww_kver_cmp(const unsigned int a[3], const unsigned int b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

void ww_xdp_features_str(uint64_t features, struct strbuf *out)
{
	/* enum netdev_xdp_act (linux/netdev.h, 6.3) */
	static const char *const names[] = {"basic",	  "redirect", "ndo-xmit",   "xsk-zerocopy",
					    "hw-offload", "rx-sg",    "ndo-xmit-sg"};
	bool any = false;

	for (unsigned int i = 0; i < 64; i++) {
		if (!(features & (1ULL << i)))
			continue;
		if (i < ARRAY_SIZE(names))
			sb_addf(out, "%s%s", any ? ", " : "", names[i]);
		else
			sb_addf(out, "%sbit %u", any ? ", " : "", i);
		any = true;
	}
	if (!any)
		sb_add(out, "none");
}

static void check_kernel(struct ww_doctor *d)
{
	struct utsname u;
	unsigned int have[3], want[3];

	if (uname(&u) < 0 || ww_kver_parse(u.release, have)) {
		ww_doctor_add(d, "kernel.version", WW_D_WARNING, NULL,
			      "cannot tell the kernel version (uname: \"%s\")", u.release);
		return;
	}
	ww_kver_parse(WW_KERNEL_MIN, want);
	if (ww_kver_cmp(have, want) < 0)
		ww_doctor_add(d, "kernel.version", WW_D_MISSING, NULL,
			      "Linux %s is older than %s (%s)", u.release, WW_KERNEL_MIN,
			      WW_KERNEL_MIN_WHY);
	else
		ww_doctor_add(d, "kernel.version", WW_D_OK, NULL,
			      "Linux %s (wardwall needs %s or later)", u.release, WW_KERNEL_MIN);
}

void ww_doctor_run(struct ww_doctor *d)
{
	check_kernel(d);
	ww_doctor_caps(d);
	ww_doctor_nft(d);
	ww_doctor_bpf(d);
	ww_doctor_ifaces(d);
	ww_doctor_clock(d);
	ww_doctor_state(d);
	ww_doctor_relax(d);
}

void ww_doctor_print(const struct ww_doctor *d, bool json, struct strbuf *out)
{
	size_t count[3] = {0, 0, 0}, w = 0;

	for (size_t i = 0; i < d->n; i++) {
		size_t l = strlen(d->v[i].id);
		w = l > w ? l : w;
		count[d->v[i].status]++;
	}
	if (json)
		sb_add(out, "[");
	for (size_t i = 0; i < d->n; i++) {
		const struct ww_dcheck *c = &d->v[i];
		if (json) {
			sb_add(out, i ? ",\n {\"check\": " : "\n {\"check\": ");
			sb_add_json_str(out, c->id);
			sb_addf(out,
				", \"status\": \"%s\", \"detail\": ", ww_dstatus_str(c->status));
			sb_add_json_str(out, c->detail);
			sb_add(out, ", \"fix\": ");
			if (c->fix)
				sb_add_json_str(out, c->fix);
			else
				sb_add(out, "null");
			sb_add(out, "}");
			continue;
		}
		sb_addf(out, "%-7s  %-*s  %s\n", ww_dstatus_str(c->status), (int)w, c->id,
			c->detail);
		if (c->fix)
			sb_addf(out, "%-7s  %-*s  fix: %s\n", "", (int)w, "", c->fix);
	}
	if (json) {
		sb_add(out, d->n ? "\n]\n" : "]\n");
		return;
	}
	sb_addf(out, "%zu checks: %zu ok, %zu warning%s, %zu missing\n", d->n, count[WW_D_OK],
		count[WW_D_WARNING], count[WW_D_WARNING] == 1 ? "" : "s", count[WW_D_MISSING]);
}

int ww_doctor_exit(const struct ww_doctor *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].status == WW_D_MISSING)
			return WW_EXIT_INVALID;
	return WW_EXIT_OK;
}

void ww_doctor_free(struct ww_doctor *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].id);
		free(d->v[i].detail);
		free(d->v[i].fix);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
