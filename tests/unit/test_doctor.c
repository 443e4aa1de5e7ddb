// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor.c and doctor_nft.c: the parts of `wardwall doctor` that need no kernel — version
 * parsing, the feature table and its printed forms (kernel/features.txt, kernel/wardwall.config),
 * recording and relaxing results, the one printer, the exit code, reading the nftables probe's
 * acks, and moving nft_batch.c's messages to the probe's table. The checks themselves run in
 * tests/suites/50-doctor.sh.
 */
#include <cjson/cJSON.h>
#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "cli.h"
#include "doctor.h"
#include "nft_nl.h"
#include "unit.h"

static void kver_is_at(const char *s, unsigned int a, unsigned int b, unsigned int c,
		       const char *file, int line)
{
	unsigned int v[3] = {99, 99, 99};

	_assert_int_equal(ww_kver_parse(s, v), 0, file, line);
	if (v[0] != a || v[1] != b || v[2] != c)
		print_message("# %s: got %u.%u.%u\n", s, v[0], v[1], v[2]);
	_assert_true(v[0] == a && v[1] == b && v[2] == c, "version", file, line);
}
#define kver_is(s, a, b, c) kver_is_at(s, a, b, c, __FILE__, __LINE__)

static void test_kver_parse(void **state)
{
	unsigned int v[3] = {7, 7, 7};

	kver_is("6.18.44-fc-v782", 6, 18, 44);
	kver_is("6.1.0-28-amd64", 6, 1, 0);
	kver_is("6.1", 6, 1, 0);
	kver_is("5.10.209-rt101", 5, 10, 209);
	kver_is("6.9-rc4", 6, 9, 0);
	kver_is("4.19.0.1", 4, 19, 0);
	/* Rejected, v untouched. */
	assert_int_equal(ww_kver_parse("", v), -EINVAL);
	assert_int_equal(ww_kver_parse("6", v), -EINVAL);
	assert_int_equal(ww_kver_parse("6.", v), -EINVAL);
	assert_int_equal(ww_kver_parse("linux-6.1", v), -EINVAL);
	assert_int_equal(ww_kver_parse("99999.1", v), -EINVAL);
	assert_true(v[0] == 7 && v[1] == 7 && v[2] == 7);
}

static void test_kver_cmp(void **state)
{
	const unsigned int a[3] = {6, 1, 0}, b[3] = {6, 1, 12}, c[3] = {6, 18, 0},
			   d[3] = {5, 19, 99};

	assert_true(ww_kver_cmp(a, a) == 0);
	assert_true(ww_kver_cmp(a, b) < 0);
	assert_true(ww_kver_cmp(b, c) < 0);
	assert_true(ww_kver_cmp(c, a) > 0);
	assert_true(ww_kver_cmp(d, a) < 0);
}

static void test_xdp_features_str(void **state)
{
	struct strbuf sb = {0};

	ww_xdp_features_str(0, &sb);
	assert_string_equal(sb_str(&sb), "none");
	sb_reset(&sb);
	ww_xdp_features_str(1 | 2 | 32, &sb);
	assert_string_equal(sb_str(&sb), "basic, redirect, rx-sg");
	sb_reset(&sb);
	ww_xdp_features_str(8 | (1ULL << 40), &sb);
	assert_string_equal(sb_str(&sb), "xsk-zerocopy, bit 40");
	sb_free(&sb);
}

static void test_feature_find(void **state)
{
	assert_non_null(ww_feature_find("nft.ct"));
	assert_string_equal(ww_feature_find("xdp.iface/eth0")->id, "xdp.iface");
	assert_string_equal(ww_feature_find("xdp.iface")->id, "xdp.iface");
	/* Exact ids only, never a prefix. */
	assert_null(ww_feature_find("nft"));
	assert_null(ww_feature_find("nft.c"));
	assert_null(ww_feature_find("nft.ct.extra"));
	assert_null(ww_feature_find("nope"));
}

