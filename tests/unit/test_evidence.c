// SPDX-License-Identifier: GPL-2.0-only
/*
 * evidence*.c, the parts that need no kernel: base64 and PEM, keys and signatures (with a key
 * made by `openssl genpkey`), control ids, the window arithmetic, the JSON writer, format
 * lists, the chain file, and a whole bundle written from a collection with nothing loaded,
 * verified, then tampered with.
 */
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "evidence.h"
#include "nft_compile.h"
#include "quarantine.h"

static void test_base64(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {{"", ""},	  {"f", "Zg=="},	{"fo", "Zm8="},
		 {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"foobar", "Zm9vYmFy"}};
	uint8_t back[16];
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct strbuf sb = {0};
		ww_ev_base64(v[i].in, strlen(v[i].in), &sb);
		assert_string_equal(sb_str(&sb), v[i].out);
		assert_int_equal(ww_ev_unbase64(v[i].out, strlen(v[i].out), back, sizeof(back), &n),
				 0);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(back, v[i].in, n);
		sb_free(&sb);
	}
	/* White space is ignored, anything else is refused. */
	assert_int_equal(ww_ev_unbase64("Zm9v\nYmFy\n", 10, back, sizeof(back), &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(ww_ev_unbase64("Zm9v!", 5, back, sizeof(back), &n), -EINVAL);
	assert_int_equal(ww_ev_unbase64("Zm9vYmFy", 8, back, 3, &n), -EINVAL);
}

/* A key made by `openssl genpkey -algorithm ed25519` (RFC 8032 test vector 1's seed). */
static const char openssl_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char openssl_pub[] = "-----BEGIN PUBLIC KEY-----\n"
				  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
				  "-----END PUBLIC KEY-----\n";

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ww-unit-evidence.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *p = xstrdup_printf("%s/%s", dir, name);

	assert_int_equal(write_file_atomic(p, text, strlen(text), 0600), 0);
	free(p);
}

static void test_pem_openssl_key(void **state)
{
	char *dir = tmpdir(), *kp = xstrdup_printf("%s/k.pem", dir);
	uint8_t sk[WW_EV_SK_BYTES], pk[WW_EV_PK_BYTES];
	struct strbuf err = {0}, pem = {0};

	write_text(dir, "k.pem", openssl_key);
	assert_int_equal(ww_ev_key_load(kp, sk, &err), 0);
	/* The public key derived from the seed is the one openssl wrote, byte for byte. */
	assert_int_equal(ww_ev_pub_parse(openssl_pub, pk), 0);
	assert_memory_equal(sk + 32, pk, 32);
	ww_ev_pub_pem(pk, &pem);
	assert_string_equal(sb_str(&pem), openssl_pub);
	/* RFC 8032 test 1: the signature of the empty message. */
	struct strbuf sig = {0};
	ww_ev_sign(sk, "", 0, &sig);
	assert_string_equal(sb_str(&sig),
			    "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOX"
			    "Ac+bRr0lv18FlbviRlUUFDjnoQCw==\n");
	assert_int_equal(ww_ev_verify_sig(pk, "", 0, sb_str(&sig)), 0);
	assert_int_equal(ww_ev_verify_sig(pk, "x", 1, sb_str(&sig)), -EBADMSG);
	assert_int_equal(ww_ev_verify_sig(pk, "", 0, "not base64!"), -EINVAL);
	assert_int_equal(ww_ev_verify_sig(pk, "", 0, "Zm9v"), -EINVAL);
	/* A public key is not a private key, and the other way round. */
	assert_int_equal(ww_ev_pub_parse(openssl_key, pk), -EINVAL);
	write_text(dir, "k.pem", openssl_pub);
	assert_int_equal(ww_ev_key_load(kp, sk, &err), -EINVAL);
	assert_non_null(strstr(sb_str(&err), "not an Ed25519 private key"));
	sb_free(&sig);
	sb_free(&pem);
	sb_free(&err);
	free(kp);
	rm_tree(dir);
	free(dir);
}

