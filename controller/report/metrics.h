/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 6, report: Prometheus metrics (for `metrics` and `serve`). */
#ifndef WW_METRICS_H
#define WW_METRICS_H

#include "collect.h"
#include "util.h"

/* The text exposition format (version 0.0.4) of a collection. */
void ww_metrics_print(const struct ww_collect *c, struct strbuf *out);

#endif
