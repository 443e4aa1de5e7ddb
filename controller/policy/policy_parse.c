// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON -> model. Validation reports every problem it can find rather than stopping at the first:
 * each parse_* function records errors and returns false, and its caller carries on with the next
 * member. Cross-references (zones, hosts, services) are resolved after all definitions are read.
 */
#include "policy.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addrset.h"
#include "classmark.h"
#include "policy_json.h"
#include "policy_scan.h"
#include "policy_gateways.h"
#include "policy_siem.h"
#include "services.h"
#include "terms.h"
#include "timeutil.h"

#define WW_WINDOW_MAX 7258118400LL /* 2200-01-01T00:00:00Z */

struct pctx {
	struct ww_policy *p;
	struct ww_diags *d;
	size_t narrowed_cap;
	bool oom;
};

#define countof(a) (sizeof(a) / sizeof((a)[0]))

static char *kptr(struct pctx *c, const char *base, const char *key)
{
	char *s = ww_ptr_key(base, key);

	if (!s)
		c->oom = true;
	return s;
}

static char *iptr(struct pctx *c, const char *base, size_t idx)
{
	char *s = ww_ptr_idx(base, idx);

	if (!s)
		c->oom = true;
	return s;
}

static char *pdup(struct pctx *c, const char *s)
{
	char *r = s ? strdup(s) : NULL;

	if (s && !r)
		c->oom = true;
	return r;
}

static const char *jtype(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsArray(j))
		return "an array";
	return "an object";
}

static bool want(struct pctx *c, const cJSON *j, const char *ptr, cJSON_bool (*is)(const cJSON *),
		 const char *what)
{
	if (is(j))
		return true;
	ww_err(c->d, "wrong-type", ptr, "expected %s, got %s", what, jtype(j));
	return false;
}

/* Rejects unknown and repeated members; suggests the closest known name for a misspelt one. */
static bool check_members(struct pctx *c, const cJSON *obj, const char *ptr,
			  const char *const *known, size_t nknown)
{
	bool ok = true;

	for (const cJSON *m = obj->child; m; m = m->next) {
		bool found = false, again = false;

		for (size_t i = 0; i < nknown && !found; i++)
			found = !strcmp(m->string, known[i]);
		for (const cJSON *prev = obj->child; prev != m && !again; prev = prev->next)
			again = !strcmp(prev->string, m->string);
		if (found && !again)
			continue;
		char *mp = kptr(c, ptr, m->string); /* only for what is said */
		if (!found)
			ww_diag_add(c->d, WW_ERROR, "unknown-field", mp,
				    suggest(m->string, known, nknown), "unknown field \"%s\"",
				    m->string);
		if (again)
			ww_err(c->d, "duplicate-key", mp, "\"%s\" is given more than once",
			       m->string);
		ok = false;
		free(mp);
	}
	return ok;
}

/* Repeated members of maps keyed by name (zones, hosts, services). */
static bool unique_members(struct pctx *c, const cJSON *obj, const char *ptr, const char *what)
{
	struct strset seen = {0};
	bool ok = true;

	/* A hash set: 100k zones must not cost 5 billion comparisons. */
	for (const cJSON *m = obj->child; m; m = m->next) {
		int r = strset_add(&seen, m->string);
		if (r < 0) {
			c->oom = true;
			ok = false;
			break;
		}
		if (r == 0) {
			char *mp = kptr(c, ptr, m->string);
			ww_err(c->d, "duplicate-key", mp, "%s \"%s\" is defined twice", what,
			       m->string);
			free(mp);
			ok = false;
		}
	}
	strset_free(&seen);
	return ok;
}

static bool check_name(struct pctx *c, const char *s, const char *ptr, const char *what,
		       size_t max, bool allow_dot)
{
	if (ww_name_ok(s, max, allow_dot))
		return true;
	ww_err(c->d, "invalid-name", ptr,
	       "%s name \"%s\" is invalid: use 1-%zu letters, digits, '-', '_'%s, starting with a "
	       "letter or digit",
	       what, s, max, allow_dot ? ", '.'" : "");
	return false;
}

/* Looks up one of a fixed set of keywords; exact match only. */
static bool keyword(struct pctx *c, const cJSON *j, const char *ptr, const char *const *words,
		    size_t n, int *out)
{
	return want(c, j, ptr, cJSON_IsString, "a string") && ww_keyword(c->d, j, ptr, words, n, out);
}

/* Member key of obj as true (1) or false (0); -1 when absent or not a boolean (said). */
static int opt_bool(struct pctx *c, const cJSON *obj, const char *key, const char *ptr)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *mp;
	int r = -1;

	if (!m)
		return -1;
	mp = kptr(c, ptr, key);
	if (want(c, m, mp, cJSON_IsBool, "true or false"))
		r = cJSON_IsTrue(m);
	free(mp);
	return r;
}

static bool integer(struct pctx *c, const cJSON *j, const char *ptr, long min, long max,
		    long *out)
{
	if (!want(c, j, ptr, cJSON_IsNumber, "a number"))
		return false;
	/* Range first: converting a double beyond long (1e99, inf) to long is undefined. */
	if (!(j->valuedouble >= (double)min && j->valuedouble <= (double)max)) {
		ww_err(c->d, "out-of-range", ptr, "%g is out of range: expected an integer %ld-%ld",
		       j->valuedouble, min, max);
		return false;
	}
	if (j->valuedouble != (double)(long)j->valuedouble) {
		ww_err(c->d, "not-integer", ptr, "%g is not a whole number: expected an integer %ld-%ld",
		       j->valuedouble, min, max);
		return false;
	}
	*out = (long)j->valuedouble;
	return true;
}

int ww_range_parse(const char *s, unsigned int max, unsigned int *lo, unsigned int *hi)
{
	unsigned long a, b;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	a = strtoul(s, &end, 10);
	if (errno)
		return -ERANGE;
	b = a;
	if (*end == '-') {
		if (!isdigit((unsigned char)end[1]))
			return -EINVAL;
		b = strtoul(end + 1, &end, 10);
		if (errno)
			return -ERANGE;
	}
	if (*end)
		return -EINVAL;
	if (a > max || b > max)
		return -ERANGE;
	*lo = (unsigned int)a;
	*hi = (unsigned int)b;
	return a > b ? -EDOM : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* defaults, enforcement                                                                       */

static const char *const actions[] = {"allow", "deny"};
/* A flow's: reject is a deny that answers (model.h, struct ww_flow). */
static const char *const flow_actions[] = {"allow", "deny", "reject"};
static const char *const modes[] = {"enforce", "monitor"};
static const char *const logs[] = {"none", "deny", "all"};

static void parse_defaults(struct pctx *c, const cJSON *j)
{
	static const char *const known[] = {"between_zones", "within_zone", "log"};
	struct ww_defaults *d = &c->p->defaults;
	int v;

	d->between_zones = WW_DENY;
	d->within_zone = WW_DENY;
	d->log = WW_LOG_DENY;
	if (!j)
		return;
	if (!want(c, j, "/defaults", cJSON_IsObject, "an object"))
		return;
	check_members(c, j, "/defaults", known, countof(known));
	const cJSON *m;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "between_zones")) &&
	    keyword(c, m, "/defaults/between_zones", actions, 2, &v))
		d->between_zones = (enum ww_action)v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "within_zone")) &&
	    keyword(c, m, "/defaults/within_zone", actions, 2, &v))
		d->within_zone = (enum ww_action)v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "log")) &&
	    keyword(c, m, "/defaults/log", logs, 3, &v))
		d->log = (enum ww_log)v;
}

/* An invalid mask leaves mark_mask 0, so that the check of its fields is not made on it. */
static void parse_mark_bits(struct pctx *c, const cJSON *m)
{
	const char *ptr = "/enforcement/mark_bits";
	uint32_t mask;
	int e, n;

	c->p->enf.mark_mask = 0;
	if (!want(c, m, ptr, cJSON_IsString, "a string such as \"0xffff0000\""))
		return;
	e = ww_mark_parse(m->valuestring, &mask);
	n = e == -EDOM ? __builtin_popcount(mask) : 0;
	if (e == -EINVAL)
		ww_err(c->d, "invalid-mark-bits", ptr,
		       "\"%s\" is not a mark mask: expected \"0x\" and 1-8 hex digits, such as "
		       "\"0xffff0000\"",
		       m->valuestring);
	else if (e)
		ww_err(c->d, "invalid-mark-bits", ptr,
		       "\"%s\" has %d bit%s%s: the class is written into one contiguous run of at "
		       "least 2 bits (zone and host fields), such as \"0xffff0000\"",
		       m->valuestring, n, n == 1 ? "" : "s",
		       n >= 2 ? ", not in one run" : "");
	else
		c->p->enf.mark_mask = mask;
}

/* Once zones are read: do their classes fit the mark's fields? Said where the mask comes from:
 * its member, or where the default applies (the "enforcement" object, else the policy). */
static void check_mark_fit(struct pctx *c, const cJSON *enf)
{
	bool given = cJSON_IsObject(enf) && cJSON_GetObjectItemCaseSensitive(enf, "mark_bits");
	const char *ptr = given ? "/enforcement/mark_bits" : "/enforcement";

	ww_mark_check_fit(c->p, given || enf ? ptr : "", !given, c->d);
}

static void parse_enforcement(struct pctx *c, const cJSON *j)
{
	static const char *const known[] = {"mode",	"interfaces", "xdp",	  "log_group",
					    "log_rate", "on_failure", "mark_bits"};
	static const char *const failures[] = {"closed", "open"};
	static const char *const xdps[] = {"off", "native", "generic"};
	struct ww_enforcement *e = &c->p->enf;
	const cJSON *m;
	long n;
	int v;

	e->mode = WW_GATEWAY;
	e->xdp = WW_XDP_OFF;
	e->log_group = 4269;
	e->log_rate = 50;
	e->mark_mask = WW_MARK_DEFAULT;
	if (!j)
		return;
	if (!want(c, j, "/enforcement", cJSON_IsObject, "an object"))
		return;
	check_members(c, j, "/enforcement", known, countof(known));
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "mode")) &&
	    keyword(c, m, "/enforcement/mode", ww_hookmode_names, 3, &v))
		e->mode = (enum ww_hookmode)v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "xdp")) &&
	    keyword(c, m, "/enforcement/xdp", xdps, 3, &v))
		e->xdp = (enum ww_xdp_mode)v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "log_group")) &&
	    integer(c, m, "/enforcement/log_group", 0, 65535, &n))
		e->log_group = (uint16_t)n;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "log_rate")) &&
	    integer(c, m, "/enforcement/log_rate", 1, 1000000, &n))
		e->log_rate = (uint32_t)n;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "on_failure")) &&
	    keyword(c, m, "/enforcement/on_failure", failures, 2, &v))
		e->on_failure = (enum ww_on_failure)v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "mark_bits")))
		parse_mark_bits(c, m);
	m = cJSON_GetObjectItemCaseSensitive(j, "interfaces");
	if (m && want(c, m, "/enforcement/interfaces", cJSON_IsArray, "an array of interface names")) {
		size_t i = 0, cap = 0;
		for (const cJSON *x = m->child; x; x = x->next, i++) {
			char *xp = iptr(c, "/enforcement/interfaces", i);
			if (!want(c, x, xp, cJSON_IsString, "an interface name")) {
			} else if (!ww_ifname_valid(x->valuestring)) {
				ww_err(c->d, "invalid-interface", xp,
				       "\"%s\" is not a valid interface name (1-15 characters, no '/', "
				       "':' or spaces)",
				       x->valuestring);
			} else {
				bool seen = false;
				for (size_t k = 0; k < e->nifaces && !seen; k++)
					seen = !strcmp(e->ifaces[k], x->valuestring);
				char *s = seen ? NULL : pdup(c, x->valuestring);
				if (seen)
					ww_err(c->d, "duplicate-interface", xp,
					       "interface \"%s\" is listed twice", x->valuestring);
				else if (s && VEC_PUSH(e->ifaces, e->nifaces, cap, s))
					free(s), c->oom = true;
			}
			free(xp);
		}
	}
	if (e->mode == WW_BRIDGE && e->nifaces == 0)
		ww_err(c->d, "bridge-needs-ports",
		       cJSON_GetObjectItemCaseSensitive(j, "interfaces") ? "/enforcement/interfaces"
									 : "/enforcement/mode",
		       "bridge mode filters the frames a bridge forwards between the ports named in "
		       "\"interfaces\": list them");
	if (e->xdp != WW_XDP_OFF && e->nifaces == 0)
		ww_err(c->d, "xdp-needs-interfaces", "/enforcement/xdp",
		       "XDP enforcement needs the interfaces to attach to: list them in "
		       "\"interfaces\"");
}

