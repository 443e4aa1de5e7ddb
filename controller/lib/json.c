// SPDX-License-Identifier: GPL-2.0-only
/* The one JSON writer: every --json output and the evidence files (json.h). */
#include "json.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static void jw_indent(struct ww_jw *w)
{
	for (int i = 0; i < w->depth; i++)
		sb_add(w->out, "  ");
}

/* Starts a value: the separator, the indentation and the key. */
/* The line break ww_jw_wrap asked for, if any. */
static void wrap(struct ww_jw *w)
{
	if (w->wrap) {
		sb_add(w->out, "\n");
		sb_add(w->out, w->wrap);
		w->wrap = NULL;
	}
}

void ww_jw_wrap(struct ww_jw *w, const char *indent)
{
	w->wrap = indent;
}

static void jw_key(struct ww_jw *w, const char *key)
{
	if (w->compact) {
		if (w->depth > 0 && !w->empty[w->depth])
			sb_add(w->out, w->wrap ? "," : ", ");
		w->empty[w->depth] = false;
		wrap(w);
	} else if (w->depth > 0) {
		sb_add(w->out, w->empty[w->depth] ? "\n" : ",\n");
		w->empty[w->depth] = false;
		jw_indent(w);
	}
	if (key) {
		sb_add_json_str(w->out, key);
		sb_add(w->out, ": ");
	}
}

static void jw_open(struct ww_jw *w, const char *key, const char *bracket)
{
	jw_key(w, key);
	sb_add(w->out, bracket);
	if (w->depth + 1 < (int)ARRAY_SIZE(w->empty))
		w->depth++;
	w->empty[w->depth] = true;
}

static void jw_close(struct ww_jw *w, const char *bracket)
{
	bool empty = w->empty[w->depth];

	if (w->depth > 0)
		w->depth--;
	wrap(w);
	if (!empty && !w->compact) {
		sb_add(w->out, "\n");
		jw_indent(w);
	}
	sb_add(w->out, bracket);
	if (!w->depth)
		sb_add(w->out, "\n");
}

void ww_jw_obj(struct ww_jw *w, const char *key)
{
	jw_open(w, key, "{");
}

void ww_jw_arr(struct ww_jw *w, const char *key)
{
	jw_open(w, key, "[");
}

void ww_jw_end_obj(struct ww_jw *w)
{
	jw_close(w, "}");
}

void ww_jw_end_arr(struct ww_jw *w)
{
	jw_close(w, "]");
}

void ww_jw_str(struct ww_jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	if (v)
		sb_add_json_str(w->out, v);
	else
		sb_add(w->out, "null");
}

void ww_jw_u64(struct ww_jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	sb_addf(w->out, "%llu", (unsigned long long)v);
}

void ww_jw_i64(struct ww_jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	sb_addf(w->out, "%lld", (long long)v);
}

void ww_jw_bool(struct ww_jw *w, const char *key, bool v)
{
	jw_key(w, key);
	sb_add(w->out, v ? "true" : "false");
}

void ww_jw_null(struct ww_jw *w, const char *key)
{
	jw_key(w, key);
	sb_add(w->out, "null");
}

void ww_jw_time(struct ww_jw *w, const char *key, int64_t t)
{
	char tb[WW_TIME_STRLEN];

	if (t)
		ww_jw_str(w, key, ww_time_str(t, tb));
	else
		ww_jw_null(w, key);
}

void ww_jw_strs(struct ww_jw *w, const char *key, const char *const *v, size_t n)
{
	ww_jw_arr(w, key);
	for (size_t i = 0; i < n; i++)
		ww_jw_str(w, NULL, v[i]);
	ww_jw_end_arr(w);
}

void ww_jw_numf(struct ww_jw *w, const char *key, const char *fmt, ...)
{
	va_list ap;

	jw_key(w, key);
	va_start(ap, fmt);
	sb_vaddf(w->out, fmt, ap);
	va_end(ap);
}

int ww_jsonl_each(const char *path,
		  int (*fn)(void *ctx, const char *line, struct cJSON **j, size_t lineno),
		  void *ctx)
{
	char *text, *line, *save = NULL;
	size_t lineno = 0;
	int e = read_file(path, &text, NULL);

	if (e)
		return e;
	for (line = strtok_r(text, "\n", &save); line && !e; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);
		e = fn(ctx, line, &j, ++lineno);
		cJSON_Delete(j);
	}
	free(text);
	return e;
}
