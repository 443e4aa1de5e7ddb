// SPDX-License-Identifier: GPL-2.0-only
/* The member checks the policy's section parsers share (policy_json.h). */
#include "policy_json.h"

#include <ctype.h>
#include <string.h>

#include "util.h"

bool ww_name_ok(const char *s, size_t max, bool allow_dot)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(isalnum(ch) && ch < 0x80) && ch != '-' && ch != '_' && !(allow_dot && ch == '.'))
			return false;
	}
	return true;
}

bool ww_keyword(struct ww_diags *d, const cJSON *j, const char *ptr, const char *const *words,
		size_t n, int *out)
{
	struct strbuf sb = {0};

	for (size_t i = 0; i < n; i++)
		if (!strcmp(j->valuestring, words[i])) {
			*out = (int)i;
			return true;
		}
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, "%s\"%s\"", i ? (i + 1 == n ? " or " : ", ") : "", words[i]);
	ww_diag_add(d, WW_ERROR, "invalid-value", ptr, suggest(j->valuestring, words, n),
		    "\"%s\" is not valid here: expected %s", j->valuestring, sb_str(&sb));
	sb_free(&sb);
	return false;
}
