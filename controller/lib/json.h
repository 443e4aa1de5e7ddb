/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one JSON writer, for every --json output and the evidence files: keys in call order,
 * strings escaped by sb_add_json_str. Two layouts: pretty (the default: one member per line,
 * indented two spaces, as the evidence files are) and compact (one line, ", " between members
 * and ": " after keys, as the commands print). A top-level value ends with a newline.
 *
 *	struct ww_jw w = {.out = &sb, .compact = true};
 *	ww_jw_obj(&w, NULL);
 *	ww_jw_str(&w, "result", "applied");
 *	ww_jw_end_obj(&w);               -> {"result": "applied"}\n
 */
#ifndef WW_JSON_H
#define WW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ww_jw {
	struct strbuf *out;
	bool compact;
	const char *wrap; /* compact: a line break (and this indent) before the next member */
	int depth;
	bool empty[32]; /* per depth: nothing written yet */
};

/* Opens an object or array: as a member (key) of an object, or an element (key NULL). */
void ww_jw_obj(struct ww_jw *w, const char *key);
void ww_jw_arr(struct ww_jw *w, const char *key);
void ww_jw_end_obj(struct ww_jw *w);
void ww_jw_end_arr(struct ww_jw *w);
void ww_jw_str(struct ww_jw *w, const char *key, const char *v); /* v NULL: null */
void ww_jw_u64(struct ww_jw *w, const char *key, uint64_t v);
void ww_jw_i64(struct ww_jw *w, const char *key, int64_t v);
void ww_jw_bool(struct ww_jw *w, const char *key, bool v);
void ww_jw_null(struct ww_jw *w, const char *key);
void ww_jw_time(struct ww_jw *w, const char *key, int64_t t); /* RFC 3339; 0: null */
/* An array of strings in one call. */
void ww_jw_strs(struct ww_jw *w, const char *key, const char *const *v, size_t n);
/* Compact layout: the next member, or the closing bracket, starts a new line indented by
 * indent ("" for none); long arrays read one element a line. */
void ww_jw_wrap(struct ww_jw *w, const char *indent);
/* A number printed with fmt ("%.1f"); the caller makes sure fmt prints a JSON number. */
void ww_jw_numf(struct ww_jw *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reading JSON Lines (history.jsonl, snapshots.jsonl, evidence/chain.jsonl) ---- */

struct cJSON;

/*
 * Calls fn for every non-empty line of the file at path, in order: line is the raw text (for
 * hashing), *j the line parsed (NULL when it is not JSON: fn decides what that means; fn may take
 * the object by setting *j to NULL), lineno counts from 1. fn returns 0 to go on, or -errno to
 * stop. Returns 0, fn's -errno, or the read's (-ENOENT: no file).
 */
int ww_jsonl_each(const char *path,
		  int (*fn)(void *ctx, const char *line, struct cJSON **j, size_t lineno),
		  void *ctx);

#endif
