/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 1, policy: the raw text checked string by string, before any member is read. */
#ifndef WW_POLICY_SCAN_H
#define WW_POLICY_SCAN_H

#include <stddef.h>

#include "diag.h"

/*
 * Checks every string (member names included) of a JSON text that cJSON has accepted: each must
 * be valid UTF-8 (RFC 3629) and hold no control character (U+0000-U+001F, U+007F), escaped or
 * raw; free text (members "description", "owner", "ticket") may hold tab, CR and LF. Each
 * problem is added to d with the string's JSON pointer (a member name's problem at its object's
 * pointer); invalid UTF-8 also with its line and column. cJSON ends a decoded string at "\u0000",
 * which is why this reads the text itself. Returns 0, -EINVAL (errors added) or -ENOMEM.
 */
int ww_policy_scan(const char *text, size_t len, struct ww_diags *d);

#endif
