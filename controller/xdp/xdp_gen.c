// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generations: stable counter slots for flows and zones, the compiled image translated to them,
 * written into fresh inner maps in the slot no packet reads, and switched by one map write.
 */
#include "xdp_tier.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eval.h"
#include "xdp_int.h"

/* ---- slots ---- */

struct slots {
	uint32_t *flow; /* [flow index] */
	uint32_t *zone; /* [zone index] */
};

void xdp_key(char k[WW_FLOW_ID_LEN], const char *s)
{
	memset(k, 0, WW_FLOW_ID_LEN);
	strncpy(k, s, WW_FLOW_ID_LEN - 1);
}

/*
 * Finds (or, with alloc, assigns) the stable slot of each name in registry fd. Slots of
 * one registry run from first to max - 1. Returns 0, -ENOENT (a name has no slot, !alloc),
 * -ENOSPC or -errno.
 */
static int assign(int fd, const char *const *names, size_t n, uint32_t first, uint32_t max,
		  bool alloc, uint32_t *out)
{
	uint8_t *used = calloc(max, 1);
	char key[WW_FLOW_ID_LEN], next[WW_FLOW_ID_LEN];
	uint32_t v, cursor = first;
	int e = 0;

	if (!used)
		return -ENOMEM;
	for (void *k = NULL; !bpf_map_get_next_key(fd, k, next); k = key) {
		memcpy(key, next, sizeof(key));
		if (!bpf_map_lookup_elem(fd, key, &v) && v < max)
			used[v] = 1;
	}
	for (size_t i = 0; i < n && !e; i++) {
		xdp_key(key, names[i]);
		if (!bpf_map_lookup_elem(fd, key, &v)) {
			out[i] = v;
			continue;
		}
		if (!alloc) {
			e = -ENOENT;
			break;
		}
		while (cursor < max && used[cursor])
			cursor++;
		if (cursor == max) {
			e = -ENOSPC;
			break;
		}
		used[cursor] = 1;
		out[i] = cursor;
		if (bpf_map_update_elem(fd, key, &cursor, BPF_NOEXIST))
			e = -errno;
	}
	free(used);
	return e;
}

static int slots_get(struct ww_xdp *x, const struct ww_policy *p, bool alloc, struct slots *s,
		     struct strbuf *err)
{
	const char **names = malloc((p->nflows + p->nzones + 1) * sizeof(*names));
	int e;

	s->flow = calloc(p->nflows + 1, sizeof(*s->flow));
	s->zone = calloc(p->nzones + 1, sizeof(*s->zone));
	if (!names || !s->flow || !s->zone) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nflows; i++)
		names[i] = p->flows[i].id;
	e = assign(x->fd[M_FLOW_SLOTS], names, p->nflows, 0, WW_MAX_FLOWS, alloc, s->flow);
	if (!e) {
		for (size_t i = 0; i < p->nzones; i++)
			names[i] = p->zones[i].name;
		e = assign(x->fd[M_ZONE_SLOTS], names, p->nzones, 1, WW_ZONE_SLOTS, alloc, s->zone);
	}
	if (e == -ENOSPC)
		sb_add(err, "XDP: no free counter slot (too many flows or zones since the last "
			    "remove)");
	free(names);
	return e;
}

static void slots_free(struct slots *s)
{
	free(s->flow);
	free(s->zone);
}

