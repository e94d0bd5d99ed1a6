// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "host_meta.h"
#include "http_otlp.h"
#include "json_sink.h"
#include "log.h"
#include "process_meta.h"
#include "telemetry.h"
#include "trace_ids.h"
#include "wait_site.h"
#include "wait_target.h"

struct ks_telemetry {
	struct ks_otlp_exporter *exporter;
	struct ks_otlp_resource *agent_resource;
	struct ks_host_meta host;
	struct ks_symbolizer *symbolizer;
	uint64_t min_wait_ns;
	uint64_t metric_interval_ns;
	uint64_t last_metrics_mono_ns;
	bool stopping; /* the final snapshot is sent or being sent */
};

struct ks_telemetry *ks_telemetry_new(const struct ks_otlp_config *cfg,
				      uint64_t min_wait_ns,
				      struct ks_symbolizer *symbolizer,
				      char *err, size_t err_size)
{
	struct ks_telemetry *telemetry = calloc(1, sizeof(*telemetry));
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!telemetry) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	telemetry->exporter = ks_otlp_exporter_new(cfg, err, err_size);
	if (!telemetry->exporter)
		goto fail;
	ks_host_meta_read(&telemetry->host);
	ks_otlp_attrs_add_configured(&attrs, cfg);
	ks_otlp_attrs_int(&attrs, "process.pid", getpid());
	ks_host_meta_add(&telemetry->host, &attrs);
	telemetry->agent_resource = ks_otlp_resource_new(&attrs);
	if (!telemetry->agent_resource) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	telemetry->symbolizer = symbolizer;
	telemetry->min_wait_ns = min_wait_ns;
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

void ks_telemetry_stop(struct ks_telemetry *telemetry, unsigned int timeout_ms)
{
	telemetry->stopping = true;
	ks_otlp_exporter_stop(telemetry->exporter, timeout_ms);
}

void ks_telemetry_free(struct ks_telemetry *telemetry)
{
	if (!telemetry)
		return;
	ks_otlp_exporter_free(telemetry->exporter);
	ks_otlp_resource_put(telemetry->agent_resource);
	free(telemetry);
}

void ks_telemetry_stats(struct ks_telemetry *telemetry,
			struct ks_otlp_stats *stats)
{
	ks_otlp_exporter_stats(telemetry->exporter, stats);
}

/* Made when first needed: most watched processes never send anything. */
static struct ks_otlp_resource *ks_resource_of(struct ks_telemetry *telemetry,
					       struct ks_process *process)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!process->resource) {
		ks_process_meta_add(process->tgid, process->comm,
				    &telemetry->host, &attrs);
		process->resource = ks_otlp_resource_new(&attrs);
	}
	return process->resource;
}

static void ks_add_hex(struct ks_otlp_attrs *attrs, const char *key,
		       uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	ks_otlp_attrs_str(attrs, key, buf);
}

static void ks_add_site(struct ks_telemetry *telemetry,
			const struct ks_thread *thread,
			struct ks_otlp_attrs *attrs)
{
	struct ks_frame site;

	if (ks_wait_site(telemetry->symbolizer, thread, &site))
		return;
	if (site.function[0])
		ks_otlp_attrs_str(attrs, "code.function.name", site.function);
	if (site.file[0]) {
		ks_otlp_attrs_str(attrs, "code.file.path", site.file);
		ks_otlp_attrs_int(attrs, "code.line.number", site.line);
	}
	if (site.module[0]) {
		ks_otlp_attrs_str(attrs, "knotscope.code.module", site.module);
		ks_add_hex(attrs, "knotscope.code.module_offset",
			   site.module_offset);
	}
}

/* What a wait was for, from the record of the lock it waits on. */
static void ks_add_wait_attrs(struct ks_telemetry *telemetry,
			      const struct ks_thread *thread,
			      struct ks_otlp_attrs *attrs)
{
	const struct ks_thread_wait *wait = &thread->wait;
	const struct ks_wait_begin *lock = ks_lock_wait(wait);
	char buf[64];

