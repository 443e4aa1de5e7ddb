// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmicrohttpd parses and frames HTTP; this file decides who is served. libmicrohttpd runs here
 * in "external" mode (ww_httpd_step polls its epoll descriptor and calls MHD_run), so its
 * callbacks and the sweep of the bounds run on one thread and a connection's socket is known to
 * be open while its record is in the list. Closing a connection early is a shutdown() of its
 * socket: the next MHD_run sees the end of the stream (or a failed send) and closes it the
 * ordinary way, with its callbacks.
 *
 * Scrapes are suspended (MHD_suspend_connection) while the collecting thread makes an
 * exposition, and resumed when one made after their request is ready. The exposition is one
 * libmicrohttpd response, reference-counted by the library, queued to every waiting scrape.
 */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum conn_state {
	C_WAITING,    /* for a whole request */
	C_COLLECTING, /* suspended until an exposition made after its request is ready */
	C_SENDING,    /* a response is queued */
	C_CLOSING,    /* shut down by a bound; libmicrohttpd has yet to close it */
};

enum closed_reason { R_CAP, R_REQUEST_TIMEOUT, R_SEND_TIMEOUT, R_MAX };
static const char *const reason_names[R_MAX] = {"cap", "request_timeout", "send_timeout"};

struct conn {
	struct conn *prev, *next; /* in the order opened */
	struct MHD_Connection *mc;
	int fd;
	enum conn_state state;
	int64_t since;	/* ms: opened, or its last response ended (C_WAITING); queued (C_SENDING) */
	uint64_t need;	/* C_COLLECTING: the first collection that answers it */
	bool requested; /* this request has asked for an exposition */
	bool suspended; /* by on_request, until the collecting thread resumes it */
};

struct ww_httpd {
	struct ww_httpd_opts o;
	struct MHD_Daemon *d;
	int epfd;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;  /* the collecting thread: a scrape waits, or stop */
	pthread_t thread;
	bool thread_up, stop, pending;
	struct conn *head, *tail;
	unsigned nopen;
	uint64_t started, done;	     /* collections started, the last one finished */
	struct MHD_Response *latest; /* the last exposition (or its 503), NULL before the first */
	unsigned latest_status;
	uint64_t closed[R_MAX];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends a connection early (the caller holds the lock; the socket is open while it is listed). */
static void shed(struct ww_httpd *h, struct conn *c, enum closed_reason why /* R_MAX: none */)
{
	shutdown(c->fd, SHUT_RDWR);
	c->state = C_CLOSING;
	if (why < R_MAX)
		h->closed[why]++;
	h->nopen--;
}

/* The connection in state st, other than but, with the oldest since; NULL if none. */
static struct conn *oldest(struct ww_httpd *h, enum conn_state st, const struct conn *but)
{
	struct conn *old = NULL;

	for (struct conn *x = h->head; x; x = x->next)
		if (x->state == st && x != but && (!old || x->since < old->since))
			old = x;
	return old;
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ww_httpd *h = cls;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!c)
			return;
		pthread_mutex_lock(&h->lock);
		if (c->state != C_CLOSING)
			h->nopen--;
		*(c->prev ? &c->prev->next : &h->head) = c->next;
		*(c->next ? &c->next->prev : &h->tail) = c->prev;
		pthread_mutex_unlock(&h->lock);
		free(c);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	c = calloc(1, sizeof(*c));
	if (!c || !ci) {
		/* Without a record it could not be bounded: not served. */
		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
		free(c);
		return;
	}
	c->mc = mc;
	c->fd = ci->connect_fd;
	c->state = C_WAITING;
	c->since = now_ms();
	pthread_mutex_lock(&h->lock);
	c->prev = h->tail;
	*(h->tail ? &h->tail->next : &h->head) = c;
	h->tail = c;
	h->nopen++;
	if (h->nopen > h->o.max_conns) {
		/* The oldest connection still waiting for its request makes room; when none
		 * waits, the one that has had its answer the longest without taking it; else the
		 * oldest scrape being collected (its socket is shut now, the connection closes
		 * once it is resumed). */
		struct conn *old = oldest(h, C_WAITING, c);
		if (!old)
			old = oldest(h, C_SENDING, c);
		if (!old)
			old = oldest(h, C_COLLECTING, c);
		shed(h, old ? old : c, R_CAP);
	}
	pthread_mutex_unlock(&h->lock);
	*socket_context = c;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct ww_httpd *h = cls;
	struct conn *c = *con_cls;

	if (!c)
		return;
	pthread_mutex_lock(&h->lock);
	if (c->state != C_CLOSING) {
		c->state = C_WAITING;
		c->since = now_ms();
	}
	c->requested = false;
	pthread_mutex_unlock(&h->lock);
	*con_cls = NULL;
}

