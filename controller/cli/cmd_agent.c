// SPDX-License-Identifier: GPL-2.0-only
/* wardwall agent: one gateway of a fleet, enforcing its part of the published policy. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fleet.h"
#include "evidence.h"

static volatile int stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct agent_args {
	bool once, no_evidence;
	const char *name, *pub, *state_dir, *bpffs, *ttl, *every;
	struct ww_fleet_conn conn;
};

static const struct ww_opt agent_opts[] = {
	WW_STR("--name", struct agent_args, name, "NAME", .required = true),
	WW_STR("--publisher-key", struct agent_args, pub, "FILE.pub", .required = true),
	WW_STR("--state-dir", struct agent_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct agent_args, bpffs, "DIR"),
	WW_STR("--ttl", struct agent_args, ttl, "S"),
	WW_FLAG("--once", struct agent_args, once),
	WW_STR("--evidence-every", struct agent_args, every, "S"),
	WW_FLAG("--no-evidence", struct agent_args, no_evidence),
	WW_FLEET_OPTS(struct agent_args),
	WW_OPT_END,
};

static int cmd_agent(int argc, char **argv)
{
	struct agent_args a = {0};
	struct strbuf err = {0};
	uint8_t pk[WW_EV_PK_BYTES];
	int npos;

	if (ww_opts_parse(agent_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_agent);
	long t = a.ttl ? strtol(a.ttl, NULL, 10) : 10;
	if (t < 2 || t > 3600) {
		ww_errorf("agent: --ttl %s: expected 2-3600 seconds", a.ttl);
		return WW_EXIT_USAGE;
	}
	char *end = NULL;
	long ev = a.every ? strtol(a.every, &end, 10) : 3600;
	if (a.every && (*end || ev < 0 || ev > 86400 * 31)) {
		ww_errorf("agent: --evidence-every %s: expected 0 (once per generation) to 2678400 "
			  "seconds",
			  a.every);
		return WW_EXIT_USAGE;
	}
	if (ww_ev_pub_load(a.pub, pk, &err)) {
		ww_errorf("agent: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ww_agent_opts o = {.conn = &a.conn, .name = a.name, .pk = pk,
				  .state_dir = a.state_dir, .bpffs = a.bpffs, .ttl = (int)t,
				  .once = a.once, .stop = &stop, .no_evidence = a.no_evidence,
				  .evidence_every = (int)ev};
	if (ww_agent_run(&o, &err)) {
		ww_errorf("agent: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	return WW_EXIT_OK;
}

const struct ww_cmd ww_cmd_agent = {
	"agent", cmd_agent,
	"enforce this gateway's part of the published fleet policy, and report its status",
	agent_opts, NULL, NULL,
};
