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
 * (inet <-> bridge) and back. No kernel is touched. abort() reports a broken property.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_diff.h"
#include "nft_compile.h"
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
		dump_and_abort("plan finds changes between the compiled table and its readback", want,
			       got, NULL);
	ww_nft_diff_free(&d);
	sb_free(&a);
	sb_free(&b);
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

	nfr_table_free(t);
	nfr_table_free(half);
	nfr_table_free(want);
	ww_policy_free(p);
	ww_diags_free(&diags);
	return 0;
}
