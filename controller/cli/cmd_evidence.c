// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall evidence: signed, chained bundles of what the kernel enforced and counted, for NIS2
 * (controller/evidence/evidence.h, docs/evidence.md).
 *   evidence keygen [--json] [--key-dir DIR] [--force] [--state-dir DIR]
 *   evidence export [--json] [--state-dir DIR] [--bpffs DIR] [--key FILE] [--out DIR]
 *                   [--since TIME] [--format json,oscal,html]
 *   evidence export --fleet --etcd URLS [--fleet-key KEY] [--publisher-key FILE.pub]
 *                   [--gateway-keys DIR] [--key FILE] [--out DIR] [etcd TLS and user options]
 *   evidence verify [--json] [--key FILE.pub] [--publisher-key FILE.pub] [--gateway-keys DIR]
 *                   BUNDLE...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "cli_fleet.h"
#include "collect.h"
#include "evidence.h"
#include "fleet_evidence.h"
#include "json.h"
#include "state.h"
#include "timeutil.h"

/* The state directory as ww_state_open resolves it (created if missing), or NULL. */
static char *state_dir_of(const char *arg, struct strbuf *err)
{
	struct ww_state *st = NULL;
	char *dir;

	if (ww_state_open(arg, false, &st, err))
		return NULL;
	dir = strdup(ww_state_dir(st));
	ww_state_close(st);
	return dir;
}

struct keygen_args {
	bool force, json;
	const char *key_dir, *state_arg;
};

static const struct ww_opt keygen_opts[] = {
	WW_STR("--key-dir", struct keygen_args, key_dir, "DIR"),
	WW_FLAG("--force", struct keygen_args, force),
	WW_FLAG("--json", struct keygen_args, json),
	WW_STR("--state-dir", struct keygen_args, state_arg, "DIR"),
	WW_OPT_END,
};

static int keygen(int argc, char **argv)
{
	struct keygen_args a = {0};
	struct strbuf err = {0};
	char fp[65], *dir = NULL, *state = NULL;
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(keygen_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_evidence);
	if (!a.key_dir) {
		state = state_dir_of(a.state_arg, &err);
		dir = state ? xstrdup_printf("%s/keys", state) : NULL;
		if (!dir) {
			ww_errorf("evidence keygen: %s", err.len ? sb_str(&err) : strerror(ENOMEM));
			goto out;
		}
		a.key_dir = dir;
	}
	if (ww_ev_keygen(a.key_dir, a.force, fp, &err)) {
		ww_errorf("evidence keygen: %s", sb_str(&err));
		goto out;
	}
	if (a.json) {
		struct strbuf o = {0};
		struct ww_jw w = {.out = &o, .compact = true};
		char *priv = xstrdup_printf("%s/evidence.key", a.key_dir);
		char *pub = xstrdup_printf("%s/evidence.pub", a.key_dir);
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "private_key", priv);
		ww_jw_str(&w, "public_key", pub);
		ww_jw_str(&w, "key_sha256", fp);
		ww_jw_end_obj(&w);
		fputs(sb_str(&o), stdout);
		sb_free(&o);
		free(priv);
		free(pub);
		rc = WW_EXIT_OK;
		goto out;
	}
	printf("wrote %s/evidence.key (private, mode 0600) and %s/evidence.pub\n"
	       "key sha256 %s\n"
	       "Give evidence.pub (or this sha256) to whoever verifies the bundles, by a channel "
	       "they trust.\n",
	       a.key_dir, a.key_dir, fp);
	rc = WW_EXIT_OK;
out:
	free(dir);
	free(state);
	sb_free(&err);
	return rc;
}

