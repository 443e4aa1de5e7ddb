// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence, detection: how many alerts the detectors raised in the window, by detector and source
 * zone, from what `wardwall serve` recorded (detect.h, evlog.h). Addresses stay out of the bundle,
 * as in /metrics; `wardwall alerts --since` names them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect.h"
#include "evidence.h"
#include "evlog.h"

struct acc {
	struct ww_evidence *ev;
	size_t cap;
	int e;
};

static int on_line(const char *line, void *arg)
{
	struct acc *a = arg;
	struct ww_ev_alerts *x = &a->ev->alerts;
	struct ww_alert al;

	if (ww_alert_parse(line, &al))
		return 0;
	int64_t s = al.last_ns / 1000000000LL;
	if ((a->ev->start && s < a->ev->start) || s > a->ev->time)
		return 0;
	x->total++;
	for (size_t i = 0; i < x->nby; i++)
		if (!strcmp(x->by[i].detector, ww_detector_name(al.det)) &&
		    !strcmp(x->by[i].zone, al.src_zone)) {
			x->by[i].n++;
			return 0;
		}
	struct ww_ev_alert_count c = {.n = 1};
	snprintf(c.detector, sizeof(c.detector), "%s", ww_detector_name(al.det));
	snprintf(c.zone, sizeof(c.zone), "%s", al.src_zone);
	if (VEC_PUSH(x->by, x->nby, a->cap, c)) {
		a->e = -ENOMEM;
		return 1;
	}
	return 0;
}

int ww_ev_alerts_build(struct ww_evidence *ev, const char *state_dir)
{
	struct acc a = {.ev = ev};
	const char *sd = state_dir ? state_dir : getenv("WARDWALL_STATE_DIR");
	char *path = xstrdup_printf("%s/%s/%s", sd && *sd ? sd : "/var/lib/wardwall", WW_EVLOG_DIR,
				    WW_EVLOG_ALERTS);
	struct stat st;

	if (!path)
		return -ENOMEM;
	ev->alerts.recorded = !stat(path, &st);
	free(path);
	if (!ev->alerts.recorded)
		return 0;
	if (ww_evlog_read(state_dir, WW_EVLOG_ALERTS, WW_EVLOG_KEEP, on_line, &a) < 0 && !a.e)
		ev->alerts.recorded = false;
	return a.e;
}