	ks_otlp_attrs_int(attrs, "thread.id", thread->tid);
	ks_otlp_attrs_str(attrs, "thread.name", thread->comm);
	ks_otlp_attrs_str(attrs, "knotscope.lock.kind",
			  ks_lock_kind_name(wait->lock_kind));
	ks_add_hex(attrs, "knotscope.lock.address", lock->uaddr);
	if (wait->lock_kind != KS_LOCK_THREAD_EXIT &&
	    (lock->flags & KS_WAIT_KIND_OK)) {
		ks_mutex_kind_describe(lock->words[4], buf, sizeof(buf));
		ks_otlp_attrs_str(attrs, "knotscope.mutex.type", buf);
	}
	if (wait->holder_tid)
		ks_otlp_attrs_int(attrs, "knotscope.lock.holder.tid",
				  wait->holder_tid);
	ks_futex_op_describe(lock->op, buf, sizeof(buf));
	ks_otlp_attrs_str(attrs, "knotscope.futex.op", buf);
	ks_add_site(telemetry, thread, attrs);
}

static OtlpSpan *ks_wait_span(struct ks_telemetry *telemetry,
			      const struct ks_thread *thread,
			      const uint8_t trace_id[KS_TRACE_ID_LEN],
			      const uint8_t span_id[KS_SPAN_ID_LEN],
			      uint64_t end_mono_ns)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char name[48];
	OtlpSpan *span;

	snprintf(name, sizeof(name), "wait for %s",
		 ks_lock_kind_name(thread->wait.lock_kind));
	span = ks_otlp_span_new(
		trace_id, span_id, name,
		ks_mono_to_real_ns(thread->wait.begin.hdr.ts_ns),
		ks_mono_to_real_ns(end_mono_ns));
	if (!span)
		return NULL;
	ks_add_wait_attrs(telemetry, thread, &attrs);
	if (ks_otlp_attrs_move(&attrs, &span->attributes,
			       &span->n_attributes)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

static void ks_on_wait_ended(void *ctx, struct ks_thread *thread,
			     const struct ks_wait_end *end)
{
	struct ks_telemetry *telemetry = ctx;
	uint8_t trace_id[KS_TRACE_ID_LEN], span_id[KS_SPAN_ID_LEN];
	struct ks_otlp_resource *resource;
	OtlpSpan *span;

	if (thread->wait.lock_kind == KS_LOCK_NONE ||
	    end->hdr.ts_ns - end->begin_ts_ns < telemetry->min_wait_ns ||
	    !ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES))
		return;
	resource = ks_resource_of(telemetry, thread->process);
	if (!resource)
		return;
	ks_trace_id_new(trace_id);
	ks_span_id_new(span_id);
	span = ks_wait_span(telemetry, thread, trace_id, span_id,
			    end->hdr.ts_ns);
	if (span)
		ks_otlp_export_span(telemetry->exporter, resource, span);
}

const struct ks_model_hooks ks_telemetry_hooks = {
	.wait_ended = ks_on_wait_ended,
};

void ks_telemetry_http_span(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_http_span *span,
			    const char *thread_name)
{
	struct ks_otlp_resource *resource;
	OtlpSpan *otlp;

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES))
		return;
	resource = ks_resource_of(telemetry, process);
	if (!resource)
		return;
	otlp = ks_http_span_otlp(span, thread_name);
	if (otlp)
		ks_otlp_export_span(telemetry->exporter, resource, otlp);
}

static char *ks_report_text(const struct ks_report *report)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	ks_report_write_text(out, report);
	fclose(out);
	return text;
}

static OtlpLogRecord *ks_deadlock_log(const struct ks_report *report,
				      const uint8_t trace_id[KS_TRACE_ID_LEN],
				      const uint8_t span_id[KS_SPAN_ID_LEN])
{
	const struct ks_deadlock *deadlock = report->deadlock;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char *body = ks_report_text(report);
	char *json = ks_json_deadlock_string(report);
	OtlpLogRecord *record = NULL;
	char id[20];

	if (!body || !json)
		goto cleanup;
	record = ks_otlp_log_new(report->confirmed_real_ns, ks_now_real_ns(),
				 KS_OTLP_SEVERITY_ERROR, "knotscope.deadlock",
				 body);
	if (!record)
		goto cleanup;
	snprintf(id, sizeof(id), "%016" PRIx64, deadlock->id);
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.threads",
			  (int64_t)deadlock->nr_members);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.blocked_behind",
			  (int64_t)deadlock->nr_behind);
	if (report->latency_ns >= 0)
		ks_otlp_attrs_double(&attrs,
				     "knotscope.deadlock.detection_latency_ms",
				     (double)report->latency_ns / 1e6);
	/* Threads, locks, holders and stacks, as the --json sink has them. */
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.report", json);
	if (ks_otlp_attrs_move(&attrs, &record->attributes,
			       &record->n_attributes) ||
	    ks_otlp_log_set_span(record, trace_id, span_id)) {
		ks_otlp_message_free(record);
		record = NULL;
	}
