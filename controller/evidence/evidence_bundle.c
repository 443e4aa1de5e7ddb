// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bundles: writing one (the printed formats, the public key, the manifest and its signature)
 * and verifying several in chain order. The manifest is what is signed: it lists every other
 * file's sha256 and carries the previous bundle's manifest sha256, so one signature covers
 * the whole bundle and its place in the chain. manifest.sig holds the raw Ed25519 signature in
 * base64, so `base64 -d` and `openssl pkeyutl -verify -rawin` check it without wardwall.
 *
 * manifest.json:
 *   {"format": "wardwall-evidence-manifest/1", "seq": N, "time": T, "hostname": H,
 *    "previous_manifest_sha256": HEX or null, "key_sha256": HEX,
 *    "files": [{"name": F, "sha256": HEX, "bytes": N}, ...]}
 */
#include "evidence.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"

int ww_ev_formats_parse(const char *s, unsigned int *out, struct strbuf *err)
{
	unsigned int f = 0;

	while (*s) {
		size_t n = strcspn(s, ",");
		if (n == 4 && !strncmp(s, "json", 4))
			f |= WW_EV_F_JSON;
		else if (n == 5 && !strncmp(s, "oscal", 5))
			f |= WW_EV_F_OSCAL;
		else if (n == 4 && !strncmp(s, "html", 4))
			f |= WW_EV_F_HTML;
		else {
			sb_addf(err, "unknown format \"%.*s\" (json, oscal, html)", (int)n, s);
			return -EINVAL;
		}
		s += n + (s[n] == ',');
	}
	if (!f) {
		sb_add(err, "no format given (json, oscal, html)");
		return -EINVAL;
	}
	*out = f;
	return 0;
}

/* ---- writing ---- */

/* The target must be absent or an empty directory (rename(2) replaces an empty one). */
int ww_ev_dir_ready(const char *dir, struct strbuf *err)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (stat(dir, &st) < 0 && errno == ENOENT)
		return 0;
	if (!mkdir(dir, 0755)) {
		rmdir(dir);
		return 0;
	}
	if (errno != EEXIST) {
		int e = -errno;
		sb_addf(err, "%s: %s", dir, strerror(errno));
		return e;
	}
	d = opendir(dir);
	if (!d) {
		int e = -errno;
		sb_addf(err, "%s: %s", dir, strerror(errno));
		return e;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			closedir(d);
			sb_addf(err, "%s: not empty: a bundle goes into a new or empty directory",
				dir);
			return -EEXIST;
		}
	closedir(d);
	return 0;
}

char *ww_ev_partial_dir(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xstrdup_printf("%.*s.partial", (int)n, dir);
}

static int parent_sync(const char *dir)
{
	char *p = strdup(dir), *slash;
	int e;

	if (!p)
		return -ENOMEM;
	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	slash = strrchr(p, '/');
	if (slash)
		*slash = '\0';
	e = fsync_dir(slash ? (*p ? p : "/") : ".");
	free(p);
	return e;
}

int ww_ev_bundle_place(const char *dir, struct strbuf *err)
{
	char *partial = ww_ev_partial_dir(dir);
	int e = 0;

	if (!partial)
		return -ENOMEM;
	if (rename(partial, dir) < 0) {
		e = -errno;
		sb_addf(err, "moving %s to %s: %s", partial, dir, strerror(errno));
	}
	if (!e)
		e = parent_sync(dir);
	free(partial);
	return e;
}

void ww_ev_manifest_print(const struct ww_ev_manifest *m, const struct ww_ev_file *f, size_t n,
			  struct strbuf *out)
{
	struct ww_jw w = {.out = out};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "format", WW_MANIFEST_FORMAT);
	ww_jw_u64(&w, "seq", m->seq);
	ww_jw_time(&w, "time", m->time);
	ww_jw_str(&w, "hostname", m->hostname);
	ww_jw_str(&w, "previous_manifest_sha256",
		  m->prev_sha256 && *m->prev_sha256 ? m->prev_sha256 : NULL);
	ww_jw_str(&w, "key_sha256", m->key_sha256);
	ww_jw_arr(&w, "files");
	for (size_t i = 0; i < n; i++) {
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "name", f[i].name);
		ww_jw_str(&w, "sha256", f[i].sha256);
		ww_jw_u64(&w, "bytes", f[i].body.len);
		ww_jw_end_obj(&w);
	}
	ww_jw_end_arr(&w);
	ww_jw_end_obj(&w);
}

