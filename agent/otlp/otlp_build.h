/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Builders for the OTLP messages the agent hands to the exporter, so that
 * callers never assemble protobuf-c structs by hand.  Each span, log record,
 * metric or resource built here roots a tree whose nodes all live in one
 * arena, freed at once by ks_otlp_message_free(); strings and ids are
 * copied, so callers keep ownership of what they pass in.  Trees change
 * only through these functions.
 *
 * Allocation failures are sticky where that keeps callers short: an
 * attribute list remembers a failed add and reports it once, when it is
 * moved onto a message.
 */
#ifndef KS_OTLP_BUILD_H
#define KS_OTLP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "otlp/otlp_proto.h"

/*
 * A growing list of attributes, in an arena of its own until it is moved
 * onto a message (ks_otlp_span_add_attrs() and the like), whose tree then
 * takes its memory over.  Start it zeroed (KS_OTLP_ATTRS_INIT);
 * ks_otlp_attrs_release() frees whatever it still holds.
 */
struct ks_otlp_attrs {
	OtlpKeyValue **items; /* in the arena */
	size_t nr;
	bool failed;
	struct ks_arena arena;
};

#define KS_OTLP_ATTRS_INIT \
	{                  \
		0          \
	}

/* Each returns -ENOMEM (and marks the list failed) or 0. */
int ks_otlp_attrs_str(struct ks_otlp_attrs *attrs, const char *key,
		      const char *value);
int ks_otlp_attrs_int(struct ks_otlp_attrs *attrs, const char *key,
		      int64_t value);
int ks_otlp_attrs_double(struct ks_otlp_attrs *attrs, const char *key,
			 double value);
int ks_otlp_attrs_bool(struct ks_otlp_attrs *attrs, const char *key,
		       bool value);

/*
 * The value of the first attribute named key, when it is a string; NULL
 * otherwise.  The first is the one a resource keeps.
 */
const char *ks_otlp_attrs_find_str(const struct ks_otlp_attrs *attrs,
				   const char *key);

void ks_otlp_attrs_release(struct ks_otlp_attrs *attrs);

/* Frees a tree built here, of any type; NULL is fine. */
void ks_otlp_message_free(void *message);

/*
 * Appends the list's attributes to the message's, leaving the list empty.
 * -ENOMEM if an earlier add failed or the message could not grow: the
 * message is then unchanged and the list released.  attrs may be NULL:
 * nothing to move.
 */
int ks_otlp_span_add_attrs(OtlpSpan *span, struct ks_otlp_attrs *attrs);
int ks_otlp_log_add_attrs(OtlpLogRecord *record, struct ks_otlp_attrs *attrs);

/*
 * Attributes that many spans share (the spans of one HTTP connection),
 * encoded once by protobuf-c: a span then carries their bytes instead of a
 * tree to be sized and packed again every time.  Start it zeroed
 * (KS_OTLP_ENCODED_ATTRS_INIT).
 */
struct ks_otlp_encoded_attrs {
	uint8_t *data; /* a span's attributes field, as protobuf-c packs it */
	size_t len;
};

#define KS_OTLP_ENCODED_ATTRS_INIT \
	{                          \
		0                  \
	}

/*
 * Replaces what encoded held by the list's attributes, encoded; the list
 * is released.  -ENOMEM if an earlier add failed or memory ran out:
 * encoded is then empty.
 */
int ks_otlp_attrs_encode(struct ks_otlp_attrs *attrs,
			 struct ks_otlp_encoded_attrs *encoded);

void ks_otlp_encoded_attrs_release(struct ks_otlp_encoded_attrs *encoded);

/*
 * Copies nr lists of encoded attributes onto the span, after the
 * attributes it has (in its encoding they follow every other field, which
 * decoders take as one list: a repeated field may come in pieces).
 * -ENOMEM.
 */
int ks_otlp_span_add_encoded_attrs(
	OtlpSpan *span, const struct ks_otlp_encoded_attrs *const *encoded,
	size_t nr);