static void test_keygen_round_trip(void **state)
{
	char *dir = tmpdir(), *kd = xstrdup_printf("%s/keys", dir);
	char *kp = xstrdup_printf("%s/evidence.key", kd),
	     *pp = xstrdup_printf("%s/evidence.pub", kd);
	char fp[65], fp2[65];
	uint8_t sk[WW_EV_SK_BYTES], pk[WW_EV_PK_BYTES];
	struct strbuf err = {0}, sig = {0};
	struct stat st;

	assert_int_equal(ww_ev_keygen(kd, false, fp, &err), 0);
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ww_ev_key_load(kp, sk, &err), 0);
	assert_int_equal(ww_ev_pub_load(pp, pk, &err), 0);
	assert_memory_equal(sk + 32, pk, 32);
	ww_ev_fingerprint(pk, fp2);
	assert_string_equal(fp, fp2);
	ww_ev_sign(sk, "manifest", 8, &sig);
	assert_int_equal(ww_ev_verify_sig(pk, "manifest", 8, sb_str(&sig)), 0);
	/* No overwriting without force; with it, a new key that the old signature fails. */
	assert_int_equal(ww_ev_keygen(kd, false, fp2, &err), -EEXIST);
	assert_non_null(strstr(sb_str(&err), "exists"));
	assert_int_equal(ww_ev_keygen(kd, true, fp2, &err), 0);
	assert_string_not_equal(fp, fp2);
	assert_int_equal(ww_ev_pub_load(pp, pk, &err), 0);
	assert_int_equal(ww_ev_verify_sig(pk, "manifest", 8, sb_str(&sig)), -EBADMSG);
	sodium_memzero(sk, sizeof(sk));
	sb_free(&sig);
	sb_free(&err);
	free(kp);
	free(pp);
	free(kd);
	rm_tree(dir);
	free(dir);
}

static void test_control_ids(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"NIS2 21(2)(i)", "nis2-21.2.i"},
	    {"NIS2 Art. 21(2)(a)", "nis2-21.2.a"},
	    {"CIR 6.8", "cir-6.8"},
	    {"CIR 11", "cir-11"},
	    {"cir 3.2", "cir-3.2"},
	    {"ISO 27001 A.8.22", "iso-27001.a.8.22"},
	    {"NIS2 Article 23", "nis2-23"},
	    {"  CIR  6.7 ", "cir-6.7"},
	    {"2024/2690 6.8", "x-20242690-6.8"},
	    {"SOC2", "soc2"},
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_string_equal(ww_ev_control_id(v[i].in, buf, sizeof(buf)), v[i].out);
	/* Truncated, never overrun. */
	assert_string_equal(ww_ev_control_id("NIS2 21(2)(i)", buf, 6), "nis2");
}

static struct ww_ev_snap snap(const char *name, uint64_t p, uint64_t b, int64_t since)
{
	return (struct ww_ev_snap){(char *)name, p, b, since};
}

