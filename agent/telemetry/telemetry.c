// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/version.h"
#include "meta/process_meta.h"
#include "telemetry/internal.h"

const struct ks_otlp_scope ks_scope_locks = {
	.name = "knotscope.locks",
	.version = KS_VERSION,
	.schema_url = KS_SEMCONV_SCHEMA_URL,
};
const struct ks_otlp_scope ks_scope_http = {
	.name = "knotscope.http",
	.version = KS_VERSION,
	.schema_url = KS_SEMCONV_SCHEMA_URL,
};
const struct ks_otlp_scope ks_scope_hb = {
	.name = "knotscope.happens_before",
	.version = KS_VERSION,
	.schema_url = KS_SEMCONV_SCHEMA_URL,
};
const struct ks_otlp_scope ks_scope_agent = {
	.name = "knotscope.agent",
	.version = KS_VERSION,
	.schema_url = KS_SEMCONV_SCHEMA_URL,
};

/*
 * Spans wait for their points for the engine's reorder window and a tick:
 * a few milliseconds' worth of spans, even on a busy node.  A held span
 * weighs a kilobyte or two: more would go out without their points rather
 * than hold tens of megabytes.
 */
#define KS_MAX_HELD_SPANS 8192
/* Threads with a busy period open: those that blocked in the last second. */
#define KS_MAX_SPAN_GROUPS 16384

struct ks_telemetry *ks_telemetry_new(const struct ks_otlp_config *cfg,
				      uint64_t min_wait_ns,
				      const struct ks_table *table,
				      struct ks_symbolizer *symbolizer,
				      char *err, size_t err_size)
{
	struct ks_telemetry *telemetry = calloc(1, sizeof(*telemetry));
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char instance_id[KS_UUID_TEXT_SIZE];

	if (!telemetry) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	telemetry->exporter = ks_otlp_exporter_new(cfg, err, err_size);
	if (!telemetry->exporter)
		goto fail;
	ks_host_meta_read(&telemetry->host);
	ks_otlp_attrs_add_configured(&attrs, cfg);
	if (!ks_service_instance_id(&telemetry->host, (uint32_t)getpid(), 0,
				    instance_id))
		ks_otlp_attrs_str(&attrs, "service.instance.id", instance_id);
	ks_otlp_attrs_int(&attrs, "process.pid", getpid());
	ks_host_meta_add(&telemetry->host, &attrs);
	telemetry->agent_resource =
		ks_otlp_resource_new(&attrs, KS_SEMCONV_SCHEMA_URL);
	if (!telemetry->agent_resource) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	telemetry->groups =
		ks_span_groups_new(KS_MAX_SPAN_GROUPS, &ks_scope_locks);
	if (!telemetry->groups ||
	    ks_span_hold_init(&telemetry->held, KS_MAX_HELD_SPANS)) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	telemetry->symbolizer = symbolizer;
	telemetry->metrics.table = table;
	telemetry->min_wait_ns = min_wait_ns;
	telemetry->sampler = cfg->sampler;
	telemetry->metric_interval_ns =
		(uint64_t)cfg->metric_export_interval_ms * 1000000ull;
	return telemetry;
fail:
	ks_telemetry_free(telemetry);
	return NULL;
}

int ks_telemetry_start(struct ks_telemetry *telemetry)
{
	telemetry->last_metrics_mono_ns = ks_now_mono_ns();
	return ks_otlp_exporter_start(telemetry->exporter);
}

bool ks_telemetry_wants_spans(const struct ks_telemetry *telemetry)
{
	return ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES);
}

void ks_telemetry_set_causality(struct ks_telemetry *telemetry,
				struct ks_causality *causality)
{
	telemetry->causality = causality;
}

void ks_telemetry_set_http(struct ks_telemetry *telemetry,
			   struct ks_http_spans *http)
{
	telemetry->metrics.http = http;
}

void ks_telemetry_set_pods(struct ks_telemetry *telemetry,
			   struct ks_k8s_cache *pods)
{
	telemetry->pods = pods;
}

