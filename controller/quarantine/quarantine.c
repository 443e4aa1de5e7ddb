// SPDX-License-Identifier: GPL-2.0-only
/* Quarantine records, target resolution, kept flows and the proof of what a quarantine breaks. */
#include "quarantine.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "policy.h"
#include "state.h"
#include "timeutil.h"

static void keep_clear(struct ww_qkeep *k)
{
	free(k->id);
	free(k->from);
	free(k->to);
	free(k->terms);
}

void ww_quarantine_clear(struct ww_quarantine *q)
{
	if (!q)
		return;
	free(q->target);
	free(q->pfx);
	for (size_t i = 0; i < q->nkeep; i++)
		keep_clear(&q->keep[i]);
	free(q->keep);
	for (size_t i = 0; i < q->nkeep_given; i++)
		free(q->keep_given[i]);
	free(q->keep_given);
	free(q->reason);
	free(q->ticket);
	free(q->user);
	memset(q, 0, sizeof(*q));
}

void ww_quar_list_free(struct ww_quar_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ww_quarantine_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct ww_quarantine *ww_quar_find(struct ww_quar_list *l, unsigned int id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return &l->v[i];
	return NULL;
}

int ww_quar_id_parse(const char *s, unsigned int *id)
{
	char *end;
	unsigned long v;

	if (s[0] != 'q' || s[1] < '1' || s[1] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 1, &end, 10);
	if (errno || *end || v >= 1024)
		return -EINVAL;
	*id = (unsigned int)v;
	return 0;
}

/* ---- JSON ---- */

static void pfx_array(struct strbuf *o, const struct ww_prefix *p, size_t n, bool all)
{
	char b[WW_PREFIX_STRLEN];

	if (all) {
		sb_add(o, "\"*\"");
		return;
	}
	sb_add(o, "[");
	for (size_t i = 0; i < n; i++)
		sb_addf(o, "%s\"%s\"", i ? ", " : "", ww_prefix_str(&p[i], false, b));
	sb_add(o, "]");
}

void ww_quarantine_json(const struct ww_quarantine *q, int64_t now, struct strbuf *o)
{
	char tb[40], pb[8];

	if (q->id)
		sb_addf(o, "{\"id\": \"q%u\", \"target\": ", q->id);
	else /* refused: never in force */
		sb_add(o, "{\"id\": null, \"target\": ");
	sb_add_json_str(o, q->target);
	sb_add(o, ", \"prefixes\": ");
	pfx_array(o, q->pfx, q->npfx, false);
	sb_addf(o, ", \"created\": \"%s\"", ww_time_str(q->created, tb));
	if (q->until)
		sb_addf(o, ", \"until\": \"%s\"", ww_time_str(q->until, tb));
	else
		sb_add(o, ", \"until\": null");
	sb_addf(o, ", \"expired\": %s", q->until && q->until <= now ? "true" : "false");
	sb_add(o, ", \"reason\": ");
	sb_add_json_str(o, q->reason ? q->reason : "");
	sb_add(o, ", \"ticket\": ");
	if (q->ticket)
		sb_add_json_str(o, q->ticket);
	else
		sb_add(o, "null");
	sb_add(o, ", \"user\": ");
	sb_add_json_str(o, q->user ? q->user : "");
	sb_addf(o, ", \"strict\": %s, \"generation\": %lu, \"keep_given\": [",
		q->strict ? "true" : "false", q->generation);
	for (size_t i = 0; i < q->nkeep_given; i++) {
		if (i)
			sb_add(o, ", ");
		sb_add_json_str(o, q->keep_given[i]);
	}
	sb_add(o, "], \"kept\": [");
	for (size_t i = 0; i < q->nkeep; i++) {
		const struct ww_qkeep *k = &q->keep[i];
		sb_add(o, i ? ", {\"flow\": " : "{\"flow\": ");
		sb_add_json_str(o, k->id);
		sb_addf(o, ", \"why\": \"%s\", \"from\": ", k->why);
		pfx_array(o, k->from, k->nfrom, k->from_all);
		sb_add(o, ", \"to\": ");
		pfx_array(o, k->to, k->nto, k->to_all);
		sb_add(o, ", \"terms\": [");
		for (size_t t = 0; t < k->nterms; t++)
			sb_addf(o, "%s[\"%s\", %u, %u]", t ? ", " : "",
				ww_proto_str(k->terms[t].proto, pb), k->terms[t].lo, k->terms[t].hi);
		sb_add(o, "]}");
	}
	sb_add(o, "]}");
}

static char *jstr(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(m) ? strdup(m->valuestring) : NULL;
}

static int jtime(const cJSON *o, const char *k, int64_t *t)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	*t = 0;
	if (!m || cJSON_IsNull(m))
		return 0;
	return cJSON_IsString(m) ? ww_time_parse(m->valuestring, t) : -EINVAL;
}

