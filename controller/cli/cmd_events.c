// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall events: the decisions both tiers log, as they happen, one line each (events.h), and
 * every TICK seconds, when any were, how many the rate limits kept from being logged.
 *   --zone Z    only events with zone Z on either side (repeatable; "-": no zone)
 *   --flow ID   only events decided by flow ID (repeatable; "default": by the defaults)
 *   --tier T    only one tier: nftables (NFLOG) or xdp (the ring buffer)
 *   --count N   exit after N events
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "events.h"
#include "evsource.h"

struct ev {
	bool json;
	struct ww_strlist zones, flows; /* --zone, --flow */
	long count, printed;
	struct ww_evsource *src;
	struct strbuf out;
};

static bool listed(const char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* One record; true once --count records were printed. */
static bool on_rec(const struct ww_logrec *r, void *arg)
{
	struct ev *c = arg;

	if (c->flows.n && !listed(c->flows.v, c->flows.n, r->flow))
		return false;
	if (c->zones.n) {
		bool any = false;
		for (size_t i = 0; i < c->zones.n && !any; i++)
			any = ww_logrec_has_zone(r, c->zones.v[i]);
		if (!any)
			return false;
	}
	sb_reset(&c->out);
	ww_logrec_print(r, c->json, &c->out);
	fputs(sb_str(&c->out), stdout);
	fflush(stdout);
	c->printed++;
	return c->count && c->printed >= c->count;
}

static void on_drops(const struct ww_logdrops *d, void *arg)
{
	struct ev *c = arg;

	sb_reset(&c->out);
	ww_logdrops_print(d, c->json, &c->out);
	fputs(sb_str(&c->out), stdout);
	fflush(stdout);
}

/* Names given to --zone and --flow must exist in the applied policy, when there is one. */
static int check_names(const struct ev *c)
{
	const struct ww_lognames *n = ww_evsource_names(c->src);
	const struct ww_policy *p = n->policy;

	for (size_t i = 0; p && i < c->zones.n; i++) {
		const char *z = c->zones.v[i];
		if (!strcmp(z, "-") || ww_zone_find(p, z))
			continue;
		const char **cands = calloc(p->nzones + 1, sizeof(*cands));
		for (size_t k = 0; cands && k < p->nzones; k++)
			cands[k] = p->zones[k].name;
		const char *s = cands ? suggest(z, cands, p->nzones) : NULL;
		ww_errorf("events: --zone %s: no such zone in generation %lu%s%s%s", z, n->gen,
			  s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
		free(cands);
		return -EINVAL;
	}
	for (size_t i = 0; p && i < c->flows.n; i++) {
		const char *f = c->flows.v[i];
		if (!strcmp(f, "default") || ww_flow_find(p, f))
			continue;
		const char **cands = calloc(p->nflows + 1, sizeof(*cands));
		for (size_t k = 0; cands && k < p->nflows; k++)
			cands[k] = p->flows[k].id;
		const char *s = cands ? suggest(f, cands, p->nflows) : NULL;
		ww_errorf("events: --flow %s: no such flow in generation %lu%s%s%s", f, n->gen,
			  s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
		free(cands);
		return -EINVAL;
	}
	return 0;
}

/* The options go straight to the printer (c) and the event source (o). */
struct events_args {
	struct ev c;
	struct ww_evsource_opts o;
	const char *tier, *count;
};

static const struct ww_opt events_opts[] = {
	WW_FLAG("--json", struct events_args, c.json),
	WW_LIST("--zone", struct events_args, c.zones, "Z"),
	WW_LIST("--flow", struct events_args, c.flows, "ID"),
	WW_STR("--tier", struct events_args, tier, "nftables|xdp"),
	WW_STR("--count", struct events_args, count, "N"),
	WW_STR("--state-dir", struct events_args, o.state_dir, "DIR"),
	WW_STR("--bpffs", struct events_args, o.bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_events(int argc, char **argv)
{
	struct events_args a = {
	    .o = {.on_rec = on_rec, .on_drops = on_drops, .arg = &a.c, .who = "events"}};
	struct ev *c = &a.c;
	struct ww_evsource_opts *o = &a.o;
	sigset_t sigs;
	int npos, sfd = -1, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(events_opts, argc, argv, &a, NULL, 0, &npos)) {
		rc = ww_usage(&ww_cmd_events);
		goto out;
	}
	o->want_nft = !a.tier || !strcmp(a.tier, "nftables");
	o->want_xdp = !a.tier || !strcmp(a.tier, "xdp");
	if (a.tier && !o->want_nft && !o->want_xdp) {
		ww_errorf("events: --tier takes nftables or xdp, not \"%s\"", a.tier);
		goto out;
	}
	if (a.count) {
		char *end;
		c->count = strtol(a.count, &end, 10);
		if (*end || c->count < 1) {
			ww_errorf("events: --count takes a number of events, 1 or more");
			goto out;
		}
	}
	/* SIGINT and SIGTERM arrive as input on sfd: the loop ends, everything is closed. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		ww_errorf("events: signalfd: %s", strerror(errno));
		goto out;
	}
	if (ww_evsource_open(o, &c->src) || check_names(c))
		goto out;
	rc = ww_evsource_run(c->src, sfd) ? WW_EXIT_USAGE : WW_EXIT_OK;
out:
	if (sfd >= 0)
		close(sfd);
	ww_evsource_close(c->src);
	sb_free(&c->out);
	ww_opts_free(events_opts, &a);
	return rc;
}

const struct ww_cmd ww_cmd_events = {
	"events", cmd_events,
	"logged decisions of both tiers as they happen, and what rate limits dropped", events_opts,
	NULL, NULL,
};
