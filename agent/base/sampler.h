/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OpenTelemetry's built-in trace samplers, as OTEL_TRACES_SAMPLER names
 * them: whether a span is recorded and exported (its W3C sampled flag),
 * from its trace id and its parent's decision.
 *
 * TraceIdRatioBased takes the 56 rightmost bits of the trace id as the
 * randomness W3C Trace Context Level 2 asks ids to carry, and samples
 * when they reach the rejection threshold (1 - ratio) * 2^56: the
 * consistent probability sampling the specification settled on, so a
 * higher ratio samples every trace a lower one does, and every node of a
 * trace decides alike.
 */
#ifndef KS_SAMPLER_H
#define KS_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/trace_ids.h"

enum ks_sampler_kind {
	KS_SAMPLER_PARENTBASED_ALWAYS_ON = 0, /* the default */
	KS_SAMPLER_PARENTBASED_ALWAYS_OFF,
	KS_SAMPLER_PARENTBASED_TRACEIDRATIO,
	KS_SAMPLER_ALWAYS_ON,
	KS_SAMPLER_ALWAYS_OFF,
	KS_SAMPLER_TRACEIDRATIO,
};

struct ks_sampler {
	enum ks_sampler_kind kind;
	double ratio; /* the ratio samplers', 0..1 */
	uint64_t threshold; /* (1 - ratio) * 2^56 */
};

/* What a span's parent decided, if it has one. */
enum ks_sampler_parent {
	KS_PARENT_NONE = 0, /* a root */
	KS_PARENT_SAMPLED,
	KS_PARENT_NOT_SAMPLED,
};

/* A sampler of kind; ratio only matters to the ratio ones. */
void ks_sampler_init(struct ks_sampler *sampler, enum ks_sampler_kind kind,
		     double ratio);

/*
 * The decision for a span of trace trace_id.  A zeroed sampler is the
 * default, parentbased_always_on.
 */
bool ks_sampler_sample(const struct ks_sampler *sampler,
		       const uint8_t trace_id[KS_TRACE_ID_LEN],
		       enum ks_sampler_parent parent);

/* "parentbased_traceidratio"...: the OTEL_TRACES_SAMPLER name. */
const char *ks_sampler_name(enum ks_sampler_kind kind);

/* The kind a name stands for; false for a name this file does not know. */
bool ks_sampler_kind_parse(const char *name, enum ks_sampler_kind *kind);

#endif /* KS_SAMPLER_H */