static int jpfx(const cJSON *a, struct ww_prefix **out, size_t *n, bool *all)
{
	const char *why;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (all)
		*all = cJSON_IsString(a) && !strcmp(a->valuestring, "*");
	if (all && *all)
		return 0;
	if (!cJSON_IsArray(a))
		return -EINVAL;
	*out = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (const cJSON *x = a->child; x; x = x->next, i++)
		if (!cJSON_IsString(x) || ww_prefix_parse(x->valuestring, true, &(*out)[i], &why, NULL))
			return -EINVAL;
	*n = i;
	return 0;
}

static int keep_from_json(const cJSON *j, struct ww_qkeep *k)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "terms");
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "why"));
	size_t i = 0;

	k->id = jstr(j, "flow");
	snprintf(k->why, sizeof(k->why), "%s", why ? why : "given");
	if (!k->id || jpfx(cJSON_GetObjectItemCaseSensitive(j, "from"), &k->from, &k->nfrom,
			   &k->from_all) ||
	    jpfx(cJSON_GetObjectItemCaseSensitive(j, "to"), &k->to, &k->nto, &k->to_all) ||
	    !cJSON_IsArray(t))
		return -EINVAL;
	k->terms = calloc((size_t)cJSON_GetArraySize(t) + 1, sizeof(*k->terms));
	if (!k->terms)
		return -ENOMEM;
	for (const cJSON *x = t->child; x; x = x->next, i++) {
		const cJSON *p = cJSON_GetArrayItem(x, 0), *lo = cJSON_GetArrayItem(x, 1),
			    *hi = cJSON_GetArrayItem(x, 2);
		if (!cJSON_IsString(p) || !cJSON_IsNumber(lo) || !cJSON_IsNumber(hi))
			return -EINVAL;
		if (!strcmp(p->valuestring, "any"))
			k->terms[i].proto = WW_PROTO_ANY;
		else if (ww_proto_parse(p->valuestring, &k->terms[i].proto))
			return -EINVAL;
		k->terms[i].lo = (uint16_t)lo->valueint;
		k->terms[i].hi = (uint16_t)hi->valueint;
	}
	k->nterms = i;
	return 0;
}

static int quar_from_json(const cJSON *j, struct ww_quarantine *q)
{
	const cJSON *m;
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
	bool all;
	int e;

	if (!id || ww_quar_id_parse(id, &q->id))
		return -EINVAL;
	q->target = jstr(j, "target");
	q->reason = jstr(j, "reason");
	q->ticket = jstr(j, "ticket");
	q->user = jstr(j, "user");
	q->strict = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "strict"));
	m = cJSON_GetObjectItemCaseSensitive(j, "generation");
	q->generation = cJSON_IsNumber(m) ? (unsigned long)m->valuedouble : 0;
	if (!q->target || (e = jpfx(cJSON_GetObjectItemCaseSensitive(j, "prefixes"), &q->pfx,
				    &q->npfx, &all)) ||
	    (e = jtime(j, "created", &q->created)) || (e = jtime(j, "until", &q->until)))
		return -EINVAL;
	m = cJSON_GetObjectItemCaseSensitive(j, "keep_given");
	q->keep_given = calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(char *));
	m = cJSON_GetObjectItemCaseSensitive(j, "kept");
	q->keep = calloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*q->keep));
	if (!q->keep_given || !q->keep)
		return -ENOMEM;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "keep_given"))
		if (cJSON_IsString(m) && !(q->keep_given[q->nkeep_given++] = strdup(m->valuestring)))
			return -ENOMEM;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "kept"))
		if ((e = keep_from_json(m, &q->keep[q->nkeep++])))
			return e;
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	return xstrdup_printf("%s/%s", dir, name);
}

