// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall serve --listen ADDR:PORT: answers GET /metrics over HTTP/1.1 (report/httpd.c: one
 * thread for every connection, bounded in time and number; another reads the kernel, once for
 * all the scrapes waiting), with what `wardwall metrics` prints, quarantines, detection and
 * serve's own connection series.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "httpd.h"
#include "metrics.h"
#include "quarantine.h"
#include "siem_args.h"
#include "watch.h"

/* A collection in full (the table, its readback, the drift) is kept this long at most;
 * meanwhile a scrape reads the counters again and nothing else while nothing was committed. */
#define SERVE_REREAD_S 60

struct server {
	const char *state_dir, *bpffs;
	struct ww_watch *watch; /* NULL: no detection */
	struct ww_httpd *httpd;
	struct ww_collect c; /* the collection kept (only the collecting thread touches it) */
	bool have;
	int64_t full_at; /* when c was collected in full (monotonic seconds) */
};

/* The exposition, on the server's collecting thread (one at a time): from the collection kept
 * when only counters can have changed (ww_collect_refresh), else collected afresh. */
static int serve_collect(void *arg, struct strbuf *out, struct strbuf *err)
{
	struct server *srv = arg;
	struct timespec ts;
	int e = 1;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (srv->have && ts.tv_sec - srv->full_at < SERVE_REREAD_S)
		e = ww_collect_refresh(srv->state_dir, &srv->c, err);
	if (e) {
		if (srv->have)
			ww_collect_free(&srv->c);
		sb_reset(err);
		e = ww_collect_counts(srv->state_dir, srv->bpffs, &srv->c, err);
		srv->have = !e;
		srv->full_at = ts.tv_sec;
	}
	if (e)
		return e;
	ww_metrics_print(&srv->c, out);
	ww_quar_metrics(srv->state_dir, srv->bpffs, ww_now(), out);
	if (srv->watch)
		ww_watch_metrics(srv->watch, out);
	ww_httpd_metrics(srv->httpd, out);
	return 0;
}

/* A whole number in [1, max] for option opt, or 0 after saying what is wrong. */
static unsigned uint_arg(const char *opt, const char *s, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
	if (!s || errno || !v || *end || v > max) {
		ww_errorf("serve: %s takes a whole number from 1 to %u, not \"%s\"", opt, max,
			  s ? s : "");
		return 0;
	}
	return (unsigned)v;
}

static int listen_on(const char *spec, struct strbuf *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai;
	int fd, one = 1, e;

	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(host)) {
		sb_addf(err, "--listen %s: expected ADDRESS:PORT, e.g. 127.0.0.1:9469", spec);
		return -EINVAL;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	e = getaddrinfo(host, colon + 1, &hints, &ai);
	if (e) {
		sb_addf(err, "--listen %s: %s", spec, gai_strerror(e));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN)) {
		e = -errno;
		sb_addf(err, "--listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return e;
	}
	freeaddrinfo(ai);
	return fd;
}

struct serve_args {
	struct server srv; /* --state-dir and --bpffs go straight to the server */
	const char *listen_spec, *detect, *maxc, *rto, *sto;
	struct ww_siem_args sa;
};

static const struct ww_opt serve_opts[] = {
	WW_STR("--listen", struct serve_args, listen_spec, "ADDR:PORT"),
	WW_STR("--detect", struct serve_args, detect, "on|off"),
	WW_STR("--state-dir", struct serve_args, srv.state_dir, "DIR"),
	WW_STR("--bpffs", struct serve_args, srv.bpffs, "DIR"),
	WW_STR("--max-connections", struct serve_args, maxc, "N"),
	WW_STR("--request-timeout", struct serve_args, rto, "S"),
	WW_STR("--send-timeout", struct serve_args, sto, "S"),
	WW_SIEM_OPTS(struct serve_args),
	WW_OPT_END,
};

static int cmd_serve(int argc, char **argv)
{
	struct serve_args a = {.listen_spec = "127.0.0.1:9469", .detect = "on", .maxc = "64",
			       .rto = "10", .sto = "30"};
	struct server *srv = &a.srv;
	struct ww_siem_cfg siem = {0};
	struct ww_httpd_opts ho = {.collect = serve_collect, .arg = srv};
	struct strbuf err = {0};
	int npos, lfd, e;

	if (ww_opts_parse(serve_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_serve);
	if (strcmp(a.detect, "on") && strcmp(a.detect, "off")) {
		ww_errorf("serve: --detect takes on or off, not \"%s\"", a.detect);
		return WW_EXIT_USAGE;
	}
	ho.max_conns = uint_arg("--max-connections", a.maxc, 100000);
	ho.request_timeout_ms = uint_arg("--request-timeout", a.rto, 3600) * 1000;
	ho.send_timeout_ms = uint_arg("--send-timeout", a.sto, 3600) * 1000;
	if (!ho.max_conns || !ho.request_timeout_ms || !ho.send_timeout_ms)
		return WW_EXIT_USAGE;
	if (ww_siem_args_cfg("serve", &a.sa, &siem))
		return WW_EXIT_USAGE;
	if (siem.n && !strcmp(a.detect, "off")) {
		ww_errorf("serve: --siem needs the event stream: not with --detect off");
		ww_siem_cfg_clear(&siem);
		return WW_EXIT_USAGE;
	}
	ww_cli_recover(srv->state_dir, srv->bpffs);
	lfd = listen_on(a.listen_spec, &err);
	if (lfd < 0) {
		ww_errorf("serve: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	e = ww_httpd_new(lfd, &ho, &srv->httpd, &err);
	if (e) {
		ww_errorf("serve: %s", sb_str(&err));
		close(lfd);
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	fprintf(stderr, "wardwall: serving http://%s/metrics\n", a.listen_spec);
	/* Metrics are served without detection if the event stream cannot be read (said). */
	if (!strcmp(a.detect, "on") &&
	    ww_watch_start(srv->state_dir, srv->bpffs, &siem, &srv->watch))
		fprintf(stderr,
			"wardwall: serve: no detection: the event stream could not be read\n");
	while (!(e = ww_httpd_step(srv->httpd, 1000)))
		;
	ww_errorf("serve: %s", strerror(-e));
	ww_httpd_free(srv->httpd);
	if (srv->have)
		ww_collect_free(&srv->c);
	sb_free(&err);
	ww_siem_cfg_clear(&siem);
	return WW_EXIT_USAGE;
}

const struct ww_cmd ww_cmd_serve = {
	"serve", cmd_serve,
	"answer GET /metrics over HTTP (default 127.0.0.1:9469); record events, run the detectors",
	serve_opts, NULL, NULL,
};