static enum MHD_Result answer_text(struct MHD_Connection *mc, unsigned status, const char *text,
				   const char *allow)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct ww_httpd *h = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET),
	     head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	enum MHD_Result ret;

	if (!c)
		return MHD_NO;
	if (!*con_cls) {
		/* The request line and headers are in: answered now unless it is a scrape. */
		*con_cls = c;
		pthread_mutex_lock(&h->lock);
		if (c->state == C_WAITING)
			c->state = C_SENDING, c->since = now_ms();
		pthread_mutex_unlock(&h->lock);
		if (!get && !head)
			return answer_text(mc, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD only\n",
					   "GET, HEAD");
		if (strcmp(url, "/metrics"))
			return answer_text(mc, MHD_HTTP_NOT_FOUND, "wardwall: see /metrics\n",
					   NULL);
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body on GET means nothing here */
		return MHD_YES;
	}
	pthread_mutex_lock(&h->lock);
	if (!c->requested) {
		/* Suspended under the lock: the collecting thread resumes only what it finds
		 * suspended in the list. */
		c->requested = true;
		c->suspended = true;
		c->state = C_COLLECTING;
		c->need = h->started + 1;
		h->pending = true;
		pthread_cond_signal(&h->wake);
		MHD_suspend_connection(mc);
		pthread_mutex_unlock(&h->lock);
		return MHD_YES;
	}
	/* Resumed: an exposition made after the request is ready. Queuing takes a reference. */
	if (c->state == C_CLOSING) {
		pthread_mutex_unlock(&h->lock);
		return MHD_NO;
	}
	ret = h->latest ? MHD_queue_response(mc, h->latest_status, h->latest) : MHD_NO;
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static void *collector(void *arg)
{
	struct ww_httpd *h = arg;
	struct strbuf out = {0}, err = {0};

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->pending && !h->stop)
			pthread_cond_wait(&h->wake, &h->lock);
		if (h->stop)
			break;
		h->pending = false;
		uint64_t seq = ++h->started;
		pthread_mutex_unlock(&h->lock);

		sb_reset(&out);
		sb_reset(&err);
		int e = h->o.collect(h->o.arg, &out, &err);
		unsigned status = MHD_HTTP_OK;
		if (e) {
			sb_reset(&out);
			sb_addf(&out, "wardwall: %s\n", err.len ? sb_str(&err) : strerror(-e));
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
		}
		struct MHD_Response *r = NULL;
		if (out.oom) {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			r = MHD_create_response_from_buffer(14, (void *)"out of memory\n",
							    MHD_RESPMEM_PERSISTENT);
		} else {
			size_t len = out.len;
			r = MHD_create_response_from_buffer(len, sb_steal(&out),
							    MHD_RESPMEM_MUST_FREE);
		}
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						status == MHD_HTTP_OK
						    ? "text/plain; version=0.0.4; charset=utf-8"
						    : "text/plain");

		pthread_mutex_lock(&h->lock);
		struct MHD_Response *old = NULL;
		/* Between two generations the last whole exposition is the answer: the old state.
		 */
		if (r && !(e == -EAGAIN && h->latest && h->latest_status == MHD_HTTP_OK)) {
			old = h->latest;
			h->latest = r;
			h->latest_status = status;
			r = NULL;
		}
		h->done = seq;
		struct MHD_Connection *resume[64];
		size_t n;
		do {
			n = 0;
			for (struct conn *c = h->head; c && n < ARRAY_SIZE(resume); c = c->next)
				if (c->suspended && c->need <= seq) {
					c->suspended = false;
					if (c->state == C_COLLECTING) {
						c->state = C_SENDING;
						c->since = now_ms();
					}
					resume[n++] = c->mc;
				}
			/* Resumed outside the lock (libmicrohttpd takes its own); a suspended
			 * connection is never closed, so mc stays valid. Without a response (no
			 * memory) the request handler answers MHD_NO: the connection closes. */
			pthread_mutex_unlock(&h->lock);
			for (size_t i = 0; i < n; i++)
				MHD_resume_connection(resume[i]);
			pthread_mutex_lock(&h->lock);
		} while (n == ARRAY_SIZE(resume));
		pthread_mutex_unlock(&h->lock);
		if (old)
			MHD_destroy_response(old);
		if (r)
			MHD_destroy_response(r);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	sb_free(&out);
	sb_free(&err);
	return NULL;
}

int ww_httpd_new(int listen_fd, const struct ww_httpd_opts *o, struct ww_httpd **out,
		 struct strbuf *err)
{
	struct ww_httpd *h = calloc(1, sizeof(*h));
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;