/* The image with kernel slots, plus this machine's own addresses in gateway mode. */
static int translate(const struct ww_xdp_image *in, const struct ww_policy *p,
		     const struct slots *s, struct ww_xdp_image *out)
{
	struct ifaddrs *ifa = NULL;
	size_t ccap;

	memset(out, 0, sizeof(*out));
	out->settings = in->settings;
	out->ncls = in->ncls;
	ccap = in->ncls + 1;
	out->cls = malloc(ccap * sizeof(*out->cls));
	out->rules = malloc((in->nrules + 1) * sizeof(*out->rules));
	out->dlists = malloc((in->ndlists + 1) * sizeof(*out->dlists));
	if (!out->cls || !out->rules || !out->dlists)
		goto oom;
	memcpy(out->cls, in->cls, in->ncls * sizeof(*in->cls));
	memcpy(out->rules, in->rules, in->nrules * sizeof(*in->rules));
	out->nrules = in->nrules;
	memcpy(out->dlists, in->dlists, in->ndlists * sizeof(*in->dlists));
	out->ndlists = in->ndlists;
	for (size_t i = 0; i < out->ncls; i++)
		out->cls[i].val.zone_slot = (__u16)s->zone[out->cls[i].val.zone_slot - 1];
	for (size_t i = 0; i < out->ndlists; i++)
		for (uint32_t k = 0; k < out->dlists[i].n && k < WW_DLIST_MAX; k++)
			out->dlists[i].e[k].slot = s->flow[out->dlists[i].e[k].slot];
	/* In gateway and bridge mode, packets to the machine itself are the host firewall's
	 * business (a bridge's own address is not bridged traffic). */
	if (p->enf.mode != WW_HOST && getifaddrs(&ifa) == 0) {
		for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
			struct ww_xdp_cls c = {0};
			struct ww_class cl;
			if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET &&
					     a->ifa_addr->sa_family != AF_INET6))
				continue;
			if (a->ifa_addr->sa_family == AF_INET) {
				struct sockaddr_in *sin = (void *)a->ifa_addr;
				c.pfx.a.family = WW_INET;
				c.pfx.a.v = ntohl(sin->sin_addr.s_addr);
				c.pfx.len = 32;
			} else {
				struct sockaddr_in6 *sin6 = (void *)a->ifa_addr;
				c.pfx.a.family = WW_INET6;
				c.pfx.a.v = ww_addr_from_bytes(WW_INET6, sin6->sin6_addr.s6_addr);
				c.pfx.len = 128;
			}
			ww_classify(p, &c.pfx.a, &cl);
			c.val.zone_ep = cl.zone ? cl.zone->ep : 0;
			c.val.host_ep = cl.host ? cl.host->ep : 0;
			c.val.zone_slot = cl.zone ? (__u16)s->zone[cl.zone->ep - 1] : 0;
			c.val.flags = WW_CLS_LOCAL |
				      (cl.zone && cl.zone->mode == WW_MONITOR ? WW_CLS_MONITOR : 0);
			bool dup = false;
			for (size_t i = 0; i < out->ncls && !dup; i++)
				dup = !ww_prefix_cmp(&out->cls[i].pfx, &c.pfx);
			if (dup) /* a host address that is also ours: keep the policy's, mark it */
				for (size_t i = 0; i < out->ncls; i++)
					if (!ww_prefix_cmp(&out->cls[i].pfx, &c.pfx))
						out->cls[i].val.flags |= WW_CLS_LOCAL;
			if (dup)
				continue;
			if (VEC_PUSH(out->cls, out->ncls, ccap, c))
				goto oom;
		}
		freeifaddrs(ifa);
		ifa = NULL;
	}
	ww_xdp_image_sort(out);
	return 0;
oom:
	if (ifa)
		freeifaddrs(ifa);
	ww_xdp_image_free(out);
	return -ENOMEM;
}

/* Equal as the program sees them: same classification, same rules leading to equal lists. */
static bool images_equal(const struct ww_xdp_image *a, const struct ww_xdp_image *b)
{
	struct ww_settings sa = a->settings, sb = b->settings;

	sa.generation = sb.generation = 0;
	if (memcmp(&sa, &sb, sizeof(sa)) || a->ncls != b->ncls || a->nrules != b->nrules)
		return false;
	for (size_t i = 0; i < a->ncls; i++)
		if (ww_prefix_cmp(&a->cls[i].pfx, &b->cls[i].pfx) ||
		    memcmp(&a->cls[i].val, &b->cls[i].val, sizeof(a->cls[i].val)))
			return false;
	for (size_t i = 0; i < a->nrules; i++) {
		const struct ww_xdp_rule *x = &a->rules[i], *y = &b->rules[i];
		if (memcmp(&x->key, &y->key, sizeof(x->key)) || x->dlist >= a->ndlists ||
		    y->dlist >= b->ndlists ||
		    memcmp(&a->dlists[x->dlist], &b->dlists[y->dlist], sizeof(struct ww_xlist)))
			return false;
	}
	return true;
}

static void per_cpu_rate(const struct ww_xdp *x, struct ww_xdp_image *img)
{
	uint32_t r = img->settings.log_rate;

	img->settings.log_rate = r ? (r + (uint32_t)x->ncpus - 1) / (uint32_t)x->ncpus : 0;
}

int ww_xdp_same(struct ww_xdp *x, const struct ww_xdp_image *img, const struct ww_policy *p,
		bool *same, struct strbuf *err)
{
	struct ww_active a;
	struct slots s = {0};
	struct ww_xdp_image want = {0}, have = {0};
	int e;

	*same = false;
	e = xdp_read_active(x, &a);
	if (e || !a.valid)
		return e;
	e = slots_get(x, p, false, &s, err);
	if (e == -ENOENT) {
		slots_free(&s);
		return 0;
	}
	if (!e)
		e = translate(img, p, &s, &want);
	if (!e) {
		per_cpu_rate(x, &want);
		e = xdp_read_image(x, a.slot & 1, &have);
	}
	if (!e)
		*same = images_equal(&want, &have);
	ww_xdp_image_free(&want);
	ww_xdp_image_free(&have);
	slots_free(&s);
	return e;
}

