// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "telemetry/span_hold.h"

int ks_span_hold_init(struct ks_span_hold *hold, size_t capacity)
{
	hold->ring = calloc(capacity, sizeof(*hold->ring));
	if (!hold->ring)
		return -ENOMEM;
	hold->capacity = capacity;
	hold->head = 0;
	hold->len = 0;
	return 0;
}

static struct ks_held_span *ks_held_first(struct ks_span_hold *hold)
{
	return &hold->ring[hold->head];
}

static void ks_held_pop(struct ks_span_hold *hold)
{
	hold->head = (hold->head + 1) % hold->capacity;
	hold->len--;
}

void ks_span_hold_destroy(struct ks_span_hold *hold)
{
	while (hold->len) {
		struct ks_held_span *held = ks_held_first(hold);

		ks_otlp_message_free(held->span);
		ks_otlp_resource_put(held->resource);
		ks_held_pop(hold);
	}
	free(hold->ring);
	hold->ring = NULL;
}

int ks_span_hold_push(struct ks_span_hold *hold, OtlpSpan *span,
		      struct ks_otlp_resource *resource,
		      const struct ks_otlp_scope *scope, uint64_t stamp)
{
	struct ks_held_span *held;

	if (hold->len == hold->capacity)
		return -ENOSPC;
	held = &hold->ring[(hold->head + hold->len) % hold->capacity];
	held->span = span;
	held->resource = ks_otlp_resource_get(resource);
	held->scope = scope;
	held->stamp = stamp;
	hold->len++;
	return 0;
}

void ks_span_add_edges(OtlpSpan *span, const struct ks_edge_source *sources,
		       size_t n)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!n)
		return;
	ks_otlp_attrs_str(&attrs, "knotscope.hb.edge",
			  ks_edge_kind_name(sources[0].kind));
	ks_otlp_attrs_int(&attrs, "knotscope.hb.source.tid", sources[0].tid);
	ks_otlp_span_add_attrs(span, &attrs);
	for (size_t i = 0; i < n; i++) {
		struct ks_otlp_attrs link = KS_OTLP_ATTRS_INIT;

		if (!sources[i].span.valid)
			continue;
		ks_otlp_attrs_str(&link, "knotscope.link.kind",
				  ks_edge_kind_name(sources[i].kind));
		ks_otlp_span_add_link(span, sources[i].span.trace_id,
				      sources[i].span.span_id, &link);
	}
}

/* A span whose attributes cannot grow still goes out, without its point. */
static void ks_add_point(OtlpSpan *span, const char *clock, uint64_t lamport)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	ks_otlp_attrs_str(&attrs, "knotscope.hb.clock", clock);
	ks_otlp_attrs_int(&attrs, "knotscope.hb.lamport", (int64_t)lamport);
	ks_otlp_span_add_attrs(span, &attrs);
}

size_t ks_span_hold_release(struct ks_span_hold *hold,
			    struct ks_causality *causality,
			    struct ks_otlp_exporter *exporter, bool all)
{
	char clock[KS_HB_POINT_TEXT_MAX];
	size_t without = 0;

	while (hold->len) {
		struct ks_held_span *held = ks_held_first(hold);
		uint64_t lamport = 0;
		int err = -ENOENT;

		if (held->stamp)
			err = ks_causality_point(causality, held->stamp, clock,
						 sizeof(clock), &lamport);
		if (err == -EAGAIN && !all)
			break;
		if (!err) {
			struct ks_edge_source sources[KS_CAUSALITY_SOURCES_MAX];

			ks_add_point(held->span, clock, lamport);
			/* A stream read's writes are known only now. */
			ks_span_add_edges(
				held->span, sources,
				ks_causality_sources(causality, held->stamp,
						     sources,
						     KS_CAUSALITY_SOURCES_MAX));
		}
		without += err != 0;
		ks_otlp_export_span(exporter, held->resource, held->scope,
				    held->span);
		ks_otlp_resource_put(held->resource);
		ks_held_pop(hold);
	}
	return without;
}
