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

int cmd_agent(int argc, char **argv)
{
	struct ww_fleet_conn conn = {0};
	const char *name = NULL, *pub = NULL, *state_dir = NULL, *bpffs = NULL, *ttl = NULL,
		   *every = NULL;
	bool once = false, no_evidence = false;
	struct ww_opt opts[] = {WW_FLEET_OPTS(conn),
				{"--name", &name, NULL},
				{"--publisher-key", &pub, NULL},
				{"--state-dir", &state_dir, NULL},
				{"--bpffs", &bpffs, NULL},
				{"--ttl", &ttl, NULL},
				{"--once", NULL, &once},
				{"--evidence-every", &every, NULL},
				{"--no-evidence", NULL, &no_evidence},
				{NULL, NULL, NULL}};
	struct strbuf err = {0};
	uint8_t pk[WW_EV_PK_BYTES];
	int npos;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos) || !name || !pub || !conn.endpoints)
		return ww_usage("agent");
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
