// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
/*
 * A view: with memory short, a waiter not indexed is shown without its
 * links rather than the agent exiting, uthash's default.
 */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "detect/waitgraph.h"
#include "model/wait_target.h"
#include "report/json_sink.h"
#include "serve/graph_view.h"
#include "serve/stack_cache.h"

struct ks_graph_view {
	struct ks_stack_cache *stacks;
};

/* One blocked thread of this rendering, and where its wait leads. */
struct ks_waiter {
	const struct ks_thread *thread;
	struct ks_wait_target target;
	int32_t cycle; /* the knot it is in, or -1 */
	UT_hash_handle hh; /* by thread->tid */
};

struct ks_graph_view *ks_graph_view_new(struct ks_symbolizer *symbolizer)
{
	struct ks_graph_view *view = calloc(1, sizeof(*view));

	if (!view)
		return NULL;
	view->stacks = ks_stack_cache_new(symbolizer, KS_GRAPH_STACK_FRAMES);
	if (!view->stacks) {
		free(view);
		return NULL;
	}
	return view;
}

void ks_graph_view_free(struct ks_graph_view *view)
{
	if (!view)
		return;
	ks_stack_cache_free(view->stacks);
	free(view);
}

static void ks_thread_id(uint32_t tid, char *buf, size_t size)
{
	snprintf(buf, size, "t:%u", tid);
}

static void ks_lock_id(const struct ks_waiter *w, char *buf, size_t size)
{
	snprintf(buf, size, "l:%u:%" PRIx64, w->thread->tgid,
		 w->target.lock_addr);
}

static json_object *ks_thread_json(const struct ks_thread *thread)
{
	json_object *obj = json_object_new_object();
	char id[24];

	ks_thread_id(thread->tid, id, sizeof(id));
	ks_json_add(obj, "id", json_object_new_string(id));
	ks_json_add(obj, "tid", json_object_new_int64(thread->tid));
	ks_json_add(obj, "pid", json_object_new_int64(thread->tgid));
	ks_json_add(obj, "comm", json_object_new_string(thread->comm));
	ks_json_add(obj, "process_comm",
		    json_object_new_string(thread->process->comm));
	return obj;
}

static json_object *ks_waiter_json(struct ks_graph_view *view,
				   const struct ks_waiter *w, uint64_t now)
{
	const struct ks_wait_begin *begin = &w->thread->wait.begin;
	json_object *obj = ks_thread_json(w->thread);
	json_object *stack = ks_stack_cache_get(view->stacks, w->thread);
	char lock[48];

	ks_lock_id(w, lock, sizeof(lock));
	ks_json_add(obj, "waiting", json_object_new_boolean(true));
	ks_json_add(obj, "lock", json_object_new_string(lock));
	/* A wait seeded from /proc began at an unknown time. */
	ks_json_add(obj, "blocked_ms",
		    begin->flags & KS_WAIT_SEEDED ?
			    NULL :
			    json_object_new_double(
				    (double)(now - begin->hdr.ts_ns) / 1e6));
	ks_json_add(obj, "in_cycle", json_object_new_boolean(w->cycle >= 0));
	if (stack)
		ks_json_add(obj, "stack", stack);
	return obj;
}

static json_object *ks_lock_json(const struct ks_waiter *w, const char *id)
{
	json_object *obj = json_object_new_object();
	char type[64];

	ks_json_add(obj, "id", json_object_new_string(id));
	ks_json_add(obj, "pid", json_object_new_int64(w->thread->tgid));
	ks_json_add(obj, "address", ks_json_hex(w->target.lock_addr));
	ks_json_add(obj, "kind",
		    json_object_new_string(ks_lock_kind_name(w->target.kind)));
	if (w->target.mutex_kind != UINT32_MAX) {
		ks_mutex_kind_describe(w->target.mutex_kind, type,
				       sizeof(type));
		ks_json_add(obj, "mutex_type", json_object_new_string(type));
	}
	ks_json_add(obj, "holder_tid",
		    w->target.holder ?
			    json_object_new_int64(w->target.holder->tid) :
			    NULL);
	return obj;
}

static json_object *ks_edge_json(const char *from, const char *to,
				 const char *kind, bool in_cycle)
{
	json_object *obj = json_object_new_object();

	ks_json_add(obj, "from", json_object_new_string(from));
	ks_json_add(obj, "to", json_object_new_string(to));
	ks_json_add(obj, "kind", json_object_new_string(kind));
	ks_json_add(obj, "in_cycle", json_object_new_boolean(in_cycle));
	return obj;
}

/* Blocked threads with something to wait for; at most max. */
static size_t ks_collect_waiters(const struct ks_table *table,
				 struct ks_waiter *waiters, size_t max,
				 bool *truncated)
{
	const struct ks_thread *thread;
	size_t n = 0;

	*truncated = false;
	for (thread = table->threads; thread; thread = thread->hh.next) {
		if (!thread->wait.active)
			continue;
		if (n == max) {
			*truncated = true;
			break;
		}
		ks_wait_target_resolve(table, thread, &waiters[n].target);
		if (waiters[n].target.kind == KS_LOCK_NONE)
			continue;
		waiters[n].thread = thread;
		n++;
	}
	return n;
}