int ww_quar_load(const char *dir, struct ww_quar_list *l, struct strbuf *err)
{
	char *path = path_in(dir, "quarantines.json"), *text = NULL;
	cJSON *j = NULL;
	const cJSON *m;
	size_t len;
	int e;

	memset(l, 0, sizeof(*l));
	l->next = 1;
	if (!path)
		return -ENOMEM;
	e = read_file(path, &text, &len);
	if (e == -ENOENT) {
		free(path);
		return 0;
	}
	if (e) {
		sb_addf(err, "%s: %s", path, strerror(-e));
		goto out;
	}
	j = cJSON_ParseWithLength(text, len);
	m = cJSON_GetObjectItemCaseSensitive(j, "next");
	if (!cJSON_IsNumber(m) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "list"))) {
		e = -EINVAL;
		sb_addf(err, "%s: not a quarantine list", path);
		goto out;
	}
	l->next = (unsigned int)m->valuedouble;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "list")) {
		struct ww_quarantine q = {0};
		if ((e = quar_from_json(m, &q)) || (e = VEC_PUSH(l->v, l->n, l->cap, q) ? -ENOMEM : 0)) {
			ww_quarantine_clear(&q);
			sb_addf(err, "%s: /list/%zu: %s", path, l->n,
				e == -ENOMEM ? strerror(ENOMEM) : "not a quarantine");
			ww_quar_list_free(l);
			goto out;
		}
	}
out:
	cJSON_Delete(j);
	free(text);
	free(path);
	return e;
}

int ww_quar_save(const char *dir, const struct ww_quar_list *l, struct strbuf *err)
{
	struct strbuf o = {0};
	char *path = path_in(dir, "quarantines.json");
	int e;

	sb_addf(&o, "{\"next\": %u, \"list\": [", l->next);
	for (size_t i = 0; i < l->n; i++) {
		sb_add(&o, i ? ",\n  " : "\n  ");
		ww_quarantine_json(&l->v[i], 0, &o);
	}
	sb_add(&o, "\n]}\n");
	e = !path || o.oom ? -ENOMEM : write_file_atomic(path, o.s, o.len, 0600);
	if (e)
		sb_addf(err, "%s: %s", path ? path : "quarantines.json", strerror(-e));
	free(path);
	sb_free(&o);
	return e;
}

int ww_quar_log(const char *dir, const char *event, const struct ww_quarantine *q, uint64_t blocked,
		int64_t now, const char *extra, struct strbuf *err)
{
	struct strbuf o = {0};
	char *path = path_in(dir, "quarantine-log.jsonl"), tb[40];
	FILE *f;
	int e = 0;

	sb_addf(&o, "{\"time\": \"%s\", \"event\": \"%s\", \"blocked_packets\": %llu, "
		    "\"quarantine\": ",
		ww_time_str(now, tb), event, (unsigned long long)blocked);
	ww_quarantine_json(q, now, &o);
	if (extra && *extra)
		sb_addf(&o, ", %s", extra);
	sb_add(&o, "}\n");
	if (!path || o.oom) {
		e = -ENOMEM;
	} else if (!(f = fopen(path, "a"))) {
		e = -errno;
	} else {
		if (fwrite(o.s, 1, o.len, f) != o.len)
			e = -EIO;
		if (fclose(f) && !e)
			e = -errno;
	}
	if (e)
		sb_addf(err, "%s: %s", path ? path : "quarantine-log.jsonl", strerror(-e));
	free(path);
	sb_free(&o);
	return e;
}

int ww_quar_lock(const char *dir, int *fd, struct strbuf *err)
{
	char *path = path_in(dir, "quarantine.lock");
	int e = 0;

	*fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (*fd < 0)
		e = path ? -errno : -ENOMEM;
	else if (flock(*fd, LOCK_EX) < 0)
		e = -errno;
	if (e) {
		sb_addf(err, "%s: %s", path ? path : "quarantine.lock", strerror(-e));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	free(path);
	return e;
}

void ww_quar_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the applied policy, cut down ---- */

/* Adds to *v the start of every line of [from, to) that holds needle (each line once: a line's
 * rest is skipped after a hit). One pass of memmem over the text per needle, not a call a line. */
static int lines_with(const char *from, const char *to, const char *needle, const char ***v,
		      size_t *n, size_t *cap)
{
	size_t nl = strlen(needle);

	for (const char *p = from; p < to && (p = memmem(p, (size_t)(to - p), needle, nl));) {
		const char *ls = p;
		while (ls > from && ls[-1] != '\n')
			ls--;
		if (VEC_PUSH(*v, *n, *cap, ls))
			return -ENOMEM;
		const char *le = memchr(p, '\n', (size_t)(to - p));
		p = le ? le + 1 : to;
	}
	return 0;
}

static int ptr_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return x < y ? -1 : x > y;
}

