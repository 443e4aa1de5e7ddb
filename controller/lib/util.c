// SPDX-License-Identifier: GPL-2.0-only
#include "util.h"

#include <dirent.h>
#include <ctype.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <signal.h>
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	char *s;

	if (sb->oom || need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	s = realloc(sb->s, cap);
	if (!s) {
		sb->oom = true;
		return;
	}
	sb->s = s;
	sb->cap = cap;
}

void sb_addn(struct strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	if (sb->oom)
		return;
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void sb_add(struct strbuf *sb, const char *s)
{
	sb_addn(sb, s, strlen(s));
}

/* Appends s escaped for HTML text and attribute values (both report pages use it). */
void sb_add_html(struct strbuf *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			sb_add(o, "&amp;");
			break;
		case '<':
			sb_add(o, "&lt;");
			break;
		case '>':
			sb_add(o, "&gt;");
			break;
		case '"':
			sb_add(o, "&quot;");
			break;
		case '\'':
			sb_add(o, "&#39;");
			break;
		default:
			sb_addn(o, s, 1);
		}
	}
}

void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	sb_grow(sb, (size_t)n);
	if (sb->oom)
		return;
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

void sb_add_json_body(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* What needs no escape goes in one copy (a policy prints millions of names). */
		size_t n = 0;
		while (p[n] >= 0x20 && p[n] != '"' && p[n] != '\\')
			n++;
		if (n) {
			sb_addn(sb, (const char *)p, n);
			p += n - 1;
			continue;
		}
		switch (*p) {
		case '"':
			sb_add(sb, "\\\"");
			break;
		case '\\':
			sb_add(sb, "\\\\");
			break;
		case '\n':
			sb_add(sb, "\\n");
			break;
		case '\t':
			sb_add(sb, "\\t");
			break;
		case '\r':
			sb_add(sb, "\\r");
			break;
		default:
			if (*p < 0x20)
				sb_addf(sb, "\\u%04x", *p);
			else
				sb_addn(sb, (const char *)p, 1);
		}
	}
}

void sb_add_json_str(struct strbuf *sb, const char *s)
{
	sb_addn(sb, "\"", 1);
	sb_add_json_body(sb, s);
	sb_addn(sb, "\"", 1);
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->s ? sb->s : "";
}

char *sb_steal(struct strbuf *sb)
{
	char *s = sb->s ? sb->s : strdup("");

	sb->s = NULL;
	sb->len = sb->cap = 0;
	sb->oom = false;
	return s;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	memset(sb, 0, sizeof(*sb));
}

int vec_reserve(void *arrp, size_t *cap, size_t n, size_t elem)
{
	void **arr = arrp;
	size_t ncap;
	void *p;

	if (n <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < n)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

char *xstrdup_vprintf(const char *fmt, va_list ap)
{
	struct strbuf sb = {0};

	sb_vaddf(&sb, fmt, ap);
	if (sb.oom) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

char *xstrdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xstrdup_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

uint64_t fnv1a64(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[64], prev, tmp;

	if (lb >= ARRAY_SIZE(row))
		return ~0u;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			unsigned int sub = prev + (a[i - 1] != b[j - 1]);
			unsigned int del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			prev = tmp;
		}
	}
	return row[lb];
}

const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned int bestd = ~0u;
	size_t wl = strlen(word);

	for (size_t i = 0; i < n; i++) {
		unsigned int d = edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	/* Suggest only what is plausibly a typo: a third of the word, at least one edit. */
	if (!best || bestd == 0 || bestd > (wl < 3 ? 1 : wl / 3 + 1))
		return NULL;
	return best;
}

static size_t strset_slot(const struct strset *ss, const char *s)
{
	size_t i = (size_t)fnv1a64(s, strlen(s), FNV1A64_INIT) & (ss->cap - 1);

	while (ss->slots[i] && strcmp(ss->slots[i], s))
		i = (i + 1) & (ss->cap - 1);
	return i;
}

