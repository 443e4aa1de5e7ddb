// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for serve's HTTP side (report/httpd.c on libmicrohttpd): the input is what a
 * client sends on one connection before closing its sending half. The server is the one serve
 * runs (same bounds, same collecting thread), with a fixed exposition in place of the kernel's.
 * Properties: the server closes the connection within a bound (never hangs on any input); what
 * it sends is a sequence of HTTP/1.x responses, each with a status line, headers ended by an
 * empty line and a Content-Length; every 200 carries the exposition's type; and afterwards no
 * connection is left open (none left suspended or forgotten). Seeds: tests/fuzz/http/.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

static const char body[] = "# HELP wardwall_up 1 when the kernel state could be read.\n"
			   "# TYPE wardwall_up gauge\nwardwall_up 1\n";

static int fake_collect(void *arg, struct strbuf *out, struct strbuf *err)
{
	sb_add(out, body);
	return 0;
}

static struct ww_httpd *server(void)
{
	static struct ww_httpd *h;
	/* Short bounds: a client that closes its half mid-request is closed by the request bound. */
	struct ww_httpd_opts o = {.max_conns = 4, .request_timeout_ms = 50,
				  .send_timeout_ms = 5000, .collect = fake_collect};
	struct strbuf err = {0};

	if (!h && ww_httpd_new(-1, &o, &h, &err)) {
		fprintf(stderr, "fuzz_serve: %s\n", sb_str(&err));
		abort();
	}
	sb_free(&err);
	return h;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the responses in out[0..len): aborts on a broken property. */
static void check_responses(const char *out, size_t len)
{
	size_t at = 0;

	while (at < len) {
		const char *r = out + at;
		size_t left = len - at;
		const char *end = memmem(r, left, "\r\n\r\n", 4);
		if (left < 12 || (memcmp(r, "HTTP/1.1 ", 9) && memcmp(r, "HTTP/1.0 ", 9)))
			abort(); /* not a status line */
		if (!end)
			abort(); /* headers never ended */
		int status = atoi(r + 9);
		if (status < 100 || status > 599)
			abort();
		size_t hlen = (size_t)(end - r) + 4;
		if (status < 200) { /* 100 Continue: a status line alone */
			at += hlen;
			continue;
		}
		const char *cl = memmem(r, hlen, "\r\nContent-Length: ", 18);
		if (!cl)
			abort(); /* every answer says its length */
		unsigned long blen = strtoul(cl + 18, NULL, 10);
		if (status == 200 && !memmem(r, hlen,
					     "\r\nContent-Type: text/plain; version=0.0.4; "
					     "charset=utf-8\r\n",
					     52))
			abort();
		/* A HEAD answer has the length and no body: it is followed by the next status
		 * line or by nothing. */
		if (left - hlen >= blen && (left - hlen == blen || !memcmp(r + hlen + blen, "HTTP/1.", 7)))
			at += hlen + blen;
		else if (left - hlen == 0 || !memcmp(r + hlen, "HTTP/1.", 7))
			at += hlen;
		else
			abort(); /* a body of another length */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_httpd *h = server();
	int sv[2];
	char *out = NULL;
	size_t len = 0, cap = 0, sent = 0;
	bool eof = false, half_closed = false;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (ww_httpd_add(h, sv[1]))
		abort();
	int64_t until = now_ms() + 10000;
	while (!eof) {
		if (now_ms() > until)
			abort(); /* the server kept the connection open: a hang */
		if (sent < size) {
			ssize_t w = send(sv[0], data + sent, size - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				sent = size; /* the server closed: the rest is not wanted */
		} else if (!half_closed) {
			/* After a turn of the server, so that the end of the stream comes as an event
			 * of its own: libmicrohttpd's edge-triggered epoll does not read again after
			 * a short read and would miss an end that came with the last bytes (the
			 * request timeout would close the connection, 50 ms here). */
			shutdown(sv[0], SHUT_WR);
			half_closed = true;
		}
		if (ww_httpd_step(h, 5))
			abort();
		for (;;) {
			if (len + 65536 > cap) {
				char *o = realloc(out, cap = len + 65536 * 2);
				if (!o)
					abort();
				out = o;
			}
			ssize_t r = recv(sv[0], out + len, cap - len, 0);
			if (r > 0) {
				len += (size_t)r;
				continue;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN))
				eof = true;
			break;
		}
	}
	close(sv[0]);
	check_responses(out, len);
	free(out);
	/* Closed on both sides: libmicrohttpd forgets it within a turn or two. */
	for (int i = 0; i < 100 && ww_httpd_open_count(h); i++)
		ww_httpd_step(h, 1);
	if (ww_httpd_open_count(h))
		abort(); /* a connection left open (suspended and never resumed?) */
	return 0;
}
