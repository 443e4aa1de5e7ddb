/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: the HTTP server of `wardwall serve`, on libmicrohttpd. One thread runs every
 * connection (non-blocking sockets: a slow peer holds only its own connection); another makes
 * the expositions, one at a time, and every scrape waiting when one is made gets that one. So a
 * scrape never waits on another client, and the kernel is read once however many scrape at once.
 *
 * Every answer closes its connection ("Connection: close"), so a connection that waits is one
 * whose request has not come whole, never an idle kept-alive one. Bounds, each counted in
 * wardwall_serve_closed_total{reason}:
 *   - request_timeout_ms: a connection must deliver a whole request within this long of being
 *     opened: a client sending a byte every few seconds is
 *     closed, however alive it looks; so is one that closed its sending half mid-request
 *     (libmicrohttpd waits for more);
 *   - send_timeout_ms: a response must be sent whole within this long; a client that does not
 *     read is closed;
 *   - max_conns: at most this many connections; one more closes the connection that has waited
 *     longest for a request (the oldest idle one), or, when every one is being answered, the new
 * one. GET and HEAD of /metrics (any query) get the exposition; other paths 404, other methods 405.
 */
#ifndef WW_HTTPD_H
#define WW_HTTPD_H

#include <stdint.h>

#include "util.h"

struct ww_httpd;

struct ww_httpd_opts {
	unsigned max_conns;	     /* 0: WW_HTTPD_MAX_CONNS */
	unsigned request_timeout_ms; /* 0: WW_HTTPD_REQUEST_TIMEOUT_MS */
	unsigned send_timeout_ms;    /* 0: WW_HTTPD_SEND_TIMEOUT_MS */
	/*
	 * Makes an exposition into out (empty on entry), on the server's collecting thread, one
	 * call at a time. Returns 0, or -errno with err saying why (answered 503), or -EAGAIN
	 * when the state is between two generations (an apply runs): then the last exposition
	 * made is answered again, if there is one.
	 */
	int (*collect)(void *arg, struct strbuf *out, struct strbuf *err);
	void *arg;
};

#define WW_HTTPD_MAX_CONNS	 64
#define WW_HTTPD_REQUEST_TIMEOUT_MS 10000
#define WW_HTTPD_SEND_TIMEOUT_MS    30000

/*
 * A server on listen_fd (bound and listening; it becomes the server's), or, with listen_fd -1,
 * one that serves only the connections given to ww_httpd_add. Starts the collecting thread.
 * Returns 0 or -errno with err saying why; *out is left alone on failure.
 */
int ww_httpd_new(int listen_fd, const struct ww_httpd_opts *o, struct ww_httpd **out,
		 struct strbuf *err);
/* Runs the connections for up to timeout_ms (accepting, reading, sending, the bounds above).
 * Returns 0 or -errno. */
int ww_httpd_step(struct ww_httpd *h, int timeout_ms);
/* Serves a connected socket (the server owns it from then on). Returns 0 or -errno. */
int ww_httpd_add(struct ww_httpd *h, int fd);
/* Connections open now. */
unsigned ww_httpd_open_count(struct ww_httpd *h);
/* The server's own series (connections open, closed by reason), for the exposition;
 * safe from the collect callback. */
void ww_httpd_metrics(struct ww_httpd *h, struct strbuf *out);
/* Stops the collecting thread, closes every connection. NULL is fine. */
void ww_httpd_free(struct ww_httpd *h);

#endif
