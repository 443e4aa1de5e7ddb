// SPDX-License-Identifier: GPL-2.0-only
/*
 * Delivery to a SIEM (siem.h): one bounded queue and one sender thread per output. The reader
 * of the event stream only formats and queues; connecting, TLS and retrying happen on the
 * sender's thread, so a slow or absent receiver never holds up detection.
 */
#include "siem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define IO_TIMEOUT_S   10
#define AVG_MSG_BYTES  2048 /* the byte bound of a queue: queue x this */

struct msg {
	struct msg *next, *prev;
	enum ww_siem_kind kind;
	size_t len;
	char data[]; /* framed, ready to send */
};

struct output {
	struct ww_siem *s;
	struct ww_siem_out cfg;
	pthread_t thread;
	bool started;
	/* under s->mu */
	struct msg *head, *tail;
	struct msg *sending; /* the head while the sender holds it: never evicted */
	uint32_t n;
	size_t bytes, max_bytes;
	struct ww_siem_stats st;
	/* the sender's own */
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	bool failing; /* said on stderr; the next success says it recovered */
};

struct ww_siem {
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* queued, or stopping */
	pthread_cond_t drained; /* a queue became empty */
	bool stop;
	const char *who;
	struct ww_siem_origin org;
	struct output *out;
	size_t n;
	struct strbuf fmt; /* under mu */
};

static void say(struct output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct output *o, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = {0};

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	fprintf(stderr, "wardwall: %s: siem %s: %s\n", o->s->who, o->cfg.to, sb_str(&sb));
	sb_free(&sb);
}

/* ---- the queue (under s->mu) ---- */

static void unlink_msg(struct output *o, struct msg *m)
{
	*(m->prev ? &m->prev->next : &o->head) = m->next;
	*(m->next ? &m->next->prev : &o->tail) = m->prev;
	o->n--;
	o->bytes -= m->len;
	free(m);
}

static bool full(const struct output *o, size_t len)
{
	return o->n >= o->cfg.queue || o->bytes + len > o->max_bytes;
}

static void enqueue(struct output *o, enum ww_siem_kind kind, const char *data, size_t len)
{
	struct msg *m;

	/* An alert is worth more than an event: it pushes out the oldest queued events. */
	while (full(o, len) && kind == WW_SIEM_KIND_ALERT) {
		struct msg *ev = o->head;
		while (ev && (ev == o->sending || ev->kind != WW_SIEM_KIND_EVENT))
			ev = ev->next;
		if (!ev)
			break;
		unlink_msg(o, ev);
		o->st.dropped[WW_SIEM_KIND_EVENT]++;
	}
	if (full(o, len) || !(m = malloc(sizeof(*m) + len))) {
		o->st.dropped[kind]++;
		return;
	}
	m->kind = kind;
	m->len = len;
	memcpy(m->data, data, len);
	m->next = NULL;
	m->prev = o->tail;
	*(o->tail ? &o->tail->next : &o->head) = m;
	o->tail = m;
	o->n++;
	o->bytes += len;
}