static void summary(const struct ww_evidence *ev, const char *dir, const struct ww_ev_written *w,
		    unsigned int formats)
{
	const struct ww_collect *c = ev->c;
	char a[WW_TIME_STRLEN], b[WW_TIME_STRLEN];
	uint64_t pk = 0, by = 0, def = 0;

	for (size_t i = 0; i < ev->nflows; i++) {
		pk += ev->flows[i].nft.win_packets;
		by += ev->flows[i].nft.win_bytes;
	}
	for (size_t i = 0; i < ev->ndefaults; i++)
		def += ev->defaults[i].nft.win_packets;
	printf("exported bundle %lu to %s:%s%s%s evidence.pub manifest.json manifest.sig\n", w->seq,
	       dir, formats & WW_EV_F_JSON ? " evidence.json" : "",
	       formats & WW_EV_F_OSCAL ? " oscal.json" : "",
	       formats & WW_EV_F_HTML ? " report.html" : "");
	printf("  window: %s to %s (%s", ev->start ? ww_time_str(ev->start, a) : "unknown",
	       ww_time_str(ev->time, b), ev->basis);
	if (ev->base)
		printf(", bundle %lu", ev->base->seq);
	printf(")\n");
	if (c->gen.gen)
		printf("  policy: %s, generation %lu, sha256 %s\n", c->gen.policy_name, c->gen.gen,
		       c->gen.policy_sha256);
	else
		printf("  policy: none recorded\n");
	if (ev->in_sync)
		printf("  kernel: in sync with generation %lu\n", c->gen.gen);
	else
		printf("  kernel: DIFFERS from the applied policy (%zu difference%s, see "
		       "evidence.json kernel.drift)\n",
		       ev->ndrift, ev->ndrift == 1 ? "" : "s");
	printf("  counted (nftables): %zu flows, %llu packets, %llu bytes; %llu packets by the "
	       "defaults, %llu denied\n",
	       ev->nflows, (unsigned long long)pk, (unsigned long long)by, (unsigned long long)def,
	       (unsigned long long)ev->tiers[WW_EV_NFT].denied.total);
	if (c->has_xdp)
		printf("  xdp: program tag %s, %zu links, %llu packets denied\n", c->xs.prog_tag,
		       c->xs.nlinks, (unsigned long long)ev->tiers[WW_EV_XDP].denied.total);
	if (*ev->prev_sha256)
		printf("  chain: follows bundle %lu (manifest sha256 %s)\n", ev->seq - 1,
		       ev->prev_sha256);
	else
		printf("  chain: first bundle\n");
	printf("  manifest sha256 %s, signed by key %s\n", w->manifest_sha256, ev->key_sha256);
}

/* The summary as one JSON object (export --json). */
static void summary_json(const struct ww_evidence *ev, const char *dir,
			 const struct ww_ev_written *w, unsigned int formats)
{
	const struct ww_collect *c = ev->c;
	struct strbuf o = {0};
	struct ww_jw jw = {.out = &o, .compact = true};
	const char *files[] = {"evidence.json", "oscal.json", "report.html", "evidence.pub",
			       "manifest.json", "manifest.sig"};
	const bool has[] = {formats & WW_EV_F_JSON, formats & WW_EV_F_OSCAL, formats & WW_EV_F_HTML,
			    true, true, true};
	uint64_t pk = 0, by = 0, def = 0;

	for (size_t i = 0; i < ev->nflows; i++) {
		pk += ev->flows[i].nft.win_packets;
		by += ev->flows[i].nft.win_bytes;
	}
	for (size_t i = 0; i < ev->ndefaults; i++)
		def += ev->defaults[i].nft.win_packets;
	ww_jw_obj(&jw, NULL);
	ww_jw_u64(&jw, "bundle", w->seq);
	ww_jw_str(&jw, "dir", dir);
	ww_jw_arr(&jw, "files");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (has[i])
			ww_jw_str(&jw, NULL, files[i]);
	ww_jw_end_arr(&jw);
	ww_jw_obj(&jw, "window");
	ww_jw_time(&jw, "start", ev->start);
	ww_jw_time(&jw, "end", ev->time);
	ww_jw_str(&jw, "basis", ev->basis);
	ww_jw_end_obj(&jw);
	if (c->gen.gen) {
		ww_jw_obj(&jw, "policy");
		ww_jw_str(&jw, "name", c->gen.policy_name);
		ww_jw_u64(&jw, "generation", c->gen.gen);
		ww_jw_str(&jw, "sha256", c->gen.policy_sha256);
		ww_jw_end_obj(&jw);
	} else {
		ww_jw_null(&jw, "policy");
	}
	ww_jw_bool(&jw, "in_sync", ev->in_sync);
	ww_jw_u64(&jw, "drift", ev->ndrift);
	ww_jw_obj(&jw, "counted");
	ww_jw_u64(&jw, "flows", ev->nflows);
	ww_jw_u64(&jw, "packets", pk);
	ww_jw_u64(&jw, "bytes", by);
	ww_jw_u64(&jw, "default_packets", def);
	ww_jw_u64(&jw, "denied", ev->tiers[WW_EV_NFT].denied.total);
	if (c->has_xdp)
		ww_jw_u64(&jw, "xdp_denied", ev->tiers[WW_EV_XDP].denied.total);
	ww_jw_end_obj(&jw);
	ww_jw_str(&jw, "previous_manifest_sha256", *ev->prev_sha256 ? ev->prev_sha256 : NULL);
	ww_jw_str(&jw, "manifest_sha256", w->manifest_sha256);
	ww_jw_str(&jw, "key_sha256", ev->key_sha256);
	ww_jw_end_obj(&jw);
	fputs(sb_str(&o), stdout);
	sb_free(&o);
}

