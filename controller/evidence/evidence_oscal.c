// SPDX-License-Identifier: GPL-2.0-only
/*
 * oscal.json: the model as OSCAL 1.1.3 assessment results, for compliance tooling. One result
 * covers the window; its observations are what the kernel showed (drift, each flow's counters,
 * denials, the history, each invariant's proof); its findings say, per NIS2/CIR mapping, whether
 * those observations meet it. Evidence files are pinned by sha256 in the back matter.
 *
 * UUIDs are version 5 style: derived from a sha256 of the export's identity and the object's
 * name, so printing the same model twice gives the same bytes.
 */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

#define NS "urn:wardwall:evidence"

struct oscal {
	const struct ww_evidence *ev;
	struct ww_jw w;
	char seed[512];
};

static void uuid_of(const struct oscal *o, const char *name, char out[37])
{
	char *s = xstrdup_printf("%s|%s", o->seed, name);
	uint8_t b[16];
	char hex[65];

	sha256_hex(s ? s : name, s ? strlen(s) : strlen(name), hex);
	free(s);
	for (int i = 0; i < 16; i++) {
		unsigned int v;
		sscanf(hex + 2 * i, "%2x", &v);
		b[i] = (uint8_t)v;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x50); /* version 5 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

static void uuid_member(struct oscal *o, const char *key, const char *name)
{
	char u[37];

	uuid_of(o, name, u);
	ww_jw_str(&o->w, key, u);
}

static void href_member(struct oscal *o, const char *key, const char *name)
{
	char u[37], h[40];

	uuid_of(o, name, u);
	snprintf(h, sizeof(h), "#%s", u);
	ww_jw_str(&o->w, key, h);
}

/* A props array: OSCAL strings may not be empty or start or end with white space, and an array
 * may not be empty, so values are gathered first and only valid ones printed. */
struct plist {
	size_t n;
	const char *name[12];
	const char *val[12];
	char num[12][24];
};

static void pl_reset(struct plist *p)
{
	p->n = 0;
}

static void pl_add(struct plist *p, const char *name, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (!n || v[0] == ' ' || v[n - 1] == ' ' || p->n >= ARRAY_SIZE(p->name))
		return;
	p->name[p->n] = name;
	p->val[p->n++] = v;
}

static void pl_addu(struct plist *p, const char *name, uint64_t v)
{
	if (p->n >= ARRAY_SIZE(p->name))
		return;
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%llu", (unsigned long long)v);
	pl_add(p, name, p->num[p->n]);
}

static void pl_emit(struct oscal *o, const struct plist *p)
{
	if (!p->n)
		return;
	ww_jw_arr(&o->w, "props");
	for (size_t i = 0; i < p->n; i++) {
		ww_jw_obj(&o->w, NULL);
		ww_jw_str(&o->w, "name", p->name[i]);
		ww_jw_str(&o->w, "ns", NS);
		ww_jw_str(&o->w, "value", p->val[i]);
		ww_jw_end_obj(&o->w);
	}
	ww_jw_end_arr(&o->w);
}

static void evidence_link(struct oscal *o, const char *file, const char *what)
{
	ww_jw_arr(&o->w, "relevant-evidence");
	ww_jw_obj(&o->w, NULL);
	char name[64];
	snprintf(name, sizeof(name), "resource/%s", file);
	href_member(o, "href", name);
	ww_jw_str(&o->w, "description", what);
	ww_jw_end_obj(&o->w);
	ww_jw_end_arr(&o->w);
}

static void subject(struct oscal *o, const char *component, const char *title)
{
	char name[64];

	snprintf(name, sizeof(name), "component/%s", component);
	ww_jw_arr(&o->w, "subjects");
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "subject-uuid", name);
	ww_jw_str(&o->w, "type", "component");
	ww_jw_str(&o->w, "title", title);
	ww_jw_end_obj(&o->w);
	ww_jw_end_arr(&o->w);
}

/* An observation's common head: uuid, title, description, methods, types. */
static void obs_open(struct oscal *o, const char *name, const char *title, const char *desc)
{
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "uuid", name);
	ww_jw_str(&o->w, "title", title);
	ww_jw_str(&o->w, "description", desc);
	ww_jw_arr(&o->w, "methods");
	ww_jw_str(&o->w, NULL, "TEST");
	ww_jw_end_arr(&o->w);
	ww_jw_arr(&o->w, "types");
	ww_jw_str(&o->w, NULL, "control-objective");
	ww_jw_end_arr(&o->w);
}

static void obs_close(struct oscal *o)
{
	ww_jw_time(&o->w, "collected", o->ev->time);
	ww_jw_end_obj(&o->w);
}

