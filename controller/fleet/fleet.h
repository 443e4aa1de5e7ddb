/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fleet: one signed policy published to etcd, enforced by many gateways (docs/fleet.md).
 *
 *   fleet_part.c      a gateway's part of a policy (the policy it applies)
 *   fleet_envelope.c  the signed record published under KEY/policy, and its verification
 *   etcd.c            the etcd v3 client (JSON gateway over libcurl)
 *   fleet_agent.c     the agent loop: watch, verify, apply, report
 *   fleet_status.c    the status records the agents keep under KEY/status/NAME
 */
#ifndef WW_FLEET_H
#define WW_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

/*
 * The part of policy p (parsed from text, len) that gateway gw enforces, as policy JSON text:
 * the gateway's enforcement, the flows with an endpoint in a zone it serves (or "*"), no
 * invariants, no gateways. *out is malloc'ed. Returns 0, -ENOENT (no such gateway; said in err),
 * -EINVAL (text does not parse) or -ENOMEM.
 */
int ww_fleet_part(const struct ww_policy *p, const char *text, size_t len, const char *gw,
		  char **out, struct strbuf *err);


/*
 * The record under KEY/policy: {"payload": TEXT, "signature": BASE64}. TEXT is the JSON object
 * {"wardwall_fleet": 1, "generation", "published", "publisher" (key fingerprint), "canaries",
 * "policy_sha256", "policy" (the policy's own text)}; the Ed25519 signature covers TEXT's exact
 * bytes, so nothing needs a canonical form to be verified.
 */
struct ww_fleet_env {
	unsigned long generation;
	int64_t published;
	char publisher[65];
	char **canaries;
	size_t ncanaries;
	char policy_sha256[65];
	char *policy; /* the policy text */
	size_t policy_len;
	char record_sha256[65]; /* of the whole record: what an agent holds */
};

/* Signs a record for policy text (whose canonical hash is policy_sha256) into out. */
int ww_fleet_env_sign(const uint8_t *sk, unsigned long generation, int64_t now,
		      char *const *canaries, size_t ncanaries, const char *policy, size_t len,
		      const char *policy_sha256, struct strbuf *out);
/*
 * Verifies a record against the pinned publisher key pk and reads it. Returns 0, -EBADMSG (the
 * signature does not verify: forged or damaged), -EPROTO (not a record) or -ENOMEM; err says
 * which.
 */
int ww_fleet_env_verify(const uint8_t *pk, const char *text, size_t len, struct ww_fleet_env *out,
			struct strbuf *err);
void ww_fleet_env_free(struct ww_fleet_env *e);
bool ww_fleet_env_is_canary(const struct ww_fleet_env *e, const char *name);

/* Parses and analyses a policy text at time now: valid, invariants proved. Diagnostics (warnings
 * too) go to diags as text. Returns 0, -EINVAL or -ENOMEM. */
int ww_fleet_policy(const char *name, const char *text, size_t len, int64_t now,
		    struct ww_policy **out, struct strbuf *diags);

/* How to reach etcd, as the commands' options give it (docs/fleet.md). */
struct ww_fleet_conn {
	const char *endpoints, *cacert, *cert, *key, *user, *password_file;
	const char *prefix; /* KEY: the fleet's records are KEY/policy, KEY/generation,
			       KEY/status/NAME */
};

struct ww_etcd;
/* Opens the client (reads the password file, authenticates). */
int ww_fleet_connect(const struct ww_fleet_conn *c, struct ww_etcd **out, struct strbuf *err);
/* KEY/suffix, malloc'ed. */
char *ww_fleet_key(const struct ww_fleet_conn *c, const char *suffix);

/* The agent (fleet_agent.c). */
struct ww_agent_opts {
	const struct ww_fleet_conn *conn;
	const char *name;      /* this gateway */
	const uint8_t *pk;     /* the pinned publisher key (32 bytes) */
	const char *state_dir; /* NULL: as apply */
	const char *bpffs;
	int ttl;               /* lease seconds of the status record */
	bool once;             /* one pass (read, apply, report), then return */
	bool no_evidence;      /* no evidence bundles under KEY/evidence/NAME */
	int evidence_every;    /* seconds between bundles beyond one per generation (0: none) */
	volatile int *stop;    /* set by a signal handler: return at the next turn */
};

/*
 * Runs the agent until *stop (or after one pass with once). Returns 0, or -errno for what makes
 * running impossible (the state directory); etcd being unreachable is not an error but the
 * fail-static state: the last good generation stays enforced, and the agent retries.
 */
int ww_agent_run(const struct ww_agent_opts *o, struct strbuf *err);

#endif
