// SPDX-License-Identifier: GPL-2.0-only
/*
 * SIEM output (siem.h, policy_siem.h): the exact RFC 5424, CEF and JSON messages made from
 * records, the escaping each format needs, targets and the policy's "siem" section, and the
 * bounded queue: what is dropped when it is full, and delivery once a receiver appears (a unix
 * datagram socket in a temporary directory, as /dev/log would be).
 */
#include "unit.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy_siem.h"
#include "siem.h"

#define EVENT                                                                                      \
	"{\"type\": \"event\", \"time\": \"2026-12-07T10:00:00.123Z\", \"tier\": \"nftables\", "   \
	"\"verdict\": \"deny\", \"flow\": \"default\", \"src_zone\": \"biomed\", \"dst_zone\": "   \
	"\"ehr\", \"src_host\": null, \"dst_host\": \"ehr/his-app\", \"proto\": \"tcp\", "         \
	"\"src\": "                                                                                \
	"\"10.20.30.4\", \"dst\": \"10.20.10.5\", \"sport\": 40000, \"dport\": 445, \"in\": "      \
	"\"v-bio\", \"out\": \"v-ehr\"}\n"
#define EVENT_TEXT "2026-12-07T10:00:00.123Z nftables deny default biomed -> ehr/his-app tcp\n"
/* An alert whose names carry every character the formats must escape. */
#define ALERT                                                                                      \
	"{\"type\": \"alert\", \"detector\": \"lateral\", \"first_seen\": "                        \
	"\"2026-12-07T10:00:01.000Z\", \"last_seen\": \"2026-12-07T10:00:02.500Z\", \"src\": "     \
	"\"10.20.30.4\", \"src_zone\": \"a=b|c\\\\d]e\\\"f\", \"src_host\": null, \"dst_zones\": " \
	"[\"ehr\", \"lab\"], \"dst_zones_more\": false, \"flows\": [\"default\"], "                \
	"\"flows_more\": false, \"services\": [\"tcp/445\", \"tcp/3389\"], \"services_more\": "    \
	"false, \"dst\": \"10.20.10.5\", \"dst_host\": \"ehr/his-app\", \"count\": 2, "            \
	"\"targets\": 2, \"action\": \"wardwall quarantine add 10.20.30.4\"}\n"

static struct ww_siem_origin org = {.hostname = "gw1", .pid = 42};

static void out_for(struct ww_siem_out *o, const char *to, enum ww_siem_format f)
{
	char why[256];

	assert_int_equal(ww_siem_out_init(o, to, why, sizeof(why)), 0);
	o->format = f;
}

static void test_syslog_event(void **state)
{
	struct ww_siem_out o;
	struct strbuf sb = {0};

	out_for(&o, "tcp://127.0.0.1", WW_SIEM_SYSLOG);
	assert_int_equal(ww_siem_format(&o, &org, EVENT, EVENT_TEXT, &sb), 0);
	/* local0 (16) x 8 + warning (4) = 132; null members are left out. */
	assert_string_equal(
	    sb_str(&sb),
	    "<132>1 2026-12-07T10:00:00.123Z gw1 wardwall 42 event [wardwall@32473 "
	    "time=\"2026-12-07T10:00:00.123Z\" tier=\"nftables\" verdict=\"deny\" flow=\"default\" "
	    "src_zone=\"biomed\" dst_zone=\"ehr\" dst_host=\"ehr/his-app\" proto=\"tcp\" "
	    "src=\"10.20.30.4\" dst=\"10.20.10.5\" sport=\"40000\" dport=\"445\" in=\"v-bio\" "
	    "out=\"v-ehr\"] 2026-12-07T10:00:00.123Z nftables deny default biomed -> ehr/his-app "
	    "tcp");
	sb_free(&sb);
	ww_siem_out_clear(&o);
}