cleanup:
	free(body);
	free(json);
	return record;
}

/*
 * A deadlock becomes one trace: a span per blocked wait, from when it began
 * to the report, status ERROR, each linked to the wait of the thread it
 * waits for; and a log record tied to the first of those spans.
 */
void ks_telemetry_deadlock(struct ks_telemetry *telemetry,
			   const struct ks_report *report)
{
	const struct ks_deadlock *deadlock = report->deadlock;
	size_t n = deadlock->nr_members;
	uint8_t trace_id[KS_TRACE_ID_LEN];
	uint8_t(*span_ids)[KS_SPAN_ID_LEN] = calloc(n, KS_SPAN_ID_LEN);
	struct ks_thread *first = deadlock->members[0].thread;
	struct ks_otlp_resource *resource;
	OtlpLogRecord *record;

	if (!span_ids)
		return;
	ks_trace_id_new(trace_id);
	for (size_t i = 0; i < n; i++)
		ks_span_id_new(span_ids[i]);
	for (size_t i = 0; i < n && ks_otlp_exporter_wants(telemetry->exporter,
							   KS_OTLP_TRACES);
	     i++) {
		struct ks_thread *thread = deadlock->members[i].thread;
		struct ks_otlp_attrs link = KS_OTLP_ATTRS_INIT;
		OtlpSpan *span;

		resource = ks_resource_of(telemetry, thread->process);
		span = ks_wait_span(telemetry, thread, trace_id, span_ids[i],
				    deadlock->confirmed_mono_ns);
		if (!resource || !span) {
			ks_otlp_message_free(span);
			continue;
		}
		ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR, "deadlock");
		ks_otlp_attrs_str(&link, "knotscope.link.kind", "waits_for");
		ks_otlp_span_add_link(span, trace_id, span_ids[(i + 1) % n],
				      &link);
		ks_otlp_export_span(telemetry->exporter, resource, span);
	}
	resource = ks_resource_of(telemetry, first->process);
	if (resource &&
	    ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS)) {
		record = ks_deadlock_log(report, trace_id, span_ids[0]);
		if (record)
			ks_otlp_export_log(telemetry->exporter, resource,
					   record);
	}
	free(span_ids);
}

struct ks_otlp_builder {
	struct ks_telemetry *telemetry;
	struct ks_otlp_metrics *snapshot;
	uint64_t now_real_ns;
	/* The metric being filled, and whose: samples of one come together. */
	OtlpMetric *metric;
	const struct ks_metric_desc *desc;
	struct ks_otlp_resource *resource;
};

static void ks_builder_flush(struct ks_otlp_builder *b)
{
	if (b->metric)
		ks_otlp_metrics_add(b->snapshot, b->resource, b->metric);
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

/* All metrics with health, or process's alone. */
static void ks_send_metrics(struct ks_telemetry *telemetry,
			    const struct ks_model *model,
			    struct ks_process *process,
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
	if (process)
		ks_metrics_collect_process(model, process, ks_add_sample,
					   &builder);
	else
		ks_metrics_collect(model, health, ks_add_sample, &builder);
	ks_builder_flush(&builder);
	ks_otlp_export_metrics(telemetry->exporter, builder.snapshot);
}

void ks_telemetry_process_gone(struct ks_telemetry *telemetry,
			       const struct ks_model *model,
			       struct ks_process *process)
{
	/* Cumulative series end with the process: their last values. */
	if (!telemetry->stopping)
		ks_send_metrics(telemetry, model, process, NULL);
	ks_otlp_resource_put(process->resource);
	process->resource = NULL;
}

void ks_telemetry_flush_metrics(struct ks_telemetry *telemetry,
				const struct ks_model *model,
				const struct ks_agent_health *health)
{
	ks_send_metrics(telemetry, model, NULL, health);
}

void ks_telemetry_tick(struct ks_telemetry *telemetry,
		       const struct ks_model *model,
		       const struct ks_agent_health *health, uint64_t now_mono)
{
	if (now_mono - telemetry->last_metrics_mono_ns <
	    telemetry->metric_interval_ns)
		return;
	telemetry->last_metrics_mono_ns = now_mono;
	ks_telemetry_flush_metrics(telemetry, model, health);
}
