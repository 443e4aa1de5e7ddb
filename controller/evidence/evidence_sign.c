// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence keys and signatures: Ed25519 through libsodium (crypto_sign_*), already linked for
 * SHA-256. Keys are stored in the PEM forms OpenSSL and Python's cryptography read (PKCS#8 for
 * the private key, SubjectPublicKeyInfo for the public key), so an auditor can check a
 * signature without wardwall, and a key made by `openssl genpkey -algorithm ed25519` works here.
 */
#include "evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The DER prefixes of RFC 8410 Ed25519 keys; the 32 key bytes follow. */
static const uint8_t spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

void ww_ev_base64(const void *data, size_t n, struct strbuf *out)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b = malloc(len);

	if (!b) {
		out->oom = true;
		return;
	}
	sodium_bin2base64(b, len, data, n, sodium_base64_VARIANT_ORIGINAL);
	sb_add(out, b);
	free(b);
}

int ww_ev_unbase64(const char *s, size_t len, uint8_t *out, size_t max, size_t *n)
{
	const char *end;

	if (sodium_base642bin(out, max, s, len, " \t\r\n", n, &end,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    end != s + len)
		return -EINVAL;
	return 0;
}

/* The DER bytes between "-----BEGIN <label>-----" and "-----END <label>-----". */
static int pem_decode(const char *text, const char *label, uint8_t *der, size_t max, size_t *n)
{
	char begin[64], end[64];
	const char *b, *e;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	b = strstr(text, begin);
	if (!b)
		return -EINVAL;
	b += strlen(begin);
	e = strstr(b, end);
	if (!e)
		return -EINVAL;
	return ww_ev_unbase64(b, (size_t)(e - b), der, max, n);
}

static void pem_encode(const char *label, const uint8_t *der, size_t n, struct strbuf *out)
{
	struct strbuf b = {0};

	ww_ev_base64(der, n, &b);
	sb_addf(out, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < b.len; i += 64) {
		sb_addn(out, b.s + i, b.len - i < 64 ? b.len - i : 64);
		sb_add(out, "\n");
	}
	sb_addf(out, "-----END %s-----\n", label);
	if (b.oom)
		out->oom = true;
	sb_free(&b);
}

void ww_ev_pub_pem(const uint8_t pk[WW_EV_PK_BYTES], struct strbuf *out)
{
	uint8_t der[sizeof(spki_prefix) + WW_EV_PK_BYTES];

	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + sizeof(spki_prefix), pk, WW_EV_PK_BYTES);
	pem_encode("PUBLIC KEY", der, sizeof(der), out);
}

int ww_ev_pub_parse(const char *text, uint8_t pk[WW_EV_PK_BYTES])
{
	uint8_t der[128];
	size_t n;

	if (pem_decode(text, "PUBLIC KEY", der, sizeof(der), &n) ||
	    n != sizeof(spki_prefix) + WW_EV_PK_BYTES ||
	    memcmp(der, spki_prefix, sizeof(spki_prefix)))
		return -EINVAL;
	memcpy(pk, der + sizeof(spki_prefix), WW_EV_PK_BYTES);
	return 0;
}