int ww_quar_policy(struct ww_state *s, const char *const *keep, size_t nkeep,
		   struct ww_policy **out, unsigned long *gen, struct strbuf *err)
{
	struct ww_generation g;
	struct strbuf t = {0};
	struct ww_diags d = {0};
	char *path = NULL, *text = NULL, *fl, *end;
	size_t len, nflows = 0;
	int e;

	if ((e = ww_state_current(s, &g)) || !g.gen) {
		sb_add(err, "no policy is applied (a quarantine acts on the applied policy)");
		return e ? e : -ENOENT;
	}
	*gen = g.gen;
	e = ww_quar_index_policy(ww_state_dir(s), g.gen, keep, nkeep, out, err);
	if (e != -ENODATA)
		return e;
	fprintf(stderr, "wardwall: note: generation %lu has no quarantine index (written by an "
			"older wardwall): reading the whole policy; `wardwall apply` writes it\n",
		g.gen);
	e = 0;
	path = xstrdup_printf("%s/generations/%lu.json", ww_state_dir(s), g.gen);
	if (!path)
		return -ENOMEM;
	if ((e = read_file(path, &text, &len))) {
		sb_addf(err, "%s: %s", path, strerror(-e));
		goto out;
	}
	/* The canonical form: `  "flows": [` then one flow a line, then `  ]`. */
	fl = memmem(text, len, "\n  \"flows\": [\n", 14);
	end = fl ? memmem(fl, len - (size_t)(fl - text), "\n  ]", 4) : NULL;
	if (!fl) {
		t.s = NULL;
		sb_addn(&t, text, len);
	} else {
		fl += 14;
		if (!end || end < fl) {
			e = -EINVAL;
			sb_addf(err, "%s: not a canonical policy", path);
			goto out;
		}
		sb_addn(&t, text, (size_t)(fl - text));
		/* The flows a quarantine can keep: marked ones and those named with --keep. */
		const char **ls = NULL;
		size_t nls = 0, lcap = 0;
		char pat[WW_ID_MAX + 16];
		e = lines_with(fl, end, "\"life_critical\": true", &ls, &nls, &lcap);
		if (!e)
			e = lines_with(fl, end, "\"management\": true", &ls, &nls, &lcap);
		for (size_t i = 0; !e && i < nkeep; i++) {
			snprintf(pat, sizeof(pat), "{\"id\": \"%s\",", keep[i]);
			e = lines_with(fl, end, pat, &ls, &nls, &lcap);
		}
		if (e) {
			free(ls);
			goto out;
		}
		qsort(ls, nls, sizeof(*ls), ptr_cmp);
		for (size_t i = 0; i < nls; i++) {
			if (i && ls[i] == ls[i - 1])
				continue;
			const char *obj = ls[i], *nl = memchr(obj, '\n', (size_t)(end - obj));
			size_t on = (size_t)((nl ? nl : end) - obj);
			while (on && *obj == ' ')
				obj++, on--;
			if (on && obj[on - 1] == ',')
				on--;
			sb_add(&t, nflows++ ? ",\n    " : "    ");
			sb_addn(&t, obj, on);
		}
		free(ls);
		sb_addn(&t, end, len - (size_t)(end - text));
	}
	if (t.oom) {
		e = -ENOMEM;
		goto out;
	}
	d.file = path;
	e = ww_policy_parse(path, t.s, t.len, &d, out);
	if (e) {
		sb_addf(err, "%s: the applied policy does not parse any more (%s)", path,
			strerror(-e));
		goto out;
	}
	for (size_t i = 0; i < nkeep; i++)
		if (!ww_flow_find(*out, keep[i])) {
			sb_addf(err, "--keep %s: the applied policy (generation %lu) has no such flow",
				keep[i], g.gen);
			ww_policy_free(*out);
			*out = NULL;
			e = -ENOENT;
			break;
		}
out:
	ww_diags_free(&d);
	sb_free(&t);
	free(text);
	free(path);
	return e;
}

/* ---- targets ---- */

static int add_nets(struct ww_quarantine *q, const struct ww_net *n, size_t nn)
{
	struct ww_prefix *v = realloc(q->pfx, (q->npfx + nn) * sizeof(*v));

	if (!v && q->npfx + nn)
		return -ENOMEM;
	q->pfx = v;
	for (size_t i = 0; i < nn; i++)
		q->pfx[q->npfx++] = n[i].pfx;
	return 0;
}

