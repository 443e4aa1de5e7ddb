/* SPDX-License-Identifier: GPL-2.0-only */
/* The netlink socket shared by nft_batch.c and nft_read.c (internal to them). */
#ifndef WW_NFT_SOCK_H
#define WW_NFT_SOCK_H

#include <libmnl/libmnl.h>
#include <stdint.h>

#include "nft_nl.h"

struct ww_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char buf[32768]; /* dumps: one page of messages at a time; per handle, for threads */
};

/*
 * Sends one request and runs cb on every reply message until the dump or ack ends.
 * Returns 0 or -errno (the kernel's error for the request).
 */
int ww_nft_talk(struct ww_nft *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
