// SPDX-License-Identifier: GPL-2.0-only
#include "evlog.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

static char *log_path(const char *state_dir, const char *name)
{
	if (!state_dir)
		state_dir = getenv("WARDWALL_STATE_DIR");
	if (!state_dir || !*state_dir)
		state_dir = WW_STATE_DIR;
	return xstrdup_printf("%s/%s/%s", state_dir, WW_EVLOG_DIR, name);
}

int ww_evlog_open(const char *state_dir, const char *name, off_t max, unsigned int keep,
		  struct ww_evlog *l, struct strbuf *err)
{
	struct stat sb;
	int e;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->max = max;
	l->keep = keep;
	l->path = log_path(state_dir, name);
	if (!l->path)
		return -ENOMEM;
	char *dir = strdup(l->path);
	if (!dir)
		return -ENOMEM;
	/* The state directory, then events/ in it. */
	*strrchr(dir, '/') = '\0';
	char *slash = strrchr(dir, '/');
	e = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) && errno != EEXIST)
			e = -errno;
		*slash = '/';
	}
	if (!e && mkdir(dir, 0750) && errno != EEXIST)
		e = -errno;
	free(dir);
	if (!e) {
		l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		e = l->fd < 0 ? -errno : 0;
	}
	if (e) {
		sb_addf(err, "%s: %s", l->path, strerror(-e));
		ww_evlog_close(l);
		return e;
	}
	l->size = fstat(l->fd, &sb) ? 0 : sb.st_size;
	return 0;
}

static int rotate(struct ww_evlog *l)
{
	char from[4096], to[4096];

	for (unsigned int k = l->keep; k >= 1; k--) {
		snprintf(to, sizeof(to), "%s.%u", l->path, k);
		if (k == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%u", l->path, k - 1);
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	if (!l->keep)
		unlink(l->path);
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	close(l->fd);
	l->fd = fd;
	l->size = 0;
	l->rotations++;
	return 0;
}

int ww_evlog_append(struct ww_evlog *l, const char *line, size_t len)
{
	int e = 0;

	if (l->fd < 0)
		return -EBADF;
	if (l->size > 0 && l->size + (off_t)len > l->max)
		e = rotate(l);
	ssize_t w = e ? -1 : write(l->fd, line, len);
	if (w != (ssize_t)len) {
		l->failed++;
		return e ? e : w < 0 ? -errno : -EIO;
	}
	l->size += (off_t)len;
	l->lines++;
	return 0;
}

void ww_evlog_close(struct ww_evlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

int ww_evlog_read(const char *state_dir, const char *name, unsigned int keep,
		  int (*cb)(const char *line, void *arg), void *arg)
{
	char *base = log_path(state_dir, name);
	int rc = 0;

	if (!base)
		return -ENOMEM;
	for (int k = (int)keep; k >= 0 && !rc; k--) {
		char path[4096];
		if (k)
			snprintf(path, sizeof(path), "%s.%d", base, k);
		else
			snprintf(path, sizeof(path), "%s", base);
		FILE *f = fopen(path, "re");
		if (!f) {
			if (errno != ENOENT)
				rc = -errno;
			continue;
		}
		char *line = NULL;
		size_t cap = 0;
		while (!rc && getline(&line, &cap, f) > 0)
			rc = cb(line, arg);
		free(line);
		fclose(f);
	}
	free(base);
	return rc;
}

int ww_time_ms_parse(const char *s, int64_t *ns)
{
	struct tm tm = {0};
	int ms = 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!p)
		return -EINVAL;
	if (*p == '.' && sscanf(p, ".%3d", &ms) != 1)
		return -EINVAL;
	*ns = (int64_t)timegm(&tm) * 1000000000LL + (int64_t)ms * 1000000LL;
	return 0;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void copy(char *dst, size_t n, const char *s, const char *none)
{
	snprintf(dst, n, "%s", s ? s : none);
}

int ww_logrec_parse(const char *line, struct ww_logrec *r)
{
	static const char *const verdicts[] = {"allow", "deny", "monitor"};
	cJSON *o = cJSON_Parse(line);
	const char *s;
	int e = -EINVAL, proto;

	memset(r, 0, sizeof(*r));
	if (!o)
		return -EINVAL;
	s = str(o, "type");
	if (!s || strcmp(s, "event")) {
		e = s ? -ENOENT : -EINVAL;
		goto out;
	}
	if (!(s = str(o, "time")) || ww_time_ms_parse(s, &r->time_ns))
		goto out;
	s = str(o, "tier");
	if (!s || (strcmp(s, "nftables") && strcmp(s, "xdp")))
		goto out;
	r->tier = strcmp(s, "xdp") ? WW_TIER_NFT : WW_TIER_XDP;
	s = str(o, "verdict");
	for (size_t i = 0; s && i < ARRAY_SIZE(verdicts); i++)
		if (!strcmp(s, verdicts[i]))
			r->verdict = verdicts[i];
	if (!r->verdict)
		goto out;
	copy(r->flow, sizeof(r->flow), str(o, "flow"), "?");
	copy(r->zone[0], sizeof(r->zone[0]), str(o, "src_zone"), "");
	copy(r->zone[1], sizeof(r->zone[1]), str(o, "dst_zone"), "");
	copy(r->host[0], sizeof(r->host[0]), str(o, "src_host"), "");
	copy(r->host[1], sizeof(r->host[1]), str(o, "dst_host"), "");
	copy(r->ifname[0], sizeof(r->ifname[0]), str(o, "in"), "");
	copy(r->ifname[1], sizeof(r->ifname[1]), str(o, "out"), "");
	const char *src = str(o, "src"), *dst = str(o, "dst"), *p = str(o, "proto");
	if (src && dst && p && !ww_proto_parse(p, &proto)) {
		r->t.family = strchr(src, ':') ? 6 : 4;
		int af = r->t.family == 6 ? AF_INET6 : AF_INET;
		if (inet_pton(af, src, r->t.src) != 1 || inet_pton(af, dst, r->t.dst) != 1)
			goto out;
		r->t.proto = (uint8_t)proto;
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "sport"),
			    *dp = cJSON_GetObjectItemCaseSensitive(o, "dport"),
			    *it = cJSON_GetObjectItemCaseSensitive(o, "icmp_type"),
			    *ic = cJSON_GetObjectItemCaseSensitive(o, "icmp_code");
		if (cJSON_IsNumber(sp) && cJSON_IsNumber(dp)) {
			r->t.ports = true;
			r->t.sport = (uint16_t)sp->valuedouble;
			r->t.dport = (uint16_t)dp->valuedouble;
		}
		if (cJSON_IsNumber(it) && cJSON_IsNumber(ic)) {
			r->t.icmp = true;
			r->t.type = (uint8_t)it->valuedouble;
			r->t.code = (uint8_t)ic->valuedouble;
		}
	}
	e = 0;
out:
	cJSON_Delete(o);
	return e;
}
