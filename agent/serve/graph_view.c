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
#include "model/io_wait.h"
#include "model/wait_target.h"
#include "report/io_wait_describe.h"
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
	/*
	 * The threads that can end the wait: a lock's holder, or every thread
	 * the I/O wait's parties name; escapes when one is not known or they
	 * are too many to show (then the wait may end: no cycle).
	 */
	const struct ks_thread *ends[KS_GRAPH_MAX_ENDS];
	uint32_t nr_ends;
	bool escapes;
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

/* {"kind", "syscall", "object", "fd", "local", "remote"} */
static json_object *ks_io_json(const struct ks_io_target *io)
{
	json_object *obj = json_object_new_object();

	ks_io_wait_add_names(obj, io);
	ks_json_add(obj, "fd",
		    io->kind == KS_IO_WAIT_CHILD_EXIT ?
			    NULL :
			    json_object_new_int(io->fd));
	ks_io_endpoints_add_json(obj, io);
	return obj;
}

static json_object *ks_waiter_json(struct ks_graph_view *view,
				   const struct ks_waiter *w, uint64_t now)
{
	const struct ks_wait_begin *begin = &w->thread->wait.begin;
	json_object *obj = ks_thread_json(w->thread);
	json_object *stack = ks_stack_cache_get(view->stacks, w->thread);
	uint64_t since = begin->hdr.ts_ns;
	bool first_seen;
	char lock[48];

	ks_json_add(obj, "waiting", json_object_new_boolean(true));
	if (w->target.io) {
		ks_json_add(obj, "io", ks_io_json(w->target.io));
		since = ks_thread_io_since(&w->thread->io, &first_seen);
		ks_json_add(obj, "first_seen",
			    json_object_new_boolean(first_seen));
	} else {
		ks_lock_id(w, lock, sizeof(lock));
		ks_json_add(obj, "lock", json_object_new_string(lock));
	}
	/* A wait seeded from /proc began at an unknown time. */
	ks_json_add(
		obj, "blocked_ms",
		!w->target.io && begin->flags & KS_WAIT_SEEDED ?
			NULL :
			json_object_new_double((double)(now - since) / 1e6));
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

/* An edge from an I/O waiter to a thread that can end its wait. */
static json_object *ks_io_edge_json(const char *from, const char *to,
				    const struct ks_io_target *io,
				    bool in_cycle)
{
	json_object *obj = ks_edge_json(from, to, "io_wait", in_cycle);
	char object[48];

	ks_json_add(obj, "wait_kind",
		    json_object_new_string(ks_io_wait_kind_name(io->kind)));
	ks_io_object_describe(io, object, sizeof(object));
	ks_json_add(obj, "object", json_object_new_string(object));
	return obj;
}

/* Once each: the page draws one edge per pair of nodes. */
static void ks_add_end(struct ks_waiter *w, const struct ks_thread *thread)
{
	for (uint32_t e = 0; e < w->nr_ends; e++)
		if (w->ends[e] == thread)
			return;
	if (w->nr_ends == KS_GRAPH_MAX_ENDS) {
		w->escapes = true;
		return;
	}
	w->ends[w->nr_ends++] = thread;
}

/*
 * The threads that can end w's I/O wait: each party thread, or every
 * thread of a party process.
 */
static void ks_find_io_ends(const struct ks_table *table, struct ks_waiter *w)
{
	const struct ks_io_target *io = w->target.io;

	w->escapes = !io->nr_parties;
	for (uint32_t p = 0; p < io->nr_parties; p++) {
		const struct ks_io_party *party = &io->parties[p];
		const struct ks_process *process =
			ks_table_process(table, party->tgid);
		const struct ks_thread *thread;

		if (party->tid) {
			thread = ks_table_thread(table, party->tid);
			if (thread && thread->tgid == party->tgid)
				ks_add_end(w, thread);
			else
				w->escapes = true;
			continue;
		}
		if (!process || !process->nr_threads)
			w->escapes = true;
		else
			DL_FOREACH(process->threads, thread)
				ks_add_end(w, thread);
	}
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
		struct ks_waiter *w = &waiters[n];

		if (!thread->wait.active && !thread->io.target)
			continue;
		if (n == max) {
			*truncated = true;
			break;
		}
		ks_wait_target_resolve(table, thread, &w->target);
		w->nr_ends = 0;
		if (w->target.io) {
			ks_find_io_ends(table, w);
		} else if (w->target.kind == KS_LOCK_NONE) {
			continue;
		} else {
			w->escapes = !w->target.holder;
			if (w->target.holder)
				ks_add_end(w, w->target.holder);
		}
		w->thread = thread;
		n++;
	}
	return n;
}

static struct ks_waiter *ks_waiter_of(struct ks_waiter **by_tid,
				      const struct ks_thread *thread)
{
	struct ks_waiter *w = NULL;

	HASH_FIND(hh, *by_tid, &thread->tid, sizeof(thread->tid), w);
	return w;
}

/*
 * Links each waiter to the waiters that can end its wait, then finds the
 * knots: a waiter one of whose ends is not waiting can go on.
 */
static void ks_mark_cycles(struct ks_waiter *waiters, size_t n,
			   struct ks_waiter **by_tid)
{
	struct ks_graph graph;

	ks_graph_init(&graph);
	for (size_t i = 0; i < n; i++)
		waiters[i].cycle = -1;
	for (size_t i = 0; i < n; i++) {
		const struct ks_waiter *w = &waiters[i];

		if (ks_graph_add_node(&graph, w->escapes))
			goto cleanup;
		for (uint32_t e = 0; e < w->nr_ends; e++) {
			struct ks_waiter *next =
				ks_waiter_of(by_tid, w->ends[e]);

			if (!next)
				graph.nodes[i].escapes = true;
			else if (ks_graph_add_edge(&graph,
						   (uint32_t)(next - waiters)))
				goto cleanup;
		}
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
	char waiter_id[24], lock_id[48], end_id[24];

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
		const char *from = lock_id;

		ks_thread_id(w->thread->tid, waiter_id, sizeof(waiter_id));
		if (w->target.io) {
			from = waiter_id;
		} else {
			ks_lock_id(w, lock_id, sizeof(lock_id));
			ks_add_node(&g, g.locks, lock_id,
				    ks_lock_json(w, lock_id));
			ks_json_push(g.edges,
				     ks_edge_json(waiter_id, lock_id,
						  "waits_for", w->cycle >= 0));
		}
		for (uint32_t e = 0; e < w->nr_ends; e++) {
			const struct ks_thread *end = w->ends[e];
			struct ks_waiter *next = ks_waiter_of(&by_tid, end);
			bool in_cycle = w->cycle >= 0 && next &&
					next->cycle == w->cycle;

			ks_thread_id(end->tid, end_id, sizeof(end_id));
			if (!next) {
				json_object *obj = ks_thread_json(end);

				ks_json_add(obj, "waiting",
					    json_object_new_boolean(false));
				ks_add_node(&g, g.threads, end_id, obj);
			}
			ks_json_push(g.edges,
				     w->target.io ?
					     ks_io_edge_json(from, end_id,
							     w->target.io,
							     in_cycle) :
					     ks_edge_json(from, end_id,
							  "held_by", in_cycle));
		}
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
