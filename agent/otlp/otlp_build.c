// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp_build.h"

#define KS_ANY_VALUE(member) \
	OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##member
#define KS_METRIC_DATA(member) \
	OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##member
#define KS_NUMBER_VALUE(member) \
	OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_##member
#define KS_HISTOGRAM_ONEOF(field) \
	OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__##field

/* Span.attributes in opentelemetry/proto/trace/v1/trace.proto. */
#define KS_OTLP_SPAN_ATTRIBUTES_FIELD 9

/*
 * Every message built here is the root of a tree that lives in one arena,
 * which sits right before the root: its nodes, strings, bytes and arrays
 * are bumped out of a few blocks and freed at once.  A span and its
 * attributes cost a malloc() or two instead of one per node and string,
 * and nothing walks the tree to free it.
 */
struct ks_otlp_tree {
	struct ks_arena arena;
	alignas(max_align_t) unsigned char message[];
};

static struct ks_arena *ks_arena_of(const void *message)
{
	return &((struct ks_otlp_tree *)((char *)message -
					 offsetof(struct ks_otlp_tree,
						  message)))
			->arena;
}

void ks_otlp_message_free(void *message)
{
	if (message)
		ks_arena_release(ks_arena_of(message));
}

static void *ks_message_new(struct ks_arena *arena,
			    const ProtobufCMessageDescriptor *descriptor)
{
	void *message = ks_arena_alloc(arena, descriptor->sizeof_message);

	if (message)
		protobuf_c_message_init(descriptor, message);
	return message;
}

/* A message that roots a tree of its own. */
static void *ks_root_new(const ProtobufCMessageDescriptor *descriptor)
{
	struct ks_arena arena = KS_ARENA_INIT;
	struct ks_otlp_tree *tree = ks_arena_alloc(
		&arena, sizeof(*tree) + descriptor->sizeof_message);

	if (!tree)
		return NULL;
	tree->arena = arena;
	protobuf_c_message_init(descriptor, tree->message);
	return tree->message;
}

/*
 * The array of a protobuf-c repeated field, which holds nr elements, with
 * room for one more: arena arrays cannot be reallocated, so they double,
 * from 4, and the copy left behind is freed with the tree.
 */
static void *ks_room_for_one_more(struct ks_arena *arena, void *array,
				  size_t nr, size_t elem_size)
{
	void *grown;

	if (nr && (nr < 4 || (nr & (nr - 1))))
		return array;
	grown = ks_arena_alloc(arena, (nr < 4 ? 4 : nr * 2) * elem_size);
	if (grown && nr)
		memcpy(grown, array, nr * elem_size);
	return grown;
}

/* Appends item to a protobuf-c repeated field (array, nr): 0 or -1. */
#define ks_push(arena, array, nr, item)                           \
	({                                                        \
		__typeof__(array) grown_ = ks_room_for_one_more(  \
			(arena), (array), (nr), sizeof(*grown_)); \
		if (grown_) {                                     \
			(array) = grown_;                         \
			(array)[(nr)++] = (item);                 \
		}                                                 \
		grown_ ? 0 : -1;                                  \
	})

/*
 * Fields start at protobuf-c's shared empty string: an empty or absent
 * value can stay there, anything else is copied into the tree.
 */
static int ks_set_string(struct ks_arena *arena, char **field,
			 const char *value)
{
	char *copy;

	if (!value || !*value)
		return 0;
	copy = ks_arena_strdup(arena, value);
	if (!copy)
		return -ENOMEM;
	*field = copy;
	return 0;
}

static int ks_set_bytes(struct ks_arena *arena, ProtobufCBinaryData *field,
			const uint8_t *data, size_t len)
{
	uint8_t *copy = ks_arena_alloc(arena, len);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	field->data = copy;
	field->len = len;
	return 0;
}

/*
 * A key with a value of the given kind, which the caller then sets, in the
 * list's own arena until the list is moved onto a message.
 */
static OtlpKeyValue *
ks_key_value_new(struct ks_otlp_attrs *attrs, const char *key,
		 Opentelemetry__Proto__Common__V1__AnyValue__ValueCase kind)
{
	OtlpKeyValue *kv = ks_message_new(
		&attrs->arena,
		&opentelemetry__proto__common__v1__key_value__descriptor);

	if (!kv)
		return NULL;
	kv->value = ks_message_new(
		&attrs->arena,
		&opentelemetry__proto__common__v1__any_value__descriptor);
	if (!kv->value || ks_set_string(&attrs->arena, &kv->key, key))
		return NULL;
	kv->value->value_case = kind;
	return kv;
}