/* Every row has every column, ids are unique, and versions parse. */
static void test_feature_table(void **state)
{
	for (size_t i = 0; i < ww_nfeatures; i++) {
		const struct ww_feature *f = &ww_features[i];
		unsigned int v[3];
		assert_true(f->id && f->since && f->config && f->what && f->fix);
		assert_true(*f->what && *f->fix);
		assert_null(strpbrk(f->id, " \t/"));
		assert_null(strpbrk(f->config, " \t"));
		if (strcmp(f->since, "-"))
			assert_int_equal(ww_kver_parse(f->since, v), 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ww_features[j].id, f->id);
	}
}

/* Splits a line into three whitespace-separated fields and the rest. */
static bool fields(char *line, char **id, char **since, char **config, char **what)
{
	char *save = NULL;

	*id = strtok_r(line, " \t\n", &save);
	*since = strtok_r(NULL, " \t\n", &save);
	*config = strtok_r(NULL, " \t\n", &save);
	*what = save ? save + strspn(save, " \t") : NULL;
	if (*what)
		(*what)[strcspn(*what, "\n")] = '\0';
	return *id && *since && *config && *what;
}

/* kernel/features.txt is the table, printed: same checks, same order, same columns. */
static void test_features_txt(void **state)
{
	FILE *f = fopen("kernel/features.txt", "r");
	char line[512];
	size_t i = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *id, *since, *config, *what;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(fields(line, &id, &since, &config, &what));
		if (i >= ww_nfeatures) {
			print_message("# features.txt has %s, the table has no more\n", id);
			fail();
		}
		assert_string_equal(id, ww_features[i].id);
		assert_string_equal(since, ww_features[i].since);
		assert_string_equal(config, ww_features[i].config);
		assert_string_equal(what, ww_features[i].what);
		i++;
	}
	fclose(f);
	assert_int_equal(i, ww_nfeatures);
}

/* Every option a check names is set in the fragment. */
static void test_config_fragment(void **state)
{
	char *frag = NULL;
	size_t len;

	assert_int_equal(read_file("kernel/wardwall.config", &frag, &len), 0);
	for (size_t i = 0; i < ww_nfeatures; i++) {
		char opts[256], *save = NULL;
		snprintf(opts, sizeof(opts), "%s", ww_features[i].config);
		for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
			char want[128];
			if (!strcmp(o, "-"))
				continue;
			snprintf(want, sizeof(want), "\n%s=", o);
			if (!strstr(frag, want))
				print_message(
				    "# %s (for %s) is not set in kernel/wardwall.config\n", o,
				    ww_features[i].id);
			assert_non_null(strstr(frag, want));
		}
	}
	/* Options wardwall does not need are not required by the fragment. */
	assert_null(strstr(frag, "\nCONFIG_XDP_SOCKETS="));
	assert_null(strstr(frag, "\nCONFIG_NET_CLS_BPF="));
	free(frag);
}

static void test_add_fix(void **state)
{
	struct ww_doctor d = {.xdp_mode = -1};

	assert_int_equal(ww_doctor_add(&d, "nft.ct", WW_D_MISSING, NULL, "refused: %s", "x"), 0);
	assert_int_equal(ww_doctor_add(&d, "nft.ct", WW_D_OK, NULL, "fine"), 0);
	assert_int_equal(ww_doctor_add(&d, "nft.limit", WW_D_WARNING, "", "no fix"), 0);
	assert_int_equal(ww_doctor_add(&d, "xdp.iface/eth0", WW_D_MISSING, "do this", "n%d", 1), 0);
	assert_int_equal(ww_doctor_add(&d, "unknown.check", WW_D_MISSING, NULL, "?"), 0);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.v[0].detail, "refused: x");
	assert_string_equal(d.v[0].fix, ww_feature_find("nft.ct")->fix); /* the table's advice */
	assert_null(d.v[1].fix);					 /* ok: no fix */
	assert_null(d.v[2].fix);					 /* "": none */
	assert_string_equal(d.v[3].fix, "do this");
	assert_string_equal(d.v[3].detail, "n1");
	assert_null(d.v[4].fix);
	assert_false(d.oom);
	ww_doctor_free(&d);
	ww_doctor_free(&d); /* twice is harmless */
	ww_doctor_free(NULL);
}

