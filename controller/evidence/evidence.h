/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: NIS2 evidence. `wardwall evidence export` writes a bundle directory:
 *
 *   evidence.json   what the kernel enforced and counted over a window (docs/evidence.md)
 *   oscal.json      the same, as OSCAL 1.1.3 assessment results
 *   report.html     one self-contained page for people
 *   evidence.pub    the public key that signs the bundle (PEM)
 *   manifest.json   every file's sha256, and the sha256 of the previous bundle's manifest.json
 *   manifest.sig    the Ed25519 signature of manifest.json (base64)
 *
 * The pipeline: ww_collect() reads the kernel; ww_evidence_build() (evidence.c) turns that and
 * the previous export's record into a model (windows, zone matrix, control mapping); one printer
 * per format (evidence_json.c, evidence_oscal.c, evidence_html.c) prints the model;
 * evidence_bundle.c writes, chains and verifies bundles; evidence_sign.c holds the keys.
 *
 * Counts and enforcement come from the kernel. The recorded policy only lends names, owners,
 * tickets and controls, and is what the kernel is compared against.
 */
#ifndef WW_EVIDENCE_H
#define WW_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "analyse.h"
#include "collect.h"
#include "json.h"
#include "util.h"

#define WW_EVIDENCE_FORMAT "wardwall-evidence/1"
#define WW_MANIFEST_FORMAT "wardwall-evidence-manifest/1"

/* ---- the chain: one record per export, <state dir>/evidence/chain.jsonl ---- */

/* One counter's value at an export. Names are "nft:flow/<id>", "xdp:flow/<id>",
 * "nft:default/<src>/<dst>", "xdp:default/<src>/<dst>". */
struct ww_ev_snap {
	char *name;
	uint64_t packets, bytes;
	int64_t since; /* when the counter started, 0: unknown */
};

struct ww_ev_record {
	unsigned long seq;
	int64_t time;
	char manifest_sha256[65];
	char prev_sha256[65]; /* "" for the first bundle */
	char key_sha256[65];
	char *bundle; /* the directory it was written to, as given */
	struct ww_ev_snap *snaps;
	size_t nsnaps;
};

/* Reads the chain (absent: none), checking that each record follows the one before it.
 * Returns 0 or -errno (-EBADMSG: broken) with err saying which line is wrong. */
int ww_ev_chain_load(const char *state_dir, struct ww_ev_record **out, size_t *n,
		     struct strbuf *err);
/* Appends one record (fsync'ed). */
int ww_ev_chain_append(const char *state_dir, const struct ww_ev_record *r, struct strbuf *err);
void ww_ev_records_free(struct ww_ev_record *r, size_t n);
/* "<dir>.partial": where a bundle is built before it is renamed to dir. malloc'ed, or NULL. */
char *ww_ev_partial_dir(const char *dir);
/* 0 when dir is absent or an empty directory: where a bundle may go; else -EEXIST (or -errno)
 * with err. */
int ww_ev_dir_ready(const char *dir, struct strbuf *err);
/* Renames "<dir>.partial" to dir (absent or empty) and syncs the parent. */
int ww_ev_bundle_place(const char *dir, struct strbuf *err);
/*
 * Before an export: when the chain's last bundle is not in place because an export was killed
 * after chaining it, moves its "<dir>.partial" into place; when it is missing altogether, says
 * so. What was done or found goes to said (one line each). Returns 0 or -errno.
 */
int ww_ev_chain_finish(const char *state_dir, struct strbuf *said, struct strbuf *err);

/* ---- the model ---- */

/* One counter of one tier over the window. */
struct ww_ev_count {
	bool present;
	uint64_t packets, bytes;	 /* the counter now: since it started */
	uint64_t win_packets, win_bytes; /* in the window */
	int64_t since;
	bool baseline; /* the previous export's value was subtracted */
	bool reset;    /* restarted after the window began: counts before the restart are lost */
};

enum ww_ev_kind { WW_EV_ALLOWED, WW_EV_DENIED, WW_EV_MONITORED, WW_EV_NKINDS };