/* One detector's object: "enabled" and its integer settings (names[i] into vals[i]). */
static void parse_detector(struct pctx *c, const cJSON *j, const char *name, bool *enabled,
			   const char *const *names, uint32_t *const *vals, const long *max, size_t n,
			   const char *const *extra, size_t nextra)
{
	const char *known[8];
	char base[32];
	const cJSON *m;
	long v;

	snprintf(base, sizeof(base), "/detect/%s", name);
	if (!j || !want(c, j, base, cJSON_IsObject, "an object"))
		return;
	known[0] = "enabled";
	for (size_t i = 0; i < n; i++)
		known[1 + i] = names[i];
	for (size_t i = 0; i < nextra; i++)
		known[1 + n + i] = extra[i];
	check_members(c, j, base, known, 1 + n + nextra);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "enabled"))) {
		char *mp = kptr(c, base, "enabled");
		if (want(c, m, mp, cJSON_IsBool, "true or false"))
			*enabled = cJSON_IsTrue(m);
		free(mp);
	}
	for (size_t i = 0; i < n; i++) {
		if (!(m = cJSON_GetObjectItemCaseSensitive(j, names[i])))
			continue;
		char *mp = kptr(c, base, names[i]);
		if (integer(c, m, mp, 1, max[i], &v))
			*vals[i] = (uint32_t)v;
		free(mp);
	}
}

static void parse_detect(struct pctx *c, const cJSON *j)
{
	static const char *const known[] = {"scan",	   "lateral",	  "new_talker",
					    "flood",	   "max_sources", "cooldown"};
	static const char *const crits[] = {"low", "medium", "high", "life-critical"};
	struct ww_detect_cfg *d = &c->p->detect;
	const cJSON *m;
	long n;
	int v;

	ww_detect_cfg_default(d);
	if (!j || !want(c, j, "/detect", cJSON_IsObject, "an object"))
		return;
	check_members(c, j, "/detect", known, countof(known));
	{
		static const char *const names[] = {"targets", "window"};
		static const long max[] = {WW_DETECT_TARGETS_MAX, 86400};
		uint32_t *vals[] = {&d->scan_targets, &d->scan_window};
		parse_detector(c, cJSON_GetObjectItemCaseSensitive(j, "scan"), "scan", &d->scan, names,
			       vals, max, 2, NULL, 0);
	}
	{
		static const char *const extra[] = {"min_criticality"};
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "lateral");
		parse_detector(c, l, "lateral", &d->lateral, NULL, NULL, NULL, 0, extra, 1);
		if (cJSON_IsObject(l) && (m = cJSON_GetObjectItemCaseSensitive(l, "min_criticality")) &&
		    keyword(c, m, "/detect/lateral/min_criticality", crits, countof(crits), &v))
			d->lateral_min_crit = (enum ww_crit)(v + 1);
	}
	parse_detector(c, cJSON_GetObjectItemCaseSensitive(j, "new_talker"), "new_talker",
		       &d->new_talker, NULL, NULL, NULL, 0, NULL, 0);
	{
		static const char *const names[] = {"rate", "window"};
		static const long max[] = {10000000, 3600};
		uint32_t *vals[] = {&d->flood_rate, &d->flood_window};
		parse_detector(c, cJSON_GetObjectItemCaseSensitive(j, "flood"), "flood", &d->flood,
			       names, vals, max, 2, NULL, 0);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "max_sources")) &&
	    integer(c, m, "/detect/max_sources", 16, 1 << 20, &n))
		d->max_sources = (uint32_t)n;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "cooldown")) &&
	    integer(c, m, "/detect/cooldown", 1, 86400, &n))
		d->cooldown = (uint32_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* zones and hosts                                                                             */

static bool parse_net(struct pctx *c, const cJSON *x, const char *xp, bool allow_len,
		      struct ww_net **v, size_t *n, size_t *cap)
{
	struct ww_prefix pfx, canon;
	const char *why;
	char buf[WW_PREFIX_STRLEN];

	if (!want(c, x, xp, cJSON_IsString, allow_len ? "a network in CIDR notation" : "an address"))
		return false;
	if (ww_prefix_parse(x->valuestring, allow_len, &pfx, &why, &canon)) {
		if (!strcmp(why, "host bits are set"))
			ww_diag_add(c->d, WW_ERROR, "invalid-prefix", xp,
				    ww_prefix_str(&canon, false, buf), "\"%s\": %s",
				    x->valuestring, why);
		else
			ww_err(c->d, allow_len ? "invalid-prefix" : "invalid-address", xp,
			       "\"%s\": %s", x->valuestring, why);
		return false;
	}
	struct ww_net net = {.pfx = pfx, .ptr = pdup(c, xp)};
	if (VEC_PUSH(*v, *n, *cap, net)) {
		free(net.ptr);
		c->oom = true;
		return false;
	}
	return true;
}

static void parse_nets(struct pctx *c, const cJSON *j, const char *ptr, bool allow_len,
		       struct ww_net **v, size_t *n)
{
	size_t cap = 0, i = 0;

	if (cJSON_IsString(j)) {
		parse_net(c, j, ptr, allow_len, v, n, &cap);
		return;
	}
	if (!want(c, j, ptr, cJSON_IsArray, "an array of addresses"))
		return;
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		char *xp = iptr(c, ptr, i);
		if (xp)
			parse_net(c, x, xp, allow_len, v, n, &cap);
		free(xp);
	}
}

/* One entry of a zone's "networks" or "except": a prefix or a built-in set's name. */
struct spec_entry {
	struct ww_prefix *pfx;
	size_t n;
	char *text; /* canonical: the prefix, or the set's name */
	char *ptr;
};

struct pfx_vec {
	struct ww_prefix *v;
	size_t n, cap;
	bool oom;
};

static void pfx_push(const struct ww_prefix *p, void *arg)
{
	struct pfx_vec *pv = arg;

	if (VEC_PUSH(pv->v, pv->n, pv->cap, *p))
		pv->oom = true;
}

static bool is_set_name(const char *s)
{
	return isalpha((unsigned char)s[0]) && !strchr(s, ':');
}

static bool parse_spec_entry(struct pctx *c, const cJSON *x, const char *xp, struct spec_entry *e)
{
	struct pfx_vec pv = {0};
	char buf[WW_PREFIX_STRLEN];

	*e = (struct spec_entry){0};
	if (!want(c, x, xp, cJSON_IsString, "a network in CIDR notation or an address set's name"))
		return false;
	if (is_set_name(x->valuestring)) {
		const struct ww_addrset *set = ww_addrset_find(x->valuestring);
		if (!set) {
			const char *names[8];
			size_t n = 0;
			for (; ww_addrsets[n] && n < 8; n++)
				names[n] = ww_addrsets[n]->name;
			ww_diag_add(c->d, WW_ERROR, "unknown-address-set", xp,
				    suggest(x->valuestring, names, n),
				    "\"%s\" is neither a network nor a built-in address set (rfc1918, "
				    "ula, special-purpose, multicast)",
				    x->valuestring);
			return false;
		}
		if (ww_addrset_each(set, pfx_push, &pv) || pv.oom) {
			free(pv.v);
			c->oom = true;
			return false;
		}
		e->text = pdup(c, set->name);
	} else {
		struct ww_net *one = NULL;
		size_t n1 = 0, cap1 = 0;
		if (!parse_net(c, x, xp, true, &one, &n1, &cap1))
			return false;
		pfx_push(&one[0].pfx, &pv);
		e->text = pdup(c, ww_prefix_str(&one[0].pfx, false, buf));
		free(one[0].ptr);
		free(one);
		/* A prefix that could not be kept would leave the zone without it, silently. */
		if (pv.oom) {
			free(pv.v);
			free(e->text);
			e->text = NULL;
			c->oom = true;
			return false;
		}
	}
	e->pfx = pv.v;
	e->n = pv.n;
	e->ptr = pdup(c, xp);
	return !pv.oom && e->text && e->ptr;
}

static void spec_clear(struct spec_entry *e)
{
	free(e->pfx), free(e->text), free(e->ptr);
}

static void spec_free(struct spec_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		spec_clear(&v[i]);
	free(v);
}

static void parse_spec_list(struct pctx *c, const cJSON *j, const char *ptr,
			    struct spec_entry **v, size_t *n)
{
	size_t cap = 0, i = 0;

	if (cJSON_IsArray(j) && !j->child) {
		ww_err(c->d, "empty-list", ptr, "the list is empty");
		return;
	}
	if (!cJSON_IsString(j) &&
	    !want(c, j, ptr, cJSON_IsArray, "a network, an address set, or an array of them"))
		return;
	for (const cJSON *x = cJSON_IsString(j) ? j : j->child; x;
	     x = cJSON_IsString(j) ? NULL : x->next, i++) {
		char *xp = cJSON_IsString(j) ? pdup(c, ptr) : iptr(c, ptr, i);
		struct spec_entry e;
		if (!xp) {
		} else if (!parse_spec_entry(c, x, xp, &e)) {
			spec_clear(&e);
		} else if (VEC_PUSH(*v, *n, cap, e)) {
			spec_clear(&e);
			c->oom = true;
		}
		free(xp);
	}
}