static void test_window(void **state)
{
	struct ww_ev_snap s1[] = {snap("nft:flow/a", 10, 1000, 100),
				  snap("nft:flow/b", 5, 500, 100)};
	struct ww_ev_snap s2[] = {snap("nft:flow/a", 12, 1200, 100)};
	struct ww_ev_record chain[2] = {{.seq = 1, .time = 1000, .snaps = s1, .nsnaps = 2},
					{.seq = 2, .time = 2000, .snaps = s2, .nsnaps = 1}};
	const char *basis;
	struct ww_ev_count c;

	/* Which export a window starts at. */
	assert_null(ww_ev_base(chain, 0, 0, &basis));
	assert_string_equal(basis, "counter-start");
	assert_ptr_equal(ww_ev_base(chain, 2, 0, &basis), &chain[1]);
	assert_string_equal(basis, "previous-export");
	assert_ptr_equal(ww_ev_base(chain, 2, 1500, &basis), &chain[0]);
	assert_string_equal(basis, "export-at-or-before-since");
	assert_ptr_equal(ww_ev_base(chain, 2, 2000, &basis), &chain[1]);
	assert_null(ww_ev_base(chain, 2, 999, &basis));
	assert_string_equal(basis, "counter-start");

	/* No base: everything the counter has. */
	ww_ev_count_window(NULL, "nft:flow/a", &(struct ww_tier_count){true, 15, 1500, 100}, &c);
	assert_true(c.present && !c.baseline && !c.reset);
	assert_int_equal(c.win_packets, 15);
	assert_int_equal(c.win_bytes, 1500);
	/* The base's value subtracted. */
	ww_ev_count_window(&chain[0], "nft:flow/a", &(struct ww_tier_count){true, 15, 1500, 100},
			   &c);
	assert_true(c.baseline && !c.reset);
	assert_int_equal(c.win_packets, 5);
	assert_int_equal(c.win_bytes, 500);
	/* Missing from the base: zero then (or not there yet). */
	ww_ev_count_window(&chain[1], "nft:flow/b", &(struct ww_tier_count){true, 7, 700, 100}, &c);
	assert_true(c.baseline && !c.reset);
	assert_int_equal(c.win_packets, 7);
	ww_ev_count_window(&chain[1], "nft:flow/new", &(struct ww_tier_count){true, 3, 300, 1900},
			   &c);
	assert_true(c.baseline && !c.reset);
	assert_int_equal(c.win_packets, 3);
	/* Lower than at the base: restarted; the window holds what it has. */
	ww_ev_count_window(&chain[0], "nft:flow/a", &(struct ww_tier_count){true, 4, 400, 0}, &c);
	assert_true(c.reset && !c.baseline);
	assert_int_equal(c.win_packets, 4);
	/* Higher, but started again after the base (a new start time). */
	ww_ev_count_window(&chain[0], "nft:flow/a", &(struct ww_tier_count){true, 40, 4000, 1500},
			   &c);
	assert_true(c.reset);
	assert_int_equal(c.win_packets, 40);
	/* Absent counter. */
	ww_ev_count_window(&chain[0], "nft:flow/a", &(struct ww_tier_count){false, 0, 0, 0}, &c);
	assert_false(c.present);
	assert_int_equal(c.win_packets, 0);
}

static void test_json_writer(void **state)
{
	struct strbuf sb = {0};
	struct ww_jw w = {.out = &sb};
	const char *v[] = {"a", "b\"c"};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "s", "x\ny");
	ww_jw_u64(&w, "u", 18446744073709551615ULL);
	ww_jw_i64(&w, "i", -5);
	ww_jw_bool(&w, "b", true);
	ww_jw_null(&w, "n");
	ww_jw_time(&w, "t", UNIT_NOW);
	ww_jw_time(&w, "t0", 0);
	ww_jw_arr(&w, "empty");
	ww_jw_end_arr(&w);
	ww_jw_strs(&w, "v", v, 2);
	ww_jw_obj(&w, "o");
	ww_jw_str(&w, "null", NULL);
	ww_jw_end_obj(&w);
	ww_jw_end_obj(&w);
	assert_string_equal(sb_str(&sb), "{\n"
					 "  \"s\": \"x\\ny\",\n"
					 "  \"u\": 18446744073709551615,\n"
					 "  \"i\": -5,\n"
					 "  \"b\": true,\n"
					 "  \"n\": null,\n"
					 "  \"t\": \"2026-11-29T12:00:00Z\",\n"
					 "  \"t0\": null,\n"
					 "  \"empty\": [],\n"
					 "  \"v\": [\n"
					 "    \"a\",\n"
					 "    \"b\\\"c\"\n"
					 "  ],\n"
					 "  \"o\": {\n"
					 "    \"null\": null\n"
					 "  }\n"
					 "}\n");
	sb_free(&sb);
}

