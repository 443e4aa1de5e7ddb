/* SPDX-License-Identifier: GPL-2.0-only */
/* The options every fleet command shares: how to reach etcd, and the fleet's key prefix. */
#ifndef WW_CLI_FLEET_H
#define WW_CLI_FLEET_H

#include "cli.h"
#include "fleet.h"

#define WW_FLEET_OPTS(c)                                                                           \
	{"--etcd", &(c).endpoints, NULL}, {"--key", &(c).prefix, NULL},                            \
		{"--etcd-cacert", &(c).cacert, NULL}, {"--etcd-cert", &(c).cert, NULL},            \
		{"--etcd-key", &(c).key, NULL}, {"--etcd-user", &(c).user, NULL},                  \
		{"--etcd-password-file", &(c).password_file, NULL}

#define WW_FLEET_USAGE                                                                             \
	"--etcd URLS [--key PREFIX] [--etcd-cacert CA --etcd-cert CERT --etcd-key KEY] "          \
	"[--etcd-user USER --etcd-password-file FILE]"

#endif