static void test_exit_code(void **state)
{
	struct ww_doctor d = {.xdp_mode = -1};

	assert_int_equal(ww_doctor_exit(&d), WW_EXIT_OK);
	ww_doctor_add(&d, "nft.ct", WW_D_OK, NULL, "ok");
	ww_doctor_add(&d, "bpf.btf", WW_D_WARNING, NULL, "no BTF");
	assert_int_equal(ww_doctor_exit(&d), WW_EXIT_OK); /* warnings allowed */
	ww_doctor_add(&d, "bpf.fs", WW_D_MISSING, NULL, "no bpffs");
	assert_int_equal(ww_doctor_exit(&d), WW_EXIT_INVALID);
	ww_doctor_free(&d);
}

static void add_mixed(struct ww_doctor *d)
{
	ww_doctor_add(d, "nft.log", WW_D_MISSING, NULL, "refused");
	ww_doctor_add(d, "bpf.fs", WW_D_MISSING, NULL, "/x: No such file or directory");
	ww_doctor_add(d, "xdp.iface/lo", WW_D_MISSING, "fix it", "no native XDP");
	ww_doctor_add(d, "bpf.jit", WW_D_OK, NULL, "JIT");
}

/* Without XDP in the policy, missing XDP-tier checks are warnings; nftables ones stay missing. */
static void test_relax(void **state)
{
	struct ww_doctor d = {.xdp_mode = 0, .policy = "p.json"};

	add_mixed(&d);
	ww_doctor_relax(&d);
	assert_int_equal(d.v[0].status, WW_D_MISSING);
	assert_int_equal(d.v[1].status, WW_D_WARNING);
	assert_string_equal(d.v[1].detail, "/x: No such file or directory (not needed: p.json has "
					   "enforcement.xdp \"off\")");
	assert_int_equal(d.v[2].status, WW_D_WARNING);
	assert_string_equal(d.v[2].fix, "fix it");
	assert_int_equal(d.v[3].status, WW_D_OK);
	assert_string_equal(d.v[3].detail, "JIT");
	ww_doctor_free(&d);

	/* No policy (-1), or one that uses XDP (1, 2): nothing changes. */
	for (int mode = -1; mode <= 2; mode += 2) {
		struct ww_doctor e = {.xdp_mode = mode, .policy = "p.json"};
		add_mixed(&e);
		ww_doctor_relax(&e);
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(e.v[i].status, WW_D_MISSING);
		ww_doctor_free(&e);
	}
}

static void test_print_text(void **state)
{
	struct ww_doctor d = {.xdp_mode = -1};
	struct strbuf out = {0};

	ww_doctor_add(&d, "kernel.version", WW_D_OK, NULL, "Linux 6.1.0");
	ww_doctor_add(&d, "bpf.fs", WW_D_MISSING, "mount -t bpf bpf /x", "/x: not a bpffs");
	ww_doctor_add(&d, "clock.tai", WW_D_WARNING, "", "offset 0");
	ww_doctor_print(&d, false, &out);
	assert_string_equal(sb_str(&out), "ok       kernel.version  Linux 6.1.0\n"
					  "missing  bpf.fs          /x: not a bpffs\n"
					  "                         fix: mount -t bpf bpf /x\n"
					  "warning  clock.tai       offset 0\n"
					  "3 checks: 1 ok, 1 warning, 1 missing\n");
	sb_free(&out);
	ww_doctor_free(&d);
}