/* Keeps the entries' canonical texts in the zone for the printer (which sorts them). */
static char **spec_texts(struct pctx *c, const struct spec_entry *v, size_t n)
{
	char **t = calloc(n ? n : 1, sizeof(*t));

	if (!t) {
		c->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		t[i] = pdup(c, v[i].text);
	return t;
}

struct derive {
	struct pctx *c;
	struct ww_zone *z;
	const struct spec_entry *plus;
	size_t nplus;
	size_t cap;
};

/* Each resulting prefix points at the entry its first address came from. */
static void derive_push(const struct ww_prefix *p, void *arg)
{
	struct derive *dv = arg;
	const char *ptr = NULL;

	for (size_t i = 0; i < dv->nplus && !ptr; i++)
		for (size_t k = 0; k < dv->plus[i].n && !ptr; k++)
			if (ww_prefix_covers(&dv->plus[i].pfx[k], p))
				ptr = dv->plus[i].ptr;
	struct ww_net net = {.pfx = *p, .ptr = pdup(dv->c, ptr ? ptr : dv->z->ptr)};
	if (!net.ptr || VEC_PUSH(dv->z->nets, dv->z->nnets, dv->cap, net)) {
		free(net.ptr);
		dv->c->oom = true;
	}
}

static struct ww_prefix *flatten(const struct spec_entry *v, size_t n, size_t *out_n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += v[i].n;
	struct ww_prefix *f = malloc((total ? total : 1) * sizeof(*f));
	for (size_t i = 0; f && i < n; i++)
		for (size_t j = 0; j < v[i].n; j++)
			f[k++] = v[i].pfx[j];
	*out_n = k;
	return f;
}

/* "networks" with a set name or "except": the zone's addresses are the union of the networks
 * minus the union of the exceptions. Every exception must take something away. */
static void parse_zone_spec(struct pctx *c, struct ww_zone *z, const cJSON *nets,
			    const cJSON *except)
{
	struct spec_entry *plus = NULL, *minus = NULL;
	size_t nplus = 0, nminus = 0, np = 0, nm = 0;
	char *np_ptr = kptr(c, z->ptr, "networks"), *ex_ptr = kptr(c, z->ptr, "except");

	if (!np_ptr || !ex_ptr)
		goto out;
	parse_spec_list(c, nets, np_ptr, &plus, &nplus);
	if (except)
		parse_spec_list(c, except, ex_ptr, &minus, &nminus);
	for (size_t i = 0; i < nplus; i++)
		for (size_t k = 0; k < plus[i].n; k++)
			if (plus[i].pfx[k].len == 0)
				z->untrusted = true; /* the default route, as for a plain zone */
	struct ww_prefix *fp = flatten(plus, nplus, &np), *fm = flatten(minus, nminus, &nm);
	if (!fp || !fm) {
		c->oom = true;
	} else {
		for (size_t i = 0; i < nminus; i++) {
			bool touches = false;
			for (size_t k = 0; k < minus[i].n && !touches; k++)
				for (size_t q = 0; q < np && !touches; q++)
					touches = ww_prefix_covers(&fp[q], &minus[i].pfx[k]) ||
						  ww_prefix_covers(&minus[i].pfx[k], &fp[q]);
			if (!touches)
				ww_err(c->d, "except-outside", minus[i].ptr,
				       "\"%s\" takes nothing away: it lies outside the zone's networks",
				       minus[i].text);
		}
		struct derive dv = {c, z, plus, nplus, 0};
		if (ww_prefix_subtract(fp, np, fm, nm, derive_push, &dv))
			c->oom = true;
		else if (!z->nnets && nplus)
			ww_err(c->d, "empty-networks", ex_ptr,
			       "zone \"%s\" has no address left once the exceptions are taken away",
			       z->name);
	}
	free(fp);
	free(fm);
	z->spec_nets = spec_texts(c, plus, nplus);
	z->nspec_nets = z->spec_nets ? nplus : 0;
	if (nminus) {
		z->spec_except = spec_texts(c, minus, nminus);
		z->nspec_except = z->spec_except ? nminus : 0;
	}
out:
	spec_free(plus, nplus);
	spec_free(minus, nminus);
	free(np_ptr);
	free(ex_ptr);
}

static bool names_a_set(const cJSON *j)
{
	if (cJSON_IsString(j))
		return is_set_name(j->valuestring);
	for (const cJSON *x = cJSON_IsArray(j) ? j->child : NULL; x; x = x->next)
		if (cJSON_IsString(x) && is_set_name(x->valuestring))
			return true;
	return false;
}

static void parse_hosts(struct pctx *c, struct ww_zone *z, const cJSON *j, const char *ptr)
{
	size_t cap = 0;

	if (!want(c, j, ptr, cJSON_IsObject, "an object of host names to addresses"))
		return;
	unique_members(c, j, ptr, "host");
	for (const cJSON *m = j->child; m; m = m->next) {
		struct ww_host h = {.zone = z};
		h.ptr = kptr(c, ptr, m->string);
		h.name = pdup(c, m->string);
		if (!h.ptr || !h.name) {
			free(h.ptr), free(h.name);
			continue;
		}
		check_name(c, m->string, h.ptr, "host", WW_NAME_MAX, false);
		/* Host groups may be prefixes ("10.20.4.0/28") or single addresses. */
		parse_nets(c, m, h.ptr, true, &h.nets, &h.nnets);
		if (h.nnets == 0 && (cJSON_IsArray(m) && !m->child))
			ww_err(c->d, "empty-host", h.ptr, "host \"%s\" has no address", m->string);
		if (VEC_PUSH(z->hosts, z->nhosts, cap, h)) {
			for (size_t k = 0; k < h.nnets; k++)
				free(h.nets[k].ptr);
			free(h.ptr), free(h.name), free(h.nets);
			c->oom = true;
		}
	}
}

static void parse_zone(struct pctx *c, struct ww_zone *z, const cJSON *j)
{
	static const char *const known[] = {"description", "criticality", "mode", "untrusted",
					    "networks",    "except",      "hosts"};
	static const char *const crits[] = {"low", "medium", "high", "life-critical"};
	const cJSON *m;
	char *mp;
	int v;

	check_name(c, z->name, z->ptr, "zone", WW_NAME_MAX, false);
	if (!want(c, j, z->ptr, cJSON_IsObject, "an object"))
		return;
	check_members(c, j, z->ptr, known, countof(known));
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "description"))) {
		mp = kptr(c, z->ptr, "description");
		if (want(c, m, mp, cJSON_IsString, "a string"))
			z->description = pdup(c, m->valuestring);
		free(mp);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "criticality"))) {
		mp = kptr(c, z->ptr, "criticality");
		if (keyword(c, m, mp, crits, countof(crits), &v))
			z->crit = (enum ww_crit)(v + 1);
		free(mp);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "mode"))) {
		mp = kptr(c, z->ptr, "mode");
		if (keyword(c, m, mp, modes, 2, &v))
			z->mode = (enum ww_mode)v;
		free(mp);
	}
	if ((v = opt_bool(c, j, "untrusted", z->ptr)) >= 0)
		z->untrusted = v;
	m = cJSON_GetObjectItemCaseSensitive(j, "networks");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "except");
	mp = kptr(c, z->ptr, "networks");
	if (!m)
		ww_err(c->d, "missing-field", z->ptr, "zone \"%s\" has no \"networks\"", z->name);
	else if (cJSON_IsArray(m) && !m->child)
		ww_err(c->d, "empty-networks", mp, "zone \"%s\" has no networks", z->name);
	else if (ex || names_a_set(m))
		parse_zone_spec(c, z, m, ex);
	else
		parse_nets(c, m, mp, true, &z->nets, &z->nnets);
	free(mp);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "hosts"))) {
		mp = kptr(c, z->ptr, "hosts");
		parse_hosts(c, z, m, mp);
		free(mp);
	}
	/* A zone holding the default route is the internet: untrusted by definition. */
	for (size_t i = 0; i < z->nnets; i++)
		if (z->nets[i].pfx.len == 0)
			z->untrusted = true;
}

static int zone_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_zone *)a)->name, ((const struct ww_zone *)b)->name);
}

static int host_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_host *)a)->name, ((const struct ww_host *)b)->name);
}

static void parse_zones(struct pctx *c, const cJSON *j)
{
	struct ww_policy *p = c->p;
	size_t cap = 0, nh = 0;

	if (!j) {
		ww_err(c->d, "missing-field", "", "the policy defines no \"zones\"");
		return;
	}
	if (!want(c, j, "/zones", cJSON_IsObject, "an object of zone names to zones"))
		return;
	if (!j->child)
		ww_err(c->d, "empty-zones", "/zones", "the policy defines no zones");
	unique_members(c, j, "/zones", "zone");
	/* Parse in document order (diagnostics follow the file), then sort for ids and lookups. */
	for (const cJSON *m = j->child; m; m = m->next) {
		struct ww_zone z = {0};
		z.name = pdup(c, m->string);
		z.ptr = kptr(c, "/zones", m->string);
		if (z.name && z.ptr)
			parse_zone(c, &z, m);
		if (!z.name || !z.ptr || VEC_PUSH(p->zones, p->nzones, cap, z)) {
			ww_zone_clear(&z);
			c->oom = true;
		}
	}
	if (p->nzones)
		qsort(p->zones, p->nzones, sizeof(*p->zones), zone_cmp);
	for (size_t i = 0; i < p->nzones; i++) {
		struct ww_zone *z = &p->zones[i];
		z->ep = (ww_ep_t)(i + 1);
		if (z->nhosts)
			qsort(z->hosts, z->nhosts, sizeof(*z->hosts), host_cmp);
		for (size_t k = 0; k < z->nhosts; k++)
			z->hosts[k].zone = z;
		nh += z->nhosts;
	}
	p->nhosts = nh;
	p->host_by_ep = calloc(nh ? nh : 1, sizeof(*p->host_by_ep));
	if (!p->host_by_ep) {
		c->oom = true;
		p->nhosts = 0;
		return;
	}
	nh = 0;
	for (size_t i = 0; i < p->nzones; i++)
		for (size_t k = 0; k < p->zones[i].nhosts; k++) {
			p->zones[i].hosts[k].ep = (ww_ep_t)(p->nzones + nh + 1);
			p->host_by_ep[nh++] = &p->zones[i].hosts[k];
		}
}

struct netref {
	const struct ww_net *net;
	const struct ww_zone *zone;
	const struct ww_host *host;
};

static int netref_cmp(const void *a, const void *b)
{
	const struct netref *x = a, *y = b;
	int r = ww_prefix_cmp(&x->net->pfx, &y->net->pfx);

	return r ? r : strcmp(x->net->ptr, y->net->ptr);
}

static void check_default_route(struct pctx *c, const struct ww_zone *z);

/* An address belongs to the most specific prefix that holds it, host groups included (both tiers
 * classify by longest prefix). A host group nested in another therefore takes its addresses out
 * of the broader one: flows naming the broader group no longer apply to them. That is legitimate
 * ("the PACS archive" inside "the PACS servers") but easy to do by accident, so say which. */
static void check_nested_hosts(struct pctx *c, const struct ww_zone *z)
{
	char a[WW_PREFIX_STRLEN], b[WW_PREFIX_STRLEN];

	for (size_t h = 0; h < z->nhosts; h++)
		for (size_t k = 0; k < z->hosts[h].nnets; k++) {
			const struct ww_net *in = &z->hosts[h].nets[k];
			for (size_t o = 0; o < z->nhosts; o++)
				for (size_t q = 0; o != h && q < z->hosts[o].nnets; q++) {
					const struct ww_net *out = &z->hosts[o].nets[q];
					if (out->pfx.len >= in->pfx.len ||
					    !ww_prefix_covers(&out->pfx, &in->pfx))
						continue;
					ww_warn(c->d, "nested-host-group", in->ptr,
						"%s of host group \"%s/%s\" lies inside host group "
						"\"%s/%s\" (%s, %s): those addresses belong to "
						"\"%s/%s\" only, so flows naming \"%s/%s\" do not "
						"apply to them",
						ww_prefix_str(&in->pfx, true, a), z->name,
						z->hosts[h].name, z->name, z->hosts[o].name,
						ww_prefix_str(&out->pfx, true, b), out->ptr, z->name,
						z->hosts[h].name, z->name, z->hosts[o].name);
				}
		}
}

/* The same prefix twice would make classification ambiguous; host addresses must lie in their zone. */
static void check_addressing(struct pctx *c)
{
	struct ww_policy *p = c->p;
	struct netref *v = NULL;
	size_t n = 0, cap = 0;
	char buf[WW_PREFIX_STRLEN];

	for (size_t i = 0; i < p->nzones; i++) {
		struct ww_zone *z = &p->zones[i];
		for (size_t k = 0; k < z->nnets; k++)
			if (VEC_PUSH(v, n, cap, ((struct netref){&z->nets[k], z, NULL})))
				goto oom;
		for (size_t h = 0; h < z->nhosts; h++)
			for (size_t k = 0; k < z->hosts[h].nnets; k++) {
				const struct ww_net *hn = &z->hosts[h].nets[k];
				bool inside = false;
				for (size_t q = 0; q < z->nnets && !inside; q++)
					inside = ww_prefix_covers(&z->nets[q].pfx, &hn->pfx);
				/* A zone without valid networks was reported already. */
				if (!inside && z->nnets)
					ww_err(c->d, "host-outside-zone", hn->ptr,
					       "%s is not inside any network of zone \"%s\"",
					       ww_prefix_str(&hn->pfx, true, buf), z->name);
				if (VEC_PUSH(v, n, cap, ((struct netref){hn, z, &z->hosts[h]})))
					goto oom;
			}
	}
	for (size_t i = 0; i < p->nzones; i++)
		check_nested_hosts(c, &p->zones[i]);
	for (size_t i = 0; i < p->nzones; i++)
		for (size_t k = 0; k < p->zones[i].nnets; k++)
			if (p->zones[i].nets[k].pfx.len == 0 && !p->zones[i].nspec_except) {
				check_default_route(c, &p->zones[i]);
				break;
			}
	if (n)
		qsort(v, n, sizeof(*v), netref_cmp);
	for (size_t i = 1; i < n; i++)
		if (!ww_prefix_cmp(&v[i - 1].net->pfx, &v[i].net->pfx))
			ww_err(c->d, "duplicate-prefix", v[i].net->ptr,
			       "%s is already at %s: an address must belong to one zone or host",
			       ww_prefix_str(&v[i].net->pfx, true, buf), v[i - 1].net->ptr);
	free(v);
	return;
oom:
	free(v);
	c->oom = true;
}

/* A zone holding a default route catches every address no other zone claims: unassigned
 * internal addresses then get what "the internet" is allowed. Say so, with an example. */
static void check_default_route(struct pctx *c, const struct ww_zone *z)
{
	static const char *const priv[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
					   "fc00::/7"};
	const struct ww_policy *p = c->p;
	struct pfx_vec in = {0}, others = {0}, rest = {0};
	char a[WW_PREFIX_STRLEN], r[WW_PREFIX_STRLEN];
	bool seen[2] = {false, false};

	for (size_t i = 0; i < countof(priv); i++) {
		struct ww_prefix rp, canon;
		const char *why;
		ww_prefix_parse(priv[i], true, &rp, &why, &canon);
		for (size_t k = 0; k < z->nnets; k++) {
			if (z->nets[k].pfx.a.family != rp.a.family)
				continue;
			if (ww_prefix_covers(&z->nets[k].pfx, &rp))
				pfx_push(&rp, &in);
			else if (ww_prefix_covers(&rp, &z->nets[k].pfx))
				pfx_push(&z->nets[k].pfx, &in);
		}
	}
	for (size_t i = 0; i < p->nzones; i++) {
		const struct ww_zone *o = &p->zones[i];
		for (size_t k = 0; o != z && k < o->nnets; k++)
			pfx_push(&o->nets[k].pfx, &others);
		for (size_t h = 0; h < o->nhosts; h++)
			for (size_t k = 0; k < o->hosts[h].nnets; k++)
				pfx_push(&o->hosts[h].nets[k].pfx, &others);
	}
	if (in.oom || others.oom || ww_prefix_subtract(in.v, in.n, others.v, others.n, pfx_push, &rest))
		c->oom = true;
	if (rest.oom)
		c->oom = true;
	for (size_t i = 0; !rest.oom && i < rest.n; i++) {
		int f = rest.v[i].a.family == WW_INET6;
		if (seen[f])
			continue;
		seen[f] = true;
		struct ww_addr ex = rest.v[i].a;
		if (rest.v[i].len < ww_family_bits(ex.family))
			ex.v += 1; /* not the network address itself */
		const char *at = z->nets[0].ptr;
		for (size_t k = 0; k < z->nnets; k++)
			if (z->nets[k].pfx.len == 0 && z->nets[k].pfx.a.family == ex.family)
				at = z->nets[k].ptr;
		ww_warn(c->d, "default-route-internal", at,
			"zone \"%s\" holds the default route, so internal addresses no zone claims "
			"(such as %s, in %s) fall into it and get what \"%s\" is allowed: add "
			"\"except\": [\"special-purpose\"] or give them a zone",
			z->name, ww_addr_str(&ex, a), ww_prefix_str(&rest.v[i], false, r), z->name);
	}
	free(in.v), free(others.v), free(rest.v);
}

