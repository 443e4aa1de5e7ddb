// SPDX-License-Identifier: GPL-2.0-only
/*
 * The doctor's BPF checks: the syscall, the JIT, BTF, the bpffs mount, every map type, program
 * type and helper the XDP program uses, XDP links, and finally the program itself through the
 * verifier. Probes create short-lived maps and programs and close them; nothing is pinned or
 * attached, and the program is loaded with pinning switched off and its big maps shrunk, so the
 * check costs a few kilobytes whatever wardwall's production sizes.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bpf_log.h"
#include "doctor.h"
#include "wardwall.h"
#include "wardwall.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Maps larger than this are shrunk for the verifier check: it only needs their shape. */
#define PROBE_MAX_ENTRIES 1024

static int xdp_pass_prog(void)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "ww_doctor", "GPL", insns, ARRAY_SIZE(insns), NULL);
}

static bool check_syscall(struct ww_doctor *d)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ww_doctor", 4, 4, 1, NULL);

	if (fd < 0) {
		int e = errno;
		ww_doctor_add(d, "bpf.syscall", WW_D_MISSING,
			      e == EPERM ? "run wardwall as root (see caps)" : NULL,
			      "creating a BPF map: %s%s", strerror(e),
			      e == ENOSYS ? " (the kernel has no bpf() system call)" : "");
		return false;
	}
	close(fd);
	ww_doctor_add(d, "bpf.syscall", WW_D_OK, NULL, "bpf() creates maps");
	return true;
}

/*
 * Whether programs are JIT-compiled, seen on a real program: net.core.bpf_jit_enable exists only
 * in the initial network namespace, so the sysctl alone cannot tell from inside another one.
 */
static void check_jit(struct ww_doctor *d)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	char sysctl[16] = "";
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int fd = xdp_pass_prog();

	if (f) {
		if (!fgets(sysctl, sizeof(sysctl), f))
			sysctl[0] = '\0';
		sysctl[strcspn(sysctl, "\n")] = '\0';
		fclose(f);
	}
	if (fd < 0) {
		ww_doctor_add(d, "bpf.jit", WW_D_MISSING, NULL,
			      "loading a two-instruction XDP program: %s", strerror(errno));
		return;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ww_doctor_add(d, "bpf.jit", WW_D_WARNING, "", "reading the program's info: %s",
			      strerror(errno));
	} else if (!info.jited_prog_len) {
		ww_doctor_add(d, "bpf.jit", WW_D_MISSING, NULL,
			      "programs run in the interpreter (net.core.bpf_jit_enable = %s)",
			      *sysctl ? sysctl : "not visible in this network namespace");
	} else if (!strcmp(sysctl, "2")) {
		ww_doctor_add(d, "bpf.jit", WW_D_WARNING, "sysctl -w net.core.bpf_jit_enable=1",
			      "programs are JIT-compiled, but net.core.bpf_jit_enable = 2 dumps "
			      "every compiled program to the kernel log");
	} else {
		ww_doctor_add(d, "bpf.jit", WW_D_OK, NULL,
			      "programs are JIT-compiled (net.core.bpf_jit_enable = %s)",
			      *sysctl ? sysctl : "not visible in this network namespace");
	}
	close(fd);
}

/* Kernel BTF is not required (the program uses no CO-RE): missing is a warning. */
static struct btf *check_btf(struct ww_doctor *d)
{
	struct btf *btf;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		ww_doctor_add(d, "bpf.btf", WW_D_WARNING, NULL,
			      "/sys/kernel/btf/vmlinux: %s; wardwall works without it, but the "
			      "doctor can only guess XDP link support from the version",
			      strerror(errno));
		return NULL;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		ww_doctor_add(d, "bpf.btf", WW_D_WARNING, NULL,
			      "/sys/kernel/btf/vmlinux does not parse: %s", strerror(errno));
		return NULL;
	}
	ww_doctor_add(d, "bpf.btf", WW_D_OK, NULL, "/sys/kernel/btf/vmlinux: %u types",
		      btf__type_cnt(btf));
	return btf;
}

