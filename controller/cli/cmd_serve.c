// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall serve --listen ADDR:PORT: answers GET /metrics over HTTP/1.1. Each connection gets
 * its own thread (at most MAX_CLIENTS at once; more wait in the listen backlog) and its own fresh
 * read of the kernel, so slow or concurrent scrapers do not hold each other up; everything else
 * gets 404 or 405.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "metrics.h"
#include "quarantine.h"
#include "watch.h"

#define MAX_CLIENTS 16

struct server {
	const char *state_dir, *bpffs;
	struct ww_watch *watch; /* NULL: no detection */
	sem_t slots;		/* free client threads */
};

struct client {
	struct server *srv;
	int fd;
};

static void reply(int fd, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) < 0)
		return;
	while (len > 0) {
		ssize_t w = send(fd, body, len, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void *serve_client(void *arg)
{
	struct client *cl = arg;
	char req[4096];
	size_t have = 0;
	struct timeval tv = {.tv_sec = 10};

	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (have < sizeof(req) - 1) {
		ssize_t r = recv(cl->fd, req + have, sizeof(req) - 1 - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[have] = '\0';
	char method[8] = "", path[256] = "";
	if (sscanf(req, "%7s %255s", method, path) != 2) {
		reply(cl->fd, "400 Bad Request", "text/plain", "bad request\n", 12);
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		reply(cl->fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
	} else if (strcmp(path, "/metrics") && strncmp(path, "/metrics?", 9)) {
		const char *b = "wardwall: see /metrics\n";
		reply(cl->fd, "404 Not Found", "text/plain", b, strlen(b));
	} else {
		struct ww_collect c;
		struct strbuf err = {0}, out = {0};
		if (ww_collect(cl->srv->state_dir, cl->srv->bpffs, &c, &err)) {
			sb_addf(&out, "wardwall: %s\n", sb_str(&err));
			reply(cl->fd, "503 Service Unavailable", "text/plain", sb_str(&out),
			      out.len);
		} else {
			ww_metrics_print(&c, &out);
			ww_quar_metrics(cl->srv->state_dir, cl->srv->bpffs, ww_now(), &out);
			ww_collect_free(&c);
			if (cl->srv->watch)
				ww_watch_metrics(cl->srv->watch, &out);
			reply(cl->fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
			      sb_str(&out), strcmp(method, "HEAD") ? out.len : 0);
		}
		sb_free(&err);
		sb_free(&out);
	}
	close(cl->fd);
	sem_post(&cl->srv->slots);
	free(cl);
	return NULL;
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

int cmd_serve(int argc, char **argv)
{
	const char *listen_spec = "127.0.0.1:9469", *detect = "on";
	struct server srv = {0};
	struct ww_opt opts[] = {{"--listen", &listen_spec, NULL},
				{"--detect", &detect, NULL},
				{"--state-dir", &srv.state_dir, NULL},
				{"--bpffs", &srv.bpffs, NULL},
				{NULL, NULL, NULL}};
	struct strbuf err = {0};
	int npos, lfd;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos))
		return ww_usage("serve");
	if (strcmp(detect, "on") && strcmp(detect, "off")) {
		ww_errorf("serve: --detect takes on or off, not \"%s\"", detect);
		return WW_EXIT_USAGE;
	}
	ww_cli_recover(srv.state_dir, srv.bpffs);
	lfd = listen_on(listen_spec, &err);
	if (lfd < 0) {
		ww_errorf("serve: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	fprintf(stderr, "wardwall: serving http://%s/metrics\n", listen_spec);
	signal(SIGPIPE, SIG_IGN);
	/* Metrics are served without detection if the event stream cannot be read (said). */
	if (!strcmp(detect, "on") && ww_watch_start(srv.state_dir, srv.bpffs, &srv.watch))
		fprintf(stderr,
			"wardwall: serve: no detection: the event stream could not be read\n");
	sem_init(&srv.slots, 0, MAX_CLIENTS);
	for (;;) {
		/* A connection is accepted only when a thread is free: a burst of scrapers waits in
		 * the backlog instead of being turned away. */
		while (sem_wait(&srv.slots) && errno == EINTR)
			;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			sem_post(&srv.slots);
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			ww_errorf("serve: accept: %s", strerror(errno));
			break;
		}
		struct client *cl = malloc(sizeof(*cl));
		pthread_t t;
		if (!cl) {
			close(fd);
			sem_post(&srv.slots);
			continue;
		}
		cl->srv = &srv;
		cl->fd = fd;
		if (pthread_create(&t, NULL, serve_client, cl)) {
			close(fd);
			free(cl);
			sem_post(&srv.slots);
			continue;
		}
		pthread_detach(t);
	}
	close(lfd);
	sb_free(&err);
	return WW_EXIT_USAGE;
}