/* evidence export --fleet: every gateway's bundle from etcd, with a signed fleet summary. */
struct export_fleet_args {
	bool fleet, json;
	struct ww_fleet_conn conn;
	const char *pub, *gwkeys, *state_arg, *key, *out;
};

/* The etcd options of cli_fleet.h but --fleet-key for the prefix, and --etcd checked after
 * parsing (its own message). */
static const struct ww_opt export_fleet_opts[] = {
	WW_FLAG("--fleet", struct export_fleet_args, fleet, .required = true), /* the form's mark */
	WW_FLAG("--json", struct export_fleet_args, json),
	WW_STR("--etcd", struct export_fleet_args, conn.endpoints, "URLS"),
	WW_STR("--fleet-key", struct export_fleet_args, conn.prefix, "PREFIX"),
	WW_STR("--etcd-cacert", struct export_fleet_args, conn.cacert, "CA"),
	WW_STR("--etcd-cert", struct export_fleet_args, conn.cert, "CERT"),
	WW_STR("--etcd-key", struct export_fleet_args, conn.key, "KEY"),
	WW_STR("--etcd-user", struct export_fleet_args, conn.user, "USER"),
	WW_STR("--etcd-password-file", struct export_fleet_args, conn.password_file, "FILE"),
	WW_STR("--publisher-key", struct export_fleet_args, pub, "FILE.pub"),
	WW_STR("--gateway-keys", struct export_fleet_args, gwkeys, "DIR"),
	WW_STR("--state-dir", struct export_fleet_args, state_arg, "DIR"),
	WW_STR("--key", struct export_fleet_args, key, "FILE"),
	WW_STR("--out", struct export_fleet_args, out, "DIR"),
	WW_OPT_END,
};

/* The default bundle directory: <state>/evidence/fleet-<time, without - and :>, or NULL. */
static char *fleet_out_dir(const char *state)
{
	char tb[WW_TIME_STRLEN], stamp[WW_TIME_STRLEN];
	size_t k = 0;
	char *parent = xstrdup_printf("%s/evidence", state);

	ww_time_str(ww_now(), tb);
	for (const char *p = tb; *p; p++)
		if (*p != '-' && *p != ':')
			stamp[k++] = *p;
	stamp[k] = '\0';
	if (parent)
		mkdir(parent, 0750);
	free(parent);
	return xstrdup_printf("%s/evidence/fleet-%s", state, stamp);
}

