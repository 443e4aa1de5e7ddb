// SPDX-License-Identifier: GPL-2.0-only
#include "evsource.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nft_compile.h"
#include "nft_nl.h"
#include "nflog.h"

#define LOG_GROUP_DEFAULT 4269 /* enforcement.log_group's default (policy_parse.c) */

struct ww_evsource {
	struct ww_evsource_opts o;
	struct ww_lognames names;
	struct ww_logacct acct;
	struct ww_nflog *nflog;
	int group;
	bool overflow;
	struct ww_xdp *xdp;
	struct ring_buffer *ring;
	bool discard; /* draining what the ring held before we started */
	bool stop;    /* on_rec asked to stop */
	uint64_t xstats[WW_S_MAX];
	uint64_t xzone[WW_ZONE_SLOTS]; /* each zone's budget's refusals at the last tick */
	int64_t last_tick_ns;
	struct nfr_table *live; /* the table as last read (NULL: none), at ruleset generation: */
	uint32_t live_genid;
};

/* Errors of a long-running reader are said where they happen, on stderr, like the CLI's. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wardwall: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void deliver(struct ww_evsource *s, const struct ww_logrec *r)
{
	if (!s->stop && s->o.on_rec && s->o.on_rec(r, s->o.arg))
		s->stop = true;
}

static void on_nflog(const struct ww_nflog_msg *m, void *arg)
{
	struct ww_evsource *s = arg;
	struct ww_logrec r;

	if (!ww_logrec_from_nflog(&s->names, m, &r))
		return;
	/* The counter is what follows "ww:<verdict>:". */
	ww_logacct_received(&s->acct, strchr(m->prefix + strlen(WW_NFT_LOG_TAG), ':') + 1);
	deliver(s, &r);
}