int ww_quar_resolve(const struct ww_policy *p, const char *target, struct ww_quarantine *q,
		    struct strbuf *err)
{
	struct ww_prefix pfx, canon;
	const char *why = NULL;
	const char *slash = strchr(target, '/');

	if (!ww_prefix_parse(target, true, &pfx, &why, &canon)) {
		struct ww_net n = {.pfx = pfx};
		return add_nets(q, &n, 1);
	}
	if (strchr(target, ':') || (target[0] >= '0' && target[0] <= '9')) {
		sb_addf(err, "target \"%s\": %s", target, why ? why : "not an address or prefix");
		return -EINVAL;
	}
	char zname[WW_NAME_MAX + 1];
	size_t zl = slash ? (size_t)(slash - target) : strlen(target);
	if (zl > WW_NAME_MAX) {
		sb_addf(err, "target \"%s\": no such zone", target);
		return -EINVAL;
	}
	memcpy(zname, target, zl);
	zname[zl] = '\0';
	struct ww_zone *z = ww_zone_find(p, zname);
	const struct ww_group *g = z || slash ? NULL : ww_group_find(p, zname);
	if (g) {
		/* A zone group, as in flows and invariants: every zone of it. */
		int e = 0;
		for (size_t i = 0; i < g->nzones && !e; i++)
			e = add_nets(q, g->zones[i]->nets, g->zones[i]->nnets);
		return e;
	}
	if (!z) {
		const char *best = NULL;
		unsigned int bd = 3;
		for (size_t i = 0; i < p->nzones; i++) {
			unsigned int dd = edit_distance(zname, p->zones[i].name);
			if (dd < bd)
				bd = dd, best = p->zones[i].name;
		}
		sb_addf(err, "target \"%s\": the applied policy has no zone \"%s\"", target, zname);
		if (best)
			sb_addf(err, " (did you mean \"%s\"?)", best);
		return -EINVAL;
	}
	if (!slash)
		return add_nets(q, z->nets, z->nnets);
	struct ww_host *h = ww_host_find(z, slash + 1);
	if (!h) {
		sb_addf(err, "target \"%s\": zone \"%s\" has no host group \"%s\"", target, zname,
			slash + 1);
		return -EINVAL;
	}
	return add_nets(q, h->nets, h->nnets);
}

static bool overlaps(const struct ww_prefix *a, const struct ww_prefix *b)
{
	return a->a.family == b->a.family && (ww_prefix_covers(a, b) || ww_prefix_covers(b, a));
}

bool ww_quar_covers(const struct ww_quarantine *q, const struct ww_addr *a)
{
	for (size_t i = 0; i < q->npfx; i++)
		if (ww_prefix_contains(&q->pfx[i], a))
			return true;
	return false;
}

static bool touches_ep(const struct ww_quarantine *q, const struct ww_endpoint *ep)
{
	const struct ww_net *n = ep->host ? ep->host->nets : ep->zone->nets;
	size_t nn = ep->host ? ep->host->nnets : ep->zone->nnets;

	for (size_t i = 0; i < nn; i++)
		for (size_t j = 0; j < q->npfx; j++)
			if (overlaps(&n[i].pfx, &q->pfx[j]))
				return true;
	return false;
}

static bool touches_list(const struct ww_policy *p, const struct ww_quarantine *q,
			 const struct ww_eplist *l)
{
	if (l->all) {
		for (size_t i = 0; i < p->nzones; i++) {
			struct ww_endpoint ep = {.zone = &p->zones[i]};
			if (touches_ep(q, &ep))
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (touches_ep(q, &l->v[i]))
			return true;
	return false;
}

static bool touches_flow(const struct ww_policy *p, const struct ww_quarantine *q,
			 const struct ww_flow *f)
{
	return touches_list(p, q, &f->from) || touches_list(p, q, &f->to);
}

bool ww_quar_touches_flow(const struct ww_policy *p, const struct ww_quarantine *q,
			  const struct ww_flow *f)
{
	return touches_flow(p, q, f);
}

bool ww_quar_kept(const struct ww_quarantine *q, const char *flow_id)
{
	for (size_t i = 0; i < q->nkeep; i++)
		if (!strcmp(q->keep[i].id, flow_id))
			return true;
	return false;
}

static int eplist_pfx(const struct ww_eplist *l, struct ww_prefix **out, size_t *n, bool *all)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	*all = l->all;
	if (l->all)
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_endpoint *ep = &l->v[i];
		const struct ww_net *nets = ep->host ? ep->host->nets : ep->zone->nets;
		size_t nn = ep->host ? ep->host->nnets : ep->zone->nnets;
		for (size_t j = 0; j < nn; j++)
			if (VEC_PUSH(*out, *n, cap, nets[j].pfx))
				return -ENOMEM;
	}
	return 0;
}