/* ------------------------------------------------------------------------------------------ */
/* services                                                                                    */

static bool push_term(struct pctx *c, struct ww_service *s, size_t *cap, int proto,
		      unsigned int lo, unsigned int hi, const char *ptr)
{
	struct ww_term t = {.proto = proto, .lo = (uint16_t)lo, .hi = (uint16_t)hi};

	t.ptr = pdup(c, ptr);
	if (VEC_PUSH(s->terms, s->nterms, *cap, t)) {
		free(t.ptr);
		c->oom = true;
		return false;
	}
	return true;
}

/* ICMP and ICMPv6 message types by name (RFC 792, RFC 4443, RFC 4861, RFC 3810). The
 * canonical form prints the numbers. */
struct icmp_name {
	const char *name;
	int v4, v6; /* -1: not in that protocol */
};

static const struct icmp_name icmp_names[] = {
	{"echo-reply", 0, 129},
	{"destination-unreachable", 3, 1},
	{"packet-too-big", -1, 2},
	{"source-quench", 4, -1},
	{"redirect", 5, 137},
	{"echo-request", 8, 128},
	{"router-advertisement", 9, 134},
	{"router-solicitation", 10, 133},
	{"time-exceeded", 11, 3},
	{"parameter-problem", 12, 4},
	{"timestamp-request", 13, -1},
	{"timestamp-reply", 14, -1},
	{"mld-listener-query", -1, 130},
	{"mld-listener-report", -1, 131},
	{"mld-listener-done", -1, 132},
	{"neighbor-solicitation", -1, 135},
	{"neighbor-advertisement", -1, 136},
	{"mld2-listener-report", -1, 143},
};

/* -1: no such name; -2: a name, but not of this protocol. */
static int icmp_type_by_name(const char *s, int proto)
{
	for (size_t i = 0; i < countof(icmp_names); i++)
		if (!strcmp(icmp_names[i].name, s)) {
			int t = proto == WW_PROTO_ICMP ? icmp_names[i].v4 : icmp_names[i].v6;
			return t < 0 ? -2 : t;
		}
	return -1;
}

/* A term's "proto": a name or a number 0-255. Says what is wrong; true when *proto is set. */
static bool term_proto(struct pctx *c, const cJSON *j, const char *ptr, int *proto)
{
	const cJSON *pj = cJSON_GetObjectItemCaseSensitive(j, "proto");
	char *kp;
	bool ok = false;
	long v;

	if (!pj) {
		ww_err(c->d, "missing-field", ptr, "a service term needs \"proto\"");
		return false;
	}
	kp = kptr(c, ptr, "proto");
	if (cJSON_IsNumber(pj)) {
		ok = integer(c, pj, kp, 0, 255, &v);
		if (ok)
			*proto = (int)v;
	} else if (!want(c, pj, kp, cJSON_IsString, "a protocol name or number")) {
		ok = false;
	} else if (ww_proto_parse(pj->valuestring, proto)) {
		static const char *const names[] = {"tcp", "udp", "sctp", "icmp", "icmpv6", "any"};
		ww_diag_add(c->d, WW_ERROR, "unknown-protocol", kp,
			    suggest(pj->valuestring, names, countof(names)),
			    "unknown protocol \"%s\": expected tcp, udp, sctp, icmp, icmpv6, any or "
			    "a number 0-255",
			    pj->valuestring);
	} else {
		ok = true;
	}
	free(kp);
	return ok;
}

/* One element of a term's "ports" or "types" (ports: which): a number, a range "lo-hi" or an
 * ICMP type's name, pushed as a term of proto. */
static void term_key(struct pctx *c, struct ww_service *s, size_t *cap, int proto, bool ports,
		     const cJSON *x, const char *xp)
{
	unsigned int max = ww_proto_key_max(proto), lo, hi;
	char pbuf[8];
	long v;

	if (cJSON_IsNumber(x)) {
		if (integer(c, x, xp, ports ? 1 : 0, max, &v))
			push_term(c, s, cap, proto, (unsigned)v, (unsigned)v, xp);
	} else if (!cJSON_IsString(x)) {
		ww_err(c->d, "wrong-type", xp, "expected a number or a range \"lo-hi\", got %s",
		       jtype(x));
	} else if (!ports && isalpha((unsigned char)x->valuestring[0])) {
		int t = icmp_type_by_name(x->valuestring, proto);
		if (t >= 0) {
			push_term(c, s, cap, proto, (unsigned)t, (unsigned)t, xp);
		} else {
			const char *names[countof(icmp_names)];
			for (size_t q = 0; q < countof(icmp_names); q++)
				names[q] = icmp_names[q].name;
			ww_diag_add(c->d, WW_ERROR, "unknown-icmp-type", xp,
				    t == -1 ? suggest(x->valuestring, names, countof(names)) : NULL,
				    t == -1 ? "unknown %s type \"%s\"" : "%s has no type \"%s\"",
				    ww_proto_str(proto, pbuf), x->valuestring);
		}
	} else {
		int r = ww_range_parse(x->valuestring, max, &lo, &hi);
		if (r == -EINVAL)
			ww_err(c->d, "invalid-range", xp, "\"%s\" is not a number or a range \"lo-hi\"",
			       x->valuestring);
		else if (r == -ERANGE || (ports && lo == 0))
			ww_err(c->d, "out-of-range", xp, "\"%s\" is out of range: expected %u-%u",
			       x->valuestring, ports ? 1u : 0u, max);
		else if (r == -EDOM)
			ww_err(c->d, "invalid-range", xp, "range \"%s\" is reversed: write \"%u-%u\"",
			       x->valuestring, hi, lo);
		else
			push_term(c, s, cap, proto, lo, hi, xp);
	}
}

static void parse_term(struct pctx *c, struct ww_service *s, size_t *cap, const cJSON *j,
		       const char *ptr)
{
	static const char *const known[] = {"proto", "ports", "types"};
	const cJSON *keys;
	char *kp;
	int proto;

	if (!want(c, j, ptr, cJSON_IsObject, "an object such as {\"proto\": \"tcp\", \"ports\": [443]}"))
		return;
	check_members(c, j, ptr, known, countof(known));
	if (!term_proto(c, j, ptr, &proto))
		return;

	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(j, "ports");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(j, "types");
	const char *field = ports ? "ports" : "types";
	char pbuf[8];
	keys = ports ? ports : types;
	if (ports && types) {
		ww_err(c->d, "conflicting-fields", ptr, "a term has either \"ports\" or \"types\"");
		return;
	}
	if (keys && ports && !ww_proto_has_ports(proto)) {
		kp = kptr(c, ptr, "ports");
		ww_err(c->d, "ports-not-applicable", kp, "protocol %s has no ports%s",
		       ww_proto_str(proto, pbuf),
		       ww_proto_has_types(proto) ? ": use \"types\" for ICMP types" : "");
		free(kp);
		return;
	}
	if (keys && types && !ww_proto_has_types(proto)) {
		kp = kptr(c, ptr, "types");
		ww_err(c->d, "types-not-applicable", kp, "protocol %s has no ICMP types",
		       ww_proto_str(proto, pbuf));
		free(kp);
		return;
	}
	if (!keys) {
		push_term(c, s, cap, proto, 0, ww_proto_key_max(proto), ptr);
		return;
	}
	kp = kptr(c, ptr, field);
	if (cJSON_IsNumber(keys) || cJSON_IsString(keys)) {
		ww_err(c->d, "wrong-type", kp, "expected an array of %s, got %s", field, jtype(keys));
	} else if (want(c, keys, kp, cJSON_IsArray, "an array")) {
		size_t i = 0;
		if (!keys->child)
			ww_err(c->d, "empty-list", kp, "\"%s\" is empty: leave it out to mean all",
			       field);
		for (const cJSON *x = keys->child; x; x = x->next, i++) {
			char *xp = iptr(c, kp, i);
			term_key(c, s, cap, proto, ports != NULL, x, xp);
			free(xp);
		}
	}
	free(kp);
}

static void parse_service_terms(struct pctx *c, struct ww_service *s, const cJSON *j,
				const char *ptr)
{
	size_t cap = 0, i = 0;

	if (!want(c, j, ptr, cJSON_IsArray, "an array of terms"))
		return;
	if (!j->child)
		ww_err(c->d, "empty-service", ptr, "service \"%s\" matches nothing", s->name);
	for (const cJSON *t = j->child; t; t = t->next, i++) {
		char *tp = iptr(c, ptr, i);
		if (tp)
			parse_term(c, s, &cap, t, tp);
		free(tp);
	}
}

static int builtin_terms(struct ww_service *s, const char *spec)
{
	size_t cap = 0;
	char word[32];

	while (*spec) {
		size_t n = strcspn(spec, " ");
		unsigned int lo, hi;
		int proto;
		char *slash;

		memcpy(word, spec, n);
		word[n] = '\0';
		spec += n + (spec[n] == ' ');
		slash = strchr(word, '/');
		if (slash)
			*slash = '\0';
		if (ww_proto_parse(word, &proto))
			return -EINVAL;
		lo = 0;
		hi = ww_proto_key_max(proto);
		if (slash && ww_range_parse(slash + 1, hi, &lo, &hi))
			return -EINVAL;
		struct ww_term t = {.proto = proto, .lo = (uint16_t)lo, .hi = (uint16_t)hi};
		if (VEC_PUSH(s->terms, s->nterms, cap, t))
			return -ENOMEM;
	}
	return 0;
}

static int svc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_service *)a)->name, ((const struct ww_service *)b)->name);
}

static void parse_services(struct pctx *c, const cJSON *j)
{
	static const char *const known[] = {"description", "terms"};
	struct ww_policy *p = c->p;
	size_t cap = 0;

	if (j && !want(c, j, "/services", cJSON_IsObject, "an object of service names to terms"))
		j = NULL;
	if (j)
		unique_members(c, j, "/services", "service");
	for (size_t i = 0; i < ww_nbuiltin_services; i++) {
		const struct ww_builtin_service *b = &ww_builtin_services[i];
		if (j && cJSON_GetObjectItemCaseSensitive(j, b->name))
			continue;
		struct ww_service s = {.builtin = true};
		s.name = pdup(c, b->name);
		s.description = pdup(c, b->description);
		if (!s.name || builtin_terms(&s, b->spec) || VEC_PUSH(p->svcs, p->nsvcs, cap, s)) {
			free(s.name), free(s.description), free(s.terms);
			c->oom = true;
		}
	}
	for (const cJSON *m = j ? j->child : NULL; m; m = m->next) {
		struct ww_service s = {0};
		const cJSON *terms = m;
		s.name = pdup(c, m->string);
		s.ptr = kptr(c, "/services", m->string);
		if (!s.name || !s.ptr) {
			free(s.name), free(s.ptr);
			continue;
		}
		check_name(c, s.name, s.ptr, "service", WW_ID_MAX, true);
		if (cJSON_IsObject(m)) {
			check_members(c, m, s.ptr, known, countof(known));
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "description");
			char *dp = kptr(c, s.ptr, "description");
			if (d && want(c, d, dp, cJSON_IsString, "a string"))
				s.description = pdup(c, d->valuestring);
			free(dp);
			terms = cJSON_GetObjectItemCaseSensitive(m, "terms");
			if (!terms)
				ww_err(c->d, "missing-field", s.ptr, "service \"%s\" has no \"terms\"",
				       s.name);
		}
		if (terms) {
			char *tp = terms == m ? pdup(c, s.ptr) : kptr(c, s.ptr, "terms");
			if (tp)
				parse_service_terms(c, &s, terms, tp);
			free(tp);
		}
		if (VEC_PUSH(p->svcs, p->nsvcs, cap, s)) {
			for (size_t k = 0; k < s.nterms; k++)
				free(s.terms[k].ptr);
			free(s.name), free(s.ptr), free(s.terms), free(s.description);
			c->oom = true;
		}
	}
	qsort(p->svcs, p->nsvcs, sizeof(*p->svcs), svc_cmp);
}

