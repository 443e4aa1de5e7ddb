/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What libbpf says while wardwall loads its XDP program (xdp_load.c) or doctor probes the
 * verifier (doctor_bpf.c). libbpf reports through one process-wide callback, and the verifier's
 * log on a failed load can be megabytes: a capture keeps its end (libbpf's debug messages left
 * out), for the error wardwall prints. With WARDWALL_DEBUG set, everything goes to stderr
 * instead. One capture at a time (the callback has no context pointer).
 */
#ifndef WW_BPF_LOG_H
#define WW_BPF_LOG_H

#include <bpf/libbpf.h>

struct ww_bpf_log {
	libbpf_print_fn_t old; /* the callback before the capture */
};

/* Starts a capture: what libbpf says from now on is kept. */
void ww_bpf_log_begin(struct ww_bpf_log *l);
/* Ends it: the callback that was there before is back. What was kept stays readable. */
void ww_bpf_log_end(struct ww_bpf_log *l);
/* The last n lines kept (the verifier's verdict is on the last), without the final line break;
 * "no message" when libbpf said nothing. Valid until the next capture. */
const char *ww_bpf_log_tail(int n);

#endif
