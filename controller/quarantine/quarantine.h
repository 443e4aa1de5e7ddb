/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Quarantine: a runtime overlay on the applied policy, never a recompile (docs/incident.md).
 *
 * A quarantine names a target (an address, a prefix, a host group or a zone of the applied
 * policy) and the flows it keeps: those named with --keep, the policy's "management" flows, and
 * its "life_critical" flows unless strict. Everything else to and from the target is dropped, in
 * both tiers:
 *   nftables  table inet wardwall_quarantine (quarantine_nft.c): base chains on forward, input
 *             and output at priority filter - 10, ahead of wardwall's own table, one small set of
 *             prefixes per quarantine whose elements time out with the quarantine;
 *   XDP       the pinned LPM tries ww_quar4/ww_quar6, checked first by the program, and the kept
 *             flows' slots in ww_quar_keep (quarantine_xdp.c; bpf/wardwall.h).
 * Established sessions of the target are cut (conntrack entries through ctnetlink, XDP
 * connection entries) once the drop is in force.
 *
 * Records in the state directory:
 *   quarantines.json       the quarantines in force or pending expiry ({"next": N, "list": [...]})
 *   quarantine-log.jsonl   one line per add, remove or expiry: who, when, why, ticket, kept flows,
 *                          packets blocked (for evidence)
 * Writers hold quarantine.lock (ww_quar_lock), not the state directory's lock: a quarantine must
 * not wait for a long apply. The two never write the same records or kernel objects; an apply
 * whose batch meets a quarantine's commit is refused by its generation guard and retries.
 */
#ifndef WW_QUARANTINE_H
#define WW_QUARANTINE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"
#include "util.h"

struct ww_state;

#define WW_QUAR_TABLE "wardwall_quarantine"

/* A kept flow, as the kernel matches it: addresses on each side ("*": any), protocol terms. */
struct ww_qkeep {
	char *id;
	struct ww_prefix *from, *to;
	size_t nfrom, nto;
	bool from_all, to_all;
	struct ww_term *terms; /* ww_term.ptr unused */
	size_t nterms;
	char why[16];          /* "given", "management", "life-critical" */
};

struct ww_quarantine {
	unsigned int id;    /* 1..WW_QUAR_MAX - 1; printed "q<id>" */
	char *target;       /* as given */
	struct ww_prefix *pfx; /* what it resolved to */
	size_t npfx;
	struct ww_qkeep *keep; /* the flows kept (given, management, life-critical) */
	size_t nkeep;
	char **keep_given;  /* --keep as given */
	size_t nkeep_given;
	bool strict;
	int64_t created;    /* unix seconds */
	int64_t until;      /* unix seconds; 0: until removed */
	char *reason, *ticket, *user;
	unsigned long generation; /* the policy generation it was resolved against */
};

struct ww_quar_list {
	struct ww_quarantine *v;
	size_t n, cap;
	unsigned int next; /* the next id to give */
};

void ww_quarantine_clear(struct ww_quarantine *q);
void ww_quar_list_free(struct ww_quar_list *l);

/* Waits for and takes quarantine.lock in the state directory; *fd: release with
 * ww_quar_unlock. Returns 0 or -errno (err says why). */
int ww_quar_lock(const char *state_dir, int *fd, struct strbuf *err);
void ww_quar_unlock(int fd);

/* quarantines.json: a missing file is an empty list. Returns 0 or -errno (message in err). */
int ww_quar_load(const char *state_dir, struct ww_quar_list *l, struct strbuf *err);
int ww_quar_save(const char *state_dir, const struct ww_quar_list *l, struct strbuf *err);
/* Appends one line to quarantine-log.jsonl: event "add", "remove", "expire", or "refuse" (an add
 * refused for what it would break; q->id 0, printed null). extra, when not NULL or empty: more
 * members of the line, as JSON text (`"forced": true, "breaks": [...]`). */
int ww_quar_log(const char *state_dir, const char *event, const struct ww_quarantine *q,
		uint64_t blocked_packets, int64_t now, const char *extra, struct strbuf *err);
/* One quarantine as a JSON object (the shape of quarantines.json and of --json). */
void ww_quarantine_json(const struct ww_quarantine *q, int64_t now, struct strbuf *out);
struct ww_quarantine *ww_quar_find(struct ww_quar_list *l, unsigned int id);
/* Parses "q12" (exactly). Returns 0 or -EINVAL. */
int ww_quar_id_parse(const char *s, unsigned int *id);

