// SPDX-License-Identifier: GPL-2.0-only
/*
 * etcd's JSON gateway maps each gRPC call to POST /v3/<service>/<call>: bytes are base64,
 * 64-bit integers are strings, a server-streaming call (watch) is one chunked response of
 * newline-separated JSON messages. Requests rotate to the next endpoint on a transport failure or
 * when the member answers that it has no leader, so a client follows the cluster's majority.
 */
#include "etcd.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h" /* ww_ev_base64 */

struct ww_etcd {
	char **urls;
	size_t nurls, cur;
	struct ww_etcd_opts o;
	char *token;
	CURL *h;
	struct strbuf body;
};

static char *dupn(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void b64(const void *data, size_t n, struct strbuf *out)
{
	ww_ev_base64(data, n, out);
}

/* base64 text -> bytes, NUL-terminated. */
static int unb64(const char *s, char **out, size_t *n)
{
	size_t len = strlen(s), max = len / 4 * 3 + 3;
	char *b = malloc(max + 1);

	if (!b)
		return -ENOMEM;
	if (ww_ev_unbase64(s, len, (uint8_t *)b, max, n)) {
		free(b);
		return -EPROTO;
	}
	b[*n] = '\0';
	*out = b;
	return 0;
}

static int64_t jint(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsString(j))
		return strtoll(j->valuestring, NULL, 10);
	if (cJSON_IsNumber(j))
		return (int64_t)j->valuedouble;
	return 0;
}

static int kv_read(const cJSON *j, struct ww_etcd_kv *kv)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "key");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
	size_t n;
	int err;

	memset(kv, 0, sizeof(*kv));
	if (!cJSON_IsString(k))
		return -EPROTO;
	if ((err = unb64(k->valuestring, &kv->key, &n)))
		return err;
	if ((err = unb64(cJSON_IsString(v) ? v->valuestring : "", &kv->value, &kv->vlen))) {
		free(kv->key);
		return err;
	}
	kv->create_rev = jint(j, "create_revision");
	kv->mod_rev = jint(j, "mod_revision");
	kv->version = jint(j, "version");
	kv->lease = jint(j, "lease");
	return 0;
}

static void kv_free(struct ww_etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
}

void ww_etcd_range_free(struct ww_etcd_range *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		kv_free(&r->kvs[i]);
	if (r)
		free(r->kvs), memset(r, 0, sizeof(*r));
}

static size_t to_sb(char *data, size_t size, size_t n, void *sb)
{
	sb_addn(sb, data, size * n);
	return size * n;
}

/* TLS and timeouts, the same for unary calls and watches. */
static void setup(struct ww_etcd *e, CURL *h, const char *url, struct curl_slist *hdr)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->o.cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, e->o.cacert);
	if (e->o.cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, e->o.cert);
	if (e->o.key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, e->o.key);
}

static struct curl_slist *headers(const struct ww_etcd *e)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *t;

	/* A member cut off from the leader cancels our watch instead of keeping it silent. */
	if (h && (t = curl_slist_append(h, "Grpc-Metadata-hasleader: true")))
		h = t;
	if (h && e->token) {
		char *a = xstrdup_printf("Authorization: %s", e->token);
		if (a && (t = curl_slist_append(h, a)))
			h = t;
		free(a);
	}
	return h;
}

static int authenticate(struct ww_etcd *e, struct strbuf *err);

/* etcd's error answer: {"error": "...", "code": N, "message": "..."}. gRPC codes: 7 permission
 * denied, 16 unauthenticated, 14 unavailable (no leader, stopping). */
static int etcd_error(const cJSON *r, long http, struct strbuf *msg)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "message");
	long code = (long)jint(r, "code");

	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(r, "error");
	sb_addf(msg, "%s (HTTP %ld)", cJSON_IsString(m) ? m->valuestring : "no message", http);
	if (code == 7 || code == 16)
		return -EPERM;
	if (code == 14)
		return -EAGAIN;
	return -EIO;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * POSTs body to path on the current endpoint, moving to the next one on a transport failure or
 * an unavailable member, until each was tried once. When one of them had no leader, the cluster
 * is electing one (the leader was killed or cut off, a healed member disrupted the term): the
 * round starts again every 200 ms for up to ELECTION_WAIT_MS, so a publish during an election
 * waits for it instead of failing. *resp is the parsed answer.
 */
#define ELECTION_WAIT_MS 5000

static int call(struct ww_etcd *e, const char *path, const char *body, cJSON **resp,
		struct strbuf *err)
{
	struct strbuf why = {0};
	bool reauthed = false, electing = false;
	int ret = -EIO;
	int64_t until = mono_ms() + ELECTION_WAIT_MS;

