// SPDX-License-Identifier: GPL-2.0-only
/* Stage 4 (apply), XDP: the BPF file system at its default place: mounted when missing, as bpftool and cilium do. */
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "xdp_tier.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

int ww_bpffs_ensure(const char *bpffs, bool *mounted, struct strbuf *err)
{
	struct statfs sfs;

	*mounted = false;
	if (!statfs(bpffs, &sfs) && sfs.f_type == BPF_FS_MAGIC)
		return 0;
	/* Only the system's own place: a directory named by --bpffs or WARDWALL_BPFFS is the
	 * caller's to mount (tests give a private one). */
	if (strcmp(bpffs, WW_BPFFS_DEFAULT))
		return 0;
	if (mkdir(bpffs, 0700) < 0 && errno != EEXIST) {
		sb_addf(err, "%s: %s", bpffs, strerror(errno));
		return -errno;
	}
	if (mount("bpf", bpffs, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
		int e = errno;
		sb_addf(err, "%s is not mounted, and mounting a BPF file system there failed: %s",
			bpffs, strerror(e));
		return -e;
	}
	*mounted = true;
	return 0;
}
