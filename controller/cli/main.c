// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/capability.h>

#include "cli.h"
#include "json.h"
#include "cli_fleet.h"
#include "siem_args.h"
#include "util.h"

/* libbpf's own warnings (a probe that needs CAP_BPF, ...) only with WARDWALL_DEBUG: wardwall
 * says what failed itself; the XDP loader collects the verifier's log on its own. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return getenv("WARDWALL_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* The commands that read or write the kernel, for the hint after a failure without rights. */
static bool kernel_cmd(const char *name)
{
	static const char *const k[] = {"show",   "plan",  "apply",  "rollback", "remove",
					"stats",  "metrics", "serve", "events",  "evidence"};

	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (!strcmp(name, k[i]))
			return true;
	return false;
}

#ifndef WW_VERSION
#define WW_VERSION "0.0.0"
#endif

const struct ww_cmd ww_cmds[] = {
	{"check", cmd_check, "check [--json] [--now TIME] POLICY",
	 "validate and analyse a policy; never touches the kernel"},
	{"query", cmd_query, "query [--json] [--at TIME] POLICY SRC DST PROTO[/PORT]",
	 "what the policy decides for one connection, and why"},
	{"render", cmd_render, "render [--json] POLICY", "print the nftables ruleset a policy compiles to"},
	{"show", cmd_show, "show [--json] [--state-dir DIR] [--bpffs DIR] | show --canonical POLICY",
	 "what the kernel enforces now, in policy terms; or a policy's canonical form"},
	{"plan", cmd_plan, "plan [--json] [--detailed-exitcode] [--state-dir DIR] [--bpffs DIR] POLICY",
	 "what apply would change in the kernel, in policy terms, and any drift"},
	{"apply", cmd_apply,
	 "apply [--json] [--force] [--confirm DURATION] [--state-dir DIR] [--bpffs DIR] POLICY",
	 "enforce a policy: one atomic transaction, nothing if unchanged; probes; commit confirmed"},
	{"confirm", cmd_confirm,
	 "confirm [--json] [--state-dir DIR] | confirm --guard --generation N [--state-dir DIR] "
	 "[--bpffs DIR]",
	 "keep the change of an apply --confirm (else it is rolled back at its deadline)"},
	{"rollback", cmd_rollback, "rollback [--json] [--force] [--to GENERATION] [--state-dir DIR] [--bpffs DIR]",
	 "re-apply the previous generation"},
	{"restore", cmd_restore, "restore [--json] [--state-dir DIR] [--bpffs DIR]",
	 "re-enforce the current generation (at boot); fail closed if it cannot be"},
	{"stats", cmd_stats,
	 "stats [--json] [--watch N] [--record] [--unused SINCE] [--state-dir DIR] [--bpffs DIR]",
	 "per-flow and default counters of both tiers; unused flows"},
	{"metrics", cmd_metrics, "metrics [--state-dir DIR] [--bpffs DIR]",
	 "Prometheus metrics on stdout (textfile collector)"},
	{"serve", cmd_serve,
	 "serve [--listen ADDR:PORT] [--detect on|off] [--max-connections N] [--request-timeout S] "
	 "[--send-timeout S] [--state-dir DIR] [--bpffs DIR] " WW_SIEM_USAGE,
	 "answer GET /metrics over HTTP (default 127.0.0.1:9469); record events, run the detectors"},
	{"events", cmd_events,
	 "events [--json] [--zone Z]... [--flow ID]... [--tier nftables|xdp] [--count N] "
	 "[--state-dir DIR] [--bpffs DIR]",
	 "logged decisions of both tiers as they happen, and what rate limits dropped"},
	{"alerts", cmd_alerts, "alerts [--json] [--since TIME] [--state-dir DIR] " WW_SIEM_USAGE,
	 "what the detectors raise over the events serve recorded (scan, lateral, new talker, flood)"},
	{"incident", cmd_incident,
	 "incident open --title TEXT [--aware TIME] [--since TIME] [--json] [--state-dir DIR] | "
	 "incident close [ID] [--state-dir DIR] | incident list [--json] [--state-dir DIR] | "
	 "incident report --stage early-warning|notification|final [--id ID] [--out DIR] "
	 "[--key FILE] [--json] [--state-dir DIR]",
	 "NIS2 Art. 23 incident records; drafts of the 24 h, 72 h and final reports, signed"},
	{"indicators", cmd_indicators,
	 "indicators export [--since TIME] [--until TIME] [--format stix|csv] [--identity NAME] "
	 "[--out FILE] [--state-dir DIR]",
	 "the recorded alerts as STIX 2.1 or CSV indicators for the sector's CSIRT or ISAC"},
	{"learn", cmd_learn, "learn --zone ZONE [--since TIME] [--out FILE] [--state-dir DIR]",
	 "propose the flows a monitor-mode zone needs, from what it was seen doing (check accepts it)"},
	{"evidence", cmd_evidence,
	 "evidence export [--json] [--state-dir DIR] [--bpffs DIR] [--key FILE] [--out DIR] "
	 "[--since TIME] [--format json,oscal,html] | evidence export --fleet [--json] --etcd URLS "
	 "[--fleet-key KEY] [--publisher-key FILE.pub] [--gateway-keys DIR] [--key FILE] "
	 "[--out DIR] [--etcd-cacert CA --etcd-cert CERT --etcd-key KEY] [--etcd-user USER "
	 "--etcd-password-file FILE] | evidence verify [--json] [--key FILE.pub] "
	 "[--publisher-key FILE.pub] [--gateway-keys DIR] BUNDLE... | evidence keygen [--json] "
	 "[--key-dir DIR] [--force] [--state-dir DIR]",
	 "signed, chained NIS2 evidence of what the kernel enforced and counted"},
	{"quarantine", cmd_quarantine,
	 "quarantine add TARGET [--keep FLOW]... [--until TIME|--for DURATION] --reason TEXT "
	 "[--ticket ID] [--strict] [--dry-run] [--force] [--json] [--state-dir DIR] [--bpffs DIR] | "
	 "quarantine list [--json] [--state-dir DIR] [--bpffs DIR] | "
	 "quarantine remove ID [--json] [--state-dir DIR] [--bpffs DIR] | "
	 "quarantine restore [--json] [--state-dir DIR] [--bpffs DIR]",
	 "isolate an address, prefix, host group or zone now, in both tiers (docs/incident.md)"},
	{"publish", cmd_publish,
	 "publish --sign-key FILE [--canary GW]... [--base GEN] [--json] " WW_FLEET_USAGE " POLICY",
	 "check, sign and publish a fleet policy to etcd (compare-and-swap on its generation)"},
	{"agent", cmd_agent,
	 "agent --name NAME --publisher-key FILE.pub [--state-dir DIR] [--bpffs DIR] [--ttl S] "
	 "[--once] [--evidence-every S | --no-evidence] " WW_FLEET_USAGE,
	 "enforce this gateway's part of the published fleet policy, and report its status"},
	{"fleet", cmd_fleet,
	 "fleet status [--json|--metrics] [--publisher-key FILE.pub] " WW_FLEET_USAGE " | fleet part POLICY GATEWAY",
	 "every gateway's generation, convergence, drift and last report; a gateway's part"},
	{"remove", cmd_remove, "remove [--json] [--state-dir DIR] [--bpffs DIR]", "delete wardwall's table"},
	{"doctor", cmd_doctor, "doctor [--json] [--bpffs DIR] [--interface IF]... [POLICY]",
	 "does this kernel have what wardwall needs? what is missing, and how to fix it"},
	{NULL, NULL, NULL, NULL},
};

