/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Diagnostics: every problem found in a policy, each with the place it comes from.
 * A diagnostic names a file and a JSON pointer (or a line and column for malformed JSON).
 */
#ifndef WW_DIAG_H
#define WW_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum ww_sev { WW_ERROR, WW_WARNING };

struct ww_diag {
	enum ww_sev sev;
	char *code; /* stable machine-readable kind, e.g. "unknown-zone" */
	char *ptr;  /* JSON pointer, "" for the document */
	int line, col; /* > 0 only for syntax errors */
	char *msg;
	char *hint; /* a suggestion, or NULL */
};

struct ww_diags {
	const char *file;
	struct ww_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
	bool oom;
};

/* Records a diagnostic; formatting failures are remembered in d->oom, never lost silently. */
void ww_diag_add(struct ww_diags *d, enum ww_sev sev, const char *code, const char *ptr,
		 const char *hint, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define ww_err(d, code, ptr, ...)  ww_diag_add(d, WW_ERROR, code, ptr, NULL, __VA_ARGS__)
#define ww_warn(d, code, ptr, ...) ww_diag_add(d, WW_WARNING, code, ptr, NULL, __VA_ARGS__)

/* Sorts by severity, then pointer, keeping insertion order otherwise. */
void ww_diags_sort(struct ww_diags *d);
/* One line each: "FILE: PTR: error: message (did you mean "x"?)". */
void ww_diags_print(const struct ww_diags *d, struct strbuf *out);
/* A JSON array of objects {severity, code, file, pointer, line?, column?, message, hint?}. */
void ww_diags_json(const struct ww_diags *d, struct strbuf *out);
void ww_diags_free(struct ww_diags *d);

/* JSON pointer helpers (RFC 6901 escaping of ~ and /). The result is malloc'ed; NULL when memory
 * runs out, or when base is NULL (an earlier allocation failed), so a lost pointer propagates. */
char *ww_ptr_key(const char *base, const char *key);
char *ww_ptr_idx(const char *base, size_t idx);

#endif
