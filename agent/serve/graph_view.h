/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The dashboard's wait-for graph: every thread blocked on a lock, the lock,
 * and the thread holding it; every thread blocked in an I/O wait the sweep
 * resolved (io_wait.h), with an edge to each thread that could end it; and
 * the knots among them marked.  Rendered on the main thread from the model
 * as it is at that moment.
 *
 * A waiter's stack is unwound from the snapshot its wait began with (never
 * from live memory: the thread may have moved on), once per wait, and at
 * most a few per rendering, since unwinding is not free.
 */
#ifndef KS_GRAPH_VIEW_H
#define KS_GRAPH_VIEW_H

#include <json-c/json.h>
#include <stdint.h>

#include "model/table.h"
#include "stacks/symbolize.h"

/* Beyond this, the graph says "truncated": a page cannot show more. */
#define KS_GRAPH_MAX_WAITERS 256
/*
 * Threads drawn as able to end one wait (a pipe held open by a process of
 * many threads): beyond, the rest are left out and the wait is in no cycle.
 */
#define KS_GRAPH_MAX_ENDS 64
/* New stacks unwound per rendering; the others come with later ones. */
#define KS_GRAPH_STACKS_PER_RENDER 8
#define KS_GRAPH_STACK_FRAMES 16

struct ks_graph_view;

struct ks_graph_view *ks_graph_view_new(struct ks_symbolizer *symbolizer);
void ks_graph_view_free(struct ks_graph_view *view);

/*
 * {"threads": [...], "locks": [...], "edges": [...], "cycles": [...],
 * "truncated": bool}: see docs/dashboard-and-metrics.md for the fields.
 */
json_object *ks_graph_view_render(struct ks_graph_view *view,
				  const struct ks_table *table,
				  uint64_t now_mono_ns);

#endif /* KS_GRAPH_VIEW_H */