	for (size_t tries = 0;; tries++) {
		if (tries == e->nurls) {
			if (!electing || mono_ms() + 200 >= until)
				break;
			usleep(200000);
			tries = 0, electing = false;
		}
		char *url = xstrdup_printf("%s%s", e->urls[e->cur], path);
		struct curl_slist *hdr = headers(e);
		long http = 0;
		CURLcode rc;

		if (!url || !hdr) {
			free(url);
			curl_slist_free_all(hdr);
			ret = -ENOMEM;
			break;
		}
		sb_reset(&e->body);
		curl_easy_reset(e->h);
		setup(e, e->h, url, hdr);
		curl_easy_setopt(e->h, CURLOPT_TIMEOUT_MS, e->o.timeout_ms ? e->o.timeout_ms : 3000L);
		curl_easy_setopt(e->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e->h, CURLOPT_WRITEFUNCTION, to_sb);
		curl_easy_setopt(e->h, CURLOPT_WRITEDATA, &e->body);
		rc = curl_easy_perform(e->h);
		curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &http);
		curl_slist_free_all(hdr);
		if (rc != CURLE_OK) {
			sb_reset(&why);
			sb_addf(&why, "%s: %s", e->urls[e->cur], curl_easy_strerror(rc));
			ret = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
			      : rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED
							    : -EIO;
			free(url);
			e->cur = (e->cur + 1) % e->nurls;
			continue;
		}
		free(url);
		cJSON *r = cJSON_ParseWithLength(sb_str(&e->body), e->body.len);
		if (!r) {
			sb_reset(&why);
			sb_addf(&why, "%s%s: an answer that is not JSON (HTTP %ld): %.200s",
				e->urls[e->cur], path, http, sb_str(&e->body));
			ret = -EPROTO;
			break;
		}
		if (http == 200) {
			*resp = r;
			sb_free(&why);
			return 0;
		}
		sb_reset(&why);
		sb_addf(&why, "%s%s: ", e->urls[e->cur], path);
		ret = etcd_error(r, http, &why);
		cJSON_Delete(r);
		if (ret == -EPERM && e->o.user && !reauthed && strstr(sb_str(&why), "token")) {
			/* the token expired: once more with a new one */
			reauthed = true;
			tries--;
			if (!(ret = authenticate(e, &why)))
				continue;
			break;
		}
		if (ret != -EAGAIN)
			break;
		electing = true;
		e->cur = (e->cur + 1) % e->nurls;
	}
	sb_add(err, sb_str(&why));
	sb_free(&why);
	return ret == -EAGAIN ? -EIO : ret;
}

static int authenticate(struct ww_etcd *e, struct strbuf *err)
{
	struct strbuf body = {0};
	cJSON *r = NULL;
	int ret;

	free(e->token);
	e->token = NULL;
	sb_add(&body, "{\"name\":");
	sb_add_json_str(&body, e->o.user);
	sb_add(&body, ",\"password\":");
	sb_add_json_str(&body, e->o.password ? e->o.password : "");
	sb_add(&body, "}");
	ret = call(e, "/v3/auth/authenticate", sb_str(&body), &r, err);
	sb_free(&body);
	if (ret)
		return ret;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "token");
	if (cJSON_IsString(t))
		e->token = strdup(t->valuestring);
	else
		sb_add(err, "etcd authenticated without a token"), ret = -EPROTO;
	cJSON_Delete(r);
	return ret;
}

int ww_etcd_open(const struct ww_etcd_opts *o, struct ww_etcd **out, struct strbuf *err)
{
	static bool inited;
	struct ww_etcd *e;
	size_t cap = 0;
	int ret;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			sb_add(err, "libcurl: cannot initialise");
			return -EIO;
		}
		inited = true;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->o = *o;
	e->o.endpoints = dupn(o->endpoints);
	e->o.cacert = dupn(o->cacert);
	e->o.cert = dupn(o->cert);
	e->o.key = dupn(o->key);
	e->o.user = dupn(o->user);
	e->o.password = dupn(o->password);
	e->h = curl_easy_init();
	ret = -ENOMEM;
	if (!e->h || !e->o.endpoints)
		goto fail;
	char *save = NULL, *list = strdup(o->endpoints);
	for (char *u = list ? strtok_r(list, ",", &save) : NULL; u; u = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(u);
		while (n && u[n - 1] == '/')
			u[--n] = '\0';
		if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
			sb_addf(err, "etcd endpoint \"%s\" is not an http:// or https:// URL", u);
			free(list);
			ret = -EINVAL;
			goto fail;
		}
		char *d = strdup(u);
		if (!d || VEC_PUSH(e->urls, e->nurls, cap, d)) {
			free(d);
			free(list);
			goto fail;
		}
	}
	free(list);
	if (!e->nurls) {
		sb_add(err, "no etcd endpoint given");
		ret = -EINVAL;
		goto fail;
	}
	if (e->o.user && (ret = authenticate(e, err)))
		goto fail;
	*out = e;
	return 0;