static int ks_attrs_push(struct ks_otlp_attrs *attrs, OtlpKeyValue *kv)
{
	if (!kv || ks_push(&attrs->arena, attrs->items, attrs->nr, kv)) {
		attrs->failed = true;
		return -ENOMEM;
	}
	return 0;
}

int ks_otlp_attrs_str(struct ks_otlp_attrs *attrs, const char *key,
		      const char *value)
{
	OtlpKeyValue *kv =
		ks_key_value_new(attrs, key, KS_ANY_VALUE(STRING_VALUE));

	/* Always a copy, even when empty: a oneof member has no default. */
	if (kv &&
	    !(kv->value->string_value = ks_arena_strdup(&attrs->arena, value)))
		kv = NULL;
	return ks_attrs_push(attrs, kv);
}

int ks_otlp_attrs_int(struct ks_otlp_attrs *attrs, const char *key,
		      int64_t value)
{
	OtlpKeyValue *kv =
		ks_key_value_new(attrs, key, KS_ANY_VALUE(INT_VALUE));

	if (kv)
		kv->value->int_value = value;
	return ks_attrs_push(attrs, kv);
}

int ks_otlp_attrs_double(struct ks_otlp_attrs *attrs, const char *key,
			 double value)
{
	OtlpKeyValue *kv =
		ks_key_value_new(attrs, key, KS_ANY_VALUE(DOUBLE_VALUE));

	if (kv)
		kv->value->double_value = value;
	return ks_attrs_push(attrs, kv);
}

int ks_otlp_attrs_bool(struct ks_otlp_attrs *attrs, const char *key, bool value)
{
	OtlpKeyValue *kv =
		ks_key_value_new(attrs, key, KS_ANY_VALUE(BOOL_VALUE));

	if (kv)
		kv->value->bool_value = value;
	return ks_attrs_push(attrs, kv);
}

const char *ks_otlp_attrs_find_str(const struct ks_otlp_attrs *attrs,
				   const char *key)
{
	for (size_t i = 0; i < attrs->nr; i++)
		if (!strcmp(attrs->items[i]->key, key))
			return attrs->items[i]->value->value_case ==
					       KS_ANY_VALUE(STRING_VALUE) ?
				       attrs->items[i]->value->string_value :
				       NULL;
	return NULL;
}

void ks_otlp_attrs_release(struct ks_otlp_attrs *attrs)
{
	if (!attrs)
		return;
	ks_arena_release(&attrs->arena);
	memset(attrs, 0, sizeof(*attrs));
}

/*
 * Appends the list's attributes to a repeated KeyValue field of a tree in
 * arena, which takes over the list's memory; the list is left empty.
 * -ENOMEM if an earlier add failed or the field could not grow: the field
 * is then unchanged and the list released.  attrs may be NULL.
 */
static int ks_attrs_move(struct ks_arena *arena, struct ks_otlp_attrs *attrs,
			 OtlpKeyValue ***field, size_t *nr_field)
{
	OtlpKeyValue **grown;
	int ret = 0;

	if (!attrs || (!attrs->nr && !attrs->failed))
		return 0;
	if (attrs->failed) {
		ret = -ENOMEM;
		goto cleanup;
	}
	grown = ks_arena_alloc(arena, (*nr_field + attrs->nr) * sizeof(*grown));
	if (!grown) {
		ret = -ENOMEM;
		goto cleanup;
	}
	if (*nr_field)
		memcpy(grown, *field, *nr_field * sizeof(*grown));
	memcpy(grown + *nr_field, attrs->items,
	       attrs->nr * sizeof(*attrs->items));
	*field = grown;
	*nr_field += attrs->nr;
	/* The nodes now belong to the tree: only the list's array goes. */
	ks_arena_adopt(arena, &attrs->arena);
cleanup:
	ks_otlp_attrs_release(attrs);
	return ret;
}

int ks_otlp_span_add_attrs(OtlpSpan *span, struct ks_otlp_attrs *attrs)
{
	return ks_attrs_move(ks_arena_of(span), attrs, &span->attributes,
			     &span->n_attributes);
}

int ks_otlp_log_add_attrs(OtlpLogRecord *record, struct ks_otlp_attrs *attrs)
{
	return ks_attrs_move(ks_arena_of(record), attrs, &record->attributes,
			     &record->n_attributes);
}

