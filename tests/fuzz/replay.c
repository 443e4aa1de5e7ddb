// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs a fuzz harness without libFuzzer: each file named on the command line (or each file of
 * a directory named there) goes through LLVMFuzzerTestOneInput once, and a TAP line says so.
 * A broken property aborts the process, which tests/run-all counts as a failure; the TAP lines
 * before it say which input was running (it is printed before it runs). Used by
 * tests/suites/13-fuzz-regress.sh over the seeds and regression inputs.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		printf("not ok %d - %s: cannot open\n", ++n, path);
		return 1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *b = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!b) {
				free(buf);
				fclose(f);
				return 1;
			}
			buf = b;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (!got)
			break;
		len += got;
	}
	fclose(f);
	printf("# %s\n", path);
	fflush(stdout);
	/* The input exactly as read, in a buffer of its own size: overreads are caught. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return 1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			printf("not ok %d - %s: no such file\n", ++n, argv[i]);
			bad = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			continue;
		}
		struct dirent **ents;
		int k = scandir(argv[i], &ents, NULL, NULL);
		char **names = k > 0 ? calloc((size_t)k, sizeof(*names)) : NULL;
		int m = 0;
		for (int j = 0; j < k; j++) {
			if (ents[j]->d_name[0] != '.' && names) {
				size_t l = strlen(argv[i]) + strlen(ents[j]->d_name) + 2;
				names[m] = malloc(l);
				if (names[m])
					snprintf(names[m++], l, "%s/%s", argv[i], ents[j]->d_name);
			}
			free(ents[j]);
		}
		if (k >= 0)
			free(ents);
		if (m)
			qsort(names, (size_t)m, sizeof(*names), cmp);
		for (int j = 0; j < m; j++) {
			bad |= run_file(names[j]);
			free(names[j]);
		}
		free(names);
	}
	printf("1..%d\n", n);
	return bad;
}
