// SPDX-License-Identifier: GPL-2.0-only
#include "snapshot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* ---- the file: one snapshot a line, in the order they were taken ---- */

/* snapshots.jsonl opened for appending and locked (flock) against other appenders; a file
 * that trim_file replaced while this waited for the lock is opened again. */
static int open_locked(const char *path)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		struct stat a, b;
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return fd;
		close(fd); /* renamed over meanwhile */
	}
	return -EAGAIN;
}

/* The file mapped privately (copy on write: trim_file compacts it in place); len 0, map NULL
 * for an empty file. */
struct snapfile {
	char *map;
	size_t len;
};

static int snapfile_map(int fd, struct snapfile *f)
{
	struct stat sb;

	f->map = NULL;
	f->len = 0;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if (!sb.st_size)
		return 0;
	f->map = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return -errno;
	}
	f->len = (size_t)sb.st_size;
	return 0;
}

static void snapfile_unmap(struct snapfile *f)
{
	if (f->map)
		munmap(f->map, f->len);
	f->map = NULL;
}

/* Steps back to the line that ends at *end (exclusive, newlines skipped): its start in
 * *start, and *end moved to it. false at the start of the file. */
static bool line_before(const struct snapfile *f, size_t *start, size_t *end)
{
	size_t e = *end;
	const char *nl;

	while (e && f->map[e - 1] == '\n')
		e--;
	if (!e)
		return false;
	nl = memrchr(f->map, '\n', e);
	*start = nl ? (size_t)(nl - f->map) + 1 : 0;
	*end = e;
	return true;
}

/* The time a line holds: read from the start ww_snapshot_append gives it, `{"time": T, `,
 * else (a line written otherwise) parsed. Returns 0 or -EBADMSG. */
static int line_time(const char *s, size_t len, int64_t *t)
{
	static const char pre[] = "{\"time\": ";
	size_t i = sizeof(pre) - 1;
	int64_t v = 0;

	if (len > i && !memcmp(s, pre, i) && s[i] >= '0' && s[i] <= '9') {
		for (; i < len && s[i] >= '0' && s[i] <= '9' && v < INT64_MAX / 10 - 10; i++)
			v = v * 10 + (s[i] - '0');
		if (i < len && s[i] == ',') {
			*t = v;
			return 0;
		}
	}
	cJSON *j = cJSON_ParseWithLength(s, len);
	const cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "time");
	int e = cJSON_IsNumber(tm) ? 0 : -EBADMSG;

	if (!e)
		*t = (int64_t)tm->valuedouble;
	cJSON_Delete(j);
	return e;
}

/* WARDWALL_SNAPSHOTS, else WW_SNAPSHOTS_KEEP; a value under 2 or garbage keeps the default
 * rather than lifting the bound. */
size_t ww_snapshot_keep(void)
{
	const char *env = getenv("WARDWALL_SNAPSHOTS");
	char *end = NULL;
	unsigned long v = env ? strtoul(env, &end, 10) : 0;

	return env && *env && end && !*end && v >= 2 && v <= 1000000 ? (size_t)v
								     : WW_SNAPSHOTS_KEEP;
}

struct snapline {
	size_t start, end;
	int64_t time;
};

/* Which of n lines (file order, the newest last) to drop so that keep remain (docs: "Counter
 * snapshots"): first the lines that are no snapshot; then, one at a time, the snapshot whose
 * loss widens a comparison least for its age: the gap to the one before it, over the time
 * from the one after it to the newest. The oldest and the newest stay. */
static void choose_drops(struct snapline *l, size_t n, size_t keep, bool *drop)
{
	size_t left = n, *idx = calloc(n, sizeof(*idx)), k = 0;

	for (size_t i = 0; i < n; i++) {
		drop[i] = l[i].time < 0;
		left -= drop[i];
		if (!drop[i] && idx)
			idx[k++] = i;
	}
	int64_t newest = k ? l[idx[k - 1]].time : 0;
	while (idx && left > keep && k > 2) {
		size_t best = 1;
		double best_cost = 0;
		for (size_t j = 1; j + 1 < k; j++) {
			double gap = (double)(l[idx[j]].time - l[idx[j - 1]].time);
			double age = (double)(newest - l[idx[j + 1]].time);
			double cost = gap / (age < 1 ? 1 : age);
			if (j == 1 || cost < best_cost)
				best = j, best_cost = cost;
		}
		drop[idx[best]] = true;
		memmove(&idx[best], &idx[best + 1], (k - best - 1) * sizeof(*idx));
		k--;
		left--;
	}
	free(idx);
}