static int keep_flow(const struct ww_policy *p, struct ww_quarantine *q, const struct ww_flow *f,
		     const char *why)
{
	struct ww_qkeep k = {0};
	size_t cap = 0;
	int e = 0;

	if (ww_quar_kept(q, f->id))
		return 0;
	snprintf(k.why, sizeof(k.why), "%s", why);
	if (!(k.id = strdup(f->id)) || (e = eplist_pfx(&f->from, &k.from, &k.nfrom, &k.from_all)) ||
	    (e = eplist_pfx(&f->to, &k.to, &k.nto, &k.to_all)))
		goto fail;
	for (size_t i = 0; i < f->nsvcs; i++) {
		struct ww_term *t = NULL;
		long n = ww_service_normalize(f->svcs[i], &t);
		if (n < 0) {
			e = (int)n;
			goto fail;
		}
		for (long j = 0; j < n; j++) {
			t[j].ptr = NULL;
			if (VEC_PUSH(k.terms, k.nterms, cap, t[j])) {
				free(t);
				e = -ENOMEM;
				goto fail;
			}
		}
		free(t);
	}
	struct ww_qkeep *v = realloc(q->keep, (q->nkeep + 1) * sizeof(*v));
	if (!v) {
		e = -ENOMEM;
		goto fail;
	}
	q->keep = v;
	q->keep[q->nkeep++] = k;
	(void)p;
	return 0;
fail:
	keep_clear(&k);
	return e ? e : -ENOMEM;
}

int ww_quar_keep(const struct ww_policy *p, struct ww_quarantine *q)
{
	int e;

	for (size_t i = 0; i < q->nkeep_given; i++) {
		struct ww_flow *f = ww_flow_find(p, q->keep_given[i]);
		if (f && (e = keep_flow(p, q, f, "given")))
			return e;
	}
	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (f->action != WW_ALLOW || !touches_flow(p, q, f))
			continue;
		if (f->management && (e = keep_flow(p, q, f, "management")))
			return e;
		if (f->life_critical && !q->strict && (e = keep_flow(p, q, f, "life-critical")))
			return e;
	}
	return 0;
}

/* ---- what it breaks ---- */

static bool pfx_in(const struct ww_prefix *p, const struct ww_prefix *v, size_t n, bool all)
{
	if (all)
		return true;
	for (size_t i = 0; i < n; i++)
		if (ww_prefix_covers(&v[i], p))
			return true;
	return false;
}

/* Does kept flow k carry every connection of the invariant (conservatively: its endpoints and
 * its service are each covered by k's)? */
static bool keep_covers_inv(const struct ww_qkeep *k, const struct ww_invariant *v)
{
	struct ww_prefix *pf = NULL, *pt = NULL;
	size_t nf = 0, nt = 0;
	bool af, at, ok = true;

	if (eplist_pfx(&v->from, &pf, &nf, &af) || eplist_pfx(&v->to, &pt, &nt, &at))
		ok = false;
	if (ok && ((af && !k->from_all) || (at && !k->to_all)))
		ok = false;
	for (size_t i = 0; ok && i < nf; i++)
		ok = pfx_in(&pf[i], k->from, k->nfrom, k->from_all);
	for (size_t i = 0; ok && i < nt; i++)
		ok = pfx_in(&pt[i], k->to, k->nto, k->to_all);
	free(pf);
	free(pt);
	if (!ok)
		return false;
	struct ww_term *t = NULL;
	long n = v->svc ? ww_service_normalize(v->svc, &t) : 0;
	if (!v->svc) {
		for (size_t j = 0; j < k->nterms; j++)
			if (k->terms[j].proto == WW_PROTO_ANY)
				return true;
		return false;
	}
	for (long i = 0; ok && i < n; i++) {
		bool in = false;
		for (size_t j = 0; !in && j < k->nterms; j++)
			in = k->terms[j].proto == WW_PROTO_ANY ||
			     (k->terms[j].proto == t[i].proto && k->terms[j].lo <= t[i].lo &&
			      k->terms[j].hi >= t[i].hi);
		ok = in;
	}
	free(t);
	return n >= 0 && ok;
}

