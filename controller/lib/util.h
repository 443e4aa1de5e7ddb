/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every stage: growable strings and arrays, hashing. */
#ifndef WW_UTIL_H
#define WW_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A growable NUL-terminated string. A zeroed struct is an empty string. */
struct strbuf {
	char *s;
	size_t len, cap;
	bool oom; /* an append failed; the content is truncated */
};

void sb_add(struct strbuf *sb, const char *s);
void sb_addn(struct strbuf *sb, const char *s, size_t n);
/* s escaped for HTML text and attribute values (& < > " '). */
void sb_add_html(struct strbuf *o, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void sb_add_json_str(struct strbuf *sb, const char *s);
/* The same without the quotes: a piece of a string (escaping is per character). */
void sb_add_json_body(struct strbuf *sb, const char *s);
/* Returns the string (never NULL: "" when empty) and leaves sb empty; the caller frees it. */
char *sb_steal(struct strbuf *sb);
const char *sb_str(const struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);

/*
 * Grows *arr (elements of size elem) so that index n fits; *cap is its capacity.
 * Returns 0 or -ENOMEM, leaving the array untouched on failure.
 */
int vec_reserve(void *arr, size_t *cap, size_t n, size_t elem);
#define VEC_PUSH(arr, n, cap, val)                                                                 \
	(vec_reserve(&(arr), &(cap), (n) + 1, sizeof(*(arr))) ? -ENOMEM : ((arr)[(n)++] = (val), 0))

/* A newly allocated string, formatted; NULL when out of memory. The caller frees it. */
char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xstrdup_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* FNV-1a, for hash tables and content-addressed names (not for security). */
uint64_t fnv1a64(const void *data, size_t len, uint64_t seed);
#define FNV1A64_INIT 0xcbf29ce484222325ULL

/* Damerau-free Levenshtein distance, for "did you mean" hints. */
unsigned int edit_distance(const char *a, const char *b);
/* The candidate closest to word, or NULL when none is close enough to suggest. */
const char *suggest(const char *word, const char *const *cands, size_t n);

/* A set of strings (owned copies), for de-duplicating names. */
struct strset {
	char **slots;
	size_t n, cap;
};
/* Adds s; returns 1 if added, 0 if already present, -ENOMEM. */
int strset_add(struct strset *ss, const char *s);
bool strset_has(const struct strset *ss, const char *s);
void strset_free(struct strset *ss);

/* Reads a whole file (or stdin for "-"). Returns 0 or -errno; *out is NUL-terminated. */
int read_file(const char *path, char **out, size_t *len);
/* Reads a whole file that need not exist, such as a record of the state directory. Returns 1
 * with *out (NUL-terminated, the caller frees it) and *len (when len is not NULL) set, 0 when
 * there is no such file (*out NULL, *len 0), or -errno. */
int read_file_opt(const char *path, char **out, size_t *len);
/* read_file_opt of "<dir>/<name>". */
int read_file_in(const char *dir, const char *name, char **out, size_t *len);
/* Writes data to path atomically: a temporary file "<path>.tmp.<pid>", fsync, rename, fsync of
 * the directory, so after a crash path holds the old or the new content, never a part. Returns 0
 * or -errno. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned int mode);

/* Kills this process (SIGKILL) when $WARDWALL_STOP_AT names this point: crash tests stop apply
 * and evidence export at each step boundary (docs/architecture.md). */
void ww_stop_point(const char *name);

/* Who runs this: the user sudo was run by (SUDO_USER), else this process's user, else
 * "unknown"; for the records (history, quarantines). */
void ww_user_name(char *buf, size_t n);

/* Whether this process has capability cap (CAP_NET_ADMIN, CAP_BPF, ...) in its effective set;
 * true when the kernel cannot say. */
bool ww_has_cap(int cap);

/* fsync of a directory, so that a rename or unlink in it survives a crash. Returns 0 or -errno. */
int fsync_dir(const char *dir);

/* Removes path and everything below it, as far as it can (no error: best effort). */
void rm_tree(const char *path);

/* Grows a socket buffer (opt: SO_SNDBUF or SO_RCVBUF) to at least want bytes, with force
 * (SO_SNDBUFFORCE, SO_RCVBUFFORCE) to pass the sysctl limit as root, else opt. */
void set_sockbuf(int fd, int opt, int force, size_t want);

/* SHA-256 of data as 64 lowercase hex digits plus NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

/* A name the kernel accepts for a network interface (its dev_valid_name): 1-15 characters,
 * not "." or "..", no '/', ':', space or control character. */
bool ww_ifname_valid(const char *s);

#endif