void ks_otlp_encoded_attrs_release(struct ks_otlp_encoded_attrs *encoded)
{
	free(encoded->data);
	memset(encoded, 0, sizeof(*encoded));
}

/*
 * A span with nothing but the attributes packs to their field alone: each
 * KeyValue under the field's tag, with its length, as in any span.
 */
int ks_otlp_attrs_encode(struct ks_otlp_attrs *attrs,
			 struct ks_otlp_encoded_attrs *encoded)
{
	OtlpSpan *span =
		ks_root_new(&opentelemetry__proto__trace__v1__span__descriptor);
	int ret = -ENOMEM;

	ks_otlp_encoded_attrs_release(encoded);
	if (!span || ks_otlp_span_add_attrs(span, attrs))
		goto cleanup;
	encoded->len = protobuf_c_message_get_packed_size(&span->base);
	encoded->data = malloc(encoded->len ? encoded->len : 1);
	if (!encoded->data) {
		encoded->len = 0;
		goto cleanup;
	}
	protobuf_c_message_pack(&span->base, encoded->data);
	ret = 0;
cleanup:
	ks_otlp_attrs_release(attrs);
	ks_otlp_message_free(span);
	return ret;
}

/*
 * protobuf-c packs a message's unknown fields after its known ones: a tag,
 * then the data as it is.  One whose tag is the first attribute's and
 * whose data is all that follows that tag packs to the encoded attributes,
 * byte for byte.
 */
static void ks_encoded_field(ProtobufCMessageUnknownField *field,
			     const struct ks_otlp_encoded_attrs *encoded,
			     uint8_t *copy)
{
	size_t tag_len = 0;

	/* The tag is a varint: its last byte has the high bit clear. */
	while (encoded->data[tag_len++] & 0x80)
		;
	memcpy(copy, encoded->data + tag_len, encoded->len - tag_len);
	*field = (ProtobufCMessageUnknownField){
		.tag = KS_OTLP_SPAN_ATTRIBUTES_FIELD,
		.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
		.len = encoded->len - tag_len,
		.data = copy,
	};
}

int ks_otlp_span_add_encoded_attrs(
	OtlpSpan *span, const struct ks_otlp_encoded_attrs *const *encoded,
	size_t nr)
{
	struct ks_arena *arena = ks_arena_of(span);
	size_t had = span->base.n_unknown_fields, len = 0;
	ProtobufCMessageUnknownField *fields;
	uint8_t *data;

	for (size_t i = 0; i < nr; i++)
		len += encoded[i]->len;
	if (!len)
		return 0;
	fields = ks_arena_alloc(arena, (had + nr) * sizeof(*fields));
	data = ks_arena_alloc(arena, len);
	if (!fields || !data)
		return -ENOMEM;
	if (had)
		memcpy(fields, span->base.unknown_fields,
		       had * sizeof(*fields));
	span->base.unknown_fields = fields;
	for (size_t i = 0; i < nr; i++) {
		if (!encoded[i]->len)
			continue;
		ks_encoded_field(&fields[span->base.n_unknown_fields++],
				 encoded[i], data);
		data += encoded[i]->len;
	}
	return 0;
}

OtlpResource *ks_otlp_resource_message_new(struct ks_otlp_attrs *attrs)
{
	OtlpResource *resource = ks_root_new(
		&opentelemetry__proto__resource__v1__resource__descriptor);

	if (!resource) {
		ks_otlp_attrs_release(attrs);
		return NULL;
	}
	if (ks_attrs_move(ks_arena_of(resource), attrs, &resource->attributes,
			  &resource->n_attributes)) {
		ks_otlp_message_free(resource);
		return NULL;
	}
	return resource;
}

OtlpSpan *ks_otlp_span_new(const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			   const uint8_t span_id[KS_OTLP_SPAN_ID_LEN],
			   const char *name, uint64_t start_ns, uint64_t end_ns)
{
	OtlpSpan *span =
		ks_root_new(&opentelemetry__proto__trace__v1__span__descriptor);
	struct ks_arena *arena;

	if (!span)
		return NULL;
	arena = ks_arena_of(span);
	if (ks_set_bytes(arena, &span->trace_id, trace_id,
			 KS_OTLP_TRACE_ID_LEN) ||
	    ks_set_bytes(arena, &span->span_id, span_id, KS_OTLP_SPAN_ID_LEN) ||
	    ks_set_string(arena, &span->name, name)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	span->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)
		KS_OTLP_SPAN_INTERNAL;
	span->start_time_unix_nano = start_ns;
	span->end_time_unix_nano = end_ns;
	return span;
}