/* A zone pair a flow's facts cover in the kernel, with the verdict there. */
struct ww_ev_pair {
	const char *src, *dst; /* zone names ("-": none), pointing into the collect */
	enum ww_rb_verdict verdict;
};

struct ww_ev_flow {
	const struct ww_flow_stat *st;
	const struct ww_flow *flow; /* in the applied policy, or NULL */
	struct ww_ev_count nft, xdp;
	struct ww_ev_pair *pairs; /* sorted; empty when the kernel has no fact of the flow */
	size_t npairs;
	const char *src_zone, *dst_zone; /* the one source (destination) zone, or NULL */
	bool has_window;		 /* a validity window (kernel facts or policy) */
	int64_t valid_from, valid_until; /* the window, 0: unbounded on that side */
};

struct ww_ev_default {
	const struct ww_default_stat *st;
	struct ww_ev_count nft, xdp;
};

/* A cell of the zone matrix: window packets by kind. `shared` holds packets of flows that span
 * several zone pairs: they went to this pair or to another of the flow's pairs. */
struct ww_ev_cell {
	uint64_t exact[WW_EV_NKINDS], shared[WW_EV_NKINDS];
};

struct ww_ev_rank {
	const char *a, *b; /* a zone, or a zone pair (a -> b) */
	uint64_t packets;
};

/* Denials of one tier, ranked: only what a counter attributes exactly (see docs/evidence.md).
 * total counts the counters whose every zone pair denies; mixed, those of flows that deny in
 * some pairs and only monitor in others (their counter cannot tell which). */
struct ww_ev_denied {
	struct ww_ev_rank *src, *dst, *pairs;
	size_t nsrc, ndst, npairs;
	uint64_t total, mixed, unattributed_src, unattributed_dst, unattributed_pairs;
};

struct ww_ev_tier {
	bool present;
	struct ww_ev_cell *cells; /* nzones x nzones, [src * nzones + dst] */
	struct ww_ev_denied denied;
};

enum ww_ev_tiers { WW_EV_NFT, WW_EV_XDP, WW_EV_NTIERS };

/* Monitor mode: what passes that the policy would deny. An invariant that holds only because
 * traffic it forbids is in monitor mode is *not enforced*: that traffic passes
 * (evidence_monitor.c). */
struct ww_ev_monitor_inv {
	bool enforced;	    /* holds, and not only thanks to monitor mode */
	const char **zones; /* zones in monitor mode it reaches (names in the applied policy) */
	size_t nzones;
	const char **flows; /* deny flows in monitor mode it reaches */
	size_t nflows;
	uint64_t passed[WW_EV_NTIERS]; /* per tier: monitored window packets between
			       its zones, each counter once */
};

struct ww_ev_drift {
	const char *op;	  /* "missing", "unexplained", "differs" */
	const char *kind; /* "table", "counter", "limit", "map", "chain", "xdp" */
	const char *name;
	char *what; /* ww_nft_describe() */
};

struct ww_quar_status;

/* An incident report draft written in the window (evidence_incidents.c). */
struct ww_ev_incident {
	char incident[16]; /* "inc-1" */
	unsigned long seq;
	char stage[16];		  /* "early-warning", "notification", "final" */
	int64_t time;		  /* when it was written */
	char manifest_sha256[65]; /* of its own manifest.json, as reports.jsonl recorded it */
	char sha256[65];	  /* of its incident.json */
	char *json;		  /* incident.json's bytes; NULL when not included */
	char *problem;		  /* why not: missing, or changed since it was signed */
};