/* ------------------------------------------------------------------------------------------ */
/* zone groups                                                                                 */

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_group *)a)->name, ((const struct ww_group *)b)->name);
}

static const char **zone_names(const struct ww_policy *p);

static void parse_group(struct pctx *c, struct ww_group *g, const cJSON *j)
{
	size_t cap = 0, i = 0;

	if (check_name(c, g->name, g->ptr, "group", WW_NAME_MAX, false) &&
	    ww_zone_find(c->p, g->name))
		ww_err(c->d, "group-is-zone", g->ptr,
		       "\"%s\" is already a zone: a group needs a name of its own", g->name);
	if (!want(c, j, g->ptr, cJSON_IsArray, "an array of zone names"))
		return;
	if (!j->child)
		ww_err(c->d, "empty-list", g->ptr, "group \"%s\" has no zones", g->name);
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		char *xp = iptr(c, g->ptr, i);
		struct ww_zone *z = NULL;
		if (!xp)
			continue;
		if (!want(c, x, xp, cJSON_IsString, "a zone name")) {
		} else if (!(z = ww_zone_find(c->p, x->valuestring))) {
			const char **names = zone_names(c->p);
			ww_diag_add(c->d, WW_ERROR, strchr(x->valuestring, '/') ? "group-member" :
				    "unknown-zone", xp,
				    names ? suggest(x->valuestring, names, c->p->nzones) : NULL,
				    strchr(x->valuestring, '/') ?
				    "\"%s\": a group holds zones, not host groups" :
				    "unknown zone \"%s\"", x->valuestring);
			free(names);
		} else {
			for (size_t k = 0; k < g->nzones && z; k++)
				if (g->zones[k] == z) {
					ww_err(c->d, "duplicate-endpoint", xp,
					       "\"%s\" is listed twice", z->name);
					z = NULL;
				}
			if (z && VEC_PUSH(g->zones, g->nzones, cap, z))
				c->oom = true;
		}
		free(xp);
	}
}

/* After the zones (members are zones), before flows and invariants (which name groups). */
static void parse_groups(struct pctx *c, const cJSON *j)
{
	struct ww_policy *p = c->p;
	size_t cap = 0;

	if (!j)
		return;
	if (!want(c, j, "/groups", cJSON_IsObject, "an object of group names to zone lists"))
		return;
	unique_members(c, j, "/groups", "group");
	for (const cJSON *m = j->child; m; m = m->next) {
		struct ww_group g = {.name = pdup(c, m->string), .ptr = kptr(c, "/groups", m->string)};
		if (g.name && g.ptr)
			parse_group(c, &g, m);
		if (!g.name || !g.ptr || VEC_PUSH(p->groups, p->ngroups, cap, g)) {
			free(g.name), free(g.ptr), free(g.zones);
			c->oom = true;
		}
	}
	if (p->ngroups)
		qsort(p->groups, p->ngroups, sizeof(*p->groups), group_cmp);
}

/* ------------------------------------------------------------------------------------------ */
/* flows and invariants                                                                        */

/* Zone names, then group names (for "did you mean"; groups count only where flows name zones). */
static const char **zone_names(const struct ww_policy *p)
{
	const char **v = malloc((p->nzones + p->ngroups + 1) * sizeof(*v));

	for (size_t i = 0; v && i < p->nzones; i++)
		v[i] = p->zones[i].name;
	for (size_t i = 0; v && i < p->ngroups; i++)
		v[p->nzones + i] = p->groups[i].name;
	return v;
}

static bool resolve_endpoint(struct pctx *c, const char *s, const char *ptr, struct ww_endpoint *e)
{
	const struct ww_policy *p = c->p;
	const char *slash = strchr(s, '/');
	char zname[WW_NAME_MAX + 1];
	size_t zl = slash ? (size_t)(slash - s) : strlen(s);

	e->zone = NULL;
	e->host = NULL;
	if (zl <= WW_NAME_MAX) {
		memcpy(zname, s, zl);
		zname[zl] = '\0';
		e->zone = ww_zone_find(p, zname);
	}
	if (!e->zone) {
		const char **names = zone_names(p);
		if (zl > WW_NAME_MAX)
			zname[0] = '\0';
		ww_diag_add(c->d, WW_ERROR, "unknown-zone", ptr,
			    names ? suggest(zl <= WW_NAME_MAX ? zname : s, names,
					    slash ? p->nzones : p->nzones + p->ngroups) : NULL,
			    "unknown zone \"%.*s\"", (int)zl, s);
		free(names);
		return false;
	}
	if (!slash)
		return true;
	e->host = ww_host_find(e->zone, slash + 1);
	if (!e->host) {
		const char **names = malloc((e->zone->nhosts + 1) * sizeof(*names));
		for (size_t i = 0; names && i < e->zone->nhosts; i++)
			names[i] = e->zone->hosts[i].name;
		ww_diag_add(c->d, WW_ERROR, "unknown-host", ptr,
			    names ? suggest(slash + 1, names, e->zone->nhosts) : NULL,
			    "zone \"%s\" has no host \"%s\"", e->zone->name, slash + 1);
		free(names);
		return false;
	}
	return true;
}

/* A group's zones join the list; a zone that two groups share is listed once (groups overlap by
 * design: "clinical" and "internal"). */
static void push_group(struct pctx *c, struct ww_eplist *out, size_t *cap,
		       const struct ww_group *g, const char *xp)
{
	for (size_t i = 0; i < g->nzones; i++) {
		bool dup_ = false;
		for (size_t k = 0; k < out->n && !dup_; k++)
			dup_ = out->v[k].zone == g->zones[i] && !out->v[k].host;
		if (dup_)
			continue;
		struct ww_endpoint e = {.zone = g->zones[i], .group = g, .ptr = pdup(c, xp)};
		if (!e.ptr || VEC_PUSH(out->v, out->n, *cap, e)) {
			free(e.ptr);
			c->oom = true;
		}
	}
}

/* skip (may be NULL): entries for which it is true are someone else's (an invariant's "except"
 * naming services); they keep their place in the JSON pointers. */
static void parse_eplist(struct pctx *c, const cJSON *j, const char *ptr, bool required,
			 struct ww_eplist *out, bool (*skip)(struct pctx *c, const char *s))
{
	size_t cap = 0, i = 0;
	const cJSON *x;

	if (!j) {
		if (required)
			ww_err(c->d, "missing-field", ptr[0] ? ptr : "/", "missing \"%s\"",
			       strrchr(ptr, '/') + 1);
		return;
	}
	if (!cJSON_IsString(j) && !cJSON_IsArray(j)) {
		ww_err(c->d, "wrong-type", ptr, "expected a zone, \"zone/host\", \"*\" or an array of "
		       "them, got %s", jtype(j));
		return;
	}
	if (cJSON_IsArray(j) && !j->child) {
		ww_err(c->d, "empty-list", ptr, "the list is empty");
		return;
	}
	for (x = cJSON_IsString(j) ? j : j->child; x; x = cJSON_IsString(j) ? NULL : x->next, i++) {
		char *xp = cJSON_IsString(j) ? pdup(c, ptr) : iptr(c, ptr, i);
		struct ww_endpoint e;
		if (!xp)
			continue;
		if (!want(c, x, xp, cJSON_IsString, "a zone or \"zone/host\"") ||
		    (skip && skip(c, x->valuestring))) {
			free(xp);
			continue;
		}
		if (!strcmp(x->valuestring, "*")) {
			if (cJSON_IsArray(j) && (i > 0 || x->next))
				ww_err(c->d, "wildcard-in-list", xp,
				       "\"*\" already means every zone: list it alone");
			out->all = true;
			free(xp);
			continue;
		}
		const struct ww_group *g = ww_group_find(c->p, x->valuestring);
		if (g) {
			push_group(c, out, &cap, g, xp);
			free(xp);
			continue;
		}
		if (!resolve_endpoint(c, x->valuestring, xp, &e)) {
			free(xp);
			continue;
		}
		e.group = NULL;
		for (size_t k = 0; k < out->n; k++)
			if (out->v[k].zone == e.zone && out->v[k].host == e.host) {
				if (out->v[k].group)
					ww_err(c->d, "duplicate-endpoint", xp,
					       "\"%s\" is already in group \"%s\" (%s)",
					       x->valuestring, out->v[k].group->name, out->v[k].ptr);
				else
					ww_err(c->d, "duplicate-endpoint", xp,
					       "\"%s\" is listed twice", x->valuestring);
				e.zone = NULL;
				break;
			}
		e.ptr = xp;
		if (!e.zone) {
			free(xp);
		} else if (VEC_PUSH(out->v, out->n, cap, e)) {
			free(xp);
			c->oom = true; /* never a policy with an endpoint silently missing */
		}
	}
	/* A host listed beside its own zone adds nothing: the zone includes it. Keeping one
	 * endpoint per address lets every later stage count a connection once. */
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		bool covered = false;
		for (size_t z = 0; z < out->n && out->v[i].host && !covered; z++)
			covered = !out->v[z].host && out->v[z].zone == out->v[i].zone;
		if (covered) {
			ww_warn(c->d, "redundant-endpoint", out->v[i].ptr,
				"\"%s/%s\" is already included in zone \"%s\", listed too",
				out->v[i].zone->name, out->v[i].host->name, out->v[i].zone->name);
			free(out->v[i].ptr);
			continue;
		}
		out->v[k++] = out->v[i];
	}
	out->n = k;
}

static void parse_window(struct pctx *c, struct ww_flow *f, const cJSON *j, const char *ptr)
{
	static const char *const known[] = {"from", "until"};
	const cJSON *m;
	char buf[WW_TIME_STRLEN];

	if (!want(c, j, ptr, cJSON_IsObject, "an object {\"from\": TIME, \"until\": TIME}"))
		return;
	check_members(c, j, ptr, known, countof(known));
	for (int k = 0; k < 2; k++) {
		char *mp;
		if (!(m = cJSON_GetObjectItemCaseSensitive(j, known[k])))
			continue;
		mp = kptr(c, ptr, known[k]);
		int64_t t;
		if (!want(c, m, mp, cJSON_IsString, "an RFC 3339 time such as 2026-03-10T08:00Z")) {
		} else if (ww_time_parse(m->valuestring, &t)) {
			ww_err(c->d, "invalid-time", mp,
			       "\"%s\" is not an RFC 3339 time such as 2026-03-10T08:00Z",
			       m->valuestring);
		} else if (t >= WW_WINDOW_MAX) {
			/* The kernels compare windows in 64-bit nanoseconds, which end in 2262. */
			ww_err(c->d, "invalid-time", mp,
			       "\"%s\" is too far away: validity windows must lie before the year 2200",
			       m->valuestring);
		} else if (k == 0) {
			f->has_from = true;
			f->valid_from = t;
		} else {
			f->has_until = true;
			f->valid_until = t;
		}
		free(mp);
	}
	if (!j->child)
		ww_err(c->d, "empty-window", ptr, "a validity window needs \"from\", \"until\" or both");
	if (f->has_from && f->has_until && f->valid_until <= f->valid_from) {
		char *mp = kptr(c, ptr, "until");
		if (f->valid_until < f->valid_from)
			ww_err(c->d, "invalid-window", mp, "the window ends (%s) before it starts",
			       ww_time_str(f->valid_until, buf));
		else
			ww_err(c->d, "invalid-window", mp,
			       "the window ends (%s) the moment it starts: it is empty",
			       ww_time_str(f->valid_until, buf));
		free(mp);
	}
}

static void unknown_service(struct pctx *c, const char *name, const char *ptr)
{
	const char **names = malloc((c->p->nsvcs + 1) * sizeof(*names));

	for (size_t k = 0; names && k < c->p->nsvcs; k++)
		names[k] = c->p->svcs[k].name;
	ww_diag_add(c->d, WW_ERROR, "unknown-service", ptr,
		    names ? suggest(name, names, c->p->nsvcs) : NULL, "unknown service \"%s\"",
		    name);
	free(names);
}

/* "tcp/ldap": the terms of ldap whose protocol is tcp (a term of any protocol becomes tcp with
 * all its ports). One narrowed service per spelling, shared by every flow that writes it. */
static struct ww_service *narrowed_service(struct pctx *c, const char *spec, const char *ptr)
{
	struct ww_policy *p = c->p;
	const char *slash = strchr(spec, '/');
	char pname[16], pbuf[8];
	int proto;
	size_t cap = 0;

