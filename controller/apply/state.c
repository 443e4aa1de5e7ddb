// SPDX-License-Identifier: GPL-2.0-only
#include "state.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intent.h"
#include "json.h"
#include "policy.h"
#include "quarantine.h"
#include "timeutil.h"

struct ww_state {
	char *dir;
	int lockfd;
};

static int mkdir_p(const char *path)
{
	char *tmp = strdup(path);

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST) {
			int err = -errno;
			free(tmp);
			return err;
		}
		*p = '/';
	}
	free(tmp);
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ww_state_open(const char *dir, bool lock, struct ww_state **out, struct strbuf *err)
{
	struct ww_state *s = calloc(1, sizeof(*s));
	char *gens;
	int e;

	if (!s)
		return -ENOMEM;
	s->lockfd = -1;
	if (!dir)
		dir = getenv("WARDWALL_STATE_DIR");
	s->dir = strdup(dir && *dir ? dir : WW_STATE_DIR);
	/* The records that say what is enforced are not followed through a symbolic link, which
	 * anyone able to replace it could point elsewhere: the real path must be given. */
	struct stat lst;
	if (s->dir && !lstat(s->dir, &lst) && S_ISLNK(lst.st_mode)) {
		char *real = realpath(s->dir, NULL);
		sb_addf(err, "state directory %s is a symbolic link%s%s: give the real directory",
			s->dir, real ? " to " : "", real ? real : "");
		free(real);
		ww_state_close(s);
		return -ELOOP;
	}
	gens = s->dir ? xstrdup_printf("%s/generations", s->dir) : NULL;
	if (!gens) {
		ww_state_close(s);
		return -ENOMEM;
	}
	e = mkdir_p(gens);
	free(gens);
	if (e) {
		sb_addf(err, "state directory %s: %s", s->dir, strerror(-e));
		ww_state_close(s);
		return e;
	}
	if (lock) {
		char *lp = xstrdup_printf("%s/lock", s->dir);
		s->lockfd = lp ? open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640) : -1;
		free(lp);
		if (s->lockfd < 0) {
			e = -errno;
			sb_addf(err, "%s/lock: %s", s->dir, strerror(errno));
			ww_state_close(s);
			return e;
		}
		if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
			char pid[32] = "";
			ssize_t n = pread(s->lockfd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			sb_addf(err, "another wardwall holds %s/lock%s%s%s: wait for it to finish",
				s->dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
			ww_state_close(s);
			return -EBUSY;
		}
		/* Who holds the lock, for the message a second writer gets; best effort. */
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (ftruncate(s->lockfd, 0) == 0)
			(void)!pwrite(s->lockfd, pid, (size_t)n, 0);
	}
	*out = s;
	return 0;
}

void ww_state_close(struct ww_state *s)
{
	if (!s)
		return;
	if (s->lockfd >= 0) {
		/* Forget the holder's pid before letting go, so no one is told about a dead one. */
		(void)!ftruncate(s->lockfd, 0);
		close(s->lockfd); /* releases the lock */
	}
	free(s->dir);
	free(s);
}

const char *ww_state_dir(const struct ww_state *s)
{
	return s->dir;
}

static void copy_str(char *dst, size_t n, const cJSON *j)
{
	snprintf(dst, n, "%s", cJSON_IsString(j) ? j->valuestring : "");
}

static void gen_from_json(const cJSON *j, struct ww_generation *g)
{
	const cJSON *x;

	memset(g, 0, sizeof(*g));
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "generation")) && cJSON_IsNumber(x))
		g->gen = (unsigned long)x->valuedouble;
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "time")) && cJSON_IsString(x))
		ww_time_parse(x->valuestring, &g->time);
	copy_str(g->user, sizeof(g->user), cJSON_GetObjectItemCaseSensitive(j, "user"));
	copy_str(g->action, sizeof(g->action), cJSON_GetObjectItemCaseSensitive(j, "action"));
	copy_str(g->policy_sha256, sizeof(g->policy_sha256),
		 cJSON_GetObjectItemCaseSensitive(j, "policy_sha256"));
	copy_str(g->policy_name, sizeof(g->policy_name),
		 cJSON_GetObjectItemCaseSensitive(j, "policy_name"));
	copy_str(g->source, sizeof(g->source), cJSON_GetObjectItemCaseSensitive(j, "source"));
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "restores")) && cJSON_IsNumber(x))
		g->restores = (unsigned long)x->valuedouble;
}