struct ww_evidence {
	const struct ww_collect *c;
	int64_t time;
	/* The window: [start, time]. */
	int64_t start;	   /* 0: unknown (nothing counted yet) */
	int64_t since;	   /* --since as asked, 0: not asked */
	const char *basis; /* "previous-export", "export-at-or-before-since", "counter-start" */
	const struct ww_ev_record *base; /* the export subtracted, or NULL */
	/* The chain. */
	unsigned long seq;
	char prev_sha256[65]; /* "" for the first bundle */
	char key_sha256[65];  /* the signing key's fingerprint (set by the caller) */
	/* Where. */
	char hostname[256];
	struct utsname uts;
	const char *version;
	/* The policy and its history. */
	char policy_sha256[65]; /* of the applied policy's canonical form, "" when none */
	bool policy_matches_record;
	struct ww_generation *history;
	size_t nhistory;
	bool history_ok;
	char *history_err;
	/* The kernel. */
	char nft_sha256[65];	      /* of nfr_table_render(live); "" when no table */
	char nft_expected_sha256[65]; /* the applied generation compiled; "" when none */
	char xdp_maps_sha256[65];     /* of the active maps' entries; "" when none */
	size_t xdp_ncls, xdp_nrules, xdp_ndlists;
	struct ww_ev_drift *drift;
	size_t ndrift;
	bool in_sync;
	/* Counters. */
	struct ww_ev_flow *flows; /* sorted by id */
	size_t nflows;
	struct ww_ev_default *defaults;
	size_t ndefaults;
	const char **zones; /* the matrix axes: the kernel's zones by name, then "-" if used */
	size_t nzones;
	struct ww_ev_tier tiers[WW_EV_NTIERS];
	/* Proofs. */
	struct ww_inv_result *inv; /* c->applied->ninvs entries, or NULL */
	size_t ninv;
	/* Incident actions: the quarantines recorded, with what the kernel holds of them, and the
	 * quarantine log's lines of the window (raw JSON lines, as written). */
	struct ww_quar_status *quar;
	size_t nquar;
	char **quar_log;
	size_t nquar_log;
	/* Monitor mode (evidence_monitor.c). */
	const char **monitor_zones; /* zones in monitor mode in the applied policy */
	size_t nmonitor_zones;
	const char **monitor_flows; /* deny flows in monitor mode */
	size_t nmonitor_flows;
	uint64_t monitored[WW_EV_NTIERS]; /* window packets that passed only in monitor mode, each
					     counter once */
	size_t monitor_default_pairs;	  /* zone pairs whose default deny only monitors */
	struct ww_ev_monitor_inv *minv;	  /* ninv entries, or NULL */
	/* Alerts of the detectors in the window (evidence_alerts.c), by detector and source zone.
	 */
	struct ww_ev_alerts {
		bool recorded; /* <state dir>/events/alerts.jsonl exists */
		struct ww_ev_alert_count {
			char detector[16];
			char zone[64];
			uint64_t n;
		} * by;
		size_t nby;
		uint64_t total;
	} alerts;
	/* Incident reports written in the window: from the base export's time (the first export:
	 * from the beginning) until just before this export's second, so that consecutive exports
	 * take each report once. */
	struct ww_ev_incident *incidents;
	size_t nincidents;
};

/* Fills ev->incidents from <state dir>/incidents/<id>/reports.jsonl and each report's own
 * directory (called by ww_evidence_build). Returns 0 or -ENOMEM; a report that cannot be read
 * or no longer matches its signed manifest is listed with its problem, without its bytes. */
int ww_ev_incidents_build(struct ww_evidence *ev, const char *state_dir);
void ww_ev_incidents_free(struct ww_evidence *ev);
struct ww_jw;
/* evidence.json's "incident_reports". */
void ww_ev_incidents_json(const struct ww_evidence *ev, struct ww_jw *w);
/* report.html's section "Incident reports". */
void ww_ev_incidents_html(const struct ww_evidence *ev, struct strbuf *o);
/* For `evidence verify`: each report embedded in dir/evidence.json must hash to the sha256
 * listed beside it and be a report of its stage and seq. What it checked goes to out, failures
 * to bad; returns their number (0 when the bundle has no evidence.json or no reports). */
int ww_ev_incidents_verify(const char *dir, struct strbuf *out, struct strbuf *bad);