static void test_syslog_alert_escaping(void **state)
{
	struct ww_siem_out o;
	struct strbuf sb = {0};

	out_for(&o, "udp://[fd00::1]:5514", WW_SIEM_SYSLOG);
	assert_string_equal(o.host, "fd00::1");
	assert_string_equal(o.port, "5514");
	o.facility = 10; /* authpriv */
	snprintf(o.sd_id, sizeof(o.sd_id), "ww@99999");
	assert_int_equal(ww_siem_format(&o, &org, ALERT, "x\xc3\xa9\n", &sb), 0);
	/* authpriv (10) x 8 + crit (2) = 82; '"', '\' and ']' escaped; UTF-8 MSG after a BOM. */
	assert_string_equal(
	    sb_str(&sb),
	    "<82>1 2026-12-07T10:00:02.500Z gw1 wardwall 42 alert [ww@99999 detector=\"lateral\" "
	    "first_seen=\"2026-12-07T10:00:01.000Z\" last_seen=\"2026-12-07T10:00:02.500Z\" "
	    "src=\"10.20.30.4\" src_zone=\"a=b|c\\\\d\\]e\\\"f\" dst_zones=\"ehr,lab\" "
	    "dst_zones_more=\"false\" flows=\"default\" flows_more=\"false\" "
	    "services=\"tcp/445,tcp/3389\" services_more=\"false\" dst=\"10.20.10.5\" "
	    "dst_host=\"ehr/his-app\" count=\"2\" targets=\"2\" action=\"wardwall quarantine add "
	    "10.20.30.4\"] \xef\xbb\xbfx\xc3\xa9");
	sb_free(&sb);
	ww_siem_out_clear(&o);
}

static void test_cef(void **state)
{
	struct ww_siem_out o;
	struct strbuf sb = {0};
	const char *cef;

	out_for(&o, "tls://siem.example", WW_SIEM_CEF);
	assert_string_equal(o.port, "6514");
	assert_int_equal(ww_siem_format(&o, &org, ALERT, "a=b\n", &sb), 0);
	cef = strstr(sb_str(&sb), "CEF:0|");
	assert_non_null(cef);
	assert_true(!strncmp(sb_str(&sb),
			     "<130>1 2026-12-07T10:00:02.500Z gw1 wardwall 42 alert - CEF:0|",
			     (size_t)(cef - sb_str(&sb)) + 6));
	/* Header: '|' and '\' escaped; extension values: '=' and '\' escaped, '|' not. */
	assert_non_null(strstr(cef, "|alert:lateral|lateral from a=b\\|c\\\\d]e\"f|9|"));
	assert_non_null(strstr(cef, " cs2Label=srcZone cs2=a\\=b|c\\\\d]e\"f "));
	assert_non_null(strstr(cef, "rt=1796637602500 start=1796637601000 end=1796637602500 "));
	assert_non_null(strstr(cef, " cnt=2 cs1Label=flows cs1=default "));
	assert_non_null(strstr(cef, " cs4Label=services cs4=tcp/445,tcp/3389 "));
	assert_non_null(strstr(cef, " cn1Label=targets cn1=2 msg=a\\=b"));
	sb_reset(&sb);
	assert_int_equal(ww_siem_format(&o, &org, EVENT, EVENT_TEXT, &sb), 0);
	assert_non_null(strstr(sb_str(&sb), "|event:deny|deny tcp biomed -> ehr|5|rt=1796637600123 "
					    "act=deny proto=tcp src=10.20.30.4 spt=40000 "
					    "dst=10.20.10.5 dpt=445 "));
	sb_free(&sb);
	ww_siem_out_clear(&o);
}

static void test_escape_helpers(void **state)
{
	struct strbuf sb = {0};

	ww_cef_value_escape(&sb, "a=b\\c\nd\re|f");
	assert_string_equal(sb_str(&sb), "a\\=b\\\\c\\nd\\re|f");
	sb_reset(&sb);
	ww_cef_header_escape(&sb, "a|b\\c=d");
	assert_string_equal(sb_str(&sb), "a\\|b\\\\c=d");
	sb_reset(&sb);
	ww_sd_escape(&sb, "a\"b\\c]d=e");
	assert_string_equal(sb_str(&sb), "a\\\"b\\\\c\\]d=e");
	sb_free(&sb);
}

