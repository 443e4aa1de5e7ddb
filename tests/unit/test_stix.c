// SPDX-License-Identifier: GPL-2.0-only
/* Indicators (stix.h): observable identifiers, the objects of a bundle and what each alert
 * becomes, and the CSV. tests/stix/validate.py checks whole bundles against the OASIS schemas
 * in suite 75-nis2. */
#include "unit.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>

#include "stix.h"

static void test_sco_id(void **state)
{
	char id[80];

	/* uuid.uuid5(UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), name), as Python computes it. */
	ww_stix_sco_id("ipv4-addr", "{\"value\":\"198.51.100.3\"}", id);
	assert_string_equal(id, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
	ww_stix_sco_id("network-traffic",
		       "{\"dst_port\":445,\"protocols\":[\"tcp\"],\"src_ref\":\"ipv4-addr--x\"}",
		       id);
	assert_string_equal(id, "network-traffic--7692d352-2f59-5321-bc34-9b29e6807caf");
}

static struct ww_alert alert(enum ww_detector det, const char *src, const char *dst)
{
	struct ww_alert a = {.det = det, .family = 4, .count = 2, .targets = 1, .ndst_zones = 1};

	a.first_ns = 1796637601000LL * 1000000;
	a.last_ns = 1796637602500LL * 1000000;
	inet_pton(AF_INET, src, a.src);
	inet_pton(AF_INET, dst, a.dst);
	snprintf(a.src_zone, sizeof(a.src_zone), "biomed");
	snprintf(a.dst_zones[0], sizeof(a.dst_zones[0]), "ehr");
	snprintf(a.flows[0], sizeof(a.flows[0]), "default");
	a.nflows = 1;
	return a;
}

static const cJSON *find(const cJSON *objs, const char *type, size_t nth)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, objs)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
		if (!strcmp(t->valuestring, type) && nth-- == 0)
			return o;
	}
	return NULL;
}

static const char *s(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static void test_bundle(void **state)
{
	struct ww_alert a[2] = {alert(WW_DET_LATERAL, "10.20.4.2", "10.20.2.10"),
				alert(WW_DET_SCAN, "10.20.100.2", "10.20.2.10")};
	struct ww_stix_opts o = {.identity = "St. Example Hospital", .now = 1796637700};
	struct strbuf sb = {0};
	cJSON *b, *objs;
	const cJSON *x;

	snprintf(a[0].services[0], 16, "tcp/445");
	snprintf(a[0].services[1], 16, "tcp/3389");
	a[0].nservices = 2;
	snprintf(a[1].services[0], 16, "tcp/20");
	a[1].nservices = 1;
	a[1].more_services = true;
	a[1].count = 25;
	assert_int_equal(ww_stix_bundle(a, 2, &o, &sb), 0);
	b = cJSON_Parse(sb_str(&sb));
	assert_non_null(b);
	assert_string_equal(s(b, "type"), "bundle");
	assert_null(cJSON_GetObjectItemCaseSensitive(b, "spec_version")); /* not on a 2.1 bundle */
	objs = cJSON_GetObjectItemCaseSensitive(b, "objects");
	x = find(objs, "identity", 0);
	assert_string_equal(s(x, "name"), "St. Example Hospital");
	assert_string_equal(s(x, "created"), "2026-12-07T10:01:40.000Z");
	const char *ident = s(x, "id");
	/* lateral: the source and each service as alternatives */
	x = find(objs, "indicator", 0);
	assert_string_equal(
	    s(x, "pattern"),
	    "[network-traffic:src_ref.value = '10.20.4.2' AND "
	    "network-traffic:protocols[*] = 'tcp' AND network-traffic:dst_port = 445] OR "
	    "[network-traffic:src_ref.value = '10.20.4.2' AND "
	    "network-traffic:protocols[*] = 'tcp' AND network-traffic:dst_port = 3389]");
	assert_string_equal(s(x, "valid_from"), "2026-12-07T10:00:01.000Z");
	assert_string_equal(s(x, "created_by_ref"), ident);
	/* scan: its services are a sample, the pattern is the source alone */
	x = find(objs, "indicator", 1);
	assert_string_equal(s(x, "pattern"), "[ipv4-addr:value = '10.20.100.2']");
	x = find(objs, "observed-data", 1);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(x, "number_observed")->valuedouble, 25);
	assert_string_equal(s(x, "last_observed"), "2026-12-07T10:00:02.500Z");
	x = find(objs, "sighting", 0);
	assert_string_equal(s(x, "sighting_of_ref"), s(find(objs, "indicator", 0), "id"));
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(x, "where_sighted_refs"), 0)
		->valuestring,
	    ident);
	/* the same address is the same object in every export, and once in a bundle */
	char id[80], key[100];
	ww_stix_sco_id("ipv4-addr", "{\"value\":\"10.20.2.10\"}", id);
	snprintf(key, sizeof(key), "\"id\": \"%s\"", id);
	const char *at = strstr(sb_str(&sb), key);
	assert_non_null(at);
	assert_null(strstr(at + 1, key));
	cJSON_Delete(b);
	sb_free(&sb);
}

static void test_csv(void **state)
{
	struct ww_alert a = alert(WW_DET_LATERAL, "10.20.4.2", "10.20.2.10");
	struct strbuf sb = {0};

	snprintf(a.services[0], 16, "tcp/445");
	a.nservices = 1;
	snprintf(a.src_zone, sizeof(a.src_zone), "bio,\"med\"");
	ww_indicators_csv(&a, 1, &sb);
	assert_string_equal(
	    sb_str(&sb), "first_seen,last_seen,detector,src,src_zone,dst,dst_zones,services,count,"
			 "targets\r\n2026-12-07T10:00:01.000Z,2026-12-07T10:00:02.500Z,lateral,"
			 "10.20.4.2,\"bio,\"\"med\"\"\",10.20.2.10,ehr,tcp/445,2,1\r\n");
	sb_free(&sb);
}

UNIT_MAIN(cmocka_unit_test(test_sco_id), cmocka_unit_test(test_bundle), cmocka_unit_test(test_csv))
