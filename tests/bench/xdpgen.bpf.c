// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP programs of the rate benchmark (tests/bench/xdp-rate.sh, driven by xdpgen.c).
 *
 * xdpgen_redirect is the traffic generator. xdpgen runs it with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES: the kernel hands it page-pool frames in a loop, and every frame it
 * redirects really leaves through veth ifindex_out and arrives on that veth's peer, where the
 * program under test is attached. A recycled page keeps whatever the last user wrote into it
 * (the stack of the receiving side rewrites TTLs and checksums when it forwards), so every
 * frame is written afresh from the template; with vary set, each frame also gets a source port
 * and the low 16 bits of its source address from a per-CPU sequence, so that every frame opens
 * a new connection. Checksums are updated to match (conntrack checks UDP checksums).
 *
 * xdpgen_drop and xdpgen_pass are the bare programs the benchmark compares with: they count
 * every frame (per-CPU) and drop or pass it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define FRAME_LEN 64

/* Set by xdpgen before loading. */
const volatile __u32 ifindex_out;
const volatile __u32 vary;
const volatile __u32 l3off;    /* where the IP header starts in the template */
const volatile __u32 family;   /* 4 or 6 */
const volatile __u64 frame[FRAME_LEN / 8];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpgen_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpgen_count SEC(".maps");

/* One's complement update of a 16-bit checksum for a 16-bit word changed from old to new
 * (RFC 1624: HC' = ~(~HC + ~m + m')). Words are in network order, as they sit in the frame. */
static __always_inline __u16 csum_replace(__u16 check, __u16 old, __u16 new)
{
	__u32 s = (__u16)~check + (__u16)~old + (__u32)new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

SEC("xdp")
int xdpgen_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 *w = data;

	if (data + FRAME_LEN > end)
		return XDP_ABORTED;
#pragma unroll
	for (int i = 0; i < FRAME_LEN / 8; i++)
		w[i] = frame[i];
	if (vary) {
		__u32 zero = 0, off = l3off & 0x3f;
		__u64 *seq = bpf_map_lookup_elem(&xdpgen_seq, &zero);
		if (!seq)
			return XDP_ABORTED;
		__u64 n = (*seq)++;
		/* Distinct across CPUs: the CPU goes into the top bit of the address word. */
		__u16 port = bpf_htons((__u16)n);
		__u16 host = bpf_htons((__u16)((n >> 16) & 0x7fff) | (__u16)(bpf_get_smp_processor_id() << 15));
		if (family == 4) {
			/* IPv4: saddr's low word at 14, the header checksum at 10, UDP source port
			 * right after a 20-byte header (UDP checksum 0: none). */
			if (data + off + 28 > end)
				return XDP_ABORTED;
			__u16 *ip = data + off;
			__u16 old = ip[7];
			ip[7] = host;
			ip[5] = csum_replace(ip[5], old, host);
			*(__u16 *)(data + off + 20) = port;
		} else {
			/* IPv6: saddr's last word at 22, UDP after 40 bytes: source port at 40, the
			 * checksum (pseudo-header included) at 46. */
			if (data + off + 48 > end)
				return XDP_ABORTED;
			__u16 *ip = data + off;
			__u16 *udp = data + off + 40;
			__u16 check = udp[3];
			check = csum_replace(check, ip[11], host);
			check = csum_replace(check, udp[0], port);
			ip[11] = host;
			udp[0] = port;
			udp[3] = check ? check : 0xffff;
		}
	}
	return bpf_redirect(ifindex_out, 0);
}

static __always_inline void count(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&xdpgen_count, &zero);

	if (c)
		*c += 1;
}

SEC("xdp")
int xdpgen_drop(struct xdp_md *ctx)
{
	count();
	return XDP_DROP;
}

SEC("xdp")
int xdpgen_pass(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}