/* "<dir>.partial", made empty. */
static int partial_mkdir(const char *dir, char **partial, struct strbuf *err)
{
	int e;

	if (!(*partial = ww_ev_partial_dir(dir)))
		return -ENOMEM;
	rm_tree(*partial);
	if (mkdir(*partial, 0755) < 0) {
		e = -errno;
		sb_addf(err, "%s: %s", *partial, strerror(errno));
		free(*partial);
		*partial = NULL;
		return e;
	}
	return 0;
}

/*
 * The bundle's files in f (evidence.json, report.html, evidence.pub, oscal.json, manifest.json,
 * manifest.sig), printed and hashed: those of formats, the key, the manifest and its signature,
 * in use[] in the order they are written. Returns how many, or -ENOMEM.
 */
static int print_files(struct ww_evidence *ev, unsigned int formats,
		       const uint8_t sk[WW_EV_SK_BYTES], struct ww_ev_file f[6],
		       struct ww_ev_file *use[6])
{
	size_t n = 0;
	int e = 0;

	if (formats & WW_EV_F_JSON) {
		ww_evidence_json(ev, &f[0].body);
		use[n++] = &f[0];
	}
	if (formats & WW_EV_F_HTML) {
		ww_evidence_html(ev, &f[1].body);
		use[n++] = &f[1];
	}
	ww_ev_pub_pem(sk + 32, &f[2].body);
	use[n++] = &f[2];
	for (size_t i = 0; i < n; i++)
		sha256_hex(sb_str(&use[i]->body), use[i]->body.len, use[i]->sha256);
	if (formats & WW_EV_F_OSCAL) {
		const char *names[3];
		char sums[3][65];
		for (size_t i = 0; i < n; i++) {
			names[i] = use[i]->name;
			memcpy(sums[i], use[i]->sha256, 65);
		}
		ww_evidence_oscal(ev, names, (const char(*)[65])sums, n, &f[3].body);
		sha256_hex(sb_str(&f[3].body), f[3].body.len, f[3].sha256);
		use[n++] = &f[3];
	}
	/* The manifest lists the files in a fixed order (json, html, pub, oscal). */
	struct ww_ev_file listed[4];
	for (size_t i = 0; i < n; i++)
		listed[i] = *use[i];
	struct ww_ev_manifest m = {.seq = ev->seq,
				   .time = ev->time,
				   .hostname = ev->hostname,
				   .prev_sha256 = ev->prev_sha256,
				   .key_sha256 = ev->key_sha256};
	ww_ev_manifest_print(&m, listed, n, &f[4].body);
	sha256_hex(sb_str(&f[4].body), f[4].body.len, f[4].sha256);
	ww_ev_sign(sk, sb_str(&f[4].body), f[4].body.len, &f[5].body);
	use[n++] = &f[4];
	use[n++] = &f[5];
	for (size_t i = 0; i < n; i++)
		if (use[i]->body.oom)
			e = -ENOMEM;
	return e ? e : (int)n;
}

static int write_files(const char *partial, struct ww_ev_file *const *use, size_t n,
		       struct strbuf *err)
{
	int e = 0;

	for (size_t i = 0; i < n && !e; i++) {
		char *p = xstrdup_printf("%s/%s", partial, use[i]->name);
		e = p ? write_file_atomic(p, use[i]->body.s, use[i]->body.len, 0644) : -ENOMEM;
		if (e && e != -ENOMEM)
			sb_addf(err, "%s: %s", p, strerror(-e));
		free(p);
	}
	return e;
}

/*
 * Appends the written bundle (manifest sha256 manifest) to the chain, then moves it into place.
 * Returns 0, -errno when it is not chained (the caller removes it), or 1 when it is chained but
 * not in place (the next export moves it).
 */
static int chain_and_place(struct ww_evidence *ev, const char manifest[65], const char *dir,
			   const char *state_dir, struct strbuf *err)
{
	struct ww_ev_record rec = {.seq = ev->seq, .time = ev->time, .bundle = (char *)dir};
	int e;

	memcpy(rec.manifest_sha256, manifest, 65);
	memcpy(rec.prev_sha256, ev->prev_sha256, 65);
	memcpy(rec.key_sha256, ev->key_sha256, 65);
	e = ww_evidence_snaps(ev, &rec.snaps, &rec.nsnaps);
	if (!e)
		e = ww_ev_chain_append(state_dir, &rec, err);
	for (size_t i = 0; i < rec.nsnaps; i++)
		free(rec.snaps[i].name);
	free(rec.snaps);
	if (e) {
		sb_add(err, " (the bundle was removed again: a bundle must be in the chain)");
		return e;
	}
	ww_stop_point("evidence-chained");
	e = ww_ev_bundle_place(dir, err);
	if (e) {
		sb_add(err, " (the chain has it: the next export moves it into place)");
		return 1; /* chained: keep .partial for the next export to finish */
	}
	ww_stop_point("evidence-placed");
	return 0;
}