void ww_ev_fingerprint(const uint8_t pk[WW_EV_PK_BYTES], char out[65])
{
	sha256_hex(pk, WW_EV_PK_BYTES, out);
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

int ww_ev_keygen(const char *dir, bool force, char fingerprint[65], struct strbuf *err)
{
	uint8_t pk[WW_EV_PK_BYTES], sk[WW_EV_SK_BYTES], der[sizeof(pkcs8_prefix) + 32];
	char *kp = xstrdup_printf("%s/evidence.key", dir),
	     *pp = xstrdup_printf("%s/evidence.pub", dir);
	struct strbuf key = {0}, pub = {0};
	int e = 0;

	if (!kp || !pp) {
		e = -ENOMEM;
		goto out;
	}
	if (sodium_init() < 0) {
		sb_addf(err, "libsodium failed to initialise");
		e = -EIO;
		goto out;
	}
	if (!force && (exists(kp) || exists(pp))) {
		sb_addf(err,
			"%s exists: keeping it (--force replaces the key pair; bundles signed "
			"with the old key then need the old evidence.pub to verify)",
			exists(kp) ? kp : pp);
		e = -EEXIST;
		goto out;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		e = -errno;
		sb_addf(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	/* libsodium's secret key is the 32-byte seed followed by the public key. */
	memcpy(der, pkcs8_prefix, sizeof(pkcs8_prefix));
	memcpy(der + sizeof(pkcs8_prefix), sk, 32);
	pem_encode("PRIVATE KEY", der, sizeof(der), &key);
	ww_ev_pub_pem(pk, &pub);
	if (key.oom || pub.oom) {
		e = -ENOMEM;
		goto out;
	}
	e = write_file_atomic(kp, key.s, key.len, 0600);
	if (e) {
		sb_addf(err, "%s: %s", kp, strerror(-e));
		goto out;
	}
	e = write_file_atomic(pp, pub.s, pub.len, 0644);
	if (e) {
		sb_addf(err, "%s: %s", pp, strerror(-e));
		goto out;
	}
	ww_ev_fingerprint(pk, fingerprint);
out:
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(der, sizeof(der));
	if (key.s)
		sodium_memzero(key.s, key.cap);
	sb_free(&key);
	sb_free(&pub);
	free(kp);
	free(pp);
	return e;
}

int ww_ev_key_load(const char *path, uint8_t sk[WW_EV_SK_BYTES], struct strbuf *err)
{
	uint8_t der[128], pk[WW_EV_PK_BYTES];
	char *text;
	size_t len, n;
	int e;

	if (sodium_init() < 0) {
		sb_addf(err, "libsodium failed to initialise");
		return -EIO;
	}
	/* Like ssh: a signing key others can read proves nothing about who signed. */
	struct stat st;
	if (!stat(path, &st) && (st.st_mode & 077)) {
		sb_addf(err,
			"%s: the private key is accessible by group or others (mode %04o): refusing "
			"to sign with it; chmod 600 %s",
			path, (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	e = read_file(path, &text, &len);
	if (e) {
		sb_addf(err, "%s: %s%s", path, strerror(-e),
			e == -ENOENT ? " (make a key pair with `wardwall evidence keygen`)" : "");
		return e;
	}
	e = pem_decode(text, "PRIVATE KEY", der, sizeof(der), &n);
	if (!e &&
	    (n != sizeof(pkcs8_prefix) + 32 || memcmp(der, pkcs8_prefix, sizeof(pkcs8_prefix))))
		e = -EINVAL;
	if (e)
		sb_addf(err, "%s: not an Ed25519 private key in PKCS#8 PEM form", path);
	else
		crypto_sign_seed_keypair(pk, sk, der + sizeof(pkcs8_prefix));
	sodium_memzero(der, sizeof(der));
	sodium_memzero(text, len);
	free(text);
	return e;
}

int ww_ev_pub_load(const char *path, uint8_t pk[WW_EV_PK_BYTES], struct strbuf *err)
{
	char *text;
	int e = read_file(path, &text, NULL);

	if (e) {
		sb_addf(err, "%s: %s", path, strerror(-e));
		return e;
	}
	e = ww_ev_pub_parse(text, pk);
	if (e)
		sb_addf(err,
			"%s: not an Ed25519 public key in PEM form (-----BEGIN PUBLIC KEY-----)",
			path);
	free(text);
	return e;
}

void ww_ev_sign(const uint8_t sk[WW_EV_SK_BYTES], const void *data, size_t len, struct strbuf *out)
{
	uint8_t sig[WW_EV_SIG_BYTES];

	crypto_sign_detached(sig, NULL, data, len, sk);
	ww_ev_base64(sig, sizeof(sig), out);
	sb_add(out, "\n");
}

int ww_ev_verify_sig(const uint8_t pk[WW_EV_PK_BYTES], const void *data, size_t len,
		     const char *sig)
{
	uint8_t raw[WW_EV_SIG_BYTES + 4];
	size_t n;

	if (sodium_init() < 0)
		return -EIO;
	if (ww_ev_unbase64(sig, strlen(sig), raw, sizeof(raw), &n) || n != WW_EV_SIG_BYTES)
		return -EINVAL;
	return crypto_sign_verify_detached(raw, data, len, pk) ? -EBADMSG : 0;
}
