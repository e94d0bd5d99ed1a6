/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of telemetry/ share, and nothing outside it includes:
 * the state of the telemetry (telemetry.c) that the spans (spans.c), log
 * records (logs.c) and metrics (otlp_metrics.c) are made with.
 */
#ifndef KS_TELEMETRY_INTERNAL_H
#define KS_TELEMETRY_INTERNAL_H

#include "meta/host_meta.h"
#include "telemetry/span_hold.h"
#include "telemetry/telemetry.h"

struct ks_telemetry {
	struct ks_otlp_exporter *exporter;
	struct ks_otlp_resource *agent_resource;
	struct ks_host_meta host;
	struct ks_symbolizer *symbolizer;
	/* Where metrics come from: the table, and HTTP series with --http. */
	struct ks_metrics_source metrics;
	uint64_t min_wait_ns;
	uint64_t metric_interval_ns;
	uint64_t last_metrics_mono_ns;
	bool stopping; /* the final snapshot is sent or being sent */
	/* NULL: spans go out at once, without happens-before points. */
	struct ks_causality *causality;
	struct ks_span_hold held;
	/* Memory is over the guard's mark: no spans are made. */
	bool shedding;
	/*
	 * Stack unwinding for span sites, within a budget of the main
	 * thread's CPU time per window of monotonic time.
	 */
	uint64_t unwind_window_ns;
	uint64_t unwind_spent_ns;
	struct ks_shed_stats shed;
};

/* The OTLP resource of a process, made when first needed. */
struct ks_otlp_resource *ks_resource_of(struct ks_telemetry *telemetry,
					struct ks_process *process);

/* spans.c: a span per blocked wait of a deadlock, in trace trace_id. */
void ks_deadlock_spans(struct ks_telemetry *telemetry,
		       const struct ks_report *report,
		       const uint8_t trace_id[KS_TRACE_ID_LEN],
		       const uint8_t (*span_ids)[KS_SPAN_ID_LEN]);

/* otlp_metrics.c: all metrics with health, or process's alone. */
void ks_send_metrics(struct ks_telemetry *telemetry, struct ks_process *process,
		     const struct ks_agent_health *health);

#endif /* KS_TELEMETRY_INTERNAL_H */
