// SPDX-License-Identifier: GPL-2.0-only
/* Links: the program attached to the policy's interfaces, one pinned bpf_link each. */
#include "xdp_tier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xdp_int.h"

int xdp_link_info(int fd, struct bpf_link_info *info)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

static int pin_of_link(struct ww_xdp *x, const char *ifname, char **path)
{
	char *dir = xdp_path(x, WW_PIN_LINKS, NULL);

	if (!dir)
		return -ENOMEM;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = -errno;
		free(dir);
		return e;
	}
	free(dir);
	*path = xdp_path(x, WW_PIN_LINKS, ifname);
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
	ok = !xdp_link_info(fd, &li) && li.type == BPF_LINK_TYPE_XDP && li.xdp.ifindex == ifindex &&
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
			sb_addf(
			    err,
			    "XDP: interface \"%s\" (/enforcement/interfaces/%zu) does not exist",
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
				sb_addf(
				    err,
				    "XDP: interface \"%s\" does not support native XDP (%s); set "
				    "\"xdp\": \"generic\" to accept the slower generic mode",
				    ifn, strerror(-e));
			else if (e == -EBUSY || e == -EEXIST)
				sb_addf(err,
					"XDP: interface \"%s\" already has another XDP program",
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
int xdp_detach_others(struct ww_xdp *x, const struct ww_policy *p, bool *any)
{
	char *dir = xdp_path(x, WW_PIN_LINKS, NULL);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || listed(p, de->d_name))
			continue;
		char *path = xdp_path(x, WW_PIN_LINKS, de->d_name);
		if (path && !unlink(path) && any)
			*any = true;
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	return 0;
}

int ww_xdp_links_ok(struct ww_xdp *x, const struct ww_policy *p, bool *ok, struct strbuf *err)
{
	bool generic = p->enf.xdp == WW_XDP_GENERIC;
	char *dir = xdp_path(x, WW_PIN_LINKS, NULL);
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
		char *path = xdp_path(x, WW_PIN_LINKS, p->enf.ifaces[i]);
		unsigned int ifindex = if_nametoindex(p->enf.ifaces[i]);
		*ok = path && ifindex && link_good(path, ifindex, generic);
		free(path);
	}
	(void)err;
	return 0;
}

int ww_xdp_links_attached(struct ww_xdp *x, const struct ww_policy *p, bool *ok)
{
	bool generic = p->enf.xdp == WW_XDP_GENERIC;

	*ok = true;
	for (size_t i = 0; i < p->enf.nifaces && *ok; i++) {
		char *path = xdp_path(x, WW_PIN_LINKS, p->enf.ifaces[i]);
		unsigned int ifindex = if_nametoindex(p->enf.ifaces[i]);
		*ok = path && ifindex && link_good(path, ifindex, generic);
		free(path);
	}
	return 0;
}
