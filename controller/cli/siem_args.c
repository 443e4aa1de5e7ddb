// SPDX-License-Identifier: GPL-2.0-only
#include "siem_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int path_opt(const char *cmd, const char *opt, const char *v, char **out)
{
	if (!v)
		return 0;
	if (v[0] != '/') {
		ww_errorf("%s: %s %s: give an absolute path", cmd, opt, v);
		return -EINVAL;
	}
	return (*out = strdup(v)) ? 0 : -ENOMEM;
}

int ww_siem_args_cfg(const char *cmd, const struct ww_siem_args *a, struct ww_siem_cfg *cfg)
{
	struct ww_siem_out o;
	char why[256];
	int e;

	cfg->v = NULL;
	cfg->n = 0;
	if (!a->to) {
		if (a->format || a->send || a->facility || a->ca || a->cert || a->key || a->queue) {
			ww_errorf("%s: the --siem-* options need --siem TARGET", cmd);
			return -EINVAL;
		}
		return 0;
	}
	if ((e = ww_siem_out_init(&o, a->to, why, sizeof(why)))) {
		if (e == -EINVAL)
			ww_errorf("%s: --siem %s", cmd, why);
		return e;
	}
	e = -EINVAL;
	if (a->format) {
		int f = -1;
		for (int i = 0; i < 3; i++)
			if (!strcmp(a->format, ww_siem_format_names[i]))
				f = i;
		if (f < 0) {
			ww_errorf("%s: --siem-format takes syslog, cef or json, not \"%s\"", cmd,
				  a->format);
			goto fail;
		}
		o.format = (enum ww_siem_format)f;
	}
	if (a->send) {
		if (!strcmp(a->send, "alerts"))
			o.events = false;
		else if (!strcmp(a->send, "events"))
			o.alerts = false;
		else if (strcmp(a->send, "alerts,events") && strcmp(a->send, "events,alerts")) {
			ww_errorf(
			    "%s: --siem-send takes alerts, events or alerts,events, not \"%s\"",
			    cmd, a->send);
			goto fail;
		}
	}
	if (a->facility) {
		int f = ww_syslog_facility(a->facility);
		if (f < 0) {
			ww_errorf(
			    "%s: --siem-facility %s: not a syslog facility (local0 .. local7, "
			    "authpriv, daemon, ...)",
			    cmd, a->facility);
			goto fail;
		}
		o.facility = (unsigned int)f;
	}
	if (a->queue) {
		char *end;
		long q = strtol(a->queue, &end, 10);
		if (*end || end == a->queue || q < 1 || q > WW_SIEM_QUEUE_MAX) {
			ww_errorf("%s: --siem-queue %s: give a number of messages from 1 to %d",
				  cmd, a->queue, WW_SIEM_QUEUE_MAX);
			goto fail;
		}
		o.queue = (uint32_t)q;
	}
	if ((a->ca || a->cert || a->key) && o.transport != WW_SIEM_TLS) {
		ww_errorf("%s: --siem-ca, --siem-cert and --siem-key are for a tls:// target", cmd);
		goto fail;
	}
	if (!a->cert != !a->key) {
		ww_errorf("%s: a client certificate needs both --siem-cert and --siem-key", cmd);
		goto fail;
	}
	if ((e = path_opt(cmd, "--siem-ca", a->ca, &o.ca)) ||
	    (e = path_opt(cmd, "--siem-cert", a->cert, &o.cert)) ||
	    (e = path_opt(cmd, "--siem-key", a->key, &o.key)))
		goto fail;
	if (!(cfg->v = malloc(sizeof(*cfg->v)))) {
		e = -ENOMEM;
		goto fail;
	}
	cfg->v[0] = o;
	cfg->n = 1;
	return 0;
fail:
	ww_siem_out_clear(&o);
	return e;
}
