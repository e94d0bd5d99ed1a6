// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Export requests grouped by resource, and partial successes decoded. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/version.h"
#include "otlp/otlp_pack.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
	TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest
	LogsRequest;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest
	MetricsRequest;

static const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN] = { 1 };

static struct ks_otlp_resource *resource_for_pid(int64_t pid)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	ks_otlp_attrs_int(&attrs, "process.pid", pid);
	return ks_otlp_resource_new(&attrs, NULL);
}

static int64_t pid_of(const OtlpResource *resource)
{
	assert_int_equal(resource->n_attributes, 1);
	return resource->attributes[0]->value->int_value;
}

/* An item as the exporter queues it: encoded. */
static struct ks_otlp_record record_of(const void *item,
				       const struct ks_otlp_resource *res)
{
	struct ks_otlp_record record = { .resource = res };
	uint8_t *encoded;

	assert_int_equal(ks_otlp_encode_item(item, &encoded, &record.len), 0);
	record.data = encoded;
	return record;
}

static OtlpSpan *span_numbered(uint8_t n)
{
	const uint8_t span_id[KS_OTLP_SPAN_ID_LEN] = { n };
	char name[8];

	snprintf(name, sizeof(name), "s%u", n);
	return ks_otlp_span_new(trace_id, span_id, name, n, n + 1u);
}

/* records packed into one trace request, and read back. */
static TraceRequest *pack_traces(const struct ks_otlp_record *records, size_t n)
{
	TraceRequest *request;
	uint8_t *encoded;
	size_t len;

	assert_int_equal(ks_otlp_pack_request(KS_OTLP_TRACES, records, n,
					      SIZE_MAX, &encoded, &len),
			 0);
	request =
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
			NULL, len, encoded);
	free(encoded);
	assert_non_null(request);
	return request;
}

static void test_spans_grouped_by_resource_in_order(void **state)
{
	struct ks_otlp_resource *a = resource_for_pid(100);
	struct ks_otlp_resource *b = resource_for_pid(200);
	struct ks_otlp_resource *owner[] = { a, b, a, a, b };
	struct ks_otlp_record records[5];
	OtlpSpan *spans[5];
	TraceRequest *request;

	for (uint8_t i = 0; i < 5; i++) {
		spans[i] = span_numbered(i);
		records[i] = record_of(spans[i], owner[i]);
	}
	request = pack_traces(records, 5);
	assert_int_equal(request->n_resource_spans, 2);
	assert_int_equal(pid_of(request->resource_spans[0]->resource), 100);
	assert_int_equal(pid_of(request->resource_spans[1]->resource), 200);
	for (size_t r = 0; r < 2; r++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
			request->resource_spans[r];

		assert_int_equal(rs->n_scope_spans, 1);
		assert_string_equal(rs->scope_spans[0]->scope->name,
				    "knotscope");
		assert_string_equal(rs->scope_spans[0]->scope->version,
				    KS_VERSION);
	}
	assert_int_equal(request->resource_spans[0]->scope_spans[0]->n_spans,
			 3);
	assert_string_equal(
		request->resource_spans[0]->scope_spans[0]->spans[0]->name,
		"s0");
	assert_string_equal(
		request->resource_spans[0]->scope_spans[0]->spans[1]->name,
		"s2");
	assert_string_equal(
		request->resource_spans[0]->scope_spans[0]->spans[2]->name,
		"s3");
	assert_int_equal(request->resource_spans[1]->scope_spans[0]->n_spans,
			 2);
	assert_string_equal(
		request->resource_spans[1]->scope_spans[0]->spans[1]->name,
		"s4");
	protobuf_c_message_free_unpacked(&request->base, NULL);
	for (size_t i = 0; i < 5; i++) {
		ks_otlp_message_free(spans[i]);
		free((void *)records[i].data);
	}
	ks_otlp_resource_put(a);
	ks_otlp_resource_put(b);
}