	for (size_t i = 0; i < p->nnarrowed; i++)
		if (!strcmp(p->narrowed[i]->name, spec))
			return p->narrowed[i];
	if ((size_t)(slash - spec) >= sizeof(pname)) {
		ww_err(c->d, "unknown-protocol", ptr, "\"%s\": unknown protocol", spec);
		return NULL;
	}
	memcpy(pname, spec, (size_t)(slash - spec));
	pname[slash - spec] = '\0';
	if (ww_proto_parse(pname, &proto) || proto == WW_PROTO_ANY) {
		ww_err(c->d, "unknown-protocol", ptr,
		       "\"%s\": \"%s\" is not a protocol (write tcp/NAME, udp/NAME, ...)", spec,
		       pname);
		return NULL;
	}
	struct ww_service *base = ww_service_find(p, slash + 1);
	if (!base) {
		unknown_service(c, slash + 1, ptr);
		return NULL;
	}
	struct ww_service *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = pdup(c, spec))) {
		free(s);
		c->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < base->nterms; i++) {
		const struct ww_term *t = &base->terms[i];
		if (t->proto == proto)
			push_term(c, s, &cap, proto, t->lo, t->hi, ptr);
		else if (t->proto == WW_PROTO_ANY)
			push_term(c, s, &cap, proto, 0, ww_proto_key_max(proto), ptr);
	}
	base->referenced = true;
	if (!s->nterms)
		ww_err(c->d, "empty-service", ptr, "service \"%s\" has no %s term: \"%s\" matches "
		       "nothing", base->name, ww_proto_str(proto, pbuf), spec);
	if (VEC_PUSH(p->narrowed, p->nnarrowed, c->narrowed_cap, s)) {
		free(s->name);
		free(s->terms);
		free(s);
		c->oom = true;
		return NULL;
	}
	return s;
}

/* A service name, or "PROTO/NAME"; reports the error itself and returns NULL. */
static struct ww_service *resolve_service(struct pctx *c, const char *name, const char *ptr)
{
	struct ww_service *s;

	if (strchr(name, '/'))
		return narrowed_service(c, name, ptr);
	if (!(s = ww_service_find(c->p, name)))
		unknown_service(c, name, ptr);
	return s;
}

static void parse_flow_services(struct pctx *c, struct ww_flow *f, const cJSON *j,
				const char *ptr)
{
	size_t i = 0, cap = 0, pcap = 0;
	const cJSON *x;

	if (!cJSON_IsString(j) && !cJSON_IsArray(j)) {
		ww_err(c->d, "wrong-type", ptr, "expected a service name or an array of them, got %s",
		       jtype(j));
		return;
	}
	if (cJSON_IsArray(j) && !j->child) {
		ww_err(c->d, "empty-list", ptr, "the list is empty: use [\"any\"] for all traffic");
		return;
	}
	for (x = cJSON_IsString(j) ? j : j->child; x; x = cJSON_IsString(j) ? NULL : x->next, i++) {
		char *xp = cJSON_IsString(j) ? pdup(c, ptr) : iptr(c, ptr, i);
		struct ww_service *s;
		if (!xp)
			continue;
		if (!want(c, x, xp, cJSON_IsString, "a service name")) {
			free(xp);
			continue;
		}
		s = resolve_service(c, x->valuestring, xp);
		if (!s) {
			free(xp);
			continue;
		}
		bool seen = false;
		for (size_t k = 0; k < f->nsvcs && !seen; k++)
			seen = f->svcs[k] == s;
		if (seen) {
			ww_err(c->d, "duplicate-service", xp, "service \"%s\" is listed twice", s->name);
			free(xp);
			continue;
		}
		s->referenced = true;
		/* Room for the pointer first: nsvcs counts both arrays. */
		if (vec_reserve(&f->svc_ptrs, &pcap, f->nsvcs + 1, sizeof(*f->svc_ptrs)) ||
		    VEC_PUSH(f->svcs, f->nsvcs, cap, s)) {
			free(xp);
			c->oom = true;
			continue;
		}
		f->svc_ptrs[f->nsvcs - 1] = xp;
	}
}

static char *opt_string(struct pctx *c, const cJSON *obj, const char *key, const char *ptr)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *mp, *r = NULL;

	if (!m)
		return NULL;
	mp = kptr(c, ptr, key);
	if (want(c, m, mp, cJSON_IsString, "a string"))
		r = pdup(c, m->valuestring);
	free(mp);
	return r;
}

/* ---- "except": differences of endpoint lists and of services ---- */

static void eplist_clear(struct ww_eplist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].ptr);
	free(l->v);
	*l = (struct ww_eplist){0};
}

static void ep_remove(struct ww_eplist *l, size_t i)
{
	free(l->v[i].ptr);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

/* Takes ex's endpoints out of l ("*" first becomes every zone). An exception must name a zone or
 * host group the list holds; a host group inside a zone the list holds cannot be cut out of it
 * (a flow's endpoints are whole zones or host groups). */
static void eplist_subtract(struct pctx *c, struct ww_eplist *l, const char *lptr,
			    const struct ww_eplist *ex, const char *exptr, const char *side)
{
	size_t cap = l->n;

	if (l->all) {
		for (size_t i = 0; i < c->p->nzones; i++) {
			struct ww_endpoint e = {.zone = &c->p->zones[i], .ptr = pdup(c, lptr)};
			if (!e.ptr || VEC_PUSH(l->v, l->n, cap, e)) {
				free(e.ptr);
				c->oom = true;
				return;
			}
		}
		l->all = false;
	}
	for (size_t k = 0; k < ex->n; k++) {
		const struct ww_endpoint *e = &ex->v[k];
		bool found = false, inside = false;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].zone == e->zone && l->v[i].host == e->host) {
				ep_remove(l, i--);
				found = true;
			} else if (l->v[i].zone == e->zone && !e->host && l->v[i].host) {
				ep_remove(l, i--); /* a zone's exception takes its host groups too */
			} else if (l->v[i].zone == e->zone && e->host && !l->v[i].host) {
				inside = true;
			}
		}
		if (found)
			continue;
		if (inside)
			ww_err(c->d, "except-host", e->ptr,
			       "\"%s/%s\" lies inside zone \"%s\" of this flow's \"%s\": an "
			       "exception removes whole zones or host groups the flow names; list the "
			       "zone's other host groups instead, or give \"%s/%s\" a flow of its own",
			       e->zone->name, e->host->name, e->zone->name, side, e->zone->name,
			       e->host->name);
		else if (!e->group)
			ww_err(c->d, "except-outside", e->ptr,
			       "\"%s%s%s\" is not in this flow's \"%s\": the exception takes nothing "
			       "away",
			       e->zone->name, e->host ? "/" : "", e->host ? e->host->name : "", side);
	}
	if (!l->n)
		ww_err(c->d, "empty-list", exptr,
		       "nothing is left of \"%s\" once the exceptions are taken away", side);
}

/* A service for the terms of plus minus those of minus, named for people ("any except smb"). */
static struct ww_service *derived_service(struct pctx *c, struct ww_service *const *plus,
					  size_t np, struct ww_service *const *minus, size_t nm,
					  const char *ptr)
{
	struct strbuf name = {0};
	struct ww_term *pt = NULL, *mt = NULL, *out = NULL;
	size_t npt = 0, nmt = 0, pcap = 0, mcap = 0;
	struct ww_term any = {.proto = WW_PROTO_ANY};

	for (size_t i = 0; i < np; i++) {
		sb_addf(&name, "%s%s", i ? ", " : "", plus[i]->name);
		for (size_t k = 0; k < plus[i]->nterms; k++)
			if (VEC_PUSH(pt, npt, pcap, plus[i]->terms[k]))
				c->oom = true;
	}
	if (!np) {
		sb_add(&name, "any");
		if (VEC_PUSH(pt, npt, pcap, any))
			c->oom = true;
	}
	for (size_t i = 0; i < nm; i++) {
		sb_addf(&name, "%s%s", i ? ", " : " except ", minus[i]->name);
		for (size_t k = 0; k < minus[i]->nterms; k++)
			if (VEC_PUSH(mt, nmt, mcap, minus[i]->terms[k]))
				c->oom = true;
	}
	long n = c->oom ? -ENOMEM : ww_terms_subtract(pt, npt, mt, nmt, &out);
	free(pt);
	free(mt);
	struct ww_service *s = n < 0 || name.oom ? NULL : calloc(1, sizeof(*s));
	if (!s) {
		free(out);
		sb_free(&name);
		c->oom = true;
		return NULL;
	}
	s->name = sb_steal(&name);
	s->terms = out;
	s->nterms = (size_t)n;
	for (size_t i = 0; i < s->nterms; i++)
		s->terms[i].ptr = pdup(c, ptr);
	if (!n)
		ww_err(c->d, "empty-service", ptr, "\"%s\" matches nothing", s->name);
	if (VEC_PUSH(c->p->narrowed, c->p->nnarrowed, c->narrowed_cap, s)) {
		for (size_t i = 0; i < s->nterms; i++)
			free(s->terms[i].ptr);
		free(s->terms), free(s->name), free(s);
		c->oom = true;
		return NULL;
	}
	return s;
}

/* A list of service names (or one), resolved; names kept as written in *names. */
static size_t parse_svc_names(struct pctx *c, const cJSON *j, const char *ptr,
			      struct ww_service ***svcs, char ***names,
			      bool (*take)(struct pctx *c, const char *s))
{
	size_t n = 0, cap = 0, ncap = 0, nn = 0, i = 0;

	if (!cJSON_IsString(j) && !cJSON_IsArray(j)) {
		ww_err(c->d, "wrong-type", ptr, "expected a service name or an array of them, got %s",
		       jtype(j));
		return 0;
	}
	for (const cJSON *x = cJSON_IsString(j) ? j : j->child; x;
	     x = cJSON_IsString(j) ? NULL : x->next, i++) {
		char *xp = cJSON_IsString(j) ? pdup(c, ptr) : iptr(c, ptr, i);
		struct ww_service *s;
		char *nm;
		if (!xp)
			continue;
		if (cJSON_IsString(x) && take && !take(c, x->valuestring)) {
			free(xp);
			continue;
		}
		if (want(c, x, xp, cJSON_IsString, "a service name") &&
		    (s = resolve_service(c, x->valuestring, xp))) {
			bool seen = false;
			for (size_t k = 0; k < n; k++)
				seen |= (*svcs)[k] == s;
			if (seen) {
				ww_err(c->d, "duplicate-service", xp, "service \"%s\" is listed twice",
				       s->name);
			} else {
				s->referenced = true;
				nm = pdup(c, x->valuestring);
				if (!nm || VEC_PUSH(*svcs, n, cap, s) || VEC_PUSH(*names, nn, ncap, nm)) {
					free(nm);
					c->oom = true;
				}
			}
		}
		free(xp);
	}
	return nn < n ? nn : n;
}

static void parse_flow_except(struct pctx *c, struct ww_flow *f, const cJSON *j, const char *ptr)
{
	static const char *const known[] = {"from", "to", "services"};
	static const char *const sides[] = {"from", "to"};
	const cJSON *m;

	if (!want(c, j, ptr, cJSON_IsObject, "an object {\"from\": ..., \"to\": ..., "
						 "\"services\": ...}"))
		return;
	check_members(c, j, ptr, known, countof(known));
	if (!j->child)
		ww_err(c->d, "empty-except", ptr, "an exception needs \"from\", \"to\" or "
						  "\"services\"");
	for (int k = 0; k < 2; k++) {
		struct ww_eplist ex = {0};
		struct ww_eplist *l = k ? &f->to : &f->from;
		if (!(m = cJSON_GetObjectItemCaseSensitive(j, sides[k])))
			continue;
		char *xp = kptr(c, ptr, sides[k]), *lp = kptr(c, f->ptr, sides[k]);
		if (xp && lp) {
			parse_eplist(c, m, xp, false, &ex, NULL);
			if (ex.all)
				ww_err(c->d, "invalid-value", xp,
				       "\"*\" would leave nothing of \"%s\"", sides[k]);
			else if (ex.n && (l->n || l->all))
				eplist_subtract(c, l, lp, &ex, xp, sides[k]);
		}
		eplist_clear(&ex);
		free(xp);
		free(lp);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "services"))) {
		struct ww_service **minus = NULL;
		char **mnames = NULL;
		char *xp = kptr(c, ptr, "services");
		size_t nm = xp ? parse_svc_names(c, m, xp, &minus, &mnames, NULL) : 0;
		if (nm && f->nsvcs) {
			struct ww_service *d = derived_service(c, f->svcs, f->nsvcs, minus, nm, xp);
			char **spec = calloc(f->nsvcs, sizeof(*spec));
			char *dp = pdup(c, xp);
			if (d && spec && dp) {
				for (size_t i = 0; i < f->nsvcs; i++) {
					spec[i] = pdup(c, f->svcs[i]->name);
					free(f->svc_ptrs[i]);
				}
				f->spec_svcs = spec;
				f->nspec_svcs = f->nsvcs;
				f->except_svcs = mnames;
				f->nexcept_svcs = nm;
				mnames = NULL;
				f->svcs[0] = d;
				f->svc_ptrs[0] = dp;
				f->nsvcs = 1;
			} else {
				free(spec);
				free(dp);
				c->oom = true;
			}
		}
		for (size_t i = 0; mnames && i < nm; i++)
			free(mnames[i]);
		free(mnames);
		free(minus);
		free(xp);
	}
}