/*
 * The applied policy, cut down to what a quarantine needs: everything but the flows, and of the
 * flows only the management and life-critical ones and those named in keep. From the index apply
 * wrote (ww_quar_index_policy: no cost per flow); for a generation without one, the canonical
 * generation file is scanned instead (a read and a memory search over every flow) and a note
 * says so on standard error. Returns 0, -ENOENT (no policy applied) or -errno; a --keep flow the
 * policy does not have is -ENOENT with its name in err.
 */
int ww_quar_policy(struct ww_state *s, const char *const *keep, size_t nkeep,
		   struct ww_policy **out, unsigned long *gen, struct strbuf *err);

/*
 * The index apply writes for quarantines next to generation gen (quarantine_index.c):
 * <gen>.quarantine.json, the canonical policy p (printed as canon) with only its management and
 * life-critical flows, and <gen>.flow-ids, every flow's id, position and place in <gen>.json,
 * sorted for a binary search. Returns 0 or -errno.
 */
int ww_quar_index_write(const char *state_dir, unsigned long gen, const struct ww_policy *p,
			const char *canon, size_t len);
void ww_quar_index_forget(const char *state_dir, unsigned long gen);
/*
 * The cut-down policy of generation gen from its index, with the flows named in keep added
 * (each read from its place in <gen>.json) and every flow's pointer and index as in the whole
 * policy. Its cost does not depend on the number of flows. Returns 0, -ENODATA (no index: read
 * the policy instead), -ENOENT (a --keep flow the policy does not have; err names it) or -errno.
 */
int ww_quar_index_policy(const char *state_dir, unsigned long gen, const char *const *keep,
			 size_t nkeep, struct ww_policy **out, struct strbuf *err);

/*
 * Resolves TARGET against the policy into q->pfx: "10.20.40.7", "10.20.40.0/24", "zone" or
 * "zone/host". Returns 0 or -EINVAL (err says why, with a suggestion for a misspelt name).
 */
int ww_quar_resolve(const struct ww_policy *p, const char *target, struct ww_quarantine *q,
		    struct strbuf *err);
/* Fills q->keep from q->keep_given, the management flows and (unless q->strict) the
 * life-critical flows that touch the target, each with its addresses and services.
 * Returns 0 or -ENOMEM. */
int ww_quar_keep(const struct ww_policy *p, struct ww_quarantine *q);

/* Does the flow have an endpoint that overlaps the quarantine's target? */
bool ww_quar_touches_flow(const struct ww_policy *p, const struct ww_quarantine *q,
			  const struct ww_flow *f);
bool ww_quar_kept(const struct ww_quarantine *q, const char *flow_id);
/* Does the address fall in the target? */
bool ww_quar_covers(const struct ww_quarantine *q, const struct ww_addr *a);

struct ww_quar_nbreaks {
	size_t flows, invariants, probes;
};

/*
 * What the quarantine would break: each allow flow touching the target that is not kept
 * ("flow pumps-to-server would stop for infusion"), each must-allow invariant (expect allow)
 * touching it that no kept flow carries whole, and each health probe (policy "probes") with an
 * address in the target that no kept flow carries ("probe pump-up would fail for 10.40.40.7").
 * Invariants and probes are refused without --force. Lines go to out, one a line, or as a JSON
 * array body when json ({"kind", "id", "pointer", "for"}); nb counts each kind.
 */
int ww_quar_breaks(const struct ww_policy *p, const struct ww_quarantine *q, bool json,
		   struct strbuf *out, struct ww_quar_nbreaks *nb);

/* ---- the kernel (quarantine_nft.c, quarantine_xdp.c, conntrack.c) ---- */

struct ww_quar_kctx {
	const char *bpffs; /* NULL: ww_bpffs(NULL) */
	bool xdp;          /* the applied policy uses the XDP tier */
	uint16_t log_group;
	uint32_t log_rate;
};

/*
 * Makes the kernel hold exactly the quarantines of l in force at now, in one nftables transaction
 * (the overlay table is rebuilt: a few objects per quarantine, independent of the policy's size)
 * and in the XDP maps. Everything needed is in the records (kept flows carry their addresses
 * and services): no policy is read. Returns 0 or -errno (err says which tier and why; a failed
 * transaction changed nothing).
 */
int ww_quar_nft_sync(const struct ww_quar_list *l, const struct ww_quar_kctx *k, int64_t now,
		     struct strbuf *err);
int ww_quar_xdp_sync(const struct ww_quar_list *l, const struct ww_quar_kctx *k, int64_t now,
		     struct strbuf *err);
/* Deletes the overlay table (nothing quarantined any more). Missing is fine. */
int ww_quar_nft_clear(struct strbuf *err);

