// SPDX-License-Identifier: GPL-2.0-only
/*
 * The driver of the XDP cost benchmark (tests/bench/xdp-cost.sh, xdpcost.c). BPF_PROG_TEST_RUN
 * with a repeat count runs a program on one frame; the frame's buffer is the same for every
 * repetition, and what a run writes into it the next one reads. xdpcost_drive is the program
 * that is run: with vary set it first writes a new port (the source port, VARY_SPORT, or the
 * destination port, VARY_DPORT) and a new last byte of the source address into the frame from a
 * per-CPU sequence (16.7 million distinct tuples: every run is a tuple never seen), then it
 * tail-calls the program under test (xdpcost_target[0]): wardwall's
 * ww_xdp, or one of the bare programs below. Bare and wardwall rows go through the same driver,
 * so their difference is the program's own cost; the driver and the tail call cost a few ns,
 * the same in every row. Checksums are not updated: nothing in the programs reads them.
 *
 * xdpcost_drop and xdpcost_pass are the bare programs: count the frame (per-CPU, as the rate
 * benchmark's xdpgen_drop and xdpgen_pass do), then XDP_DROP or XDP_PASS.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Set by xdpcost before loading. */
enum { VARY_NONE, VARY_SPORT, VARY_DPORT };
const volatile __u32 vary;	 /* VARY_*: the frame as given, or a new tuple every run */
const volatile __u32 sport_off;	 /* the transport header's source port (the destination's next) */
const volatile __u32 saddr_last; /* the last byte of the source address */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdpcost_target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpcost_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} xdpcost_count SEC(".maps");

#define OFF_MASK 0xff /* both offsets are within a 128-byte frame */

SEC("xdp")
int xdpcost_drive(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;

	if (vary) {
		__u64 *seq = bpf_map_lookup_elem(&xdpcost_seq, &zero);
		__u8 *a = data + (saddr_last & OFF_MASK);
		__u16 *port = data + ((sport_off + (vary == VARY_DPORT ? 2 : 0)) & OFF_MASK);
		if (!seq || (void *)(a + 1) > end || (void *)(port + 1) > end)
			return XDP_ABORTED;
		__u64 n = (*seq)++;
		*port = bpf_htons((__u16)n);
		*a = (__u8)(n >> 16);
	}
	bpf_tail_call(ctx, &xdpcost_target, 0);
	return XDP_ABORTED;
}

static __always_inline void count(void)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&xdpcost_count, &zero);

	if (c)
		*c += 1;
}

SEC("xdp")
int xdpcost_drop(struct xdp_md *ctx)
{
	count();
	return XDP_DROP;
}

SEC("xdp")
int xdpcost_pass(struct xdp_md *ctx)
{
	count();
	return XDP_PASS;
}