static void test_formats(void **state)
{
	struct strbuf err = {0};
	unsigned int f = 0;

	assert_int_equal(ww_ev_formats_parse("json,oscal,html", &f, &err), 0);
	assert_int_equal(f, WW_EV_F_JSON | WW_EV_F_OSCAL | WW_EV_F_HTML);
	assert_int_equal(ww_ev_formats_parse("html", &f, &err), 0);
	assert_int_equal(f, WW_EV_F_HTML);
	assert_int_equal(ww_ev_formats_parse("json,pdf", &f, &err), -EINVAL);
	assert_non_null(strstr(sb_str(&err), "\"pdf\""));
	assert_int_equal(ww_ev_formats_parse("js", &f, &err), -EINVAL); /* no prefixes */
	assert_int_equal(ww_ev_formats_parse("", &f, &err), -EINVAL);
	sb_free(&err);
}

static void test_chain_file(void **state)
{
	char *dir = tmpdir();
	struct ww_ev_snap s[] = {snap("nft:flow/a", 3, 300, 50)};
	struct ww_ev_record r = {
	    .seq = 1, .time = UNIT_NOW, .bundle = "b1", .snaps = s, .nsnaps = 1};
	struct ww_ev_record *v;
	struct strbuf err = {0};
	size_t n;

	assert_int_equal(ww_ev_chain_load(dir, &v, &n, &err), 0); /* none yet */
	assert_int_equal(n, 0);
	memset(r.manifest_sha256, 'a', 64);
	memset(r.key_sha256, 'c', 64);
	assert_int_equal(ww_ev_chain_append(dir, &r, &err), 0);
	r.seq = 2;
	memcpy(r.prev_sha256, r.manifest_sha256, 65);
	memset(r.manifest_sha256, 'b', 64);
	assert_int_equal(ww_ev_chain_append(dir, &r, &err), 0);
	assert_int_equal(ww_ev_chain_load(dir, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].seq, 2);
	assert_int_equal(v[1].time, UNIT_NOW);
	assert_string_equal(v[1].prev_sha256, v[0].manifest_sha256);
	assert_string_equal(v[0].prev_sha256, "");
	assert_int_equal(v[1].nsnaps, 1);
	assert_string_equal(v[1].snaps[0].name, "nft:flow/a");
	assert_int_equal(v[1].snaps[0].bytes, 300);
	assert_int_equal(v[1].snaps[0].since, 50);
	ww_ev_records_free(v, n);
	/* A record that does not follow the one before it breaks the chain. */
	r.seq = 3;
	memset(r.prev_sha256, 'f', 64);
	assert_int_equal(ww_ev_chain_append(dir, &r, &err), 0);
	assert_int_equal(ww_ev_chain_load(dir, &v, &n, &err), -EBADMSG);
	assert_non_null(strstr(sb_str(&err), "line 3: bundle 3 does not follow bundle 2"));
	sb_free(&err);
	rm_tree(dir);
	free(dir);
}