/* export --fleet --json: the summary as one object (the gaps, one per line, as an array). */
static void fleet_summary_json(const char *dir, bool checked, struct ww_fleet_ev_result *res)
{
	struct strbuf o = {0};
	struct ww_jw jw = {.out = &o, .compact = true};

	ww_jw_obj(&jw, NULL);
	ww_jw_str(&jw, "dir", dir);
	ww_jw_u64(&jw, "generation", res->generation);
	ww_jw_str(&jw, "signature", checked ? res->signature : "not-checked");
	ww_jw_u64(&jw, "gateways", res->ngws);
	ww_jw_u64(&jw, "expected", res->nexpected);
	ww_jw_u64(&jw, "reported", res->nreported);
	ww_jw_u64(&jw, "converged", res->nconverged);
	ww_jw_u64(&jw, "evidence_of_published", res->nevidence);
	ww_jw_arr(&jw, "not_accounted_for");
	for (char *l = res->gaps.s, *nl; l && *l; l = nl + 1) {
		nl = strchr(l, '\n');
		*nl = '\0';
		ww_jw_str(&jw, NULL, l);
	}
	ww_jw_end_arr(&jw);
	ww_jw_str(&jw, "manifest_sha256", res->manifest_sha256);
	ww_jw_end_obj(&jw);
	fputs(sb_str(&o), stdout);
	sb_free(&o);
}

static void fleet_summary(const char *dir, bool checked, const struct ww_fleet_ev_result *res)
{
	printf("exported the fleet bundle to %s: fleet.json evidence.pub%s manifest.json "
	       "manifest.sig, gateways/ (%zu bundle%s)\n",
	       dir, res->generation ? " policy.record" : "", res->ngws, res->ngws == 1 ? "" : "s");
	printf("  published: generation %lu, signature %s\n", res->generation,
	       checked ? res->signature : "NOT checked (give --publisher-key)");
	printf("  gateways: %zu expected, %zu reported, %zu converged, %zu with signed evidence of "
	       "the published generation\n",
	       res->nexpected, res->nreported, res->nconverged, res->nevidence);
	for (const char *l = res->gaps.s, *nl; l && *l; l = nl + 1) {
		nl = strchr(l, '\n');
		printf("  NOT ACCOUNTED FOR %.*s\n", (int)(nl - l), l);
	}
	printf("  manifest sha256 %s\n", res->manifest_sha256);
}

static int export_fleet(int argc, char **argv)
{
	struct export_fleet_args a = {0};
	struct strbuf err = {0};
	struct ww_fleet_ev_result res = {0};
	uint8_t sk[WW_EV_SK_BYTES], ppk[WW_EV_PK_BYTES];
	char *keyp = NULL, *outp = NULL, *state = NULL;
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(export_fleet_opts, argc, argv, &a, NULL, 0, &npos) || !a.conn.endpoints) {
		ww_errorf("evidence export --fleet: --etcd URLS is required");
		return ww_usage(&ww_cmd_evidence);
	}
	if (a.pub && ww_ev_pub_load(a.pub, ppk, &err)) {
		ww_errorf("evidence export --fleet: %s", sb_str(&err));
		goto out;
	}
	if ((!a.key || !a.out) && !(state = state_dir_of(a.state_arg, &err))) {
		ww_errorf("evidence export --fleet: %s", sb_str(&err));
		goto out;
	}
	keyp = a.key ? strdup(a.key) : xstrdup_printf("%s/keys/evidence.key", state);
	if (!keyp || ww_ev_key_load(keyp, sk, &err)) {
		ww_errorf("evidence export --fleet: %s", keyp ? sb_str(&err) : strerror(ENOMEM));
		goto out;
	}
	if (!a.out)
		a.out = outp = fleet_out_dir(state);
	struct ww_fleet_ev_opts o = {.conn = &a.conn, .publisher_pk = a.pub ? ppk : NULL,
				     .gateway_keys = a.gwkeys, .sk = sk, .out = a.out,
				     .now = ww_now()};
	if (!a.out || ww_fleet_evidence_export(&o, &res, &err)) {
		ww_errorf("evidence export --fleet: %s", a.out ? sb_str(&err) : strerror(ENOMEM));
		goto out;
	}
	if (a.json)
		fleet_summary_json(a.out, a.pub != NULL, &res);
	else
		fleet_summary(a.out, a.pub != NULL, &res);
	rc = WW_EXIT_OK;
out:
	sodium_memzero(sk, sizeof(sk));
	sb_free(&res.gaps);
	sb_free(&err);
	free(keyp);
	free(outp);
	free(state);
	return rc;
}

