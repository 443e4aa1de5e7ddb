// SPDX-License-Identifier: GPL-2.0-only
#include "snapshot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "timeutil.h"
#include "json.h"
#include "nft_compile.h"

static char *snap_path(const char *state_dir, struct strbuf *err)
{
	struct ww_state *st;
	char *p = NULL;

	if (ww_state_open(state_dir, false, &st, err))
		return NULL;
	p = xstrdup_printf("%s/snapshots.jsonl", ww_state_dir(st));
	ww_state_close(st);
	return p;
}

int ww_snapshot_append(const char *state_dir, int64_t time, const char *const *ids,
		       const uint64_t *nft, const uint64_t *xdp, size_t n, struct strbuf *err)
{
	char *path = snap_path(state_dir, err);
	struct strbuf line = {0};
	int fd, e = 0;

	if (!path)
		return err->len ? -EIO : -ENOMEM;
	sb_addf(&line, "{\"time\": %lld, \"flows\": {", (long long)time);
	for (size_t i = 0; i < n; i++) {
		sb_add(&line, i ? ", " : "");
		sb_add_json_str(&line, ids[i]);
		sb_addf(&line, ": [%llu, %llu]", (unsigned long long)nft[i], (unsigned long long)xdp[i]);
	}
	sb_add(&line, "}}\n");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || line.oom || write(fd, line.s, line.len) != (ssize_t)line.len) {
		e = fd < 0 ? -errno : -EIO;
		sb_addf(err, "%s: %s", path, strerror(-e));
	}
	if (fd >= 0)
		close(fd);
	free(path);
	sb_free(&line);
	return e;
}

int ww_snapshot_record(const char *state_dir, const struct ww_collect *c, struct strbuf *err)
{
	const char **ids = calloc(c->nflows + 1, sizeof(*ids));
	uint64_t *a = calloc(c->nflows + 1, sizeof(*a)), *b = calloc(c->nflows + 1, sizeof(*b));
	int e = -ENOMEM;

	if (ids && a && b) {
		for (size_t i = 0; i < c->nflows; i++) {
			ids[i] = c->flows[i].id;
			a[i] = c->flows[i].nft.packets;
			b[i] = c->flows[i].xdp.packets;
		}
		e = ww_snapshot_append(state_dir, c->time, ids, a, b, c->nflows, err);
	}
	free(ids);
	free(a);
	free(b);
	return e;
}

struct latest {
	int64_t t;
	cJSON *best;
};

static int keep_latest(void *ctx, const char *line, cJSON **j, size_t lineno)
{
	struct latest *l = ctx;
	const cJSON *tm = *j ? cJSON_GetObjectItemCaseSensitive(*j, "time") : NULL;

	if (cJSON_IsNumber(tm) && (int64_t)tm->valuedouble <= l->t) {
		cJSON_Delete(l->best);
		l->best = *j;
		*j = NULL;
	}
	return 0;
}

/* The latest snapshot taken at or before t, parsed; NULL if none. */
static cJSON *snapshot_before(const char *state_dir, int64_t t, struct strbuf *err)
{
	char *path = snap_path(state_dir, err);
	struct latest l = {.t = t};

	if (path)
		ww_jsonl_each(path, keep_latest, &l);
	free(path);
	return l.best;
}

/* How flow f of a collection was used since `since`, against snap's flows (NULL: none). */
static struct ww_flow_usage flow_usage(const struct ww_flow_stat *f, const cJSON *flows,
				       int64_t since)
{
	uint64_t now = f->nft.packets + f->xdp.packets;
	int64_t started = f->nft.since && (!f->xdp.since || f->nft.since < f->xdp.since)
			      ? f->nft.since
			      : f->xdp.since;
	const cJSON *v = flows ? cJSON_GetObjectItemCaseSensitive(flows, f->id) : NULL;
	struct ww_flow_usage u = {
	    .f = f, .state = WW_USAGE_UNKNOWN, .packets = now, .total = now, .why = ""};

	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
		uint64_t then = (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble +
				(uint64_t)cJSON_GetArrayItem(v, 1)->valuedouble;
		u.state = now == then ? WW_USAGE_UNUSED : WW_USAGE_USED;
		u.packets = now >= then ? now - then : now; /* a counter made again starts at 0 */
		u.why = now == then ? "unchanged since the snapshot" : "counted since";
	} else if (!now && started) {
		u.state = WW_USAGE_UNUSED;
		u.why = started > since ? "counter started after the date, still zero"
					: "never counted anything";
	} else if (started > since) {
		u.state = WW_USAGE_USED;
		u.why = "counted since its counter started, after the date";
	}
	return u;
}

