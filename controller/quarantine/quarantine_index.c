// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a quarantine needs of the applied policy, written by apply next to the generation so
 * that `quarantine add` never reads, let alone parses, every flow (docs/incident.md, "Speed"):
 *
 *   generations/<gen>.quarantine.json  the canonical policy with only its management and
 *                                      life-critical flows: zones, host groups, zone groups,
 *                                      services, invariants, health probes,
 *                                      enforcement; a policy of its own
 *                                      that the ordinary parser reads
 *   generations/<gen>.flow-ids         one line per flow, sorted by id (bytewise):
 *                                      "<id> <index> <offset> <length>\n", where offset and
 *                                      length locate the flow's object in <gen>.json; found by
 *                                      binary search, for --keep FLOW and for the flows' places
 *
 * Both are derived from <gen>.json and written right after it; a generation without them (an
 * older wardwall wrote it, or they were lost) is read the slow way, and the command says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "quarantine.h"
#include "state.h"

#define FLOWS_OPEN "\n  \"flows\": [\n"
#define FLOWS_CLOSE "\n  ]"

/* The flows array of a canonical policy: [*from, *to) holds one flow a line. false: none. */
static bool flows_span(const char *text, size_t len, const char **from, const char **to)
{
	const char *fl = memmem(text, len, FLOWS_OPEN, strlen(FLOWS_OPEN)), *end;

	if (!fl)
		return false;
	fl += strlen(FLOWS_OPEN);
	end = memmem(fl, len - (size_t)(fl - text), FLOWS_CLOSE, strlen(FLOWS_CLOSE));
	if (!end)
		return false;
	*from = fl;
	*to = end;
	return true;
}

/* The object of the flow line at *at ("    {...}," or the last, without the comma); *at moves
 * to the next line. */
static void flow_line(const char **at, const char *to, const char **obj, size_t *n)
{
	const char *s = *at, *nl = memchr(s, '\n', (size_t)(to - s)), *e = nl ? nl : to;

	*at = nl ? nl + 1 : to;
	while (s < e && *s == ' ')
		s++;
	if (e > s && e[-1] == ',')
		e--;
	*obj = s;
	*n = (size_t)(e - s);
}

struct fid {
	const char *id;
	size_t idlen, index, off, len;
};

static int fid_cmp(const void *a, const void *b)
{
	const struct fid *x = a, *y = b;
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;
	int c = memcmp(x->id, y->id, n);

	return c ? c : (x->idlen > y->idlen) - (x->idlen < y->idlen);
}

static char *gen_path(const char *dir, unsigned long gen, const char *ext)
{
	return xstrdup_printf("%s/generations/%lu%s", dir, gen, ext);
}