struct export_args {
	bool json;
	const char *state_arg, *bpffs, *key, *out, *since_s, *format;
};

static const struct ww_opt export_opts[] = {
	WW_STR("--state-dir", struct export_args, state_arg, "DIR"),
	WW_FLAG("--json", struct export_args, json),
	WW_STR("--bpffs", struct export_args, bpffs, "DIR"),
	WW_STR("--key", struct export_args, key, "FILE"),
	WW_STR("--out", struct export_args, out, "DIR"),
	WW_STR("--since", struct export_args, since_s, "TIME"),
	WW_STR("--format", struct export_args, format, "json,oscal,html"),
	WW_OPT_END,
};

static int export(int argc, char **argv)
{
	struct export_args a = {.format = "json,oscal,html"};
	struct strbuf err = {0}, said = {0};
	struct ww_ev_export x;
	unsigned int formats;
	int64_t since = 0;
	int npos, rc = WW_EXIT_USAGE;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--fleet"))
			return export_fleet(argc, argv);
	if (ww_opts_parse(export_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_evidence);
	if (a.since_s && ww_time_arg("--since", a.since_s, &since))
		return WW_EXIT_USAGE;
	if (ww_ev_formats_parse(a.format, &formats, &err)) {
		ww_errorf("evidence export: --format: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	ww_cli_recover(a.state_arg, a.bpffs);
	struct ww_ev_export_opts o = {.state_dir = a.state_arg, .bpffs = a.bpffs, .key = a.key,
				      .out = a.out, .since = since, .formats = formats};
	int ret = ww_evidence_export(&o, &x, &said, &err);
	/* An export killed after chaining its bundle was put in place first: said so. */
	for (char *l = said.s, *nl; l && *l; l = nl + 1) {
		nl = strchr(l, '\n');
		*nl = '\0';
		ww_errorf("evidence export: %s", l);
	}
	if (ret) {
		ww_errorf("evidence export: %s", sb_str(&err));
	} else {
		if (a.json)
			summary_json(&x.ev, x.dir, &x.w, formats);
		else
			summary(&x.ev, x.dir, &x.w, formats);
		ww_ev_export_free(&x);
		rc = WW_EXIT_OK;
	}
	sb_free(&said);
	sb_free(&err);
	return rc;
}

static void print_prefixed(FILE *f, const char *prefix, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		fprintf(f, "%s%.*s\n", prefix, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* Each line of text as one string of an array. */
static void lines_json(struct ww_jw *w, const char *key, const char *text)
{
	ww_jw_arr(w, key);
	while (*text) {
		size_t n = strcspn(text, "\n");
		char *l = strndup(text, n);
		if (l)
			ww_jw_str(w, NULL, l);
		free(l);
		text += n + (text[n] == '\n');
	}
	ww_jw_end_arr(w);
}

/* verify --json: {"verified", "bundles", "failures", "checked": [...], "failed": [...],
 * "warnings": [...], "chain_checked", "key_sha256"}. */
static void verify_json(int nbundles, int fails, const uint8_t *pk, bool unchecked,
			const struct strbuf *out, const struct strbuf *bad,
			const struct strbuf *warn)
{
	struct strbuf o = {0};
	struct ww_jw w = {.out = &o, .compact = true};
	char fp[65];

	ww_jw_obj(&w, NULL);
	ww_jw_bool(&w, "verified", !fails);
	ww_jw_u64(&w, "bundles", (uint64_t)nbundles);
	ww_jw_u64(&w, "failures", (uint64_t)fails);
	lines_json(&w, "checked", sb_str(out));
	lines_json(&w, "failed", sb_str(bad));
	lines_json(&w, "warnings", sb_str(warn));
	ww_jw_bool(&w, "chain_checked", !unchecked);
	if (pk)
		ww_ev_fingerprint(pk, fp);
	ww_jw_str(&w, "key_sha256", pk ? fp : NULL);
	ww_jw_end_obj(&w);
	fputs(sb_str(&o), stdout);
	sb_free(&o);
}

struct verify_args {
	bool json;
	const char *key, *pub, *gwkeys;
};

static const struct ww_opt verify_opts[] = {
	WW_STR("--key", struct verify_args, key, "FILE.pub"),
	WW_FLAG("--json", struct verify_args, json),
	WW_STR("--publisher-key", struct verify_args, pub, "FILE.pub"),
	WW_STR("--gateway-keys", struct verify_args, gwkeys, "DIR"),
	WW_OPT_END,
};

static int verify(int argc, char **argv)
{
	struct verify_args a = {0};
	struct strbuf err = {0}, out = {0}, bad = {0}, warn = {0};
	uint8_t pk[WW_EV_PK_BYTES], ppk[WW_EV_PK_BYTES];
	char **pos = calloc((size_t)argc + 1, sizeof(*pos));
	int npos, fails, rc = WW_EXIT_USAGE;
	bool unchecked = false;

	if (!pos)
		return WW_EXIT_USAGE;
	if (ww_opts_parse(verify_opts, argc, argv, &a, pos, argc, &npos) || !npos) {
		free(pos);
		return ww_usage(&ww_cmd_evidence);
	}
	if (a.key && ww_ev_pub_load(a.key, pk, &err)) {
		ww_errorf("evidence verify: %s", sb_str(&err));
		goto out;
	}
	if (a.pub && ww_ev_pub_load(a.pub, ppk, &err)) {
		ww_errorf("evidence verify: %s", sb_str(&err));
		goto out;
	}
	fails = ww_evidence_verify((const char *const *)pos, (size_t)npos, a.key ? pk : NULL, &out,
				   &bad, &warn, &unchecked);
	/* a fleet bundle: the publisher's record and every gateway's bundle it pins */
	for (int i = 0; i < npos && fails >= 0; i++) {
		int f = ww_fleet_evidence_verify(pos[i], a.pub ? ppk : NULL, a.gwkeys, &out, &bad,
						 &warn);
		fails = f < 0 ? f : fails + f;
	}
	if (fails < 0) {
		ww_errorf("evidence verify: %s", strerror(-fails));
		goto out;
	}
	if (a.json) {
		verify_json(npos, fails, a.key ? pk : NULL, unchecked, &out, &bad, &warn);
		rc = fails ? WW_EXIT_INVALID : WW_EXIT_OK;
		goto out;
	}
	fputs(sb_str(&out), stdout);
	print_prefixed(stderr, "warning: ", sb_str(&warn));
	print_prefixed(stdout, "FAILED ", sb_str(&bad));
	if (fails) {
		printf("%d check%s failed in %d bundle%s\n", fails, fails == 1 ? "" : "s", npos,
		       npos == 1 ? "" : "s");
		rc = WW_EXIT_INVALID;
	} else {
		char fp[65];
		if (a.key)
			ww_ev_fingerprint(pk, fp);
		printf("verified %d bundle%s%s%s%s\n", npos, npos == 1 ? "" : "s",
		       a.key ? ", signed by key " : " (with the keys they carry)", a.key ? fp : "",
		       unchecked ? "; the chain was NOT checked: the first bundle's predecessor "
				   "was not given"
				 : "");
		rc = WW_EXIT_OK;
	}
out:
	free(pos);
	sb_free(&err);
	sb_free(&out);
	sb_free(&bad);
	sb_free(&warn);
	return rc;
}

/* The verbs, in the order the usage line shows them. */
static const struct ww_cmd verbs[] = {
	{"export", export, NULL, export_opts, NULL, NULL},
	/* The fleet's form: export sends --fleet on to export_fleet. */
	{"export", export, NULL, export_fleet_opts, NULL, NULL},
	{"verify", verify, NULL, verify_opts, "BUNDLE...", NULL},
	{"keygen", keygen, NULL, keygen_opts, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL},
};

static int cmd_evidence(int argc, char **argv)
{
	return ww_verbs_run(&ww_cmd_evidence, argc, argv);
}

const struct ww_cmd ww_cmd_evidence = {
	"evidence", cmd_evidence,
	"signed, chained NIS2 evidence of what the kernel enforced and counted", NULL, NULL, verbs,
};
