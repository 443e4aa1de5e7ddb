// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the nftables compiler and linearizer: a valid policy is compiled
 * (nft_compile.c) and linearized into the batch an apply would send (nft_diff.c, nft_batch.c);
 * the batch is then decoded back message by message with the readback's own decoders and applied
 * to a table the way nf_tables would (ww_nft_batch_replay), refusing what the kernel would refuse
 * (an object used before it exists, a deletion of something still referred to, a rule or set
 * wardwall does not write). The table read back must be the compiled one, byte for byte as
 * rendered, and plan's diff between them must be empty.
 *
 * Batches per input: the cold apply (no table yet), the incremental apply from the
 * policy with its flows cut to the first half (what the replay of that policy's own cold batch
 * left) to the whole policy and back, and the change of mode to the other family's table
 * (inet <-> bridge) and back. Then the flow-map layout's shapes (issue 12), which the compiler
 * does not emit yet: the compiled table with a class's flow maps drawn from the input's bytes,
 * twice, applied cold, from the table without them, from one drawing to the other (the
 * element-by-element changes of stable-named maps) and back. No kernel is touched. abort()
 * reports a broken property.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/flowmap.h"
#include "nft_compile.h"
#include "nft_diff.h"
#include "nft_nl.h"
#include "policy.h"

static void dump_and_abort(const char *what, const struct nfr_table *want,
			   const struct nfr_table *got, const struct strbuf *err)
{
	struct strbuf a = {0}, b = {0};

	if (want)
		nfr_table_render(want, &a);
	if (got)
		nfr_table_render(got, &b);
	fprintf(stderr, "fuzz_nft: %s\n%s%s--- compiled\n%s\n--- read back from the batch\n%s\n",
		what, err && err->len ? sb_str(err) : "", err && err->len ? "\n" : "", sb_str(&a),
		sb_str(&b));
	abort();
}

/* The batch that takes the kernel from live (NULL: no table) to want, replayed onto *t. */
static void apply(const struct nfr_table *live, const struct nfr_table *want, struct nfr_table **t,
		  const char *what)
{
	struct ww_nft_diff d;
	struct ww_nft_batch *b = NULL;
	struct strbuf bytes = {0}, err = {0};

	if (ww_nft_diff(live, want, &d) || ww_nft_batch_new(&b, 1))
		abort(); /* no allocation fails under the fuzzer */
	int e = ww_nft_diff_batch(live, want, &d, b);
	if (e)
		dump_and_abort(what, want, live, NULL);
	if (ww_nft_batch_bytes(b, &bytes))
		abort();
	if (ww_nft_batch_replay(t, sb_str(&bytes), bytes.len, &err))
		dump_and_abort(what, want, *t, &err);
	ww_nft_batch_free(b);
	ww_nft_diff_free(&d);
	sb_free(&bytes);
	sb_free(&err);
}

/* got must be want: the same rendering, and nothing for plan to change. */
static void same(const struct nfr_table *want, const struct nfr_table *got, const char *what)
{
	struct strbuf a = {0}, b = {0};
	struct ww_nft_diff d;

	if (!got)
		dump_and_abort(what, want, got, NULL);
	nfr_table_render(want, &a);
	nfr_table_render(got, &b);
	if (a.oom || b.oom)
		abort();
	if (a.len != b.len || memcmp(sb_str(&a), sb_str(&b), a.len))
		dump_and_abort(what, want, got, NULL);
	if (ww_nft_diff(got, want, &d))
		abort();
	if (d.n || d.replace)
		dump_and_abort("plan finds changes between the compiled table and its readback",
			       want, got, NULL);
	ww_nft_diff_free(&d);
	sb_free(&a);
	sb_free(&b);
}

/*
 * Class "0fuzz"'s flow maps, and class "1fuzz"'s keyed on the mark (the two layouts share map
 * names: fi4/<class>; no zone can be called either: zone names start with a letter), from
 * the input's bytes read from offset `salt` on, into t. Four bytes a piece: its kind of map
 * (keyed on the destination's address, or on its class in the mark: round 3 of issue 12), its
 * protocol or type, its port range, its verdict and counter. Pieces have distinct destinations
 * (addresses, or classes), so that each map's boxes are disjoint as the compiler guarantees; two
 * drawings give one destination different pieces, which a change must delete before adding.
 */