/* Packets dropped by quarantine id in the nftables tier; -ENOENT (0) when it has no counter. */
int ww_quar_nft_counter(unsigned int id, uint64_t *packets);
/* The same in the XDP tier (all CPUs). */
int ww_quar_xdp_counter(const char *bpffs, unsigned int id, uint64_t *packets);
/* The kernel context of the applied policy (its XDP use and log settings). */
int ww_quar_kctx_of(const struct ww_policy *p, const char *bpffs, struct ww_quar_kctx *k);
/*
 * Both tiers to exactly want (nftables, then XDP); if XDP fails, both are put back to was.
 * Returns 0 or -errno (err says why).
 */
int ww_quar_enforce(const struct ww_quar_list *want, const struct ww_quar_list *was,
		    const struct ww_quar_kctx *k, int64_t now, struct strbuf *err);
/* Removes from l (and logs as "expire", with their blocked packets) the quarantines whose
 * time is over at now; *changed says whether there were any. */
int ww_quar_expire(const char *state_dir, struct ww_quar_list *l, const struct ww_quar_kctx *k,
		   int64_t now, bool *changed, struct strbuf *err);

/*
 * Cuts the established sessions of the target: conntrack entries with an address of the target
 * on either side (except those of kept flows, matched by address, protocol and port) are
 * deleted through ctnetlink, and XDP connection entries with such an address whose flow is not
 * kept are deleted. *ct and *xdp_ct count what was deleted. Returns 0 or -errno.
 */
int ww_quar_cut(const struct ww_quarantine *q, const struct ww_quar_kctx *k, unsigned long *ct,
		unsigned long *xdp_ct, struct strbuf *err);
/* Does a connection (opening direction) belong to a kept flow of q? proto 0-255, port host
 * order (ICMP: the type). */
bool ww_quar_conn_kept(const struct ww_quarantine *q, const struct ww_addr *src,
		       const struct ww_addr *dst, int proto, unsigned int port);

/*
 * For apply, once its XDP tier is in place: the XDP part of the quarantines in force at now
 * written again (maps loaded anew, after `wardwall remove` or a reboot, start empty; the
 * nftables overlay is not touched: it is not apply's, and lives through both). *n: how many.
 * Returns 0 or -errno (err says why).
 */
int ww_quar_xdp_reload(const char *state_dir, const char *bpffs, int64_t now, size_t *n,
		       struct strbuf *err);

/* ---- reports (quarantine_report.c) ---- */

struct ww_quar_status {
	struct ww_quarantine q;
	bool expired;     /* its end has passed (the kernel no longer enforces it) */
	bool nft, xdp;    /* what each tier holds of it: honest, read from the kernel */
	uint64_t nft_packets, xdp_packets; /* blocked */
};

/* The recorded quarantines with what the kernel holds of them. *out: free with
 * ww_quar_status_free. Returns 0 or -errno. */
int ww_quar_status(const char *state_dir, const char *bpffs, int64_t now,
		   struct ww_quar_status **out, size_t *n, struct strbuf *err);
void ww_quar_status_free(struct ww_quar_status *s, size_t n);
/* Text: nothing when n is 0; JSON: a member `"quarantines": [...]` (no separators around). */
void ww_quar_status_print(const struct ww_quar_status *s, size_t n, int64_t now, bool json,
			  struct strbuf *out);
/* ww_quar_status then ww_quar_status_print, for a command's output; state_dir NULL: the
 * default. JSON: `"quarantines": null` when the records cannot be read. */
int ww_quar_report(const char *state_dir, const char *bpffs, int64_t now, bool json,
		   struct strbuf *out);
/* The same, added to a command's output: text appended, or the JSON member put inside the
 * object out holds (before its closing brace). */
int ww_quar_report_into(const char *state_dir, const char *bpffs, int64_t now, bool json,
			struct strbuf *out);
/* Prometheus text: wardwall_quarantines and wardwall_quarantine_blocked_packets_total. */
void ww_quar_status_metrics(const struct ww_quar_status *s, size_t n, struct strbuf *out);
/* The same for the state directory (NULL: the default): for `metrics` and `serve` alike. */
void ww_quar_metrics(const char *state_dir, const char *bpffs, int64_t now, struct strbuf *out);

/*
 * For `wardwall restore` (after a reboot or a lost table): re-applies the unexpired quarantines
 * of the state directory to both tiers with what remains of their time, and drops (and logs as
 * "expire") those whose time is over. Call it after the policy itself is restored. *kept gets
 * the number still in force. Returns 0 or -errno (err says why).
 */
int ww_quarantine_restore(const char *state_dir, const char *bpffs, int64_t now, size_t *kept,
			  struct strbuf *err);

#endif
