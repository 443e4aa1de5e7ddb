/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wardwall doctor: does the running kernel have everything wardwall needs? Each check says ok,
 * warning or missing, what it found, and how to fix what is missing (kernel option, module,
 * mount, sysctl). The checks only read: the nftables probe sends a batch without its end message,
 * which the kernel validates and then aborts (`nft --check` works the same way); the XDP program
 * is loaded without pinning or attaching and closed again; interfaces are queried, never attached.
 *
 * doctor.c holds the feature table (kernel/features.txt is its printed form), the results and the
 * printer; doctor_nft.c the nftables probe; doctor_bpf.c the BPF checks and the program itself;
 * doctor_iface.c the interfaces; doctor_state.c capabilities, the clock and wardwall's own state.
 */
#ifndef WW_DOCTOR_H
#define WW_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum ww_dstatus { WW_D_OK, WW_D_WARNING, WW_D_MISSING };

/* What one check needs from the kernel; the fix is the default advice when it is missing. */
struct ww_feature {
	const char *id;	    /* "nft.ct"; "xdp.iface" stands for every "xdp.iface/<IF>" */
	const char *since;  /* the first Linux version that has it, "-" when not a kernel feature */
	const char *config; /* kernel options, comma separated; "-" when none */
	const char *what;   /* what wardwall uses it for */
	const char *fix;
};

extern const struct ww_feature ww_features[];
extern const size_t ww_nfeatures;

/* The feature of a check id ("xdp.iface/eth0" finds "xdp.iface"), or NULL. */
const struct ww_feature *ww_feature_find(const char *id);

struct ww_dcheck {
	char *id;
	enum ww_dstatus status;
	char *detail;
	char *fix; /* NULL when ok */
};

/* The minimum kernel wardwall supports, and why. */
#define WW_KERNEL_MIN	  "6.1"
#define WW_KERNEL_MIN_WHY "bpf_ktime_get_tai_ns for XDP time windows"

struct ww_doctor {
	/* what to check */
	const char *bpffs; /* the resolved bpffs mount (ww_bpffs) */
	char **ifaces;	   /* --interface and the policy's enforcement.interfaces (not owned) */
	size_t nifaces;
	int xdp_mode;	    /* -1: no policy; else enum ww_xdp_mode of the policy */
	int hook_mode;	    /* -1: no policy; else enum ww_hookmode of the policy */
	const char *policy; /* its path, for messages; NULL without one */
	uint16_t log_group; /* NFLOG group the probe logs to (the policy's, else 0) */
	/* results, in the order checked */
	struct ww_dcheck *v;
	size_t n, cap;
	bool oom; /* a result could not be recorded */
};

/*
 * Records a result. fix NULL takes the feature table's advice when status is not ok (and none
 * when it is); fix "" records none. Returns 0 or -ENOMEM (also remembered in d->oom).
 */
int ww_doctor_add(struct ww_doctor *d, const char *id, enum ww_dstatus st, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Marks missing XDP-tier results as warnings when the policy does not enforce with XDP, and
 * missing bridge-mode results unless the policy is in bridge mode. */
void ww_doctor_relax(struct ww_doctor *d);

/* Runs every check in the current network namespace. */
void ww_doctor_run(struct ww_doctor *d);

/* One printer: a table with a summary line, or (json) an array of {check, status, detail, fix}. */
void ww_doctor_print(const struct ww_doctor *d, bool json, struct strbuf *out);

/* 1 (WW_EXIT_INVALID) when something required is missing, else 0. */
int ww_doctor_exit(const struct ww_doctor *d);
void ww_doctor_free(struct ww_doctor *d);

const char *ww_dstatus_str(enum ww_dstatus s);

/* "6.18.44-fc" -> 6, 18, 44 (a missing part is 0). Returns 0 or -EINVAL. */
int ww_kver_parse(const char *release, unsigned int v[3]);
/* <0, 0, >0 as release a is older than, as old as, newer than b (both "X.Y[.Z]"). */
int ww_kver_cmp(const unsigned int a[3], const unsigned int b[3]);

/* The netdev xdp-features bits by name ("basic, redirect, rx-sg"), "none" for 0. */
void ww_xdp_features_str(uint64_t features, struct strbuf *out);

/* ---- the probes (doctor_nft.c, doctor_bpf.c) ---- */

/* CAP_NET_ADMIN and CAP_BPF (or CAP_SYS_ADMIN) in the effective set. */
void ww_doctor_caps(struct ww_doctor *d);
/* nf_tables: the generation, and every object and expression wardwall writes. */
void ww_doctor_nft(struct ww_doctor *d);
/* BPF: syscall, JIT, BTF, bpffs, capabilities, map types, helpers, links, the program itself. */
void ww_doctor_bpf(struct ww_doctor *d);
/* XDP on each of d->ifaces: attached program, native XDP support. */
void ww_doctor_ifaces(struct ww_doctor *d);
/* The TAI offset XDP time windows depend on (doctor_state.c). */
void ww_doctor_clock(struct ww_doctor *d);
/* wardwall's own table and pins, when present: readable and without foreign content. */
void ww_doctor_state(struct ww_doctor *d);

/*
 * The nftables probe's answers. Each message of the probe batch asked for an ack; acks holds what
 * the kernel sent back (netlink messages, len bytes). For each sequence number seqs[i], errs[i]
 * becomes 0 (accepted), the kernel's -errno, or 1 when no answer came. Returns how many answers
 * matched a sequence number.
 */
size_t ww_nft_probe_acks(const void *acks, size_t len, const uint32_t *seqs, int *errs, size_t n);

/*
 * The probe builds the flow maps and their rules with nft_batch.c, for table wardwall, and moves
 * each message to its own table: m (a NEWSET, NEWSETELEM or NEWRULE message of nf_tables) is
 * copied to out (room bytes) with its table attribute naming `table`, sequence number seq and an
 * ack request, every other attribute as it was. Returns the copy's length, 0 when m is not such a
 * message or room is too small.
 */
struct nlmsghdr;
size_t ww_nft_probe_retable(const struct nlmsghdr *m, const char *table, uint32_t seq, void *out,
			    size_t room);

#endif
