// SPDX-License-Identifier: GPL-2.0-only
#include "failsafe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

/* Drops every flow not marked "management", and "mode" from the zones and flows left. */
static void keep_management(cJSON *root)
{
	cJSON *flows = cJSON_GetObjectItemCaseSensitive(root, "flows");
	cJSON *zones = cJSON_GetObjectItemCaseSensitive(root, "zones");
	cJSON *f, *next, *z;

	for (f = flows ? flows->child : NULL; f; f = next) {
		next = f->next;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "management")))
			cJSON_Delete(cJSON_DetachItemViaPointer(flows, f));
		else
			cJSON_DeleteItemFromObjectCaseSensitive(f, "mode");
	}
	cJSON_ArrayForEach(z, zones)
		cJSON_DeleteItemFromObjectCaseSensitive(z, "mode");
}

static int set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *v = cJSON_CreateString(value);

	if (!v)
		return -ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, v);
	return 0;
}

static int parse_text(const char *file, const char *text, struct ww_policy **out,
		      struct strbuf *why)
{
	struct ww_diags d = {.file = file};
	int e = ww_policy_parse(file, text, strlen(text), &d, out);

	if (e && why) {
		struct strbuf m = {0};
		ww_diags_print(&d, &m);
		sb_addf(why, "%s", m.len ? sb_str(&m) : strerror(-e));
		while (why->len && why->s[why->len - 1] == '\n')
			why->s[--why->len] = '\0';
		sb_free(&m);
	}
	ww_diags_free(&d);
	return e;
}

int ww_failsafe_policy(const struct ww_policy *p, struct ww_policy **out)
{
	struct strbuf canon = {0};
	cJSON *root = NULL, *defaults, *enf;
	char *name = NULL, *text = NULL;
	int e = -ENOMEM;

	/* The canonical text of p's management flows only: the others would be dropped below. */
	ww_policy_print_management(p, &canon);
	if (canon.oom || !(root = cJSON_ParseWithLength(canon.s, canon.len)))
		goto out;
	keep_management(root);
	cJSON_DeleteItemFromObjectCaseSensitive(root, "invariants");
	defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
	enf = cJSON_GetObjectItemCaseSensitive(root, "enforcement");
	name = xstrdup_printf("%.52s-fail-closed", p->name); /* names are at most 64 */
	if (!defaults || !enf || !name || set_string(defaults, "between_zones", "deny") ||
	    set_string(defaults, "within_zone", "deny") || set_string(enf, "xdp", "off") ||
	    set_string(root, "name", name))
		goto out;
	text = cJSON_PrintUnformatted(root);
	/* Derived from a valid policy by removing permissions only: it parses. */
	e = text ? parse_text("fail-closed policy", text, out, NULL) : -ENOMEM;
out:
	cJSON_free(text);
	free(name);
	cJSON_Delete(root);
	sb_free(&canon);
	return e;
}

int ww_failsafe_save(const char *state_dir, const struct ww_policy *p)
{
	struct ww_policy *fs = NULL;
	struct strbuf canon = {0};
	char *path = xstrdup_printf("%s/%s", state_dir, WW_FAILSAFE_FILE);
	int e = path ? ww_failsafe_policy(p, &fs) : -ENOMEM;

	if (!e) {
		ww_policy_print_canonical(fs, &canon);
		e = canon.oom ? -ENOMEM : write_file_atomic(path, canon.s, canon.len, 0600);
	}
	sb_free(&canon);
	ww_policy_free(fs);
	free(path);
	return e;
}

bool ww_failsafe_exists(const char *state_dir)
{
	char *path = xstrdup_printf("%s/%s", state_dir, WW_FAILSAFE_FILE);
	bool there = path && !access(path, F_OK);

	free(path);
	return there;
}

/* Every address in one zone, every default deny: nothing is forwarded. */
static const char builtin_text[] =
	"{\"wardwall\": 1, \"name\": \"wardwall-builtin-fail-closed\", "
	"\"defaults\": {\"between_zones\": \"deny\", \"within_zone\": \"deny\", \"log\": \"deny\"}, "
	"\"zones\": {\"everything\": {\"networks\": [\"0.0.0.0/0\", \"::/0\"]}}, \"flows\": []}";

int ww_failsafe_load(const char *state_dir, struct ww_policy **out, bool *builtin,
		     struct strbuf *why)
{
	char *path = xstrdup_printf("%s/%s", state_dir, WW_FAILSAFE_FILE);
	struct ww_policy *p = NULL;
	char *text = NULL;
	int e;

	if (!path)
		return -ENOMEM;
	e = read_file(path, &text, NULL);
	if (e)
		sb_addf(why, "%s: %s", path, strerror(-e));
	else if ((e = parse_text(path, text, &p, why)) == -ENOMEM)
		goto out;
	*builtin = e != 0;
	e = *builtin ? parse_text("built-in fail-closed policy", builtin_text, &p, NULL) : 0;
	if (!e)
		*out = p;
out:
	free(text);
	free(path);
	return e;
}
