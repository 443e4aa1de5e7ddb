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
	struct ww_fleet_conn conn = {0};
	const char *name = NULL, *pub = NULL, *state_dir = NULL, *bpffs = NULL, *ttl = NULL,
		   *every = NULL;
	bool once = false, no_evidence = false;
	struct agent_args a = {0};
	struct strbuf err = {0};
	uint8_t pk[WW_EV_PK_BYTES];
	int npos;

	if (ww_opts_parse(agent_opts, argc, argv, &a, NULL, 0, &npos) || !a.name || !a.pub ||
	    !a.conn.endpoints)
		return ww_usage(&ww_cmd_agent);
	if (a.name)
		name = a.name;
	if (a.pub)
		pub = a.pub;
	if (a.state_dir)
		state_dir = a.state_dir;
	if (a.bpffs)
		bpffs = a.bpffs;
	if (a.ttl)
		ttl = a.ttl;
	once = a.once;
	if (a.every)
		every = a.every;
	no_evidence = a.no_evidence;
	conn = a.conn;
	long t = ttl ? strtol(ttl, NULL, 10) : 10;
	if (t < 2 || t > 3600) {
		ww_errorf("agent: --ttl %s: expected 2-3600 seconds", ttl);
		return WW_EXIT_USAGE;
	}
	char *end = NULL;
	long ev = every ? strtol(every, &end, 10) : 3600;
	if (every && (*end || ev < 0 || ev > 86400 * 31)) {
		ww_errorf("agent: --evidence-every %s: expected 0 (once per generation) to 2678400 "
			  "seconds",
			  every);
		return WW_EXIT_USAGE;
	}
	if (ww_ev_pub_load(pub, pk, &err)) {
		ww_errorf("agent: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ww_agent_opts o = {.conn = &conn, .name = name, .pk = pk, .state_dir = state_dir,
				  .bpffs = bpffs, .ttl = (int)t, .once = once, .stop = &stop,
				  .no_evidence = no_evidence, .evidence_every = (int)ev};
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