/* The nftables component's title: the table the kernel holds (bridge mode: table bridge). */
static const char *nft_title(const struct ww_collect *c)
{
	return c->live && c->live->family == NFR_BRIDGE ? "nftables table bridge wardwall"
							 : "nftables table inet wardwall";
}

static void components(struct oscal *o)
{
	struct plist pl = {0};
	const struct ww_evidence *ev = o->ev;
	const struct ww_collect *c = ev->c;
	struct strbuf d = {0};

	ww_jw_obj(&o->w, "local-definitions");
	ww_jw_arr(&o->w, "components");
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "uuid", "component/nftables");
	ww_jw_str(&o->w, "type", "software");
	ww_jw_str(&o->w, "title", nft_title(c));
	sb_addf(&d, "The nftables tier on %s: %s.", ev->hostname,
		c->live ? "read back from the kernel over netlink" : "no table is loaded");
	ww_jw_str(&o->w, "description", sb_str(&d));
	pl_reset(&pl);
	pl_add(&pl, "ruleset-sha256", ev->nft_sha256);
	pl_add(&pl, "expected-ruleset-sha256", ev->nft_expected_sha256);
	pl_emit(o, &pl);
	ww_jw_obj(&o->w, "status");
	ww_jw_str(&o->w, "state", c->live ? "operational" : "other");
	ww_jw_end_obj(&o->w);
	ww_jw_end_obj(&o->w);

	sb_reset(&d);
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "uuid", "component/xdp");
	ww_jw_str(&o->w, "type", "software");
	ww_jw_str(&o->w, "title", "wardwall XDP program");
	sb_addf(&d, "The XDP tier on %s: %s.", ev->hostname,
		c->has_xdp ? "program, links and maps read from the pinned BPF objects"
			   : "nothing is pinned");
	ww_jw_str(&o->w, "description", sb_str(&d));
	pl_reset(&pl);
	pl_add(&pl, "program-tag", c->has_xdp ? c->xs.prog_tag : NULL);
	pl_add(&pl, "maps-sha256", ev->xdp_maps_sha256);
	pl_emit(o, &pl);
	ww_jw_obj(&o->w, "status");
	ww_jw_str(&o->w, "state", c->has_xdp ? "operational" : "other");
	ww_jw_end_obj(&o->w);
	ww_jw_end_obj(&o->w);

	sb_reset(&d);
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "uuid", "component/policy");
	ww_jw_str(&o->w, "type", "policy");
	if (c->gen.gen)
		sb_addf(&d, "policy %s, generation %lu", c->gen.policy_name, c->gen.gen);
	else
		sb_add(&d, "no applied policy");
	ww_jw_str(&o->w, "title", sb_str(&d));
	ww_jw_str(&o->w, "description",
		  "The segmentation policy the kernel is compared with: zones, flows with owners "
		  "and tickets, invariants.");
	pl_reset(&pl);
	pl_add(&pl, "policy-sha256", ev->policy_sha256);
	pl_emit(o, &pl);
	ww_jw_obj(&o->w, "status");
	ww_jw_str(&o->w, "state", c->applied ? "operational" : "other");
	ww_jw_end_obj(&o->w);
	ww_jw_end_obj(&o->w);
	ww_jw_end_arr(&o->w);
	ww_jw_end_obj(&o->w);
	sb_free(&d);
}

/* Whether the kernel still holds the applied generation. */
static void obs_drift(struct oscal *o)
{
	const struct ww_evidence *ev = o->ev;
	struct plist pl = {0};
	struct strbuf d = {0};

	if (ev->in_sync)
		sb_addf(&d,
			"The kernel's ruleset equals generation %lu compiled again (nftables "
			"sha256 %s).",
			ev->c->gen.gen, ev->nft_sha256);
	else
		sb_addf(&d,
			"The kernel differs from the applied generation in %zu place%s; see "
			"evidence.json kernel.drift.",
			ev->ndrift, ev->ndrift == 1 ? "" : "s");
	obs_open(o, "observation/drift", "Drift of the kernel from the applied policy", sb_str(&d));
	pl_add(&pl, "in-sync", ev->in_sync ? "true" : "false");
	pl_addu(&pl, "differences", ev->ndrift);
	pl_add(&pl, "ruleset-sha256", ev->nft_sha256);
	pl_emit(o, &pl);
	subject(o, "nftables", nft_title(o->ev->c));
	evidence_link(o, "evidence.json", "kernel: digests, drift");
	obs_close(o);
	sb_free(&d);
}