bool strset_has(const struct strset *ss, const char *s)
{
	return ss->cap && ss->slots[strset_slot(ss, s)];
}

int strset_add(struct strset *ss, const char *s)
{
	size_t i;

	if ((ss->n + 1) * 2 > ss->cap) {
		struct strset g = {.cap = ss->cap ? ss->cap * 2 : 64};
		g.slots = calloc(g.cap, sizeof(*g.slots));
		if (!g.slots)
			return -ENOMEM;
		for (size_t k = 0; k < ss->cap; k++)
			if (ss->slots[k])
				g.slots[strset_slot(&g, ss->slots[k])] = ss->slots[k];
		g.n = ss->n;
		free(ss->slots);
		*ss = g;
	}
	i = strset_slot(ss, s);
	if (ss->slots[i])
		return 0;
	ss->slots[i] = strdup(s);
	if (!ss->slots[i])
		return -ENOMEM;
	ss->n++;
	return 1;
}

void strset_free(struct strset *ss)
{
	for (size_t i = 0; i < ss->cap; i++)
		free(ss->slots[i]);
	free(ss->slots);
	memset(ss, 0, sizeof(*ss));
}

int read_file(const char *path, char **out, size_t *lenp)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct strbuf sb = {0};
	char buf[65536];
	size_t n;
	int err = 0;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_addn(&sb, buf, n);
	if (ferror(f))
		err = -EIO;
	if (f != stdin)
		fclose(f);
	if (!err && sb.oom)
		err = -ENOMEM;
	if (err) {
		sb_free(&sb);
		return err;
	}
	if (lenp)
		*lenp = sb.len;
	*out = sb_steal(&sb);
	return 0;
}

int read_file_opt(const char *path, char **out, size_t *len)
{
	int e = read_file(path, out, len);

	if (e != -ENOENT)
		return e ? e : 1;
	*out = NULL;
	if (len)
		*len = 0;
	return 0;
}

int read_file_in(const char *dir, const char *name, char **out, size_t *len)
{
	char *path = xstrdup_printf("%s/%s", dir, name);
	int e = path ? read_file_opt(path, out, len) : -ENOMEM;

	free(path);
	return e;
}

int write_file_atomic(const char *path, const void *data, size_t len, unsigned int mode)
{
	char *tmp = xstrdup_printf("%s.tmp.%d", path, (int)getpid());
	const char *p = data;
	int fd, err = 0;

	if (!tmp)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	if (!err) {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		if (!dir)
			return -ENOMEM;
		if (slash)
			*slash = '\0';
		err = fsync_dir(slash ? (*dir ? dir : "/") : ".");
		free(dir);
	}
	return err;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		err = -errno;
	close(fd);
	return err;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = xstrdup_printf("%s/%s", path, de->d_name);
		struct stat st;
		if (p && !lstat(p, &st) && S_ISDIR(st.st_mode))
			rm_tree(p);
		else if (p)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

void set_sockbuf(int fd, int opt, int force, size_t want)
{
	int cur;
	socklen_t sl = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &sl) == 0 && (size_t)cur >= want)
		return;
	int v = want > (size_t)(1u << 30) ? (1 << 30) : (int)want;
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

void ww_stop_point(const char *name)
{
	const char *at = getenv("WARDWALL_STOP_AT");

	if (at && !strcmp(at, name))
		raise(SIGKILL);
}

bool ww_has_cap(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};

	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &h, d))
		return true;
	return d[cap / 32].effective & (1u << (cap % 32));
}

bool ww_ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) || s[i] < 0x20)
			return false;
	return true;
}

void ww_user_name(char *buf, size_t n)
{
	const char *u = getenv("SUDO_USER");
	struct passwd *pw;

	if (!u || !*u) {
		pw = getpwuid(getuid());
		u = pw ? pw->pw_name : NULL;
	}
	snprintf(buf, n, "%s", u ? u : "unknown");
}
