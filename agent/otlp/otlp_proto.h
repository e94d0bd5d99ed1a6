/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP messages protoc-c generates from proto/, under names short enough
 * for 80 columns.
 *
 * The messages the OTLP layer takes are trees built by otlp_build.h, each
 * in an arena of its own: ks_otlp_message_free() disposes of one whole.
 * Messages decoded by protobuf-c are freed by protobuf-c.
 */
#ifndef KS_OTLP_PROTO_H
#define KS_OTLP_PROTO_H

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue OtlpAnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue OtlpKeyValue;
typedef Opentelemetry__Proto__Resource__V1__Resource OtlpResource;
typedef Opentelemetry__Proto__Trace__V1__Span OtlpSpan;
typedef Opentelemetry__Proto__Trace__V1__Span__Event OtlpSpanEvent;
typedef Opentelemetry__Proto__Trace__V1__Span__Link OtlpSpanLink;
typedef Opentelemetry__Proto__Trace__V1__Status OtlpStatus;
typedef Opentelemetry__Proto__Logs__V1__LogRecord OtlpLogRecord;
typedef Opentelemetry__Proto__Metrics__V1__Metric OtlpMetric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint OtlpNumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint
	OtlpHistogramDataPoint;

#define KS_OTLP_TRACE_ID_LEN 16
#define KS_OTLP_SPAN_ID_LEN 8

enum ks_otlp_span_kind {
	KS_OTLP_SPAN_INTERNAL =
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL,
	KS_OTLP_SPAN_SERVER =
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER,
	KS_OTLP_SPAN_CLIENT =
		OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
};

/* Span.flags above the W3C trace flags: whether the parent is remote. */
#define KS_OTLP_SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define KS_OTLP_SPAN_FLAGS_IS_REMOTE 0x200u

enum ks_otlp_status_code {
	KS_OTLP_STATUS_UNSET =
		OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_UNSET,
	KS_OTLP_STATUS_OK =
		OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK,
	KS_OTLP_STATUS_ERROR =
		OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR,
};

/* The first step of each level; the spec allows three finer ones above. */
enum ks_otlp_severity {
	KS_OTLP_SEVERITY_DEBUG =
		OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG,
	KS_OTLP_SEVERITY_INFO =
		OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO,
	KS_OTLP_SEVERITY_WARN =
		OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN,
	KS_OTLP_SEVERITY_ERROR =
		OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR,
	KS_OTLP_SEVERITY_FATAL =
		OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_FATAL,
};

enum ks_otlp_temporality {
	KS_OTLP_DELTA =
		OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
	KS_OTLP_CUMULATIVE =
		OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
};

#endif /* KS_OTLP_PROTO_H */