/* The recorded changes and their hash chain. */
static void obs_history(struct oscal *o)
{
	const struct ww_evidence *ev = o->ev;
	struct plist pl = {0};
	struct strbuf d = {0};

	sb_addf(&d, "%zu recorded change%s of the enforced policy; the hash chain %s.",
		ev->nhistory, ev->nhistory == 1 ? "" : "s",
		ev->history_ok ? "verifies" : "does not verify");
	obs_open(o, "observation/history", "History of applies and rollbacks", sb_str(&d));
	pl_add(&pl, "history-verified", ev->history_ok ? "true" : "false");
	pl_addu(&pl, "changes", ev->nhistory);
	pl_emit(o, &pl);
	subject(o, "policy", "the applied policy");
	evidence_link(o, "evidence.json", "history");
	obs_close(o);
	sb_free(&d);
}

/* What the nftables tier denied in the window. */
static void obs_denied(struct oscal *o)
{
	const struct ww_ev_denied *dn = &o->ev->tiers[WW_EV_NFT].denied;
	struct plist pl = {0};
	struct strbuf d = {0};

	sb_addf(&d, "%llu packets denied in the window by the nftables tier",
		(unsigned long long)dn->total);
	if (dn->nsrc)
		sb_addf(&d, "; most from zone %s (%llu)", dn->src[0].a,
			(unsigned long long)dn->src[0].packets);
	sb_addf(&d, ". %s", ww_ev_limits[0]);
	obs_open(o, "observation/denied", "Denied traffic per zone", sb_str(&d));
	pl_addu(&pl, "denied-packets", dn->total);
	pl_emit(o, &pl);
	subject(o, "nftables", nft_title(o->ev->c));
	evidence_link(o, "evidence.json", "denied, matrix, defaults");
	obs_close(o);
	sb_free(&d);
}

/* One flow's counters in the window. */
static void obs_flow(struct oscal *o, const struct ww_ev_flow *f)
{
	struct plist pl = {0};
	struct strbuf d = {0};
	char name[128], title[96];

	sb_addf(&d, "Flow %s", f->st->id);
	if (f->flow)
		sb_addf(&d, " (%s, owner %s, ticket %s)", ww_flow_action_str(f->flow),
			f->flow->owner ? f->flow->owner : "none",
			f->flow->ticket ? f->flow->ticket : "none");
	if (f->nft.present)
		sb_addf(&d, ": %llu packets, %llu bytes in the window (nftables)",
			(unsigned long long)f->nft.win_packets,
			(unsigned long long)f->nft.win_bytes);
	else
		sb_add(&d, ": no nftables counter");
	if (f->xdp.present)
		sb_addf(&d, "; %llu packets (XDP)", (unsigned long long)f->xdp.win_packets);
	sb_add(&d, ".");
	snprintf(name, sizeof(name), "observation/flow/%s", f->st->id);
	snprintf(title, sizeof(title), "Flow %s", f->st->id);
	obs_open(o, name, title, sb_str(&d));
	pl_add(&pl, "flow-id", f->st->id);
	if (f->nft.present) {
		pl_addu(&pl, "nftables-window-packets", f->nft.win_packets);
		pl_addu(&pl, "nftables-window-bytes", f->nft.win_bytes);
	}
	if (f->xdp.present) {
		pl_addu(&pl, "xdp-window-packets", f->xdp.win_packets);
		pl_addu(&pl, "xdp-window-bytes", f->xdp.win_bytes);
	}
	if (f->flow)
		pl_add(&pl, "action", ww_flow_action_str(f->flow));
	pl_emit(o, &pl);
	subject(o, "nftables", nft_title(o->ev->c));
	evidence_link(o, "evidence.json", "flows");
	obs_close(o);
	sb_free(&d);
}

/* Invariant i's proof on the applied policy, and whether the kernel enforces it. */
static void obs_invariant(struct oscal *o, size_t i)
{
	const struct ww_evidence *ev = o->ev;
	const struct ww_invariant *iv = &ev->c->applied->invs[i];
	const struct ww_ev_monitor_inv *m = ev->minv ? &ev->minv[i] : NULL;
	bool notenf = ev->inv[i].holds && m && !m->enforced;
	struct plist pl = {0};
	struct strbuf d = {0};
	char name[128], title[96];

	sb_addf(&d, "Invariant %s (expect %s) %s on the applied policy", iv->id,
		ww_action_str(iv->expect), ev->inv[i].holds ? "holds" : "does not hold");
	if (notenf) {
		sb_add(&d, ", but is NOT ENFORCED: it holds only because of monitor mode (");
		ww_ev_monitor_why(ev, m->zones, m->nzones, m->flows, m->nflows, m->passed, &d);
		sb_add(&d, ")");
	}
	if (ev->inv[i].detail)
		sb_addf(&d, ": %s", ev->inv[i].detail);
	else
		sb_add(&d, ".");
	snprintf(name, sizeof(name), "observation/invariant/%s", iv->id);
	snprintf(title, sizeof(title), "Invariant %s", iv->id);
	obs_open(o, name, title, sb_str(&d));
	pl_add(&pl, "invariant-id", iv->id);
	pl_add(&pl, "holds", ev->inv[i].holds ? "true" : "false");
	pl_add(&pl, "enforced", m && m->enforced ? "true" : "false");
	pl_emit(o, &pl);
	subject(o, "policy", "the applied policy");
	evidence_link(o, "evidence.json", "invariants");
	obs_close(o);
	sb_free(&d);
}