int ww_evidence_write(struct ww_evidence *ev, unsigned int formats,
		      const uint8_t sk[WW_EV_SK_BYTES], const char *dir, const char *state_dir,
		      struct ww_ev_written *res, struct strbuf *err)
{
	/* The order is the manifest's: what oscal.json pins comes before it. */
	struct ww_ev_file f[6] = {{.name = "evidence.json"}, {.name = "report.html"},
				  {.name = WW_EV_PUB},	     {.name = "oscal.json"},
				  {.name = WW_EV_MANIFEST},  {.name = WW_EV_SIG}};
	struct ww_ev_file *use[6];
	char *partial = NULL;
	int n, e;

	ww_ev_fingerprint(sk + 32, ev->key_sha256); /* the public key is the secret key's tail */
	e = ww_ev_dir_ready(dir, err);
	if (e)
		return e;
	/* Built whole in "<dir>.partial", chained, then renamed into place: a crash leaves either
	 * no bundle, or a chained one that the next export moves into place (ww_ev_chain_finish),
	 * never a folder of some files. */
	if ((e = partial_mkdir(dir, &partial, err)))
		return e;
	n = print_files(ev, formats, sk, f, use);
	e = n < 0 ? n : write_files(partial, use, (size_t)n, err);
	if (!e) {
		ww_stop_point("evidence-written");
		e = chain_and_place(ev, f[4].sha256, dir, state_dir, err);
	}
	if (e < 0) {
		rm_tree(partial);
	} else if (e > 0) {
		e = -EIO;
	} else if (res) {
		res->seq = ev->seq;
		memcpy(res->manifest_sha256, f[4].sha256, 65);
		res->nfiles = (size_t)n;
	}
	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		sb_free(&f[i].body);
	free(partial);
	return e;
}

/* ---- verifying ---- */

struct bundle {
	const char *dir;
	bool read; /* the manifest was read and parsed */
	unsigned long seq;
	char sha256[65]; /* of manifest.json */
	char prev[65];	 /* previous_manifest_sha256, "" for none */
	bool ok;
	bool fleet; /* a fleet bundle (kind "fleet"): not chained */
};

static int read_in(const char *dir, const char *name, char **text, size_t *len)
{
	char *p = xstrdup_printf("%s/%s", dir, name);
	int e = p ? read_file(p, text, len) : -ENOMEM;

	free(p);
	return e;
}

static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* The signature first: it covers the manifest's bytes (text, parsed as m), whatever they say.
 * With pk NULL, the key the bundle carries. Returns the number of failures. */
static int check_signature(const struct bundle *b, const uint8_t *pk, const char *text, size_t len,
			   const cJSON *m, struct strbuf *bad, struct strbuf *warn)
{
	char *sig = NULL, *pub = NULL, fp[65];
	uint8_t key[WW_EV_PK_BYTES];
	const cJSON *x;
	int fails = 0, e;

	if (pk) {
		memcpy(key, pk, sizeof(key));
	} else if ((e = read_in(b->dir, WW_EV_PUB, &pub, NULL)) || ww_ev_pub_parse(pub, key)) {
		sb_addf(bad, "%s/%s: %s, and no --key given: nothing to check the signature with\n",
			b->dir, WW_EV_PUB, e == -ENOENT ? "missing" : "not an Ed25519 public key");
		free(pub);
		return 1;
	} else {
		sb_addf(warn,
			"%s: checked with the key the bundle carries (%s): pass --key with "
			"the public key you hold to know who signed it\n",
			b->dir, WW_EV_PUB);
	}
	free(pub);
	ww_ev_fingerprint(key, fp);
	x = m ? cJSON_GetObjectItemCaseSensitive(m, "key_sha256") : NULL;
	e = read_in(b->dir, WW_EV_SIG, &sig, NULL);
	if (e) {
		sb_addf(bad, "%s/%s: %s\n", b->dir, WW_EV_SIG,
			e == -ENOENT ? "missing: the bundle is unsigned" : strerror(-e));
		fails++;
	} else if ((e = ww_ev_verify_sig(key, text, len, sig))) {
		if (e == -EINVAL)
			sb_addf(bad, "%s/%s: not a base64 Ed25519 signature (changed)\n", b->dir,
				WW_EV_SIG);
		else if (cJSON_IsString(x) && strcmp(x->valuestring, fp))
			sb_addf(bad,
				"%s/%s: wrong key: signed by key %.16s..., checked with key "
				"%.16s...\n",
				b->dir, WW_EV_SIG, x->valuestring, fp);
		else
			sb_addf(bad,
				"%s/%s: the signature does not match %s (one of them was "
				"changed)\n",
				b->dir, WW_EV_SIG, WW_EV_MANIFEST);
		fails++;
	} else if (!cJSON_IsString(x) || strcmp(x->valuestring, fp)) {
		sb_addf(bad, "%s/%s: key_sha256 does not name the key that signed it\n", b->dir,
			WW_EV_MANIFEST);
		fails++;
	}
	free(sig);
	return fails;
}

