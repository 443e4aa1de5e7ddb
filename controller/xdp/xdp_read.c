// SPDX-License-Identifier: GPL-2.0-only
/* Readback: the active generation, the links and the counters, as the kernel holds them. */
#include "xdp_tier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xdp_int.h"

static int inner_fd(struct ww_xdp *x, int outer, uint32_t slot)
{
	uint32_t id;

	if (bpf_map_lookup_elem(x->fd[outer], &slot, &id))
		return -errno;
	int fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int xdp_read_active(struct ww_xdp *x, struct ww_active *a)
{
	uint32_t zero = 0;

	memset(a, 0, sizeof(*a));
	return bpf_map_lookup_elem(x->fd[M_ACTIVE], &zero, a) ? -errno : 0;
}

int xdp_read_image(struct ww_xdp *x, uint32_t slot, struct ww_xdp_image *img)
{
	int fds[NGEN] = {-1, -1, -1, -1, -1};
	int e = 0;
	size_t ccap = 0, rcap = 0;

	memset(img, 0, sizeof(*img));
	for (int i = 0; i < NGEN && !e; i++) {
		fds[i] = inner_fd(x, GEN_OUTER(i), slot);
		if (fds[i] < 0)
			e = fds[i];
	}
	for (int fam = 0; fam < 2 && !e; fam++) {
		struct ww_lpm6 key, next; /* large enough for both */
		struct ww_cls val;
		int cls = fds[fam ? G_CLS6 : G_CLS4];
		for (void *k = NULL; !bpf_map_get_next_key(cls, k, &next); k = &key) {
			memcpy(&key, &next, sizeof(key));
			if (bpf_map_lookup_elem(cls, &key, &val))
				continue;
			struct ww_xdp_cls c = {.val = val};
			c.pfx.a.family = fam ? WW_INET6 : WW_INET;
			c.pfx.a.v = ww_addr_from_bytes(c.pfx.a.family, key.addr);
			c.pfx.len = (uint8_t)key.prefixlen;
			if (VEC_PUSH(img->cls, img->ncls, ccap, c)) {
				e = -ENOMEM;
				break;
			}
		}
	}
	if (!e) {
		struct ww_rule_key key, next;
		uint32_t val;
		for (void *k = NULL; !bpf_map_get_next_key(fds[G_RULES], k, &next); k = &key) {
			memcpy(&key, &next, sizeof(key));
			if (bpf_map_lookup_elem(fds[G_RULES], &key, &val))
				continue;
			struct ww_xdp_rule r = {.key = key, .dlist = val};
			if (VEC_PUSH(img->rules, img->nrules, rcap, r)) {
				e = -ENOMEM;
				break;
			}
		}
	}
	if (!e) {
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		e = bpf_obj_get_info_by_fd(fds[G_DLISTS], &info, &len) ? -errno : 0;
		img->dlists = e ? NULL : calloc(info.max_entries + 1, sizeof(*img->dlists));
		if (!e && !img->dlists)
			e = -ENOMEM;
		for (uint32_t i = 0; !e && i < info.max_entries; i++)
			if (bpf_map_lookup_elem(fds[G_DLISTS], &i, &img->dlists[i]))
				e = -errno;
		img->ndlists = e ? 0 : info.max_entries;
	}
	if (!e) {
		uint32_t zero = 0;
		e = bpf_map_lookup_elem(fds[G_SETTINGS], &zero, &img->settings) ? -errno : 0;
	}
	for (int i = 0; i < NGEN; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (e)
		ww_xdp_image_free(img);
	else
		ww_xdp_image_sort(img);
	return e;
}

int ww_xdp_read(struct ww_xdp *x, struct ww_xdp_state *s, struct strbuf *err)
{
	struct ww_active a;
	char *dir;
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	int e;

	memset(s, 0, sizeof(*s));
	e = xdp_read_active(x, &a);
	if (e) {
		sb_addf(err, "XDP: reading ww_active: %s", strerror(-e));
		return e;
	}
	s->valid = a.valid;
	s->slot = a.slot;
	s->generation = a.generation;
	if (x->prog_fd >= 0)
		xdp_prog_tag(x->prog_fd, s->prog_tag, &s->prog_id);
	dir = xdp_path(x, WW_PIN_LINKS, NULL);
	d = dir ? opendir(dir) : NULL;
	while (d && (de = readdir(d))) {
		struct ww_xdp_link l = {0};
		struct bpf_link_info li;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		if (de->d_name[0] == '.')
			continue;
		snprintf(l.ifname, sizeof(l.ifname), "%.15s", de->d_name);
		char *path = xdp_path(x, WW_PIN_LINKS, de->d_name);
		int fd = path ? bpf_obj_get(path) : -1;
		free(path);
		if (fd >= 0 && !xdp_link_info(fd, &li)) {
			l.ifindex = li.xdp.ifindex;
			l.prog_id = li.prog_id;
			char name[IF_NAMESIZE] = "";
			l.present = li.xdp.ifindex && if_indextoname(li.xdp.ifindex, name) &&
				    !strcmp(name, l.ifname);
			if (l.present && !bpf_xdp_query((int)l.ifindex, 0, &q))
				l.generic = q.attach_mode == XDP_ATTACHED_SKB;
			l.detached = !l.present && if_nametoindex(l.ifname) != 0;
		}
		if (fd >= 0)
			close(fd);
		if (VEC_PUSH(s->links, s->nlinks, cap, l)) {
			e = -ENOMEM;
			break;
		}
	}
	if (d)
		closedir(d);
	free(dir);
	if (!e && a.valid)
		e = xdp_read_image(x, a.slot & 1, &s->img);
	if (e)
		sb_addf(err, "XDP: reading the active generation: %s", strerror(-e));
	return e;
}

void ww_xdp_state_free(struct ww_xdp_state *s)
{
	free(s->links);
	ww_xdp_image_free(&s->img);
	memset(s, 0, sizeof(*s));
}

bool ww_xdp_flow_counter(struct ww_xdp *x, const char *id, uint64_t *packets, uint64_t *bytes)
{
	char key[WW_FLOW_ID_LEN];
	uint32_t slot;
	struct ww_count *v = calloc((size_t)x->ncpus, sizeof(*v));
	bool ok = false;

	*packets = *bytes = 0;
	xdp_key(key, id);
	if (v && !bpf_map_lookup_elem(x->fd[M_FLOW_SLOTS], key, &slot) &&
	    !bpf_map_lookup_elem(x->fd[M_FLOW_STATS], &slot, v)) {
		for (int c = 0; c < x->ncpus; c++) {
			*packets += v[c].packets;
			*bytes += v[c].bytes;
		}
		ok = true;
	}
	free(v);
	return ok;
}

static bool zone_slot(struct ww_xdp *x, const char *name, uint32_t *slot)
{
	char key[WW_FLOW_ID_LEN];

	if (!name || !strcmp(name, "-")) {
		*slot = 0;
		return true;
	}
	xdp_key(key, name);
	return !bpf_map_lookup_elem(x->fd[M_ZONE_SLOTS], key, slot);
}

bool ww_xdp_default_counter(struct ww_xdp *x, const char *src, const char *dst, uint64_t *packets,
			    uint64_t *bytes)
{
	struct ww_count *v = calloc((size_t)x->ncpus, sizeof(*v));
	uint32_t a, b, idx;
	bool ok = false;

	*packets = *bytes = 0;
	if (v && zone_slot(x, src, &a) && zone_slot(x, dst, &b)) {
		idx = a * WW_ZONE_SLOTS + b;
		if (!bpf_map_lookup_elem(x->fd[M_DEFAULT_STATS], &idx, v)) {
			for (int c = 0; c < x->ncpus; c++) {
				*packets += v[c].packets;
				*bytes += v[c].bytes;
			}
			ok = true;
		}
	}
	free(v);
	return ok;
}

int ww_xdp_stats(struct ww_xdp *x, uint64_t *stats)
{
	uint64_t *v = calloc((size_t)x->ncpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t s = 0; s < WW_S_MAX; s++) {
		stats[s] = 0;
		if (bpf_map_lookup_elem(x->fd[M_STATS], &s, v))
			continue;
		for (int c = 0; c < x->ncpus; c++)
			stats[s] += v[c];
	}
	free(v);
	return 0;
}

int ww_xdp_log_dropped(struct ww_xdp *x, uint64_t *dropped)
{
	struct ww_log_budget *v;

	memset(dropped, 0, WW_ZONE_SLOTS * sizeof(*dropped));
	if (x->fd[M_LOG_BUDGET] < 0)
		return -ENOENT; /* pinned by a program older than the per-zone budgets */
	v = calloc((size_t)x->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t z = 0; z < WW_ZONE_SLOTS; z++) {
		if (bpf_map_lookup_elem(x->fd[M_LOG_BUDGET], &z, v))
			continue;
		for (int c = 0; c < x->ncpus; c++)
			dropped[z] += v[c].dropped;
	}
	free(v);
	return 0;
}