void ks_telemetry_stop(struct ks_telemetry *telemetry, unsigned int timeout_ms)
{
	if (telemetry->causality) {
		ks_causality_flush(telemetry->causality);
		ks_span_hold_release(&telemetry->held, telemetry->causality,
				     telemetry->exporter, true);
	}
	ks_span_groups_close(telemetry->groups, 0, 0, true,
			     telemetry->exporter);
	ks_otlp_exporter_stop(telemetry->exporter, timeout_ms);
}

void ks_telemetry_free(struct ks_telemetry *telemetry)
{
	if (!telemetry)
		return;
	ks_span_hold_destroy(&telemetry->held);
	ks_span_groups_free(telemetry->groups);
	ks_http_shared_attrs_free(telemetry->http_shared);
	ks_otlp_exporter_free(telemetry->exporter);
	ks_otlp_resource_put(telemetry->agent_resource);
	free(telemetry);
}

void ks_telemetry_stats(struct ks_telemetry *telemetry,
			struct ks_otlp_stats *stats)
{
	ks_otlp_exporter_stats(telemetry->exporter, stats);
}

void ks_telemetry_shed_spans(struct ks_telemetry *telemetry, bool shed)
{
	telemetry->shedding = shed;
	if (shed && telemetry->causality)
		telemetry->shed.hb_points += ks_span_hold_release(
			&telemetry->held, telemetry->causality,
			telemetry->exporter, true);
}

void ks_telemetry_shed_stats(const struct ks_telemetry *telemetry,
			     struct ks_shed_stats *stats)
{
	*stats = telemetry->shed;
}

/*
 * Made when first needed: most watched processes never send anything.
 * Made again when it was made before the API told all about its pod, and
 * the API told something since.
 */
struct ks_otlp_resource *ks_resource_of(struct ks_telemetry *telemetry,
					struct ks_process *process)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	uint64_t generation =
		telemetry->pods ? ks_k8s_cache_generation(telemetry->pods) : 0;

	/* Made again once the API told more, unless the process is gone. */
	if (process->resource && process->resource_meta_gen &&
	    process->resource_meta_gen != generation &&
	    !process->departed_mono_ns) {
		ks_otlp_resource_put(process->resource);
		process->resource = NULL;
	}
	if (!process->resource) {
		process->resource_meta_gen =
			ks_process_meta_add(process->tgid, process->comm,
					    process->start_ticks,
					    &telemetry->host, telemetry->pods,
					    &attrs) ?
				0 :
				generation;
		process->resource =
			ks_otlp_resource_new(&attrs, KS_SEMCONV_SCHEMA_URL);
	}
	return process->resource;
}

void ks_telemetry_process_gone(struct ks_telemetry *telemetry,
			       struct ks_process *process)
{
	/* Its threads' busy periods end with it, while it has a resource. */
	ks_span_groups_close(telemetry->groups, 0, process->tgid, false,
			     telemetry->exporter);
}

void ks_telemetry_process_freed(struct ks_telemetry *telemetry,
				struct ks_process *process)
{
	ks_otlp_resource_put(process->resource);
	process->resource = NULL;
}

bool ks_telemetry_wants_metrics(const struct ks_telemetry *telemetry)
{
	return ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_METRICS);
}

void ks_telemetry_flush_metrics(struct ks_telemetry *telemetry,
				const struct ks_agent_health *health)
{
	ks_send_metrics(telemetry, health);
}

bool ks_telemetry_tick(struct ks_telemetry *telemetry,
		       const struct ks_agent_health *health, uint64_t now_mono)
{
	if (telemetry->causality)
		ks_span_hold_release(&telemetry->held, telemetry->causality,
				     telemetry->exporter, false);
	ks_span_groups_close(telemetry->groups, now_mono, 0, false,
			     telemetry->exporter);
	if (now_mono - telemetry->last_metrics_mono_ns <
	    telemetry->metric_interval_ns)
		return false;
	telemetry->last_metrics_mono_ns = now_mono;
	ks_telemetry_flush_metrics(telemetry, health);
	return true;
}
