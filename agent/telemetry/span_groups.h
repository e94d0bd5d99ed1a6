/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A thread's busy periods as traces.  A span per lock wait, blocking read
 * or time off CPU, each a trace of its own, buries a backend in
 * single-span traces (75,000 of them in a busy run).  Instead, the spans a
 * thread makes outside any HTTP request, each less than KS_GROUP_GAP_NS
 * after the previous one ended, are one trace: the children of a root
 * span "thread busy" that covers them all, named after the thread.  A
 * period closes after KS_GROUP_GAP_NS without a span, at
 * KS_GROUP_MAX_SPANS spans or KS_GROUP_MAX_NS long, when its process
 * goes, and at the end of a run; its root is exported then, its children
 * went out as they ended.
 */
#ifndef KS_SPAN_GROUPS_H
#define KS_SPAN_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sampler.h"
#include "model/table.h"
#include "otlp/otlp_export.h"

#define KS_GROUP_GAP_NS (1000 * 1000000ull)
#define KS_GROUP_MAX_NS (60 * 1000000000ull)
#define KS_GROUP_MAX_SPANS 1000

struct ks_span_groups;

/* At most max_groups open at once; beyond, spans start traces of their
 * own.  scope is the roots'. NULL on ENOMEM. */
struct ks_span_groups *ks_span_groups_new(size_t max_groups,
					  const struct ks_otlp_scope *scope);
/* Frees, exporting nothing. */
void ks_span_groups_free(struct ks_span_groups *groups);

/* Where a span of a group goes. */
struct ks_group_slot {
	uint8_t trace_id[KS_TRACE_ID_LEN];
	uint8_t root_id[KS_SPAN_ID_LEN];
	bool sampled; /* the sampler's decision for the period's trace */
};

/*
 * The period a span of thread from start_ns to end_ns (CLOCK_MONOTONIC)
 * belongs to, opened now if the thread has none (or its last is over:
 * its root goes to exporter), its trace decided by sampler.  resource is
 * the thread's process's, referenced while the period is open.  False
 * when there is no room for another period: the span is a root then.
 */
bool ks_span_groups_join(struct ks_span_groups *groups,
			 const struct ks_thread *thread,
			 struct ks_otlp_resource *resource, uint64_t start_ns,
			 uint64_t end_ns, const struct ks_sampler *sampler,
			 struct ks_otlp_exporter *exporter,
			 struct ks_group_slot *slot);

/*
 * Closes the periods idle since before now_ns - KS_GROUP_GAP_NS (all of
 * them with all, or those of process tgid with tgid nonzero), exporting
 * the roots of the sampled ones.
 */
void ks_span_groups_close(struct ks_span_groups *groups, uint64_t now_ns,
			  uint32_t tgid, bool all,
			  struct ks_otlp_exporter *exporter);

#endif /* KS_SPAN_GROUPS_H */