int ww_quar_index_write(const char *dir, unsigned long gen, const struct ww_policy *p,
			const char *canon, size_t len)
{
	struct strbuf cut = {0}, ids = {0};
	struct fid *v = NULL;
	const char *from, *to, *at;
	char *path = NULL;
	size_t n = 0;
	int e = 0;

	if (!flows_span(canon, len, &from, &to)) {
		/* No flows: the policy is its own cut-down form, and there are no ids. */
		sb_addn(&cut, canon, len);
		goto write;
	}
	v = calloc(p->nflows + 1, sizeof(*v));
	if (!v) {
		e = -ENOMEM;
		goto out;
	}
	sb_addn(&cut, canon, (size_t)(from - canon));
	at = from;
	size_t kept = 0;
	for (size_t i = 0; i < p->nflows && at < to; i++) {
		const char *obj;
		size_t on;
		flow_line(&at, to, &obj, &on);
		/* The canonical printer writes flow i as line i, starting {"id": "<id>", */
		const char *idp = obj + 8, *q = idp < obj + on ? memchr(idp, '"', on - 8) : NULL;
		if (on < 10 || memcmp(obj, "{\"id\": \"", 8) || !q ||
		    strlen(p->flows[i].id) != (size_t)(q - idp) ||
		    memcmp(idp, p->flows[i].id, (size_t)(q - idp))) {
			e = -EINVAL; /* not the canonical form this reader knows */
			goto out;
		}
		v[n++] = (struct fid){idp, (size_t)(q - idp), i, (size_t)(obj - canon), on};
		if (p->flows[i].management || p->flows[i].life_critical) {
			sb_add(&cut, kept++ ? ",\n    " : "    ");
			sb_addn(&cut, obj, on);
		}
	}
	if (n != p->nflows) {
		e = -EINVAL;
		goto out;
	}
	if (!kept) {
		/* `"flows": [` then `]` on one line, as the printer writes an empty list. */
		while (cut.len && cut.s[cut.len - 1] != '[')
			cut.s[--cut.len] = '\0';
	}
	sb_addn(&cut, kept ? to : to + 3, len - (size_t)(to - canon) - (kept ? 0 : 3));
	qsort(v, n, sizeof(*v), fid_cmp);
	for (size_t i = 0; i < n; i++)
		sb_addf(&ids, "%.*s %zu %zu %zu\n", (int)v[i].idlen, v[i].id, v[i].index, v[i].off,
			v[i].len);
write:
	if (cut.oom || ids.oom) {
		e = -ENOMEM;
		goto out;
	}
	path = gen_path(dir, gen, ".flow-ids");
	e = path ? write_file_atomic(path, ids.s ? ids.s : "", ids.len, 0640) : -ENOMEM;
	free(path);
	path = e ? NULL : gen_path(dir, gen, ".quarantine.json");
	if (!e)
		e = path ? write_file_atomic(path, cut.s, cut.len, 0640) : -ENOMEM;
out:
	free(path);
	free(v);
	sb_free(&cut);
	sb_free(&ids);
	return e;
}

void ww_quar_index_forget(const char *dir, unsigned long gen)
{
	static const char *const ext[] = {".quarantine.json", ".flow-ids"};

	for (size_t i = 0; i < 2; i++) {
		char *path = gen_path(dir, gen, ext[i]);
		if (path)
			unlink(path);
		free(path);
	}
}

/* ---- reading ---- */

struct flow_ids {
	const char *map;
	size_t len;
};

static int ids_open(const char *dir, unsigned long gen, struct flow_ids *f)
{
	char *path = gen_path(dir, gen, ".flow-ids");
	struct stat st;
	int fd, e = 0;

	memset(f, 0, sizeof(*f));
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		e = -errno;
	} else if (st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			e = -errno;
		else
			f->map = m, f->len = (size_t)st.st_size;
	}
	close(fd);
	return e;
}

static void ids_close(struct flow_ids *f)
{
	if (f->map)
		munmap((void *)f->map, f->len);
}

/* Binary search over the sorted lines: the line of flow id, or -ENOENT. */
static int ids_find(const struct flow_ids *f, const char *id, size_t *index, size_t *off,
		    size_t *len)
{
	size_t lo = 0, hi = f->len, idlen = strlen(id);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, ls = mid;
		while (ls > lo && f->map[ls - 1] != '\n')
			ls--;
		const char *nl = memchr(f->map + ls, '\n', f->len - ls);
		size_t le = nl ? (size_t)(nl - f->map) : f->len;
		const char *sp = memchr(f->map + ls, ' ', le - ls);
		if (!sp)
			return -EINVAL;
		struct fid a = {id, idlen, 0, 0, 0}, b = {f->map + ls, (size_t)(sp - f->map) - ls, 0, 0, 0};
		int c = fid_cmp(&a, &b);
		if (!c) {
			char line[96];
			size_t n = le - (size_t)(sp - f->map);
			if (n >= sizeof(line))
				return -EINVAL;
			memcpy(line, sp, n);
			line[n] = '\0';
			return sscanf(line, " %zu %zu %zu", index, off, len) == 3 ? 0 : -EINVAL;
		}
		if (c < 0)
			hi = ls;
		else
			lo = le + 1;
	}
	return -ENOENT;
}