static void check_bpffs(struct ww_doctor *d)
{
	const char *fs = d->bpffs;
	struct statfs sfs;
	struct statvfs svfs;
	char *fix = NULL;
	char sub[4096];

	if (statfs(fs, &sfs) < 0) {
		int e = errno;
		fix = xstrdup_printf("mkdir -p %s && mount -t bpf bpf %s (or point --bpffs or "
				     "WARDWALL_BPFFS at a mounted bpffs)",
				     fs, fs);
		ww_doctor_add(d, "bpf.fs", WW_D_MISSING, fix ? fix : "mount -t bpf bpf DIR",
			      "%s: %s", fs, strerror(e));
	} else if (sfs.f_type != BPF_FS_MAGIC) {
		fix = xstrdup_printf("mount -t bpf bpf %s (persist it: an /etc/fstab line \"bpf %s "
				     "bpf defaults 0 0\"); or point --bpffs or WARDWALL_BPFFS at a "
				     "mounted bpffs",
				     fs, fs);
		ww_doctor_add(d, "bpf.fs", WW_D_MISSING, fix ? fix : "mount -t bpf bpf DIR",
			      "%s is not a BPF file system (file system magic 0x%lx)", fs,
			      (unsigned long)sfs.f_type);
	} else if (!statvfs(fs, &svfs) && (svfs.f_flag & ST_RDONLY)) {
		fix = xstrdup_printf("mount -o remount,rw %s", fs);
		ww_doctor_add(d, "bpf.fs", WW_D_MISSING, fix, "%s is mounted read-only", fs);
	} else if (access(fs, W_OK | X_OK)) {
		ww_doctor_add(d, "bpf.fs", WW_D_MISSING, "run wardwall as root", "%s: %s", fs,
			      strerror(errno));
	} else {
		snprintf(sub, sizeof(sub), "%s/%s", fs, WW_PIN_DIR);
		ww_doctor_add(d, "bpf.fs", WW_D_OK, NULL, "%s is a writable bpffs%s", fs,
			      access(sub, F_OK) ? "" : " (wardwall's pins are in it)");
	}
	free(fix);
}

static void check_maps(struct ww_doctor *d)
{
	static const struct {
		enum bpf_map_type type;
		const char *id, *name;
	} maps[] = {
	    {BPF_MAP_TYPE_ARRAY, "bpf.map.array", "ARRAY"},
	    {BPF_MAP_TYPE_PERCPU_ARRAY, "bpf.map.percpu_array", "PERCPU_ARRAY"},
	    {BPF_MAP_TYPE_HASH, "bpf.map.hash", "HASH"},
	    {BPF_MAP_TYPE_LRU_HASH, "bpf.map.lru_hash", "LRU_HASH"},
	    {BPF_MAP_TYPE_LPM_TRIE, "bpf.map.lpm_trie", "LPM_TRIE"},
	    {BPF_MAP_TYPE_ARRAY_OF_MAPS, "bpf.map.array_of_maps", "ARRAY_OF_MAPS"},
	    {BPF_MAP_TYPE_RINGBUF, "bpf.map.ringbuf", "RINGBUF"},
	};
	LIBBPF_OPTS(bpf_map_create_opts, inner, .map_flags = BPF_F_INNER_MAP);
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		int r = libbpf_probe_bpf_map_type(maps[i].type, NULL);
		if (r == 1)
			ww_doctor_add(d, maps[i].id, WW_D_OK, NULL, "BPF_MAP_TYPE_%s",
				      maps[i].name);
		else if (r == 0)
			ww_doctor_add(d, maps[i].id, WW_D_MISSING, NULL,
				      "the kernel has no BPF_MAP_TYPE_%s", maps[i].name);
		else
			ww_doctor_add(d, maps[i].id, WW_D_MISSING, NULL,
				      "probing BPF_MAP_TYPE_%s: %s", maps[i].name, strerror(-r));
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ww_doctor", 4, 4, 1, &inner);
	if (fd >= 0) {
		close(fd);
		ww_doctor_add(d, "bpf.map.inner_map", WW_D_OK, NULL,
			      "arrays with BPF_F_INNER_MAP (inner maps of any size)");
	} else {
		ww_doctor_add(d, "bpf.map.inner_map", WW_D_MISSING, NULL,
			      "an ARRAY with BPF_F_INNER_MAP: %s", strerror(errno));
	}
}

static void check_prog(struct ww_doctor *d)
{
	static const struct {
		int id;
		const char *check, *name;
	} helpers[] = {
	    {BPF_FUNC_ktime_get_tai_ns, "bpf.helper.ktime_get_tai_ns", "bpf_ktime_get_tai_ns"},
	    {BPF_FUNC_ringbuf_reserve, "bpf.helper.ringbuf_reserve", "bpf_ringbuf_reserve"},
	};
	int r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);

	if (r == 1)
		ww_doctor_add(d, "bpf.prog.xdp", WW_D_OK, NULL, "BPF_PROG_TYPE_XDP");
	else
		ww_doctor_add(d, "bpf.prog.xdp", WW_D_MISSING, NULL, "BPF_PROG_TYPE_XDP: %s",
			      r ? strerror(-r) : "not supported");
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
		r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, (enum bpf_func_id)helpers[i].id,
					    NULL);
		if (r == 1)
			ww_doctor_add(d, helpers[i].check, WW_D_OK, NULL,
				      "%s (helper %d) in XDP programs", helpers[i].name,
				      helpers[i].id);
		else
			ww_doctor_add(d, helpers[i].check, WW_D_MISSING, NULL,
				      "%s (helper %d) in XDP programs: %s", helpers[i].name,
				      helpers[i].id, r ? strerror(-r) : "not available");
	}
}