static int on_ring(void *arg, void *data, size_t size)
{
	struct ww_evsource *s = arg;
	struct ww_event e;
	struct ww_logrec r;

	if (s->discard || size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	/* A slot we cannot name was given out by an apply after our last look. */
	if (!ww_logrec_from_xdp(&s->names, &e, &r)) {
		ww_lognames_refresh(&s->names, s->o.state_dir, s->xdp);
		ww_logrec_from_xdp(&s->names, &e, &r);
	}
	deliver(s, &r);
	return 0;
}

static int drain_nflog(struct ww_evsource *s)
{
	int n = s->nflog ? ww_nflog_read(s->nflog, on_nflog, s, &s->overflow) : 0;

	if (n < 0)
		say("%s: NFLOG: %s", s->o.who, strerror(-n));
	return n < 0 ? n : 0;
}

/*
 * The nftables table, kept in s: while the ruleset generation is the one it was read at, only
 * its counters are read again (every tick reads them; the table itself changes only with a
 * commit); else it is read whole. NULL when there is none or it cannot be read.
 */
static const struct nfr_table *read_live(struct ww_evsource *s)
{
	struct ww_nft *nft = NULL;
	struct strbuf err = {0};
	int e = ww_nft_open(&nft);

	if (!e && s->live)
		e = ww_nft_refresh_counters(nft, s->live, s->live_genid, &err);
	if (e || !s->live) {
		nfr_table_free(s->live);
		s->live = NULL;
		sb_reset(&err);
		if (nft && ww_nft_read(nft, &s->live, &s->live_genid, &err))
			s->live = NULL;
	}
	ww_nft_close(nft);
	sb_free(&err);
	return s->live;
}

static int open_nflog(struct ww_evsource *s, int group)
{
	struct strbuf err = {0};
	int e = ww_nflog_open((uint16_t)group, &s->nflog, &err);

	if (e)
		say("%s: nftables: %s", s->o.who, sb_str(&err));
	else
		s->group = group;
	sb_free(&err);
	return e;
}

static void drops(struct ww_evsource *s, const struct ww_logdrops *d)
{
	if (s->o.on_drops)
		s->o.on_drops(d, s->o.arg);
}

/* What each source zone's XDP log budget refused since the last tick, into d->by_zone. A
 * program pinned before the per-zone budgets has no counts: nothing is added. */
static int xdp_zone_drops(struct ww_evsource *s, struct ww_logdrops *d)
{
	uint64_t z[WW_ZONE_SLOTS];
	int e = ww_xdp_log_dropped(s->xdp, z);

	if (e == -ENOENT)
		return 0;
	for (size_t i = 0; i < WW_ZONE_SLOTS && !e; i++) {
		uint64_t n = z[i] - s->xzone[i];
		const char *name = i == 0 ? "-" : s->names.zones[i][0] ? s->names.zones[i] : "?";
		if (n)
			e = ww_logdrops_add_zone(d, name, n);
	}
	if (e) {
		say("%s: xdp: ww_log_budget: %s", s->o.who, strerror(-e));
		return e;
	}
	memcpy(s->xzone, z, sizeof(z));
	ww_logdrops_sort_zones(d);
	return 0;
}

/* What the tiers did not log since the last tick; with report false, only the baselines. */
static int tick(struct ww_evsource *s, bool report)
{
	int64_t t = now_ns();
	unsigned int interval = (unsigned int)((t - s->last_tick_ns + 500000000LL) / 1000000000LL);

	s->last_tick_ns = t;
	ww_lognames_refresh(&s->names, s->o.state_dir, s->xdp);
	if (s->nflog) {
		struct ww_logdrops d = {.time_ns = t, .tier = WW_TIER_NFT, .interval = interval};
		/* What is queued now was counted before the read below. */
		int e = drain_nflog(s);
		const struct nfr_table *live = e ? NULL : read_live(s);
		int g = ww_nft_log_group(live);
		if (!e)
			e = drain_nflog(s);
		if (!e && g >= 0 && g != s->group) {
			/* A new policy logs to another group: follow it. */
			fprintf(stderr, "wardwall: %s: the rules now log to NFLOG group %d\n",
				s->o.who, g);
			ww_nflog_close(s->nflog);
			s->nflog = NULL;
			e = open_nflog(s, g);
		}
		if (!e && (e = ww_logacct_tick(&s->acct, live, (uint16_t)s->group, &d)))
			say("%s: nftables: counting what was not logged: %s", s->o.who,
			    strerror(-e));
		d.overflow = s->overflow;
		s->overflow = false;
		if (!e && report && d.rate_limited)
			drops(s, &d);
		ww_logdrops_clear(&d);
		if (e)
			return e;
	}
	if (s->xdp) {
		uint64_t x[WW_S_MAX];
		int e = ww_xdp_stats(s->xdp, x);
		if (e) {
			say("%s: xdp: ww_stats: %s", s->o.who, strerror(-e));
			return e;
		}
		struct ww_logdrops d = {
		    .time_ns = t,
		    .tier = WW_TIER_XDP,
		    .interval = interval,
		    .rate_limited = x[WW_S_EVENTS_RATE] - s->xstats[WW_S_EVENTS_RATE],
		    .ring_full = x[WW_S_EVENTS_FULL] - s->xstats[WW_S_EVENTS_FULL]};
		memcpy(s->xstats, x, sizeof(x));
		e = xdp_zone_drops(s, &d);
		if (!e && report && (d.rate_limited || d.ring_full))
			drops(s, &d);
		ww_logdrops_clear(&d);
		if (e)
			return e;
	}
	if (report && s->o.on_tick)
		s->o.on_tick(t, s->o.arg);
	return 0;
}

const struct ww_lognames *ww_evsource_names(const struct ww_evsource *s)
{
	return &s->names;
}

int ww_evsource_open(const struct ww_evsource_opts *o, struct ww_evsource **out)
{
	struct ww_evsource *s = calloc(1, sizeof(*s));
	struct strbuf err = {0};
	const char *bpffs = o->bpffs;
	int e = 0;

	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->group = -1;
	if (o->want_xdp) {
		e = ww_xdp_open(bpffs, false, &s->xdp, &err);
		if (e && !o->want_nft) {
			say("%s: xdp: %s", o->who,
			    e == -ENOENT ? "nothing pinned (is XDP on?)" : sb_str(&err));
			goto out;
		}
		e = 0;
	}
	e = ww_lognames_refresh(&s->names, o->state_dir, s->xdp);
	if (e) {
		say("%s: xdp: the slot registries: %s", o->who, strerror(-e));
		goto out;
	}
	if (o->want_xdp && !s->xdp && s->names.policy && s->names.policy->enf.xdp != WW_XDP_OFF)
		fprintf(stderr,
			"wardwall: %s: generation %lu has XDP on but nothing is pinned "
			"under %s: nftables only\n",
			o->who, s->names.gen, ww_bpffs(bpffs));
	if (s->xdp) {
		s->ring = ring_buffer__new(ww_xdp_ringbuf_fd(s->xdp), on_ring, s, NULL);
		if (!s->ring) {
			e = -errno;
			say("%s: xdp: the ring buffer: %s", o->who, strerror(errno));
			goto out;
		}
		/* What the ring holds now was logged before we started (perhaps long before). */
		s->discard = true;
		ring_buffer__consume(s->ring);
		s->discard = false;
	}
	if (o->want_nft) {
		int g = ww_nft_log_group(read_live(s));
		if (g < 0)
			g = s->names.policy ? s->names.policy->enf.log_group : LOG_GROUP_DEFAULT;
		e = open_nflog(s, g);
		if (e && !s->xdp)
			goto out;
		e = 0;
	}
	if (!s->nflog && !s->xdp) {
		say("%s: no tier to listen to", o->who);
		e = -ENOENT;
		goto out;
	}
	s->last_tick_ns = now_ns();
	e = tick(s, false);
	if (e)
		goto out;
	fprintf(stderr, "wardwall: %s: listening:", o->who);
	if (s->nflog)
		fprintf(stderr, " nftables (NFLOG group %d)%s", s->group, s->xdp ? "," : "");
	if (s->xdp)
		fprintf(stderr, " xdp (ring buffer %s/%s/ww_events)", ww_bpffs(bpffs), WW_PIN_DIR);
	fputc('\n', stderr);
out:
	sb_free(&err);
	if (e)
		ww_evsource_close(s);
	else
		*out = s;
	return e;
}

int ww_evsource_run(struct ww_evsource *s, int stop_fd)
{
	struct pollfd fds[3] = {
	    {.fd = stop_fd, .events = POLLIN},
	    {.fd = s->nflog ? ww_nflog_fd(s->nflog) : -1, .events = POLLIN},
	    {.fd = s->ring ? ring_buffer__epoll_fd(s->ring) : -1, .events = POLLIN}};

	while (!s->stop) {
		int64_t left = s->last_tick_ns + WW_EVSOURCE_TICK * 1000000000LL - now_ns();
		if (left <= 0) {
			int e = tick(s, true);
			if (e)
				return e;
			/* The group may have changed: a new socket. */
			fds[1].fd = s->nflog ? ww_nflog_fd(s->nflog) : -1;
			continue;
		}
		int r = poll(fds, 3, (int)(left / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (fds[0].revents)
			return 0; /* asked to stop */
		if (fds[1].revents) {
			int e = drain_nflog(s);
			if (e)
				return e;
		}
		if (fds[2].revents && (r = ring_buffer__consume(s->ring)) < 0) {
			say("%s: xdp: the ring buffer: %s", s->o.who, strerror(-r));
			return r;
		}
	}
	return 0;
}

void ww_evsource_close(struct ww_evsource *s)
{
	if (!s)
		return;
	ring_buffer__free(s->ring);
	ww_nflog_close(s->nflog);
	ww_xdp_close(s->xdp);
	ww_lognames_free(&s->names);
	ww_logacct_free(&s->acct);
	nfr_table_free(s->live);
	free(s);
}
