// SPDX-License-Identifier: GPL-2.0-only
/*
 * The doctor's interface checks: for each interface wardwall would attach XDP to (--interface,
 * the policy's enforcement.interfaces), what is attached now and whether the driver can run XDP
 * natively. Only queries: bpf_xdp_query (rtnetlink) and the netdev generic netlink family's
 * xdp-features (Linux 6.3+). Nothing is ever attached: without xdp-features, native support
 * cannot be known short of trying, and the doctor says so.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "model.h"

/* linux/netdev.h (6.3) is newer than Debian 12's headers. */
#define WW_NETDEV_FAMILY	  "netdev"
#define WW_NETDEV_CMD_DEV_GET	  1
#define WW_NETDEV_A_DEV_IFINDEX	  1
#define WW_NETDEV_A_DEV_XDP_FEATS 3
#define WW_NETDEV_XDP_ACT_BASIC	  1ULL

/* The XDP program's name in bpf/wardwall.bpf.c. */
#define WW_PROG_NAME "ww_xdp"

struct genl {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint16_t family; /* 0: the kernel has no netdev family */
	int err;	 /* why family is 0 */
};

static int talk(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[8192];
	ssize_t len;
	int r;

	if (mnl_socket_sendto(g->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		len = mnl_socket_recvfrom(g->nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, g->portid, cb, data);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *request(struct genl *g, char *buf, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++g->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = 1;
	return nlh;
}

static int family_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_get_payload_len(a) >= sizeof(uint16_t))
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, data);
}

struct feats {
	uint64_t v;
	bool found;
};

static int dev_attr(const struct nlattr *a, void *data)
{
	struct feats *f = data;

	if (mnl_attr_get_type(a) == WW_NETDEV_A_DEV_XDP_FEATS &&
	    mnl_attr_get_payload_len(a) == sizeof(uint64_t)) {
		memcpy(&f->v, mnl_attr_get_payload(a), sizeof(f->v));
		f->found = true;
	}
	return MNL_CB_OK;
}

static int dev_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), dev_attr, data);
}

static void genl_open(struct genl *g)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	g->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!g->nl || mnl_socket_bind(g->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		g->err = -errno;
		return;
	}
	g->portid = mnl_socket_get_portid(g->nl);
	g->seq = (uint32_t)time(NULL);
	nlh = request(g, buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WW_NETDEV_FAMILY);
	g->err = talk(g, nlh, family_cb, &g->family);
	if (!g->err && !g->family)
		g->err = -ENOENT;
}

/* The interface's xdp-features; -ENOENT when the kernel cannot say. */
static int xdp_features(struct genl *g, unsigned int ifindex, uint64_t *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct feats f = {0};
	int e;

	if (!g->family)
		return g->err ? g->err : -ENOENT;
	nlh = request(g, buf, g->family, WW_NETDEV_CMD_DEV_GET);
	mnl_attr_put_u32(nlh, WW_NETDEV_A_DEV_IFINDEX, ifindex);
	e = talk(g, nlh, dev_cb, &f);
	if (!e && !f.found)
		e = -ENOENT;
	if (!e)
		*out = f.v;
	return e;
}

static const char *mode_name(uint8_t m)
{
	switch (m) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offloaded";
	case XDP_ATTACHED_MULTI:
		return "several modes";
	default:
		return "none";
	}
}

static void prog_name(uint32_t id, char out[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(out, BPF_OBJ_NAME_LEN, "?");
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(out, BPF_OBJ_NAME_LEN, "%s", info.name);
	close(fd);
}

struct brport {
	uint32_t master;
	bool bridge; /* IFLA_LINKINFO / IFLA_INFO_SLAVE_KIND is "bridge" */
};

static int linkinfo_attr(const struct nlattr *a, void *data)
{
	struct brport *b = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_SLAVE_KIND &&
	    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
		b->bridge = !strcmp(mnl_attr_get_str(a), "bridge");
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct brport *b = data;

	if (mnl_attr_get_type(a) == IFLA_MASTER && !mnl_attr_validate(a, MNL_TYPE_U32))
		b->master = mnl_attr_get_u32(a);
	else if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, linkinfo_attr, b);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, data);
}

/* Whether ifindex is a port of a Linux bridge, and which (rtnetlink RTM_GETLINK). */
static int bridge_port(unsigned int ifindex, struct brport *out)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	ssize_t len;
	int e = 0;

	*out = (struct brport){0};
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		goto out;
	}
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		e = -errno;
		goto out;
	}
	len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (len < 0 || mnl_cb_run(buf, (size_t)len, nlh->nlmsg_seq, mnl_socket_get_portid(nl),
				  link_cb, out) < 0)
		e = errno ? -errno : -EIO;
out:
	if (nl)
		mnl_socket_close(nl);
	return e;
}

static enum ww_dstatus worse(enum ww_dstatus a, enum ww_dstatus b)
{
	return a > b ? a : b;
}

/* One interface's check: what was found (det) and how to fix it (fix), worst status st. */
struct iface_check {
	const char *ifname;
	unsigned int ifindex;
	enum ww_dstatus st;
	struct strbuf det, fix;
};

/* Bridge mode filters what a bridge forwards between its ports: a listed interface that is none
 * enforces nothing. */
