// SPDX-License-Identifier: GPL-2.0-only
/*
 * The doctor's host checks: the process's capabilities, the TAI clock offset, and wardwall's own
 * kernel state (table inet wardwall, the pins under <bpffs>/wardwall) when there is any, read
 * with the same readers as show and plan.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

#include "xdp_tier.h"
#include "doctor.h"
#include "nft_nl.h"
#include "nft_readback.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

void ww_doctor_caps(struct ww_doctor *d)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];
	bool net_admin, bpf, sys_admin;

	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c) < 0) {
		ww_doctor_add(d, "caps", WW_D_WARNING, "", "capget: %s", strerror(errno));
		return;
	}
#define HAS(cap) (!!(c[(cap) / 32].effective & (1u << ((cap) % 32))))
	net_admin = HAS(CAP_NET_ADMIN);
	bpf = HAS(CAP_BPF);
	sys_admin = HAS(CAP_SYS_ADMIN);
#undef HAS
	if (net_admin && (bpf || sys_admin))
		ww_doctor_add(d, "caps", WW_D_OK, NULL, "effective: CAP_NET_ADMIN, %s",
			      bpf ? "CAP_BPF" : "CAP_SYS_ADMIN");
	else
		ww_doctor_add(d, "caps", WW_D_MISSING, NULL, "this process lacks %s%s%s",
			      net_admin ? "" : "CAP_NET_ADMIN (nftables, XDP links)",
			      !net_admin && !(bpf || sys_admin) ? " and " : "",
			      bpf || sys_admin ? "" : "CAP_BPF (maps, programs)");
}

/*
 * nftables decides windows by CLOCK_REALTIME; XDP reads CLOCK_TAI (the only wall clock a BPF
 * program has) and subtracts the offset apply recorded. Both agree as long as the offset does
 * not change after an apply.
 */
void ww_doctor_clock(struct ww_doctor *d)
{
	struct timex tx = {0};
	int state = adjtimex(&tx);
	bool synced = !(tx.status & STA_UNSYNC);

	if (state < 0) {
		ww_doctor_add(d, "clock.tai", WW_D_WARNING, "", "adjtimex: %s", strerror(errno));
		return;
	}
	if (tx.tai)
		ww_doctor_add(d, "clock.tai", WW_D_OK, NULL,
			      "CLOCK_TAI = CLOCK_REALTIME + %d s; apply records the offset, so XDP "
			      "windows are exact (re-apply after a leap second changes it)",
			      tx.tai);
	else if (synced)
		ww_doctor_add(
		    d, "clock.tai", WW_D_WARNING,
		    "let the NTP daemon set the offset before wardwall applies (chrony: "
		    "\"leapsectz right/UTC\"; ntpd: \"leapfile\"), then re-apply",
		    "TAI offset 0 while NTP keeps the clock: CLOCK_TAI equals "
		    "CLOCK_REALTIME, so XDP and nftables windows are exact now; but if the "
		    "daemon later sets the offset (37 s today), XDP windows shift by it "
		    "until the next apply");
	else
		ww_doctor_add(d, "clock.tai", WW_D_OK, NULL,
			      "TAI offset 0 and no NTP synchronisation: CLOCK_TAI equals "
			      "CLOCK_REALTIME, XDP and nftables windows agree (both are only as "
			      "right as this clock)");
}

static void state_nft(struct ww_doctor *d)
{
	struct ww_nft *n = NULL;
	struct nfr_table *t = NULL;
	struct ww_readback rb = {0};
	struct strbuf err = {0};
	uint32_t gen = 0;
	size_t foreign = 0, rules = 0;
	int e;

	e = ww_nft_open(&n);
	if (!e)
		e = ww_nft_read(n, &t, &gen, &err);
	if (e) {
		if (err.len)
			ww_doctor_add(d, "state.nft", WW_D_WARNING, "", "%s", sb_str(&err));
		else
			ww_doctor_add(d, "state.nft", WW_D_WARNING, "",
				      "reading wardwall's table: %s", strerror(-e));
		goto out;
	}
	if (!t) {
		ww_doctor_add(d, "state.nft", WW_D_OK, NULL,
			      "no table inet wardwall here, nor bridge (nothing applied in this "
			      "namespace)");
		goto out;
	}
	for (size_t i = 0; i < t->nchains; i++) {
		foreign += t->chains[i].foreign != NULL;
		rules += t->chains[i].nrules;
		for (size_t j = 0; j < t->chains[i].nrules; j++)
			foreign += t->chains[i].rules[j].foreign != NULL;
	}
	for (size_t i = 0; i < t->nsets; i++)
		foreign += t->sets[i].foreign != NULL;
	e = ww_readback(t, &rb);
	if (!e)
		foreign += rb.unexplained;
	if (foreign)
		ww_doctor_add(d, "state.nft", WW_D_WARNING, NULL,
			      "table %s wardwall (generation %u) holds %zu rule%s, set%s or "
			      "element%s wardwall does not write",
			      nfr_family_str(t->family), gen, foreign, foreign == 1 ? "" : "s", foreign == 1 ? "" : "s",
			      foreign == 1 ? "" : "s");
	else
		ww_doctor_add(d, "state.nft", WW_D_OK, NULL,
			      "table %s wardwall reads back cleanly: %zu chains, %zu rules, %zu "
			      "maps, %zu counters (ruleset generation %u)",
			      nfr_family_str(t->family), t->nchains, rules, t->nsets, t->ncounters, gen);
	ww_readback_free(&rb);
out:
	nfr_table_free(t);
	ww_nft_close(n);
	sb_free(&err);
}