int ks_otlp_span_set_parent(OtlpSpan *span,
			    const uint8_t parent_id[KS_OTLP_SPAN_ID_LEN])
{
	return ks_set_bytes(ks_arena_of(span), &span->parent_span_id, parent_id,
			    KS_OTLP_SPAN_ID_LEN);
}

void ks_otlp_span_set_kind(OtlpSpan *span, enum ks_otlp_span_kind kind)
{
	span->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)kind;
}

int ks_otlp_span_set_context(OtlpSpan *span, uint32_t flags,
			     const char *trace_state)
{
	span->flags = flags;
	return ks_set_string(ks_arena_of(span), &span->trace_state,
			     trace_state);
}

int ks_otlp_span_set_status(OtlpSpan *span, enum ks_otlp_status_code code,
			    const char *message)
{
	struct ks_arena *arena = ks_arena_of(span);
	OtlpStatus *status = ks_message_new(
		arena, &opentelemetry__proto__trace__v1__status__descriptor);

	if (!status)
		return -ENOMEM;
	status->code =
		(Opentelemetry__Proto__Trace__V1__Status__StatusCode)code;
	if (ks_set_string(arena, &status->message, message))
		return -ENOMEM;
	/* A status set before stays in the arena, unreachable, until freed. */
	span->status = status;
	return 0;
}

int ks_otlp_span_add_event(OtlpSpan *span, const char *name, uint64_t time_ns,
			   struct ks_otlp_attrs *attrs)
{
	struct ks_arena *arena = ks_arena_of(span);
	OtlpSpanEvent *event = ks_message_new(
		arena,
		&opentelemetry__proto__trace__v1__span__event__descriptor);
	int ret = -ENOMEM;

	if (!event)
		goto cleanup;
	event->time_unix_nano = time_ns;
	if (ks_set_string(arena, &event->name, name))
		goto cleanup;
	ret = ks_attrs_move(arena, attrs, &event->attributes,
			    &event->n_attributes);
	if (!ret && ks_push(arena, span->events, span->n_events, event))
		ret = -ENOMEM;
cleanup:
	ks_otlp_attrs_release(attrs);
	return ret;
}

int ks_otlp_span_add_link(OtlpSpan *span,
			  const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			  const uint8_t span_id[KS_OTLP_SPAN_ID_LEN],
			  struct ks_otlp_attrs *attrs)
{
	struct ks_arena *arena = ks_arena_of(span);
	OtlpSpanLink *link = ks_message_new(
		arena,
		&opentelemetry__proto__trace__v1__span__link__descriptor);
	int ret = -ENOMEM;

	if (!link)
		goto cleanup;
	if (ks_set_bytes(arena, &link->trace_id, trace_id,
			 KS_OTLP_TRACE_ID_LEN) ||
	    ks_set_bytes(arena, &link->span_id, span_id, KS_OTLP_SPAN_ID_LEN))
		goto cleanup;
	ret = ks_attrs_move(arena, attrs, &link->attributes,
			    &link->n_attributes);
	if (!ret && ks_push(arena, span->links, span->n_links, link))
		ret = -ENOMEM;
cleanup:
	ks_otlp_attrs_release(attrs);
	return ret;
}

static const char *ks_severity_text(enum ks_otlp_severity severity)
{
	/* Four numbers per level, TRACE (1-4) to FATAL (21-24). */
	static const char *const levels[] = { "TRACE", "DEBUG", "INFO",
					      "WARN",  "ERROR", "FATAL" };
	unsigned int level = ((unsigned int)severity - 1) / 4;

	return severity >= 1 && level < 6 ? levels[level] : NULL;
}

OtlpLogRecord *ks_otlp_log_new(uint64_t time_ns, uint64_t observed_ns,
			       enum ks_otlp_severity severity,
			       const char *event_name, const char *body)
{
	OtlpLogRecord *record = ks_root_new(
		&opentelemetry__proto__logs__v1__log_record__descriptor);
	struct ks_arena *arena;

	if (!record)
		return NULL;
	arena = ks_arena_of(record);
	record->time_unix_nano = time_ns;
	record->observed_time_unix_nano = observed_ns;
	record->severity_number =
		(Opentelemetry__Proto__Logs__V1__SeverityNumber)severity;
	record->body = ks_message_new(
		arena,
		&opentelemetry__proto__common__v1__any_value__descriptor);
	if (!record->body)
		goto failed;
	record->body->string_value = ks_arena_strdup(arena, body);
	if (!record->body->string_value)
		goto failed;
	record->body->value_case = KS_ANY_VALUE(STRING_VALUE);
	if (ks_set_string(arena, &record->severity_text,
			  ks_severity_text(severity)) ||
	    ks_set_string(arena, &record->event_name, event_name))
		goto failed;
	return record;
failed:
	ks_otlp_message_free(record);
	return NULL;
}

