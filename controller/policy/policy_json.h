/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1, policy: the checks of a JSON member that every section parser makes the same way
 * (policy_parse.c, policy_gateways.c), so a name or a keyword is valid, and refused with the same
 * words, wherever it stands.
 */
#ifndef WW_POLICY_JSON_H
#define WW_POLICY_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* 1-max ASCII letters, digits, '-', '_' (and '.' when allow_dot), starting with a letter or
 * digit: the names of zones, hosts, groups, gateways. */
bool ww_name_ok(const char *s, size_t max, bool allow_dot);

/*
 * j (a string) is one of words (exact match only): its index in *out. Otherwise an
 * "invalid-value" error at ptr listing them, with the closest as a suggestion; a j that is not a
 * string is the caller's to report (want a string first). Returns true when found.
 */
bool ww_keyword(struct ww_diags *d, const cJSON *j, const char *ptr, const char *const *words,
		size_t n, int *out);

#endif