fail:
	ww_etcd_close(e);
	return ret;
}

void ww_etcd_close(struct ww_etcd *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nurls; i++)
		free(e->urls[i]);
	free(e->urls);
	free((char *)e->o.endpoints);
	free((char *)e->o.cacert);
	free((char *)e->o.cert);
	free((char *)e->o.key);
	free((char *)e->o.user);
	free((char *)e->o.password);
	free(e->token);
	if (e->h)
		curl_easy_cleanup(e->h);
	sb_free(&e->body);
	free(e);
}

const char *ww_etcd_endpoint(const struct ww_etcd *e)
{
	return e->urls[e->cur];
}

/* The first key after every key with this prefix: the prefix with its last byte incremented
 * (etcd's clientv3.GetPrefixRangeEnd). */
static void range_end(const char *key, struct strbuf *out)
{
	size_t n = strlen(key);
	char *k = strdup(key);

	if (!k) {
		out->oom = true;
		return;
	}
	while (n && (unsigned char)k[n - 1] == 0xff)
		n--;
	if (n)
		k[n - 1]++;
	b64(k, n ? n : 1, out);
	free(k);
}

/* ,"range_end":"..." for a prefix (end NULL) or the keys before end. */
static void range_json(const char *key, const char *end, struct strbuf *out)
{
	sb_add(out, "\",\"range_end\":\"");
	if (end)
		b64(end, strlen(end), out);
	else
		range_end(key, out);
}

static int get(struct ww_etcd *e, const char *key, bool range, const char *end,
	       struct ww_etcd_range *r, struct strbuf *err)
{
	struct strbuf body = {0};
	cJSON *resp = NULL;
	size_t cap = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	sb_add(&body, "{\"key\":\"");
	b64(key, strlen(key), &body);
	if (range)
		range_json(key, end, &body);
	sb_add(&body, "\"}");
	ret = body.oom ? -ENOMEM : call(e, "/v3/kv/range", sb_str(&body), &resp, err);
	sb_free(&body);
	if (ret)
		return ret;
	r->revision = jint(cJSON_GetObjectItemCaseSensitive(resp, "header"), "revision");
	const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(resp, "kvs");
	for (const cJSON *j = cJSON_IsArray(kvs) ? kvs->child : NULL; j; j = j->next) {
		struct ww_etcd_kv kv;
		if ((ret = kv_read(j, &kv)))
			break;
		if (VEC_PUSH(r->kvs, r->n, cap, kv)) {
			kv_free(&kv);
			ret = -ENOMEM;
			break;
		}
	}
	cJSON_Delete(resp);
	if (ret) {
		sb_addf(err, "%s: an unreadable range answer", ww_etcd_endpoint(e));
		ww_etcd_range_free(r);
	}
	return ret;
}

int ww_etcd_get(struct ww_etcd *e, const char *key, bool prefix, struct ww_etcd_range *r,
		struct strbuf *err)
{
	return get(e, key, prefix, NULL, r, err);
}

int ww_etcd_get_range(struct ww_etcd *e, const char *key, const char *end,
		      struct ww_etcd_range *r, struct strbuf *err)
{
	return get(e, key, true, end, r, err);
}

static void put_json(const char *key, const void *val, size_t len, int64_t lease,
		     struct strbuf *body)
{
	sb_add(body, "{\"key\":\"");
	b64(key, strlen(key), body);
	sb_add(body, "\",\"value\":\"");
	b64(val, len, body);
	sb_add(body, "\"");
	if (lease)
		sb_addf(body, ",\"lease\":\"%lld\"", (long long)lease);
	sb_add(body, "}");
}

int ww_etcd_put(struct ww_etcd *e, const char *key, const void *val, size_t len, int64_t lease,
		struct strbuf *err)
{
	struct strbuf body = {0};
	cJSON *resp = NULL;
	int ret;

	put_json(key, val, len, lease, &body);
	ret = body.oom ? -ENOMEM : call(e, "/v3/kv/put", sb_str(&body), &resp, err);
	sb_free(&body);
	cJSON_Delete(resp);
	return ret;
}

