/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the event decoders' harnesses (fuzz_nflog.c, fuzz_events.c) share: a small policy that
 * names addresses, and the properties every decoded record must have once printed. Any record,
 * however hostile its input, prints as exactly one line of text without control characters and
 * one JSON object that parses, whose time is an RFC 3339 UTC stamp and whose verdict is one of
 * the three words, or "?" for a value the kernel's record holds that wardwall does not know. abort() reports a broken property to libFuzzer.
 */
#ifndef WW_FUZZ_REPORT_H
#define WW_FUZZ_REPORT_H

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "policy.h"

static const char fuzz_report_policy[] =
    "{\"wardwall\":1,\"name\":\"ev\",\"zones\":{"
    "\"ehr\":{\"networks\":[\"10.20.2.0/24\",\"fd00:20:2::/64\"],"
    "\"hosts\":{\"fhir\":[\"10.20.2.30\",\"fd00:20:2::30\"]}},"
    "\"pumps\":{\"networks\":[\"10.20.40.0/24\"],\"mode\":\"monitor\"},"
    "\"wan\":{\"networks\":[\"0.0.0.0/0\",\"::/0\"]}},"
    "\"flows\":[{\"id\":\"pumps-to-ehr\",\"from\":\"pumps\",\"to\":\"ehr/fhir\","
    "\"services\":[\"https\"],\"action\":\"allow\",\"log\":true},"
    "{\"id\":\"wan-block\",\"from\":\"wan\",\"to\":\"*\",\"services\":[\"any\"],"
    "\"action\":\"deny\"}]}";

/* The policy, parsed once; NULL names nothing (the other half of the cases). */
static struct ww_policy *fuzz_report_load(void)
{
	static struct ww_policy *p;
	struct ww_diags d = {.file = "fuzz-report.json"};

	if (!p && ww_policy_parse("fuzz-report.json", fuzz_report_policy,
				  strlen(fuzz_report_policy), &d, &p)) {
		ww_diags_print(&d, &(struct strbuf){0});
		fprintf(stderr, "fuzz_report_policy does not parse\n");
		abort();
	}
	ww_diags_free(&d);
	return p;
}

static void fuzz_report_fail(const char *what, const char *out)
{
	fprintf(stderr, "event record: %s\n--- output\n%s\n", what, out);
	abort();
}

static bool fuzz_report_stamp(const char *s)
{
	/* 2026-03-10T08:00:00.123Z: digits where digits go, nothing else. */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (!s || strlen(s) != strlen(shape))
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Prints r both ways and checks both outputs. */
static void fuzz_report_check(const struct ww_logrec *r)
{
	struct strbuf text = {0}, json = {0};

	ww_logrec_print(r, false, &text);
	ww_logrec_print(r, true, &json);
	if (text.oom || json.oom)
		abort();
	const char *t = sb_str(&text);
	if (!text.len || t[text.len - 1] != '\n' || strchr(t, '\n') != t + text.len - 1)
		fuzz_report_fail("the text record is not one line", t);
	for (size_t i = 0; i + 1 < text.len; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			fuzz_report_fail("a control character in the text record", t);
	cJSON *j = cJSON_ParseWithLength(sb_str(&json), json.len);
	if (!j || !cJSON_IsObject(j))
		fuzz_report_fail("the JSON record does not parse", sb_str(&json));
	const char *js = sb_str(&json);
	if (strchr(js, '\n') != js + json.len - 1)
		fuzz_report_fail("the JSON record is not one line", js);
	if (!fuzz_report_stamp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "time"))))
		fuzz_report_fail("the JSON record's time is not an RFC 3339 UTC stamp", js);
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(j, "verdict"));
	if (!v || (strcmp(v, "allow") && strcmp(v, "deny") && strcmp(v, "monitor") && strcmp(v, "?")))
		fuzz_report_fail("the JSON record's verdict is not allow, deny, monitor or ?", js);
	cJSON_Delete(j);
	sb_free(&text);
	sb_free(&json);
}

#endif