/* ---- installing a generation ---- */

static int create_fill(enum bpf_map_type type, const char *name, uint32_t ksz, uint32_t vsz,
		       uint32_t n, uint32_t flags, int *out)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);
	int fd = bpf_map_create(type, name, ksz, vsz, n ? n : 1, &o);

	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

int ww_xdp_prepare(struct ww_xdp *x, const struct ww_xdp_image *img, const struct ww_policy *p,
		   struct ww_xdp_txn *t, struct strbuf *err)
{
	struct ww_active a;
	struct slots s = {0};
	struct ww_xdp_image k = {0};
	int fds[NGEN] = {-1, -1, -1, -1, -1};
	size_t n4 = 0, n6 = 0;
	int e;

	memset(t, 0, sizeof(*t));
	e = xdp_read_active(x, &a);
	if (!e)
		e = slots_get(x, p, true, &s, err);
	if (!e)
		e = translate(img, p, &s, &k);
	if (e)
		goto out;
	per_cpu_rate(x, &k);
	k.settings.generation = a.generation + 1;
	for (size_t i = 0; i < k.ncls; i++)
		*(k.cls[i].pfx.a.family == WW_INET ? &n4 : &n6) += 1;
	e = create_fill(BPF_MAP_TYPE_LPM_TRIE, "ww_cls4_gen", sizeof(struct ww_lpm4),
			sizeof(struct ww_cls), (uint32_t)n4, BPF_F_NO_PREALLOC, &fds[G_CLS4]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_LPM_TRIE, "ww_cls6_gen", sizeof(struct ww_lpm6),
				sizeof(struct ww_cls), (uint32_t)n6, BPF_F_NO_PREALLOC,
				&fds[G_CLS6]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_LPM_TRIE, "ww_rules_gen", sizeof(struct ww_rule_key),
				sizeof(__u32), (uint32_t)k.nrules, BPF_F_NO_PREALLOC,
				&fds[G_RULES]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_ARRAY, "ww_dlists_gen", sizeof(__u32),
				sizeof(struct ww_xlist), (uint32_t)k.ndlists, BPF_F_INNER_MAP,
				&fds[G_DLISTS]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_ARRAY, "ww_settings_gen", sizeof(__u32),
				sizeof(struct ww_settings), 1, BPF_F_INNER_MAP, &fds[G_SETTINGS]);
	if (e) {
		sb_addf(err, "XDP: creating the generation's maps: %s", strerror(-e));
		goto out;
	}
	for (size_t i = 0; i < k.ncls && !e; i++) {
		const struct ww_xdp_cls *c = &k.cls[i];
		if (c->pfx.a.family == WW_INET) {
			struct ww_lpm4 key = {.prefixlen = c->pfx.len};
			ww_addr_bytes(WW_INET, c->pfx.a.v, key.addr);
			e = bpf_map_update_elem(fds[G_CLS4], &key, &c->val, BPF_ANY) ? -errno : 0;
		} else {
			struct ww_lpm6 key = {.prefixlen = c->pfx.len};
			ww_addr_bytes(WW_INET6, c->pfx.a.v, key.addr);
			e = bpf_map_update_elem(fds[G_CLS6], &key, &c->val, BPF_ANY) ? -errno : 0;
		}
	}
	for (size_t i = 0; i < k.nrules && !e; i++)
		e = bpf_map_update_elem(fds[G_RULES], &k.rules[i].key, &k.rules[i].dlist, BPF_ANY)
			? -errno
			: 0;
	for (uint32_t i = 0; i < k.ndlists && !e; i++)
		e = bpf_map_update_elem(fds[G_DLISTS], &i, &k.dlists[i], BPF_ANY) ? -errno : 0;
	if (!e) {
		uint32_t zero = 0;
		e = bpf_map_update_elem(fds[G_SETTINGS], &zero, &k.settings, BPF_ANY) ? -errno : 0;
	}
	if (e) {
		sb_addf(err, "XDP: filling the generation's maps: %s", strerror(-e));
		goto out;
	}
	/* Into the slot no packet reads: the switch makes it the active one. */
	t->new_slot = a.valid ? !(a.slot & 1) : 0;
	uint32_t ns = (uint32_t)t->new_slot;
	for (int i = 0; i < NGEN && !e; i++)
		e = bpf_map_update_elem(x->fd[GEN_OUTER(i)], &ns, &fds[i], BPF_ANY) ? -errno : 0;
	if (e)
		sb_addf(err, "XDP: installing the generation's maps: %s", strerror(-e));
	t->prepared = !e;
out:
	for (int i = 0; i < NGEN; i++)
		if (fds[i] >= 0)
			close(fds[i]); /* the outer maps hold them now */
	ww_xdp_image_free(&k);
	slots_free(&s);
	return e;
}