static void add_flowmaps(struct nfr_table *t, const uint8_t *data, size_t size, size_t salt)
{
	static const uint32_t ports[] = {6, 17, 132};
	struct fm_el els[FM_ML + 1][16];
	char text[16][3][48];
	size_t n[FM_ML + 1] = {0}, npieces = size / 4 < 16 ? size / 4 : 16;

	for (size_t i = 0; i < npieces; i++) {
		const uint8_t *b = &data[(i * 4 + salt) % (size - 3)];
		enum fm_kind k = b[0] % (FM_ML + 1);
		bool v6 = k >= FM_P6, port = k == FM_P4 || k == FM_P6 || k == FM_MP,
		     icmp = k == FM_I4 || k == FM_I6 || k == FM_MI4 || k == FM_MI6;
		uint32_t f1 = port ? ports[b[1] % 3] : b[1], p = (uint32_t)b[2] << 8;
		struct fm_el *e = &els[k][n[k]++];
		if (k >= FM_MP) /* a zone's class, or one of its host groups' */
			snprintf(text[i][0], sizeof(text[i][0]), "0x%08x",
				 (unsigned int)(i + 1) << 16 | (unsigned int)(b[3] & 1) << 24);
		else
			snprintf(text[i][0], sizeof(text[i][0]),
				 v6 ? "fd77:%zx::/%u" : "10.77.%zu.0/%u", i,
				 v6 ? 32 + b[3] % 33 : 24 + b[3] % 9);
		snprintf(text[i][1], sizeof(text[i][1]), "%s", b[3] % 3 ? "accept" : "drop");
		if (b[3] % 4 == 3)
			snprintf(text[i][1], sizeof(text[i][1]), "goto dec-fz%u", b[1] % 3);
		snprintf(text[i][2], sizeof(text[i][2]), "flow/fz%u", b[2] % 5);
		*e = (struct fm_el){
		    text[i][0],		 f1,	     icmp ? f1 | (b[2] & 3) : f1, port ? p : 0,
		    port ? p + b[1] : 0, text[i][1], b[2] % 5 ? text[i][2] : NULL};
		if (!strncmp(e->verdict, "goto ", 5)) {
			snprintf(text[i][2], sizeof(text[i][2]), "flow/%s", e->verdict + 9);
			fm_dec(t, e->verdict + 5, text[i][2], "accept");
			e->counter = NULL; /* the decision chain counts */
		}
	}
	for (int k = 0; k <= FM_ML; k++)
		if (n[k])
			fm_maps(t, k >= FM_MP ? "1fuzz" : "0fuzz", k, els[k], n[k]);
	/* The zone's level after the host group's, as the layout looks them up. */
	for (int k = FM_MP; k <= FM_ML; k++)
		if (n[k])
			fm_mark_rules(t, "1fuzz", k, 0x00ff0000);
	/* The chain writing a class (another in each drawing): a set-mark rewritten. */
	if (n[FM_MP] + n[FM_MI4] + n[FM_MI6] + n[FM_ML])
		fm_set_mark(t, "to/1fuzz", 0x0000ffff, (uint32_t)data[salt % size] << 16);
	nfr_table_sort(t);
}

/* The compiled table with flow maps drawn at salt: a second compile, as the first is kept. */
static struct nfr_table *with_flowmaps(const struct ww_policy *p, const uint8_t *data, size_t size,
				       size_t salt)
{
	struct nfr_table *t = NULL;

	if (ww_compile_nft(p, &t))
		abort();
	add_flowmaps(t, data, size, salt);
	return t;
}

/* From want (t holds it) to its flow maps drawn twice, cold and incrementally, and back. */
static void flowmaps(const struct ww_policy *p, const struct nfr_table *want, struct nfr_table **t,
		     const uint8_t *data, size_t size)
{
	struct nfr_table *a, *b, *cold = NULL;

	if (size < 8)
		return;
	a = with_flowmaps(p, data, size, 0);
	b = with_flowmaps(p, data, size, 1 + data[0] % 4);
	apply(NULL, a, &cold, "the cold batch of a table with flow maps does not apply");
	same(a, cold, "the cold batch of a table with flow maps does not read back");
	apply(*t, a, t, "the batch adding flow maps does not apply");
	same(a, *t, "the batch adding flow maps does not read back");
	apply(*t, b, t, "the batch changing the flow maps' elements does not apply");
	same(b, *t, "the batch changing the flow maps' elements does not read back");
	apply(*t, want, t, "the batch removing the flow maps does not apply");
	same(want, *t, "the batch removing the flow maps does not read back");
	nfr_table_free(cold);
	nfr_table_free(a);
	nfr_table_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_diags diags = {.file = "fuzz.json"};
	struct ww_policy *p = NULL;
	struct nfr_table *want = NULL, *half = NULL, *t = NULL;

	if (ww_policy_parse("fuzz.json", (const char *)data, size, &diags, &p)) {
		ww_diags_free(&diags);
		return 0;
	}
	if (ww_compile_nft(p, &want))
		abort();
	apply(NULL, want, &t, "the cold apply's batch does not read back as the compiled table");
	same(want, t, "the cold apply's batch does not read back as the compiled table");
	nfr_table_free(t);
	t = NULL;

	/* From the first half of the flows to all of them: creates, rewrites and deletions. */
	size_t nflows = p->nflows;
	p->nflows /= 2;
	int e = ww_compile_nft(p, &half);
	p->nflows = nflows;
	if (e)
		abort();
	apply(NULL, half, &t, "the half policy's cold batch does not read back");
	same(half, t, "the half policy's cold batch does not read back");
	apply(t, want, &t, "the incremental batch does not apply");
	same(want, t, "the incremental batch does not read back as the compiled table");
	/* And back: everything the second half added is deleted again. */
	apply(t, half, &t, "the batch back to the half policy does not apply");
	same(half, t, "the batch back to the half policy does not read back");

	/* The same policy in the other mode's family (bridge, or gateway for a bridge policy):
	 * one batch deletes the table of one family and creates the other's, and back. */
	struct nfr_table *other = NULL;
	enum ww_hookmode mode = p->enf.mode;
	p->enf.mode = mode == WW_BRIDGE ? WW_GATEWAY : WW_BRIDGE;
	e = ww_compile_nft(p, &other);
	p->enf.mode = mode;
	if (e)
		abort();
	apply(t, other, &t, "the change of mode's batch does not apply");
	same(other, t, "the change of mode's batch does not read back");
	apply(t, want, &t, "the batch back to the policy's own mode does not apply");
	same(want, t, "the batch back to the policy's own mode does not read back");
	nfr_table_free(other);
	flowmaps(p, want, &t, data, size);

	nfr_table_free(t);
	nfr_table_free(half);
	nfr_table_free(want);
	ww_policy_free(p);
	ww_diags_free(&diags);
	return 0;
}