static void flow_id(struct pctx *c, struct ww_flow *f, const cJSON *j)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "id");
	char *mp;

	if (!m)
		return;
	mp = kptr(c, f->ptr, "id");
	if (want(c, m, mp, cJSON_IsString, "a string") &&
	    check_name(c, m->valuestring, mp, "flow", WW_ID_MAX, true)) {
		f->id = pdup(c, m->valuestring);
		f->id_given = true;
	}
	free(mp);
}

/* "action": allow, deny or reject; a reject is a deny that answers, refused in bridge mode. */
static void flow_action(struct pctx *c, struct ww_flow *f, const cJSON *j)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "action");
	char *mp = kptr(c, f->ptr, "action");
	int v;

	if (!m) {
		ww_err(c->d, "missing-field", f->ptr,
		       "missing \"action\" (\"allow\", \"deny\" or \"reject\")");
		free(mp);
		return;
	}
	if (keyword(c, m, mp, flow_actions, 3, &v)) {
		f->action = v == 0 ? WW_ALLOW : WW_DENY;
		f->reject = v == 2;
	}
	/* The kernel rejects in the inet family's hooks only: a bridge's forward hook cannot
	 * answer for the machines it bridges. A fleet with a gateway in bridge mode refuses it
	 * too: that gateway's part would be refused by the kernel. */
	const char *bridge = c->p->enf.mode == WW_BRIDGE ? "enforcement" : NULL;
	for (size_t i = 0; i < c->p->ngws && !bridge; i++)
		if (c->p->gws[i].mode == WW_BRIDGE)
			bridge = c->p->gws[i].name;
	if (f->reject && c->p->enf.mode == WW_BRIDGE)
		ww_err(c->d, "reject-on-bridge", mp,
		       "\"reject\" needs gateway or host mode: in bridge mode the forward hook "
		       "cannot answer; use \"deny\"");
	else if (f->reject && bridge)
		ww_err(c->d, "reject-on-bridge", mp,
		       "\"reject\" needs gateway or host mode: gateway \"%s\" is in bridge "
		       "mode, whose forward hook cannot answer; use \"deny\"",
		       bridge);
	free(mp);
}

static void flow_controls(struct pctx *c, struct ww_flow *f, const cJSON *j)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "controls");
	size_t cap = 0, i = 0;
	char *mp;

	if (!m)
		return;
	mp = kptr(c, f->ptr, "controls");
	if (want(c, m, mp, cJSON_IsArray, "an array of strings"))
		for (const cJSON *x = m->child; x; x = x->next, i++) {
			char *xp = iptr(c, mp, i);
			char *s;
			if (want(c, x, xp, cJSON_IsString, "a string") &&
			    (s = pdup(c, x->valuestring)) &&
			    VEC_PUSH(f->controls, f->ncontrols, cap, s))
				free(s), c->oom = true;
			free(xp);
		}
	free(mp);
}

static void parse_flow(struct pctx *c, struct ww_flow *f, const cJSON *j)
{
	static const char *const known[] = {"id",    "description", "from",   "to",
					    "services", "except",   "action", "mode",
					    "valid", "log",         "owner",  "ticket",
					    "controls", "life_critical", "management"};
	const cJSON *m;
	char *mp;
	int v;

	f->log = -1;
	if (!want(c, j, f->ptr, cJSON_IsObject, "an object"))
		return;
	check_members(c, j, f->ptr, known, countof(known));
	flow_id(c, f, j);
	f->description = opt_string(c, j, "description", f->ptr);
	f->owner = opt_string(c, j, "owner", f->ptr);
	f->ticket = opt_string(c, j, "ticket", f->ptr);
	mp = kptr(c, f->ptr, "from");
	parse_eplist(c, cJSON_GetObjectItemCaseSensitive(j, "from"), mp, true, &f->from, NULL);
	free(mp);
	mp = kptr(c, f->ptr, "to");
	parse_eplist(c, cJSON_GetObjectItemCaseSensitive(j, "to"), mp, true, &f->to, NULL);
	free(mp);
	mp = kptr(c, f->ptr, "services");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "services")))
		parse_flow_services(c, f, m, mp);
	else
		ww_err(c->d, "missing-field", f->ptr,
		       "missing \"services\" (use [\"any\"] for all traffic)");
	free(mp);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "except"))) {
		mp = kptr(c, f->ptr, "except");
		if (mp)
			parse_flow_except(c, f, m, mp);
		free(mp);
	}
	flow_action(c, f, j);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "mode"))) {
		mp = kptr(c, f->ptr, "mode");
		if (keyword(c, m, mp, modes, 2, &v))
			f->mode = (enum ww_mode)v;
		free(mp);
	}
	if ((v = opt_bool(c, j, "log", f->ptr)) >= 0)
		f->log = v ? WW_LOG_ALL : WW_LOG_NONE;
	if ((v = opt_bool(c, j, "life_critical", f->ptr)) >= 0)
		f->life_critical = v;
	if ((v = opt_bool(c, j, "management", f->ptr)) >= 0)
		f->management = v;
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "valid"))) {
		mp = kptr(c, f->ptr, "valid");
		parse_window(c, f, m, mp);
		free(mp);
	}
	flow_controls(c, f, j);
}

/* An id derived from what the flow says (not where it stands), so it survives reordering. */
static void derive_flow_id(struct pctx *c, struct ww_flow *f)
{
	struct strbuf sb = {0};
	char hex[65];

	ww_flow_print_canonical(c->p, f, true, &sb);
	if (sb.oom) {
		c->oom = true;
		sb_free(&sb);
		return;
	}
	sha256_hex(sb.s, sb.len, hex);
	sb_free(&sb);
	f->id = xstrdup_printf("flow-%.10s", hex);
	if (!f->id)
		c->oom = true;
}

static int flowid_cmp(const void *a, const void *b)
{
	const struct ww_flow *x = *(struct ww_flow *const *)a, *y = *(struct ww_flow *const *)b;
	int r = strcmp(x->id, y->id);

	return r ? r : (x->index < y->index ? -1 : 1);
}

static void parse_flows(struct pctx *c, const cJSON *j)
{
	struct ww_policy *p = c->p;
	struct ww_flow **byid;
	size_t i = 0;

	if (!j)
		return;
	if (!want(c, j, "/flows", cJSON_IsArray, "an array of flows"))
		return;
	p->nflows = (size_t)cJSON_GetArraySize(j);
	p->flows = calloc(p->nflows ? p->nflows : 1, sizeof(*p->flows));
	if (!p->flows) {
		p->nflows = 0;
		c->oom = true;
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		struct ww_flow *f = &p->flows[i];
		f->index = i;
		f->ptr = iptr(c, "/flows", i);
		if (f->ptr)
			parse_flow(c, f, x);
	}
	for (i = 0; i < p->nflows; i++)
		if (!p->flows[i].id && p->flows[i].ptr)
			derive_flow_id(c, &p->flows[i]);
	byid = malloc((p->nflows ? p->nflows : 1) * sizeof(*byid));
	if (!byid) {
		c->oom = true;
		return;
	}
	size_t n = 0;
	for (i = 0; i < p->nflows; i++)
		if (p->flows[i].id)
			byid[n++] = &p->flows[i];
	qsort(byid, n, sizeof(*byid), flowid_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(byid[i - 1]->id, byid[i]->id))
			continue;
		if (byid[i]->id_given) {
			char *ip = kptr(c, byid[i]->ptr, "id");
			ww_err(c->d, "duplicate-id", ip, "flow id \"%s\" is already used by %s",
			       byid[i]->id, byid[i - 1]->ptr);
			free(ip);
		} else {
			ww_err(c->d, "duplicate-flow", byid[i]->ptr,
			       "this flow repeats %s exactly (its derived id is \"%s\")",
			       byid[i - 1]->ptr, byid[i]->id);
		}
	}
	p->flow_by_id = byid; /* ww_flow_find searches it */
	p->nflow_by_id = n;
}

/* In an invariant's "except": is this entry a service rather than an endpoint? A zone, group or
 * "zone/host" wins over a service of the same name. */
static bool names_service(struct pctx *c, const char *s)
{
	const char *slash = strchr(s, '/');
	char head[WW_NAME_MAX + 1];
	int proto;

	if (!slash)
		return !ww_zone_find(c->p, s) && !ww_group_find(c->p, s) &&
		       ww_service_find(c->p, s);
	if ((size_t)(slash - s) > WW_NAME_MAX)
		return false;
	memcpy(head, s, (size_t)(slash - s));
	head[slash - s] = '\0';
	return !ww_zone_find(c->p, head) && !ww_proto_parse(head, &proto) &&
	       proto != WW_PROTO_ANY;
}

static void parse_invariant(struct pctx *c, struct ww_invariant *v, const cJSON *j)
{
	static const char *const known[] = {"id", "description", "expect", "from",
					    "to", "except",      "service"};
	const cJSON *m;
	char *mp;
	int k;

	if (!want(c, j, v->ptr, cJSON_IsObject, "an object"))
		return;
	check_members(c, j, v->ptr, known, countof(known));
	m = cJSON_GetObjectItemCaseSensitive(j, "id");
	mp = kptr(c, v->ptr, "id");
	if (!m)
		ww_err(c->d, "missing-field", v->ptr, "an invariant needs an \"id\"");
	else if (want(c, m, mp, cJSON_IsString, "a string") &&
		 check_name(c, m->valuestring, mp, "invariant", WW_ID_MAX, true))
		v->id = pdup(c, m->valuestring);
	free(mp);
	v->description = opt_string(c, j, "description", v->ptr);
	mp = kptr(c, v->ptr, "expect");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "expect"))) {
		if (keyword(c, m, mp, actions, 2, &k))
			v->expect = (enum ww_action)k;
	} else {
		ww_err(c->d, "missing-field", v->ptr, "missing \"expect\" (\"allow\" or \"deny\")");
	}
	free(mp);
	mp = kptr(c, v->ptr, "from");
	parse_eplist(c, cJSON_GetObjectItemCaseSensitive(j, "from"), mp, true, &v->from, NULL);
	free(mp);
	mp = kptr(c, v->ptr, "to");
	parse_eplist(c, cJSON_GetObjectItemCaseSensitive(j, "to"), mp, true, &v->to, NULL);
	free(mp);
	mp = kptr(c, v->ptr, "except");
	parse_eplist(c, cJSON_GetObjectItemCaseSensitive(j, "except"), mp, false, &v->except,
		     names_service);
	if (v->except.all)
		ww_err(c->d, "invalid-value", mp, "\"except\": \"*\" would leave nothing to check");
	free(mp);
	struct ww_service **plus = NULL, **minus = NULL;
	size_t np = 0, nm = 0;
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "except");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "service"))) {
		mp = kptr(c, v->ptr, "service");
		if (cJSON_IsArray(m) && !m->child)
			ww_err(c->d, "empty-list", mp, "the list is empty: leave \"service\" out for "
						       "all traffic");
		else if (cJSON_IsString(m)) {
			if ((v->svc = resolve_service(c, m->valuestring, mp)))
				v->svc->referenced = true; /* one name: the service itself */
		} else if (mp)
			np = parse_svc_names(c, m, mp, &plus, &v->spec_svcs, NULL);
		v->nspec_svcs = np;
		free(mp);
	}
	if (ex && (cJSON_IsString(ex) || cJSON_IsArray(ex))) {
		mp = kptr(c, v->ptr, "except");
		if (mp)
			nm = parse_svc_names(c, ex, mp, &minus, &v->except_svcs, names_service);
		v->nexcept_svcs = nm;
		free(mp);
	}
	if (np || nm) {
		mp = kptr(c, v->ptr, np ? "service" : "except");
		if (v->svc && !np) { /* one plain service minus some */
			plus = malloc(sizeof(*plus));
			if (plus)
				plus[np++] = v->svc;
			v->spec_svcs = calloc(1, sizeof(char *));
			if (v->spec_svcs && (v->spec_svcs[0] = pdup(c, v->svc->name)))
				v->nspec_svcs = 1;
		}
		if (mp && !c->oom)
			v->svc = derived_service(c, plus, np, minus, nm, mp);
		free(mp);
	}
	free(plus);
	free(minus);
}