static int count_lines(const char *s, const char *prefix)
{
	int n = 0;

	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

/* A whole bundle from a collection with nothing loaded in the kernel: written, chained,
 * verified; then one byte changed. */
static void test_bundle_round_trip(void **state)
{
	char *dir = tmpdir(), *b1 = xstrdup_printf("%s/b1", dir),
	     *b2 = xstrdup_printf("%s/b2", dir);
	char *kd = xstrdup_printf("%s/keys", dir), *kp = xstrdup_printf("%s/evidence.key", kd);
	struct ww_collect c = {.time = UNIT_NOW, .xdp_same = -1};
	struct ww_evidence ev;
	struct ww_ev_written w;
	struct ww_ev_record *chain;
	uint8_t sk[WW_EV_SK_BYTES];
	struct strbuf err = {0}, out = {0}, bad = {0}, warn = {0};
	char fp[65];
	size_t n;

	c.applied = unit_load_example();
	assert_int_equal(ww_ev_keygen(kd, false, fp, &err), 0);
	assert_int_equal(ww_ev_key_load(kp, sk, &err), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ww_ev_chain_load(dir, &chain, &n, &err), 0);
		struct ww_ev_opts o = {.state_dir = dir, .chain = chain, .nchain = n};
		assert_int_equal(ww_evidence_build(&c, &o, &ev), 0);
		assert_false(ev.in_sync); /* nothing recorded, nothing loaded */
		assert_int_equal(ev.nflows, 0);
		assert_int_equal(ev.ninv, c.applied->ninvs);
		assert_int_equal(ww_evidence_write(&ev, WW_EV_F_JSON | WW_EV_F_OSCAL | WW_EV_F_HTML,
						   sk, i ? b2 : b1, dir, &w, &err),
				 0);
		assert_int_equal(w.seq, (unsigned long)i + 1);
		assert_int_equal(w.nfiles, 6);
		assert_string_equal(ev.key_sha256, fp);
		ww_evidence_free(&ev);
		ww_ev_records_free(chain, n);
	}
	const char *both[] = {b1, b2};
	bool unchecked = true;
	assert_int_equal(ww_evidence_verify(both, 2, sk + 32, &out, &bad, &warn, &unchecked), 0);
	assert_int_equal(count_lines(sb_str(&out), "ok "), 2);
	assert_string_equal(sb_str(&bad), "");
	assert_false(unchecked);
	/* The second alone: its files and signature pass, its link is not checked, and it says so
	 * instead of "ok". */
	sb_reset(&out);
	assert_int_equal(ww_evidence_verify(both + 1, 1, sk + 32, &out, &bad, &warn, &unchecked),
			 0);
	assert_true(unchecked);
	assert_int_equal(count_lines(sb_str(&out), "ok "), 0);
	assert_non_null(strstr(sb_str(&out), "chain NOT CHECKED: its predecessor (bundle 1"));
	assert_non_null(strstr(sb_str(&warn), "the chain was not checked"));
	/* Writing into a bundle again is refused, and chains nothing. */
	assert_int_equal(ww_ev_chain_load(dir, &chain, &n, &err), 0);
	assert_int_equal(n, 2);
	struct ww_ev_opts o = {.state_dir = dir, .chain = chain, .nchain = n};
	assert_int_equal(ww_evidence_build(&c, &o, &ev), 0);
	assert_int_equal(ww_evidence_write(&ev, WW_EV_F_JSON, sk, b1, dir, &w, &err), -EEXIST);
	ww_evidence_free(&ev);
	ww_ev_records_free(chain, n);
	/* One byte of report.html. */
	char *rp = xstrdup_printf("%s/report.html", b1), *text;
	size_t len;
	assert_int_equal(read_file(rp, &text, &len), 0);
	text[len / 2] ^= 1;
	assert_int_equal(write_file_atomic(rp, text, len, 0644), 0);
	sb_reset(&out);
	assert_int_equal(ww_evidence_verify(both, 2, sk + 32, &out, &bad, &warn, &unchecked), 1);
	assert_non_null(strstr(sb_str(&bad), "b1/report.html: sha256 "));
	assert_int_equal(count_lines(sb_str(&out), "ok "), 1); /* b2 still links to b1's manifest */
	free(text);
	free(rp);
	sodium_memzero(sk, sizeof(sk));
	ww_policy_free(c.applied);
	sb_free(&err);
	sb_free(&out);
	sb_free(&bad);
	sb_free(&warn);
	free(b1);
	free(b2);
	free(kd);
	free(kp);
	rm_tree(dir);
	free(dir);
}

/* The example hospital has bms in monitor mode: three invariants hold only thanks to it. They must
 * come out not enforced, naming bms and the packets the monitor-mode defaults let through, and
 * each counter is counted once. */
