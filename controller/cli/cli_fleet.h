/* SPDX-License-Identifier: GPL-2.0-only */
/* The options every fleet command shares: how to reach etcd, and the fleet's key prefix. */
#ifndef WW_CLI_FLEET_H
#define WW_CLI_FLEET_H

#include "cli.h"
#include "fleet.h"

/* Option table entries for a command whose options struct T has a struct ww_fleet_conn conn;
 * --etcd is required. */
#define WW_FLEET_OPTS(T)                                                                           \
	WW_STR("--etcd", T, conn.endpoints, "URLS", .required = true),                             \
		WW_STR("--key", T, conn.prefix, "PREFIX"),                                         \
		WW_STR("--etcd-cacert", T, conn.cacert, "CA"),                                     \
		WW_STR("--etcd-cert", T, conn.cert, "CERT"),                                       \
		WW_STR("--etcd-key", T, conn.key, "KEY"),                                          \
		WW_STR("--etcd-user", T, conn.user, "USER"),                                       \
		WW_STR("--etcd-password-file", T, conn.password_file, "FILE")

#endif