static void test_scopes_group_a_resources_items(void **state)
{
	static const struct ks_otlp_scope locks = { "knotscope.locks", "1",
						    "https://s/1.37.0" };
	static const struct ks_otlp_scope http = { "knotscope.http", NULL,
						   NULL };
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_resource *a, *b = resource_for_pid(200);
	struct ks_otlp_resource *owner[] = { NULL, b, NULL, NULL };
	const struct ks_otlp_scope *scope[] = { &locks, &locks, &http, &locks };
	const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs;
	struct ks_otlp_record records[4];
	OtlpSpan *spans[4];
	TraceRequest *request;

	ks_otlp_attrs_int(&attrs, "process.pid", 100);
	a = ks_otlp_resource_new(&attrs, "https://s/1.37.0");
	for (uint8_t i = 0; i < 4; i++) {
		spans[i] = span_numbered(i);
		records[i] = record_of(spans[i], owner[i] ?: a);
		records[i].scope = scope[i];
	}
	request = pack_traces(records, 4);
	assert_int_equal(request->n_resource_spans, 2);
	rs = request->resource_spans[0];
	assert_int_equal(pid_of(rs->resource), 100);
	assert_string_equal(rs->schema_url, "https://s/1.37.0");
	assert_int_equal(rs->n_scope_spans, 2);
	assert_string_equal(rs->scope_spans[0]->scope->name, "knotscope.locks");
	assert_string_equal(rs->scope_spans[0]->schema_url, "https://s/1.37.0");
	assert_int_equal(rs->scope_spans[0]->n_spans, 2);
	assert_string_equal(rs->scope_spans[0]->spans[1]->name, "s3");
	assert_string_equal(rs->scope_spans[1]->scope->name, "knotscope.http");
	assert_string_equal(rs->scope_spans[1]->schema_url, "");
	assert_int_equal(rs->scope_spans[1]->n_spans, 1);
	rs = request->resource_spans[1];
	assert_int_equal(pid_of(rs->resource), 200);
	assert_int_equal(rs->n_scope_spans, 1);
	assert_string_equal(rs->scope_spans[0]->spans[0]->name, "s1");
	protobuf_c_message_free_unpacked(&request->base, NULL);
	for (size_t i = 0; i < 4; i++) {
		ks_otlp_message_free(spans[i]);
		free((void *)records[i].data);
	}
	ks_otlp_resource_put(a);
	ks_otlp_resource_put(b);
}

/*
 * Items long enough that every level's length takes several bytes: each
 * is packed once, in place, and reads back whole and in order.
 */
static void test_long_items_read_back_whole(void **state)
{
	enum { NR = 300, NAME_LEN = 200 };
	struct ks_otlp_resource *res = resource_for_pid(9);
	struct ks_otlp_record records[NR];
	const Opentelemetry__Proto__Trace__V1__ScopeSpans *ss;
	TraceRequest *request;
	char name[NAME_LEN + 1];

	for (size_t i = 0; i < NR; i++) {
		const uint8_t span_id[KS_OTLP_SPAN_ID_LEN] = {
			(uint8_t)i, (uint8_t)(i >> 8)
		};
		OtlpSpan *span;

		memset(name, 'a' + i % 26, NAME_LEN);
		name[NAME_LEN] = '\0';
		span = ks_otlp_span_new(trace_id, span_id, name, i, i + 1);
		records[i] = record_of(span, res);
		ks_otlp_message_free(span);
	}
	request = pack_traces(records, NR);
	assert_int_equal(request->n_resource_spans, 1);
	assert_int_equal(pid_of(request->resource_spans[0]->resource), 9);
	ss = request->resource_spans[0]->scope_spans[0];
	assert_int_equal(ss->n_spans, NR);
	for (size_t i = 0; i < NR; i++) {
		memset(name, 'a' + i % 26, NAME_LEN);
		assert_string_equal(ss->spans[i]->name, name);
		assert_int_equal(ss->spans[i]->start_time_unix_nano, i);
		assert_int_equal(ss->spans[i]->span_id.data[1], i >> 8);
		free((void *)records[i].data);
	}
	protobuf_c_message_free_unpacked(&request->base, NULL);
	ks_otlp_resource_put(res);
}

