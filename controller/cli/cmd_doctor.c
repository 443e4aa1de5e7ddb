// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall doctor [--json] [--bpffs DIR] [--interface IF]... [POLICY]: does this kernel have
 * everything wardwall needs? Only reads (see doctor.h). Exit 0 when nothing required is missing
 * (warnings allowed), 1 when something is, 2 on a usage or system error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_tier.h"
#include "cli.h"
#include "doctor.h"
#include "policy.h"

/* Adds name to the list unless it is there already. */
static int add_iface(char ***v, size_t *n, size_t *cap, char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], name))
			return 0;
	return VEC_PUSH(*v, *n, *cap, name);
}

struct doctor_args {
	bool json;
	const char *bpffs;
	struct ww_strlist ifaces;
};

static const struct ww_opt doctor_opts[] = {
	WW_FLAG("--json", struct doctor_args, json),
	WW_STR("--bpffs", struct doctor_args, bpffs, "DIR"),
	WW_LIST("--interface", struct doctor_args, ifaces, "IF"),
	WW_OPT_END,
};

static int cmd_doctor(int argc, char **argv)
{
	struct doctor_args a = {0};
	char *rest[1];
	char **ifaces = NULL;
	size_t nifaces = 0, icap = 0;
	int npos = 0, rc = WW_EXIT_USAGE;
	struct ww_policy *p = NULL;
	struct ww_diags diags = {0};
	struct ww_doctor d = {.xdp_mode = -1, .hook_mode = -1};
	struct strbuf out = {0};

	if (ww_opts_parse(doctor_opts, argc, argv, &a, rest, 1, &npos)) {
		rc = ww_usage(&ww_cmd_doctor);
		goto out;
	}
	for (size_t i = 0; i < a.ifaces.n; i++) {
		const char *v = a.ifaces.v[i];
		if (!ww_ifname_valid(v)) {
			ww_errorf("doctor: --interface \"%s\" is not an interface name (1-15 "
				  "characters, no '/', ':' or spaces)",
				  v);
			rc = ww_usage(&ww_cmd_doctor);
			goto out;
		}
		if (add_iface(&ifaces, &nifaces, &icap, (char *)v)) {
			ww_errorf("doctor: out of memory");
			goto out;
		}
	}
	if (npos == 1) {
		int e;
		diags.file = rest[0];
		e = ww_policy_load(rest[0], &diags, &p);
		if (e) {
			struct strbuf msg = {0};
			ww_diags_sort(&diags);
			ww_diags_print(&diags, &msg);
			fputs(sb_str(&msg), stderr);
			sb_free(&msg);
			ww_errorf("doctor: %s: %s", rest[0],
				  e == -EINVAL ? "invalid policy (see 'wardwall check')"
					       : strerror(-e));
			goto out;
		}
		d.policy = rest[0];
		d.xdp_mode = (int)p->enf.xdp;
		d.hook_mode = (int)p->enf.mode;
		d.log_group = p->enf.log_group;
		for (size_t i = 0; i < p->enf.nifaces; i++)
			if (add_iface(&ifaces, &nifaces, &icap, p->enf.ifaces[i])) {
				ww_errorf("doctor: out of memory");
				goto out;
			}
	}
	d.bpffs = ww_bpffs(a.bpffs);
	d.ifaces = ifaces;
	d.nifaces = nifaces;
	ww_doctor_run(&d);
	if (d.oom) {
		ww_errorf("doctor: out of memory recording the results");
		goto out;
	}
	ww_doctor_print(&d, a.json, &out);
	if (out.oom) {
		ww_errorf("doctor: out of memory printing the results");
		goto out;
	}
	fputs(sb_str(&out), stdout);
	rc = ww_doctor_exit(&d);
out:
	sb_free(&out);
	ww_doctor_free(&d);
	ww_policy_free(p);
	ww_diags_free(&diags);
	free(ifaces);
	ww_opts_free(doctor_opts, &a);
	return rc;
}

const struct ww_cmd ww_cmd_doctor = {
	"doctor", cmd_doctor,
	"does this kernel have what wardwall needs? what is missing, and how to fix it", doctor_opts,
	"[POLICY]", NULL,
};
