// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall events: the decisions both tiers log, as they happen, one line each (events.h), and
 * every TICK seconds, when any were, how many the rate limits kept from being logged.
 *   --zone Z    only events with zone Z on either side (repeatable; "-": no zone)
 *   --flow ID   only events decided by flow ID (repeatable; "default": by the defaults)
 *   --tier T    only one tier: nftables (NFLOG) or xdp (the ring buffer)
 *   --count N   exit after N events
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nft_compile.h"
#include "events.h"
#include "nft_nl.h"
#include "nflog.h"

#define TICK		  2    /* seconds between reports of what was not logged */
#define LOG_GROUP_DEFAULT 4269 /* enforcement.log_group's default (policy_parse.c) */

struct ev {
	bool json;
	const char **zones, **flows;
	size_t nzones, nflows;
	long count, printed;
	const char *state_dir;
	bool want_nft, want_xdp;
	struct ww_lognames names;
	struct ww_logacct acct;
	struct ww_nflog *nflog;
	int group;
	bool overflow;
	struct ww_xdp *xdp;
	struct ring_buffer *ring;
	bool discard; /* draining what the ring held before we started */
	uint64_t xstats[WW_S_MAX];
	int64_t last_tick_ns;
	struct strbuf out;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool listed(const char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void emit(struct ev *c, const struct ww_logrec *r)
{
	if (c->count && c->printed >= c->count)
		return;
	if (c->nflows && !listed(c->flows, c->nflows, r->flow))
		return;
	if (c->nzones) {
		bool any = false;
		for (size_t i = 0; i < c->nzones && !any; i++)
			any = ww_logrec_has_zone(r, c->zones[i]);
		if (!any)
			return;
	}
	sb_reset(&c->out);
	ww_logrec_print(r, c->json, &c->out);
	fputs(sb_str(&c->out), stdout);
	fflush(stdout);
	c->printed++;
}

static void on_nflog(const struct ww_nflog_msg *m, void *arg)
{
	struct ev *c = arg;
	struct ww_logrec r;

	if (!ww_logrec_from_nflog(&c->names, m, &r))
		return;
	/* The counter is what follows "ww:<verdict>:". */
	ww_logacct_received(&c->acct, strchr(m->prefix + strlen(WW_NFT_LOG_TAG), ':') + 1);
	emit(c, &r);
}

static int on_ring(void *arg, void *data, size_t size)
{
	struct ev *c = arg;
	struct ww_event e;
	struct ww_logrec r;

	if (c->discard || size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	/* A slot we cannot name was given out by an apply after our last look. */
	if (!ww_logrec_from_xdp(&c->names, &e, &r)) {
		ww_lognames_refresh(&c->names, c->state_dir, c->xdp);
		ww_logrec_from_xdp(&c->names, &e, &r);
	}
	emit(c, &r);
	return 0;
}

static int drain_nflog(struct ev *c)
{
	int n = c->nflog ? ww_nflog_read(c->nflog, on_nflog, c, &c->overflow) : 0;

	if (n < 0)
		ww_errorf("events: NFLOG: %s", strerror(-n));
	return n < 0 ? n : 0;
}

/* The nftables table, read again; NULL when there is none or it cannot be read. */
static struct nfr_table *read_live(void)
{
	struct ww_nft *nft = NULL;
	struct nfr_table *t = NULL;
	struct strbuf err = {0};
	uint32_t genid;

	if (!ww_nft_open(&nft))
		ww_nft_read(nft, &t, &genid, &err);
	ww_nft_close(nft);
	sb_free(&err);
	return t;
}

static int open_nflog(struct ev *c, int group)
{
	struct strbuf err = {0};
	int e = ww_nflog_open((uint16_t)group, &c->nflog, &err);

	if (e)
		ww_errorf("events: nftables: %s", sb_str(&err));
	else
		c->group = group;
	sb_free(&err);
	return e;
}

/* What the tiers did not log since the last tick; with report false, only the baselines. */
static int tick(struct ev *c, bool report)
{
	int64_t t = now_ns();
	unsigned int interval = (unsigned int)((t - c->last_tick_ns + 500000000LL) / 1000000000LL);

	c->last_tick_ns = t;
	ww_lognames_refresh(&c->names, c->state_dir, c->xdp);
	if (c->nflog) {
		struct ww_logdrops d = {.time_ns = t, .tier = WW_TIER_NFT, .interval = interval};
		/* What is queued now was counted before the read below. */
		int e = drain_nflog(c);
		struct nfr_table *live = e ? NULL : read_live();
		int g = ww_nft_log_group(live);
		if (!e)
			e = drain_nflog(c);
		if (!e && g >= 0 && g != c->group) {
			/* A new policy logs to another group: follow it. */
			fprintf(stderr, "wardwall: events: the rules now log to NFLOG group %d\n",
				g);
			ww_nflog_close(c->nflog);
			c->nflog = NULL;
			e = open_nflog(c, g);
		}
		if (!e && (e = ww_logacct_tick(&c->acct, live, (uint16_t)c->group, &d)))
			ww_errorf("events: nftables: counting what was not logged: %s",
				  strerror(-e));
		d.overflow = c->overflow;
		c->overflow = false;
		if (!e && report && d.rate_limited) {
			sb_reset(&c->out);
			ww_logdrops_print(&d, c->json, &c->out);
			fputs(sb_str(&c->out), stdout);
			fflush(stdout);
		}
		ww_logdrops_clear(&d);
		nfr_table_free(live);
		if (e)
			return e;
	}
	if (c->xdp) {
		uint64_t s[WW_S_MAX];
		int e = ww_xdp_stats(c->xdp, s);
		if (e) {
			ww_errorf("events: xdp: ww_stats: %s", strerror(-e));
			return e;
		}
		struct ww_logdrops d = {
		    .time_ns = t,
		    .tier = WW_TIER_XDP,
		    .interval = interval,
		    .rate_limited = s[WW_S_EVENTS_RATE] - c->xstats[WW_S_EVENTS_RATE],
		    .ring_full = s[WW_S_EVENTS_FULL] - c->xstats[WW_S_EVENTS_FULL]};
		memcpy(c->xstats, s, sizeof(s));
		if (report && (d.rate_limited || d.ring_full)) {
			sb_reset(&c->out);
			ww_logdrops_print(&d, c->json, &c->out);
			fputs(sb_str(&c->out), stdout);
			fflush(stdout);
		}
	}
	return 0;
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
	const struct ww_policy *p = c->names.policy;

	for (size_t i = 0; p && i < c->nzones; i++) {
		const char *z = c->zones[i];
		if (!strcmp(z, "-") || ww_zone_find(p, z))
			continue;
		const char **cands = calloc(p->nzones + 1, sizeof(*cands));
		for (size_t k = 0; cands && k < p->nzones; k++)
			cands[k] = p->zones[k].name;
		const char *s = cands ? suggest(z, cands, p->nzones) : NULL;
		ww_errorf("events: --zone %s: no such zone in generation %lu%s%s%s", z,
			  c->names.gen, s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
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
		ww_errorf("events: --flow %s: no such flow in generation %lu%s%s%s", f,
			  c->names.gen, s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
		free(cands);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct ev *c, const char *bpffs)
{
	struct strbuf err = {0};
	int e = 0;

	if (c->want_xdp) {
		e = ww_xdp_open(bpffs, false, &c->xdp, &err);
		if (e && !c->want_nft) {
			ww_errorf("events: xdp: %s",
				  e == -ENOENT ? "nothing pinned (is XDP on?)" : sb_str(&err));
			goto out;
		}
		e = 0;
	}
	e = ww_lognames_refresh(&c->names, c->state_dir, c->xdp);
	if (e) {
		ww_errorf("events: xdp: the slot registries: %s", strerror(-e));
		goto out;
	}
	e = check_names(c);
	if (e)
		goto out;
	if (c->want_xdp && !c->xdp && c->names.policy && c->names.policy->enf.xdp != WW_XDP_OFF)
		fprintf(stderr,
			"wardwall: events: generation %lu has XDP on but nothing is pinned "
			"under %s: nftables only\n",
			c->names.gen, ww_bpffs(bpffs));
	if (c->xdp) {
		c->ring = ring_buffer__new(ww_xdp_ringbuf_fd(c->xdp), on_ring, c, NULL);
		if (!c->ring) {
			e = -errno;
			ww_errorf("events: xdp: the ring buffer: %s", strerror(errno));
			goto out;
		}
		/* What the ring holds now was logged before we started (perhaps long before). */
		c->discard = true;
		ring_buffer__consume(c->ring);
		c->discard = false;
	}
	if (c->want_nft) {
		struct nfr_table *live = read_live();
		int g = ww_nft_log_group(live);
		nfr_table_free(live);
		if (g < 0)
			g = c->names.policy ? c->names.policy->enf.log_group : LOG_GROUP_DEFAULT;
		e = open_nflog(c, g);
		if (e && !c->xdp)
			goto out;
		e = 0;
	}
	if (!c->nflog && !c->xdp) {
		ww_errorf("events: no tier to listen to");
		e = -ENOENT;
		goto out;
	}
	c->last_tick_ns = now_ns();
	e = tick(c, false);
	if (e)
		goto out;
	fprintf(stderr, "wardwall: events: listening:");
	if (c->nflog)
		fprintf(stderr, " nftables (NFLOG group %d)%s", c->group, c->xdp ? "," : "");
	if (c->xdp)
		fprintf(stderr, " xdp (ring buffer %s/%s/ww_events)", ww_bpffs(bpffs), WW_PIN_DIR);
	fputc('\n', stderr);
out:
	sb_free(&err);
	return e;
}

static int loop(struct ev *c, int sfd)
{
	struct pollfd fds[3] = {
	    {.fd = sfd, .events = POLLIN},
	    {.fd = c->nflog ? ww_nflog_fd(c->nflog) : -1, .events = POLLIN},
	    {.fd = c->ring ? ring_buffer__epoll_fd(c->ring) : -1, .events = POLLIN}};

	while (!c->count || c->printed < c->count) {
		int64_t left = c->last_tick_ns + TICK * 1000000000LL - now_ns();
		if (left <= 0) {
			int e = tick(c, true);
			if (e)
				return e;
			/* The group may have changed: a new socket. */
			fds[1].fd = c->nflog ? ww_nflog_fd(c->nflog) : -1;
			continue;
		}
		int r = poll(fds, 3, (int)(left / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (fds[0].revents)
			return 0; /* SIGINT or SIGTERM */
		if (fds[1].revents) {
			int e = drain_nflog(c);
			if (e)
				return e;
		}
		if (fds[2].revents && (r = ring_buffer__consume(c->ring)) < 0) {
			ww_errorf("events: xdp: the ring buffer: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

int cmd_events(int argc, char **argv)
{
	const char *bpffs = NULL, *tier = NULL, *count = NULL;
	struct ev c = {.group = -1};
	struct ww_opt opts[] = {{"--json", NULL, &c.json}, {"--tier", &tier, NULL},
				{"--count", &count, NULL}, {"--state-dir", &c.state_dir, NULL},
				{"--bpffs", &bpffs, NULL}, {NULL, NULL, NULL}};
	sigset_t sigs;
	int npos, sfd = -1, rc = WW_EXIT_USAGE;

	if (take_repeated(&argc, argv, "--zone", &c.zones, &c.nzones) ||
	    take_repeated(&argc, argv, "--flow", &c.flows, &c.nflows) ||
	    ww_opts_parse(argc, argv, opts, NULL, 0, &npos)) {
		rc = ww_usage("events");
		goto out;
	}
	c.want_nft = !tier || !strcmp(tier, "nftables");
	c.want_xdp = !tier || !strcmp(tier, "xdp");
	if (tier && !c.want_nft && !c.want_xdp) {
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
	if (setup(&c, bpffs))
		goto out;
	rc = loop(&c, sfd) ? WW_EXIT_USAGE : WW_EXIT_OK;
out:
	if (sfd >= 0)
		close(sfd);
	ring_buffer__free(c.ring);
	ww_nflog_close(c.nflog);
	ww_xdp_close(c.xdp);
	ww_lognames_free(&c.names);
	ww_logacct_free(&c.acct);
	sb_free(&c.out);
	free(c.zones);
	free(c.flows);
	return rc;
}