struct gens {
	struct ww_generation *v;
	size_t n, cap;
};

static int add_gen(void *ctx, const char *line, cJSON **j, size_t lineno)
{
	struct gens *h = ctx;
	struct ww_generation g;

	if (!*j)
		return 0;
	gen_from_json(*j, &g);
	return VEC_PUSH(h->v, h->n, h->cap, g);
}

int ww_state_history(struct ww_state *s, struct ww_generation **out, size_t *n)
{
	char *path = xstrdup_printf("%s/history.jsonl", s->dir);
	struct gens h = {0};
	int err;

	*out = NULL;
	*n = 0;
	if (!path)
		return -ENOMEM;
	err = ww_jsonl_each(path, add_gen, &h);
	free(path);
	if (err && err != -ENOENT) {
		free(h.v);
		return err;
	}
	*out = h.v;
	*n = h.n;
	return 0;
}

int ww_state_current(struct ww_state *s, struct ww_generation *gen)
{
	char *text;
	struct ww_generation *v;
	size_t n;
	unsigned long cur;
	int err;

	memset(gen, 0, sizeof(*gen));
	err = read_file_in(s->dir, "current", &text, NULL);
	if (err <= 0)
		return err;
	cur = strtoul(text, NULL, 10);
	free(text);
	if (!cur)
		return 0;
	err = ww_state_history(s, &v, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (v[i].gen == cur && strcmp(v[i].action, "remove"))
			*gen = v[i];
	free(v);
	return gen->gen ? 0 : -EBADMSG;
}

int ww_state_policy(struct ww_state *s, unsigned long gen, struct ww_policy **out,
		    struct ww_diags *d)
{
	return ww_state_policy_sha(s, gen, out, d, NULL);
}

int ww_state_policy_sha(struct ww_state *s, unsigned long gen, struct ww_policy **out,
			struct ww_diags *d, char sha256[65])
{
	char *path = xstrdup_printf("%s/generations/%lu.json", s->dir, gen), *text = NULL;
	size_t len;
	int err;

	if (!path)
		return -ENOMEM;
	err = ww_policy_read(path, d, &text, &len);
	if (!err && sha256)
		sha256_hex(text, len, sha256);
	if (!err)
		err = ww_policy_parse(path, text, len, d, out);
	free(text);
	free(path);
	return err;
}

/* sha256 of the last line of the history ("" when empty): the link to the next line. */
static int last_line_hash(const char *dir, char out[65], unsigned long *lastgen)
{
	char *text;
	size_t len;
	int err;

	*lastgen = 0;
	out[0] = '\0';
	err = read_file_in(dir, "history.jsonl", &text, &len);
	if (err <= 0)
		return err;
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	char *last = strrchr(text, '\n');
	last = last ? last + 1 : text;
	if (*last) {
		sha256_hex(last, strlen(last), out);
		cJSON *j = cJSON_Parse(last);
		const cJSON *g = j ? cJSON_GetObjectItemCaseSensitive(j, "generation") : NULL;
		if (cJSON_IsNumber(g))
			*lastgen = (unsigned long)g->valuedouble;
		cJSON_Delete(j);
	}
	free(text);
	return 0;
}

int ww_state_last_gen(struct ww_state *s, unsigned long *last)
{
	char prev[65];

	return last_line_hash(s->dir, prev, last);
}

int ww_state_save_policy(struct ww_state *s, unsigned long gen, const struct ww_policy *p,
			 const struct strbuf *text)
{
	struct strbuf canon = {0};
	char *path = xstrdup_printf("%s/generations/%lu.json", s->dir, gen);
	int err;

	if (!text) {
		ww_policy_print_canonical(p, &canon);
		text = &canon;
	}
	err = !path || text->oom ? -ENOMEM : write_file_atomic(path, text->s, text->len, 0640);
	/* What a quarantine reads instead of the whole policy (quarantine.h). */
	if (!err)
		err = ww_quar_index_write(s->dir, gen, p, text->s, text->len);
	free(path);
	sb_free(&canon);
	return err;
}

void ww_state_forget_policy(struct ww_state *s, unsigned long gen)
{
	char *path = xstrdup_printf("%s/generations/%lu.json", s->dir, gen);

	if (path)
		unlink(path);
	free(path);
	ww_quar_index_forget(s->dir, gen);
}

int ww_state_record_gen(struct ww_state *s, const struct ww_policy *p, const char *policy_sha256,
			const char *action, const char *source, unsigned long restores,
			unsigned long gen)
{
	char prev[65], user[64], tb[WW_TIME_STRLEN], hash[65] = "";
	unsigned long last;
	struct strbuf line = {0};
	char *path = NULL;
	int err, fd;

	err = last_line_hash(s->dir, prev, &last);
	if (err)
		return err;
	if (!gen)
		gen = last + 1;
	if (last >= gen)
		goto current; /* an interrupted apply appended its line already: never twice */
	if (last + 1 != gen)
		return -ESTALE;
	ww_user_name(user, sizeof(user));
	if (p && policy_sha256)
		snprintf(hash, sizeof(hash), "%s", policy_sha256);
	else if (p)
		ww_policy_hash(p, hash);
	sb_addf(&line, "{\"generation\": %lu, \"time\": \"%s\", \"user\": ", gen,
		ww_time_str((int64_t)time(NULL), tb));
	sb_add_json_str(&line, user);
	sb_addf(&line, ", \"action\": \"%s\"", action);
	if (p) {
		sb_addf(&line, ", \"policy_sha256\": \"%s\", \"policy_name\": ", hash);
		sb_add_json_str(&line, p->name);
	}
	if (source) {
		sb_add(&line, ", \"source\": ");
		sb_add_json_str(&line, source);
	}
	if (restores)
		sb_addf(&line, ", \"restores\": %lu", restores);
	sb_addf(&line, ", \"prev_sha256\": \"%s\"}\n", prev);
	path = xstrdup_printf("%s/history.jsonl", s->dir);
	fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : -1;
	free(path);
	if (fd < 0 || line.oom) {
		err = fd < 0 ? -errno : -ENOMEM;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (write(fd, line.s, line.len) != (ssize_t)line.len || fsync(fd) < 0)
		err = -EIO;
	close(fd);
	if (err)
		goto out;
	ww_stop_point("history-appended");
current:;
	char cur[32];
	int n = snprintf(cur, sizeof(cur), "%lu\n", p ? gen : 0UL);
	path = xstrdup_printf("%s/current", s->dir);
	err = path ? write_file_atomic(path, cur, (size_t)n, 0640) : -ENOMEM;
	free(path);
	if (!err)
		ww_stop_point("current-written");
out:
	sb_free(&line);
	return err;
}

int ww_state_record(struct ww_state *s, const struct ww_policy *p, const char *action,
		    const char *source, unsigned long restores, unsigned long *genp)
{
	unsigned long last;
	int err = ww_state_last_gen(s, &last);

	if (!err && p)
		err = ww_state_save_policy(s, last + 1, p, NULL);
	if (!err)
		err = ww_state_record_gen(s, p, NULL, action, source, restores, last + 1);
	if (!err && genp)
		*genp = last + 1;
	return err;
}

int ww_state_repair_history(struct ww_state *s)
{
	char *path = xstrdup_printf("%s/history.jsonl", s->dir), *text = NULL;
	size_t len;
	int err;

	if (!path)
		return -ENOMEM;
	err = read_file_opt(path, &text, &len);
	if (err > 0) {
		err = 0;
		if (len && text[len - 1] != '\n') {
			/* A line cut short by a crash: it was never a record, and it would break
			 * the chain. */
			char *nl = memrchr(text, '\n', len);
			if (truncate(path, nl ? (off_t)(nl - text + 1) : 0) < 0)
				err = -errno;
		}
	}
	free(text);
	free(path);
	return err;
}

/* "<name>.tmp.<pid>" whose process is gone: what a crash between write and rename leaves. */
static void clean_tmp_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *t = strstr(de->d_name, ".tmp.");
		char *end;
		long pid;
		if (!t)
			continue;
		pid = strtol(t + 5, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *p = xstrdup_printf("%s/%s", dir, de->d_name);
		if (p)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

void ww_state_clean_tmp(struct ww_state *s)
{
	char *g = xstrdup_printf("%s/generations", s->dir);

	clean_tmp_in(s->dir);
	if (g)
		clean_tmp_in(g);
	free(g);
}

struct chain_check {
	char prev[65]; /* sha256 of the line before */
	struct strbuf *err;
};

static int follows(void *ctx, const char *line, cJSON **j, size_t lineno)
{
	struct chain_check *c = ctx;
	const cJSON *ph = *j ? cJSON_GetObjectItemCaseSensitive(*j, "prev_sha256") : NULL;

	if (!cJSON_IsString(ph) || strcmp(ph->valuestring, c->prev)) {
		sb_addf(c->err, "history.jsonl line %zu does not follow the line before it", lineno);
		return -EBADMSG;
	}
	sha256_hex(line, strlen(line), c->prev);
	return 0;
}

int ww_state_verify_history(struct ww_state *s, struct strbuf *err)
{
	char *path = xstrdup_printf("%s/history.jsonl", s->dir);
	struct chain_check c = {.prev = "", .err = err};
	int e;

	if (!path)
		return -ENOMEM;
	e = ww_jsonl_each(path, follows, &c);
	free(path);
	return e == -ENOENT ? 0 : e;
}

struct counter_since {
	char *name;
	int64_t since;
};

static int since_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counter_since *)a)->name, ((const struct counter_since *)b)->name);
}

