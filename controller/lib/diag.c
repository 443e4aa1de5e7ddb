// SPDX-License-Identifier: GPL-2.0-only
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void ww_diag_add(struct ww_diags *d, enum ww_sev sev, const char *code, const char *ptr,
		 const char *hint, const char *fmt, ...)
{
	struct ww_diag x = {.sev = sev};
	va_list ap;

	va_start(ap, fmt);
	x.msg = xstrdup_vprintf(fmt, ap);
	va_end(ap);
	x.code = strdup(code);
	x.ptr = strdup(ptr ? ptr : "");
	x.hint = hint ? strdup(hint) : NULL;
	if (!x.msg || !x.code || !x.ptr || (hint && !x.hint) ||
	    vec_reserve(&d->v, &d->cap, d->n + 1, sizeof(*d->v))) {
		free(x.msg);
		free(x.code);
		free(x.ptr);
		free(x.hint);
		d->oom = true;
		if (sev == WW_ERROR)
			d->nerrors++;
		return;
	}
	d->v[d->n++] = x;
	if (sev == WW_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

void ww_diags_sort(struct ww_diags *d)
{
	/* Stable: errors first, each group in the order the checks found them, which follows the
	 * document. A merge by hand keeps it stable without relying on qsort. */
	struct ww_diag *tmp;
	size_t k = 0;

	if (d->n < 2)
		return;
	tmp = malloc(d->n * sizeof(*tmp));
	if (!tmp)
		return;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->n; i++)
			if ((d->v[i].sev == WW_ERROR) == (pass == 0))
				tmp[k++] = d->v[i];
	memcpy(d->v, tmp, d->n * sizeof(*tmp));
	free(tmp);
}

void ww_diags_print(const struct ww_diags *d, struct strbuf *out)
{
	const char *file = d->file ? d->file : "-";

	for (size_t i = 0; i < d->n; i++) {
		const struct ww_diag *x = &d->v[i];
		if (x->line > 0)
			sb_addf(out, "%s:%d:%d: ", file, x->line, x->col);
		else
			sb_addf(out, "%s: %s: ", file, *x->ptr ? x->ptr : "/");
		sb_addf(out, "%s: %s", x->sev == WW_ERROR ? "error" : "warning", x->msg);
		if (x->hint)
			sb_addf(out, " (did you mean \"%s\"?)", x->hint);
		sb_add(out, "\n");
	}
	if (d->oom)
		sb_add(out, "wardwall: out of memory: some diagnostics were lost\n");
}

void ww_diags_json(const struct ww_diags *d, struct strbuf *out)
{
	sb_add(out, "[");
	for (size_t i = 0; i < d->n; i++) {
		const struct ww_diag *x = &d->v[i];
		sb_add(out, i ? ",\n  {" : "\n  {");
		sb_addf(out, "\"severity\": \"%s\", \"code\": ",
			x->sev == WW_ERROR ? "error" : "warning");
		sb_add_json_str(out, x->code);
		sb_add(out, ", \"file\": ");
		sb_add_json_str(out, d->file ? d->file : "-");
		sb_add(out, ", \"pointer\": ");
		sb_add_json_str(out, x->ptr);
		if (x->line > 0)
			sb_addf(out, ", \"line\": %d, \"column\": %d", x->line, x->col);
		sb_add(out, ", \"message\": ");
		sb_add_json_str(out, x->msg);
		if (x->hint) {
			sb_add(out, ", \"hint\": ");
			sb_add_json_str(out, x->hint);
		}
		sb_add(out, "}");
	}
	sb_add(out, d->n ? "\n]" : "]");
}

void ww_diags_free(struct ww_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].code);
		free(d->v[i].ptr);
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->nerrors = d->nwarnings = 0;
}

char *ww_ptr_key(const char *base, const char *key)
{
	size_t nb = base ? strlen(base) : 0, n = nb + 2;
	char *r, *o;

	if (!base)
		return NULL;
	for (const char *p = key; *p; p++)
		n += *p == '~' || *p == '/' ? 2 : 1;
	if (!(r = malloc(n)))
		return NULL;
	memcpy(r, base, nb);
	o = r + nb;
	*o++ = '/';
	for (const char *p = key; *p; p++) { /* RFC 6901: ~ is ~0, / is ~1 */
		if (*p == '~' || *p == '/')
			*o++ = '~';
		*o++ = *p == '~' ? '0' : *p == '/' ? '1' : *p;
	}
	*o = '\0';
	return r;
}

char *ww_ptr_idx(const char *base, size_t idx)
{
	return base ? xstrdup_printf("%s/%zu", base, idx) : NULL;
}