/* The lines of f (each with its time; -1: not a snapshot). */
static int index_lines(const struct snapfile *f, struct snapline **out, size_t *n)
{
	struct snapline *v = NULL;
	size_t k = 0, cap = 0, start, end = f->len;

	while (line_before(f, &start, &end)) {
		struct snapline l = {.start = start, .end = end, .time = -1};
		if (line_time(f->map + start, end - start, &l.time))
			l.time = -1;
		if (VEC_PUSH(v, k, cap, l)) {
			free(v);
			return -ENOMEM;
		}
		end = start;
	}
	for (size_t i = 0; i < k / 2; i++) { /* into file order */
		struct snapline t = v[i];
		v[i] = v[k - 1 - i];
		v[k - 1 - i] = t;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Keeps the file at ww_snapshot_keep() snapshots: the lines choose_drops picks go, the rest
 * is written again (atomically) in its order. Called with the file locked. */
static int trim_file(int fd, const char *path)
{
	struct snapfile f;
	struct snapline *l = NULL;
	size_t n = 0, keep = ww_snapshot_keep(), len = 0;
	bool *drop = NULL;
	int e = snapfile_map(fd, &f);

	if (!e)
		e = index_lines(&f, &l, &n);
	if (!e && n > keep) {
		drop = calloc(n, sizeof(*drop));
		e = drop ? 0 : -ENOMEM;
		if (!e)
			choose_drops(l, n, keep, drop);
		for (size_t i = 0; !e && i < n; i++) {
			if (drop[i])
				continue;
			memmove(f.map + len, f.map + l[i].start, l[i].end - l[i].start);
			len += l[i].end - l[i].start;
			f.map[len++] = '\n';
		}
		if (!e)
			e = write_file_atomic(path, f.map, len, 0640);
	}
	free(drop);
	free(l);
	snapfile_unmap(&f);
	return e;
}

/* Appends text (one line) to the locked file, after a newline if a torn write left its last
 * line unfinished (so that line alone is lost, not this one). */
static int append_line(int fd, const char *text, size_t len)
{
	struct stat sb;
	char last = '\n';

	if (fstat(fd, &sb) < 0)
		return -errno;
	if (sb.st_size && pread(fd, &last, 1, sb.st_size - 1) != 1)
		return -EIO;
	if (last != '\n' && write(fd, "\n", 1) != 1)
		return -EIO;
	for (size_t done = 0; done < len;) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t)w;
	}
	return 0;
}