int ks_otlp_log_set_span(OtlpLogRecord *record,
			 const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			 const uint8_t span_id[KS_OTLP_SPAN_ID_LEN])
{
	struct ks_arena *arena = ks_arena_of(record);

	if (ks_set_bytes(arena, &record->trace_id, trace_id,
			 KS_OTLP_TRACE_ID_LEN) ||
	    ks_set_bytes(arena, &record->span_id, span_id, KS_OTLP_SPAN_ID_LEN))
		return -ENOMEM;
	return 0;
}

/* A metric of the kind data_case, with its empty data message. */
static OtlpMetric *
ks_metric_new(const char *name, const char *unit, const char *description,
	      Opentelemetry__Proto__Metrics__V1__Metric__DataCase data_case,
	      const ProtobufCMessageDescriptor *data_descriptor)
{
	OtlpMetric *metric = ks_root_new(
		&opentelemetry__proto__metrics__v1__metric__descriptor);
	struct ks_arena *arena;
	void *data;

	if (!metric)
		return NULL;
	arena = ks_arena_of(metric);
	data = ks_message_new(arena, data_descriptor);
	if (!data)
		goto failed;
	metric->data_case = data_case;
	if (data_case == KS_METRIC_DATA(GAUGE))
		metric->gauge = data;
	else if (data_case == KS_METRIC_DATA(SUM))
		metric->sum = data;
	else
		metric->histogram = data;
	if (ks_set_string(arena, &metric->name, name) ||
	    ks_set_string(arena, &metric->unit, unit) ||
	    ks_set_string(arena, &metric->description, description))
		goto failed;
	return metric;
failed:
	ks_otlp_message_free(metric);
	return NULL;
}

OtlpMetric *ks_otlp_gauge_new(const char *name, const char *unit,
			      const char *description)
{
	return ks_metric_new(
		name, unit, description, KS_METRIC_DATA(GAUGE),
		&opentelemetry__proto__metrics__v1__gauge__descriptor);
}

OtlpMetric *ks_otlp_sum_new(const char *name, const char *unit,
			    const char *description,
			    enum ks_otlp_temporality temporality,
			    bool monotonic)
{
	OtlpMetric *metric = ks_metric_new(
		name, unit, description, KS_METRIC_DATA(SUM),
		&opentelemetry__proto__metrics__v1__sum__descriptor);

	if (metric) {
		metric->sum->aggregation_temporality =
			(Opentelemetry__Proto__Metrics__V1__AggregationTemporality)
				temporality;
		metric->sum->is_monotonic = monotonic;
	}
	return metric;
}

OtlpMetric *ks_otlp_histogram_new(const char *name, const char *unit,
				  const char *description,
				  enum ks_otlp_temporality temporality)
{
	OtlpMetric *metric = ks_metric_new(
		name, unit, description, KS_METRIC_DATA(HISTOGRAM),
		&opentelemetry__proto__metrics__v1__histogram__descriptor);

	if (metric)
		metric->histogram->aggregation_temporality =
			(Opentelemetry__Proto__Metrics__V1__AggregationTemporality)
				temporality;
	return metric;
}

/* Adds a point with its value set by the caller; takes point and attrs. */
static int ks_metric_add_number(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
				OtlpNumberDataPoint *point)
{
	struct ks_arena *arena = ks_arena_of(metric);
	bool gauge = metric->data_case == KS_METRIC_DATA(GAUGE);
	int ret = -EINVAL;

	if (!gauge && metric->data_case != KS_METRIC_DATA(SUM))
		goto cleanup;
	ret = -ENOMEM;
	if (!point)
		goto cleanup;
	ret = ks_attrs_move(arena, attrs, &point->attributes,
			    &point->n_attributes);
	if (ret)
		goto cleanup;
	if (gauge ? ks_push(arena, metric->gauge->data_points,
			    metric->gauge->n_data_points, point) :
		    ks_push(arena, metric->sum->data_points,
			    metric->sum->n_data_points, point))
		ret = -ENOMEM;
cleanup:
	ks_otlp_attrs_release(attrs);
	return ret;
}

