// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The log records of what knotscope finds: an ERROR record per deadlock,
 * tied to the trace of its blocked waits, an ERROR record per stall, and a
 * WARN record per lock-order inversion.  Their body is the text the agent
 * writes to stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/trace_ids.h"
#include "report/json_sink.h"
#include "report/report.h"
#include "telemetry/internal.h"

typedef void (*ks_text_writer)(FILE *out, const void *report);

/* What a report writes to stderr, as a string for a log record's body. */
static char *ks_render_text(ks_text_writer write, const void *report)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	write(out, report);
	fclose(out);
	return text;
}

static void ks_write_deadlock_text(FILE *out, const void *report)
{
	ks_report_write_text(out, report);
}

static void ks_write_inversion_text(FILE *out, const void *report)
{
	ks_inversion_write_text(out, report);
}

static void ks_write_stall_text(FILE *out, const void *report)
{
	ks_stall_write_text(out, report);
}

/* "id,id,...": the spans of the blocked waits, in the report's order. */
static char *ks_span_id_list(const uint8_t (*span_ids)[KS_SPAN_ID_LEN],
			     size_t n)
{
	char *list = malloc(n * (2 * KS_SPAN_ID_LEN + 1) + 1), *at = list;

	if (!list)
		return NULL;
	*at = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*at++ = ',';
		for (int b = 0; b < KS_SPAN_ID_LEN; b++)
			at += sprintf(at, "%02x", span_ids[i][b]);
	}
	return list;
}

static OtlpLogRecord *ks_deadlock_log(const struct ks_report *report,
				      const uint8_t trace_id[KS_TRACE_ID_LEN],
				      const uint8_t root_id[KS_SPAN_ID_LEN],
				      const uint8_t (*span_ids)[KS_SPAN_ID_LEN])
{
	const struct ks_deadlock *deadlock = report->deadlock;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char *body = ks_render_text(ks_write_deadlock_text, report);
	char *json = ks_json_deadlock_string(report);
	char *spans = ks_span_id_list(span_ids, deadlock->nr_members);
	OtlpLogRecord *record = NULL;
	char id[20];

	if (!body || !json || !spans)
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
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.span_ids", spans);
	if (ks_otlp_log_add_attrs(record, &attrs) ||
	    ks_otlp_log_set_span(record, trace_id, root_id)) {
		ks_otlp_message_free(record);
		record = NULL;
	}
cleanup:
	free(body);
	free(json);
	free(spans);
	return record;
}

/*
 * Sends a record in process's resource, with the report's text as its
 * body and attrs (released, whatever happens) as its attributes.
 */
static void ks_send_finding(struct ks_telemetry *telemetry,
			    struct ks_process *process, uint64_t real_ns,
			    enum ks_otlp_severity severity,
			    const char *event_name, const char *body,
			    struct ks_otlp_attrs *attrs)
{
	struct ks_otlp_resource *resource = ks_resource_of(telemetry, process);
	OtlpLogRecord *record = NULL;

	if (resource && body)
		record = ks_otlp_log_new(real_ns, ks_now_real_ns(), severity,
					 event_name, body);
	if (record && ks_otlp_log_add_attrs(record, attrs)) {
		ks_otlp_message_free(record);
		record = NULL;
	}
	ks_otlp_attrs_release(attrs);
	if (record)
		ks_otlp_export_log(telemetry->exporter, resource,
				   &ks_scope_locks, record);
}

void ks_telemetry_inversion(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_inversion_report *report)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char *body, *json;
	char id[20];

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS))
		return;
	body = ks_render_text(ks_write_inversion_text, report);
	json = ks_json_inversion_string(report);
	snprintf(id, sizeof(id), "%016" PRIx64, report->found->id);
	ks_otlp_attrs_str(&attrs, "knotscope.inversion.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.inversion.mutexes",
			  (int64_t)report->found->nr_orders);
	if (json)
		ks_otlp_attrs_str(&attrs, "knotscope.inversion.report", json);
	ks_send_finding(telemetry, process, report->real_ns,
			KS_OTLP_SEVERITY_WARN, "knotscope.lock_order_inversion",
			json ? body : NULL, &attrs);
	free(body);
	free(json);
}

/* A stall: an ERROR record in the process it is about. */
void ks_telemetry_stall(struct ks_telemetry *telemetry,
			const struct ks_stall_report *report)
{
	const struct ks_stall *stall = report->stall;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char id[20], signals[512];
	char *body, *json;

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS))
		return;
	body = ks_render_text(ks_write_stall_text, report);
	json = ks_json_stall_string(report);
	snprintf(id, sizeof(id), "%016" PRIx64, stall->id);
	ks_otlp_attrs_str(&attrs, "knotscope.stall.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.stall.threads",
			  (int64_t)stall->nr_members);
	if (report->latency_ns >= 0)
		ks_otlp_attrs_double(&attrs,
				     "knotscope.stall.detection_latency_ms",
				     (double)report->latency_ns / 1e6);
	if (report->caught_signals_known) {
		ks_signal_set_describe(report->caught_signals, signals,
				       sizeof(signals));
		ks_otlp_attrs_str(&attrs, "knotscope.stall.signal_handlers",
				  signals);
	}
	/* Threads, waits, guesses and stacks, as the --json sink has them. */
	if (json)
		ks_otlp_attrs_str(&attrs, "knotscope.stall.report", json);
	ks_send_finding(telemetry, stall->process, report->confirmed_real_ns,
			KS_OTLP_SEVERITY_ERROR, "knotscope.stall",
			json ? body : NULL, &attrs);
	free(body);
	free(json);
}

/* A deadlock: the trace of its waits, and a log record tied to it. */
void ks_telemetry_deadlock(struct ks_telemetry *telemetry,
			   const struct ks_report *report)
{
	const struct ks_deadlock *deadlock = report->deadlock;
	size_t n = deadlock->nr_members;
	const uint8_t *trace_id = report->trace_id;
	uint8_t root_id[KS_SPAN_ID_LEN];
	uint8_t(*span_ids)[KS_SPAN_ID_LEN] = calloc(n, KS_SPAN_ID_LEN);
	struct ks_otlp_resource *resource;
	OtlpLogRecord *record;

	if (!span_ids)
		return;
	ks_span_id_new(root_id);
	for (size_t i = 0; i < n; i++)
		ks_span_id_new(span_ids[i]);
	ks_deadlock_spans(telemetry, report, trace_id, root_id, span_ids);
	resource =
		ks_resource_of(telemetry, deadlock->members[0].thread->process);
	if (resource &&
	    ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS)) {
		record = ks_deadlock_log(report, trace_id, root_id, span_ids);
		if (record)
			ks_otlp_export_log(telemetry->exporter, resource,
					   &ks_scope_locks, record);
	}
	free(span_ids);
}
