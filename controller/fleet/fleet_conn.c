// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "fleet.h"

int ww_fleet_connect(const struct ww_fleet_conn *c, struct ww_etcd **out, struct strbuf *err)
{
	struct ww_etcd_opts o = {.endpoints = c->endpoints, .cacert = c->cacert,
				 .cert = c->cert, .key = c->key, .user = c->user};
	char *pw = NULL;
	size_t len;
	int ret;

	if (!c->endpoints) {
		sb_add(err, "--etcd URLS is required");
		return -EINVAL;
	}
	if (c->password_file) {
		if ((ret = read_file(c->password_file, &pw, &len))) {
			sb_addf(err, "%s: %s", c->password_file, strerror(-ret));
			return ret;
		}
		while (len && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
			pw[--len] = '\0';
		o.password = pw;
	}
	if (c->user && !pw) {
		sb_add(err, "--etcd-user needs --etcd-password-file");
		return -EINVAL;
	}
	ret = ww_etcd_open(&o, out, err);
	if (pw)
		memset(pw, 0, len), free(pw);
	return ret;
}

char *ww_fleet_key(const struct ww_fleet_conn *c, const char *suffix)
{
	const char *p = c->prefix ? c->prefix : "/wardwall";
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return xstrdup_printf("%.*s/%s", (int)n, p, suffix);
}
