// SPDX-License-Identifier: GPL-2.0-only
/*
 * The raw text of a policy, checked string by string before any member is read (policy_scan.h).
 * cJSON decodes "\u0000" into a C string that simply ends there, so "ehr\u0000/his" would be read
 * as zone "ehr": this pass sees the escapes cJSON hides, and names each string by JSON pointer.
 * It runs on text cJSON has accepted, so the structure can be trusted.
 */
#include "policy_scan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct frame {
	bool obj;
	bool want_key; /* in an object, the next string is a member name */
	size_t idx;    /* in an array, the current element */
	char *ptr;     /* this container's pointer */
	char *key;     /* in an object, the current member's name */
};

struct scan {
	const char *text, *end;
	struct ww_diags *d;
	struct frame *st;
	size_t n, cap;
	bool oom;
};

/* A problem found in one string: the first control character, or the first bad byte. */
struct str_info {
	struct strbuf val; /* decoded, control characters written as \uXXXX so it can be printed */
	long ctrl;         /* first control character, or -1 */
	const char *bad;   /* first byte of invalid UTF-8, or NULL */
	const char *esc;   /* first escape JSON does not have (\q, \u not before 4 hex digits) */
};

/* Free text may hold tab and line breaks; every other string is a name, an identifier, an
 * address or a keyword, where a control character has no business. */
