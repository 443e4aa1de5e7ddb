// SPDX-License-Identifier: GPL-2.0-only
#include "snapshot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "timeutil.h"
#include "json.h"

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

int ww_snapshot_unused(const char *state_dir, const struct ww_collect *c, int64_t since,
		       bool json, struct strbuf *out, struct strbuf *err)
{
	cJSON *snap = snapshot_before(state_dir, since, err);
	const cJSON *flows = snap ? cJSON_GetObjectItemCaseSensitive(snap, "flows") : NULL;
	int64_t st = snap ? (int64_t)cJSON_GetObjectItemCaseSensitive(snap, "time")->valuedouble : 0;
	char tb[WW_TIME_STRLEN], tb2[WW_TIME_STRLEN];
	static const char *const kinds[] = {"unused", "used", "unknown"};

	if (json)
		sb_addf(out, "{\"since\": \"%s\", \"snapshot\": %s%s%s, \"flows\": [",
			ww_time_str(since, tb), snap ? "\"" : "", snap ? ww_time_str(st, tb2) : "null",
			snap ? "\"" : "");
	else if (snap)
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
			const struct ww_flow_stat *f = &c->flows[i];
			uint64_t now = f->nft.packets + f->xdp.packets;
			int64_t started = f->nft.since && (!f->xdp.since || f->nft.since < f->xdp.since)
						  ? f->nft.since
						  : f->xdp.since;
			const cJSON *v = flows ? cJSON_GetObjectItemCaseSensitive(flows, f->id) : NULL;
			int k = 2;
			const char *why = "";
			if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
				uint64_t then = (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble +
						(uint64_t)cJSON_GetArrayItem(v, 1)->valuedouble;
				k = now == then ? 0 : 1;
				why = now == then ? "unchanged since the snapshot" : "counted since";
			} else if (!now && started) {
				k = 0;
				why = started > since ? "counter started after the date, still zero"
						      : "never counted anything";
			} else if (started > since) {
				k = 1;
				why = "counted since its counter started, after the date";
			}
			if (k != kind)
				continue;
			if (json) {
				sb_add(out, out->s[out->len - 1] == '[' ? "{\"id\": " : ", {\"id\": ");
				sb_add_json_str(out, f->id);
				sb_addf(out, ", \"state\": \"%s\", \"packets\": %llu, \"why\": \"%s\"}",
					kinds[k], (unsigned long long)now, why);
			} else {
				sb_addf(out, "  %s (%llu packets%s%s)\n", f->id, (unsigned long long)now,
					*why ? ", " : "", why);
			}
		}
	}
	if (json)
		sb_add(out, "]}\n");
	cJSON_Delete(snap);
	return 0;
}