static void test_json_and_bad(void **state)
{
	struct ww_siem_out o;
	struct strbuf sb = {0};

	out_for(&o, "unix:/dev/log", WW_SIEM_JSON);
	assert_string_equal(o.path, "/dev/log");
	assert_int_equal(ww_siem_format(&o, &org, EVENT, EVENT_TEXT, &sb), 0);
	assert_int_equal(sb.len, strlen(EVENT) - 1); /* the line, without its newline */
	assert_memory_equal(sb_str(&sb), EVENT, sb.len);
	o.format = WW_SIEM_SYSLOG;
	sb_reset(&sb);
	assert_int_equal(ww_siem_format(&o, &org, "{\"type\": \"other\"}", "", &sb), -EINVAL);
	assert_int_equal(ww_siem_format(&o, &org, "not json", "", &sb), -EINVAL);
	sb_free(&sb);
	ww_siem_out_clear(&o);
}

static void test_targets(void **state)
{
	static const char *const bad[] = {"syslog://x",	    "tcp://",	       "tcp://h:0",
					  "tcp://h:65536",  "tcp://fd00::1:5", "unix:rel/path",
					  "tls://[fd00::1", "udp://a b",       "tcp://h:12x"};
	struct ww_siem_out o;
	char why[256];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (ww_siem_out_init(&o, bad[i], why, sizeof(why)) != -EINVAL) {
			print_message("# accepted %s\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(ww_siem_out_init(&o, "tcp://siem.example:601", why, sizeof(why)), 0);
	assert_int_equal(o.transport, WW_SIEM_TCP);
	assert_string_equal(o.host, "siem.example");
	assert_string_equal(o.port, "601");
	assert_true(o.events && o.alerts);
	assert_int_equal(o.facility, 16);
	assert_int_equal(o.queue, WW_SIEM_QUEUE);
	ww_siem_out_clear(&o);
	assert_int_equal(ww_syslog_facility("authpriv"), 10);
	assert_int_equal(ww_syslog_facility("local7"), 23);
	assert_int_equal(ww_syslog_facility("local8"), -1);
}

static void test_policy_section(void **state)
{
	char *t =
	    unit_json(UNIT_POL(", 'siem': [{'to': 'tls://10.0.0.9', 'format': 'cef', "
			       "'send': ['alerts'], 'facility': 'authpriv', 'ca': '/etc/ca.pem', "
			       "'queue': 50}, {'to': 'unix:/dev/log'}]"));
	struct ww_policy *p = unit_parse_ok(t), *q;
	struct strbuf sb = {0}, sb2 = {0};

	assert_int_equal(p->siem.n, 2);
	assert_int_equal(p->siem.v[0].format, WW_SIEM_CEF);
	assert_true(p->siem.v[0].alerts && !p->siem.v[0].events);
	assert_int_equal(p->siem.v[0].facility, 10);
	assert_string_equal(p->siem.v[0].ca, "/etc/ca.pem");
	assert_int_equal(p->siem.v[0].queue, 50);
	assert_int_equal(p->siem.v[1].transport, WW_SIEM_UNIX);
	/* The canonical form spells every member out and parses back to itself. */
	ww_policy_print_canonical(p, &sb);
	assert_non_null(strstr(sb_str(&sb), "{\"to\": \"unix:/dev/log\", \"format\": \"syslog\", "
					    "\"send\": [\"alerts\", \"events\"], \"facility\": "
					    "\"local0\", \"sd_id\": \"wardwall@32473\", \"queue\": "
					    "10000}"));
	q = unit_parse_ok(sb_str(&sb));
	ww_policy_print_canonical(q, &sb2);
	assert_string_equal(sb_str(&sb), sb_str(&sb2));
	ww_policy_free(p);
	ww_policy_free(q);
	free(t);
	sb_free(&sb);
	sb_free(&sb2);

	static const char *const bad[][3] = {
	    {", 'siem': [{'to': 'tcp://h', 'ca': '/x.pem'}]", "invalid-value", "/siem/0"},
	    {", 'siem': [{'to': 'smtp://h'}]", "invalid-target", "/siem/0/to"},
	    {", 'siem': [{'to': 'udp://h', 'facility': 'locl0'}]", "invalid-value",
	     "/siem/0/facility"},
	    {", 'siem': [{'to': 'udp://h', 'sd_id': 'nopen'}]", "invalid-value", "/siem/0/sd_id"},
	    {", 'siem': [{'to': 'udp://h', 'send': ['alerts', 'alerts']}]", "invalid-value",
	     "/siem/0/send"},
	    {", 'siem': [{'to': 'udp://h', 'queue': 0}]", "invalid-value", "/siem/0/queue"},
	    {", 'siem': [{'to': 'udp://h', 'fromat': 'cef'}]", "unknown-field", "/siem/0/fromat"},
	    {", 'siem': [{'format': 'cef'}]", "missing-field", "/siem/0"},
	    {", 'siem': {'to': 'udp://h'}", "wrong-type", "/siem"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char pol[512];
		struct ww_diags d;
		snprintf(pol, sizeof(pol), "{" UNIT_HDR UNIT_ZONES "%s}", bad[i][0]);
		t = unit_json(pol);
		unit_parse_bad(t, &d);
		if (!unit_find_diag(&d, bad[i][1], bad[i][2])) {
			unit_dump_diags(&d);
			print_message("# want %s at %s\n", bad[i][1], bad[i][2]);
			fail();
		}
		ww_diags_free(&d);
		free(t);
	}
}

/* A queue of 3 with no receiver: events beyond it are dropped, alerts push events out; once a
 * receiver exists, what was queued is delivered by the retries, in order. */
static void test_queue(void **state)
{
	char dir[] = "/tmp/ww-siem-XXXXXX", path[128];
	struct ww_siem_cfg cfg = {0};
	struct ww_siem_out o;
	struct ww_siem *s = NULL;
	struct ww_siem_stats st;
	struct strbuf err = {0};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "unix:%s/log", dir);
	out_for(&o, path, WW_SIEM_SYSLOG);
	o.queue = 3;
	cfg.v = &o;
	cfg.n = 1;
	assert_int_equal(ww_siem_start(&cfg, "test", &s, &err), 0);
	for (int i = 0; i < 4; i++)
		ww_siem_send(s, WW_SIEM_KIND_EVENT, EVENT, EVENT_TEXT);
	ww_siem_send(s, WW_SIEM_KIND_ALERT, ALERT, "one");
	ww_siem_send(s, WW_SIEM_KIND_ALERT, ALERT, "two");
	ww_siem_get_stats(s, 0, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.dropped[WW_SIEM_KIND_EVENT], 3); /* the fourth, and two pushed out */
	assert_int_equal(st.dropped[WW_SIEM_KIND_ALERT], 0);
	assert_int_equal(st.sent[WW_SIEM_KIND_EVENT] + st.sent[WW_SIEM_KIND_ALERT], 0);

	/* The sender has tried and failed at least once before a receiver exists (on a loaded
	 * machine its thread may not have run yet). */
	for (int i = 0; i < 1000; i++) {
		ww_siem_get_stats(s, 0, &st);
		if (st.failures)
			break;
		usleep(10000);
	}
	assert_true(st.failures >= 1);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ww_siem_drain(s, 10000), 0);
	ww_siem_get_stats(s, 0, &st);
	assert_int_equal(st.sent[WW_SIEM_KIND_EVENT], 1);
	assert_int_equal(st.sent[WW_SIEM_KIND_ALERT], 2);
	const char *want[] = {" event [", " alert [", " alert ["};
	const char *tail[] = {"tcp", "] one", "] two"};
	for (int i = 0; i < 3; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, want[i]));
		assert_string_equal(buf + n - strlen(tail[i]), tail[i]);
	}
	ww_siem_stop(s);
	ww_siem_out_clear(&o);
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
	sb_free(&err);
}

UNIT_MAIN(cmocka_unit_test(test_syslog_event), cmocka_unit_test(test_syslog_alert_escaping),
	  cmocka_unit_test(test_cef), cmocka_unit_test(test_escape_helpers),
	  cmocka_unit_test(test_json_and_bad), cmocka_unit_test(test_targets),
	  cmocka_unit_test(test_policy_section), cmocka_unit_test(test_queue))