void ww_siem_send(struct ww_siem *s, enum ww_siem_kind kind, const char *json, const char *text)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n; i++) {
		struct output *o = &s->out[i];
		struct strbuf *f = &s->fmt;
		if (!(kind == WW_SIEM_KIND_ALERT ? o->cfg.alerts : o->cfg.events))
			continue;
		sb_reset(f);
		/* Framing: octet counting on a stream (RFC 6587 3.4.1, RFC 5425 4.3) for syslog and
		 * CEF, a newline after a JSON line; a datagram carries the message alone. */
		struct strbuf body = {0};
		if (ww_siem_format(&o->cfg, &s->org, json, text, &body) || body.oom) {
			o->st.dropped[kind]++;
			sb_free(&body);
			continue;
		}
		bool stream = o->cfg.transport == WW_SIEM_TCP || o->cfg.transport == WW_SIEM_TLS;
		if (stream && o->cfg.format != WW_SIEM_JSON)
			sb_addf(f, "%zu ", body.len);
		sb_addn(f, body.s ? body.s : "", body.len);
		if (stream && o->cfg.format == WW_SIEM_JSON)
			sb_add(f, "\n");
		sb_free(&body);
		enqueue(o, kind, sb_str(f), f->len);
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* ---- transports (the sender's thread) ---- */

static void disconnect(struct output *o)
{
	if (o->ssl) {
		SSL_shutdown(o->ssl);
		SSL_free(o->ssl);
		o->ssl = NULL;
	}
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static const char *ssl_reason(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "connection closed";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static int connect_inet(struct output *o, struct strbuf *why)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype =
				     o->cfg.transport == WW_SIEM_UDP ? SOCK_DGRAM : SOCK_STREAM};
	struct addrinfo *ai, *a;
	int e = getaddrinfo(o->cfg.host, o->cfg.port, &hints, &ai);

	if (e) {
		sb_addf(why, "%s: %s", o->cfg.host, gai_strerror(e));
		return -EHOSTUNREACH;
	}
	e = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		set_timeouts(fd);
		if (!connect(fd, a->ai_addr, a->ai_addrlen)) {
			o->fd = fd;
			e = 0;
			break;
		}
		e = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (e)
		sb_addf(why, "connect: %s", strerror(-e));
	return e;
}

static int connect_tls(struct output *o, struct strbuf *why)
{
	X509_VERIFY_PARAM *vp;
	struct in6_addr a6;
	int e;

	if ((e = connect_inet(o, why)))
		return e;
	if (!(o->ssl = SSL_new(o->ctx)) || !SSL_set_fd(o->ssl, o->fd)) {
		sb_addf(why, "TLS: %s", ssl_reason());
		return -ENOMEM;
	}
	/* The certificate must name what we connected to: the address, or the host name. */
	vp = SSL_get0_param(o->ssl);
	if (inet_pton(AF_INET, o->cfg.host, &a6) == 1 ||
	    inet_pton(AF_INET6, o->cfg.host, &a6) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, o->cfg.host);
	} else {
		SSL_set_tlsext_host_name(o->ssl, o->cfg.host);
		SSL_set1_host(o->ssl, o->cfg.host);
	}
	if (SSL_connect(o->ssl) != 1) {
		long v = SSL_get_verify_result(o->ssl);
		if (v != X509_V_OK)
			sb_addf(why, "TLS: the server's certificate: %s",
				X509_verify_cert_error_string(v));
		else
			sb_addf(why, "TLS handshake: %s", ssl_reason());
		return -EPROTO;
	}
	return 0;
}

static int connect_unix(struct output *o, struct strbuf *why)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->cfg.path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		sb_addf(why, "connect %s: %s", o->cfg.path, strerror(errno));
		close(fd);
		return e;
	}
	o->fd = fd;
	return 0;
}

static int do_connect(struct output *o, struct strbuf *why)
{
	switch (o->cfg.transport) {
	case WW_SIEM_UNIX:
		return connect_unix(o, why);
	case WW_SIEM_TLS:
		return connect_tls(o, why);
	default:
		return connect_inet(o, why);
	}
}

/* A syslog receiver never writes to us: anything readable on a stream is its close (or a TLS
 * alert before it). Seen before sending, it spares the message the dead connection. */