static bool free_text(const char *key)
{
	static const char *const text_keys[] = {"description", "owner", "ticket"};

	for (size_t i = 0; key && i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
		if (!strcmp(key, text_keys[i]))
			return true;
	return false;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A string of printable ASCII without escapes, the usual case, read at once: returns the byte
 * after its closing quote (its text in si->val when want), else NULL. */
static const char *plain_string(struct scan *s, const char *p, struct str_info *si, bool want)
{
	const char *q = p + 1;

	while (q < s->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20 &&
	       (unsigned char)*q < 0x7f)
		q++;
	if (q >= s->end || *q != '"')
		return NULL;
	si->ctrl = -1;
	si->bad = NULL;
	si->esc = NULL;
	if (want) {
		sb_addn(&si->val, p + 1, (size_t)(q - p - 1));
		if (si->val.oom)
			s->oom = true;
	}
	return q + 1;
}

/* Reads the string whose opening quote is at p; returns the byte after its closing quote. Its
 * decoded text is in si->val when want, or when it has a problem to report. */
static const char *read_string(struct scan *s, const char *p, struct str_info *si, bool want)
{
	const char *end = s->end, *plain = plain_string(s, p, si, want);

	if (plain)
		return plain;
	si->ctrl = -1;
	si->bad = NULL;
	si->esc = NULL;
	for (p++; p < end && *p != '"';) {
		unsigned char ch = (unsigned char)*p;
		long cp = -1;
		size_t n;

		if (ch == '\\' && p + 1 < end) {
			char e = p[1];
			p += 2;
			if (e == 'u' && end - p >= 4) {
				cp = 0;
				for (int i = 0; i < 4 && cp >= 0; i++)
					cp = hexval(p[i]) < 0 ? -1 : cp << 4 | hexval(p[i]);
				if (cp < 0) {
					/* Not JSON: kept as written, and said. */
					si->esc = si->esc ? si->esc : p - 2;
					sb_add(&si->val, "\\u");
					continue;
				}
				p += 4;
			} else {
				if (!e || !strchr("\"\\/bfnrt", e))
					si->esc = si->esc ? si->esc : p - 2;
				cp = e == 'b' ? 8 : e == 'f' ? 12 : e == 'n' ? 10 : e == 'r' ? 13
				   : e == 't' ? 9 : e;
			}
			if (cp < 0x20 || cp == 0x7f) {
				if (si->ctrl < 0)
					si->ctrl = cp;
				sb_addf(&si->val, "\\u%04lx", cp);
			} else if (cp < 0x80) {
				sb_addn(&si->val, (char[]){(char)cp}, 1);
			} else if (cp < 0x800) {
				sb_addn(&si->val, (char[]){(char)(0xc0 | cp >> 6), (char)(0x80 | (cp & 0x3f))}, 2);
			} else if (cp < 0xd800 || cp > 0xdfff) {
				sb_addn(&si->val,
					(char[]){(char)(0xe0 | cp >> 12), (char)(0x80 | (cp >> 6 & 0x3f)),
						 (char)(0x80 | (cp & 0x3f))},
					3);
			} else {
				sb_addf(&si->val, "\\u%04lx", cp);
			}
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			if (si->ctrl < 0)
				si->ctrl = ch;
			sb_addf(&si->val, "\\u%04x", ch);
			p++;
			continue;
		}
		n = utf8_len((const unsigned char *)p, (const unsigned char *)end);
		if (!n) {
			if (!si->bad)
				si->bad = p;
			sb_addf(&si->val, "\\x%02x", ch);
			p++;
			continue;
		}
		sb_addn(&si->val, p, n);
		p += n;
	}
	if (si->val.oom)
		s->oom = true;
	return p < end ? p + 1 : end;
}

/* The pointer of the value about to be read in the innermost container. */
static char *value_ptr(struct scan *s)
{
	struct frame *f = s->n ? &s->st[s->n - 1] : NULL;
	char *r;

	if (!f)
		r = strdup("");
	else if (f->obj)
		r = ww_ptr_key(f->ptr, f->key ? f->key : "");
	else
		r = ww_ptr_idx(f->ptr, f->idx);
	if (!r)
		s->oom = true;
	return r;
}

static void line_col(struct scan *s, const char *at, struct ww_diag *x)
{
	x->line = 1;
	x->col = 1;
	for (const char *p = s->text; p < at; p++)
		if (*p == '\n')
			x->line++, x->col = 1;
		else
			x->col++;
}

static void report(struct scan *s, const char *ptr, bool key, const char *mkey,
		   struct str_info *si)
{
	const char *v = sb_str(&si->val);

	if (si->esc) {
		size_t n0 = s->d->n;
		ww_err(s->d, "invalid-escape", ptr ? ptr : "",
		       "%s \"%s\" has the escape \"%.2s\", which JSON does not have: a backslash "
		       "comes before one of \" \\ / b f n r t, or u and four hex digits",
		       key ? "member name" : "string", v, si->esc);
		if (s->d->n > n0)
			line_col(s, si->esc, &s->d->v[s->d->n - 1]);
		return;
	}
	if (si->bad) {
		size_t n0 = s->d->n;
		ww_err(s->d, "invalid-utf8", ptr ? ptr : "",
		       "%s \"%s\" is not valid UTF-8 (byte 0x%02x): a policy is UTF-8 text",
		       key ? "member name" : "string", v, (unsigned char)*si->bad);
		if (s->d->n > n0)
			line_col(s, si->bad, &s->d->v[s->d->n - 1]);
		return;
	}
	if (si->ctrl < 0)
		return;
	if (!key && free_text(mkey)) {
		if (si->ctrl == '\t' || si->ctrl == '\n' || si->ctrl == '\r')
			return;
		ww_err(s->d, "control-character", ptr ? ptr : "",
		       "text \"%s\" contains the control character U+%04lX: text may hold tabs and "
		       "line breaks, no other control character",
		       v, si->ctrl);
		return;
	}
	ww_err(s->d, "control-character", ptr ? ptr : "",
	       "%s \"%s\" contains the control character U+%04lX: names, identifiers and keywords "
	       "may not contain control characters",
	       key ? "member name" : "string", v, si->ctrl);
}

static int push(struct scan *s, bool obj)
{
	char *ptr = value_ptr(s);

	if (!ptr)
		return -ENOMEM;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct frame *st = realloc(s->st, cap * sizeof(*st));
		if (!st) {
			free(ptr);
			return -ENOMEM;
		}
		s->st = st;
		s->cap = cap;
	}
	s->st[s->n++] = (struct frame){.obj = obj, .want_key = obj, .ptr = ptr};
	return 0;
}

static void pop(struct scan *s)
{
	if (!s->n)
		return;
	s->n--;
	free(s->st[s->n].ptr);
	free(s->st[s->n].key);
}

int ww_policy_scan(const char *text, size_t len, struct ww_diags *d)
{
	struct scan s = {.text = text, .end = text + len, .d = d};
	size_t errors0 = d->nerrors;
	const char *p = text;
	int err = 0;

	while (!err && !s.oom && p < s.end) {
		struct frame *f = s.n ? &s.st[s.n - 1] : NULL;
		struct str_info si = {0};

		switch (*p) {
		case '{':
		case '[':
			err = push(&s, *p == '{');
			p++;
			break;
		case '}':
		case ']':
			pop(&s);
			p++;
			break;
		case ',':
			if (f && f->obj)
				f->want_key = true;
			else if (f)
				f->idx++;
			p++;
			break;
		case ':':
			if (f)
				f->want_key = false;
			p++;
			break;
		case '"':
			p = read_string(&s, p, &si, f && f->obj && f->want_key);
			if (f && f->obj && f->want_key) {
				report(&s, f->ptr, true, NULL, &si);
				free(f->key);
				f->key = sb_steal(&si.val);
				if (!f->key)
					s.oom = true;
			} else if (si.bad || si.esc || si.ctrl >= 0) { /* its pointer only when said */
				char *ptr = value_ptr(&s);
				report(&s, ptr, false, f && f->obj ? f->key : NULL, &si);
				free(ptr);
			}
			break;
		default:
			p++;
		}
		sb_free(&si.val);
	}
	while (s.n)
		pop(&s);
	free(s.st);
	if (err || s.oom || d->oom)
		return -ENOMEM;
	return d->nerrors > errors0 ? -EINVAL : 0;
}