static OtlpNumberDataPoint *
ks_number_point_new(OtlpMetric *metric, uint64_t start_ns, uint64_t time_ns)
{
	OtlpNumberDataPoint *point = ks_message_new(
		ks_arena_of(metric),
		&opentelemetry__proto__metrics__v1__number_data_point__descriptor);

	if (point) {
		point->start_time_unix_nano = start_ns;
		point->time_unix_nano = time_ns;
	}
	return point;
}

int ks_otlp_metric_add_int(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			   uint64_t start_ns, uint64_t time_ns, int64_t value)
{
	OtlpNumberDataPoint *point =
		ks_number_point_new(metric, start_ns, time_ns);

	if (point) {
		point->value_case = KS_NUMBER_VALUE(AS_INT);
		point->as_int = value;
	}
	return ks_metric_add_number(metric, attrs, point);
}

int ks_otlp_metric_add_double(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			      uint64_t start_ns, uint64_t time_ns, double value)
{
	OtlpNumberDataPoint *point =
		ks_number_point_new(metric, start_ns, time_ns);

	if (point) {
		point->value_case = KS_NUMBER_VALUE(AS_DOUBLE);
		point->as_double = value;
	}
	return ks_metric_add_number(metric, attrs, point);
}

static int ks_histogram_fill(struct ks_arena *arena,
			     OtlpHistogramDataPoint *point,
			     const struct ks_otlp_histogram_values *values)
{
	size_t nr_counts = values->nr_bounds + 1;

	point->bucket_counts =
		ks_arena_alloc(arena, nr_counts * sizeof(uint64_t));
	if (!point->bucket_counts)
		return -ENOMEM;
	point->n_bucket_counts = nr_counts;
	memcpy(point->bucket_counts, values->counts,
	       nr_counts * sizeof(uint64_t));
	for (size_t i = 0; i < nr_counts; i++)
		point->count += values->counts[i];
	if (values->nr_bounds) {
		point->explicit_bounds = ks_arena_alloc(
			arena, values->nr_bounds * sizeof(double));
		if (!point->explicit_bounds)
			return -ENOMEM;
		point->n_explicit_bounds = values->nr_bounds;
		memcpy(point->explicit_bounds, values->bounds,
		       values->nr_bounds * sizeof(double));
	}
	point->_sum_case = KS_HISTOGRAM_ONEOF(_SUM_SUM);
	point->sum = values->sum;
	/* An empty histogram has no extremes to report. */
	if (values->has_min_max && point->count) {
		point->_min_case = KS_HISTOGRAM_ONEOF(_MIN_MIN);
		point->min = values->min;
		point->_max_case = KS_HISTOGRAM_ONEOF(_MAX_MAX);
		point->max = values->max;
	}
	return 0;
}

int ks_otlp_histogram_add(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			  uint64_t start_ns, uint64_t time_ns,
			  const struct ks_otlp_histogram_values *values)
{
	struct ks_arena *arena = ks_arena_of(metric);
	OtlpHistogramDataPoint *point;
	int ret = -EINVAL;

	if (metric->data_case != KS_METRIC_DATA(HISTOGRAM))
		goto cleanup;
	ret = -ENOMEM;
	point = ks_message_new(
		arena,
		&opentelemetry__proto__metrics__v1__histogram_data_point__descriptor);
	if (!point)
		goto cleanup;
	point->start_time_unix_nano = start_ns;
	point->time_unix_nano = time_ns;
	ret = ks_histogram_fill(arena, point, values);
	if (!ret)
		ret = ks_attrs_move(arena, attrs, &point->attributes,
				    &point->n_attributes);
	if (!ret && ks_push(arena, metric->histogram->data_points,
			    metric->histogram->n_data_points, point))
		ret = -ENOMEM;
cleanup:
	ks_otlp_attrs_release(attrs);
	return ret;
}

size_t ks_otlp_metric_points(const OtlpMetric *metric)
{
	switch (metric->data_case) {
	case KS_METRIC_DATA(GAUGE):
		return metric->gauge->n_data_points;
	case KS_METRIC_DATA(SUM):
		return metric->sum->n_data_points;
	case KS_METRIC_DATA(HISTOGRAM):
		return metric->histogram->n_data_points;
	default:
		return 0;
	}
}