/*
 * XDP links cannot be created without attaching to an interface, which the doctor never does:
 * the kernel's BTF says whether it has them (struct bpf_xdp_link), else its version does.
 */
static void check_link(struct ww_doctor *d, const struct btf *btf)
{
	struct utsname u;
	unsigned int have[3] = {0}, want[3] = {5, 9, 0};

	if (btf) {
		if (btf__find_by_name_kind(btf, "bpf_xdp_link", BTF_KIND_STRUCT) >= 0)
			ww_doctor_add(d, "bpf.link.xdp", WW_D_OK, NULL,
				      "the kernel has XDP links (struct bpf_xdp_link in its BTF)");
		else
			ww_doctor_add(d, "bpf.link.xdp", WW_D_MISSING, NULL,
				      "no struct bpf_xdp_link in the kernel's BTF: no XDP links");
		return;
	}
	if (uname(&u) < 0 || ww_kver_parse(u.release, have))
		ww_doctor_add(d, "bpf.link.xdp", WW_D_WARNING, NULL,
			      "cannot be determined without attaching (no BTF, unknown version)");
	else if (ww_kver_cmp(have, want) >= 0)
		ww_doctor_add(d, "bpf.link.xdp", WW_D_OK, NULL,
			      "Linux %s has XDP links (5.9+; no BTF to confirm)", u.release);
	else
		ww_doctor_add(d, "bpf.link.xdp", WW_D_MISSING, NULL, "Linux %s is older than 5.9",
			      u.release);
}

static void check_load(struct ww_doctor *d)
{
	struct ww_bpf_log log;
	struct wardwall_bpf *skel;
	struct bpf_map *m;
	size_t shrunk = 0;
	int e;

	ww_bpf_log_begin(&log);
	skel = wardwall_bpf__open();
	if (!skel) {
		e = errno;
		ww_doctor_add(d, "xdp.load", WW_D_MISSING, NULL, "opening the XDP object: %s",
			      strerror(e));
		goto out;
	}
	bpf_object__for_each_map(m, skel->obj)
	{
		/* Never pin (nor reuse pins): the default pin root is the real /sys/fs/bpf. */
		bpf_map__set_pin_path(m, NULL);
		if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
			shrunk += !bpf_map__set_max_entries(m, (uint32_t)sysconf(_SC_PAGESIZE));
		else if (bpf_map__max_entries(m) > PROBE_MAX_ENTRIES)
			shrunk += !bpf_map__set_max_entries(m, PROBE_MAX_ENTRIES);
	}
	e = wardwall_bpf__load(skel);
	if (e) {
		ww_doctor_add(d, "xdp.load", WW_D_MISSING, NULL,
			      "the verifier refused wardwall's XDP program: %s: %s", strerror(-e),
			      ww_bpf_log_tail(1));
	} else {
		struct bpf_prog_info info = {0};
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(skel->progs.ww_xdp);
		bpf_obj_get_info_by_fd(fd, &info, &len);
		ww_doctor_add(d, "xdp.load", WW_D_OK, NULL,
			      "the verifier accepts ww_xdp (%u instructions, %s; loaded with %zu "
			      "maps shrunk, nothing pinned, then unloaded)",
			      info.xlated_prog_len / 8,
			      info.jited_prog_len ? "JIT-compiled" : "interpreted", shrunk);
	}
	wardwall_bpf__destroy(skel);
out:
	ww_bpf_log_end(&log);
}

/* Records checks that could not run because the bpf() system call does not. */
static void untested(struct ww_doctor *d, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ww_doctor_add(d, ids[i], WW_D_MISSING, "fix bpf.syscall first",
			      "untested: the bpf() system call does not work");
}

void ww_doctor_bpf(struct ww_doctor *d)
{
	static const char *const jit[] = {"bpf.jit"};
	static const char *const types[] = {
	    "bpf.map.array",
	    "bpf.map.percpu_array",
	    "bpf.map.hash",
	    "bpf.map.lru_hash",
	    "bpf.map.lpm_trie",
	    "bpf.map.array_of_maps",
	    "bpf.map.ringbuf",
	    "bpf.map.inner_map",
	    "bpf.prog.xdp",
	    "bpf.helper.ktime_get_tai_ns",
	    "bpf.helper.ringbuf_reserve",
	};
	static const char *const load[] = {"xdp.load"};
	bool sys = check_syscall(d);
	struct btf *btf;

	/* BTF, bpffs and links are read from files and BTF: they need no bpf(). */
	if (sys)
		check_jit(d);
	else
		untested(d, jit, ARRAY_SIZE(jit));
	btf = check_btf(d);
	check_bpffs(d);
	if (sys) {
		check_maps(d);
		check_prog(d);
	} else {
		untested(d, types, ARRAY_SIZE(types));
	}
	check_link(d, btf);
	btf__free(btf);
	if (sys)
		check_load(d);
	else
		untested(d, load, ARRAY_SIZE(load));
}
