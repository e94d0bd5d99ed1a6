/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns a confirmed deadlock into its reports: stacks unwound while the
 * threads are still blocked, then text on stderr, a line on the --json sink,
 * spans and a log record for OTLP, and the dashboard's history.  The same
 * reporter serves stalls (run/stall_report.h).
 */
#ifndef KS_DEADLOCK_REPORT_H
#define KS_DEADLOCK_REPORT_H

#include "detect/detector.h"
#include "report/json_sink.h"
#include "serve/dashboard.h"
#include "stacks/symbolize.h"
#include "telemetry/telemetry.h"

struct ks_deadlock_reporter {
	struct ks_symbolizer *symbolizer;
	struct ks_json_sink *sink; /* NULL without --json */
	struct ks_telemetry *telemetry; /* NULL without OTLP export */
	struct ks_dashboard *dashboard; /* NULL with --listen off */
};

/* A ks_detector_ops.report; ctx is a struct ks_deadlock_reporter. */
void ks_deadlock_report(void *ctx, const struct ks_deadlock *deadlock);

/*
 * Where a blocked thread waits, in its own code: unwound from the wait's
 * registers and the live stack, so only while it is confirmed blocked.
 */
void ks_unwind_blocked(struct ks_symbolizer *symbolizer,
		       const struct ks_thread *t, struct ks_stack *stack);

#endif /* KS_DEADLOCK_REPORT_H */
