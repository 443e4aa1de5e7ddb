// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpgen: the traffic generator and the bare programs of the XDP rate benchmark
 * (tests/bench/xdp-rate.sh). It uses xdpgen.bpf.c, embedded as a libbpf skeleton.
 *
 *   xdpgen sink IFNAME drop|pass DIR
 *       Attaches the bare program (count every frame, then XDP_DROP or XDP_PASS) natively to
 *       IFNAME and pins its program and counter map as DIR/prog and DIR/count. The attachment
 *       stays when xdpgen exits; `ip link set dev IFNAME xdp off` removes it.
 *
 *   xdpgen run IFNAME FRAME SECONDS [--vary] [--warmup S] [--cpus N] [--batch N] COUNTER...
 *       Sends FRAME (64 bytes, in hex) out of veth IFNAME as fast as the kernel takes it: one
 *       thread per CPU, each running xdpgen_redirect with BPF_PROG_TEST_RUN in live-frames mode.
 *       --vary gives every frame a new source port and source address (low 16 bits), so that
 *       each opens a new connection. --batch: frames per batch of the test run (the kernel's
 *       default, 64, when 0). After the warm-up (1 s), reads every COUNTER, waits
 *       SECONDS, reads them again, stops the threads, and prints one JSON object: the rate of
 *       each counter (per second) and the seconds measured. The first counter is the rate the
 *       benchmark reports. A COUNTER is LABEL=map:PATH:KEY (a pinned per-CPU array: the first
 *       8 bytes of the value, summed over CPUs) or LABEL=dev:IFNAME:rx_packets (or another
 *       file of /sys/class/net/IFNAME/statistics).
 *
 *   xdpgen time PROG FRAME REPEAT
 *       Runs the pinned XDP program PROG on FRAME REPEAT times with BPF_PROG_TEST_RUN (no live
 *       frames: the program alone, on one CPU) and prints {"ns": per run, "retval": verdict}.
 *
 *   xdpgen gro IFNAME on|off
 *       Turns GRO on or off (ETHTOOL_SGRO), as `ethtool -K IFNAME gro on` does. A veth with
 *       GRO on runs NAPI without an XDP program, and only then takes redirected frames.
 *
 * Exit status: 0, 1 on a failure (said on standard error), 2 on a usage error.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "xdpgen.skel.h"

#define FRAME_LEN 64
#define MAX_COUNTERS 8
#define MAX_CPUS 256

