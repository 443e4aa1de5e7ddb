/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: the only code that writes to the kernel. One policy generation goes in as a
 * whole or not at all, under the state directory's lock, and is recorded once the kernel has it.
 */
#ifndef WW_APPLY_H
#define WW_APPLY_H

#include <stdbool.h>

#include "intent.h"
#include "nft_diff.h"
#include "model.h"
#include "sessions.h"
#include "state.h"

struct ww_apply_source;

struct ww_apply_opts {
	const char *state_dir; /* NULL: default */
	const char *source;    /* the policy file, for the history */
	const char *action;    /* "apply" or "rollback" */
	unsigned long restores;
	bool force; /* apply even if it would cut this SSH session (host mode) */
	const char *bpffs; /* NULL: $WARDWALL_BPFFS or /sys/fs/bpf */
	unsigned long gen; /* the generation to record (recovery); 0: the next */
	bool restore;  /* re-enforcing the current generation (restore): no new generation */
	bool failsafe; /* the fail-closed policy (failsafe.h): nothing recorded, nothing vouched */
	/* The policy file as read (apply of a file): recorded so that an identical apply is
	 * recognised without parsing (unchanged.h); NULL: nothing recorded. */
	const struct ww_apply_source *src;
};

struct ww_apply_result {
	bool changed;        /* the kernel was changed */
	unsigned long gen;   /* the generation now current (0: none recorded) */
	bool recorded;       /* a new generation was recorded */
	size_t counts[3][5]; /* [enum ww_op][enum ww_objkind] objects changed in nftables */
	bool replaced;       /* the table was replaced whole */
	size_t messages;     /* netlink messages in the transaction */
	double ms;           /* wall time of the whole apply */
	bool vouched;        /* the table was not read: the ruleset generation is still the one
				wardwall left (nft_mark.h) */
	size_t nchains, nsets, ncounters; /* the compiled table */
	char policy_sha256[65]; /* of the policy applied (ww_policy_hash; "" before it is known) */
	bool unparsed;		/* an identical apply recognised from the file's bytes, without
				   parsing or compiling it (unchanged.h) */
	/* XDP tier */
	bool xdp;            /* the policy asks for it */
	bool xdp_switched;   /* a new generation was switched in */
	bool xdp_removed;    /* XDP was on and the policy turns it off */
	size_t xdp_attached; /* interfaces newly attached */
	size_t xdp_rules, xdp_lists, xdp_cls;
	bool unrecorded; /* the kernel changed but recording it failed (intent kept) */
	/* Connections the previous generation allowed and this one denies, cut (sessions.h);
	 * sessions_err: why they could not be (empty: they were) */
	struct ww_sessions_cut sessions;
	char sessions_err[200];
	/* Quarantines in force whose XDP part was written again (quarantine.h); quarantine_err:
	 * why it could not be (empty: it was) */
	size_t quarantines;
	char quarantine_err[200];
	struct ww_recovery recovered; /* an interrupted apply finished first */
	/* Set by the command after the apply (confirm.h, probe_run.h), for the report. */
	size_t probes_ok;         /* probes that connected after the change */
	int64_t confirm_deadline; /* unix seconds: rolled back then unless confirmed (0: none) */
	char confirm_guard[96];
};

/*
 * Compiles p, reads the kernel, and commits the difference in one transaction (retrying if the
 * ruleset changed meanwhile). Returns 0, -EINVAL (refused: the policy would cut the SSH session
 * running this command), -EBUSY (locked) or another -errno; err says why in policy terms.
 */
int ww_apply(const struct ww_policy *p, const struct ww_apply_opts *o, struct ww_apply_result *r,
	     struct strbuf *err);

/* ww_apply for a caller holding the state lock on st (recovery); no recovery of its own. */
int ww_apply_locked(struct ww_state *st, const struct ww_policy *p, const struct ww_apply_opts *o,
		    struct ww_apply_result *r, struct strbuf *err);

/* The outcome of an apply, as text or (json) one JSON object; for apply and rollback. */
void ww_apply_report(const struct ww_policy *p, const struct ww_apply_result *r, bool json,
		     struct strbuf *out);

/* Deletes wardwall's table and XDP objects and records the removal; *nft and *xdp tell which
 * of them there was. */
int ww_remove(const char *state_dir, const char *bpffs, bool *nft, bool *xdp, struct strbuf *err);
/* ww_remove under a lock already held, recorded as generation gen (0: the next). */
int ww_remove_locked(struct ww_state *st, const char *bpffs, unsigned long gen, bool *nft,
		     bool *xdp, struct strbuf *err);

#endif
