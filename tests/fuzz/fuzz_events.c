// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the XDP tier's event decoder: the input is a run of ring-buffer records
 * (struct ww_event, bpf/wardwall.h) as `wardwall events` receives them, the last one possibly
 * short (skipped, as the ring-buffer callback skips it). Each is named with slot registries
 * that know some flows and zones and not others, with and without a policy naming the
 * addresses (events.c), and printed; fuzz_report.h says what the output must be.
 * Seeds: tests/fuzz/events/ (tests/fuzz/mkseeds.py).
 */
#include <stdint.h>

#include "fuzz_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ww_slot_name flows[] = {{0, "pumps-to-ehr"}, {1, "wan-block"}, {7, "gone"}};
	struct ww_lognames with = {.policy = fuzz_report_load(), .flows = flows, .nflows = 3};
	struct ww_lognames without = {0};
	struct ww_logrec r;

	/* Zone slots as an apply gives them out, one left unknown. */
	snprintf(with.zones[1], sizeof(with.zones[1]), "ehr");
	snprintf(with.zones[2], sizeof(with.zones[2]), "pumps");
	snprintf(with.zones[255], sizeof(with.zones[255]), "wan");
	for (size_t off = 0; off + sizeof(struct ww_event) <= size; off += sizeof(struct ww_event)) {
		struct ww_event e;
		memcpy(&e, data + off, sizeof(e));
		ww_logrec_from_xdp(&with, &e, &r);
		fuzz_report_check(&r);
		ww_logrec_from_xdp(&without, &e, &r);
		fuzz_report_check(&r);
	}
	return 0;
}