int ww_etcd_cas(struct ww_etcd *e, const char *key, int64_t mod_rev, const void *val, size_t len,
		const char *key2, const void *val2, size_t len2, bool *done, int64_t *rev,
		struct strbuf *err)
{
	struct strbuf body = {0};
	cJSON *resp = NULL;
	int ret;

	sb_add(&body, "{\"compare\":[{\"key\":\"");
	b64(key, strlen(key), &body);
	sb_addf(&body, "\",\"target\":\"MOD\",\"result\":\"EQUAL\",\"mod_revision\":\"%lld\"}],"
		       "\"success\":[{\"request_put\":",
		(long long)mod_rev);
	put_json(key, val, len, 0, &body);
	if (key2) {
		sb_add(&body, "},{\"request_put\":");
		put_json(key2, val2, len2, 0, &body);
	}
	sb_add(&body, "}]}");
	ret = body.oom ? -ENOMEM : call(e, "/v3/kv/txn", sb_str(&body), &resp, err);
	sb_free(&body);
	if (ret)
		return ret;
	*done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "succeeded"));
	*rev = jint(cJSON_GetObjectItemCaseSensitive(resp, "header"), "revision");
	cJSON_Delete(resp);
	return 0;
}

int ww_etcd_lease_grant(struct ww_etcd *e, int64_t ttl, int64_t *id, struct strbuf *err)
{
	char body[64];
	cJSON *resp = NULL;
	int ret;

	snprintf(body, sizeof(body), "{\"TTL\":\"%lld\"}", (long long)ttl);
	if ((ret = call(e, "/v3/lease/grant", body, &resp, err)))
		return ret;
	*id = jint(resp, "ID");
	cJSON_Delete(resp);
	if (!*id) {
		sb_add(err, "etcd granted a lease without an ID");
		return -EPROTO;
	}
	return 0;
}

int ww_etcd_lease_keepalive(struct ww_etcd *e, int64_t id, int64_t *ttl, struct strbuf *err)
{
	char body[64];
	cJSON *resp = NULL;
	int ret;

	/* A streaming call in gRPC; through the gateway, one request and its answer. */
	snprintf(body, sizeof(body), "{\"ID\":\"%lld\"}", (long long)id);
	if ((ret = call(e, "/v3/lease/keepalive", body, &resp, err)))
		return ret;
	*ttl = jint(cJSON_GetObjectItemCaseSensitive(resp, "result"), "TTL");
	cJSON_Delete(resp);
	return 0;
}

/* ---- watch ---------------------------------------------------------------------------------- */

struct ww_etcd_watch {
	struct ww_etcd *e;
	CURLM *m;
	CURL *h;
	struct curl_slist *hdr;
	char *url;
	struct strbuf req, buf;
	int64_t next_rev;
	bool ended;
};

static int watch_start(struct ww_etcd *e, const char *key, bool range, const char *end,
		       int64_t start_rev, struct ww_etcd_watch **out, struct strbuf *err)
{
	struct ww_etcd_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->e = e;
	w->next_rev = start_rev;
	sb_add(&w->req, "{\"create_request\":{\"key\":\"");
	b64(key, strlen(key), &w->req);
	if (range)
		range_json(key, end, &w->req);
	sb_add(&w->req, "\"");
	if (start_rev)
		sb_addf(&w->req, ",\"start_revision\":\"%lld\"", (long long)start_rev);
	sb_add(&w->req, "}}");
	w->url = xstrdup_printf("%s/v3/watch", e->urls[e->cur]);
	w->hdr = headers(e);
	w->m = curl_multi_init();
	w->h = curl_easy_init();
	if (!w->url || !w->hdr || !w->m || !w->h || w->req.oom) {
		ww_etcd_watch_stop(w);
		return -ENOMEM;
	}
	setup(e, w->h, w->url, w->hdr);
	curl_easy_setopt(w->h, CURLOPT_POSTFIELDS, sb_str(&w->req));
	curl_easy_setopt(w->h, CURLOPT_WRITEFUNCTION, to_sb);
	curl_easy_setopt(w->h, CURLOPT_WRITEDATA, &w->buf);
	if (curl_multi_add_handle(w->m, w->h)) {
		sb_add(err, "libcurl: cannot add the watch");
		ww_etcd_watch_stop(w);
		return -EIO;
	}
	*out = w;
	return 0;
}

int ww_etcd_watch_start(struct ww_etcd *e, const char *key, bool prefix, int64_t start_rev,
			struct ww_etcd_watch **out, struct strbuf *err)
{
	return watch_start(e, key, prefix, NULL, start_rev, out, err);
}

int ww_etcd_watch_range(struct ww_etcd *e, const char *key, const char *end, int64_t start_rev,
			struct ww_etcd_watch **out, struct strbuf *err)
{
	return watch_start(e, key, true, end, start_rev, out, err);
}

