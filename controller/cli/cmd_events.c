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
	const char **zones, **flows;
	size_t nzones, nflows;
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

	if (c->nflows && !listed(c->flows, c->nflows, r->flow))
		return false;
	if (c->nzones) {
		bool any = false;
		for (size_t i = 0; i < c->nzones && !any; i++)
			any = ww_logrec_has_zone(r, c->zones[i]);
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

/* Takes every "NAME VALUE" and "NAME=VALUE" of a repeatable option out of argv. */
static int take_repeated(int *argc, char **argv, const char *name, const char ***vals, size_t *n)
{
	size_t len = strlen(name), cap = 0;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strncmp(a, name, len) && a[len] == '=') {
			v = a + len + 1;
		} else if (!strcmp(a, name)) {
			if (i + 1 >= *argc) {
				ww_errorf("%s: %s needs an argument", argv[0], name);
				return -EINVAL;
			}
			v = argv[++i];
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (VEC_PUSH(*vals, *n, cap, v))
			return -ENOMEM;
	}
	*argc = out;
	return 0;
}

/* Names given to --zone and --flow must exist in the applied policy, when there is one. */
static int check_names(const struct ev *c)
{
	const struct ww_lognames *n = ww_evsource_names(c->src);
	const struct ww_policy *p = n->policy;

	for (size_t i = 0; p && i < c->nzones; i++) {
		const char *z = c->zones[i];
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
	for (size_t i = 0; p && i < c->nflows; i++) {
		const char *f = c->flows[i];
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

int cmd_events(int argc, char **argv)
{
	const char *tier = NULL, *count = NULL;
	struct ev c = {0};
	struct ww_evsource_opts o = {
	    .on_rec = on_rec, .on_drops = on_drops, .arg = &c, .who = "events"};
	struct ww_opt opts[] = {{"--json", NULL, &c.json},   {"--tier", &tier, NULL},
				{"--count", &count, NULL},   {"--state-dir", &o.state_dir, NULL},
				{"--bpffs", &o.bpffs, NULL}, {NULL, NULL, NULL}};
	sigset_t sigs;
	int npos, sfd = -1, rc = WW_EXIT_USAGE;

	if (take_repeated(&argc, argv, "--zone", &c.zones, &c.nzones) ||
	    take_repeated(&argc, argv, "--flow", &c.flows, &c.nflows) ||
	    ww_opts_parse(argc, argv, opts, NULL, 0, &npos)) {
		rc = ww_usage("events");
		goto out;
	}
	o.want_nft = !tier || !strcmp(tier, "nftables");
	o.want_xdp = !tier || !strcmp(tier, "xdp");
	if (tier && !o.want_nft && !o.want_xdp) {
		ww_errorf("events: --tier takes nftables or xdp, not \"%s\"", tier);
		goto out;
	}
	if (count) {
		char *end;
		c.count = strtol(count, &end, 10);
		if (*end || c.count < 1) {
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
	if (ww_evsource_open(&o, &c.src) || check_names(&c))
		goto out;
	rc = ww_evsource_run(c.src, sfd) ? WW_EXIT_USAGE : WW_EXIT_OK;
out:
	if (sfd >= 0)
		close(sfd);
	ww_evsource_close(c.src);
	sb_free(&c.out);
	free(c.zones);
	free(c.flows);
	return rc;
}