/* Counts the alerts `serve` recorded whose last event is in the window (called by
 * ww_evidence_build). Returns 0 or -ENOMEM; an unreadable file leaves recorded false. */
int ww_ev_alerts_build(struct ww_evidence *ev, const char *state_dir);

/* Fills the monitor-mode part of ev (called by ww_evidence_build). Returns 0 or -ENOMEM. */
int ww_ev_monitor_build(struct ww_evidence *ev);
void ww_ev_monitor_free(struct ww_evidence *ev);
/* Is anything in monitor mode (a zone or a deny flow)? */
bool ww_ev_monitoring(const struct ww_evidence *ev);
/* Says what passed in monitor mode: "zones in monitor mode: bms; 12 packets passed in the window
 * that the policy would deny (nftables)". passed: per tier. */
void ww_ev_monitor_why(const struct ww_evidence *ev, const char *const *zones, size_t nzones,
		       const char *const *flows, size_t nflows, const uint64_t *passed,
		       struct strbuf *why);
/* "bms, lab" into out. */
void ww_ev_names(const char *const *v, size_t n, struct strbuf *out);

struct ww_ev_opts {
	int64_t since; /* 0: the window starts at the previous export */
	const char *state_dir;
	const struct ww_ev_record *chain; /* previous exports, oldest first */
	size_t nchain;
	const char *bpffs; /* for the quarantine maps; NULL: the default */
};

/* Builds the model from c (which must outlive it). Returns 0 or -ENOMEM. */
int ww_evidence_build(const struct ww_collect *c, const struct ww_ev_opts *o,
		      struct ww_evidence *ev);
void ww_evidence_free(struct ww_evidence *ev);

/* This export's counter values, for the chain record: every present counter that is not zero
 * (a counter missing from a record was zero then, or did not exist). */
int ww_evidence_snaps(const struct ww_evidence *ev, struct ww_ev_snap **out, size_t *n);

/* The window arithmetic, exposed for tests. The export a window starts at: with since, the
 * latest record at or before it, else the last record; NULL (counting from the counters'
 * start) when there is none. *basis says which. */
const struct ww_ev_record *ww_ev_base(const struct ww_ev_record *chain, size_t n, int64_t since,
				      const char **basis);
/* One counter (named as in ww_ev_snap) over the window that starts at base (NULL: at the
 * counter's start). A counter lower than at base, or started after base while base had counted
 * it, was reset: the window then holds what it counted since the restart. */
void ww_ev_count_window(const struct ww_ev_record *base, const char *name,
			const struct ww_tier_count *now, struct ww_ev_count *out);

/* A policy "controls" entry as a token: "NIS2 21(2)(i)" -> "nis2-21.2.i", "CIR 6.8" ->
 * "cir-6.8". buf: at least 64 bytes. */
const char *ww_ev_control_id(const char *control, char *buf, size_t n);

/* The mapping of the whole bundle to NIS2 and the implementing regulation. */
struct ww_ev_mapping {
	const char *id;	   /* "nis2-21.2.a" */
	const char *title; /* "NIS2 Art. 21(2)(a)" */
	const char *what;  /* what the bundle shows for it */
};
extern const struct ww_ev_mapping ww_ev_mappings[];
extern const size_t ww_ev_nmappings;
/* What a bundle does not prove, one sentence each; the first two are about the denial
 * rankings (no per-address counters, no retained XDP events). */
extern const char *const ww_ev_limits[];
extern const size_t ww_ev_nlimits;
/* Whether the bundle shows mapping i met, and one sentence (into why, may be NULL) saying what
 * it rests on or what is missing. Not enforced: met on paper, but traffic it forbids passes in
 * monitor mode. */
enum ww_ev_status { WW_EV_MET, WW_EV_NOT_MET, WW_EV_NOT_ENFORCED };
enum ww_ev_status ww_ev_mapping_status(const struct ww_evidence *ev, size_t i, struct strbuf *why);
bool ww_ev_mapping_met(const struct ww_evidence *ev, size_t i, struct strbuf *why);
/* "met", "not-met", "not-enforced". */
const char *ww_ev_status_name(enum ww_ev_status s);
/* Derived mappings of one flow, beyond its own "controls": every flow -> CIR 6.8 (it is the
 * traffic declared necessary, or a denial); a deny -> CIR 6.7; a validity window -> CIR 6.7
 * and 11; logging -> CIR 3.2. Writes at most max ids; returns their number. */