/* One message of the stream. Returns 0, -ESTALE (compacted) or -EPIPE (canceled). */
static int watch_message(struct ww_etcd_watch *w, const cJSON *msg, ww_etcd_event_fn fn,
			 void *ctx, struct strbuf *err)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(msg, "result");
	const cJSON *evs;

	if (!r) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(msg, "error");
		sb_addf(err, "%s: watch: %s", w->url,
			cJSON_IsObject(e) && cJSON_IsString(cJSON_GetObjectItem(e, "message"))
				? cJSON_GetObjectItem(e, "message")->valuestring
				: "an unexpected message");
		return cJSON_IsObject(e) && jint(e, "code") == 7 ? -EPERM : -EPIPE;
	}
	if (jint(r, "compact_revision")) {
		sb_addf(err, "%s: watch: revision %lld was compacted", w->url,
			(long long)w->next_rev);
		return -ESTALE;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "canceled"))) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(r, "cancel_reason");
		sb_addf(err, "%s: watch canceled: %s", w->url,
			cJSON_IsString(why) ? why->valuestring : "no reason given");
		return -EPIPE;
	}
	evs = cJSON_GetObjectItemCaseSensitive(r, "events");
	for (const cJSON *j = cJSON_IsArray(evs) ? evs->child : NULL; j; j = j->next) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
		struct ww_etcd_event ev = {.deleted = cJSON_IsString(t) &&
						      !strcmp(t->valuestring, "DELETE")};
		if (kv_read(cJSON_GetObjectItemCaseSensitive(j, "kv"), &ev.kv))
			continue;
		if (ev.kv.mod_rev >= w->next_rev)
			w->next_rev = ev.kv.mod_rev + 1;
		fn(ctx, &ev);
		kv_free(&ev.kv);
	}
	/* A progress or creation header: nothing before this revision is left unseen. */
	int64_t hrev = jint(cJSON_GetObjectItemCaseSensitive(r, "header"), "revision");
	if (!cJSON_IsArray(evs) && hrev + 1 > w->next_rev)
		w->next_rev = hrev + 1;
	return 0;
}

int ww_etcd_watch_poll(struct ww_etcd_watch *w, int timeout_ms, ww_etcd_event_fn fn, void *ctx,
		       struct strbuf *err)
{
	int running = 0, ret = 0;
	CURLMsg *msg;
	int left;

	if (w->ended)
		return -EPIPE;
	curl_multi_perform(w->m, &running);
	if (running && !w->buf.len)
		curl_multi_poll(w->m, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(w->m, &running);
	/* complete lines only; a message may arrive in pieces */
	for (;;) {
		const char *s = sb_str(&w->buf), *nl = memchr(s, '\n', w->buf.len);
		if (!nl)
			break;
		cJSON *j = cJSON_ParseWithLength(s, (size_t)(nl - s));
		size_t used = (size_t)(nl - s) + 1;
		if (j) {
			ret = watch_message(w, j, fn, ctx, err);
			cJSON_Delete(j);
		}
		memmove(w->buf.s, w->buf.s + used, w->buf.len - used);
		w->buf.len -= used;
		w->buf.s[w->buf.len] = '\0';
		if (ret)
			break;
	}
	while (!ret && (msg = curl_multi_info_read(w->m, &left)))
		if (msg->msg == CURLMSG_DONE) {
			long http = 0;
			curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &http);
			sb_addf(err, "%s: watch ended: %s (HTTP %ld)", w->url,
				curl_easy_strerror(msg->data.result), http);
			if (msg->data.result != CURLE_OK)
				w->e->cur = (w->e->cur + 1) % w->e->nurls;
			ret = -EPIPE;
		}
	if (!ret && !running) {
		sb_addf(err, "%s: watch ended", w->url);
		ret = -EPIPE;
	}
	if (ret == -EPIPE && w->buf.len == 0)
		w->ended = true;
	if (ret == -EPIPE || ret == -ESTALE)
		w->ended = true;
	return ret;
}

int64_t ww_etcd_watch_next_rev(const struct ww_etcd_watch *w)
{
	return w->next_rev;
}

void ww_etcd_watch_stop(struct ww_etcd_watch *w)
{
	if (!w)
		return;
	if (w->m && w->h)
		curl_multi_remove_handle(w->m, w->h);
	if (w->h)
		curl_easy_cleanup(w->h);
	if (w->m)
		curl_multi_cleanup(w->m);
	curl_slist_free_all(w->hdr);
	free(w->url);
	sb_free(&w->req);
	sb_free(&w->buf);
	free(w);
}
