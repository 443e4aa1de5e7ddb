// SPDX-License-Identifier: GPL-2.0-only
/*
 * The chain of exports: <state dir>/evidence/chain.jsonl, one line per bundle written. It gives
 * the next export its predecessor's manifest hash (the link) and the counter values the window
 * starts from. The bundles carry the links themselves; this file only remembers them.
 *
 * A line: {"seq": 2, "time": "...", "manifest_sha256": "...", "prev_sha256": "...",
 *          "key_sha256": "...", "bundle": "DIR", "snaps": [[NAME, PACKETS, BYTES, SINCE], ...]}
 */
#include "evidence.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "timeutil.h"

static char *chain_path(const char *state_dir)
{
	return xstrdup_printf("%s/evidence/chain.jsonl", state_dir);
}

void ww_ev_records_free(struct ww_ev_record *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		for (size_t k = 0; k < r[i].nsnaps; k++)
			free(r[i].snaps[k].name);
		free(r[i].snaps);
		free(r[i].bundle);
	}
	free(r);
}

static bool hex64(const cJSON *j, bool empty_ok, char out[65])
{
	if (!cJSON_IsString(j))
		return false;
	size_t n = strlen(j->valuestring);
	if (!(n == 64 || (empty_ok && n == 0)) || strspn(j->valuestring, "0123456789abcdef") != n)
		return false;
	memcpy(out, j->valuestring, n + 1);
	return true;
}

/* One line into r; false when a member is missing or of the wrong type. */
static bool record_parse(const cJSON *j, struct ww_ev_record *r, size_t *cap)
{
	const cJSON *x;

	memset(r, 0, sizeof(*r));
	x = cJSON_GetObjectItemCaseSensitive(j, "seq");
	if (!cJSON_IsNumber(x) || x->valuedouble < 1)
		return false;
	r->seq = (unsigned long)x->valuedouble;
	x = cJSON_GetObjectItemCaseSensitive(j, "time");
	if (!cJSON_IsString(x) || ww_time_parse(x->valuestring, &r->time))
		return false;
	if (!hex64(cJSON_GetObjectItemCaseSensitive(j, "manifest_sha256"), false,
		   r->manifest_sha256) ||
	    !hex64(cJSON_GetObjectItemCaseSensitive(j, "prev_sha256"), true, r->prev_sha256) ||
	    !hex64(cJSON_GetObjectItemCaseSensitive(j, "key_sha256"), false, r->key_sha256))
		return false;
	x = cJSON_GetObjectItemCaseSensitive(j, "bundle");
	if (cJSON_IsString(x) && !(r->bundle = strdup(x->valuestring)))
		return false;
	x = cJSON_GetObjectItemCaseSensitive(j, "snaps");
	if (!cJSON_IsArray(x))
		return false;
	*cap = 0;
	for (const cJSON *s = x->child; s; s = s->next) {
		const cJSON *nm = cJSON_GetArrayItem(s, 0), *p = cJSON_GetArrayItem(s, 1),
			    *b = cJSON_GetArrayItem(s, 2), *t = cJSON_GetArrayItem(s, 3);
		if (!cJSON_IsString(nm) || !cJSON_IsNumber(p) || !cJSON_IsNumber(b) ||
		    !cJSON_IsNumber(t))
			return false;
		struct ww_ev_snap v = {.name = strdup(nm->valuestring),
				       .packets = (uint64_t)p->valuedouble,
				       .bytes = (uint64_t)b->valuedouble,
				       .since = (int64_t)t->valuedouble};
		if (!v.name || VEC_PUSH(r->snaps, r->nsnaps, *cap, v)) {
			free(v.name);
			return false;
		}
	}
	return true;
}

struct chain_load {
	char *path;
	struct ww_ev_record *v;
	size_t n, cap;
	struct strbuf *err;
};