int ww_snapshot_usage(const char *state_dir, const struct ww_collect *c, int64_t since,
		      struct ww_flow_usage *u, int64_t *snap_time, struct strbuf *err)
{
	cJSON *snap = snapshot_before(state_dir, since, err);
	const cJSON *flows = snap ? cJSON_GetObjectItemCaseSensitive(snap, "flows") : NULL;

	*snap_time =
	    snap ? (int64_t)cJSON_GetObjectItemCaseSensitive(snap, "time")->valuedouble : 0;
	for (size_t i = 0; i < c->nflows; i++)
		u[i] = flow_usage(&c->flows[i], flows, since);
	cJSON_Delete(snap);
	return 0;
}

int ww_snapshot_unused(const char *state_dir, const struct ww_collect *c, int64_t since, bool json,
		       struct strbuf *out, struct strbuf *err)
{
	struct ww_flow_usage *u = calloc(c->nflows + 1, sizeof(*u));
	int64_t st = 0;
	char tb[WW_TIME_STRLEN], tb2[WW_TIME_STRLEN];
	static const char *const kinds[] = {"unused", "used", "unknown"};

	if (!u)
		return -ENOMEM;
	ww_snapshot_usage(state_dir, c, since, u, &st, err);
	if (json)
		sb_addf(out, "{\"since\": \"%s\", \"snapshot\": %s%s%s, \"flows\": [",
			ww_time_str(since, tb), st ? "\"" : "", st ? ww_time_str(st, tb2) : "null",
			st ? "\"" : "");
	else if (st)
		sb_addf(out, "flows without traffic since %s (compared with the snapshot of %s):\n",
			ww_time_str(since, tb), ww_time_str(st, tb2));
	else
		sb_addf(out, "flows without traffic since %s (no snapshot taken before it):\n",
			ww_time_str(since, tb));
	for (int kind = 0; kind < 3; kind++) {
		if (!json)
			sb_addf(out, "%s:\n", kind == 0	  ? "no traffic"
					      : kind == 1 ? "traffic"
							  : "cannot tell (no snapshot, counter older)");
		for (size_t i = 0; i < c->nflows; i++) {
			if ((int)u[i].state != kind)
				continue;
			if (json) {
				sb_add(out, out->s[out->len - 1] == '[' ? "{\"id\": " : ", {\"id\": ");
				sb_add_json_str(out, u[i].f->id);
				sb_addf(out,
					", \"state\": \"%s\", \"packets\": %llu, \"why\": \"%s\"}",
					kinds[kind], (unsigned long long)u[i].total, u[i].why);
			} else {
				sb_addf(out, "  %s (%llu packets%s%s)\n", u[i].f->id,
					(unsigned long long)u[i].total, *u[i].why ? ", " : "",
					u[i].why);
			}
		}
	}
	if (json)
		sb_add(out, "]}\n");
	free(u);
	return 0;
}

void ww_snapshot_live(const char *state_dir, const struct nfr_table *live, struct ww_xdp *xdp)
{
	const char *fp = WW_NFT_FLOW_PREFIX;
	size_t n = 0;
	const char **ids;
	uint64_t *a, *b, dummy;
	struct strbuf err = {0};

	if (!live)
		return;
	ids = calloc(live->ncounters + 1, sizeof(*ids));
	a = calloc(live->ncounters + 1, sizeof(*a));
	b = calloc(live->ncounters + 1, sizeof(*b));
	for (size_t i = 0; ids && a && b && i < live->ncounters; i++) {
		if (strncmp(live->counters[i].name, fp, strlen(fp)))
			continue;
		ids[n] = live->counters[i].name + strlen(fp);
		a[n] = live->counters[i].packets;
		if (xdp)
			ww_xdp_flow_counter(xdp, ids[n], &b[n], &dummy);
		n++;
	}
	if (ids && a && b)
		ww_snapshot_append(state_dir, (int64_t)time(NULL), ids, a, b, n, &err);
	free(ids);
	free(a);
	free(b);
	sb_free(&err); /* a snapshot is a convenience: its failure does not fail the apply */
}
