// SPDX-License-Identifier: GPL-2.0-only
/* Counter snapshots (<state dir>/snapshots.jsonl): the bound on how many the file keeps and
 * which go, the comparison with the last one taken at or before a date, read from the file's
 * end, a torn last line, a line written by hand, and when a no-op apply takes one. */
#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

#include "snapshot.h"

#define HOUR 3600

/* A fresh state directory (the caller frees the path). */
static char *state_dir(void)
{
	char *dir = strdup("/tmp/ww-snapshot-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

/* One snapshot of two flows, a and b, at time t. */
static void append(const char *dir, int64_t t, uint64_t a, uint64_t b)
{
	const char *ids[] = {"a", "b"};
	const uint64_t nft[] = {a, b}, xdp[] = {0, 0};
	struct strbuf err = {0};

	assert_int_equal(ww_snapshot_append(dir, t, ids, nft, xdp, 2, &err), 0);
	sb_free(&err);
}

/* The times of the snapshots in the file, in its order; returns how many. */
static size_t file_times(const char *dir, int64_t *t, size_t max)
{
	char *text = NULL, *save = NULL;
	size_t n = 0;

	assert_int_equal(read_file_in(dir, "snapshots.jsonl", &text, NULL), 1);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		assert_true(n < max);
		const char *tm = strstr(l, "\"time\": ");
		assert_non_null(tm);
		assert_int_equal(sscanf(tm, "\"time\": %ld", &t[n]), 1);
		n++;
	}
	free(text);
	return n;
}

static void bounded(void **state)
{
	char *dir = state_dir();
	int64_t t[64], t0 = 1700000000;

	setenv("WARDWALL_SNAPSHOTS", "8", 1);
	for (int i = 0; i < 40; i++) /* one an hour */
		append(dir, t0 + i * HOUR, (uint64_t)i, 0);
	assert_int_equal(file_times(dir, t, 64), 8);
	assert_int_equal(t[0], t0);		/* the oldest stays */
	assert_int_equal(t[7], t0 + 39 * HOUR); /* and the newest */
	/* In order, and denser towards now: each gap at most the one before it. */
	for (int i = 1; i < 8; i++)
		assert_true(t[i] > t[i - 1]);
	for (int i = 2; i < 8; i++)
		assert_true(t[i] - t[i - 1] <= t[i - 1] - t[i - 2]);
	/* A lower bound later drops the surplus at the next append; garbage keeps the default. */
	setenv("WARDWALL_SNAPSHOTS", "3", 1);
	append(dir, t0 + 40 * HOUR, 40, 0);
	assert_int_equal(file_times(dir, t, 64), 3);
	assert_int_equal(t[0], t0);
	assert_int_equal(t[2], t0 + 40 * HOUR);
	setenv("WARDWALL_SNAPSHOTS", "1", 1);
	assert_int_equal(ww_snapshot_keep(), WW_SNAPSHOTS_KEEP);
	setenv("WARDWALL_SNAPSHOTS", "12x", 1);
	assert_int_equal(ww_snapshot_keep(), WW_SNAPSHOTS_KEEP);
	unsetenv("WARDWALL_SNAPSHOTS");
	rm_tree(dir);
	free(dir);
}

/* stats --unused's comparison: flows a (now 10 packets) and b (now 7) against the snapshot
 * taken at or before since. */
static int64_t usage(const char *dir, int64_t since, enum ww_usage *a, enum ww_usage *b)
{
	struct ww_flow_stat f[2] = {{.id = "a", .nft = {.present = true, .packets = 10}},
				    {.id = "b", .nft = {.present = true, .packets = 7}}};
	struct ww_collect c = {.flows = f, .nflows = 2};
	struct ww_flow_usage u[2];
	struct strbuf err = {0};
	int64_t snap = -1;

	assert_int_equal(ww_snapshot_usage(dir, &c, since, u, &snap, &err), 0);
	*a = u[0].state;
	*b = u[1].state;
	sb_free(&err);
	return snap;
}

static void compared(void **state)
{
	char *dir = state_dir();
	enum ww_usage a, b;

	assert_int_equal(usage(dir, 5000, &a, &b), 0); /* no file: no snapshot */
	assert_int_equal(a, WW_USAGE_UNKNOWN);
	append(dir, 1000, 4, 7);
	append(dir, 2000, 10, 3);
	append(dir, 3000, 10, 7);
	assert_int_equal(usage(dir, 999, &a, &b), 0); /* none at or before */
	assert_int_equal(usage(dir, 1500, &a, &b), 1000);
	assert_int_equal(a, WW_USAGE_USED);
	assert_int_equal(b, WW_USAGE_UNUSED);
	assert_int_equal(usage(dir, 2000, &a, &b), 2000);
	assert_int_equal(a, WW_USAGE_UNUSED);
	assert_int_equal(b, WW_USAGE_USED);
	assert_int_equal(usage(dir, 9999, &a, &b), 3000);
	assert_int_equal(ww_snapshot_newest(dir), 3000);
	rm_tree(dir);
	free(dir);
}

/* Writes text at the end of the file, as a crash or another writer would have left it. */
static void add_raw(const char *dir, const char *text)
{
	char *path = xstrdup_printf("%s/snapshots.jsonl", dir);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	free(path);
}

static void torn_and_by_hand(void **state)
{
	char *dir = state_dir();
	enum ww_usage a, b;

	append(dir, 1000, 4, 7);
	add_raw(dir, "{\"time\": 1500, \"flows\": {\"a\": [1"); /* torn: no end, no newline */
	append(dir, 2000, 10, 3);				/* still read: it starts a line */
	assert_int_equal(usage(dir, 2500, &a, &b), 2000);
	assert_int_equal(a, WW_USAGE_UNUSED);
	assert_int_equal(usage(dir, 1700, &a, &b), 1000); /* the torn one is skipped */
	/* Members in another order: the time is found by parsing the line. */
	add_raw(dir, "{\"flows\": {\"a\": [10, 0], \"b\": [7, 0]}, \"time\": 2600}\n");
	assert_int_equal(usage(dir, 2700, &a, &b), 2600);
	assert_int_equal(b, WW_USAGE_UNUSED);
	assert_int_equal(ww_snapshot_newest(dir), 2600);
	/* Trimming drops what is no snapshot first. */
	setenv("WARDWALL_SNAPSHOTS", "3", 1);
	append(dir, 3000, 10, 7);
	int64_t t[8];
	assert_int_equal(file_times(dir, t, 8), 3);
	assert_int_equal(t[0], 1000);
	assert_int_equal(t[2], 3000);
	unsetenv("WARDWALL_SNAPSHOTS");
	rm_tree(dir);
	free(dir);
}

static void due(void **state)
{
	char *dir = state_dir();

	unsetenv("WARDWALL_SNAPSHOT_INTERVAL");
	assert_true(ww_snapshot_due(dir, 5000)); /* none yet */
	append(dir, 5000, 1, 1);
	assert_false(ww_snapshot_due(dir, 5000 + WW_SNAPSHOT_INTERVAL - 1));
	assert_true(ww_snapshot_due(dir, 5000 + WW_SNAPSHOT_INTERVAL));
	assert_true(ww_snapshot_due(dir, 4000)); /* the clock went back */
	setenv("WARDWALL_SNAPSHOT_INTERVAL", "0", 1);
	assert_true(ww_snapshot_due(dir, 5000));
	setenv("WARDWALL_SNAPSHOT_INTERVAL", "10", 1);
	assert_false(ww_snapshot_due(dir, 5009));
	assert_true(ww_snapshot_due(dir, 5010));
	unsetenv("WARDWALL_SNAPSHOT_INTERVAL");
	rm_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bounded),
	    cmocka_unit_test(compared),
	    cmocka_unit_test(torn_and_by_hand),
	    cmocka_unit_test(due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