static void observations(struct oscal *o)
{
	ww_jw_arr(&o->w, "observations");
	obs_drift(o);
	obs_history(o);
	obs_denied(o);
	for (size_t i = 0; i < o->ev->nflows; i++)
		obs_flow(o, &o->ev->flows[i]);
	for (size_t i = 0; i < o->ev->ninv; i++)
		obs_invariant(o, i);
	ww_jw_end_arr(&o->w);
}

static void related(struct oscal *o, const char *const *names, size_t n)
{
	ww_jw_arr(&o->w, "related-observations");
	for (size_t i = 0; i < n; i++) {
		ww_jw_obj(&o->w, NULL);
		uuid_member(o, "observation-uuid", names[i]);
		ww_jw_end_obj(&o->w);
	}
	ww_jw_end_arr(&o->w);
}

static void findings(struct oscal *o)
{
	const struct ww_evidence *ev = o->ev;
	static const char *const obs[] = {"observation/drift", "observation/history",
					  "observation/denied"};

	ww_jw_arr(&o->w, "findings");
	for (size_t i = 0; i < ww_ev_nmappings; i++) {
		const struct ww_ev_mapping *m = &ww_ev_mappings[i];
		struct strbuf why = {0}, d = {0};
		char name[64];
		enum ww_ev_status st = ww_ev_mapping_status(ev, i, &why);
		bool met = st == WW_EV_MET;
		snprintf(name, sizeof(name), "finding/%s", m->id);
		sb_addf(&d, "%s Result: %s%s.", m->what,
			st == WW_EV_NOT_ENFORCED ? "NOT ENFORCED (monitor mode): " : "",
			sb_str(&why));
		ww_jw_obj(&o->w, NULL);
		uuid_member(o, "uuid", name);
		ww_jw_str(&o->w, "title", m->title);
		ww_jw_str(&o->w, "description", sb_str(&d));
		ww_jw_obj(&o->w, "target");
		ww_jw_str(&o->w, "type", "objective-id");
		ww_jw_str(&o->w, "target-id", m->id);
		ww_jw_obj(&o->w, "status");
		ww_jw_str(&o->w, "state", met ? "satisfied" : "not-satisfied");
		ww_jw_str(&o->w, "reason", met ? "pass" : "fail");
		ww_jw_end_obj(&o->w);
		ww_jw_end_obj(&o->w);
		related(o, obs, ARRAY_SIZE(obs));
		ww_jw_end_obj(&o->w);
		sb_free(&why);
		sb_free(&d);
	}
	ww_jw_end_arr(&o->w);
}

static const char *media_type(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot && !strcmp(dot, ".json"))
		return "application/json";
	if (dot && !strcmp(dot, ".html"))
		return "text/html";
	if (dot && !strcmp(dot, ".pub"))
		return "application/x-pem-file";
	return "application/octet-stream";
}

static void back_matter(struct oscal *o, const char *const *files, const char (*sha256)[65],
			size_t nfiles)
{
	ww_jw_obj(&o->w, "back-matter");
	ww_jw_arr(&o->w, "resources");
	ww_jw_obj(&o->w, NULL);
	uuid_member(o, "uuid", "resource/no-plan");
	ww_jw_str(&o->w, "title", "No assessment plan");
	ww_jw_str(&o->w, "description",
		  "These results come from `wardwall evidence export`, a tool-driven collection "
		  "from the kernel, not from an OSCAL assessment plan.");
	ww_jw_end_obj(&o->w);
	for (size_t i = 0; i < nfiles; i++) {
		char name[64];
		snprintf(name, sizeof(name), "resource/%s", files[i]);
		ww_jw_obj(&o->w, NULL);
		uuid_member(o, "uuid", name);
		ww_jw_str(&o->w, "title", files[i]);
		ww_jw_arr(&o->w, "rlinks");
		ww_jw_obj(&o->w, NULL);
		ww_jw_str(&o->w, "href", files[i]);
		ww_jw_str(&o->w, "media-type", media_type(files[i]));
		ww_jw_arr(&o->w, "hashes");
		ww_jw_obj(&o->w, NULL);
		ww_jw_str(&o->w, "algorithm", "SHA-256");
		ww_jw_str(&o->w, "value", sha256[i]);
		ww_jw_end_obj(&o->w);
		ww_jw_end_arr(&o->w);
		ww_jw_end_obj(&o->w);
		ww_jw_end_arr(&o->w);
		ww_jw_end_obj(&o->w);
	}
	ww_jw_end_arr(&o->w);
	ww_jw_end_obj(&o->w);
}

