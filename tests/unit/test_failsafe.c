// SPDX-License-Identifier: GPL-2.0-only
/* The fail-closed policy: only management flows, every default deny, every zone enforcing, no
 * XDP; saved and loaded back; the built-in one when the saved one is missing or corrupt. */
#include "unit.h"

#include <cjson/cJSON.h>

#include <unistd.h>

#include "failsafe.h"

static const char *const text =
	"{" UNIT_HDR "'defaults': {'between_zones': 'allow', 'within_zone': 'allow'},"
	" 'zones': {'a': {'networks': '10.0.0.0/24', 'mode': 'monitor'},"
	"           'b': {'networks': '10.0.1.0/24', 'hosts': {'h': '10.0.1.5'}}},"
	" 'flows': [{'id': 'ops', 'from': 'a', 'to': 'b/h', 'services': ['ssh'], 'action': 'allow',"
	"            'management': true},"
	"           {'id': 'web', 'from': 'a', 'to': 'b', 'services': ['https'], 'action': 'allow'}],"
	" 'invariants': [{'id': 'i', 'expect': 'allow', 'from': 'a', 'to': 'b', 'service': 'https'}],"
	" 'enforcement': {'interfaces': ['eth0'], 'xdp': 'generic', 'on_failure': 'closed'}}";

static void derived(void **state)
{
	struct ww_policy *p = unit_parse_ok(text), *fs = NULL;

	assert_int_equal(ww_failsafe_policy(p, &fs), 0);
	assert_string_equal(fs->name, "unit-fail-closed");
	assert_int_equal(fs->nflows, 1);
	assert_string_equal(fs->flows[0].id, "ops");
	assert_true(fs->flows[0].management);
	assert_int_equal(fs->ninvs, 0);
	assert_int_equal(fs->defaults.between_zones, WW_DENY);
	assert_int_equal(fs->defaults.within_zone, WW_DENY);
	assert_int_equal(fs->enf.xdp, WW_XDP_OFF);
	assert_int_equal(fs->enf.nifaces, 1);
	assert_int_equal(fs->nzones, 2);
	assert_int_equal(fs->zones[0].mode, WW_ENFORCE); /* a was in monitor mode */
	ww_policy_free(fs);
	ww_policy_free(p);
}

static void saved_and_loaded(void **state)
{
	char dir[] = "/tmp/ww-failsafe-XXXXXX";
	struct ww_policy *p = unit_parse_ok(text), *fs = NULL;
	struct strbuf why = {0};
	bool builtin = true;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(ww_failsafe_save(dir, p), 0);
	assert_int_equal(ww_failsafe_load(dir, &fs, &builtin, &why), 0);
	assert_false(builtin);
	assert_string_equal(fs->name, "unit-fail-closed");
	assert_int_equal(fs->enf.on_failure, WW_FAIL_CLOSED);
	ww_policy_free(fs);

	/* corrupt: the built-in one, and why */
	char *path = xstrdup_printf("%s/%s", dir, WW_FAILSAFE_FILE);
	assert_int_equal(write_file_atomic(path, "{", 1, 0600), 0);
	assert_int_equal(ww_failsafe_load(dir, &fs, &builtin, &why), 0);
	assert_true(builtin);
	assert_non_null(strstr(sb_str(&why), "malformed JSON"));
	assert_string_equal(fs->name, "wardwall-builtin-fail-closed");
	assert_int_equal(fs->nflows, 0);
	assert_int_equal(fs->defaults.within_zone, WW_DENY);
	ww_policy_free(fs);

	/* missing */
	sb_reset(&why);
	unlink(path);
	assert_int_equal(ww_failsafe_load(dir, &fs, &builtin, &why), 0);
	assert_true(builtin);
	assert_non_null(strstr(sb_str(&why), "No such file"));
	ww_policy_free(fs);
	rmdir(dir);
	free(path);
	sb_free(&why);
	ww_policy_free(p);
}

static void open_is_kept(void **state)
{
	char *t = strdup(text), *at = strstr(t, "'closed'");
	struct ww_policy *p, *fs = NULL;

	memcpy(at, "'open'  ", 8);
	p = unit_parse_ok(t);
	assert_int_equal(p->enf.on_failure, WW_FAIL_OPEN);
	assert_int_equal(ww_failsafe_policy(p, &fs), 0);
	assert_int_equal(fs->enf.on_failure, WW_FAIL_OPEN);
	ww_policy_free(fs);
	ww_policy_free(p);
	free(t);
}

/* The text the fail-closed policy comes from: the canonical text less the flows not marked
 * "management" and the invariants, nothing else changed. */
static void management_text(void **state)
{
	struct ww_policy *p = unit_parse_ok(text);
	struct strbuf all = {0}, mgmt = {0};
	cJSON *a, *m, *f, *next;

	ww_policy_print_canonical(p, &all);
	ww_policy_print_management(p, &mgmt);
	a = cJSON_Parse(sb_str(&all));
	m = cJSON_Parse(sb_str(&mgmt));
	assert_non_null(a);
	assert_non_null(m);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "flows")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "invariants")), 1);
	for (f = cJSON_GetObjectItem(a, "flows")->child; f; f = next) {
		next = f->next;
		if (!cJSON_IsTrue(cJSON_GetObjectItem(f, "management")))
			cJSON_Delete(
			    cJSON_DetachItemViaPointer(cJSON_GetObjectItem(a, "flows"), f));
	}
	cJSON_Delete(cJSON_DetachItemFromObject(a, "invariants"));
	cJSON_AddItemToObject(a, "invariants", cJSON_CreateArray());
	assert_true(cJSON_Compare(a, m, true));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "flows")), 1);
	cJSON_Delete(a);
	cJSON_Delete(m);
	sb_free(&all);
	sb_free(&mgmt);
	ww_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(derived),
	    cmocka_unit_test(saved_and_loaded),
	    cmocka_unit_test(open_is_kept),
	    cmocka_unit_test(management_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