	if (!h)
		return -ENOMEM;
	h->o = *o;
	if (!h->o.max_conns)
		h->o.max_conns = WW_HTTPD_MAX_CONNS;
	if (!h->o.request_timeout_ms)
		h->o.request_timeout_ms = WW_HTTPD_REQUEST_TIMEOUT_MS;
	if (!h->o.send_timeout_ms)
		h->o.send_timeout_ms = WW_HTTPD_SEND_TIMEOUT_MS;
	h->epfd = -1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	if (listen_fd < 0)
		flags |= MHD_USE_NO_LISTEN_SOCKET;
	/* libmicrohttpd's own limit is above ours, so that the connection one too many is
	 * accepted and on_connection chooses which one goes. */
	struct MHD_OptionItem ops[] = {
	    {MHD_OPTION_CONNECTION_LIMIT, h->o.max_conns + 16, NULL},
	    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
	    {listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, listen_fd, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, ops,
				MHD_OPTION_END);
	if (!h->d) {
		sb_add(err, "libmicrohttpd could not start a server on the socket");
		ww_httpd_free(h);
		return -EIO;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = di ? di->epoll_fd : -1;
	if (h->epfd < 0) {
		sb_add(err, "libmicrohttpd has no epoll descriptor");
		ww_httpd_free(h);
		return -EIO;
	}
	if (pthread_create(&h->thread, NULL, collector, h)) {
		sb_add(err, "cannot start the collecting thread");
		ww_httpd_free(h);
		return -EAGAIN;
	}
	h->thread_up = true;
	*out = h;
	return 0;
}

/* Closes what has overrun its bound. Runs on the thread that runs libmicrohttpd. */
static void sweep(struct ww_httpd *h)
{
	int64_t now = now_ms();

	pthread_mutex_lock(&h->lock);
	for (struct conn *c = h->head; c; c = c->next) {
		if (c->state == C_WAITING && now - c->since >= h->o.request_timeout_ms)
			shed(h, c, R_REQUEST_TIMEOUT);
		else if (c->state == C_SENDING && now - c->since >= h->o.send_timeout_ms)
			shed(h, c, R_SEND_TIMEOUT);
	}
	pthread_mutex_unlock(&h->lock);
}

int ww_httpd_step(struct ww_httpd *h, int timeout_ms)
{
	MHD_UNSIGNED_LONG_LONG mt;
	struct pollfd p = {.fd = h->epfd, .events = POLLIN};

	/* Woken often enough for the bounds (an eighth of the shorter, at most 250 ms), sooner
	 * when libmicrohttpd has work. */
	unsigned b = h->o.request_timeout_ms < h->o.send_timeout_ms ? h->o.request_timeout_ms
								   : h->o.send_timeout_ms;
	int tick = b / 8 > 250 ? 250 : b / 8 ? (int)(b / 8) : 1;
	if (timeout_ms > tick)
		timeout_ms = tick;
	if (MHD_get_timeout(h->d, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout_ms)
		timeout_ms = (int)mt;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	if (MHD_run(h->d) != MHD_YES)
		return -EIO;
	sweep(h);
	return 0;
}

int ww_httpd_add(struct ww_httpd *h, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* libmicrohttpd closes fd when it refuses it. */
	return MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, len) == MHD_YES ? 0 : -EIO;
}

unsigned ww_httpd_open_count(struct ww_httpd *h)
{
	unsigned n;

	pthread_mutex_lock(&h->lock);
	n = h->nopen;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void ww_httpd_metrics(struct ww_httpd *h, struct strbuf *out)
{
	pthread_mutex_lock(&h->lock);
	sb_add(out, "# HELP wardwall_serve_connections Connections open to serve.\n"
		    "# TYPE wardwall_serve_connections gauge\n");
	sb_addf(out, "wardwall_serve_connections %u\n", h->nopen);
	sb_add(out,
	       "# HELP wardwall_serve_closed_total Connections serve closed early, by the bound "
	       "they overran (cap: the oldest idle one when one too many opened).\n"
	       "# TYPE wardwall_serve_closed_total counter\n");
	for (int r = 0; r < R_MAX; r++)
		sb_addf(out, "wardwall_serve_closed_total{reason=\"%s\"} %llu\n", reason_names[r],
			(unsigned long long)h->closed[r]);
	pthread_mutex_unlock(&h->lock);
}

void ww_httpd_free(struct ww_httpd *h)
{
	if (!h)
		return;
	if (h->thread_up) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	/* Every suspended scrape is resumed (it then has a response or is closed) before the
	 * daemon stops, as libmicrohttpd asks. */
	for (bool again = true; again && h->d;) {
		again = false;
		pthread_mutex_lock(&h->lock);
		for (struct conn *c = h->head; c; c = c->next)
			if (c->suspended) {
				c->suspended = false;
				if (c->state != C_CLOSING)
					shed(h, c, R_MAX);
				MHD_resume_connection(c->mc);
				again = true;
			}
		pthread_mutex_unlock(&h->lock);
		if (again)
			MHD_run(h->d);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->latest)
		MHD_destroy_response(h->latest);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