/* A resource with the list's attributes, moved; NULL on ENOMEM. */
OtlpResource *ks_otlp_resource_message_new(struct ks_otlp_attrs *attrs);

/* A span of kind INTERNAL, status unset; NULL on ENOMEM. */
OtlpSpan *ks_otlp_span_new(const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			   const uint8_t span_id[KS_OTLP_SPAN_ID_LEN],
			   const char *name, uint64_t start_ns,
			   uint64_t end_ns);
int ks_otlp_span_set_parent(OtlpSpan *span,
			    const uint8_t parent_id[KS_OTLP_SPAN_ID_LEN]);
void ks_otlp_span_set_kind(OtlpSpan *span, enum ks_otlp_span_kind kind);
/*
 * The W3C trace flags and KS_OTLP_SPAN_FLAGS_*, and the trace state (NULL
 * or "" for none); -ENOMEM.
 */
int ks_otlp_span_set_context(OtlpSpan *span, uint32_t flags,
			     const char *trace_state);
int ks_otlp_span_set_status(OtlpSpan *span, enum ks_otlp_status_code code,
			    const char *message);
/* attrs (may be NULL) are moved onto the event or link. */
int ks_otlp_span_add_event(OtlpSpan *span, const char *name, uint64_t time_ns,
			   struct ks_otlp_attrs *attrs);
int ks_otlp_span_add_link(OtlpSpan *span,
			  const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			  const uint8_t span_id[KS_OTLP_SPAN_ID_LEN],
			  struct ks_otlp_attrs *attrs);

/*
 * A log record with a string body, its severity text derived from the
 * number ("ERROR" for KS_OTLP_SEVERITY_ERROR).  event_name (may be NULL)
 * makes it an event, like "knotscope.deadlock".  NULL on ENOMEM.
 */
OtlpLogRecord *ks_otlp_log_new(uint64_t time_ns, uint64_t observed_ns,
			       enum ks_otlp_severity severity,
			       const char *event_name, const char *body);
/* Ties the record to a span. */
int ks_otlp_log_set_span(OtlpLogRecord *record,
			 const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN],
			 const uint8_t span_id[KS_OTLP_SPAN_ID_LEN]);

/* Metrics without points yet; NULL on ENOMEM. */
OtlpMetric *ks_otlp_gauge_new(const char *name, const char *unit,
			      const char *description);
OtlpMetric *ks_otlp_sum_new(const char *name, const char *unit,
			    const char *description,
			    enum ks_otlp_temporality temporality,
			    bool monotonic);
OtlpMetric *ks_otlp_histogram_new(const char *name, const char *unit,
				  const char *description,
				  enum ks_otlp_temporality temporality);

/*
 * Adds a point to a gauge or sum, with attrs (may be NULL) moved onto it.
 * -EINVAL for a histogram, -ENOMEM.
 */
int ks_otlp_metric_add_int(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			   uint64_t start_ns, uint64_t time_ns, int64_t value);
int ks_otlp_metric_add_double(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			      uint64_t start_ns, uint64_t time_ns,
			      double value);

/* Bucket i counts values in (bounds[i - 1], bounds[i]]: nr_bounds + 1. */
struct ks_otlp_histogram_values {
	const double *bounds;
	size_t nr_bounds;
	const uint64_t *counts;
	double sum;
	bool has_min_max;
	double min;
	double max;
};

/* The point's count is the sum of the bucket counts. -EINVAL, -ENOMEM. */
int ks_otlp_histogram_add(OtlpMetric *metric, struct ks_otlp_attrs *attrs,
			  uint64_t start_ns, uint64_t time_ns,
			  const struct ks_otlp_histogram_values *values);

/* How many data points a metric holds: the unit metrics are counted in. */
size_t ks_otlp_metric_points(const OtlpMetric *metric);

#endif /* KS_OTLP_BUILD_H */
