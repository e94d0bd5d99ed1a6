/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the files of telemetry/ share, and nothing outside it includes:
 * the state of the telemetry (telemetry.c) that the spans (spans.c), log
 * records (logs.c) and metrics (otlp_metrics.c) are made with.
 */
#ifndef KS_TELEMETRY_INTERNAL_H
#define KS_TELEMETRY_INTERNAL_H

#include "meta/host_meta.h"
#include "meta/k8s_cache.h"
#include "telemetry/http_shared_attrs.h"
#include "telemetry/span_groups.h"
#include "telemetry/span_hold.h"
#include "telemetry/telemetry.h"

/*
 * The semantic conventions knotscope's attributes follow: code.* (stable
 * since 1.33) and container.runtime.name (1.37) are the newest it uses.
 */
#define KS_SEMCONV_SCHEMA_URL "https://opentelemetry.io/schemas/1.37.0"

/* One instrumentation scope per source of telemetry. */
extern const struct ks_otlp_scope ks_scope_locks; /* waits, deadlocks, stalls */
extern const struct ks_otlp_scope ks_scope_http; /* --http */
extern const struct ks_otlp_scope ks_scope_hb; /* reads, off CPU, edges */
extern const struct ks_otlp_scope ks_scope_agent; /* the agent's health */

struct ks_telemetry {
	struct ks_otlp_exporter *exporter;
	struct ks_otlp_resource *agent_resource;
	struct ks_host_meta host;
	struct ks_k8s_cache *pods; /* NULL without the Kubernetes API */
	struct ks_symbolizer *symbolizer;
	/* Where metrics come from: the table, and HTTP series with --http. */
	struct ks_metrics_source metrics;
	/* OTEL_TRACES_SAMPLER: which traces of knotscope's own to keep. */
	struct ks_sampler sampler;
	uint64_t min_wait_ns;
	uint64_t metric_interval_ns;
	uint64_t last_metrics_mono_ns;
	/* NULL: spans go out at once, without happens-before points. */
	struct ks_causality *causality;
	struct ks_span_hold held;
	/* The busy periods of threads, each a trace. */
	struct ks_span_groups *groups;
	/* HTTP connections' shared attributes, from the first HTTP span. */
	struct ks_http_shared_attrs *http_shared;
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

/*
 * spans.c: a deadlock's trace, trace_id: its root root_id, and a span per
 * blocked wait under it.
 */
void ks_deadlock_spans(struct ks_telemetry *telemetry,
		       const struct ks_report *report,
		       const uint8_t trace_id[KS_TRACE_ID_LEN],
		       const uint8_t root_id[KS_SPAN_ID_LEN],
		       const uint8_t (*span_ids)[KS_SPAN_ID_LEN]);

/* otlp_metrics.c: every metric, the departed processes' included. */
void ks_send_metrics(struct ks_telemetry *telemetry,
		     const struct ks_agent_health *health);

#endif /* KS_TELEMETRY_INTERNAL_H */