/* Links each waiter to the waiter holding its lock, then finds cycles. */
static void ks_mark_cycles(struct ks_waiter *waiters, size_t n,
			   struct ks_waiter **by_tid)
{
	struct ks_graph graph;

	ks_graph_init(&graph);
	for (size_t i = 0; i < n; i++)
		waiters[i].cycle = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ks_thread *holder = waiters[i].target.holder;
		struct ks_waiter *next = NULL;

		if (holder)
			HASH_FIND(hh, *by_tid, &holder->tid,
				  sizeof(holder->tid), next);
		if (ks_graph_add_node(&graph, !next) ||
		    (next &&
		     ks_graph_add_edge(&graph, (uint32_t)(next - waiters))))
			goto cleanup;
	}
	if (ks_graph_find_knots(&graph))
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		waiters[i].cycle = graph.nodes[i].knot;
cleanup:
	ks_graph_release(&graph);
}

static json_object *ks_cycles_json(const struct ks_waiter *waiters, size_t n)
{
	json_object *cycles = json_object_new_array();
	char id[24];

	for (size_t i = 0; cycles && i < n; i++) {
		int32_t cycle = waiters[i].cycle;
		json_object *members;

		if (cycle < 0)
			continue;
		/* Stops short when memory ran out: the cycle goes without. */
		for (size_t len = json_object_array_length(cycles);
		     len <= (size_t)cycle; len++)
			if (json_object_array_add(cycles,
						  json_object_new_array()))
				break;
		members = json_object_array_get_idx(cycles, (size_t)cycle);
		ks_thread_id(waiters[i].thread->tid, id, sizeof(id));
		ks_json_push(members, json_object_new_string(id));
	}
	return cycles;
}

struct ks_graph_json {
	json_object *threads, *locks, *edges;
	json_object *seen; /* node ids already in threads or locks */
};

static void ks_add_node(struct ks_graph_json *g, json_object *list,
			const char *id, json_object *node)
{
	if (json_object_object_get_ex(g->seen, id, NULL)) {
		json_object_put(node);
		return;
	}
	ks_json_add(g->seen, id, NULL);
	ks_json_push(list, node);
}

json_object *ks_graph_view_render(struct ks_graph_view *view,
				  const struct ks_table *table,
				  uint64_t now_mono_ns)
{
	struct ks_waiter *waiters =
		calloc(KS_GRAPH_MAX_WAITERS, sizeof(*waiters));
	struct ks_graph_json g = {
		.threads = json_object_new_array(),
		.locks = json_object_new_array(),
		.edges = json_object_new_array(),
		.seen = json_object_new_object(),
	};
	struct ks_waiter *by_tid = NULL;
	json_object *graph = json_object_new_object();
	bool truncated = false;
	size_t n = 0;
	char waiter_id[24], lock_id[48], holder_id[24];

	ks_stack_cache_begin(view->stacks, KS_GRAPH_STACKS_PER_RENDER);
	if (waiters)
		n = ks_collect_waiters(table, waiters, KS_GRAPH_MAX_WAITERS,
				       &truncated);
	for (size_t i = 0; i < n; i++)
		HASH_ADD(hh, by_tid, thread->tid, sizeof(uint32_t),
			 &waiters[i]);
	ks_mark_cycles(waiters, n, &by_tid);
	/* Waiters first: a holder that also waits is shown as waiting. */
	for (size_t i = 0; i < n; i++) {
		ks_thread_id(waiters[i].thread->tid, waiter_id,
			     sizeof(waiter_id));
		ks_add_node(&g, g.threads, waiter_id,
			    ks_waiter_json(view, &waiters[i], now_mono_ns));
	}
	for (size_t i = 0; i < n; i++) {
		const struct ks_waiter *w = &waiters[i];
		const struct ks_thread *holder = w->target.holder;
		struct ks_waiter *next = NULL;

		ks_thread_id(w->thread->tid, waiter_id, sizeof(waiter_id));
		ks_lock_id(w, lock_id, sizeof(lock_id));
		ks_add_node(&g, g.locks, lock_id, ks_lock_json(w, lock_id));
		ks_json_push(g.edges, ks_edge_json(waiter_id, lock_id,
						   "waits_for", w->cycle >= 0));
		if (!holder)
			continue;
		HASH_FIND(hh, by_tid, &holder->tid, sizeof(holder->tid), next);
		ks_thread_id(holder->tid, holder_id, sizeof(holder_id));
		if (!next) {
			json_object *obj = ks_thread_json(holder);

			ks_json_add(obj, "waiting",
				    json_object_new_boolean(false));
			ks_add_node(&g, g.threads, holder_id, obj);
		}
		ks_json_push(g.edges,
			     ks_edge_json(lock_id, holder_id, "held_by",
					  w->cycle >= 0 && next &&
						  next->cycle == w->cycle));
	}
	ks_json_add(graph, "threads", g.threads);
	ks_json_add(graph, "locks", g.locks);
	ks_json_add(graph, "edges", g.edges);
	ks_json_add(graph, "cycles", ks_cycles_json(waiters, n));
	ks_json_add(graph, "truncated", json_object_new_boolean(truncated));
	HASH_CLEAR(hh, by_tid);
	json_object_put(g.seen);
	ks_stack_cache_sweep(view->stacks);
	free(waiters);
	return graph;
}