/* Reads len bytes at off of the generation's canonical policy into out. */
static int canon_slice(const char *dir, unsigned long gen, size_t off, size_t len,
		       struct strbuf *out)
{
	char *path = gen_path(dir, gen, ".json"), *buf = malloc(len + 1);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1, e = 0;

	if (!path || !buf)
		e = -ENOMEM;
	else if (fd < 0)
		e = -errno;
	else if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		e = -EIO;
	else
		sb_addn(out, buf, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return e;
}

int ww_quar_index_policy(const char *dir, unsigned long gen, const char *const *keep, size_t nkeep,
			 struct ww_policy **out, struct strbuf *err)
{
	struct flow_ids f;
	struct strbuf t = {0};
	struct ww_diags d = {0};
	char *path = gen_path(dir, gen, ".quarantine.json"), *text = NULL;
	const char *from, *to;
	size_t len;
	int e;

	if (!path)
		return -ENOMEM;
	e = read_file(path, &text, &len);
	if (!e)
		e = ids_open(dir, gen, &f);
	if (e) {
		free(text);
		free(path);
		return e == -ENOENT ? -ENODATA : e; /* no index: the caller reads the policy */
	}
	/* The --keep flows, each found by its id and read from its place in <gen>.json. */
	bool have = flows_span(text, len, &from, &to);
	if (!have) {
		const char *empty = strstr(text, "\"flows\": []");
		from = to = empty ? empty + strlen("\"flows\": [") : NULL;
	}
	if (!from) {
		e = -EINVAL;
		sb_addf(err, "%s: not a canonical policy", path);
		goto out;
	}
	sb_addn(&t, text, (size_t)(to - text));
	for (size_t i = 0; i < nkeep; i++) {
		size_t index, off, n;
		char pat[WW_ID_MAX + 16];
		bool dup = false;
		/* Already there: a marked flow, or named twice. */
		snprintf(pat, sizeof(pat), "{\"id\": \"%s\",", keep[i]);
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(keep[j], keep[i]);
		if (dup || memmem(t.s, t.len, pat, strlen(pat)))
			continue;
		e = ids_find(&f, keep[i], &index, &off, &n);
		if (e == -ENOENT) {
			sb_addf(err, "--keep %s: the applied policy (generation %lu) has no such flow",
				keep[i], gen);
			goto out;
		}
		if (e) {
			sb_addf(err, "%s/generations/%lu.flow-ids: damaged", dir, gen);
			goto out;
		}
		sb_add(&t, have ? ",\n    " : "\n    ");
		have = true;
		if ((e = canon_slice(dir, gen, off, n, &t))) {
			sb_addf(err, "%s/generations/%lu.json: %s", dir, gen, strerror(-e));
			goto out;
		}
	}
	if (nkeep && !flows_span(text, len, &from, &to))
		sb_add(&t, "\n  ");
	sb_addn(&t, to, len - (size_t)(to - text));
	if (t.oom) {
		e = -ENOMEM;
		goto out;
	}
	d.file = path;
	e = ww_policy_parse(path, t.s, t.len, &d, out);
	if (e) {
		sb_addf(err, "%s: does not parse (%s): remove it, the next quarantine reads the "
			     "policy instead",
			path, strerror(-e));
		goto out;
	}
	/* Each flow's place in the whole policy, for the pointers the proof prints. */
	for (size_t i = 0; i < (*out)->nflows; i++) {
		struct ww_flow *fl = &(*out)->flows[i];
		size_t index, off, n;
		char *ptr;
		if (ids_find(&f, fl->id, &index, &off, &n) ||
		    !(ptr = xstrdup_printf("/flows/%zu", index)))
			continue;
		free(fl->ptr);
		fl->ptr = ptr;
		fl->index = index;
	}
out:
	ids_close(&f);
	ww_diags_free(&d);
	sb_free(&t);
	free(text);
	free(path);
	return e;
}
