// SPDX-License-Identifier: GPL-2.0-only
#include "probe_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static socklen_t sockaddr_of(const struct ww_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	uint8_t bytes[16];

	memset(ss, 0, sizeof(*ss));
	ww_addr_bytes(a->family, a->v, bytes);
	if (a->family == WW_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, bytes, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, bytes, 16);
	return sizeof(*s6);
}

/* A socket created inside the named network namespace (it stays there), or in ours. */
static int socket_in(const char *netns, int family, struct strbuf *why)
{
	int self = -1, ns = -1, fd, e = 0;

	if (netns) {
		char path[128];
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			e = -errno;
			sb_addf(why, "network namespace \"%s\" (%s): %s", netns, path, strerror(errno));
			goto out;
		}
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	e = fd < 0 ? -errno : fd;
	if (fd < 0)
		sb_addf(why, "socket: %s", strerror(errno));
	if (netns && setns(self, CLONE_NEWNET) < 0) {
		/* We cannot get back to our own namespace: nothing after this may run in it. */
		sb_addf(why, "returning from network namespace \"%s\": %s", netns, strerror(errno));
		if (fd >= 0)
			close(fd);
		e = -EIO;
	}
out:
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	return e;
}

/* Starts one probe's connection; returns the socket or -errno (why says). */
static int start(const struct ww_probe *pr, struct strbuf *why)
{
	struct sockaddr_storage src, dst;
	socklen_t sl = sockaddr_of(&pr->from, 0, &src), dl = sockaddr_of(&pr->to, pr->port, &dst);
	int fd = socket_in(pr->netns, pr->to.family == WW_INET ? AF_INET : AF_INET6, why);

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&src, sl) < 0) {
		int e = -errno;
		char a[WW_PREFIX_STRLEN];
		sb_addf(why, "binding to %s%s%s: %s", ww_addr_str(&pr->from, a),
			pr->netns ? " in network namespace " : "", pr->netns ? pr->netns : "",
			strerror(errno));
		close(fd);
		return e;
	}
	if (connect(fd, (struct sockaddr *)&dst, dl) < 0 && errno != EINPROGRESS) {
		int e = -errno;
		sb_addf(why, "%s", strerror(errno));
		close(fd);
		return e;
	}
	return fd;
}

int ww_probes_run(const struct ww_policy *p, const struct ww_probe **failed, struct strbuf *why)
{
	struct pollfd *pf = calloc(p->nprobes + 1, sizeof(*pf));
	int *result = calloc(p->nprobes + 1, sizeof(*result)); /* 0 pending, 1 ok, -errno */
	int *fds = malloc((p->nprobes + 1) * sizeof(*fds));
	int64_t t0 = mono_ms();
	size_t pending = 0;
	int e = 0;

	*failed = NULL;
	if (!pf || !result || !fds) {
		free(pf);
		free(result);
		free(fds);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nprobes; i++)
		fds[i] = pf[i].fd = -1;
	for (size_t i = 0; i < p->nprobes; i++) {
		fds[i] = pf[i].fd = start(&p->probes[i], why);
		pf[i].events = POLLOUT;
		if (fds[i] < 0) {
			*failed = &p->probes[i];
			e = fds[i];
			goto out;
		}
		pending++;
	}
	while (pending) {
		int64_t now = mono_ms(), wait = -1;
		for (size_t i = 0; i < p->nprobes; i++) {
			if (result[i])
				continue;
			int64_t left = t0 + p->probes[i].timeout_ms - now;
			if (left <= 0) {
				result[i] = -ETIMEDOUT;
				pending--;
				pf[i].fd = -1; /* poll ignores negative fds */
				continue;
			}
			if (wait < 0 || left < wait)
				wait = left;
		}
		if (!pending)
			break;
		int n = poll(pf, p->nprobes, (int)wait);
		if (n < 0 && errno != EINTR) {
			e = -errno;
			break;
		}
		for (size_t i = 0; n > 0 && i < p->nprobes; i++) {
			int soerr = 0;
			socklen_t len = sizeof(soerr);
			if (result[i] || !pf[i].revents)
				continue;
			getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
			result[i] = soerr ? -soerr : 1;
			pending--;
			pf[i].fd = -1;
		}
	}
	for (size_t i = 0; !e && i < p->nprobes; i++) {
		if (result[i] == 1)
			continue;
		*failed = &p->probes[i];
		if (result[i] == -ETIMEDOUT)
			sb_addf(why, "no answer within %u ms", p->probes[i].timeout_ms);
		else
			sb_addf(why, "%s", strerror(-result[i]));
		e = -EHOSTUNREACH;
	}
out:
	for (size_t i = 0; i < p->nprobes; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(pf);
	free(result);
	return e;
}
