/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small etcd v3 client over etcd's JSON gateway (/v3/kv/range, /v3/kv/txn, /v3/watch,
 * /v3/lease/grant and keepalive, /v3/auth/authenticate) with libcurl and cJSON. docs/fleet.md says why not gRPC.
 *
 * Every call returns 0 or -errno and says what went wrong in err: -ECONNREFUSED/-ETIMEDOUT/-EIO
 * when no endpoint answered (each endpoint is tried in turn), -EPERM when etcd refused the
 * request (authentication, a role without the permission), -EPROTO for an answer that does not
 * parse. Keys and values are byte strings; values carry their length.
 */
#ifndef WW_ETCD_H
#define WW_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ww_etcd_opts {
	const char *endpoints; /* "http://127.0.0.1:2379,https://..." */
	const char *cacert;    /* TLS: CA of the etcd servers (NULL: the system's) */
	const char *cert;      /* TLS client certificate and key (NULL: none) */
	const char *key;
	const char *user;      /* etcd authentication (NULL: none) */
	const char *password;
	long timeout_ms;       /* one unary request (0: 3000) */
};

struct ww_etcd;

int ww_etcd_open(const struct ww_etcd_opts *o, struct ww_etcd **out, struct strbuf *err);
void ww_etcd_close(struct ww_etcd *e);
/* The endpoint that answered last, for messages. */
const char *ww_etcd_endpoint(const struct ww_etcd *e);

struct ww_etcd_kv {
	char *key;
	char *value; /* NUL-terminated beyond vlen */
	size_t vlen;
	int64_t create_rev, mod_rev, version, lease;
};

struct ww_etcd_range {
	struct ww_etcd_kv *kvs;
	size_t n;
	int64_t revision; /* of the store when read */
};

void ww_etcd_range_free(struct ww_etcd_range *r);

/* The key, or (prefix) every key that starts with it. */
int ww_etcd_get(struct ww_etcd *e, const char *key, bool prefix, struct ww_etcd_range *r,
		struct strbuf *err);
/* The keys from key up to (not including) end. */
int ww_etcd_get_range(struct ww_etcd *e, const char *key, const char *end,
		      struct ww_etcd_range *r, struct strbuf *err);
/* Puts key, attached to lease (0: none). */
int ww_etcd_put(struct ww_etcd *e, const char *key, const void *val, size_t len, int64_t lease,
		struct strbuf *err);
/*
 * Compare-and-swap in one transaction: puts key (and key2/val2 when key2 is not NULL) only if
 * key's mod_revision is still mod_rev (0: key must not exist). *done tells whether it did;
 * *rev is the store's revision after it.
 */
int ww_etcd_cas(struct ww_etcd *e, const char *key, int64_t mod_rev, const void *val, size_t len,
		const char *key2, const void *val2, size_t len2, bool *done, int64_t *rev,
		struct strbuf *err);
int ww_etcd_lease_grant(struct ww_etcd *e, int64_t ttl, int64_t *id, struct strbuf *err);
/* *ttl 0: the lease is gone (expired or revoked). */
int ww_etcd_lease_keepalive(struct ww_etcd *e, int64_t id, int64_t *ttl, struct strbuf *err);

/* One event of a watch. */
struct ww_etcd_event {
	bool deleted;
	struct ww_etcd_kv kv;
};
typedef void (*ww_etcd_event_fn)(void *ctx, const struct ww_etcd_event *ev);

struct ww_etcd_watch;

/* Streams changes of key (or the prefix) from revision start_rev (0: from now). */
int ww_etcd_watch_start(struct ww_etcd *e, const char *key, bool prefix, int64_t start_rev,
			struct ww_etcd_watch **out, struct strbuf *err);
/* The same for the keys from key up to (not including) end. */
int ww_etcd_watch_range(struct ww_etcd *e, const char *key, const char *end, int64_t start_rev,
			struct ww_etcd_watch **out, struct strbuf *err);
/*
 * Waits up to timeout_ms for the stream, and calls fn for every event that arrived. Returns 0
 * while the stream lives; -EPIPE when it ended (reconnect from ww_etcd_watch_next_rev()),
 * -ESTALE when etcd compacted past the revision asked for (read the key afresh).
 */
int ww_etcd_watch_poll(struct ww_etcd_watch *w, int timeout_ms, ww_etcd_event_fn fn, void *ctx,
		       struct strbuf *err);
/* The revision to resume from: one past the last event or progress header seen. */
int64_t ww_etcd_watch_next_rev(const struct ww_etcd_watch *w);
void ww_etcd_watch_stop(struct ww_etcd_watch *w);

#endif