static void test_monitor_not_enforced(void **state)
{
	struct ww_collect c = {.time = UNIT_NOW, .xdp_same = -1};
	/* Counted per source zone, as the kernel does (compile_nft.h). */
	struct ww_default_stat defs[] = {{.src = "guest",
					  .dst = WW_NFT_MONITOR,
					  .verdict = WW_RB_MONITOR,
					  .nft = {.present = true, .packets = 5, .bytes = 300}},
					 {.src = "vendor",
					  .dst = WW_NFT_MONITOR,
					  .verdict = WW_RB_MONITOR,
					  .nft = {.present = true, .packets = 2, .bytes = 120}},
					 {.src = "guest",
					  .dst = WW_NFT_OTHER,
					  .verdict = WW_RB_DENY,
					  .nft = {.present = true, .packets = 7, .bytes = 420}}};
	struct ww_evidence ev;
	struct ww_ev_opts o = {0};
	struct strbuf why = {0}, html = {0}, json = {0};

	c.applied = unit_load_example();
	c.defaults = defs;
	c.ndefaults = ARRAY_SIZE(defs);
	c.live = calloc(1, sizeof(*c.live)); /* a table: the nftables tier is present */
	assert_non_null(c.live);
	assert_int_equal(ww_evidence_build(&c, &o, &ev), 0);
	assert_int_equal(ev.nmonitor_zones, 1);
	assert_string_equal(ev.monitor_zones[0], "bms");
	/* bms with itself, and with each of the 13 other zones both ways. */
	assert_int_equal(ev.monitor_default_pairs, 1 + 2 * 13);
	assert_int_equal(ev.monitored[WW_EV_NFT], 7);
	size_t notenf = 0;
	for (size_t i = 0; i < ev.ninv; i++) {
		const struct ww_invariant *iv = &c.applied->invs[i];
		const struct ww_ev_monitor_inv *m = &ev.minv[i];
		if (!strcmp(iv->id, "guest-isolated")) {
			assert_true(ev.inv[i].holds);
			assert_false(m->enforced);
			assert_int_equal(m->nzones, 1);
			assert_string_equal(m->zones[0], "bms");
			assert_int_equal(m->passed[WW_EV_NFT], 5); /* guest -> bms, not vendor's */
		}
		if (!strcmp(iv->id, "vendor-only-ct")) {
			assert_false(m->enforced);
			assert_int_equal(m->passed[WW_EV_NFT], 2); /* vendor -> bms */
		}
		if (!strcmp(iv->id, "pumps-reach-server"))
			assert_true(m->enforced);
		notenf += !m->enforced;
	}
	assert_int_equal(notenf, 3);
	ww_evidence_html(&ev, &html);
	assert_non_null(strstr(sb_str(&html), "not enforced"));
	assert_non_null(strstr(sb_str(&html), "monitor mode: bms"));
	ww_evidence_json(&ev, &json);
	assert_non_null(strstr(sb_str(&json), "\"enforced\": false"));
	assert_non_null(strstr(sb_str(&json), "\"monitor_zones\": [\n        \"bms\""));
	ww_evidence_free(&ev);
	free(c.live);
	ww_policy_free(c.applied);
	sb_free(&why);
	sb_free(&html);
	sb_free(&json);
}

/* report.html names each quarantine (who, when, why, ticket, what was kept, what it blocked) and
 * the log's lines of the window; HTML in a reason is escaped. */