static int add_record(void *ctx, const char *line, cJSON **j, size_t lineno)
{
	struct chain_load *c = ctx;
	struct ww_ev_record r = {0}, *prev;
	size_t scap;

	if (vec_reserve(&c->v, &c->cap, c->n + 1, sizeof(*c->v)))
		return -ENOMEM;
	if (!*j || !record_parse(*j, &r, &scap)) {
		for (size_t i = 0; i < r.nsnaps; i++)
			free(r.snaps[i].name);
		free(r.snaps);
		free(r.bundle);
		sb_addf(c->err, "%s line %zu: not an evidence chain record", c->path, lineno);
		return -EBADMSG;
	}
	prev = c->n ? &c->v[c->n - 1] : NULL;
	c->v[c->n++] = r;
	if (prev && (r.seq != prev->seq + 1 || strcmp(r.prev_sha256, prev->manifest_sha256))) {
		sb_addf(c->err,
			"%s line %zu: bundle %lu does not follow bundle %lu (the chain is "
			"broken; move the file aside to start a new chain)",
			c->path, lineno, r.seq, prev->seq);
		return -EBADMSG;
	}
	return 0;
}

int ww_ev_chain_load(const char *state_dir, struct ww_ev_record **out, size_t *n,
		     struct strbuf *err)
{
	struct chain_load c = {.path = chain_path(state_dir), .err = err};
	int e;

	*out = NULL;
	*n = 0;
	if (!c.path)
		return -ENOMEM;
	e = ww_jsonl_each(c.path, add_record, &c);
	if (e == -ENOENT)
		e = 0;
	else if (e && e != -EBADMSG && e != -ENOMEM)
		sb_addf(err, "%s: %s", c.path, strerror(-e));
	free(c.path);
	if (e) {
		ww_ev_records_free(c.v, c.n);
		return e;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

int ww_ev_chain_append(const char *state_dir, const struct ww_ev_record *r, struct strbuf *err)
{
	char *dir = xstrdup_printf("%s/evidence", state_dir), *path = chain_path(state_dir);
	char tb[WW_TIME_STRLEN];
	struct strbuf line = {0};
	int e = 0, fd = -1;

	if (!dir || !path) {
		e = -ENOMEM;
		goto out;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		e = -errno;
		sb_addf(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	sb_addf(&line,
		"{\"seq\": %lu, \"time\": \"%s\", \"manifest_sha256\": \"%s\", "
		"\"prev_sha256\": \"%s\", \"key_sha256\": \"%s\", \"bundle\": ",
		r->seq, ww_time_str(r->time, tb), r->manifest_sha256, r->prev_sha256,
		r->key_sha256);
	sb_add_json_str(&line, r->bundle ? r->bundle : "");
	sb_add(&line, ", \"snaps\": [");
	for (size_t i = 0; i < r->nsnaps; i++) {
		const struct ww_ev_snap *s = &r->snaps[i];
		sb_add(&line, i ? ", [" : "[");
		sb_add_json_str(&line, s->name);
		sb_addf(&line, ", %llu, %llu, %lld]", (unsigned long long)s->packets,
			(unsigned long long)s->bytes, (long long)s->since);
	}
	sb_add(&line, "]}\n");
	if (line.oom) {
		e = -ENOMEM;
		goto out;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, line.s, line.len) != (ssize_t)line.len || fsync(fd) < 0) {
		e = errno ? -errno : -EIO;
		sb_addf(err, "%s: %s", path, strerror(-e));
	}
out:
	if (fd >= 0)
		close(fd);
	sb_free(&line);
	free(dir);
	free(path);
	return e;
}

static bool dir_empty_or_absent(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

int ww_ev_chain_finish(const char *state_dir, struct strbuf *said, struct strbuf *err)
{
	struct ww_ev_record *v = NULL;
	size_t n = 0;
	struct stat st;
	char *partial;
	int e = ww_ev_chain_load(state_dir, &v, &n, err);

	if (e || !n || !v[n - 1].bundle || !*v[n - 1].bundle) {
		ww_ev_records_free(v, n);
		return e;
	}
	const struct ww_ev_record *r = &v[n - 1];
	partial = ww_ev_partial_dir(r->bundle);
	if (!partial) {
		e = -ENOMEM;
	} else if (!stat(partial, &st) && S_ISDIR(st.st_mode) && dir_empty_or_absent(r->bundle)) {
		e = ww_ev_bundle_place(r->bundle, err);
		if (!e)
			sb_addf(said, "finished bundle %lu (%s): its export was interrupted after it "
				      "was chained\n", r->seq, r->bundle);
	} else if (stat(r->bundle, &st) < 0) {
		sb_addf(said, "bundle %lu (%s) of the chain is missing\n", r->seq, r->bundle);
	}
	free(partial);
	ww_ev_records_free(v, n);
	return e;
}