static void check_bridge_port(struct iface_check *ic)
{
	struct brport bp;
	char master[IF_NAMESIZE] = "";
	int e = bridge_port(ic->ifindex, &bp);

	if (!e && bp.bridge && bp.master && if_indextoname(bp.master, master)) {
		sb_addf(&ic->det, "a port of bridge %s; ", master);
		return;
	}
	ic->st = WW_D_WARNING;
	if (e)
		sb_addf(&ic->det, "whether it is a bridge port: %s; ", strerror(-e));
	else
		sb_add(&ic->det,
		       "not a port of a Linux bridge: bridge mode enforces nothing on it; ");
	sb_addf(&ic->fix,
		"make it a port of the bridge (ip link set dev %s master BRIDGE), or "
		"leave it out of enforcement.interfaces",
		ic->ifname);
}

/* The XDP program attached now: none, wardwall's, or another one in the way. */
static void check_attached(struct iface_check *ic)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	int e = bpf_xdp_query((int)ic->ifindex, 0, &q);

	if (e) {
		ic->st = WW_D_WARNING;
		sb_addf(&ic->det, "querying its XDP program: %s; ", strerror(-e));
		return;
	}
	if (q.attach_mode == XDP_ATTACHED_NONE) {
		sb_add(&ic->det, "no XDP program attached; ");
		return;
	}
	uint32_t pid = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	prog_name(pid, name);
	sb_addf(&ic->det, "attached: %s (program id %u, %s mode); ", name, pid,
		mode_name(q.attach_mode));
	if (strcmp(name, WW_PROG_NAME)) {
		ic->st = WW_D_WARNING;
		sb_addf(&ic->fix,
			"another XDP program is attached: detach it first (ip link set dev %s xdp "
			"off), or leave %s out of enforcement.interfaces",
			ic->ifname, ic->ifname);
	}
}

/* Whether the driver runs XDP natively, against what the policy's enforcement.xdp asks. */
static void check_native(const struct ww_doctor *d, struct genl *g, struct iface_check *ic)
{
	struct strbuf fs = {0};
	uint64_t feats = 0;
	int e = xdp_features(g, ic->ifindex, &feats);

	if (e) {
		if (d->xdp_mode == WW_XDP_OFF) {
			sb_add(&ic->det,
			       "native XDP support unknown (the policy does not use XDP)");
		} else if (d->xdp_mode == WW_XDP_GENERIC) {
			sb_add(&ic->det,
			       "generic XDP, as the policy asks, works on every interface");
		} else {
			ic->st = worse(ic->st, WW_D_WARNING);
			sb_addf(&ic->det,
				"native XDP support cannot be determined without attaching (%s)",
				e == -ENOENT ? "netdev xdp-features needs Linux 6.3"
					     : strerror(-e));
			sb_add(&ic->fix, ic->fix.len ? "; " : "");
			sb_add(&ic->fix,
			       "apply in a maintenance window: if the driver refuses native "
			       "mode, apply fails and changes nothing; enforcement.xdp "
			       "\"generic\" works everywhere");
		}
		return;
	}
	ww_xdp_features_str(feats, &fs);
	if (feats & WW_NETDEV_XDP_ACT_BASIC) {
		sb_addf(&ic->det, "native XDP supported (xdp-features: %s)", sb_str(&fs));
	} else if (d->xdp_mode == WW_XDP_OFF || d->xdp_mode == WW_XDP_GENERIC) {
		sb_addf(&ic->det, "no native XDP in its driver (xdp-features: %s); %s", sb_str(&fs),
			d->xdp_mode == WW_XDP_GENERIC ? "generic XDP, as the policy asks, works"
						      : "the policy does not use XDP");
	} else {
		ic->st = worse(ic->st, d->xdp_mode == WW_XDP_NATIVE ? WW_D_MISSING : WW_D_WARNING);
		sb_addf(&ic->det, "its driver has no native XDP (xdp-features: %s)%s", sb_str(&fs),
			d->xdp_mode == WW_XDP_NATIVE
			    ? ", but the policy asks for enforcement.xdp \"native\""
			    : ": only generic mode would work");
		sb_add(&ic->fix, ic->fix.len ? "; " : "");
		sb_add(&ic->fix,
		       "set enforcement.xdp to \"generic\" (it runs later, on the kernel's "
		       "socket buffers, and is slower), or use a network card whose driver "
		       "has native XDP");
	}
	sb_free(&fs);
}

static void check_iface(struct ww_doctor *d, struct genl *g, const char *ifname)
{
	struct iface_check ic = {
	    .ifname = ifname, .ifindex = if_nametoindex(ifname), .st = WW_D_OK};
	char id[64];

	snprintf(id, sizeof(id), "xdp.iface/%s", ifname);
	if (!ic.ifindex) {
		ww_doctor_add(
		    d, id, WW_D_MISSING,
		    "check the name (ip link), or run the doctor in the network namespace "
		    "that holds the interface",
		    "no interface %s in this network namespace", ifname);
		return;
	}
	sb_addf(&ic.det, "ifindex %u; ", ic.ifindex);
	if (d->hook_mode == WW_BRIDGE)
		check_bridge_port(&ic);
	check_attached(&ic);
	check_native(d, g, &ic);
	ww_doctor_add(d, id, ic.st, ic.st == WW_D_OK ? NULL : sb_str(&ic.fix), "%s",
		      sb_str(&ic.det));
	sb_free(&ic.det);
	sb_free(&ic.fix);
}

void ww_doctor_ifaces(struct ww_doctor *d)
{
	struct genl g = {0};

	if (!d->nifaces)
		return;
	genl_open(&g);
	for (size_t i = 0; i < d->nifaces; i++)
		check_iface(d, &g, d->ifaces[i]);
	if (g.nl)
		mnl_socket_close(g.nl);
}