int ww_snapshot_append(const char *state_dir, int64_t time, const char *const *ids,
		       const uint64_t *nft, const uint64_t *xdp, size_t n, struct strbuf *err)
{
	char *path = snap_path(state_dir, err);
	struct strbuf line = {0};
	int fd, e;

	if (!path)
		return err->len ? -EIO : -ENOMEM;
	sb_addf(&line, "{\"time\": %lld, \"flows\": {", (long long)time);
	for (size_t i = 0; i < n; i++) {
		sb_add(&line, i ? ", " : "");
		sb_add_json_str(&line, ids[i]);
		sb_addf(&line, ": [%llu, %llu]", (unsigned long long)nft[i], (unsigned long long)xdp[i]);
	}
	sb_add(&line, "}}\n");
	fd = line.oom ? -ENOMEM : open_locked(path);
	e = fd < 0 ? fd : append_line(fd, line.s, line.len);
	if (!e)
		e = trim_file(fd, path);
	if (e)
		sb_addf(err, "%s: %s", path, strerror(-e));
	if (fd >= 0)
		close(fd); /* and the lock with it */
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

/* A snapshot read back: its flows sorted by id, for lookups. */
struct snap {
	cJSON *root;
	int64_t time;
	const cJSON **flows;
	size_t n;
};

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* Parses one line into s: 0, or -EBADMSG when it is no snapshot. */
static int snap_parse(const char *text, size_t len, struct snap *s)
{
	const cJSON *tm, *flows, *f;

	memset(s, 0, sizeof(*s));
	s->root = cJSON_ParseWithLength(text, len);
	tm = cJSON_GetObjectItemCaseSensitive(s->root, "time");
	flows = cJSON_GetObjectItemCaseSensitive(s->root, "flows");
	if (!cJSON_IsNumber(tm) || !cJSON_IsObject(flows)) {
		cJSON_Delete(s->root);
		s->root = NULL;
		return -EBADMSG;
	}
	s->time = (int64_t)tm->valuedouble;
	s->flows = calloc((size_t)cJSON_GetArraySize(flows) + 1, sizeof(*s->flows));
	cJSON_ArrayForEach(f, flows) if (s->flows) s->flows[s->n++] = f;
	if (s->flows)
		qsort(s->flows, s->n, sizeof(*s->flows), by_name);
	return 0;
}

static void snap_free(struct snap *s)
{
	cJSON_Delete(s->root);
	free(s->flows);
	memset(s, 0, sizeof(*s));
}

/* The flow named id in s, NULL if it has none. */
static const cJSON *snap_flow(const struct snap *s, const char *id)
{
	cJSON key = {.string = (char *)id};
	const cJSON *k = &key, **hit;

	if (!s->flows)
		return NULL;
	hit = bsearch(&k, s->flows, s->n, sizeof(*s->flows), by_name);
	return hit ? *hit : NULL;
}

/* Into s, the last snapshot in the file taken at or before t (the file read from its end:
 * only the lines after it are looked at, and only it is parsed). 0: none. */
static int snapshot_before(const char *state_dir, int64_t t, struct snap *s, struct strbuf *err)
{
	char *path = snap_path(state_dir, err);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct snapfile f = {0};
	size_t start, end;
	int64_t lt;
	int found = 0;

	memset(s, 0, sizeof(*s));
	if (fd >= 0 && !snapfile_map(fd, &f)) {
		for (end = f.len; !found && line_before(&f, &start, &end); end = start)
			found = !line_time(f.map + start, end - start, &lt) && lt <= t &&
				!snap_parse(f.map + start, end - start, s);
		snapfile_unmap(&f);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return found;
}

int64_t ww_snapshot_newest(const char *state_dir)
{
	struct strbuf err = {0};
	char *path = snap_path(state_dir, &err);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	struct snapfile f = {0};
	size_t start, end;
	int64_t t = 0, lt;

	if (fd >= 0 && !snapfile_map(fd, &f)) {
		for (end = f.len; !t && line_before(&f, &start, &end); end = start)
			if (!line_time(f.map + start, end - start, &lt))
				t = lt;
		snapfile_unmap(&f);
	}
	if (fd >= 0)
		close(fd);
	free(path);
	sb_free(&err);
	return t;
}

/* WARDWALL_SNAPSHOT_INTERVAL seconds (0: every time), else WW_SNAPSHOT_INTERVAL; garbage
 * keeps the default. */
static int64_t snapshot_interval(void)
{
	const char *env = getenv("WARDWALL_SNAPSHOT_INTERVAL");
	char *end = NULL;
	long long v = env ? strtoll(env, &end, 10) : -1;

	return env && *env && end && !*end && v >= 0 ? (int64_t)v : WW_SNAPSHOT_INTERVAL;
}

bool ww_snapshot_due(const char *state_dir, int64_t now)
{
	int64_t every = snapshot_interval(), newest;

	if (!every)
		return true;
	newest = ww_snapshot_newest(state_dir);
	return !newest || now < newest || now - newest >= every;
}

/* How flow f of a collection was used since `since`, against snapshot s (no root: none). */
static struct ww_flow_usage flow_usage(const struct ww_flow_stat *f, const struct snap *s,
				       int64_t since)
{
	uint64_t now = f->nft.packets + f->xdp.packets;
	int64_t started = f->nft.since && (!f->xdp.since || f->nft.since < f->xdp.since)
			      ? f->nft.since
			      : f->xdp.since;
	const cJSON *v = snap_flow(s, f->id);
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
	struct snap s;

	snapshot_before(state_dir, since, &s, err);
	*snap_time = s.root ? s.time : 0;
	for (size_t i = 0; i < c->nflows; i++)
		u[i] = flow_usage(&c->flows[i], &s, since);
	snap_free(&s);
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
