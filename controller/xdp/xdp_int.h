/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the XDP loader (xdp_load.c, xdp_gen.c, xdp_link.c, xdp_read.c): the handle, its map
 * table and the helpers the stages share. Not for use outside controller/xdp/.
 */
#ifndef WW_XDP_INT_H
#define WW_XDP_INT_H

#include <bpf/bpf.h>
#include <stdbool.h>
#include <stdint.h>

#include "xdp_tier.h"

/* The program's maps, by name in bpf/wardwall.bpf.c (ww_xdp_map_names). */
enum ww_xdp_map {
	M_ACTIVE,
	/* The outer maps of one generation, in the order of enum ww_gen_map. */
	M_CLS4,
	M_CLS6,
	M_RULES,
	M_DLISTS,
	M_SETTINGS,
	M_FLOW_STATS,
	M_DEFAULT_STATS,
	M_STATS,
	M_CT,
	M_EVENTS,
	M_FLOW_SLOTS, /* from here on: maps an older pinned program may lack (open_pinned) */
	M_ZONE_SLOTS,
	M_LOG_BUDGET,
	M_META,
	/* The quarantine overlay (docs/incident.md): not per generation. */
	M_QUAR4,
	M_QUAR6,
	M_QUAR_KEEP,
	M_QUAR_STATS,
	M_DENY,
	M_DENY_SEEN,
	NMAPS
};

extern const char *const ww_xdp_map_names[NMAPS];

/*
 * The inner maps of one generation. Generation map g is installed in slot 0 or 1 of the outer
 * map GEN_OUTER(g): the two enums run in the same order, which the assert below pins.
 */
enum ww_gen_map { G_CLS4, G_CLS6, G_RULES, G_DLISTS, G_SETTINGS, NGEN };
#define GEN_OUTER(g) ((enum ww_xdp_map)(M_CLS4 + (g)))
_Static_assert(GEN_OUTER(G_CLS6) == M_CLS6 && GEN_OUTER(G_RULES) == M_RULES &&
		   GEN_OUTER(G_DLISTS) == M_DLISTS && GEN_OUTER(NGEN - 1) == M_SETTINGS,
	       "generation maps and their outer maps out of order");

struct ww_xdp {
	char *root; /* <bpffs>/wardwall */
	struct wardwall_bpf *skel;
	int prog_fd;
	int fd[NMAPS];
	int ncpus;
};

/* <root>/a or <root>/a/b, allocated; NULL when out of memory. */
char *xdp_path(const struct ww_xdp *x, const char *a, const char *b);
/* The program's tag as 16 hex digits and (when id) its id. */
int xdp_prog_tag(int fd, char out[17], uint32_t *id);
int xdp_link_info(int fd, struct bpf_link_info *info);
/* A flow id or zone name as the key of ww_flow_slots / ww_zone_slots. */
void xdp_key(char k[WW_FLOW_ID_LEN], const char *s);
int xdp_read_active(struct ww_xdp *x, struct ww_active *a);
/* The generation in slot, slots as the kernel has them, sorted (ww_xdp_image_sort). */
int xdp_read_image(struct ww_xdp *x, uint32_t slot, struct ww_xdp_image *img);
/* Unpins (and so detaches) every link not in p's interfaces (all of them when p is NULL). */
int xdp_detach_others(struct ww_xdp *x, const struct ww_policy *p, bool *any);

#endif
