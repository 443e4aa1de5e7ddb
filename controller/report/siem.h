/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: events and alerts to a SIEM (docs/siem.md).
 *
 * Formats (ww_siem_format, pure):
 *   syslog  RFC 5424: <PRI>1 TIMESTAMP HOSTNAME wardwall PROCID MSGID [SD-ID name="value" ...] MSG
 *           MSGID is the record's type ("event", "alert", "dropped"); the structured data element
 *           carries every member of the record's JSON line; MSG is its text line.
 *   cef     CEF:0|wardwall|wardwall|VERSION|CLASS|NAME|SEVERITY|EXTENSION, as the MSG of an
 *           RFC 5424 message (no structured data).
 *   json    the JSON line, exactly as <state dir>/events records it.
 * Transports (ww_siem_start): a local datagram socket (unix:, one message a datagram, as
 * /dev/log), UDP (RFC 5426, one a datagram), TCP (RFC 6587 octet counting: "LEN SP MSG"; json:
 * one line each) and TLS (RFC 5425, the same framing inside TLS 1.2 or later, the server's
 * certificate verified against `ca` and its name or address).
 *
 * Delivery: each output has a bounded queue (cfg->queue messages) and a thread that connects,
 * sends, and on any failure closes, waits (0.5 s doubling to 30 s) and sends the same message
 * again. Nothing blocks the caller: a full queue drops — an incoming alert first pushes out the
 * oldest queued event, an incoming event is dropped — and every drop is counted. A stream
 * output checks that the receiver has not closed the connection before each message; what TCP
 * accepted just before a receiver died may still be lost (syslog has no acknowledgement).
 */
#ifndef WW_SIEM_H
#define WW_SIEM_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

enum ww_siem_kind { WW_SIEM_KIND_EVENT, WW_SIEM_KIND_ALERT, WW_SIEM_KINDS };

/* What a message carries besides the record: the sender's name and process id. */
struct ww_siem_origin {
	char hostname[256]; /* RFC 5424 HOSTNAME ("-" when unknown) */
	int pid;
};
void ww_siem_origin_init(struct ww_siem_origin *o);

/*
 * One message of output o's format from a record: its JSON line (an "event", "dropped" or
 * "alert" line as <state dir>/events records it) and its text line (both may end in a newline,
 * which is not sent). Appends to out, without framing. Returns 0 or -EINVAL (not a record).
 */
int ww_siem_format(const struct ww_siem_out *o, const struct ww_siem_origin *org, const char *json,
		   const char *text, struct strbuf *out);
/* Escaping, exposed for the tests: an RFC 5424 PARAM-VALUE ('"', '\' and ']' escaped), a CEF
 * header field ('|', '\'), a CEF extension value ('=', '\', newlines). */
void ww_sd_escape(struct strbuf *out, const char *s);
void ww_cef_header_escape(struct strbuf *out, const char *s);
void ww_cef_value_escape(struct strbuf *out, const char *s);

struct ww_siem;

struct ww_siem_stats {
	uint64_t sent[WW_SIEM_KINDS];
	uint64_t dropped[WW_SIEM_KINDS]; /* queue full */
	uint64_t failures;		 /* connects and sends that failed (each retried) */
	uint64_t connects;		 /* connections made */
	uint32_t queued, queue_max;
	bool connected;
};

/*
 * Starts one sender thread per output of cfg (copied). `who` prefixes what is said on stderr
 * (connected, failing, recovered: once per change, not per message). Returns 0, or -errno with
 * err set (a TLS file that cannot be read, ...). A receiver that is down is not an error: it
 * is retried.
 */
int ww_siem_start(const struct ww_siem_cfg *cfg, const char *who, struct ww_siem **out,
		  struct strbuf *err);
/* Queues one record for every output that sends its kind ("dropped" lines are events). Never
 * blocks on the network; thread-safe. */
void ww_siem_send(struct ww_siem *s, enum ww_siem_kind kind, const char *json, const char *text);
/* Waits until every queue is empty or timeout_ms passed; returns the messages still queued. */
uint64_t ww_siem_drain(struct ww_siem *s, int timeout_ms);
size_t ww_siem_outputs(const struct ww_siem *s);
const struct ww_siem_out *ww_siem_output(const struct ww_siem *s, size_t i);
void ww_siem_get_stats(struct ww_siem *s, size_t i, struct ww_siem_stats *st);
/* Appends the wardwall_siem_* series (labels: output index, transport, format, kind). */
void ww_siem_metrics(struct ww_siem *s, struct strbuf *out);
/* Stops the threads (queued messages are dropped, not counted) and frees. NULL is fine. */
void ww_siem_stop(struct ww_siem *s);

#endif
