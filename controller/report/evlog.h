/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: what `wardwall serve` records of the event stream, in the state directory:
 *   events/events.jsonl   every decoded record (ww_logrec_print JSON), and what the tiers could
 *                         not log ("dropped" lines)
 *   events/alerts.jsonl   every alert (ww_alert_print JSON)
 * A file that would grow past its bound is renamed to NAME.1 (NAME.1 to NAME.2, ...; the
 * oldest beyond `keep` is deleted) and started again: at most (keep + 1) x max bytes on disk.
 * Lines are written whole with one write() each (O_APPEND), so a reader sees whole lines.
 */
#ifndef WW_EVLOG_H
#define WW_EVLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "events.h"
#include "util.h"

#define WW_EVLOG_DIR	    "events"
#define WW_EVLOG_EVENTS	    "events.jsonl"
#define WW_EVLOG_ALERTS	    "alerts.jsonl"
#define WW_EVLOG_EVENTS_MAX (64LL << 20) /* bytes a file */
#define WW_EVLOG_ALERTS_MAX (16LL << 20)
#define WW_EVLOG_KEEP	    3 /* rotated files kept */

struct ww_evlog {
	char *path;
	int fd;
	off_t size, max;
	unsigned int keep;
	uint64_t lines, rotations, failed; /* failed: lines not written (disk full, ...) */
};

/* Opens <state_dir>/events/<name> for appending (state_dir as for ww_state_open). */
int ww_evlog_open(const char *state_dir, const char *name, off_t max, unsigned int keep,
		  struct ww_evlog *l, struct strbuf *err);
/* Appends one line (with its newline); rotates first when it would pass the bound. Returns 0 or
 * -errno (and counts the line in failed). */
int ww_evlog_append(struct ww_evlog *l, const char *line, size_t len);
void ww_evlog_close(struct ww_evlog *l);

/* Calls cb for every recorded line of <name>, oldest file first; cb returning non-zero stops.
 * Returns 0, cb's value, or -errno (no files: 0). */
int ww_evlog_read(const char *state_dir, const char *name, unsigned int keep,
		  int (*cb)(const char *line, void *arg), void *arg);

/* One "type": "event" line of ww_logrec_print(json) back into a record. Returns 0, -ENOENT for
 * another type of line, or -EINVAL. */
int ww_logrec_parse(const char *line, struct ww_logrec *r);
/* "2026-03-10T08:00:00.123Z" (milliseconds optional) into unix ns. */
int ww_time_ms_parse(const char *s, int64_t *ns);

#endif
