// SPDX-License-Identifier: GPL-2.0-only
/* The intent record and recovery from an interrupted apply (intent.h). */
#include "intent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "policy.h"
#include "timeutil.h"

static char *intent_path(struct ww_state *st)
{
	return xstrdup_printf("%s/intent.json", ww_state_dir(st));
}

int ww_intent_begin(struct ww_state *st, const struct ww_intent *in)
{
	struct strbuf sb = {0};
	char *path = intent_path(st);
	int e;

	sb_add(&sb, "{\"action\": ");
	sb_add_json_str(&sb, in->action);
	sb_addf(&sb, ", \"generation\": %lu, \"previous\": %lu, \"policy_sha256\": \"%s\"", in->gen,
		in->prev, in->policy_sha256);
	sb_add(&sb, ", \"source\": ");
	sb_add_json_str(&sb, in->source);
	sb_addf(&sb, ", \"restores\": %lu, \"bpffs\": ", in->restores);
	sb_add_json_str(&sb, in->bpffs);
	sb_addf(&sb, ", \"pid\": %d, \"time\": %lld}\n", in->pid, (long long)in->time);
	e = !path || sb.oom ? -ENOMEM : write_file_atomic(path, sb.s, sb.len, 0640);
	free(path);
	sb_free(&sb);
	return e;
}

static void copy_str(char *dst, size_t n, const cJSON *j)
{
	snprintf(dst, n, "%s", cJSON_IsString(j) ? j->valuestring : "");
}

static unsigned long num(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(j) && j->valuedouble >= 0 ? (unsigned long)j->valuedouble : 0;
}

int ww_intent_load(struct ww_state *st, struct ww_intent *in)
{
	char *text = NULL;
	cJSON *o;
	int e;

	memset(in, 0, sizeof(*in));
	e = read_file_in(ww_state_dir(st), "intent.json", &text, NULL);
	if (e <= 0)
		return e;
	o = cJSON_Parse(text);
	free(text);
	if (!o)
		return -EBADMSG;
	copy_str(in->action, sizeof(in->action), cJSON_GetObjectItemCaseSensitive(o, "action"));
	copy_str(in->policy_sha256, sizeof(in->policy_sha256),
		 cJSON_GetObjectItemCaseSensitive(o, "policy_sha256"));
	copy_str(in->source, sizeof(in->source), cJSON_GetObjectItemCaseSensitive(o, "source"));
	copy_str(in->bpffs, sizeof(in->bpffs), cJSON_GetObjectItemCaseSensitive(o, "bpffs"));
	in->gen = num(o, "generation");
	in->prev = num(o, "previous");
	in->restores = num(o, "restores");
	in->pid = (int)num(o, "pid");
	in->time = (int64_t)num(o, "time");
	cJSON_Delete(o);
	if (!in->gen || (strcmp(in->action, "apply") && strcmp(in->action, "rollback") &&
			 strcmp(in->action, "remove") && strcmp(in->action, "restore")))
		return -EBADMSG;
	return 1;
}

int ww_intent_end(struct ww_state *st)
{
	char *path = intent_path(st);
	int e = 0;

	if (!path)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		e = -errno;
	free(path);
	if (!e)
		e = fsync_dir(ww_state_dir(st));
	return e;
}

/* Applies generation gen's recorded policy again, recording it as generation rec_gen (0: the
 * next one). */
static int reapply(struct ww_state *st, unsigned long gen, const char *action,
		   const char *source, unsigned long restores, unsigned long rec_gen,
		   const char *bpffs, struct strbuf *err)
{
	struct ww_policy *p = NULL;
	struct ww_diags d = {.file = "generation"};
	struct ww_apply_result r;
	int e = ww_state_policy(st, gen, &p, &d);

	ww_diags_free(&d);
	if (e) {
		sb_addf(err, "generation %lu: %s", gen, strerror(-e));
		return e;
	}
	struct ww_apply_opts o = {.source = source, .action = action, .restores = restores,
				  .force = true, .bpffs = bpffs, .gen = rec_gen};
	e = ww_apply_locked(st, p, &o, &r, err);
	ww_policy_free(p);
	return e;
}

int ww_recover_locked(struct ww_state *st, const char *bpffs, struct ww_recovery *rec,
		      struct strbuf *err)
{
	struct ww_intent *in = &rec->intent;
	struct ww_generation cur;
	struct strbuf why = {0};
	int e;

	memset(rec, 0, sizeof(*rec));
	ww_state_clean_tmp(st);
	e = ww_intent_load(st, in);
	if (e < 0) {
		sb_addf(err, "%s/intent.json: %s", ww_state_dir(st),
			e == -EBADMSG ? "unreadable" : strerror(-e));
		return e;
	}
	if (e == 0)
		return 0;
	rec->found = true;
	e = ww_state_repair_history(st);
	if (e) {
		sb_addf(err, "%s/history.jsonl: %s", ww_state_dir(st), strerror(-e));
		return e;
	}
	if (in->bpffs[0])
		bpffs = in->bpffs;
	/* Forward first: the operator asked for this generation, and everything it needs is on
	 * disk (generations/<gen>.json was written before the kernel changed). */
	if (!strcmp(in->action, "remove")) {
		bool nft, xdp;
		e = ww_remove_locked(st, bpffs, in->gen, &nft, &xdp, &why);
	} else {
		e = reapply(st, in->gen, in->action, in->source, in->restores, in->gen, bpffs, &why);
	}
	if (!e) {
		rec->finished = true;
		goto done;
	}
	/* Back to what was there before, as a new generation of its own. */
	sb_addf(err, "finishing the interrupted %s of generation %lu failed (%s)", in->action,
		in->gen, sb_str(&why));
	sb_reset(&why);
	if (in->prev) {
		char src[32];
		snprintf(src, sizeof(src), "generation %lu", in->prev);
		e = reapply(st, in->prev, "rollback", src, in->prev, 0, bpffs, &why);
	} else {
		bool nft, xdp;
		e = ww_remove_locked(st, bpffs, 0, &nft, &xdp, &why);
	}
	if (e) {
		sb_addf(err, "; undoing it failed too: %s", sb_str(&why));
		sb_free(&why);
		return e;
	}
	sb_reset(err);
	rec->undone = true;
done:
	sb_free(&why);
	if (!ww_state_current(st, &cur))
		rec->gen = cur.gen;
	return 0;
}

int ww_recover(const char *state_dir, const char *bpffs, struct ww_recovery *rec,
	       struct strbuf *err)
{
	struct ww_state *st = NULL;
	struct strbuf busy = {0};
	int e;

	memset(rec, 0, sizeof(*rec));
	/* Cheap first look without the lock: nearly always there is nothing to do. */
	e = ww_state_open(state_dir, false, &st, err);
	if (e)
		return e;
	e = ww_intent_load(st, &rec->intent);
	ww_state_close(st);
	st = NULL;
	if (e == 0 || e == -EACCES || e == -EPERM)
		return 0; /* nothing to finish, or not ours to see (a reader without rights) */
	e = ww_state_open(state_dir, true, &st, &busy);
	sb_free(&busy);
	if (e == -EBUSY)
		return 0; /* a live apply holds the lock: its intent is not an interrupted one */
	if (e) {
		sb_addf(err, "taking the state lock to finish an interrupted apply: %s",
			strerror(-e));
		return e;
	}
	e = ww_recover_locked(st, bpffs, rec, err);
	ww_state_close(st);
	return e;
}