static void add_break(struct strbuf *out, bool json, size_t *n, const char *kind, const char *id,
		      const char *ptr, const char *what, const char *who)
{
	if (json) {
		sb_add(out, (*n)++ ? ", {\"kind\": " : "{\"kind\": ");
		sb_add_json_str(out, kind);
		sb_add(out, ", \"id\": ");
		sb_add_json_str(out, id);
		sb_add(out, ", \"pointer\": ");
		sb_add_json_str(out, ptr ? ptr : "");
		sb_add(out, ", \"for\": ");
		sb_add_json_str(out, who);
		sb_add(out, "}");
	} else {
		(*n)++;
		sb_addf(out, "%s %s %s for %s (%s)\n", kind, id, what, who, ptr ? ptr : "");
	}
}

/* A health probe (a TCP connection from -> to:port that must keep working) with an address in
 * the target fails unless a kept flow carries it: the overlay drops it in both directions. */
static void probe_breaks(const struct ww_policy *p, const struct ww_quarantine *q, bool json,
			 struct strbuf *out, size_t *n, struct ww_quar_nbreaks *nb)
{
	char a[WW_PREFIX_STRLEN];

	for (size_t i = 0; i < p->nprobes; i++) {
		const struct ww_probe *pr = &p->probes[i];
		const struct ww_addr *hit = ww_quar_covers(q, &pr->from) ? &pr->from
					    : ww_quar_covers(q, &pr->to) ? &pr->to
									 : NULL;
		if (!pr->id || !hit ||
		    ww_quar_conn_kept(q, &pr->from, &pr->to, WW_PROTO_TCP, pr->port))
			continue;
		add_break(out, json, n, "probe", pr->id, pr->ptr, "would fail",
			  ww_addr_str(hit, a));
		nb->probes++;
	}
}

int ww_quar_breaks(const struct ww_policy *p, const struct ww_quarantine *q, bool json,
		   struct strbuf *out, struct ww_quar_nbreaks *nb)
{
	size_t n = 0;

	*nb = (struct ww_quar_nbreaks){0};
	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (f->action != WW_ALLOW || !touches_flow(p, q, f) || ww_quar_kept(q, f->id))
			continue;
		add_break(out, json, &n, "flow", f->id, f->ptr, "would stop", q->target);
		nb->flows++;
	}
	for (size_t i = 0; i < p->ninvs; i++) {
		const struct ww_invariant *v = &p->invs[i];
		bool kept = false;
		if (v->expect != WW_ALLOW ||
		    !(touches_list(p, q, &v->from) || touches_list(p, q, &v->to)))
			continue;
		for (size_t j = 0; !kept && j < q->nkeep; j++)
			kept = keep_covers_inv(&q->keep[j], v);
		if (kept)
			continue;
		add_break(out, json, &n, "invariant", v->id, v->ptr, "would stop", q->target);
		nb->invariants++;
	}
	probe_breaks(p, q, json, out, &n, nb);
	return out->oom ? -ENOMEM : 0;
}

/* ---- connections ---- */

static bool addr_in(const struct ww_addr *a, const struct ww_prefix *v, size_t n, bool all)
{
	if (all)
		return true;
	for (size_t i = 0; i < n; i++)
		if (ww_prefix_contains(&v[i], a))
			return true;
	return false;
}

bool ww_quar_conn_kept(const struct ww_quarantine *q, const struct ww_addr *src,
		       const struct ww_addr *dst, int proto, unsigned int port)
{
	for (size_t i = 0; i < q->nkeep; i++) {
		const struct ww_qkeep *k = &q->keep[i];
		if (!addr_in(src, k->from, k->nfrom, k->from_all) ||
		    !addr_in(dst, k->to, k->nto, k->to_all))
			continue;
		for (size_t t = 0; t < k->nterms; t++)
			if (k->terms[t].proto == WW_PROTO_ANY ||
			    (k->terms[t].proto == proto &&
			     (!ww_proto_key_max(proto) ||
			      (port >= k->terms[t].lo && port <= k->terms[t].hi))))
				return true;
	}
	return false;
}
