/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1, policy: the "siem" section, where `wardwall serve` sends events and alerts
 * (docs/siem.md):
 *   "siem": [{"to": "tls://10.20.250.5:6514", "format": "syslog", "send": ["alerts", "events"],
 *             "facility": "local0", "sd_id": "wardwall@32473", "ca": "/etc/wardwall/siem-ca.pem",
 *             "cert": "...", "key": "...", "queue": 10000}]
 * Only "to" is required. The section is printed in the canonical form when present, every
 * member spelled out, so that parsing the canonical form gives the same outputs.
 */
#ifndef WW_POLICY_SIEM_H
#define WW_POLICY_SIEM_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "diag.h"
#include "model.h"
#include "util.h"

/* Reads root's "siem" (absent: none) into p->siem. Problems go to d; allocation failure sets
 * *oom. */
void ww_siem_parse(struct ww_policy *p, const cJSON *root, struct ww_diags *d, bool *oom);
/* ",\n  \"siem\": [...]" when p has outputs, else nothing. */
void ww_siem_print(const struct ww_policy *p, struct strbuf *out);
/* One output's members as JSON object text (also for serve's own messages). */
void ww_siem_out_print(const struct ww_siem_out *o, struct strbuf *out);

#endif
