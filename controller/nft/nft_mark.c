// SPDX-License-Identifier: GPL-2.0-only
#include "nft_mark.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nft_nl.h"
#include "util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* The running binary's sha256, computed once. */
static int binary_sha256(char out[65])
{
	static char cached[65];
	char *data;
	size_t len;
	int e;

	if (!cached[0]) {
		e = read_file("/proc/self/exe", &data, &len);
		if (e)
			return e;
		sha256_hex(data, len, cached);
		free(data);
	}
	memcpy(out, cached, 65);
	return 0;
}

int ww_nft_mark_here(struct ww_nft *n, struct ww_nft_mark *m)
{
	char *boot;
	size_t len;
	socklen_t cl = sizeof(m->netns_cookie);
	int e;

	memset(m, 0, sizeof(*m));
	e = read_file("/proc/sys/kernel/random/boot_id", &boot, &len);
	if (e)
		return e;
	snprintf(m->boot_id, sizeof(m->boot_id), "%.*s", (int)strcspn(boot, "\n"), boot);
	free(boot);
	if (getsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_NETNS_COOKIE, &m->netns_cookie,
		       &cl) < 0)
		return -errno;
	e = binary_sha256(m->binary_sha256);
	return e ? e : ww_nft_genid(n, &m->genid);
}

bool ww_nft_mark_matches(const struct ww_nft_mark *m, const struct ww_nft_mark *here)
{
	return m->boot_id[0] && !strcmp(m->boot_id, here->boot_id) &&
	       m->netns_cookie == here->netns_cookie && m->genid == here->genid &&
	       !strcmp(m->binary_sha256, here->binary_sha256) && m->policy_sha256[0];
}

bool ww_nft_mark_vouches(struct ww_nft *n, const char *state_dir, const char *policy_sha256,
			 uint32_t *genid)
{
	struct ww_nft_mark here, mark;

	if (ww_nft_mark_load(state_dir, &mark) || strcmp(mark.policy_sha256, policy_sha256) ||
	    ww_nft_mark_here(n, &here) || !ww_nft_mark_matches(&mark, &here))
		return false;
	*genid = here.genid;
	return true;
}

static char *mark_path(const char *state_dir)
{
	return xstrdup_printf("%s/nft-mark.json", state_dir);
}

static bool copy_str(const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return false;
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return true;
}

int ww_nft_mark_load(const char *state_dir, struct ww_nft_mark *m)
{
	char *path = mark_path(state_dir), *text = NULL;
	size_t len;
	int e = path ? read_file(path, &text, &len) : -ENOMEM;
	cJSON *o;

	free(path);
	memset(m, 0, sizeof(*m));
	if (e)
		return e;
	o = cJSON_Parse(text);
	free(text);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "netns_cookie");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "genid");
	char cookie[24] = "";
	if (!copy_str(o, "boot_id", m->boot_id, sizeof(m->boot_id)) ||
	    !copy_str(o, "binary_sha256", m->binary_sha256, sizeof(m->binary_sha256)) ||
	    !copy_str(o, "policy_sha256", m->policy_sha256, sizeof(m->policy_sha256)) ||
	    !cJSON_IsString(c) || strlen(c->valuestring) >= sizeof(cookie) ||
	    sscanf(c->valuestring, "%" SCNu64, &m->netns_cookie) != 1 || !cJSON_IsNumber(g) ||
	    g->valuedouble < 0 || g->valuedouble > UINT32_MAX) {
		cJSON_Delete(o);
		memset(m, 0, sizeof(*m));
		return -EBADMSG;
	}
	m->genid = (uint32_t)g->valuedouble;
	cJSON_Delete(o);
	return 0;
}

int ww_nft_mark_save(const char *state_dir, const struct ww_nft_mark *m)
{
	char *path = mark_path(state_dir);
	/* The cookie is a string: JSON numbers lose 64-bit integers in many readers. */
	char *text = xstrdup_printf("{\"boot_id\": \"%s\", \"netns_cookie\": \"%" PRIu64 "\", "
				    "\"genid\": %" PRIu32 ", \"binary_sha256\": \"%s\", "
				    "\"policy_sha256\": \"%s\"}\n",
				    m->boot_id, m->netns_cookie, m->genid, m->binary_sha256,
				    m->policy_sha256);
	int e = path && text ? write_file_atomic(path, text, strlen(text), 0640) : -ENOMEM;

	free(path);
	free(text);
	return e;
}

void ww_nft_mark_clear(const char *state_dir)
{
	char *path = mark_path(state_dir);

	if (path)
		unlink(path);
	free(path);
}

uint32_t ww_nft_genid_next(uint32_t genid)
{
	return genid + 1 ? genid + 1 : 1;
}