static void test_html_quarantines(void **state)
{
	struct ww_collect c = {0};
	struct ww_evidence ev;
	struct ww_ev_opts o = {0};
	struct strbuf html = {0};

	c.applied = unit_load_example();
	c.live = calloc(1, sizeof(*c.live));
	assert_non_null(c.live);
	assert_int_equal(ww_evidence_build(&c, &o, &ev), 0);
	ww_evidence_html(&ev, &html);
	assert_non_null(strstr(sb_str(&html), "<h2>Quarantines</h2>\n<p>None recorded now.</p>"));
	sb_reset(&html);
	ev.quar = calloc(1, sizeof(*ev.quar));
	ev.quar_log = calloc(1, sizeof(*ev.quar_log));
	assert_non_null(ev.quar);
	assert_non_null(ev.quar_log);
	ev.nquar = 1;
	struct ww_quarantine *q = &ev.quar[0].q;
	q->id = 3;
	q->target = strdup("infusion");
	q->user = strdup("oncall");
	q->reason = strdup("scan <from> pumps");
	q->ticket = strdup("INC-4712");
	q->created = 1800000000;
	q->keep = calloc(1, sizeof(*q->keep));
	assert_non_null(q->keep);
	q->nkeep = 1;
	q->keep[0].id = strdup("pumps-to-server");
	snprintf(q->keep[0].why, sizeof(q->keep[0].why), "life-critical");
	ev.quar[0].nft = ev.quar[0].xdp = true;
	ev.quar[0].nft_packets = 40;
	ev.quar[0].xdp_packets = 2;
	ev.quar_log[0] = strdup("{\"time\": \"2027-01-15T08:00:00Z\", \"event\": \"add\", "
				"\"blocked_packets\": 0, \"quarantine\": {\"id\": \"q3\", \"target\": "
				"\"infusion\", \"user\": \"oncall\", \"reason\": \"scan\", \"ticket\": "
				"\"INC-4712\"}}");
	ev.nquar_log = 1;
	ww_evidence_html(&ev, &html);
	const char *h = sb_str(&html);
	assert_non_null(strstr(h, "<tr><td>q3</td><td>infusion</td><td>oncall</td><td>"
				  "2027-01-15T08:00:00Z</td><td>removed by hand</td>"));
	assert_non_null(strstr(h, "scan &lt;from&gt; pumps"));
	assert_non_null(strstr(h, "pumps-to-server (life-critical)"));
	assert_non_null(strstr(h, "<td>nftables, XDP</td><td class=\"n\">42</td>"));
	assert_non_null(strstr(h, "<td>2027-01-15T08:00:00Z</td><td>add</td><td>q3</td>"));
	ww_evidence_free(&ev);
	free(c.live);
	ww_policy_free(c.applied);
	sb_free(&html);
}

/* The quarantine log's lines of the window, as written: the line before the window's start
 * and the empty line are left out (the start is the earliest counter's). */
static void test_quarantine_log_window(void **state)
{
	char *dir = tmpdir();
	struct ww_default_stat defs[] = {
	    {.src = "guest", .dst = "lab", .nft = {.present = true, .since = UNIT_NOW - 3600}}};
	struct ww_collect c = {.time = UNIT_NOW, .xdp_same = -1, .defaults = defs, .ndefaults = 1};
	struct ww_ev_opts o = {.state_dir = dir};
	struct ww_evidence ev;
	const char *in = "{\"time\": \"2026-11-29T12:00:00Z\", \"event\": \"add\"}";

	write_text(dir, "quarantine-log.jsonl",
		   "{\"time\": \"2026-11-29T10:00:00Z\", \"event\": \"add\"}\n"
		   "\n"
		   "{\"time\": \"2026-11-29T12:00:00Z\", \"event\": \"add\"}\n");
	c.applied = unit_load_example();
	assert_int_equal(ww_evidence_build(&c, &o, &ev), 0);
	assert_int_equal(ev.start, UNIT_NOW - 3600);
	assert_int_equal(ev.nquar_log, 1);
	assert_string_equal(ev.quar_log[0], in);
	ww_evidence_free(&ev);
	ww_policy_free(c.applied);
	rm_tree(dir);
	free(dir);
}

UNIT_MAIN(cmocka_unit_test(test_base64), cmocka_unit_test(test_html_quarantines),
	  cmocka_unit_test(test_pem_openssl_key),
	  cmocka_unit_test(test_keygen_round_trip), cmocka_unit_test(test_control_ids),
	  cmocka_unit_test(test_window), cmocka_unit_test(test_json_writer),
	  cmocka_unit_test(test_formats), cmocka_unit_test(test_chain_file),
	  cmocka_unit_test(test_bundle_round_trip), cmocka_unit_test(test_monitor_not_enforced),
	  cmocka_unit_test(test_quarantine_log_window))
