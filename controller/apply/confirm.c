// SPDX-License-Identifier: GPL-2.0-only
#include "confirm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy.h"
#include "timeutil.h"

extern char **environ;

const char *ww_state_dir_of(const char *dir)
{
	const char *env = getenv("WARDWALL_STATE_DIR");

	return dir ? dir : env && *env ? env : WW_STATE_DIR;
}

static char *pending_path(const char *state_dir, const char *name)
{
	return xstrdup_printf("%s/%s", ww_state_dir_of(state_dir), name);
}

static int pending_parse(const char *text, struct ww_pending *out)
{
	cJSON *j = cJSON_Parse(text);
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "generation");
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(j, "previous");
	const cJSON *dl = cJSON_GetObjectItemCaseSensitive(j, "deadline_unix");
	const cJSON *gd = cJSON_GetObjectItemCaseSensitive(j, "guard");
	int e = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (cJSON_IsNumber(g) && cJSON_IsNumber(pv) && cJSON_IsNumber(dl)) {
		out->gen = (unsigned long)g->valuedouble;
		out->previous = (unsigned long)pv->valuedouble;
		out->deadline = (int64_t)dl->valuedouble;
		if (cJSON_IsString(gd))
			snprintf(out->guard, sizeof(out->guard), "%s", gd->valuestring);
		e = 0;
	}
	cJSON_Delete(j);
	return e;
}

int ww_pending_load(const char *state_dir, struct ww_pending *out)
{
	char *path = pending_path(state_dir, "pending.json"), *text = NULL;
	int e = path ? read_file(path, &text, NULL) : -ENOMEM;

	if (!e)
		e = pending_parse(text, out);
	free(text);
	free(path);
	return e;
}

int ww_pending_save(const char *state_dir, const struct ww_pending *pd)
{
	char *path = pending_path(state_dir, "pending.json"), tb[WW_TIME_STRLEN];
	struct strbuf sb = {0};
	int e;

	sb_addf(&sb, "{\"generation\": %lu, \"previous\": %lu, \"deadline\": \"%s\", "
		     "\"deadline_unix\": %lld, \"guard\": ",
		pd->gen, pd->previous, ww_time_str(pd->deadline, tb), (long long)pd->deadline);
	sb_add_json_str(&sb, pd->guard);
	sb_add(&sb, "}\n");
	e = !path || sb.oom ? -ENOMEM : write_file_atomic(path, sb.s, sb.len, 0600);
	sb_free(&sb);
	free(path);
	return e;
}

int ww_pending_claim(const char *state_dir, struct ww_pending *pd)
{
	char *from = pending_path(state_dir, "pending.json");
	char *to = xstrdup_printf("%s.claimed.%d", from ? from : "", (int)getpid());
	char *text = NULL;
	int e = 0;

	if (!from || !to) {
		e = -ENOMEM;
	} else if (rename(from, to) < 0) {
		e = -errno;
	} else {
		e = read_file(to, &text, NULL);
		if (!e)
			e = pending_parse(text, pd);
		unlink(to);
	}
	free(text);
	free(from);
	free(to);
	return e;
}

int ww_rollback_to(const char *state_dir, const char *bpffs, unsigned long target,
		   struct ww_apply_result *r, struct strbuf *err)
{
	struct ww_apply_result ignored;
	struct ww_state *st = NULL;
	struct ww_policy *p = NULL;
	struct ww_diags d = {.file = "generation"};
	char src[48];
	int e;

	if (!r)
		r = &ignored;
	memset(r, 0, sizeof(*r));
	if (!target) {
		bool nft, xdp;
		return ww_remove(state_dir, bpffs, &nft, &xdp, err);
	}
	e = ww_state_open(state_dir, false, &st, err);
	if (!e) {
		e = ww_state_policy(st, target, &p, &d);
		if (e)
			sb_addf(err, "generation %lu: %s", target, strerror(-e));
	}
	ww_state_close(st);
	ww_diags_free(&d);
	if (e)
		return e;
	snprintf(src, sizeof(src), "generation %lu", target);
	struct ww_apply_opts o = {.state_dir = state_dir, .source = src, .action = "rollback",
				  .restores = target, .force = true, .bpffs = bpffs};
	/* Another apply may hold the lock for a moment: the rollback must still happen. */
	for (int i = 0; i < 600; i++) {
		sb_reset(err);
		e = ww_apply(p, &o, r, err);
		if (e != -EBUSY)
			break;
		usleep(100 * 1000);
	}
	ww_policy_free(p);
	return e;
}

/* systemd runs the machine: PID 1 is systemd (its runtime directory exists). */
static bool systemd_runs(void)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/1/comm", "re");

	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	return !access("/run/systemd/system", F_OK) && !strncmp(comm, "systemd", 7);
}