/* An address member of a probe, required. */
static void probe_addr(struct pctx *c, const cJSON *j, const char *base, const char *key,
		       struct ww_addr *a)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, key);
	char *mp = kptr(c, base, key);

	if (!m)
		ww_err(c->d, "missing-field", base, "a probe needs \"%s\" (an IP address)", key);
	else if (want(c, m, mp, cJSON_IsString, "an IP address") &&
		 ww_addr_parse(m->valuestring, a))
		ww_err(c->d, "invalid-address", mp, "\"%s\" is not an IP address", m->valuestring);
	free(mp);
}

static void parse_probe(struct pctx *c, struct ww_probe *pr, const cJSON *j)
{
	static const char *const known[] = {"id", "description", "from",      "to",
					    "port", "netns",      "timeout_ms"};
	const cJSON *m;
	char *mp;
	long n;

	pr->timeout_ms = 1000;
	if (!want(c, j, pr->ptr, cJSON_IsObject, "an object"))
		return;
	check_members(c, j, pr->ptr, known, countof(known));
	m = cJSON_GetObjectItemCaseSensitive(j, "id");
	mp = kptr(c, pr->ptr, "id");
	if (!m)
		ww_err(c->d, "missing-field", pr->ptr, "a probe needs an \"id\"");
	else if (want(c, m, mp, cJSON_IsString, "a string") &&
		 check_name(c, m->valuestring, mp, "probe", WW_ID_MAX, true))
		pr->id = pdup(c, m->valuestring);
	free(mp);
	pr->description = opt_string(c, j, "description", pr->ptr);
	probe_addr(c, j, pr->ptr, "from", &pr->from);
	probe_addr(c, j, pr->ptr, "to", &pr->to);
	if (pr->from.family && pr->to.family && pr->from.family != pr->to.family)
		ww_err(c->d, "family-mismatch", pr->ptr,
		       "\"from\" and \"to\" must be of the same address family");
	mp = kptr(c, pr->ptr, "port");
	if (!(m = cJSON_GetObjectItemCaseSensitive(j, "port")))
		ww_err(c->d, "missing-field", pr->ptr, "a probe needs \"port\" (tcp, 1-65535)");
	else if (integer(c, m, mp, 1, 65535, &n))
		pr->port = (uint16_t)n;
	free(mp);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "timeout_ms"))) {
		mp = kptr(c, pr->ptr, "timeout_ms");
		if (integer(c, m, mp, 1, 60000, &n))
			pr->timeout_ms = (uint32_t)n;
		free(mp);
	}
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "netns"))) {
		mp = kptr(c, pr->ptr, "netns");
		if (want(c, m, mp, cJSON_IsString, "a network namespace name")) {
			const char *s = m->valuestring;
			if (!*s || strlen(s) > 64 || strchr(s, '/') || !strcmp(s, ".") ||
			    !strcmp(s, ".."))
				ww_err(c->d, "invalid-netns", mp,
				       "\"%s\" is not a network namespace name (as `ip netns` names "
				       "them: 1-64 characters, no '/')",
				       s);
			else
				pr->netns = pdup(c, s);
		}
		free(mp);
	}
}

static void parse_probes(struct pctx *c, const cJSON *j)
{
	struct ww_policy *p = c->p;
	size_t i = 0;

	if (!j || !want(c, j, "/probes", cJSON_IsArray, "an array of probes"))
		return;
	p->nprobes = (size_t)cJSON_GetArraySize(j);
	p->probes = calloc(p->nprobes ? p->nprobes : 1, sizeof(*p->probes));
	if (!p->probes) {
		p->nprobes = 0;
		c->oom = true;
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		p->probes[i].ptr = iptr(c, "/probes", i);
		if (p->probes[i].ptr)
			parse_probe(c, &p->probes[i], x);
	}
	for (i = 0; i < p->nprobes; i++)
		for (size_t k = 0; k < i && p->probes[i].id; k++)
			if (p->probes[k].id && !strcmp(p->probes[k].id, p->probes[i].id)) {
				char *ip = kptr(c, p->probes[i].ptr, "id");
				ww_err(c->d, "duplicate-id", ip, "probe id \"%s\" is already used by %s",
				       p->probes[i].id, p->probes[k].ptr);
				free(ip);
				break;
			}
}

static void parse_invariants(struct pctx *c, const cJSON *j)
{
	struct ww_policy *p = c->p;
	size_t i = 0;

	if (!j)
		return;
	if (!want(c, j, "/invariants", cJSON_IsArray, "an array of invariants"))
		return;
	p->ninvs = (size_t)cJSON_GetArraySize(j);
	p->invs = calloc(p->ninvs ? p->ninvs : 1, sizeof(*p->invs));
	if (!p->invs) {
		p->ninvs = 0;
		c->oom = true;
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		p->invs[i].ptr = iptr(c, "/invariants", i);
		if (p->invs[i].ptr)
			parse_invariant(c, &p->invs[i], x);
	}
	for (i = 0; i < p->ninvs; i++)
		for (size_t k = 0; k < i && p->invs[i].id; k++)
			if (p->invs[k].id && !strcmp(p->invs[k].id, p->invs[i].id)) {
				char *ip = kptr(c, p->invs[i].ptr, "id");
				ww_err(c->d, "duplicate-id", ip,
				       "invariant id \"%s\" is already used by %s", p->invs[i].id,
				       p->invs[k].ptr);
				free(ip);
				break;
			}
}

/* ------------------------------------------------------------------------------------------ */

static bool json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void syntax_error(struct ww_diags *d, const char *text, size_t len, const char *at)
{
	const char *end = text + len, *p, *q;
	int line = 1, col = 1;
	bool in_str = false;
	struct ww_diag *x;

	if (!at || at < text || at > end)
		at = end;
	/* cJSON blames the first character of a string it cannot finish; when no quote closes it,
	 * the real problem is that the input ended inside the string. */
	for (p = text; p < at; p++)
		if (in_str && *p == '\\' && p + 1 < at)
			p++;
		else if (*p == '"')
			in_str = !in_str;
	for (q = at; in_str && q < end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < end)
			q++;
	if (in_str && q >= end)
		at = end;
	for (q = at; q < end && json_space(*q); q++)
		;
	if (q == end)
		at = end; /* only whitespace left: the input ended too early */
	/* cJSON stops one past the offending character when whitespace follows it. */
	while (at < end && at > text && json_space(*at) && !json_space(at[-1]))
		at--;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	/* cJSON stops where the text stops making sense; say what it found there. */
	if (at >= end)
		ww_err(d, "malformed-json", "", "malformed JSON: unexpected end of input");
	else if ((unsigned char)*at < 0x20 || (unsigned char)*at >= 0x7f)
		ww_err(d, "malformed-json", "", "malformed JSON: unexpected byte 0x%02x",
		       (unsigned char)*at);
	else
		ww_err(d, "malformed-json", "", "malformed JSON: unexpected '%c'", *at);
	if (d->n) {
		x = &d->v[d->n - 1];
		x->line = line;
		x->col = col;
	}
}

int ww_policy_parse(const char *file, const char *text, size_t len, struct ww_diags *d,
		    struct ww_policy **out)
{
	static const char *const known[] = {"$schema", "wardwall", "name",     "description",
					    "defaults", "zones",    "groups",   "services",
					    "flows",    "invariants", "probes", "enforcement",
					    "gateways", "detect", "siem"};
	struct pctx c = {.d = d};
	const char *end = NULL;
	size_t errors0 = d->nerrors;
	cJSON *root, *m;
	long ver;
	int err;

	if (!d->file)
		d->file = file;
	if (memchr(text, '\0', len)) {
		syntax_error(d, text, len, memchr(text, '\0', len));
		return -EINVAL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!root) {
		syntax_error(d, text, len, end ? end : cJSON_GetErrorPtr());
		return -EINVAL;
	}
	for (const char *q = end; q && q < text + len; q++)
		if (!json_space(*q)) {
			syntax_error(d, text, len, q);
			cJSON_Delete(root);
			return -EINVAL;
		}
	/* Strings cJSON cut short at an escaped NUL, or carried over as invalid UTF-8, would make
	 * the enforced policy differ from the file a reviewer reads: nothing else is read then. */
	err = ww_policy_scan(text, len, d);
	if (err) {
		cJSON_Delete(root);
		return err;
	}
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	c.p->file = pdup(&c, file);
	if (!want(&c, root, "", cJSON_IsObject, "a policy object"))
		goto done;
	check_members(&c, root, "", known, countof(known));
	if ((m = cJSON_GetObjectItemCaseSensitive(root, "$schema")))
		want(&c, m, "/$schema", cJSON_IsString, "a string");
	m = cJSON_GetObjectItemCaseSensitive(root, "wardwall");
	if (!m)
		ww_err(d, "missing-field", "", "missing \"wardwall\": the language version (1)");
	else if (integer(&c, m, "/wardwall", 0, 1000000, &ver) && ver != WW_POLICY_VERSION)
		ww_err(d, "unsupported-version", "/wardwall",
		       "policy language version %ld is not supported: this wardwall reads version %d",
		       ver, WW_POLICY_VERSION);
	m = cJSON_GetObjectItemCaseSensitive(root, "name");
	if (!m)
		ww_err(d, "missing-field", "", "missing \"name\": the policy's name");
	else if (want(&c, m, "/name", cJSON_IsString, "a string") &&
		 check_name(&c, m->valuestring, "/name", "policy", 64, true))
		c.p->name = pdup(&c, m->valuestring);
	c.p->description = opt_string(&c, root, "description", "");
	parse_defaults(&c, cJSON_GetObjectItemCaseSensitive(root, "defaults"));
	parse_enforcement(&c, cJSON_GetObjectItemCaseSensitive(root, "enforcement"));
	parse_detect(&c, cJSON_GetObjectItemCaseSensitive(root, "detect"));
	parse_zones(&c, cJSON_GetObjectItemCaseSensitive(root, "zones"));
	check_addressing(&c);
	parse_groups(&c, cJSON_GetObjectItemCaseSensitive(root, "groups"));
	ww_gateways_parse(c.p, root, d, &c.oom);
	check_mark_fit(&c, cJSON_GetObjectItemCaseSensitive(root, "enforcement"));
	ww_siem_parse(c.p, root, d, &c.oom);
	parse_services(&c, cJSON_GetObjectItemCaseSensitive(root, "services"));
	parse_flows(&c, cJSON_GetObjectItemCaseSensitive(root, "flows"));
	parse_invariants(&c, cJSON_GetObjectItemCaseSensitive(root, "invariants"));
	parse_probes(&c, cJSON_GetObjectItemCaseSensitive(root, "probes"));
done:
	cJSON_Delete(root);
	if (c.oom || d->oom) {
		ww_policy_free(c.p);
		return -ENOMEM;
	}
	if (d->nerrors > errors0) {
		ww_policy_free(c.p);
		return -EINVAL;
	}
	*out = c.p;
	return 0;
}

/* The size limit, in bytes: WARDWALL_POLICY_MAX_BYTES when set to a whole number, else
 * WW_POLICY_MAX_BYTES. 0 or garbage keeps the default rather than lifting the limit. */
static size_t policy_max(void)
{
	const char *env = getenv("WARDWALL_POLICY_MAX_BYTES");
	unsigned long long v;
	char *end;

	if (!env || !*env)
		return WW_POLICY_MAX_BYTES;
	errno = 0;
	v = strtoull(env, &end, 10);
	if (errno || *end || !v || !isdigit((unsigned char)*env))
		return WW_POLICY_MAX_BYTES;
	return v > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)v;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "something other than a file";
}

int ww_policy_read(const char *path, struct ww_diags *d, char **out, size_t *lenp)
{
	size_t max = policy_max(), len = 0, cap = 0;
	bool is_stdin = !strcmp(path, "-");
	char *buf = NULL;
	struct stat st;
	int fd, err = 0;

	if (!d->file)
		d->file = path;
	/* O_NONBLOCK: opening a FIFO that has no writer must not wait for one. */
	fd = is_stdin ? 0 : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!is_stdin && !S_ISREG(st.st_mode)) {
		ww_err(d, "not-a-file", "", "is %s: a policy must be a regular file",
		       file_kind(st.st_mode));
		err = -EINVAL;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		goto too_big;
	if (!is_stdin && fcntl(fd, F_SETFL, 0)) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nb;
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len)
				goto too_big;
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno; /* the first error ends the read */
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			goto too_big;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	*out = buf;
	buf = NULL;
	goto out;
too_big:
	ww_err(d, "too-large", "",
	       "larger than %zu bytes, the limit for a policy (set WARDWALL_POLICY_MAX_BYTES to "
	       "raise it)",
	       max);
	err = -EINVAL;
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return err;
}

int ww_policy_load(const char *path, struct ww_diags *d, struct ww_policy **out)
{
	char *text;
	size_t len;
	int err;

	err = ww_policy_read(path, d, &text, &len);
	if (err)
		return err;
	err = ww_policy_parse(path, text, len, d, out);
	free(text);
	return err;
}
