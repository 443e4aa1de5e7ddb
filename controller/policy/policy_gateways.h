/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1, policy: the "gateways" section, the enforcement points of a fleet (docs/fleet.md).
 * Called by the parser once zones are read; the checks that span the section (every zone served
 * somewhere, no interface claimed twice) are made here too.
 */
#ifndef WW_POLICY_GATEWAYS_H
#define WW_POLICY_GATEWAYS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "diag.h"
#include "model.h"

/*
 * Reads root's "gateways" (absent: p->ngws stays 0) into p->gws, sorted by name. Problems are
 * added to d; an allocation failure sets *oom. root is the whole policy object, so that
 * "enforcement" settings which belong to each gateway can be refused beside a gateways section.
 */
void ww_gateways_parse(struct ww_policy *p, const cJSON *root, struct ww_diags *d, bool *oom);

#endif