size_t ww_ev_flow_derived(const struct ww_evidence *ev, const struct ww_ev_flow *f,
			  const char **ids, size_t max);
/* All mappings of one flow: its own "controls" as ids (ww_ev_control_id), then the derived ones,
 * each once. Writes at most max ids into ids; returns their number. */
size_t ww_ev_flow_mappings(const struct ww_evidence *ev, const struct ww_ev_flow *f,
			   char (*ids)[64], size_t max);

const char *ww_ev_verdict_name(enum ww_rb_verdict v);
const char *ww_ev_kind_name(enum ww_ev_kind k);
/* The cell of zones (src, dst) of a tier, or NULL. */
const struct ww_ev_cell *ww_ev_cell(const struct ww_evidence *ev, int tier, size_t src, size_t dst);

/* ---- printers: each appends one file's bytes to out ---- */

void ww_evidence_json(const struct ww_evidence *ev, struct strbuf *out);
void ww_evidence_oscal(const struct ww_evidence *ev, const char *const *files,
		       const char (*sha256)[65], size_t nfiles, struct strbuf *out);
void ww_evidence_html(const struct ww_evidence *ev, struct strbuf *out);

/* ---- keys and signatures (evidence_sign.c): Ed25519 through libsodium ---- */

#define WW_EV_PK_BYTES	32
#define WW_EV_SK_BYTES	64
#define WW_EV_SIG_BYTES 64

/* Writes a new key pair: <dir>/evidence.key (PKCS#8 PEM, mode 0600) and <dir>/evidence.pub
 * (SubjectPublicKeyInfo PEM), the formats openssl reads. Refuses (-EEXIST) to overwrite
 * either unless force. Returns 0 or -errno with err saying why. */
int ww_ev_keygen(const char *dir, bool force, char fingerprint[65], struct strbuf *err);
/* Reads a private key (PEM, ours or `openssl genpkey -algorithm ed25519`). */
int ww_ev_key_load(const char *path, uint8_t sk[WW_EV_SK_BYTES], struct strbuf *err);
/* Reads a public key (PEM). */
int ww_ev_pub_load(const char *path, uint8_t pk[WW_EV_PK_BYTES], struct strbuf *err);
/* A file of a signed directory (an evidence bundle, an incident report): its name, its
 * content and the content's sha256 (hex). */
struct ww_ev_file {
	const char *name;
	struct strbuf body;
	char sha256[65];
};
/* The manifest that lists files (WW_MANIFEST_FORMAT), as `wardwall evidence verify` checks it:
 * the series number, time and host, the previous manifest's sha256 (NULL or "": the first), the
 * signing key's fingerprint, then each file's name, sha256 and size. */
struct ww_ev_manifest {
	unsigned long seq;
	int64_t time;
	const char *hostname, *prev_sha256, *key_sha256;
};
void ww_ev_manifest_print(const struct ww_ev_manifest *m, const struct ww_ev_file *f, size_t n,
			  struct strbuf *out);
/* The public key as PEM. */
void ww_ev_pub_pem(const uint8_t pk[WW_EV_PK_BYTES], struct strbuf *out);
/* Parses a PEM public key from text. Returns 0 or -EINVAL. */
int ww_ev_pub_parse(const char *text, uint8_t pk[WW_EV_PK_BYTES]);
/* sha256 of the 32 raw public key bytes, hex: the key's fingerprint. */
void ww_ev_fingerprint(const uint8_t pk[WW_EV_PK_BYTES], char out[65]);
/* The detached signature of data, base64 and a newline. */
void ww_ev_sign(const uint8_t sk[WW_EV_SK_BYTES], const void *data, size_t len, struct strbuf *out);
/* Checks a base64 signature (as ww_ev_sign writes it). Returns 0, -EINVAL when sig is not
 * base64 of 64 bytes, -EBADMSG when it does not verify. */