int ww_xdp_switch(struct ww_xdp *x, struct ww_xdp_txn *t, struct strbuf *err)
{
	struct ww_active a;
	struct timespec tai, real;
	uint32_t zero = 0;
	int e;

	if (!t->prepared)
		return -EINVAL;
	e = xdp_read_active(x, &a);
	if (e)
		return e;
	clock_gettime(CLOCK_TAI, &tai);
	clock_gettime(CLOCK_REALTIME, &real);
	int64_t off = ((int64_t)tai.tv_sec - real.tv_sec) * 1000000000LL +
		      ((int64_t)tai.tv_nsec - real.tv_nsec);
	/* Round to whole seconds: the two clocks differ by a whole number of leap seconds. */
	off = (off + (off >= 0 ? 500000000LL : -500000000LL)) / 1000000000LL * 1000000000LL;
	struct ww_active n = {.slot = (uint32_t)t->new_slot,
			      .valid = 1,
			      .generation = a.generation + 1,
			      .tai_offset_ns = (uint64_t)off};
	if (bpf_map_update_elem(x->fd[M_ACTIVE], &zero, &n, BPF_ANY)) {
		e = -errno;
		sb_addf(err, "XDP: switching generations: %s", strerror(errno));
	}
	return e;
}

/* Frees the slots of names no longer in use and zeroes their counters. */
static void free_slots(struct ww_xdp *x, int reg, int counters, const char *const *names, size_t n,
		       uint32_t rows)
{
	char key[WW_FLOW_ID_LEN], next[WW_FLOW_ID_LEN];
	char(*gone)[WW_FLOW_ID_LEN] = NULL;
	size_t ngone = 0, cap = 0;
	struct ww_count *zero = calloc((size_t)x->ncpus, sizeof(*zero));
	struct strset keep = {0};
	uint32_t v;

	/* A set, not a scan of names per key: a policy of 100,000 flows made this quadratic. */
	for (size_t i = 0; i < n && zero; i++)
		if (strset_add(&keep, names[i]) < 0)
			goto out;
	/* Collect first, delete after: deleting during the walk would invalidate its cursor. */
	for (void *k = NULL; zero && !bpf_map_get_next_key(x->fd[reg], k, next); k = key) {
		memcpy(key, next, sizeof(key));
		if (!strset_has(&keep, key) &&
		    vec_reserve(&gone, &cap, ngone + 1, sizeof(*gone)) == 0)
			memcpy(gone[ngone++], key, sizeof(key));
	}
	for (size_t i = 0; i < ngone; i++) {
		if (bpf_map_lookup_elem(x->fd[reg], gone[i], &v))
			continue;
		/* A zone's slot indexes a row and a column of the default counters. */
		for (uint32_t r = 0; r < rows; r++) {
			uint32_t i1 = rows > 1 ? v * WW_ZONE_SLOTS + r : v;
			uint32_t i2 = rows > 1 ? r * WW_ZONE_SLOTS + v : v;
			bpf_map_update_elem(x->fd[counters], &i1, zero, BPF_ANY);
			bpf_map_update_elem(x->fd[counters], &i2, zero, BPF_ANY);
		}
		bpf_map_delete_elem(x->fd[reg], gone[i]);
	}
out:
	strset_free(&keep);
	free(gone);
	free(zero);
}

int ww_xdp_finish(struct ww_xdp *x, const struct ww_policy *p, struct strbuf *err)
{
	const char **names = malloc((p->nflows + p->nzones + 1) * sizeof(*names));

	if (!names)
		return -ENOMEM;
	xdp_detach_others(x, p, NULL);
	for (size_t i = 0; i < p->nflows; i++)
		names[i] = p->flows[i].id;
	free_slots(x, M_FLOW_SLOTS, M_FLOW_STATS, names, p->nflows, 1);
	for (size_t i = 0; i < p->nzones; i++)
		names[i] = p->zones[i].name;
	free_slots(x, M_ZONE_SLOTS, M_DEFAULT_STATS, names, p->nzones, WW_ZONE_SLOTS);
	free(names);
	(void)err;
	return 0;
}

void ww_xdp_abort(struct ww_xdp *x, struct ww_xdp_txn *t)
{
	for (size_t i = 0; i < t->nattached; i++) {
		char *path = xdp_path(x, WW_PIN_LINKS, t->attached[i]);
		if (path)
			unlink(path);
		free(path);
	}
	/* The prepared maps sit in the inactive slot, read by no packet; the next prepare
	 * replaces them. */
}

void ww_xdp_txn_free(struct ww_xdp_txn *t)
{
	for (size_t i = 0; i < t->nattached; i++)
		free(t->attached[i]);
	free(t->attached);
	memset(t, 0, sizeof(*t));
}