static int spawn(char *const argv[], bool wait, pid_t *pid, struct strbuf *err)
{
	posix_spawnattr_t a;
	posix_spawn_file_actions_t fa;
	int e;

	posix_spawnattr_init(&a);
	posix_spawn_file_actions_init(&fa);
	if (!wait) {
		/* Its own session: a hang-up of the SSH session does not reach it. */
		posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSID);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	e = posix_spawn(pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	if (e) {
		sb_addf(err, "starting %s: %s", argv[0], strerror(e));
		return -e;
	}
	if (wait) {
		int status;
		if (waitpid(*pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			sb_addf(err, "%s failed", argv[0]);
			return -EIO;
		}
	}
	return 0;
}

int ww_confirm_guard_start(const char *self, const char *state_dir, const char *bpffs,
			   struct ww_pending *pd, struct strbuf *err)
{
	const char *dir = ww_state_dir_of(state_dir);
	char gen[24], *guard_log = xstrdup_printf("%s/confirm.log", dir);
	pid_t pid;
	int e;

	snprintf(gen, sizeof(gen), "%lu", pd->gen);
	if (!guard_log)
		return -ENOMEM;
	if (systemd_runs() && !strcmp(dir, WW_STATE_DIR)) {
		char unit[64], when[32];
		snprintf(unit, sizeof(unit), "wardwall-confirm-%lu", pd->gen);
		snprintf(when, sizeof(when), "--on-active=%llds",
			 (long long)(pd->deadline - (int64_t)time(NULL)));
		char *argv[] = {"/usr/bin/systemd-run", "--quiet", "--collect",
				"--unit", unit, when, "--timer-property=AccuracySec=100ms",
				(char *)self, "confirm", "--guard", "--generation", gen,
				"--state-dir", (char *)dir, NULL, NULL, NULL};
		if (bpffs) {
			argv[14] = "--bpffs";
			argv[15] = (char *)bpffs;
		}
		e = spawn(argv, true, &pid, err);
		if (!e)
			snprintf(pd->guard, sizeof(pd->guard), "systemd timer %s", unit);
	} else {
		/* The guard's standard error, where it says what it did, is confirm.log. */
		int fd = open(guard_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int saved = fd >= 0 ? dup(2) : -1;
		char *argv[] = {(char *)self, "confirm", "--guard", "--generation", gen,
				"--state-dir", (char *)dir, NULL, NULL, NULL};
		if (bpffs) {
			argv[7] = "--bpffs";
			argv[8] = (char *)bpffs;
		}
		if (fd >= 0 && saved >= 0)
			dup2(fd, 2);
		e = spawn(argv, false, &pid, err);
		if (fd >= 0 && saved >= 0) {
			dup2(saved, 2);
			close(saved);
		}
		if (fd >= 0)
			close(fd);
		if (!e)
			snprintf(pd->guard, sizeof(pd->guard), "process %d", (int)pid);
	}
	free(guard_log);
	return e;
}

int ww_confirm_guard_wait(const char *state_dir, const char *bpffs, unsigned long gen,
			  bool *rolled_back, struct strbuf *out, struct strbuf *err)
{
	struct ww_pending pd;
	char tb[WW_TIME_STRLEN], tb2[WW_TIME_STRLEN];
	int e;

	*rolled_back = false;
	for (;;) {
		e = ww_pending_load(state_dir, &pd);
		if (e == -ENOENT || (!e && pd.gen != gen)) {
			sb_addf(out, "generation %lu: confirmed (or superseded); nothing to roll back\n",
				gen);
			return 0;
		}
		if (e)
			return e;
		if ((int64_t)time(NULL) >= pd.deadline)
			break;
		usleep(100 * 1000);
	}
	e = ww_pending_claim(state_dir, &pd);
	if (e == -ENOENT) {
		sb_addf(out, "generation %lu: confirmed at the deadline; nothing to roll back\n", gen);
		return 0;
	}
	if (e)
		return e;
	*rolled_back = true;
	e = ww_rollback_to(state_dir, bpffs, pd.previous, NULL, err);
	if (!e && pd.previous)
		sb_addf(out, "%s: generation %lu was not confirmed by %s: rolled back to generation "
			     "%lu\n",
			ww_time_str((int64_t)time(NULL), tb), pd.gen, ww_time_str(pd.deadline, tb2),
			pd.previous);
	else if (!e)
		sb_addf(out, "%s: generation %lu was not confirmed by %s: removed (nothing was "
			     "applied before it)\n",
			ww_time_str((int64_t)time(NULL), tb), pd.gen, ww_time_str(pd.deadline, tb2));
	return e;
}

int ww_confirm_resume(const char *self, const char *state_dir, const char *bpffs,
		      unsigned long current, struct ww_pending *pd, const char **what,
		      struct strbuf *out, struct strbuf *err)
{
	char tb[WW_TIME_STRLEN];
	bool rolled_back;
	int e;

	*what = "none";
	e = ww_pending_load(state_dir, pd);
	if (e == -ENOENT || (!e && pd->gen != current))
		return 0; /* nothing pending, or a record the next guard will call superseded */
	if (e) {
		sb_addf(err, "%s/pending.json: %s", ww_state_dir_of(state_dir), strerror(-e));
		return e;
	}
	if ((int64_t)time(NULL) >= pd->deadline) {
		e = ww_confirm_guard_wait(state_dir, bpffs, pd->gen, &rolled_back, out, err);
		if (!e && rolled_back)
			*what = "rolled-back";
		return e;
	}
	e = ww_confirm_guard_start(self, state_dir, bpffs, pd, err);
	if (!e)
		e = ww_pending_save(state_dir, pd);
	if (!e) {
		*what = "guarded";
		sb_addf(out, "generation %lu is still waiting for `wardwall confirm`: rolled back at %s "
			     "unless confirmed (%s)\n",
			pd->gen, ww_time_str(pd->deadline, tb), pd->guard);
	}
	return e;
}
