// SPDX-License-Identifier: GPL-2.0-only
#include "xdp.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "eval.h"
#include "wardwall.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

enum { M_ACTIVE, M_CLS4, M_CLS6, M_RULES, M_DLISTS, M_SETTINGS, M_FLOW_STATS,
       M_DEFAULT_STATS, M_STATS, M_CT, M_EVENTS, M_FLOW_SLOTS, M_ZONE_SLOTS, M_RATELIMIT,
       M_META, NMAPS };

static const char *const map_names[NMAPS] = {
	"ww_active", "ww_cls4", "ww_cls6", "ww_rules", "ww_dlists", "ww_settings",
	"ww_flow_stats", "ww_default_stats", "ww_stats", "ww_ct", "ww_events", "ww_flow_slots",
	"ww_zone_slots", "ww_ratelimit", "ww_meta",
};

struct ww_xdp {
	char *root; /* <bpffs>/wardwall */
	struct wardwall_bpf *skel;
	int prog_fd;
	int fd[NMAPS];
	int ncpus;
};

/*
 * libbpf reports through one process-wide callback. Its messages (the verifier's log on a
 * failed load can be megabytes) are kept, the last lines only, for the error wardwall prints;
 * WARDWALL_DEBUG=1 shows them all.
 */
static char libbpf_tail[4096];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n, have;

	if (getenv("WARDWALL_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	have = strlen(libbpf_tail);
	if (have + n >= sizeof(libbpf_tail)) {
		size_t drop = have + n - sizeof(libbpf_tail) + 1;
		memmove(libbpf_tail, libbpf_tail + drop, have - drop + 1);
	}
	strncat(libbpf_tail, line, sizeof(libbpf_tail) - strlen(libbpf_tail) - 1);
	return (int)n;
}

const char *ww_bpffs(const char *bpffs)
{
	const char *env = getenv("WARDWALL_BPFFS");

	return bpffs ? bpffs : env && *env ? env : WW_BPFFS_DEFAULT;
}

static char *path_of(const struct ww_xdp *x, const char *a, const char *b)
{
	return b ? xstrdup_printf("%s/%s/%s", x->root, a, b) : xstrdup_printf("%s/%s", x->root, a);
}

void ww_xdp_close(struct ww_xdp *x)
{
	if (!x)
		return;
	for (int i = 0; i < NMAPS; i++)
		if (x->fd[i] >= 0 && !x->skel)
			close(x->fd[i]);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	wardwall_bpf__destroy(x->skel);
	free(x->root);
	free(x);
}

static int prog_tag(int fd, char out[17], uint32_t *id)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	for (int i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", info.tag[i]);
	if (id)
		*id = info.id;
	return 0;
}

static int link_info(int fd, struct bpf_link_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/* Points every pinned link at prog_fd (after a program upgrade). */
static int relink_all(struct ww_xdp *x, struct strbuf *err)
{
	char *dir = path_of(x, WW_PIN_LINKS, NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int e = 0;

	if (!d) {
		free(dir);
		return 0;
	}
	while ((de = readdir(d)) && !e) {
		if (de->d_name[0] == '.')
			continue;
		char *p = path_of(x, WW_PIN_LINKS, de->d_name);
		int lfd = p ? bpf_obj_get(p) : -1;
		if (lfd >= 0 && bpf_link_update(lfd, x->prog_fd, NULL)) {
			e = -errno;
			sb_addf(err, "updating the program on %s: %s", de->d_name, strerror(errno));
		}
		if (lfd >= 0)
			close(lfd);
		free(p);
	}
	closedir(d);
	free(dir);
	return e;
}

static int open_pinned(struct ww_xdp *x, struct strbuf *err)
{
	for (int i = 0; i < NMAPS; i++) {
		char *p = path_of(x, map_names[i], NULL);
		x->fd[i] = p ? bpf_obj_get(p) : -1;
		free(p);
		if (x->fd[i] < 0 && i < M_FLOW_SLOTS)
			return -ENOENT;
	}
	char *pp = path_of(x, WW_PIN_PROG, NULL);
	x->prog_fd = pp ? bpf_obj_get(pp) : -1;
	free(pp);
	(void)err;
	return 0;
}

/* The sha256 of the BPF object this controller embeds. */
static void object_hash(char out[65])
{
	size_t sz;
	const void *elf = wardwall_bpf__elf_bytes(&sz);

	sha256_hex(elf, sz, out);
}

/*
 * When everything is pinned and the pinned program was loaded from this very object, there is
 * nothing to load: opening the pins is enough (and saves the verifier's work on every apply).
 */
static bool pinned_current(struct ww_xdp *x)
{
	struct ww_meta meta;
	char want[65];
	uint32_t zero = 0;

	if (open_pinned(x, NULL) || x->prog_fd < 0)
		goto no;
	for (int i = 0; i < NMAPS; i++)
		if (x->fd[i] < 0)
			goto no;
	object_hash(want);
	if (bpf_map_lookup_elem(x->fd[M_META], &zero, &meta) || strcmp(meta.object_sha256, want))
		goto no;
	return true;
no:
	for (int i = 0; i < NMAPS; i++)
		if (x->fd[i] >= 0)
			close(x->fd[i]), x->fd[i] = -1;
	if (x->prog_fd >= 0)
		close(x->prog_fd), x->prog_fd = -1;
	return false;
}

static int record_meta(struct ww_xdp *x, struct strbuf *err)
{
	struct ww_meta meta = {0};
	uint32_t zero = 0;

	object_hash(meta.object_sha256);
	if (bpf_map_update_elem(x->fd[M_META], &zero, &meta, BPF_ANY)) {
		sb_addf(err, "XDP: recording the loaded object: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int load(struct ww_xdp *x, const char *bpffs, struct strbuf *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = x->root);
	char tag_new[17], tag_old[17];
	char *pp = NULL;
	int e, old;

	if (mkdir(x->root, 0700) < 0 && errno != EEXIST) {
		e = -errno;
		sb_addf(err, "%s: %s", x->root, strerror(errno));
		return e;
	}
	if (pinned_current(x))
		return 0;
	libbpf_set_print(libbpf_print);
	libbpf_tail[0] = '\0';
	x->skel = wardwall_bpf__open_opts(&oo);
	if (!x->skel) {
		e = -errno;
		sb_addf(err, "opening the XDP object: %s", strerror(errno));
		return e;
	}
	e = wardwall_bpf__load(x->skel);
	if (e) {
		/* The verifier's verdict is at the end of its log. */
		const char *tail = libbpf_tail, *p = libbpf_tail + strlen(libbpf_tail);
		for (int lines = 0; p > libbpf_tail && lines < 6; p--)
			if (p[-1] == '\n' && ++lines == 6)
				tail = p;
		sb_addf(err, "loading the XDP program (see `wardwall doctor`): %s\n%s", strerror(-e),
			tail);
		return e;
	}
	for (int i = 0; i < NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(x->skel->obj, map_names[i]);
		x->fd[i] = m ? bpf_map__fd(m) : -1;
	}
	int fresh = bpf_program__fd(x->skel->progs.ww_xdp);
	pp = path_of(x, WW_PIN_PROG, NULL);
	if (!pp)
		return -ENOMEM;
	/* Keep the pinned program unless this build's differs; then switch every link to it. */
	old = bpf_obj_get(pp);
	if (old >= 0 && !prog_tag(old, tag_old, NULL) && !prog_tag(fresh, tag_new, NULL) &&
	    !strcmp(tag_old, tag_new)) {
		x->prog_fd = old;
		free(pp);
		return record_meta(x, err);
	}
	if (old >= 0) {
		close(old);
		unlink(pp);
	}
	x->prog_fd = dup(fresh);
	e = bpf_obj_pin(fresh, pp) ? -errno : 0;
	if (e)
		sb_addf(err, "pinning the XDP program at %s: %s", pp, strerror(-e));
	free(pp);
	if (!e)
		e = relink_all(x, err);
	return e ? e : record_meta(x, err);
}

int ww_xdp_open(const char *bpffs, bool want_load, struct ww_xdp **out, struct strbuf *err)
{
	struct ww_xdp *x = calloc(1, sizeof(*x));
	struct statfs sfs;
	int e;

	if (!x)
		return -ENOMEM;
	x->prog_fd = -1;
	for (int i = 0; i < NMAPS; i++)
		x->fd[i] = -1;
	bpffs = ww_bpffs(bpffs);
	x->root = xstrdup_printf("%s/%s", bpffs, WW_PIN_DIR);
	x->ncpus = libbpf_num_possible_cpus();
	if (!x->root || x->ncpus <= 0) {
		ww_xdp_close(x);
		return -ENOMEM;
	}
	if (statfs(bpffs, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC) {
		sb_addf(err, "%s is not a BPF file system (mount -t bpf bpf %s)", bpffs, bpffs);
		ww_xdp_close(x);
		return -ENOTDIR;
	}
	e = want_load ? load(x, bpffs, err) : open_pinned(x, err);
	if (e) {
		ww_xdp_close(x);
		return e;
	}
	*out = x;
	return 0;
}

/* ---- slots ---- */

struct slots {
	uint32_t *flow; /* [flow index] */
	uint32_t *zone; /* [zone index] */
};

static void key_of(char k[WW_FLOW_ID_LEN], const char *s)
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
		key_of(key, names[i]);
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
	/* In gateway mode, packets to the gateway itself are the host firewall's business. */
	if (p->enf.mode == WW_GATEWAY && getifaddrs(&ifa) == 0) {
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

/* ---- reading a generation ---- */

static int inner_fd(struct ww_xdp *x, int outer, uint32_t slot)
{
	uint32_t id;

	if (bpf_map_lookup_elem(x->fd[outer], &slot, &id))
		return -errno;
	int fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

static int read_active(struct ww_xdp *x, struct ww_active *a)
{
	uint32_t zero = 0;

	memset(a, 0, sizeof(*a));
	return bpf_map_lookup_elem(x->fd[M_ACTIVE], &zero, a) ? -errno : 0;
}

static int read_image(struct ww_xdp *x, uint32_t slot, struct ww_xdp_image *img)
{
	int fds[5] = {-1, -1, -1, -1, -1};
	int e = 0;
	size_t ccap = 0, rcap = 0;

	memset(img, 0, sizeof(*img));
	for (int i = 0; i < 5 && !e; i++) {
		fds[i] = inner_fd(x, M_CLS4 + i, slot);
		if (fds[i] < 0)
			e = fds[i];
	}
	for (int fam = 0; fam < 2 && !e; fam++) {
		struct ww_lpm6 key, next; /* large enough for both */
		struct ww_cls val;
		for (void *k = NULL; !bpf_map_get_next_key(fds[fam], k, &next); k = &key) {
			memcpy(&key, &next, sizeof(key));
			if (bpf_map_lookup_elem(fds[fam], &key, &val))
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
		for (void *k = NULL; !bpf_map_get_next_key(fds[2], k, &next); k = &key) {
			memcpy(&key, &next, sizeof(key));
			if (bpf_map_lookup_elem(fds[2], &key, &val))
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
		e = bpf_obj_get_info_by_fd(fds[3], &info, &len) ? -errno : 0;
		img->dlists = e ? NULL : calloc(info.max_entries + 1, sizeof(*img->dlists));
		if (!e && !img->dlists)
			e = -ENOMEM;
		for (uint32_t i = 0; !e && i < info.max_entries; i++)
			if (bpf_map_lookup_elem(fds[3], &i, &img->dlists[i]))
				e = -errno;
		img->ndlists = e ? 0 : info.max_entries;
	}
	if (!e) {
		uint32_t zero = 0;
		e = bpf_map_lookup_elem(fds[4], &zero, &img->settings) ? -errno : 0;
	}
	for (int i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (e)
		ww_xdp_image_free(img);
	else
		ww_xdp_image_sort(img);
	return e;
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
	e = read_active(x, &a);
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
		e = read_image(x, a.slot & 1, &have);
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
	int fds[5] = {-1, -1, -1, -1, -1};
	size_t n4 = 0, n6 = 0;
	int e;

	memset(t, 0, sizeof(*t));
	e = read_active(x, &a);
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
			sizeof(struct ww_cls), (uint32_t)n4, BPF_F_NO_PREALLOC, &fds[0]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_LPM_TRIE, "ww_cls6_gen", sizeof(struct ww_lpm6),
				sizeof(struct ww_cls), (uint32_t)n6, BPF_F_NO_PREALLOC, &fds[1]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_LPM_TRIE, "ww_rules_gen", sizeof(struct ww_rule_key),
				sizeof(__u32), (uint32_t)k.nrules, BPF_F_NO_PREALLOC, &fds[2]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_ARRAY, "ww_dlists_gen", sizeof(__u32),
				sizeof(struct ww_xlist), (uint32_t)k.ndlists, BPF_F_INNER_MAP,
				&fds[3]);
	if (!e)
		e = create_fill(BPF_MAP_TYPE_ARRAY, "ww_settings_gen", sizeof(__u32),
				sizeof(struct ww_settings), 1, BPF_F_INNER_MAP, &fds[4]);
	if (e) {
		sb_addf(err, "XDP: creating the generation's maps: %s", strerror(-e));
		goto out;
	}
	for (size_t i = 0; i < k.ncls && !e; i++) {
		const struct ww_xdp_cls *c = &k.cls[i];
		if (c->pfx.a.family == WW_INET) {
			struct ww_lpm4 key = {.prefixlen = c->pfx.len};
			ww_addr_bytes(WW_INET, c->pfx.a.v, key.addr);
			e = bpf_map_update_elem(fds[0], &key, &c->val, BPF_ANY) ? -errno : 0;
		} else {
			struct ww_lpm6 key = {.prefixlen = c->pfx.len};
			ww_addr_bytes(WW_INET6, c->pfx.a.v, key.addr);
			e = bpf_map_update_elem(fds[1], &key, &c->val, BPF_ANY) ? -errno : 0;
		}
	}
	for (size_t i = 0; i < k.nrules && !e; i++)
		e = bpf_map_update_elem(fds[2], &k.rules[i].key, &k.rules[i].dlist, BPF_ANY) ? -errno
											     : 0;
	for (uint32_t i = 0; i < k.ndlists && !e; i++)
		e = bpf_map_update_elem(fds[3], &i, &k.dlists[i], BPF_ANY) ? -errno : 0;
	if (!e) {
		uint32_t zero = 0;
		e = bpf_map_update_elem(fds[4], &zero, &k.settings, BPF_ANY) ? -errno : 0;
	}
	if (e) {
		sb_addf(err, "XDP: filling the generation's maps: %s", strerror(-e));
		goto out;
	}
	/* Into the slot no packet reads: the switch makes it the active one. */
	t->new_slot = a.valid ? !(a.slot & 1) : 0;
	uint32_t ns = (uint32_t)t->new_slot;
	for (int i = 0; i < 5 && !e; i++)
		e = bpf_map_update_elem(x->fd[M_CLS4 + i], &ns, &fds[i], BPF_ANY) ? -errno : 0;
	if (e)
		sb_addf(err, "XDP: installing the generation's maps: %s", strerror(-e));
	t->prepared = !e;
out:
	for (int i = 0; i < 5; i++)
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
	e = read_active(x, &a);
	if (e)
		return e;
	clock_gettime(CLOCK_TAI, &tai);
	clock_gettime(CLOCK_REALTIME, &real);
	int64_t off = ((int64_t)tai.tv_sec - real.tv_sec) * 1000000000LL +
		      ((int64_t)tai.tv_nsec - real.tv_nsec);
	/* Round to whole seconds: the two clocks differ by a whole number of leap seconds. */
	off = (off + (off >= 0 ? 500000000LL : -500000000LL)) / 1000000000LL * 1000000000LL;
	struct ww_active n = {.slot = (uint32_t)t->new_slot, .valid = 1,
			      .generation = a.generation + 1, .tai_offset_ns = (uint64_t)off};
	if (bpf_map_update_elem(x->fd[M_ACTIVE], &zero, &n, BPF_ANY)) {
		e = -errno;
		sb_addf(err, "XDP: switching generations: %s", strerror(errno));
	}
	return e;
}

/* ---- links ---- */

static int pin_of_link(struct ww_xdp *x, const char *ifname, char **path)
{
	char *dir = path_of(x, WW_PIN_LINKS, NULL);

	if (!dir)
		return -ENOMEM;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = -errno;
		free(dir);
		return e;
	}
	free(dir);
	*path = path_of(x, WW_PIN_LINKS, ifname);
	return *path ? 0 : -ENOMEM;
}

/* Is a pinned link for ifname attached to the interface of that name, in the right mode? */
static bool link_good(const char *path, unsigned int ifindex, bool generic)
{
	struct bpf_link_info li;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int fd = bpf_obj_get(path);
	bool ok;

	if (fd < 0)
		return false;
	ok = !link_info(fd, &li) && li.type == BPF_LINK_TYPE_XDP && li.xdp.ifindex == ifindex &&
	     !bpf_xdp_query((int)ifindex, 0, &q) &&
	     q.attach_mode == (generic ? XDP_ATTACHED_SKB : XDP_ATTACHED_DRV);
	close(fd);
	return ok;
}

int ww_xdp_attach(struct ww_xdp *x, const struct ww_policy *p, struct ww_xdp_txn *t,
		  struct strbuf *err)
{
	bool generic = p->enf.xdp == WW_XDP_GENERIC;
	int e = 0;

	for (size_t i = 0; i < p->enf.nifaces && !e; i++) {
		const char *ifn = p->enf.ifaces[i];
		unsigned int ifindex = if_nametoindex(ifn);
		char *path = NULL;
		if (!ifindex) {
			sb_addf(err, "XDP: interface \"%s\" (/enforcement/interfaces/%zu) does not exist",
				ifn, i);
			return -ENODEV;
		}
		e = pin_of_link(x, ifn, &path);
		if (e)
			break;
		if (link_good(path, ifindex, generic)) {
			free(path);
			continue;
		}
		unlink(path); /* a stale link (interface gone or recreated, or mode changed) */
		LIBBPF_OPTS(bpf_link_create_opts, lo,
			    .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
		int lfd = bpf_link_create(x->prog_fd, (int)ifindex, BPF_XDP, &lo);
		if (lfd < 0) {
			e = -errno;
			if (!generic && (e == -EOPNOTSUPP || e == -EINVAL))
				sb_addf(err,
					"XDP: interface \"%s\" does not support native XDP (%s); set "
					"\"xdp\": \"generic\" to accept the slower generic mode",
					ifn, strerror(-e));
			else if (e == -EBUSY || e == -EEXIST)
				sb_addf(err, "XDP: interface \"%s\" already has another XDP program",
					ifn);
			else
				sb_addf(err, "XDP: attaching to \"%s\": %s", ifn, strerror(-e));
			free(path);
			break;
		}
		if (bpf_obj_pin(lfd, path)) {
			e = -errno;
			sb_addf(err, "XDP: pinning the link of \"%s\": %s", ifn, strerror(errno));
		}
		close(lfd); /* the pin keeps it; on failure closing detaches */
		char *dup = strdup(ifn);
		size_t cap = t->nattached;
		if (!e && (!dup || VEC_PUSH(t->attached, t->nattached, cap, dup)))
			free(dup), e = -ENOMEM;
		free(path);
	}
	return e;
}

static bool listed(const struct ww_policy *p, const char *ifn)
{
	for (size_t i = 0; p && i < p->enf.nifaces; i++)
		if (!strcmp(p->enf.ifaces[i], ifn))
			return true;
	return false;
}

/* Unpins (and so detaches) every link not in p's interfaces (all of them when p is NULL). */
static int detach_others(struct ww_xdp *x, const struct ww_policy *p, bool *any)
{
	char *dir = path_of(x, WW_PIN_LINKS, NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || listed(p, de->d_name))
			continue;
		char *path = path_of(x, WW_PIN_LINKS, de->d_name);
		if (path && !unlink(path) && any)
			*any = true;
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	return 0;
}

/* Frees the slots of names no longer in use and zeroes their counters. */
static void free_slots(struct ww_xdp *x, int reg, int counters, const char *const *names,
		       size_t n, uint32_t rows)
{
	char key[WW_FLOW_ID_LEN], next[WW_FLOW_ID_LEN];
	char (*gone)[WW_FLOW_ID_LEN] = NULL;
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
	detach_others(x, p, NULL);
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
		char *path = path_of(x, WW_PIN_LINKS, t->attached[i]);
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

int ww_xdp_links_ok(struct ww_xdp *x, const struct ww_policy *p, bool *ok, struct strbuf *err)
{
	bool generic = p->enf.xdp == WW_XDP_GENERIC;
	char *dir = path_of(x, WW_PIN_LINKS, NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	size_t n = 0;

	*ok = true;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		if (!listed(p, de->d_name))
			*ok = false;
	}
	if (d)
		closedir(d);
	free(dir);
	if (n != p->enf.nifaces)
		*ok = false;
	for (size_t i = 0; i < p->enf.nifaces && *ok; i++) {
		char *path = path_of(x, WW_PIN_LINKS, p->enf.ifaces[i]);
		unsigned int ifindex = if_nametoindex(p->enf.ifaces[i]);
		*ok = path && ifindex && link_good(path, ifindex, generic);
		free(path);
	}
	(void)err;
	return 0;
}

/* ---- remove ---- */

int ww_xdp_remove(const char *bpffs, bool *changed, struct strbuf *err)
{
	char *root = xstrdup_printf("%s/%s", ww_bpffs(bpffs), WW_PIN_DIR);
	struct stat st;

	*changed = false;
	if (!root)
		return -ENOMEM;
	if (stat(root, &st) == 0) {
		/* Links first: unpinning them detaches the program from every interface. */
		char *links = xstrdup_printf("%s/%s", root, WW_PIN_LINKS);
		if (links)
			rm_tree(links);
		free(links);
		rm_tree(root);
		*changed = true;
		if (stat(root, &st) == 0) {
			sb_addf(err, "could not remove everything under %s", root);
			free(root);
			return -EBUSY;
		}
	}
	free(root);
	return 0;
}

/* ---- readback for show, plan, stats ---- */

int ww_xdp_read(struct ww_xdp *x, struct ww_xdp_state *s, struct strbuf *err)
{
	struct ww_active a;
	char *dir;
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	int e;

	memset(s, 0, sizeof(*s));
	e = read_active(x, &a);
	if (e) {
		sb_addf(err, "XDP: reading ww_active: %s", strerror(-e));
		return e;
	}
	s->valid = a.valid;
	s->slot = a.slot;
	s->generation = a.generation;
	if (x->prog_fd >= 0)
		prog_tag(x->prog_fd, s->prog_tag, &s->prog_id);
	dir = path_of(x, WW_PIN_LINKS, NULL);
	d = dir ? opendir(dir) : NULL;
	while (d && (de = readdir(d))) {
		struct ww_xdp_link l = {0};
		struct bpf_link_info li;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		if (de->d_name[0] == '.')
			continue;
		snprintf(l.ifname, sizeof(l.ifname), "%.15s", de->d_name);
		char *path = path_of(x, WW_PIN_LINKS, de->d_name);
		int fd = path ? bpf_obj_get(path) : -1;
		free(path);
		if (fd >= 0 && !link_info(fd, &li)) {
			l.ifindex = li.xdp.ifindex;
			l.prog_id = li.prog_id;
			char name[IF_NAMESIZE] = "";
			l.present = li.xdp.ifindex && if_indextoname(li.xdp.ifindex, name) &&
				    !strcmp(name, l.ifname);
			if (l.present && !bpf_xdp_query((int)l.ifindex, 0, &q))
				l.generic = q.attach_mode == XDP_ATTACHED_SKB;
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
		e = read_image(x, a.slot & 1, &s->img);
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
	key_of(key, id);
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
	key_of(key, name);
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

int ww_xdp_ringbuf_fd(struct ww_xdp *x)
{
	return x->fd[M_EVENTS];
}

int ww_xdp_fd(struct ww_xdp *x, const char *name)
{
	if (!strcmp(name, "prog"))
		return x->prog_fd >= 0 ? x->prog_fd : -ENOENT;
	for (int i = 0; i < NMAPS; i++)
		if (!strcmp(map_names[i], name))
			return x->fd[i] >= 0 ? x->fd[i] : -ENOENT;
	return -ENOENT;
}