/* The JSON form: an array of {check, status, detail, fix}, fix null when there is none. */
static void test_print_json(void **state)
{
	struct ww_doctor d = {.xdp_mode = -1};
	struct strbuf out = {0};
	cJSON *j, *e;

	ww_doctor_print(&d, true, &out);
	assert_string_equal(sb_str(&out), "[]\n");
	sb_reset(&out);
	ww_doctor_add(&d, "nft.log", WW_D_OK, NULL, "accepted: log \"group\"");
	ww_doctor_add(&d, "bpf.fs", WW_D_MISSING, "mount -t bpf bpf /x", "/x\tbad");
	ww_doctor_print(&d, true, &out);
	j = cJSON_Parse(sb_str(&out));
	assert_non_null(j);
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 2);
	e = cJSON_GetArrayItem(j, 0);
	assert_string_equal(cJSON_GetObjectItem(e, "check")->valuestring, "nft.log");
	assert_string_equal(cJSON_GetObjectItem(e, "status")->valuestring, "ok");
	assert_string_equal(cJSON_GetObjectItem(e, "detail")->valuestring,
			    "accepted: log \"group\"");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "fix")));
	e = cJSON_GetArrayItem(j, 1);
	assert_string_equal(cJSON_GetObjectItem(e, "status")->valuestring, "missing");
	assert_string_equal(cJSON_GetObjectItem(e, "detail")->valuestring, "/x\tbad");
	assert_string_equal(cJSON_GetObjectItem(e, "fix")->valuestring, "mount -t bpf bpf /x");
	assert_int_equal(cJSON_GetArraySize(e), 4);
	cJSON_Delete(j);
	sb_free(&out);
	ww_doctor_free(&d);
}

/* Appends one NLMSG_ERROR answering seq with error (0: an ack). */
static size_t put_ack(uint8_t *buf, size_t off, uint32_t seq, int error)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + off);
	struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(nlh);

	memset(nlh, 0, NLMSG_SPACE(sizeof(*e)));
	nlh->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e->error = error;
	e->msg.nlmsg_seq = seq;
	return off + NLMSG_SPACE(sizeof(*e));
}

static void test_probe_acks(void **state)
{
	uint8_t buf[1024] __attribute__((aligned(4)));
	const uint32_t seqs[4] = {10, 11, 12, 13};
	int errs[4] = {1, 1, 1, 1};
	size_t len = 0;
	struct nlmsghdr *other;

	len = put_ack(buf, len, 11, 0);
	len = put_ack(buf, len, 12, -EOPNOTSUPP);
	len = put_ack(buf, len, 99, -EPERM);	/* not ours: ignored */
	other = (struct nlmsghdr *)(buf + len); /* a message that is no ack: skipped */
	memset(other, 0, NLMSG_SPACE(4));
	other->nlmsg_len = NLMSG_LENGTH(4);
	other->nlmsg_type = NLMSG_NOOP;
	other->nlmsg_seq = 13;
	len += NLMSG_SPACE(4);
	assert_int_equal(ww_nft_probe_acks(buf, len, seqs, errs, 4), 2);
	assert_int_equal(errs[0], 1); /* no answer */
	assert_int_equal(errs[1], 0);
	assert_int_equal(errs[2], -EOPNOTSUPP);
	assert_int_equal(errs[3], 1);

	/* A later chunk completes the picture; an answer seen twice counts once. */
	len = put_ack(buf, 0, 13, -ENOENT);
	len = put_ack(buf, len, 11, 0);
	assert_int_equal(ww_nft_probe_acks(buf, len, seqs, errs, 4), 1);
	assert_int_equal(errs[3], -ENOENT);

	/* A truncated message is not read past. */
	len = put_ack(buf, 0, 10, -EINVAL);
	assert_int_equal(ww_nft_probe_acks(buf, len - 4, seqs, errs, 4), 0);
	assert_int_equal(errs[0], 1);
	assert_int_equal(ww_nft_probe_acks(buf, 0, seqs, errs, 4), 0);
}

/* The table a NEWSET, NEWSETELEM or NEWRULE message names, as libnftnl parses it. */
static char *table_of(const struct nlmsghdr *m)
{
	uint16_t type = m->nlmsg_type & 0xff;
	char *name = NULL;

	if (type == NFT_MSG_NEWRULE) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		assert_true(nftnl_rule_nlmsg_parse(m, r) >= 0);
		name = strdup(nftnl_rule_get_str(r, NFTNL_RULE_TABLE));
		nftnl_rule_free(r);
	} else {
		struct nftnl_set *s = nftnl_set_alloc();
		assert_true((type == NFT_MSG_NEWSET ? nftnl_set_nlmsg_parse(m, s)
						    : nftnl_set_elems_nlmsg_parse(m, s)) >= 0);
		name = strdup(nftnl_set_get_str(s, NFTNL_SET_TABLE));
		nftnl_set_free(s);
	}
	return name;
}