static void help(FILE *f)
{
	fprintf(f, "usage: wardwall COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct ww_cmd *c = ww_cmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'wardwall help COMMAND' shows a command's usage. Exit codes: 0 success, "
		   "1 invalid policy, 2 usage or system error, 3 the kernel changed but recording it "
		   "failed.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return WW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		if (argc > 2 && !strcmp(argv[2], "--json")) {
			/* WW_VERSION is "<release> <commit>". */
			char release[32];
			const char *sp = strchr(WW_VERSION, ' ');
			struct strbuf o = {0};
			struct ww_jw w = {.out = &o, .compact = true};
			snprintf(release, sizeof(release), "%.*s",
				 sp ? (int)(sp - WW_VERSION) : (int)strlen(WW_VERSION), WW_VERSION);
			ww_jw_obj(&w, NULL);
			ww_jw_str(&w, "version", release);
			ww_jw_str(&w, "commit", sp ? sp + 1 : "");
			ww_jw_end_obj(&w);
			fputs(sb_str(&o), stdout);
			sb_free(&o);
			return WW_EXIT_OK;
		}
		printf("wardwall %s\n", WW_VERSION);
		return WW_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2)
			for (const struct ww_cmd *c = ww_cmds; c->name; c++)
				if (!strcmp(c->name, argv[2])) {
					printf("usage: wardwall %s\n  %s\n", c->usage, c->summary);
					return WW_EXIT_OK;
				}
		help(stdout);
		return WW_EXIT_OK;
	}
	for (const struct ww_cmd *c = ww_cmds; c->name; c++) {
		if (strcmp(c->name, argv[1]))
			continue;
		/* `wardwall apply --help` as well as `wardwall help apply` */
		for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
			if (!strcmp(argv[i], "--json"))
				ww_cli_json_errors(true);
		for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				printf("usage: wardwall %s\n  %s\n", c->usage, c->summary);
				return WW_EXIT_OK;
			}
	{
		libbpf_set_print(libbpf_quiet);
		int rc = c->run(argc - 1, argv + 1);
		bool net = ww_has_cap(CAP_NET_ADMIN), bpf = ww_has_cap(CAP_BPF);
		if (rc && kernel_cmd(c->name) && (!net || !bpf))
			ww_errorf("hint: %s reads the kernel's ruleset and BPF objects: run it as root, "
				  "or with CAP_NET_ADMIN and CAP_BPF (this process lacks %s%s%s)",
				  c->name, net ? "" : "CAP_NET_ADMIN", !net && !bpf ? " and " : "",
				  bpf ? "" : "CAP_BPF");
		return rc;
	}
	}
	ww_errorf("unknown command \"%s\" (see 'wardwall help')", argv[1]);
	return WW_EXIT_USAGE;
}
