// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP message builders: what they build survives the wire intact. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "otlp/otlp_build.h"

static const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN] = {
	0x4b, 0x6e, 0x6f, 0x74, 0x73, 0x63, 0x6f, 0x70,
	0x65, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
};
static const uint8_t span_id[KS_OTLP_SPAN_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t parent_id[KS_OTLP_SPAN_ID_LEN] = {
	9, 9, 9, 9, 9, 9, 9, 9
};

/* Encodes and decodes msg, as a receiver would see it. */
static void *round_trip(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len);
	void *decoded;

	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(msg, buf), len);
	decoded = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	assert_non_null(decoded);
	return decoded;
}

static const OtlpAnyValue *find(OtlpKeyValue **kv, size_t nr, const char *key)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i]->value;
	fail_msg("no attribute %s", key);
	return NULL;
}

static void test_attributes_of_each_type(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *span = ks_otlp_span_new(trace_id, span_id, "s", 1, 2);
	OtlpSpan *seen;
	const OtlpAnyValue *v;

	assert_non_null(span);
	/* More than the list's first allocation, to make it grow. */
	for (int i = 0; i < 20; i++) {
		char key[16];

		snprintf(key, sizeof(key), "n%d", i);
		assert_int_equal(ks_otlp_attrs_int(&attrs, key, i), 0);
	}
	assert_int_equal(ks_otlp_attrs_str(&attrs, "thread.name", "worker"), 0);
	assert_int_equal(ks_otlp_attrs_str(&attrs, "empty", ""), 0);
	assert_int_equal(ks_otlp_attrs_int(&attrs, "thread.id", -42), 0);
	assert_int_equal(ks_otlp_attrs_double(&attrs, "wait.ms", 1.25), 0);
	assert_int_equal(ks_otlp_attrs_bool(&attrs, "deadlocked", true), 0);
	assert_int_equal(ks_otlp_span_add_attrs(span, &attrs), 0);
	assert_int_equal(attrs.nr, 0);
	assert_null(attrs.items);

	seen = round_trip(&span->base);
	assert_int_equal(seen->n_attributes, 25);
	v = find(seen->attributes, seen->n_attributes, "thread.name");
	assert_int_equal(
		v->value_case,
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_string_equal(v->string_value, "worker");
	v = find(seen->attributes, seen->n_attributes, "empty");
	assert_int_equal(
		v->value_case,
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
	assert_string_equal(v->string_value, "");
	v = find(seen->attributes, seen->n_attributes, "thread.id");
	assert_int_equal(
		v->value_case,
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
	assert_int_equal(v->int_value, -42);
	v = find(seen->attributes, seen->n_attributes, "wait.ms");
	assert_int_equal(
		v->value_case,
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
	assert_true(v->double_value == 1.25);
	v = find(seen->attributes, seen->n_attributes, "deadlocked");
	assert_int_equal(
		v->value_case,
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
	assert_true(v->bool_value);
	assert_int_equal(
		find(seen->attributes, seen->n_attributes, "n19")->int_value,
		19);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(span);
}

static void test_span_with_parent_status_event_and_link(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *span = ks_otlp_span_new(trace_id, span_id, "lock wait",
					  1700000000000000000ull,
					  1700000000000000500ull);
	OtlpSpan *seen;

	assert_non_null(span);
	assert_int_equal(ks_otlp_span_set_parent(span, parent_id), 0);
	assert_int_equal(ks_otlp_span_set_status(span, KS_OTLP_STATUS_OK, ""),
			 0);
	/* A second status replaces the first. */
	assert_int_equal(ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR,
						 "deadlocked"),
			 0);
	ks_otlp_attrs_int(&attrs, "thread.id", 7);
	assert_int_equal(ks_otlp_span_add_event(span, "cycle confirmed",
						1700000000000000400ull, &attrs),
			 0);
	assert_int_equal(attrs.nr, 0);
	assert_int_equal(ks_otlp_span_add_link(span, trace_id, parent_id, NULL),
			 0);

	seen = round_trip(&span->base);
	assert_int_equal(seen->trace_id.len, 16);
	assert_memory_equal(seen->trace_id.data, trace_id, 16);
	assert_memory_equal(seen->span_id.data, span_id, 8);
	assert_memory_equal(seen->parent_span_id.data, parent_id, 8);
	assert_string_equal(seen->name, "lock wait");
	assert_int_equal(seen->kind, KS_OTLP_SPAN_INTERNAL);
	assert_int_equal(seen->start_time_unix_nano, 1700000000000000000ull);
	assert_int_equal(seen->end_time_unix_nano, 1700000000000000500ull);
	assert_int_equal(seen->status->code, KS_OTLP_STATUS_ERROR);
	assert_string_equal(seen->status->message, "deadlocked");
	assert_int_equal(seen->n_events, 1);
	assert_string_equal(seen->events[0]->name, "cycle confirmed");
	assert_int_equal(seen->events[0]->n_attributes, 1);
	assert_int_equal(seen->n_links, 1);
	assert_memory_equal(seen->links[0]->span_id.data, parent_id, 8);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(span);
}

static void test_log_record_is_an_event_with_severity_text(void **state)
{
	OtlpLogRecord *record = ks_otlp_log_new(
		1700000000000000000ull, 1700000000000000001ull,
		KS_OTLP_SEVERITY_ERROR, "knotscope.deadlock", "2 threads");
	OtlpLogRecord *seen;

	assert_non_null(record);
	assert_int_equal(ks_otlp_log_set_span(record, trace_id, span_id), 0);
	seen = round_trip(&record->base);
	assert_int_equal(seen->time_unix_nano, 1700000000000000000ull);
	assert_int_equal(seen->observed_time_unix_nano, 1700000000000000001ull);
	assert_int_equal(seen->severity_number, 17);
	assert_string_equal(seen->severity_text, "ERROR");
	assert_string_equal(seen->event_name, "knotscope.deadlock");
	assert_string_equal(seen->body->string_value, "2 threads");
	assert_memory_equal(seen->trace_id.data, trace_id, 16);
	assert_memory_equal(seen->span_id.data, span_id, 8);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(record);

	record = ks_otlp_log_new(1, 2, KS_OTLP_SEVERITY_WARN, NULL, "");
	assert_string_equal(record->severity_text, "WARN");
	assert_string_equal(record->event_name, "");
	ks_otlp_message_free(record);
}

static void test_gauge_and_sum_points(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpMetric *gauge = ks_otlp_gauge_new("knotscope.threads", "{thread}",
					      "threads watched");
	OtlpMetric *sum = ks_otlp_sum_new("knotscope.wait.time", "s", "",
					  KS_OTLP_CUMULATIVE, true);
	OtlpMetric *seen;

	ks_otlp_attrs_str(&attrs, "state", "blocked");
	assert_int_equal(ks_otlp_metric_add_int(gauge, &attrs, 0, 10, -3), 0);
	assert_int_equal(ks_otlp_metric_add_int(gauge, NULL, 0, 10, 4), 0);
	assert_int_equal(ks_otlp_metric_add_double(sum, NULL, 5, 10, 0.5), 0);
	assert_int_equal(ks_otlp_metric_points(gauge), 2);
	assert_int_equal(ks_otlp_metric_points(sum), 1);

	seen = round_trip(&gauge->base);
	assert_string_equal(seen->name, "knotscope.threads");
	assert_string_equal(seen->unit, "{thread}");
	assert_int_equal(seen->gauge->n_data_points, 2);
	assert_int_equal(seen->gauge->data_points[0]->as_int, -3);
	assert_int_equal(seen->gauge->data_points[0]->n_attributes, 1);
	assert_int_equal(seen->gauge->data_points[1]->as_int, 4);
	protobuf_c_message_free_unpacked(&seen->base, NULL);

	seen = round_trip(&sum->base);
	assert_true(seen->sum->is_monotonic);
	assert_int_equal(seen->sum->aggregation_temporality,
			 KS_OTLP_CUMULATIVE);
	assert_int_equal(seen->sum->data_points[0]->start_time_unix_nano, 5);
	assert_true(seen->sum->data_points[0]->as_double == 0.5);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(gauge);
	ks_otlp_message_free(sum);
}

static void test_histogram_point_counts_its_buckets(void **state)
{
	static const double bounds[] = { 0.001, 0.01, 0.1 };
	static const uint64_t counts[] = { 1, 2, 3, 4 };
	const struct ks_otlp_histogram_values values = {
		.bounds = bounds,
		.nr_bounds = 3,
		.counts = counts,
		.sum = 2.5,
		.has_min_max = true,
		.min = 0.0005,
		.max = 1.5,
	};
	static const uint64_t no_counts[] = { 0, 0, 0, 0 };
	struct ks_otlp_histogram_values empty = values;
	OtlpMetric *histogram = ks_otlp_histogram_new(
		"knotscope.wait.duration", "s", "lock waits", KS_OTLP_DELTA);
	OtlpHistogramDataPoint *point;
	OtlpMetric *seen;

	empty.counts = no_counts;
	empty.sum = 0;
	assert_int_equal(ks_otlp_histogram_add(histogram, NULL, 1, 2, &values),
			 0);
	assert_int_equal(ks_otlp_histogram_add(histogram, NULL, 2, 3, &empty),
			 0);
	seen = round_trip(&histogram->base);
	assert_int_equal(seen->histogram->aggregation_temporality,
			 KS_OTLP_DELTA);
	point = seen->histogram->data_points[0];
	assert_int_equal(point->count, 10);
	assert_int_equal(point->n_bucket_counts, 4);
	assert_memory_equal(point->bucket_counts, counts, sizeof(counts));
	assert_int_equal(point->n_explicit_bounds, 3);
	assert_memory_equal(point->explicit_bounds, bounds, sizeof(bounds));
	assert_int_equal(
		point->_sum_case,
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
	assert_true(point->sum == 2.5);
	assert_true(point->min == 0.0005 && point->max == 1.5);
	/* Nothing recorded: no extremes, but a sum of zero. */
	point = seen->histogram->data_points[1];
	assert_int_equal(point->count, 0);
	assert_int_equal(
		point->_sum_case,
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM);
	assert_int_equal(
		point->_min_case,
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN__NOT_SET);
	assert_int_equal(
		point->_max_case,
		OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX__NOT_SET);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(histogram);
}

static void test_points_of_the_wrong_kind_are_refused(void **state)
{
	static const uint64_t counts[] = { 1 };
	const struct ks_otlp_histogram_values values = { .counts = counts };
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpMetric *histogram =
		ks_otlp_histogram_new("h", "s", "", KS_OTLP_DELTA);
	OtlpMetric *gauge = ks_otlp_gauge_new("g", "1", "");

	ks_otlp_attrs_int(&attrs, "a", 1);
	assert_int_equal(ks_otlp_metric_add_int(histogram, &attrs, 0, 1, 1),
			 -EINVAL);
	/* Refused or not, the attributes were taken. */
	assert_int_equal(attrs.nr, 0);
	assert_int_equal(ks_otlp_histogram_add(gauge, NULL, 0, 1, &values),
			 -EINVAL);
	assert_int_equal(ks_otlp_metric_points(histogram), 0);
	assert_int_equal(ks_otlp_metric_points(gauge), 0);
	ks_otlp_message_free(histogram);
	ks_otlp_message_free(gauge);
}

static void test_failed_attribute_list_is_reported_on_move(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *span = ks_otlp_span_new(trace_id, span_id, "s", 1, 2);

	assert_non_null(span);
	ks_otlp_attrs_int(&attrs, "kept", 1);
	/* As if an allocation had failed on the way. */
	attrs.failed = true;
	assert_int_equal(ks_otlp_span_add_attrs(span, &attrs), -ENOMEM);
	assert_null(span->attributes);
	assert_int_equal(span->n_attributes, 0);
	assert_int_equal(attrs.nr, 0);
	assert_false(attrs.failed);
	ks_otlp_message_free(span);
}

/*
 * Repeated fields grow inside the tree's arena, by copying: every item
 * must survive the copies, in order, and lists moved later append.
 */
static void test_repeated_fields_keep_every_item_in_order(void **state)
{
	OtlpSpan *span = ks_otlp_span_new(trace_id, span_id, "s", 1, 2);
	OtlpSpan *seen;
	char name[16];

	assert_non_null(span);
	for (int i = 0; i < 40; i++) {
		struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

		snprintf(name, sizeof(name), "e%d", i);
		ks_otlp_attrs_int(&attrs, "i", i);
		assert_int_equal(
			ks_otlp_span_add_event(span, name, (uint64_t)i, &attrs),
			0);
	}
	for (int round = 0; round < 3; round++) {
		struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

		for (int i = 0; i < 30; i++) {
			snprintf(name, sizeof(name), "a%d", round * 30 + i);
			/* Long values fill several of the list's blocks. */
			ks_otlp_attrs_str(&attrs, name,
					  "a value long enough to need more "
					  "than one block of the arena for a "
					  "list of thirty of them, surely");
		}
		assert_int_equal(ks_otlp_span_add_attrs(span, &attrs), 0);
	}

	seen = round_trip(&span->base);
	assert_int_equal(seen->n_events, 40);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_string_equal(seen->events[i]->name, name);
		assert_int_equal(
			seen->events[i]->attributes[0]->value->int_value, i);
	}
	assert_int_equal(seen->n_attributes, 90);
	for (int i = 0; i < 90; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		assert_string_equal(seen->attributes[i]->key, name);
	}
	protobuf_c_message_free_unpacked(&seen->base, NULL);
	ks_otlp_message_free(span);
}

/* A span's own attributes, then the ones its connection shares. */
static void add_own_attrs(OtlpSpan *span)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	ks_otlp_attrs_str(&attrs, "http.request.method", "GET");
	ks_otlp_attrs_int(&attrs, "http.response.status_code", 503);
	assert_int_equal(ks_otlp_span_add_attrs(span, &attrs), 0);
}

static void fill_shared_attrs(struct ks_otlp_attrs *attrs)
{
	ks_otlp_attrs_str(attrs, "server.address", "example.com");
	ks_otlp_attrs_int(attrs, "server.port", 8080);
	ks_otlp_attrs_int(attrs, "thread.id", -1);
}

static void fill_more_shared_attrs(struct ks_otlp_attrs *attrs)
{
	ks_otlp_attrs_double(attrs, "ratio", 0.25);
	ks_otlp_attrs_bool(attrs, "flag", true);
	ks_otlp_attrs_str(attrs, "empty", "");
}

static OtlpSpan *span_with_status(void)
{
	OtlpSpan *span = ks_otlp_span_new(trace_id, span_id, "GET", 1, 2);

	assert_non_null(span);
	assert_int_equal(
		ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR, "down"), 0);
	return span;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(msg);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(msg, buf), *len);
	return buf;
}

/*
 * Attributes encoded once and copied onto spans are the attributes
 * protobuf-c would have encoded from the tree: decoded, the span is the
 * one built with all of them as nodes, and encodes to the same bytes.
 */
static void test_encoded_attrs_are_what_protobuf_c_encodes(void **state)
{
	struct ks_otlp_encoded_attrs encoded = KS_OTLP_ENCODED_ATTRS_INIT;
	struct ks_otlp_encoded_attrs more = KS_OTLP_ENCODED_ATTRS_INIT;
	struct ks_otlp_encoded_attrs none = KS_OTLP_ENCODED_ATTRS_INIT;
	const struct ks_otlp_encoded_attrs *lists[] = { &encoded, &none,
							&more };
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *reference = span_with_status(), *seen;
	size_t reference_len, len;
	uint8_t *reference_bytes, *bytes;

	add_own_attrs(reference);
	fill_shared_attrs(&attrs);
	fill_more_shared_attrs(&attrs);
	assert_int_equal(ks_otlp_span_add_attrs(reference, &attrs), 0);
	reference_bytes = pack(&reference->base, &reference_len);

	fill_shared_attrs(&attrs);
	assert_int_equal(ks_otlp_attrs_encode(&attrs, &encoded), 0);
	assert_int_equal(attrs.nr, 0);
	fill_more_shared_attrs(&attrs);
	assert_int_equal(ks_otlp_attrs_encode(&attrs, &more), 0);
	assert_int_equal(ks_otlp_attrs_encode(&attrs, &none), 0);
	assert_int_equal(none.len, 0);
	/* Every span gets a copy of the same bytes. */
	for (int i = 0; i < 2; i++) {
		OtlpSpan *span = span_with_status();

		add_own_attrs(span);
		assert_int_equal(ks_otlp_span_add_encoded_attrs(span, lists, 3),
				 0);
		seen = round_trip(&span->base);
		ks_otlp_message_free(span);
		assert_int_equal(seen->base.n_unknown_fields, 0);
		assert_int_equal(seen->n_attributes, 8);
		assert_string_equal(seen->attributes[0]->key,
				    "http.request.method");
		assert_string_equal(seen->attributes[2]->key, "server.address");
		assert_string_equal(seen->attributes[7]->key, "empty");
		assert_string_equal(seen->status->message, "down");
		bytes = pack(&seen->base, &len);
		assert_int_equal(len, reference_len);
		assert_memory_equal(bytes, reference_bytes, len);
		free(bytes);
		protobuf_c_message_free_unpacked(&seen->base, NULL);
	}
	ks_otlp_encoded_attrs_release(&encoded);
	ks_otlp_encoded_attrs_release(&more);
	free(reference_bytes);
	ks_otlp_message_free(reference);
}

static void test_failed_attribute_list_encodes_to_nothing(void **state)
{
	struct ks_otlp_encoded_attrs encoded = KS_OTLP_ENCODED_ATTRS_INIT;
	const struct ks_otlp_encoded_attrs *list = &encoded;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpSpan *span = span_with_status();
	size_t before, after;

	fill_shared_attrs(&attrs);
	assert_int_equal(ks_otlp_attrs_encode(&attrs, &encoded), 0);
	fill_shared_attrs(&attrs);
	attrs.failed = true;
	assert_int_equal(ks_otlp_attrs_encode(&attrs, &encoded), -ENOMEM);
	assert_int_equal(encoded.len, 0);
	assert_null(encoded.data);
	assert_int_equal(attrs.nr, 0);
	free(pack(&span->base, &before));
	assert_int_equal(ks_otlp_span_add_encoded_attrs(span, &list, 1), 0);
	free(pack(&span->base, &after));
	assert_int_equal(after, before);
	ks_otlp_message_free(span);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attributes_of_each_type),
		cmocka_unit_test(test_span_with_parent_status_event_and_link),
		cmocka_unit_test(
			test_log_record_is_an_event_with_severity_text),
		cmocka_unit_test(test_gauge_and_sum_points),
		cmocka_unit_test(test_histogram_point_counts_its_buckets),
		cmocka_unit_test(test_points_of_the_wrong_kind_are_refused),
		cmocka_unit_test(
			test_failed_attribute_list_is_reported_on_move),
		cmocka_unit_test(test_repeated_fields_keep_every_item_in_order),
		cmocka_unit_test(
			test_encoded_attrs_are_what_protobuf_c_encodes),
		cmocka_unit_test(test_failed_attribute_list_encodes_to_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