static bool peer_closed(struct output *o)
{
	struct pollfd p = {.fd = o->fd, .events = POLLIN};

	if (o->cfg.transport != WW_SIEM_TCP && o->cfg.transport != WW_SIEM_TLS)
		return false;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static int send_all(struct output *o, const char *p, size_t len, struct strbuf *why)
{
	if (o->ssl) {
		size_t done = 0;
		while (done < len) {
			int w = SSL_write(o->ssl, p + done, (int)(len - done));
			if (w <= 0) {
				sb_addf(why, "TLS write: %s", ssl_reason());
				return -EPIPE;
			}
			done += (size_t)w;
		}
		return 0;
	}
	if (o->cfg.transport == WW_SIEM_UDP || o->cfg.transport == WW_SIEM_UNIX) {
		if (send(o->fd, p, len, MSG_NOSIGNAL) != (ssize_t)len) {
			sb_addf(why, "send: %s", strerror(errno));
			return -errno;
		}
		return 0;
	}
	while (len) {
		ssize_t w = send(o->fd, p, len, MSG_NOSIGNAL);
		if (w <= 0) {
			sb_addf(why, "send: %s", w < 0 ? strerror(errno) : "nothing written");
			return -EPIPE;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Waits ms, or less when stopping: new messages do not cut a backoff short. Called with s->mu
 * held. */
static void pause_ms(struct ww_siem *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
		;
}

static void *sender(void *arg)
{
	struct output *o = arg;
	struct ww_siem *s = o->s;
	struct strbuf why = {0};
	int backoff = BACKOFF_MIN_MS;
	sigset_t pipe;

	/* OpenSSL writes without MSG_NOSIGNAL: a receiver that went away must be EPIPE on this
	 * thread, not a SIGPIPE that ends the process (alerts --siem does not ignore it). */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && !o->head)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		struct msg *m = o->head;
		o->sending = m;
		pthread_mutex_unlock(&s->mu);

		int e = 0;
		sb_reset(&why);
		if (o->fd >= 0 && peer_closed(o)) {
			disconnect(o);
			pthread_mutex_lock(&s->mu);
			o->st.connected = false;
			pthread_mutex_unlock(&s->mu);
		}
		if (o->fd < 0 && !(e = do_connect(o, &why))) {
			pthread_mutex_lock(&s->mu);
			o->st.connects++;
			o->st.connected = true;
			pthread_mutex_unlock(&s->mu);
		}
		if (!e)
			e = send_all(o, m->data, m->len, &why);

		pthread_mutex_lock(&s->mu);
		o->sending = NULL;
		if (e) {
			disconnect(o);
			o->st.connected = false;
			o->st.failures++;
			if (!o->failing)
				say(o, "%s; %u message%s queued, retrying", sb_str(&why), o->n,
				    o->n == 1 ? "" : "s");
			o->failing = true;
			pause_ms(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (o->failing)
			say(o, "delivering again (%llu connection%s made)",
			    (unsigned long long)o->st.connects, o->st.connects == 1 ? "" : "s");
		o->failing = false;
		backoff = BACKOFF_MIN_MS;
		o->st.sent[m->kind]++;
		unlink_msg(o, m);
		if (!o->head)
			pthread_cond_broadcast(&s->drained);
	}
	pthread_mutex_unlock(&s->mu);
	disconnect(o);
	sb_free(&why);
	return NULL;
}

/* ---- the set ---- */

static int copy_out(struct ww_siem_out *d, const struct ww_siem_out *o)
{
	char why[256];
	int e = ww_siem_out_init(d, o->to, why, sizeof(why));

	if (e)
		return e;
	d->format = o->format;
	d->events = o->events;
	d->alerts = o->alerts;
	d->facility = o->facility;
	memcpy(d->sd_id, o->sd_id, sizeof(d->sd_id));
	d->queue = o->queue;
	if ((o->ca && !(d->ca = strdup(o->ca))) || (o->cert && !(d->cert = strdup(o->cert))) ||
	    (o->key && !(d->key = strdup(o->key))))
		return -ENOMEM;
	return 0;
}

static int tls_ctx(struct output *o, struct strbuf *err)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c) {
		sb_addf(err, "siem %s: TLS: %s", o->cfg.to, ssl_reason());
		return -ENOMEM;
	}
	o->ctx = c;
	/* RFC 5425 asks for TLS 1.2 at least (RFC 9662 updated it to 1.2/1.3). */
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (o->cfg.ca ? SSL_CTX_load_verify_locations(c, o->cfg.ca, NULL) != 1
		      : SSL_CTX_set_default_verify_paths(c) != 1) {
		sb_addf(err, "siem %s: %s: %s", o->cfg.to, o->cfg.ca ? o->cfg.ca : "the system CAs",
			ssl_reason());
		return -EINVAL;
	}
	if (o->cfg.cert && (SSL_CTX_use_certificate_chain_file(c, o->cfg.cert) != 1 ||
			    SSL_CTX_use_PrivateKey_file(c, o->cfg.key, SSL_FILETYPE_PEM) != 1 ||
			    SSL_CTX_check_private_key(c) != 1)) {
		sb_addf(err, "siem %s: client certificate %s, key %s: %s", o->cfg.to, o->cfg.cert,
			o->cfg.key, ssl_reason());
		return -EINVAL;
	}
	return 0;
}

int ww_siem_start(const struct ww_siem_cfg *cfg, const char *who, struct ww_siem **out,
		  struct strbuf *err)
{
	struct ww_siem *s = calloc(1, sizeof(*s));
	int e = 0;

	if (!s || !(s->out = calloc(cfg->n ? cfg->n : 1, sizeof(*s->out)))) {
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->drained, NULL);
	s->who = who;
	ww_siem_origin_init(&s->org);
	for (size_t i = 0; i < cfg->n; i++) {
		struct output *o = &s->out[i];
		o->s = s;
		o->fd = -1;
		s->n++;
		if ((e = copy_out(&o->cfg, &cfg->v[i])))
			goto fail;
		o->max_bytes = (size_t)o->cfg.queue * AVG_MSG_BYTES;
		o->st.queue_max = o->cfg.queue;
		if (o->cfg.transport == WW_SIEM_TLS && (e = tls_ctx(o, err)))
			goto fail;
	}
	for (size_t i = 0; i < s->n; i++) {
		if ((e = -pthread_create(&s->out[i].thread, NULL, sender, &s->out[i]))) {
			sb_addf(err, "siem: thread: %s", strerror(-e));
			goto fail;
		}
		s->out[i].started = true;
	}
	*out = s;
	return 0;
fail:
	if (e == -ENOMEM && !err->len)
		sb_add(err, "siem: out of memory");
	ww_siem_stop(s);
	return e;
}

uint64_t ww_siem_drain(struct ww_siem *s, int timeout_ms)
{
	struct timespec ts;
	uint64_t left = 0;

	if (!s)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_sec++, ts.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		left = 0;
		for (size_t i = 0; i < s->n; i++)
			left += s->out[i].n;
		if (!left || pthread_cond_timedwait(&s->drained, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	left = 0;
	for (size_t i = 0; i < s->n; i++)
		left += s->out[i].n;
	pthread_mutex_unlock(&s->mu);
	return left;
}

size_t ww_siem_outputs(const struct ww_siem *s)
{
	return s ? s->n : 0;
}

const struct ww_siem_out *ww_siem_output(const struct ww_siem *s, size_t i)
{
	return &s->out[i].cfg;
}

void ww_siem_get_stats(struct ww_siem *s, size_t i, struct ww_siem_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->out[i].st;
	st->queued = s->out[i].n;
	pthread_mutex_unlock(&s->mu);
}

static void help(struct strbuf *out, const char *name, const char *type, const char *text)
{
	sb_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A counter of every output, one series a kind: messages sent or, with dropped, dropped. */
static void by_kind(struct strbuf *out, const char *name, const char *text, char (*lab)[96],
		    size_t n, const struct ww_siem_stats *st, bool dropped)
{
	static const char *const kinds[] = {"event", "alert"};

	help(out, name, "counter", text);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < WW_SIEM_KINDS; k++)
			sb_addf(out, "%s{%s,kind=\"%s\"} %llu\n", name, lab[i], kinds[k],
				(unsigned long long)(dropped ? st[i].dropped : st[i].sent)[k]);
}

void ww_siem_metrics(struct ww_siem *s, struct strbuf *out)
{
	struct ww_siem_stats st[WW_SIEM_OUTPUTS];
	char lab[WW_SIEM_OUTPUTS][96];

	if (!s || !s->n)
		return;
	for (size_t i = 0; i < s->n && i < WW_SIEM_OUTPUTS; i++) {
		ww_siem_get_stats(s, i, &st[i]);
		snprintf(lab[i], sizeof(lab[i]), "output=\"%zu\",transport=\"%s\",format=\"%s\"", i,
			 ww_siem_transport_names[s->out[i].cfg.transport],
			 ww_siem_format_names[s->out[i].cfg.format]);
	}
	size_t n = s->n < WW_SIEM_OUTPUTS ? s->n : WW_SIEM_OUTPUTS;
	by_kind(out, "wardwall_siem_sent_total",
		"Messages delivered to a SIEM output (handed to the transport), by kind.", lab, n,
		st, false);
	by_kind(out, "wardwall_siem_dropped_total",
		"Messages dropped because a SIEM output's queue was full, by kind.", lab, n, st,
		true);
	help(out, "wardwall_siem_queued", "gauge", "Messages waiting for a SIEM output.");
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "wardwall_siem_queued{%s} %u\n", lab[i], st[i].queued);
	help(out, "wardwall_siem_queue_max", "gauge", "The bound of a SIEM output's queue.");
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "wardwall_siem_queue_max{%s} %u\n", lab[i], st[i].queue_max);
	help(out, "wardwall_siem_failures_total", "counter",
	     "Connections and sends to a SIEM output that failed (each retried).");
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "wardwall_siem_failures_total{%s} %llu\n", lab[i],
			(unsigned long long)st[i].failures);
	help(out, "wardwall_siem_connected", "gauge",
	     "1 when a SIEM output holds a connection (udp and unix: a connected socket).");
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "wardwall_siem_connected{%s} %d\n", lab[i], st[i].connected ? 1 : 0);
}

void ww_siem_stop(struct ww_siem *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	for (size_t i = 0; i < s->n; i++)
		if (s->out[i].fd >= 0)
			shutdown(s->out[i].fd, SHUT_RDWR); /* a blocked send returns */
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->n; i++) {
		struct output *o = &s->out[i];
		if (o->started)
			pthread_join(o->thread, NULL);
		while (o->head)
			unlink_msg(o, o->head);
		if (o->ctx)
			SSL_CTX_free(o->ctx);
		ww_siem_out_clear(&o->cfg);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->drained);
	sb_free(&s->fmt);
	free(s->out);
	free(s);
}