/* Is there anything under <bpffs>/wardwall? */
static bool any_pins(const char *root)
{
	DIR *dir = opendir(root);
	struct dirent *de;
	bool any = false;

	while (dir && !any && (de = readdir(dir)))
		any = de->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return any;
}

static void state_xdp(struct ww_doctor *d)
{
	struct ww_xdp *x = NULL;
	struct ww_xdp_state s;
	struct strbuf err = {0}, bad = {0};
	char *root = xstrdup_printf("%s/%s", d->bpffs, WW_PIN_DIR);
	int e;

	if (!root) {
		ww_doctor_add(d, "state.xdp", WW_D_WARNING, "", "out of memory");
		return;
	}
	e = ww_xdp_open(d->bpffs, false, &x, &err);
	if (e == -ENOTDIR) {
		ww_doctor_add(d, "state.xdp", WW_D_OK, NULL,
			      "nothing to read: %s is not a BPF file system (see bpf.fs)",
			      d->bpffs);
		goto out;
	}
	if (e == -ENOENT && !any_pins(root)) {
		ww_doctor_add(d, "state.xdp", WW_D_OK, NULL, "nothing pinned under %s", root);
		goto out;
	}
	if (e) {
		ww_doctor_add(d, "state.xdp", WW_D_WARNING, NULL, "%s: %s", root,
			      e == -ENOENT ? "some of wardwall's pins are missing"
			      : err.len	   ? sb_str(&err)
					   : strerror(-e));
		goto out;
	}
	e = ww_xdp_read(x, &s, &err);
	if (e) {
		ww_doctor_add(d, "state.xdp", WW_D_WARNING, NULL, "%s: %s", root, sb_str(&err));
		goto out;
	}
	for (size_t i = 0; i < s.nlinks; i++) {
		const struct ww_xdp_link *l = &s.links[i];
		if (!l->present)
			sb_addf(&bad, "%sthe link pinned for %s is not attached to it",
				bad.len ? "; " : "", l->ifname);
		else if (s.prog_id && l->prog_id != s.prog_id)
			sb_addf(&bad, "%s%s runs program %u, not the pinned %u",
				bad.len ? "; " : "", l->ifname, l->prog_id, s.prog_id);
	}
	if (!s.prog_id)
		sb_addf(&bad, "%sno pinned program", bad.len ? "; " : "");
	if (!s.valid && s.nlinks)
		sb_addf(&bad,
			"%s%zu link%s attached but no generation installed: the program passes "
			"every packet (an apply did not finish)",
			bad.len ? "; " : "", s.nlinks, s.nlinks == 1 ? "" : "s");
	if (bad.len)
		ww_doctor_add(d, "state.xdp", WW_D_WARNING, NULL, "%s: %s", root, sb_str(&bad));
	else
		ww_doctor_add(d, "state.xdp", WW_D_OK, NULL, "%s: program id %u, %s, %zu link%s",
			      root, s.prog_id,
			      s.valid ? "a generation is installed" : "no generation installed yet",
			      s.nlinks, s.nlinks == 1 ? "" : "s");
	ww_xdp_state_free(&s);
out:
	ww_xdp_close(x);
	free(root);
	sb_free(&err);
	sb_free(&bad);
}

void ww_doctor_state(struct ww_doctor *d)
{
	state_nft(d);
	state_xdp(d);
}