int ww_ev_verify_sig(const uint8_t pk[WW_EV_PK_BYTES], const void *data, size_t len,
		     const char *sig);
/* Base64 (RFC 4648, padded) of n bytes; and back (whitespace ignored; -EINVAL). */
void ww_ev_base64(const void *data, size_t n, struct strbuf *out);
int ww_ev_unbase64(const char *s, size_t len, uint8_t *out, size_t max, size_t *n);

/* ---- bundles (evidence_bundle.c) ---- */

enum { WW_EV_F_JSON = 1, WW_EV_F_OSCAL = 2, WW_EV_F_HTML = 4 };

struct ww_ev_written {
	unsigned long seq;
	char manifest_sha256[65];
	size_t nfiles;
};

/* Bundle file names. */
#define WW_EV_MANIFEST "manifest.json"
#define WW_EV_SIG      "manifest.sig"
#define WW_EV_PUB      "evidence.pub"

/* Parses "json,oscal,html" into WW_EV_F_* bits; -EINVAL naming the bad word in err. */
int ww_ev_formats_parse(const char *s, unsigned int *out, struct strbuf *err);

/*
 * Prints the formats asked for, writes them with evidence.pub, manifest.json and manifest.sig
 * into dir (created; an existing directory must be empty), and appends this export to the
 * chain under state_dir. Sets ev->key_sha256 from sk. Nothing is appended when writing fails,
 * and the bundle is removed again when appending fails. The caller serialises exports (the
 * state lock). Returns 0 or -errno with err.
 */
int ww_evidence_write(struct ww_evidence *ev, unsigned int formats,
		      const uint8_t sk[WW_EV_SK_BYTES], const char *dir, const char *state_dir,
		      struct ww_ev_written *res, struct strbuf *err);

/* ---- one export (evidence_export.c) ---- */

struct ww_ev_export_opts {
	const char *state_dir; /* NULL: as ww_state_open resolves it */
	const char *bpffs;
	const char *key; /* the private key; NULL: <state dir>/keys/evidence.key */
	const char *out; /* the bundle's directory; NULL: <state dir>/evidence/<seq>-<time> */
	int64_t since;	 /* as ww_ev_opts */
	unsigned int formats;
};

struct ww_state;
struct ww_ev_export {
	struct ww_collect c;
	struct ww_evidence ev;
	struct ww_ev_written w;
	char *dir; /* where the bundle is */
	/* private */
	struct ww_state *st; /* held (locked) until ww_ev_export_free */
	struct ww_ev_record *chain;
	size_t nchain;
	bool have_c, have_ev;
};

/*
 * Takes the state lock, finishes an interrupted export (what it did goes to said, one line
 * each), reads the chain, collects the kernel, builds the model and writes the bundle into x.
 * Returns 0 (free x with ww_ev_export_free) or -errno with err; x is then empty.
 */
int ww_evidence_export(const struct ww_ev_export_opts *o, struct ww_ev_export *x,
		       struct strbuf *said, struct strbuf *err);
void ww_ev_export_free(struct ww_ev_export *x);

/*
 * Verifies bundles given in chain order: every file against the manifest, the signature (with
 * pk, or when pk is NULL with the key the manifest embeds), and each bundle's link to the one
 * before it. What passes goes to out, one line each; what fails to bad, one line each naming
 * the bundle's file and the reason; warnings (embedded key, unlisted files) to warn. Returns
 * the number of failures (0: all passed) or -ENOMEM. *chain_unchecked is set when the first bundle
 * given is not the first of its chain: its link to the bundle before it was not checked.
 */
int ww_evidence_verify(const char *const *bundles, size_t n, const uint8_t *pk, struct strbuf *out,
		       struct strbuf *bad, struct strbuf *warn, bool *chain_unchecked);

#endif
