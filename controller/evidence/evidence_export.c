// SPDX-License-Identifier: GPL-2.0-only
/*
 * One export, as `wardwall evidence export` and the fleet agent make it: under the state lock,
 * an interrupted export finished, the chain read, the kernel collected, the model built, the
 * bundle written and chained.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "evidence.h"
#include "state.h"
#include "timeutil.h"

int ww_evidence_export(const struct ww_ev_export_opts *o, struct ww_ev_export *x,
		       struct strbuf *said, struct strbuf *err)
{
	uint8_t sk[WW_EV_SK_BYTES];
	char *keyp = NULL;
	int ret;

	memset(x, 0, sizeof(*x));
	/* One export at a time, and none while an apply changes what is read. */
	if ((ret = ww_state_open(o->state_dir, true, &x->st, err)))
		return ret;
	const char *dir = ww_state_dir(x->st);
	keyp = o->key ? strdup(o->key) : xstrdup_printf("%s/keys/evidence.key", dir);
	if (!keyp) {
		ret = -ENOMEM;
		goto fail;
	}
	if ((ret = ww_ev_key_load(keyp, sk, err)))
		goto fail;
	/* An export killed after chaining its bundle: put the bundle in place first. */
	if ((ret = ww_ev_chain_finish(dir, said, err)) ||
	    (ret = ww_ev_chain_load(dir, &x->chain, &x->nchain, err)) ||
	    (ret = ww_collect(dir, o->bpffs, &x->c, err)))
		goto fail;
	x->have_c = true;
	struct ww_ev_opts eo = {.since = o->since,
				.state_dir = dir,
				.chain = x->chain,
				.nchain = x->nchain,
				.bpffs = o->bpffs};
	if ((ret = ww_evidence_build(&x->c, &eo, &x->ev)))
		goto fail;
	x->have_ev = true;
	if (o->out) {
		x->dir = strdup(o->out);
	} else {
		char tb[WW_TIME_STRLEN], stamp[WW_TIME_STRLEN];
		size_t k = 0;
		ww_time_str(x->ev.time, tb);
		for (const char *p = tb; *p; p++) /* 2026-11-29T12:00:00Z -> 20261129T120000Z */
			if (*p != '-' && *p != ':')
				stamp[k++] = *p;
		stamp[k] = '\0';
		char *parent = xstrdup_printf("%s/evidence", dir);
		if (parent)
			mkdir(parent, 0750);
		free(parent);
		x->dir = xstrdup_printf("%s/evidence/%04lu-%s", dir, x->ev.seq, stamp);
	}
	ret = -ENOMEM;
	if (!x->dir)
		goto fail;
	if ((ret = ww_evidence_write(&x->ev, o->formats, sk, x->dir, dir, &x->w, err)))
		goto fail;
	sodium_memzero(sk, sizeof(sk));
	free(keyp);
	return 0;
fail:
	if (ret == -ENOMEM && !err->len)
		sb_add(err, strerror(ENOMEM));
	sodium_memzero(sk, sizeof(sk));
	free(keyp);
	ww_ev_export_free(x);
	return ret;
}

void ww_ev_export_free(struct ww_ev_export *x)
{
	if (x->have_ev)
		ww_evidence_free(&x->ev);
	if (x->have_c)
		ww_collect_free(&x->c);
	ww_ev_records_free(x->chain, x->nchain);
	ww_state_close(x->st);
	free(x->dir);
	memset(x, 0, sizeof(*x));
}
