// SPDX-License-Identifier: GPL-2.0-only
/* Loading: wardwall's pinned program and maps under <bpffs>/wardwall, opened or (re)loaded. */
#include "xdp_tier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bpf_log.h"
#include "wardwall.skel.h"
#include "xdp_int.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

const char *const ww_xdp_map_names[NMAPS] = {
    [M_ACTIVE] = "ww_active",
    [M_CLS4] = "ww_cls4",
    [M_CLS6] = "ww_cls6",
    [M_RULES] = "ww_rules",
    [M_DLISTS] = "ww_dlists",
    [M_SETTINGS] = "ww_settings",
    [M_FLOW_STATS] = "ww_flow_stats",
    [M_DEFAULT_STATS] = "ww_default_stats",
    [M_STATS] = "ww_stats",
    [M_CT] = "ww_ct",
    [M_EVENTS] = "ww_events",
    [M_FLOW_SLOTS] = "ww_flow_slots",
    [M_ZONE_SLOTS] = "ww_zone_slots",
    [M_LOG_BUDGET] = "ww_log_budget",
    [M_META] = "ww_meta",
    [M_QUAR4] = "ww_quar4",
    [M_QUAR6] = "ww_quar6",
    [M_QUAR_KEEP] = "ww_quar_keep",
    [M_QUAR_STATS] = "ww_quar_stats",
    [M_DENY] = "ww_deny",
    [M_DENY_SEEN] = "ww_deny_seen",
};

const char *ww_bpffs(const char *bpffs)
{
	const char *env = getenv("WARDWALL_BPFFS");

	return bpffs ? bpffs : env && *env ? env : WW_BPFFS_DEFAULT;
}

char *xdp_path(const struct ww_xdp *x, const char *a, const char *b)
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

int xdp_prog_tag(int fd, char out[17], uint32_t *id)
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

/* Points every pinned link at prog_fd (after a program upgrade). */
static int relink_all(struct ww_xdp *x, struct strbuf *err)
{
	char *dir = xdp_path(x, WW_PIN_LINKS, NULL);
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
		char *p = xdp_path(x, WW_PIN_LINKS, de->d_name);
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
		char *p = xdp_path(x, ww_xdp_map_names[i], NULL);
		x->fd[i] = p ? bpf_obj_get(p) : -1;
		free(p);
		if (x->fd[i] < 0 && i < M_FLOW_SLOTS)
			return -ENOENT;
	}
	char *pp = xdp_path(x, WW_PIN_PROG, NULL);
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

/* Pins of maps earlier programs had and this one replaced (ww_ratelimit: one budget for every
 * zone, now ww_log_budget), removed once this program is loaded. */
static void unpin_obsolete(struct ww_xdp *x)
{
	static const char *const gone[] = {"ww_ratelimit"};

	for (size_t i = 0; i < ARRAY_SIZE(gone); i++) {
		char *p = xdp_path(x, gone[i], NULL);
		if (p)
			unlink(p);
		free(p);
	}
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
	struct ww_bpf_log log;
	ww_bpf_log_begin(&log);
	x->skel = wardwall_bpf__open_opts(&oo);
	e = x->skel ? wardwall_bpf__load(x->skel) : -errno;
	ww_bpf_log_end(&log);
	if (!x->skel) {
		sb_addf(err, "opening the XDP object: %s", strerror(-e));
		return e;
	}
	if (e) {
		/* The verifier's verdict is at the end of its log. */
		sb_addf(err, "loading the XDP program (see `wardwall doctor`): %s\n%s",
			strerror(-e), ww_bpf_log_tail(5));
		return e;
	}
	for (int i = 0; i < NMAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(x->skel->obj, ww_xdp_map_names[i]);
		x->fd[i] = m ? bpf_map__fd(m) : -1;
	}
	unpin_obsolete(x);
	int fresh = bpf_program__fd(x->skel->progs.ww_xdp);
	pp = xdp_path(x, WW_PIN_PROG, NULL);
	if (!pp)
		return -ENOMEM;
	/* Keep the pinned program unless this build's differs; then switch every link to it. */
	old = bpf_obj_get(pp);
	if (old >= 0 && !xdp_prog_tag(old, tag_old, NULL) && !xdp_prog_tag(fresh, tag_new, NULL) &&
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
	bool mounted;
	if (want_load && (e = ww_bpffs_ensure(bpffs, &mounted, err))) {
		ww_xdp_close(x);
		return e;
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

int ww_xdp_ringbuf_fd(struct ww_xdp *x)
{
	return x->fd[M_EVENTS];
}

int ww_xdp_fd(struct ww_xdp *x, const char *name)
{
	if (!strcmp(name, "prog"))
		return x->prog_fd >= 0 ? x->prog_fd : -ENOENT;
	for (int i = 0; i < NMAPS; i++)
		if (!strcmp(ww_xdp_map_names[i], name))
			return x->fd[i] >= 0 ? x->fd[i] : -ENOENT;
	return -ENOENT;
}