static int usage(void)
{
	fprintf(stderr, "usage: xdpgen sink IFNAME drop|pass DIR\n"
			"       xdpgen run IFNAME FRAME SECONDS [--vary] [--warmup S] [--cpus N] [--batch N] "
			"LABEL=map:PATH:KEY|LABEL=dev:IFNAME:STAT...\n"
			"       xdpgen time PROG FRAME REPEAT\n"
			"       xdpgen gro IFNAME on|off\n");
	return 2;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int parse_frame(const char *hex, uint8_t out[FRAME_LEN])
{
	if (strlen(hex) != 2 * FRAME_LEN)
		return -EINVAL;
	for (int i = 0; i < FRAME_LEN; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

/* ---- sink ---- */

static int cmd_sink(int argc, char **argv)
{
	char path[4096];
	struct xdpgen_bpf *skel;
	int ifindex, e;

	if (argc != 3 || (strcmp(argv[1], "drop") && strcmp(argv[1], "pass")))
		return usage();
	ifindex = (int)if_nametoindex(argv[0]);
	if (!ifindex) {
		fprintf(stderr, "xdpgen: no interface %s\n", argv[0]);
		return 1;
	}
	skel = xdpgen_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "xdpgen: loading xdpgen.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_program *prog = strcmp(argv[1], "drop") ? skel->progs.xdpgen_pass
							 : skel->progs.xdpgen_drop;
	e = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
	if (e) {
		fprintf(stderr, "xdpgen: attaching to %s (native): %s\n", argv[0], strerror(-e));
		xdpgen_bpf__destroy(skel);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/prog", argv[2]);
	e = bpf_program__pin(prog, path);
	if (!e) {
		snprintf(path, sizeof(path), "%s/count", argv[2]);
		e = bpf_map__pin(skel->maps.xdpgen_count, path);
	}
	if (e) {
		fprintf(stderr, "xdpgen: pinning %s: %s\n", path, strerror(-e));
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
	xdpgen_bpf__destroy(skel);
	return e ? 1 : 0;
}

/* ---- counters ---- */

struct counter {
	const char *label;
	int map_fd;          /* map:, or -1 */
	uint32_t key, vsize; /* value size rounded up to 8 */
	char file[512];      /* dev: */
	uint64_t *buf;
	int ncpus;
};

static int counter_open(struct counter *c, char *spec)
{
	char *eq = strchr(spec, '=');

	if (!eq)
		return -EINVAL;
	*eq = 0;
	c->label = spec;
	spec = eq + 1;
	c->map_fd = -1;
	if (!strncmp(spec, "map:", 4)) {
		char *colon = strrchr(spec + 4, ':');
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		if (!colon)
			return -EINVAL;
		*colon = 0;
		c->key = (uint32_t)strtoul(colon + 1, NULL, 0);
		c->map_fd = bpf_obj_get(spec + 4);
		if (c->map_fd < 0) {
			fprintf(stderr, "xdpgen: %s: %s\n", spec + 4, strerror(errno));
			return -errno;
		}
		if (bpf_obj_get_info_by_fd(c->map_fd, &info, &len))
			return -errno;
		if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY) {
			fprintf(stderr, "xdpgen: %s is not a per-CPU array\n", spec + 4);
			return -EINVAL;
		}
		c->vsize = (info.value_size + 7) / 8 * 8;
		c->ncpus = libbpf_num_possible_cpus();
		c->buf = calloc((size_t)c->ncpus, c->vsize);
		return c->buf ? 0 : -ENOMEM;
	}
	if (!strncmp(spec, "dev:", 4)) {
		char *colon = strchr(spec + 4, ':');
		if (!colon)
			return -EINVAL;
		*colon = 0;
		snprintf(c->file, sizeof(c->file), "/sys/class/net/%s/statistics/%s", spec + 4,
			 colon + 1);
		if (access(c->file, R_OK)) {
			fprintf(stderr, "xdpgen: %s: %s\n", c->file, strerror(errno));
			return -errno;
		}
		return 0;
	}
	return -EINVAL;
}

static int counter_read(struct counter *c, uint64_t *v)
{
	*v = 0;
	if (c->map_fd >= 0) {
		if (bpf_map_lookup_elem(c->map_fd, &c->key, c->buf))
			return -errno;
		for (int i = 0; i < c->ncpus; i++)
			*v += *(uint64_t *)((char *)c->buf + (size_t)i * c->vsize);
		return 0;
	}
	FILE *f = fopen(c->file, "r");
	unsigned long long x = 0;
	int ok = f && fscanf(f, "%llu", &x) == 1;
	if (f)
		fclose(f);
	*v = x;
	return ok ? 0 : -EIO;
}

/* ---- run ---- */

struct gen {
	pthread_t tid;
	int cpu, prog_fd;
	const uint8_t *frame;
	volatile bool *stop;
	unsigned int batch;
	int err;
};

static void on_signal(int sig)
{
	(void)sig;
}

static void *generate(void *arg)
{
	struct gen *g = arg;
	cpu_set_t set;
	uint8_t frame[FRAME_LEN];

	memcpy(frame, g->frame, FRAME_LEN);
	CPU_ZERO(&set);
	CPU_SET(g->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!*g->stop) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = FRAME_LEN,
			    .repeat = 1u << 30, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = g->batch);
		int e = bpf_prog_test_run_opts(g->prog_fd, &o);
		if (e && errno != EINTR) {
			g->err = errno;
			break;
		}
	}
	return NULL;
}

static int cmd_run(int argc, char **argv)
{
	uint8_t frame[FRAME_LEN];
	struct counter c[MAX_COUNTERS] = {0};
	struct gen g[MAX_CPUS];
	volatile bool stop = false;
	double warmup = 1, seconds;
	unsigned int batch = 0;
	int nc = 0, ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN), ifindex, e = 0;
	bool vary = false;

	if (argc < 4)
		return usage();
	ifindex = (int)if_nametoindex(argv[0]);
	if (!ifindex) {
		fprintf(stderr, "xdpgen: no interface %s\n", argv[0]);
		return 1;
	}
	if (parse_frame(argv[1], frame)) {
		fprintf(stderr, "xdpgen: FRAME must be %d bytes in hex\n", FRAME_LEN);
		return 2;
	}
	seconds = atof(argv[2]);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--vary")) {
			vary = true;
		} else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
			warmup = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch = (unsigned int)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
			ncpus = atoi(argv[++i]);
		} else if (nc < MAX_COUNTERS) {
			if (counter_open(&c[nc], argv[i])) {
				fprintf(stderr, "xdpgen: bad counter %s\n", argv[i]);
				return 2;
			}
			nc++;
		} else {
			return usage();
		}
	}
	if (!nc || seconds <= 0 || ncpus < 1 || ncpus > MAX_CPUS)
		return usage();

	struct xdpgen_bpf *skel = xdpgen_bpf__open();
	if (!skel) {
		fprintf(stderr, "xdpgen: opening xdpgen.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->ifindex_out = (uint32_t)ifindex;
	skel->rodata->vary = vary;
	skel->rodata->l3off = 14;
	skel->rodata->family = frame[12] == 0x86 && frame[13] == 0xdd ? 6 : 4;
	memcpy((void *)skel->rodata->frame, frame, FRAME_LEN);
	if (xdpgen_bpf__load(skel)) {
		fprintf(stderr, "xdpgen: loading xdpgen.bpf.o: %s\n", strerror(errno));
		xdpgen_bpf__destroy(skel);
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: the test run ends */
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < ncpus; i++) {
		g[i] = (struct gen){.cpu = i, .prog_fd = bpf_program__fd(skel->progs.xdpgen_redirect),
				    .frame = frame, .stop = &stop, .batch = batch};
		pthread_create(&g[i].tid, NULL, generate, &g[i]);
	}
	uint64_t a[MAX_COUNTERS], b[MAX_COUNTERS];
	sleep_s(warmup);
	double t0 = now_s();
	for (int i = 0; i < nc && !e; i++)
		e = counter_read(&c[i], &a[i]);
	sleep_s(seconds);
	for (int i = 0; i < nc && !e; i++)
		e = counter_read(&c[i], &b[i]);
	double t1 = now_s();
	stop = true;
	for (int i = 0; i < ncpus; i++)
		pthread_kill(g[i].tid, SIGUSR1);
	for (int i = 0; i < ncpus; i++) {
		pthread_join(g[i].tid, NULL);
		if (g[i].err && !e) {
			fprintf(stderr, "xdpgen: BPF_PROG_TEST_RUN (live frames) on CPU %d: %s\n",
				g[i].cpu, strerror(g[i].err));
			e = -g[i].err;
		}
	}
	xdpgen_bpf__destroy(skel);
	if (e) {
		if (e != -g[0].err)
			fprintf(stderr, "xdpgen: reading the counters: %s\n", strerror(-e));
		return 1;
	}
	printf("{\"seconds\": %.3f, \"cpus\": %d", t1 - t0, ncpus);
	for (int i = 0; i < nc; i++)
		printf(", \"%s\": %.0f", c[i].label, (double)(b[i] - a[i]) / (t1 - t0));
	printf("}\n");
	return 0;
}

/* ---- time ---- */

static int cmd_time(int argc, char **argv)
{
	uint8_t frame[FRAME_LEN], out[256];
	int fd;

	if (argc != 3)
		return usage();
	if (parse_frame(argv[1], frame)) {
		fprintf(stderr, "xdpgen: FRAME must be %d bytes in hex\n", FRAME_LEN);
		return 2;
	}
	fd = bpf_obj_get(argv[0]);
	if (fd < 0) {
		fprintf(stderr, "xdpgen: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = FRAME_LEN,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = (int)atoi(argv[2]));
	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "xdpgen: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return 1;
	}
	printf("{\"ns\": %u, \"retval\": %u}\n", o.duration, o.retval);
	return 0;
}

/* ---- gro ---- */

static int cmd_gro(int argc, char **argv)
{
	struct ethtool_value v = {.cmd = ETHTOOL_SGRO};
	struct ifreq ifr = {0};
	int fd, e = 0;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return usage();
	v.data = !strcmp(argv[1], "on");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[0]);
	ifr.ifr_data = (void *)&v;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		e = errno;
	if (fd >= 0)
		close(fd);
	if (e)
		fprintf(stderr, "xdpgen: GRO %s on %s: %s\n", argv[1], argv[0], strerror(e));
	return e ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "sink"))
		return cmd_sink(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "time"))
		return cmd_time(argc - 2, argv + 2);
	if (!strcmp(argv[1], "gro"))
		return cmd_gro(argc - 2, argv + 2);
	return usage();
}
