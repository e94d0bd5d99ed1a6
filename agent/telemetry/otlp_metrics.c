// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Metrics as OTLP: the samples of report/metric_samples.c, one OTLP metric per
 * metric and resource, cumulative from when each process was first seen.
 */
#include <string.h>

#include "base/clock.h"
#include "telemetry/internal.h"

struct ks_otlp_builder {
	struct ks_telemetry *telemetry;
	struct ks_otlp_metrics *snapshot;
	uint64_t now_real_ns;
	/* The metric being filled, and whose: samples of one come together. */
	OtlpMetric *metric;
	const struct ks_metric_desc *desc;
	struct ks_otlp_resource *resource;
};

/* Who measures a metric: by its name's namespace. */
static const struct ks_otlp_scope *ks_metric_scope(const char *name)
{
	if (!strncmp(name, "http.", 5))
		return &ks_scope_http;
	if (!strncmp(name, "knotscope.agent.", 16))
		return &ks_scope_agent;
	return &ks_scope_locks;
}

static void ks_builder_flush(struct ks_otlp_builder *b)
{
	if (b->metric)
		ks_otlp_metrics_add(b->snapshot, b->resource,
				    ks_metric_scope(b->desc->name), b->metric);
	b->metric = NULL;
}

static OtlpMetric *ks_metric_new(const struct ks_metric_desc *desc)
{
	switch (desc->type) {
	case KS_METRIC_COUNTER:
		return ks_otlp_sum_new(desc->name, desc->unit,
				       desc->description, KS_OTLP_CUMULATIVE,
				       true);
	case KS_METRIC_GAUGE:
		return ks_otlp_gauge_new(desc->name, desc->unit,
					 desc->description);
	case KS_METRIC_HISTOGRAM:
		break;
	}
	return ks_otlp_histogram_new(desc->name, desc->unit, desc->description,
				     KS_OTLP_CUMULATIVE);
}

static void ks_add_histogram_point(struct ks_otlp_builder *b,
				   const struct ks_metric_sample *sample,
				   struct ks_otlp_attrs *attrs)
{
	const struct ks_hist_summary *summary = sample->summary;
	struct ks_otlp_histogram_values values = {
		.bounds = sample->scale->bounds_s,
		.nr_bounds = sample->scale->nr_bounds,
		.counts = sample->buckets,
		.sum = (double)summary->sum_ns / 1e9,
		.has_min_max = summary->count > 0,
		.min = (double)summary->min_ns / 1e9,
		.max = (double)summary->max_ns / 1e9,
	};

	ks_otlp_histogram_add(b->metric, attrs, sample->start_real_ns,
			      b->now_real_ns, &values);
}

static void ks_add_point(struct ks_otlp_builder *b,
			 const struct ks_metric_sample *sample)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	for (unsigned int i = 0; i < sample->nr_attrs; i++) {
		const struct ks_metric_attr *attr = &sample->attrs[i];

		switch (attr->type) {
		case KS_METRIC_ATTR_STRING:
			ks_otlp_attrs_str(&attrs, attr->key, attr->value);
			break;
		case KS_METRIC_ATTR_INT:
			ks_otlp_attrs_int(&attrs, attr->key, attr->int_value);
			break;
		case KS_METRIC_ATTR_BOOL:
			ks_otlp_attrs_bool(&attrs, attr->key, attr->int_value);
			break;
		}
	}
	if (sample->scale)
		ks_add_histogram_point(b, sample, &attrs);
	else if (sample->desc->nanoseconds)
		ks_otlp_metric_add_double(b->metric, &attrs,
					  sample->start_real_ns, b->now_real_ns,
					  (double)sample->value / 1e9);
	else
		ks_otlp_metric_add_int(b->metric, &attrs, sample->start_real_ns,
				       b->now_real_ns, (int64_t)sample->value);
}

static void ks_add_sample(void *ctx, const struct ks_metric_sample *sample)
{
	struct ks_otlp_builder *b = ctx;
	struct ks_otlp_resource *resource =
		sample->process ?
			ks_resource_of(b->telemetry, sample->process) :
			b->telemetry->agent_resource;

	if (!resource)
		return;
	if (b->metric && (b->desc != sample->desc || b->resource != resource))
		ks_builder_flush(b);
	if (!b->metric) {
		b->metric = ks_metric_new(sample->desc);
		b->desc = sample->desc;
		b->resource = resource;
		if (!b->metric)
			return;
	}
	ks_add_point(b, sample);
}

void ks_send_metrics(struct ks_telemetry *telemetry,
		     const struct ks_agent_health *health)
{
	struct ks_otlp_builder builder = {
		.telemetry = telemetry,
		.now_real_ns = ks_now_real_ns(),
	};

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_METRICS))
		return;
	builder.snapshot = ks_otlp_metrics_new();
	if (!builder.snapshot)
		return;
	ks_metrics_collect(&telemetry->metrics, health, ks_add_sample,
			   &builder);
	ks_builder_flush(&builder);
	ks_otlp_export_metrics(telemetry->exporter, builder.snapshot);
}