static void test_logs_and_metrics_share_the_encoder(void **state)
{
	struct ks_otlp_resource *res = resource_for_pid(7);
	OtlpLogRecord *record = ks_otlp_log_new(5, 6, KS_OTLP_SEVERITY_ERROR,
						"knotscope.deadlock", "cycle");
	OtlpMetric *metric = ks_otlp_gauge_new("g", "1", "");
	struct ks_otlp_record log_record, metric_record;
	MetricsRequest *metrics;
	LogsRequest *logs;
	uint8_t *encoded;
	size_t len;

	assert_int_equal(ks_otlp_metric_add_int(metric, NULL, 1, 2, 3), 0);
	log_record = record_of(record, res);
	metric_record = record_of(metric, res);
	assert_int_equal(ks_otlp_pack_request(KS_OTLP_LOGS, &log_record, 1,
					      SIZE_MAX, &encoded, &len),
			 0);
	logs = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, len, encoded);
	free(encoded);
	assert_int_equal(logs->n_resource_logs, 1);
	assert_int_equal(pid_of(logs->resource_logs[0]->resource), 7);
	assert_string_equal(logs->resource_logs[0]
				    ->scope_logs[0]
				    ->log_records[0]
				    ->event_name,
			    "knotscope.deadlock");

	assert_int_equal(ks_otlp_pack_request(KS_OTLP_METRICS, &metric_record,
					      1, SIZE_MAX, &encoded, &len),
			 0);
	metrics =
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
			NULL, len, encoded);
	free(encoded);
	assert_int_equal(metrics->n_resource_metrics, 1);
	assert_int_equal(metrics->resource_metrics[0]
				 ->scope_metrics[0]
				 ->metrics[0]
				 ->gauge->data_points[0]
				 ->as_int,
			 3);
	protobuf_c_message_free_unpacked(&logs->base, NULL);
	protobuf_c_message_free_unpacked(&metrics->base, NULL);
	ks_otlp_message_free(record);
	ks_otlp_message_free(metric);
	free((void *)log_record.data);
	free((void *)metric_record.data);
	ks_otlp_resource_put(res);
}

static void test_too_large_request_is_not_encoded(void **state)
{
	struct ks_otlp_resource *res = resource_for_pid(1);
	OtlpSpan *span = span_numbered(1);
	struct ks_otlp_record record = record_of(span, res);
	uint8_t *encoded = NULL;
	size_t len = 0;

	assert_int_equal(ks_otlp_pack_request(KS_OTLP_TRACES, &record, 1, 10,
					      &encoded, &len),
			 -E2BIG);
	assert_null(encoded);
	free((void *)record.data);
	ks_otlp_message_free(span);
	ks_otlp_resource_put(res);
}

static void test_partial_success_is_decoded(void **state)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse response =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess partial =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse
		logs_response =
			OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess
		logs_partial =
			OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
	uint8_t buf[128];
	char message[64];
	size_t len;

	partial.rejected_spans = 3;
	partial.error_message = (char *)"span too old";
	response.partial_success = &partial;
	len = protobuf_c_message_pack(&response.base, buf);
	assert_int_equal(ks_otlp_rejected_items(KS_OTLP_TRACES, buf, len,
						message, sizeof(message)),
			 3);
	assert_string_equal(message, "span too old");

	logs_partial.rejected_log_records = 2;
	logs_response.partial_success = &logs_partial;
	len = protobuf_c_message_pack(&logs_response.base, buf);
	assert_int_equal(ks_otlp_rejected_items(KS_OTLP_LOGS, buf, len, message,
						sizeof(message)),
			 2);
	assert_string_equal(message, "");
}

static void test_empty_or_garbled_response(void **state)
{
	static const uint8_t garbage[] = { 0x0a, 0x05, 0x08 };
	char message[16] = "stale";

	/* An empty body is an empty message: everything was accepted. */
	assert_int_equal(ks_otlp_rejected_items(KS_OTLP_METRICS, NULL, 0,
						message, sizeof(message)),
			 0);
	assert_string_equal(message, "");
	assert_int_equal(ks_otlp_rejected_items(KS_OTLP_TRACES, garbage,
						sizeof(garbage), message,
						sizeof(message)),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spans_grouped_by_resource_in_order),
		cmocka_unit_test(test_scopes_group_a_resources_items),
		cmocka_unit_test(test_long_items_read_back_whole),
		cmocka_unit_test(test_logs_and_metrics_share_the_encoder),
		cmocka_unit_test(test_too_large_request_is_not_encoded),
		cmocka_unit_test(test_partial_success_is_decoded),
		cmocka_unit_test(test_empty_or_garbled_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