void ww_evidence_oscal(const struct ww_evidence *ev, const char *const *files,
		       const char (*sha256)[65], size_t nfiles, struct strbuf *out)
{
	struct plist pl = {0};
	struct oscal o = {.ev = ev, .w = {.out = out}};
	const struct ww_collect *c = ev->c;
	char tb[WW_TIME_STRLEN], buf[256];
	struct strbuf t = {0};

	snprintf(o.seed, sizeof(o.seed), "%s|%lld|%lu|%s", ev->hostname, (long long)ev->time,
		 ev->seq, ev->prev_sha256);
	ww_jw_obj(&o.w, NULL);
	ww_jw_obj(&o.w, "assessment-results");
	uuid_member(&o, "uuid", "document");
	ww_jw_obj(&o.w, "metadata");
	sb_addf(&t, "wardwall evidence: %s on %s", c->gen.gen ? c->gen.policy_name : "no policy",
		ev->hostname);
	ww_jw_str(&o.w, "title", sb_str(&t));
	ww_jw_time(&o.w, "last-modified", ev->time);
	snprintf(buf, sizeof(buf), "bundle-%lu", ev->seq);
	ww_jw_str(&o.w, "version", buf);
	ww_jw_str(&o.w, "oscal-version", "1.1.3");
	pl_reset(&pl);
	pl_add(&pl, "hostname", ev->hostname);
	pl_add(&pl, "kernel-release", ev->uts.release);
	pl_add(&pl, "wardwall-version", ev->version);
	pl_addu(&pl, "bundle-seq", ev->seq);
	pl_add(&pl, "previous-manifest-sha256", ev->prev_sha256);
	pl_add(&pl, "key-sha256", ev->key_sha256);
	pl_emit(&o, &pl);
	ww_jw_end_obj(&o.w);
	ww_jw_obj(&o.w, "import-ap");
	href_member(&o, "href", "resource/no-plan");
	ww_jw_end_obj(&o.w);

	ww_jw_arr(&o.w, "results");
	ww_jw_obj(&o.w, NULL);
	uuid_member(&o, "uuid", "result");
	ww_jw_str(&o.w, "title", "Network segmentation as the kernel enforced and counted it");
	sb_reset(&t);
	sb_addf(&t,
		"What the kernel of %s enforced and counted from %s to %s (window basis: %s), "
		"compared with the applied policy.",
		ev->hostname, ev->start ? ww_time_str(ev->start, tb) : "the counters' start",
		ww_time_str(ev->time, buf), ev->basis);
	ww_jw_str(&o.w, "description", sb_str(&t));
	ww_jw_time(&o.w, "start", ev->start ? ev->start : ev->time);
	ww_jw_time(&o.w, "end", ev->time);
	pl_reset(&pl);
	pl_add(&pl, "window-basis", ev->basis);
	pl_add(&pl, "in-sync", ev->in_sync ? "true" : "false");
	pl_emit(&o, &pl);
	components(&o);
	ww_jw_obj(&o.w, "reviewed-controls");
	ww_jw_arr(&o.w, "control-selections");
	ww_jw_obj(&o.w, NULL);
	ww_jw_arr(&o.w, "include-controls");
	for (size_t i = 0; i < ww_ev_nmappings; i++) {
		ww_jw_obj(&o.w, NULL);
		ww_jw_str(&o.w, "control-id", ww_ev_mappings[i].id);
		ww_jw_end_obj(&o.w);
	}
	ww_jw_end_arr(&o.w);
	ww_jw_end_obj(&o.w);
	ww_jw_end_arr(&o.w);
	ww_jw_end_obj(&o.w);
	observations(&o);
	findings(&o);
	ww_jw_end_obj(&o.w);
	ww_jw_end_arr(&o.w);
	back_matter(&o, files, sha256, nfiles);
	ww_jw_end_obj(&o.w);
	ww_jw_end_obj(&o.w);
	sb_free(&t);
}