/* Every listed file, byte for byte, and evidence.pub among them. Returns the number of
 * failures. */
static int check_files(const struct bundle *b, const cJSON *files, struct strbuf *bad)
{
	bool pub_listed = false;
	int fails = 0, e;

	for (const cJSON *f = files->child; f; f = f->next) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(f, "sha256");
		char *body = NULL, got[65];
		size_t blen;
		if (!cJSON_IsString(nm) || !cJSON_IsString(sh) || !plain_name(nm->valuestring)) {
			sb_addf(bad, "%s/%s: a file entry without a plain name and sha256\n",
				b->dir, WW_EV_MANIFEST);
			fails++;
			continue;
		}
		pub_listed |= !strcmp(nm->valuestring, WW_EV_PUB);
		e = read_in(b->dir, nm->valuestring, &body, &blen);
		if (e) {
			sb_addf(bad, "%s/%s: %s\n", b->dir, nm->valuestring,
				e == -ENOENT ? "missing (listed in the manifest)" : strerror(-e));
			fails++;
			continue;
		}
		sha256_hex(body, blen, got);
		free(body);
		if (strcmp(got, sh->valuestring)) {
			sb_addf(bad,
				"%s/%s: sha256 %.16s... differs from the manifest's %.16s... "
				"(changed after signing)\n",
				b->dir, nm->valuestring, got, sh->valuestring);
			fails++;
		}
	}
	if (!pub_listed) {
		sb_addf(bad, "%s/%s: does not list %s\n", b->dir, WW_EV_MANIFEST, WW_EV_PUB);
		fails++;
	}
	return fails;
}

/* Files the manifest does not cover prove nothing: say so. (A fleet bundle's gateways/ holds
 * the gateways' own bundles, pinned by its fleet.json: checked apart.) */
static void warn_unlisted(const struct bundle *b, const cJSON *files, struct strbuf *warn)
{
	DIR *d = opendir(b->dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		bool listed = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			      !strcmp(de->d_name, WW_EV_MANIFEST) ||
			      !strcmp(de->d_name, WW_EV_SIG) ||
			      (b->fleet && !strcmp(de->d_name, "gateways"));
		for (const cJSON *f = files->child; f && !listed; f = f->next) {
			const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
			listed = cJSON_IsString(nm) && !strcmp(nm->valuestring, de->d_name);
		}
		if (!listed)
			sb_addf(warn, "%s/%s: not in the manifest: not covered by the signature\n",
				b->dir, de->d_name);
	}
	if (d)
		closedir(d);
}

/* Checks one bundle's files and signature. Returns the number of failures. */
static int verify_one(struct bundle *b, const uint8_t *pk, struct strbuf *bad, struct strbuf *warn)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *m = NULL;
	const cJSON *x, *files;
	int fails, e;

	e = read_in(b->dir, WW_EV_MANIFEST, &text, &len);
	if (e) {
		sb_addf(bad, "%s/%s: %s\n", b->dir, WW_EV_MANIFEST,
			e == -ENOENT ? "missing: not an evidence bundle, or its manifest was "
				       "deleted"
				     : strerror(-e));
		return 1;
	}
	sha256_hex(text, len, b->sha256);
	m = cJSON_ParseWithLength(text, len);
	fails = check_signature(b, pk, text, len, m, bad, warn);
	x = m ? cJSON_GetObjectItemCaseSensitive(m, "format") : NULL;
	if (!cJSON_IsString(x) || strcmp(x->valuestring, WW_MANIFEST_FORMAT)) {
		sb_addf(bad, "%s/%s: not a %s manifest (changed, or not an evidence bundle)\n",
			b->dir, WW_EV_MANIFEST, WW_MANIFEST_FORMAT);
		fails++;
		goto out;
	}
	x = cJSON_GetObjectItemCaseSensitive(m, "seq");
	b->seq = cJSON_IsNumber(x) && x->valuedouble >= 1 ? (unsigned long)x->valuedouble : 0;
	x = cJSON_GetObjectItemCaseSensitive(m, "previous_manifest_sha256");
	snprintf(b->prev, sizeof(b->prev), "%s", cJSON_IsString(x) ? x->valuestring : "");
	b->read = b->seq > 0;
	if (!b->read) {
		sb_addf(bad, "%s/%s: no sequence number\n", b->dir, WW_EV_MANIFEST);
		fails++;
	}
	files = cJSON_GetObjectItemCaseSensitive(m, "files");
	if (!cJSON_IsArray(files) || !cJSON_GetArraySize(files)) {
		sb_addf(bad, "%s/%s: lists no files\n", b->dir, WW_EV_MANIFEST);
		fails++;
		goto out;
	}
	fails += check_files(b, files, bad);
	x = cJSON_GetObjectItemCaseSensitive(m, "kind");
	b->fleet = cJSON_IsString(x) && !strcmp(x->valuestring, "fleet");
	warn_unlisted(b, files, warn);
