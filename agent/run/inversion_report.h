/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns a lock-order inversion found in precise mode into its reports: the
 * stacks of both acquisitions of every order in the cycle (unwound from the
 * snapshots taken at the calls), text on stderr, a line on the --json sink,
 * a log record for OTLP.
 */
#ifndef KS_INVERSION_REPORT_H
#define KS_INVERSION_REPORT_H

#include "detect/lockorder.h"
#include "report/json_sink.h"
#include "stacks/symbolize.h"
#include "telemetry/telemetry.h"

struct ks_inversion_reporter {
	const struct ks_table *table;
	struct ks_symbolizer *symbolizer;
	struct ks_json_sink *sink; /* NULL without --json */
	struct ks_telemetry *telemetry; /* NULL without OTLP export */
};

/* A ks_inversion_fn; ctx is a struct ks_inversion_reporter. */
void ks_inversion_report(void *ctx, const struct ks_inversion *found);

#endif /* KS_INVERSION_REPORT_H */