/* nft_batch.c's messages for a class-keyed counter map and its rule, moved to another table:
 * they name it, ask for an ack, carry the new sequence number, and moved back they are the
 * original bytes. Other messages (the batch begin) and too little room give 0. */
static void test_probe_retable(void **state)
{
	struct nfr_elem el = {.lo = 0x00010000,
			      .hi = 0x00010000,
			      .clo = {6, 1000},
			      .chi = {6, 2000},
			      .obj = (char *)"flow/f1"};
	struct nfr_cat cat = {
	    .f = {NK_MARK, NK_L4PROTO, NK_TH_DPORT}, .n = 3, .mark_mask = 0x00ff0000};
	struct nfr_set set = {
	    .name = (char *)"cp/x", .cat = cat, .objmap = true, .elems = &el, .nelems = 1};
	struct nfr_rule rule = {.cat = cat, .counter_map = (char *)"cp/x"};
	struct nfr_chain chain = {.name = (char *)"from/x", .rules = &rule, .nrules = 1};
	uint8_t out[4096] __attribute__((aligned(4))), back[4096] __attribute__((aligned(4)));
	struct ww_nft_batch *b = NULL;
	struct strbuf bytes = {0};
	const struct nlmsghdr *m;
	size_t moved = 0;
	int left;

	assert_int_equal(ww_nft_batch_new(&b, 7), 0);
	assert_int_equal(ww_nft_add_set(b, &set, "cp/x"), 0);
	assert_int_equal(ww_nft_add_rules(b, &chain, "from/x"), 0);
	assert_int_equal(ww_nft_batch_bytes(b, &bytes), 0);
	m = (const struct nlmsghdr *)bytes.s;
	left = (int)bytes.len;
	assert_int_equal(m->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(ww_nft_probe_retable(m, "t", 1, out, sizeof(out)), 0);
	for (m = mnl_nlmsg_next(m, &left); mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		const struct nlmsghdr *o = (const struct nlmsghdr *)out;
		const struct nlmsghdr *k = (const struct nlmsghdr *)back;
		size_t n = ww_nft_probe_retable(m, "wardwall-doctor-42", 100 + (uint32_t)moved, out,
						sizeof(out));
		char *t;
		assert_true(n > m->nlmsg_len && n == o->nlmsg_len);
		assert_int_equal(o->nlmsg_type, m->nlmsg_type);
		assert_int_equal(o->nlmsg_seq, 100 + moved);
		assert_int_equal(o->nlmsg_flags, m->nlmsg_flags | NLM_F_ACK);
		t = table_of(m);
		assert_string_equal(t, "wardwall");
		free(t);
		t = table_of(o);
		assert_string_equal(t, "wardwall-doctor-42");
		free(t);
		assert_int_equal(
		    ww_nft_probe_retable(o, "wardwall", m->nlmsg_seq, back, sizeof(back)),
		    m->nlmsg_len);
		assert_memory_equal((const char *)k + NLMSG_HDRLEN, (const char *)m + NLMSG_HDRLEN,
				    m->nlmsg_len - NLMSG_HDRLEN);
		assert_int_equal(
		    ww_nft_probe_retable(m, "wardwall-doctor-42", 1, out, m->nlmsg_len), 0);
		moved++;
	}
	assert_int_equal(moved, 3); /* the set, its element, the rule */
	sb_free(&bytes);
	ww_nft_batch_free(b);
}

UNIT_MAIN(cmocka_unit_test(test_kver_parse), cmocka_unit_test(test_kver_cmp),
	  cmocka_unit_test(test_xdp_features_str), cmocka_unit_test(test_feature_find),
	  cmocka_unit_test(test_feature_table), cmocka_unit_test(test_features_txt),
	  cmocka_unit_test(test_config_fragment), cmocka_unit_test(test_add_fix),
	  cmocka_unit_test(test_exit_code), cmocka_unit_test(test_relax),
	  cmocka_unit_test(test_print_text), cmocka_unit_test(test_print_json),
	  cmocka_unit_test(test_probe_retable), cmocka_unit_test(test_probe_acks))