int ww_state_counters_load(struct ww_state *s, char ***names, int64_t **since, size_t *n)
{
	char *text;
	cJSON *root;
	size_t cap = 0, cap2 = 0;
	int e;

	*names = NULL;
	*since = NULL;
	*n = 0;
	e = read_file_in(s->dir, "counters.json", &text, NULL);
	if (e <= 0)
		return e;
	root = cJSON_Parse(text);
	free(text);
	for (const cJSON *m = root ? root->child : NULL; m; m = m->next) {
		char *nm = strdup(m->string);
		size_t k = *n;
		if (!nm || !cJSON_IsNumber(m) || VEC_PUSH(*names, *n, cap, nm)) {
			free(nm);
			continue;
		}
		if (vec_reserve(since, &cap2, k + 1, sizeof(**since))) {
			cJSON_Delete(root);
			return -ENOMEM;
		}
		(*since)[k] = (int64_t)m->valuedouble;
	}
	cJSON_Delete(root);
	/* Sorted by name, so that each lookup is a binary search: there is one per counter. */
	struct counter_since *v = malloc((*n ? *n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		v[i] = (struct counter_since){(*names)[i], (*since)[i]};
	if (*n > 1)
		qsort(v, *n, sizeof(*v), since_cmp);
	for (size_t i = 0; i < *n; i++) {
		(*names)[i] = v[i].name;
		(*since)[i] = v[i].since;
	}
	free(v);
	return 0;
}

int64_t ww_state_counter_since(char **names, int64_t *since, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(names[mid], name);
		if (!r)
			return since[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int ww_state_counters_update(struct ww_state *s, const char *const *present, size_t n,
			     int64_t now)
{
	char **names;
	int64_t *since;
	size_t m;
	struct strbuf out = {0};
	int e = ww_state_counters_load(s, &names, &since, &m);

	if (e)
		return e;
	sb_add(&out, "{");
	for (size_t i = 0; i < n; i++) {
		int64_t t = ww_state_counter_since(names, since, m, present[i]);
		sb_add(&out, i ? ",\n " : "\n ");
		sb_add_json_str(&out, present[i]);
		sb_addf(&out, ": %lld", (long long)(t ? t : now));
	}
	sb_add(&out, "\n}\n");
	for (size_t i = 0; i < m; i++)
		free(names[i]);
	free(names);
	free(since);
	char *path = xstrdup_printf("%s/counters.json", s->dir);
	e = !path || out.oom ? -ENOMEM : write_file_atomic(path, out.s, out.len, 0640);
	free(path);
	sb_free(&out);
	return e;
}