out:
	cJSON_Delete(m);
	free(text);
	return fails;
}

int ww_evidence_verify(const char *const *bundles, size_t n, const uint8_t *pk, struct strbuf *out,
		       struct strbuf *bad, struct strbuf *warn, bool *chain_unchecked)
{
	*chain_unchecked = false;
	struct bundle *b = calloc(n ? n : 1, sizeof(*b));
	int fails = 0;

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int f;
		struct strbuf reports = {0};
		b[i].dir = bundles[i];
		f = verify_one(&b[i], pk, bad, warn);
		f += ww_ev_incidents_verify(b[i].dir, &reports, bad);
		/* The link to the bundle given before it: by sequence when both manifests could be
		 * read, by the hash of its manifest's bytes whatever they say. */
		if (i && b[i].read) {
			const struct bundle *p = &b[i - 1];
			if (!*p->sha256) {
				sb_addf(bad, "%s: its link cannot be checked: %s has no manifest\n",
					b[i].dir, p->dir);
				f++;
			} else if (p->read && b[i].seq <= p->seq) {
				sb_addf(bad,
					"%s: out of order: bundle %lu given after bundle %lu "
					"(give bundles oldest first)\n",
					b[i].dir, b[i].seq, p->seq);
				f++;
			} else if (p->read && b[i].seq != p->seq + 1) {
				sb_addf(bad, "%s: missing link: bundle %lu follows bundle %lu; ",
					b[i].dir, b[i].seq, p->seq);
				if (b[i].seq - p->seq == 2)
					sb_addf(bad, "bundle %lu was not given\n", p->seq + 1);
				else
					sb_addf(bad, "bundles %lu to %lu were not given\n",
						p->seq + 1, b[i].seq - 1);
				f++;
			} else if (strcmp(b[i].prev, p->sha256)) {
				sb_addf(bad,
					"%s: broken link: its previous_manifest_sha256 %.16s... "
					"is not the sha256 of %s/%s (%.16s...)\n",
					b[i].dir, *b[i].prev ? b[i].prev : "(none)", p->dir,
					WW_EV_MANIFEST, p->sha256);
				f++;
			}
		}
		if (!f && b[i].fleet) {
			sb_addf(out,
				"ok %s: fleet bundle, every file matches the signed manifest\n",
				b[i].dir);
		} else if (!f) {
			bool unlinked = !i && *b[i].prev;
			sb_addf(out, "%s %s: bundle %lu, every file matches the signed manifest",
				unlinked ? "NOT CHECKED" : "ok", b[i].dir, b[i].seq);
			if (i) {
				sb_addf(out, ", follows bundle %lu", b[i - 1].seq);
			} else if (*b[i].prev) {
				/* Its files and signature are fine; whether it belongs to the chain
				 * is not known: that takes the bundle before it. */
				sb_addf(
				    out,
				    "; chain NOT CHECKED: its predecessor (bundle %lu, manifest "
				    "%.16s...) was not given",
				    b[i].seq - 1, b[i].prev);
				sb_addf(
				    warn,
				    "%s: the chain was not checked: give bundle %lu (or the whole "
				    "chain from bundle 1) before it\n",
				    b[i].dir, b[i].seq - 1);
				*chain_unchecked = true;
			} else {
				sb_add(out, ", first of its chain");
			}
			sb_add(out, "\n");
			sb_add(out, sb_str(&reports));
		}
		sb_free(&reports);
		fails += f;
	}
	free(b);
	return fails;
}
