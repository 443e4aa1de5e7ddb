// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the policy stage: any input must parse or be rejected with diagnostics,
 * never crash. A valid input must also survive analysis, and its canonical form must be a fixed
 * point: it parses without errors, and prints back to the same bytes and the same analysis.
 * Build and run with `make fuzz`; abort() here reports a broken property to libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "policy.h"
#include "timeutil.h"

struct outcome {
	struct ww_diags d;
	struct ww_policy *p;
	struct ww_inv_result *res;
	struct strbuf canon;
};

static void outcome_free(struct outcome *o)
{
	if (o->p)
		ww_inv_results_free(o->res, o->p->ninvs);
	free(o->res);
	ww_policy_free(o->p);
	ww_diags_free(&o->d);
	sb_free(&o->canon);
}

/* Parses, and when valid analyses and prints canonically. Returns the parser's result. */
static int run(const char *file, const char *text, size_t len, int64_t now, struct outcome *o)
{
	struct strbuf sb = {0};
	int err;

	memset(o, 0, sizeof(*o));
	o->d.file = file;
	err = ww_policy_parse(file, text, len, &o->d, &o->p);
	if (!err) {
		o->res = calloc(o->p->ninvs ? o->p->ninvs : 1, sizeof(*o->res));
		if (!o->res || ww_analyse(o->p, now, &o->d, o->res))
			abort(); /* no allocation fails under the fuzzer */
		ww_policy_print_canonical(o->p, &o->canon);
	}
	/* Both printers of the diagnostics see every input, valid or not. */
	ww_diags_sort(&o->d);
	ww_diags_print(&o->d, &sb);
	ww_diags_json(&o->d, &sb);
	sb_free(&sb);
	return err;
}

static void mismatch(const char *what, const struct outcome *a, const struct outcome *b)
{
	fprintf(stderr, "fixed point broken: %s\n--- first canonical form\n%s\n--- second\n%s\n",
		what, sb_str(&a->canon), sb_str(&b->canon));
	for (size_t i = 0; i < b->d.n; i++)
		fprintf(stderr, "second: %s: %s\n", b->d.v[i].ptr, b->d.v[i].msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t now;
	struct outcome a, b;

	if (!now && ww_time_parse("2026-11-29T12:00:00Z", &now))
		abort();
	/* No NUL terminator: the parser must honour len. */
	if (run("fuzz.json", (const char *)data, size, now, &a)) {
		outcome_free(&a);
		return 0;
	}
	if (a.canon.oom)
		abort();
	if (run("canonical.json", sb_str(&a.canon), a.canon.len, now, &b))
		mismatch("the canonical form does not parse", &a, &b);
	if (a.canon.len != b.canon.len || memcmp(sb_str(&a.canon), sb_str(&b.canon), a.canon.len))
		mismatch("the canonical form prints differently", &a, &b);
	if (a.d.nerrors != b.d.nerrors || a.d.nwarnings != b.d.nwarnings)
		mismatch("the canonical form analyses differently", &a, &b);
	for (size_t i = 0; i < a.p->ninvs; i++)
		if (a.res[i].holds != b.res[i].holds ||
		    a.res[i].monitor_only != b.res[i].monitor_only ||
		    a.res[i].violations != b.res[i].violations)
			mismatch("an invariant is proved differently", &a, &b);
	outcome_free(&a);
	outcome_free(&b);
	return 0;
}
