/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Spans waiting for their happens-before point.  A span's point is known
 * only once the engine has applied every event up to the span's end, which
 * it holds back for a reorder window; the span waits here meanwhile, then
 * goes out with knotscope.hb.clock (the encoded point, see hb_point.h) and
 * knotscope.hb.lamport.  A span whose point is lost goes out without them.
 */
#ifndef KS_SPAN_HOLD_H
#define KS_SPAN_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hb/causality.h"
#include "otlp/otlp_export.h"

struct ks_held_span {
	OtlpSpan *span;
	struct ks_otlp_resource *resource; /* a reference of its own */
	const struct ks_otlp_scope *scope;
	uint64_t stamp;
};

struct ks_span_hold {
	struct ks_held_span *ring;
	size_t capacity;
	size_t head;
	size_t len;
};

/*
 * The edge a span ends on: knotscope.hb.edge and .source.tid of the first
 * source, and a link to each source's span (the releaser's latest before
 * it released), where it had one.
 */
void ks_span_add_edges(OtlpSpan *span, const struct ks_edge_source *sources,
		       size_t n);

/* -ENOMEM. */
int ks_span_hold_init(struct ks_span_hold *hold, size_t capacity);
/* Frees what is still held, unsent. */
void ks_span_hold_destroy(struct ks_span_hold *hold);

/*
 * Holds span until its point is known; takes the span and a reference to
 * resource.  -ENOSPC when full: the caller still owns both.
 */
int ks_span_hold_push(struct ks_span_hold *hold, OtlpSpan *span,
		      struct ks_otlp_resource *resource,
		      const struct ks_otlp_scope *scope, uint64_t stamp);

/*
 * Exports the spans whose points are known, oldest first, up to the first
 * still held back; with all, every span (after ks_causality_flush, none is
 * held back any more; before, those still held back go without).  Returns
 * how many went without their point.
 */
size_t ks_span_hold_release(struct ks_span_hold *hold,
			    struct ks_causality *causality,
			    struct ks_otlp_exporter *exporter, bool all);

#endif /* KS_SPAN_HOLD_H */
