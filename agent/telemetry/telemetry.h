/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What knotscope tells an OpenTelemetry backend: a span per lock wait and
 * per blocking pipe, unix socket or eventfd read over --min-wait, per
 * off-CPU interval over --offcpu-min, each with its happens-before point
 * and a link to the span its releaser had just ended; a log record and
 * spans per deadlock; and metrics.  Each goes under
 * the resource of the process it is about (the agent's own health under the
 * agent's resource).  Built on the main thread, handed to the OTLP exporter,
 * which sends from threads of its own: nothing here waits for the network.
 */
#ifndef KS_TELEMETRY_H
#define KS_TELEMETRY_H

#include <stdint.h>

#include "hb/causality.h"
#include "httptrace/http_spans.h"
#include "meta/k8s_cache.h"
#include "model/model.h"
#include "otlp/otlp_export.h"
#include "report/metric_samples.h"
#include "report/report.h"
#include "stacks/symbolize.h"

struct ks_telemetry;

/*
 * table: the watched processes, whose metrics are sent.  NULL with a
 * message in err.
 */
struct ks_telemetry *ks_telemetry_new(const struct ks_otlp_config *cfg,
				      uint64_t min_wait_ns,
				      const struct ks_table *table,
				      struct ks_symbolizer *symbolizer,
				      char *err, size_t err_size);
int ks_telemetry_start(struct ks_telemetry *telemetry);
/* Flushes for at most timeout_ms, then stops sending. */
void ks_telemetry_stop(struct ks_telemetry *telemetry, unsigned int timeout_ms);
void ks_telemetry_free(struct ks_telemetry *telemetry);

bool ks_telemetry_wants_spans(const struct ks_telemetry *telemetry);

/*
 * With causality, each span waits for its happens-before point and goes
 * out with it (span_hold.h); without, spans go out at once.
 */
void ks_telemetry_set_causality(struct ks_telemetry *telemetry,
				struct ks_causality *causality);
/* HTTP spans: a thread span made while its thread serves a request is a
 * child of that request's SERVER span. */
void ks_telemetry_set_http(struct ks_telemetry *telemetry,
			   struct ks_http_spans *http);

/* This node's pods from the Kubernetes API: what resources name. */
void ks_telemetry_set_pods(struct ks_telemetry *telemetry,
			   struct ks_k8s_cache *pods);

/* The model's hooks, to subscribe with the telemetry as ctx. */
extern const struct ks_model_hooks ks_telemetry_hooks;

/*
 * process leaves the model: its threads' busy periods end.  Its final
 * metrics go out with the next periodic export, while the table keeps it
 * among the departed (KS_HOLD_EXPORT); then ks_telemetry_process_freed().
 */
void ks_telemetry_process_gone(struct ks_telemetry *telemetry,
			       struct ks_process *process);
/* The table frees process: its resource goes. */
void ks_telemetry_process_freed(struct ks_telemetry *telemetry,
				struct ks_process *process);
/* Whether metrics are exported: departed processes are kept for them. */
bool ks_telemetry_wants_metrics(const struct ks_telemetry *telemetry);
void ks_telemetry_deadlock(struct ks_telemetry *telemetry,
			   const struct ks_report *report);
/* An ERROR log record, knotscope.stall, in the process it is about. */
void ks_telemetry_stall(struct ks_telemetry *telemetry,
			const struct ks_stall_report *report);
/* A WARN log record: a potential deadlock, in the process it is about. */
void ks_telemetry_inversion(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_inversion_report *report);
/* An HTTP span of process's; thread_name may be NULL. */
void ks_telemetry_http_span(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_http_span *span,
			    const char *thread_name);
/*
 * Sends the spans whose points are known, and metrics when the export
 * interval has passed since the last: then true, and the departed
 * processes of before now_mono have had their final export.
 */
bool ks_telemetry_tick(struct ks_telemetry *telemetry,
		       const struct ks_agent_health *health, uint64_t now_mono);
/* Sends metrics now, whatever the interval: at the end of a run. */
void ks_telemetry_flush_metrics(struct ks_telemetry *telemetry,
				const struct ks_agent_health *health);
void ks_telemetry_stats(struct ks_telemetry *telemetry,
			struct ks_otlp_stats *stats);

/*
 * Memory is over the shedding mark (shed) or back under it: while it is,
 * no span is made (deadlock spans and log records aside), each counted,
 * and the spans held for their happens-before points go out at once.
 */
void ks_telemetry_shed_spans(struct ks_telemetry *telemetry, bool shed);
/* What was not made; see struct ks_shed_stats. */
void ks_telemetry_shed_stats(const struct ks_telemetry *telemetry,
			     struct ks_shed_stats *stats);

#endif /* KS_TELEMETRY_H */
