// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/hash.h"
#include "detect/lockorder.h"

/* Locks one thread holds at once; deeper nesting is not recorded. */
#define KS_MAX_HELD 32
/* Distinct orders kept per process: each holds two acquisitions. */
#define KS_MAX_ORDERS 16384
/* Mutexes per process: the ends of those orders. */
#define KS_MAX_NODES (2 * KS_MAX_ORDERS)

struct ks_order_key {
	uint64_t from;
	uint64_t to;
};

struct ks_order {
	struct ks_order_key key;
	struct ks_acquisition first;
	struct ks_acquisition second;
	struct ks_order *next_out; /* the other orders out of key.from */
	UT_hash_handle hh;
};

/* A mutex, and the orders that start from it. */
struct ks_lock_node {
	uint64_t mutex;
	struct ks_order *out;
	uint32_t visited; /* search generation */
	struct ks_order *reached_by; /* the order the search came through */
	UT_hash_handle hh;
};

struct ks_reported {
	uint64_t id;
	UT_hash_handle hh;
};

struct ks_lock_graph {
	uint32_t tgid;
	struct ks_lock_node *nodes;
	size_t nr_nodes;
	struct ks_order *orders;
	size_t nr_orders;
	uint32_t search;
	struct ks_reported *reported;
	UT_hash_handle hh;
};

/* Trylocked mutexes too: while held, what comes after orders after them. */
struct ks_held {
	struct ks_acquisition acquired;
};

struct ks_lock_thread {
	uint32_t tid;
	bool has_pending;
	struct ks_acquisition pending; /* the call awaiting its result */
	unsigned int nr_held;
	struct ks_held held[KS_MAX_HELD];
	UT_hash_handle hh;
};

/* A node of a search for a path, and the order out of it to try next. */
struct ks_search_frame {
	struct ks_lock_node *node;
	struct ks_order *next;
};

struct ks_lockorder {
	ks_inversion_fn report;
	void *ctx;
	struct ks_lock_graph *graphs;
	struct ks_lock_thread *threads;
	struct ks_lockorder_stats stats;
	/* Scratch for a report: the cycle, in order. */
	struct ks_lock_order cycle[KS_MAX_ORDERS];
	/*
	 * Scratch for a search: as deep as a graph has nodes, which a
	 * program's lock chains decide, so not on the call stack.
	 */
	struct ks_search_frame search[KS_MAX_NODES];
};

struct ks_lockorder *ks_lockorder_new(ks_inversion_fn report, void *ctx)
{
	struct ks_lockorder *lockorder = calloc(1, sizeof(*lockorder));

	if (!lockorder)
		return NULL;
	lockorder->report = report;
	lockorder->ctx = ctx;
	return lockorder;
}

static void ks_graph_free(struct ks_lockorder *lockorder,
			  struct ks_lock_graph *graph)
{
	struct ks_lock_node *node, *node_tmp;
	struct ks_order *order, *order_tmp;
	struct ks_reported *reported, *reported_tmp;

	HASH_ITER(hh, graph->nodes, node, node_tmp) {
		HASH_DEL(graph->nodes, node);
		free(node);
	}
	lockorder->stats.nodes -= graph->nr_nodes;
	HASH_ITER(hh, graph->orders, order, order_tmp) {
		HASH_DEL(graph->orders, order);
		free(order);
	}
	HASH_ITER(hh, graph->reported, reported, reported_tmp) {
		HASH_DEL(graph->reported, reported);
		free(reported);
	}
	HASH_DEL(lockorder->graphs, graph);
	free(graph);
}

void ks_lockorder_free(struct ks_lockorder *lockorder)
{
	struct ks_lock_graph *graph, *graph_tmp;
	struct ks_lock_thread *thread, *thread_tmp;

	if (!lockorder)
		return;
	HASH_ITER(hh, lockorder->graphs, graph, graph_tmp)
		ks_graph_free(lockorder, graph);
	HASH_ITER(hh, lockorder->threads, thread, thread_tmp) {
		HASH_DEL(lockorder->threads, thread);
		free(thread);
	}
	free(lockorder);
}

static struct ks_lock_thread *ks_thread_get(struct ks_lockorder *lockorder,
					    uint32_t tid)
{
	struct ks_lock_thread *thread;

	HASH_FIND(hh, lockorder->threads, &tid, sizeof(tid), thread);
	if (thread)
		return thread;
	thread = calloc(1, sizeof(*thread));
	if (!thread)
		return NULL;
	thread->tid = tid;
	HASH_ADD(hh, lockorder->threads, tid, sizeof(tid), thread);
	return thread;
}

static struct ks_lock_graph *ks_graph_get(struct ks_lockorder *lockorder,
					  uint32_t tgid)
{
	struct ks_lock_graph *graph;

	HASH_FIND(hh, lockorder->graphs, &tgid, sizeof(tgid), graph);
	if (graph)
		return graph;
	graph = calloc(1, sizeof(*graph));
	if (!graph)
		return NULL;
	graph->tgid = tgid;
	HASH_ADD(hh, lockorder->graphs, tgid, sizeof(tgid), graph);
	return graph;
}

static struct ks_lock_node *ks_node_find(struct ks_lock_graph *graph,
					 uint64_t mutex)
{
	struct ks_lock_node *node;

	HASH_FIND(hh, graph->nodes, &mutex, sizeof(mutex), node);
	return node;
}

static struct ks_lock_node *ks_node_add(struct ks_lockorder *lockorder,
					struct ks_lock_graph *graph,
					uint64_t mutex)
{
	struct ks_lock_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->mutex = mutex;
	HASH_ADD(hh, graph->nodes, mutex, sizeof(mutex), node);
	graph->nr_nodes++;
	lockorder->stats.nodes++;
	return node;
}

static void ks_acquisition_from(struct ks_acquisition *acq,
				const struct ks_lock_call_rec *rec)
{
	acq->tgid = rec->hdr.tgid;
	acq->tid = rec->hdr.tid;
	acq->mutex = rec->mutex;
	acq->ts_ns = rec->hdr.ts_ns;
	memcpy(acq->regs, rec->regs, sizeof(acq->regs));
	acq->stack_len = rec->stack_len < sizeof(acq->stack) ?
				 rec->stack_len :
				 sizeof(acq->stack);
	memcpy(acq->stack, rec->stack, acq->stack_len);
}

/* A destroyed mutex's address may be another mutex's next. */
static void ks_forget_mutex(struct ks_lockorder *lockorder,
			    struct ks_lock_graph *graph, uint64_t mutex)
{
	struct ks_order *order, *tmp;
	struct ks_lock_node *node;

	HASH_ITER(hh, graph->orders, order, tmp) {
		if (order->key.from != mutex && order->key.to != mutex)
			continue;
		if (order->key.to == mutex) {
			struct ks_lock_node *from;
			struct ks_order **link;

			HASH_FIND(hh, graph->nodes, &order->key.from,
				  sizeof(order->key.from), from);
			for (link = from ? &from->out : NULL; link && *link;
			     link = &(*link)->next_out) {
				if (*link == order) {
					*link = order->next_out;
					break;
				}
			}
		}
		HASH_DEL(graph->orders, order);
		graph->nr_orders--;
		free(order);
	}
	node = ks_node_find(graph, mutex);
	if (node) {
		HASH_DEL(graph->nodes, node);
		graph->nr_nodes--;
		lockorder->stats.nodes--;
		free(node);
	}
}

static void ks_release(struct ks_lock_thread *thread, uint64_t mutex)
{
	/* Innermost first: unlocking in another order is allowed. */
	for (int i = (int)thread->nr_held - 1; i >= 0; i--) {
		if (thread->held[i].acquired.mutex != mutex)
			continue;
		memmove(&thread->held[i], &thread->held[i + 1],
			(thread->nr_held - (unsigned int)i - 1) *
				sizeof(thread->held[0]));
		thread->nr_held--;
		return;
	}
}

void ks_lockorder_call(struct ks_lockorder *lockorder,
		       const struct ks_lock_call_rec *rec)
{
	struct ks_lock_thread *thread = ks_thread_get(lockorder, rec->hdr.tid);
	struct ks_lock_graph *graph;

	if (!thread)
		return;
	switch (rec->call) {
	case KS_CALL_UNLOCK:
		ks_release(thread, rec->mutex);
		break;
	case KS_CALL_DESTROY:
		graph = ks_graph_get(lockorder, rec->hdr.tgid);
		if (graph)
			ks_forget_mutex(lockorder, graph, rec->mutex);
		break;
	default:
		ks_acquisition_from(&thread->pending, rec);
		thread->has_pending = true;
		break;
	}
}

/*
 * Looks for a path of orders from `from` to `to`, depth first; on success
 * each node on it has reached_by set to the order that led there.
 */
static bool ks_path_exists(struct ks_lockorder *lockorder,
			   struct ks_lock_graph *graph,
			   struct ks_lock_node *from, uint64_t to)
{
	struct ks_search_frame *stack = lockorder->search;
	size_t depth = 0;

	from->visited = graph->search;
	stack[depth++] = (struct ks_search_frame){ from, from->out };
	while (depth) {
		struct ks_search_frame *top = &stack[depth - 1];
		struct ks_order *order = top->next;
		struct ks_lock_node *next;

		if (!order) {
			depth--;
			continue;
		}
		top->next = order->next_out;
		next = ks_node_find(graph, order->key.to);
		if (!next || next->visited == graph->search)
			continue;
		next->visited = graph->search;
		next->reached_by = order;
		if (next->mutex == to)
			return true;
		/* Each node is on the stack once at most: it fits. */
		stack[depth++] = (struct ks_search_frame){ next, next->out };
	}
	return false;
}

static uint64_t ks_cycle_id(const struct ks_lock_order *cycle, size_t len)
{
	uint64_t hash = KS_FNV1A_INIT, lowest = UINT64_MAX;
	size_t first = 0;

	/* The same cycle closed from another order gets the same id. */
	for (size_t i = 0; i < len; i++) {
		if (cycle[i].first->mutex < lowest) {
			lowest = cycle[i].first->mutex;
			first = i;
		}
	}
	for (size_t k = 0; k < len; k++) {
		uint64_t mutex = cycle[(first + k) % len].first->mutex;

		hash = ks_fnv1a(hash, &mutex, sizeof(mutex));
	}
	return hash;
}

/* The new order from -> to closed a cycle to -> ... -> from: report it. */
static void ks_report_cycle(struct ks_lockorder *lockorder,
			    struct ks_lock_graph *graph,
			    struct ks_order *closing)
{
	struct ks_lock_node *node;
	struct ks_reported *reported;
	size_t len = 0, n;
	struct ks_inversion found = { .tgid = graph->tgid };

	/* Walk back from `from` along reached_by to `to`. */
	HASH_FIND(hh, graph->nodes, &closing->key.from,
		  sizeof(closing->key.from), node);
	while (node && node->mutex != closing->key.to &&
	       len < KS_MAX_ORDERS - 1) {
		struct ks_order *order = node->reached_by;

		lockorder->cycle[len].first = &order->first;
		lockorder->cycle[len].second = &order->second;
		len++;
		HASH_FIND(hh, graph->nodes, &order->key.from,
			  sizeof(order->key.from), node);
	}
	/* Reverse into wait order, then the closing order last. */
	for (size_t i = 0; i < len / 2; i++) {
		struct ks_lock_order tmp = lockorder->cycle[i];

		lockorder->cycle[i] = lockorder->cycle[len - 1 - i];
		lockorder->cycle[len - 1 - i] = tmp;
	}
	lockorder->cycle[len].first = &closing->first;
	lockorder->cycle[len].second = &closing->second;
	n = len + 1;

	found.id = ks_cycle_id(lockorder->cycle, n);
	HASH_FIND(hh, graph->reported, &found.id, sizeof(found.id), reported);
	if (reported)
		return;
	reported = calloc(1, sizeof(*reported));
	if (!reported)
		return;
	reported->id = found.id;
	HASH_ADD(hh, graph->reported, id, sizeof(reported->id), reported);
	found.orders = lockorder->cycle;
	found.nr_orders = n;
	lockorder->stats.inversions++;
	lockorder->report(lockorder->ctx, &found);
}

static void ks_add_order(struct ks_lockorder *lockorder,
			 struct ks_lock_graph *graph,
			 const struct ks_acquisition *first,
			 const struct ks_acquisition *second)
{
	struct ks_order_key key = { .from = first->mutex, .to = second->mutex };
	struct ks_lock_node *from, *to;
	struct ks_order *order;

	HASH_FIND(hh, graph->orders, &key, sizeof(key), order);
	if (order)
		return;
	from = ks_node_find(graph, key.from);
	to = ks_node_find(graph, key.to);
	/* The limits first: nothing is allocated past them. */
	if (graph->nr_orders >= KS_MAX_ORDERS ||
	    graph->nr_nodes + !from + !to > KS_MAX_NODES) {
		lockorder->stats.dropped++;
		return;
	}
	if (!from)
		from = ks_node_add(lockorder, graph, key.from);
	if (!to)
		to = ks_node_add(lockorder, graph, key.to);
	order = from && to ? calloc(1, sizeof(*order)) : NULL;
	if (!order) {
		lockorder->stats.dropped++;
		return;
	}
	order->key = key;
	order->first = *first;
	order->second = *second;
	order->next_out = from->out;
	from->out = order;
	HASH_ADD(hh, graph->orders, key, sizeof(key), order);
	graph->nr_orders++;
	lockorder->stats.orders++;

	/* A path back from `to` to `from` closes a cycle. */
	graph->search++;
	if (ks_path_exists(lockorder, graph, to, key.from))
		ks_report_cycle(lockorder, graph, order);
}

void ks_lockorder_result(struct ks_lockorder *lockorder,
			 const struct ks_lock_result *rec)
{
	struct ks_lock_thread *thread = ks_thread_get(lockorder, rec->hdr.tid);
	struct ks_lock_graph *graph;
	bool trylock = rec->call == KS_CALL_TRYLOCK;
	bool already_held = false;

	if (!thread || !thread->has_pending ||
	    thread->pending.mutex != rec->mutex)
		return;
	thread->has_pending = false;
	if (rec->ret)
		return; /* not acquired: busy, timed out, or an error */
	graph = ks_graph_get(lockorder, rec->hdr.tgid);
	for (unsigned int i = 0; i < thread->nr_held; i++)
		already_held |= thread->held[i].acquired.mutex == rec->mutex;
	/*
	 * A trylock cannot wait, so nothing orders before it; a recursive
	 * relock waits for nobody.
	 */
	if (graph && !trylock && !already_held)
		for (unsigned int i = 0; i < thread->nr_held; i++)
			ks_add_order(lockorder, graph,
				     &thread->held[i].acquired,
				     &thread->pending);
	if (thread->nr_held == KS_MAX_HELD) {
		lockorder->stats.dropped++;
		return;
	}
	thread->held[thread->nr_held].acquired = thread->pending;
	thread->nr_held++;
}

void ks_lockorder_thread_gone(struct ks_lockorder *lockorder, uint32_t tid)
{
	struct ks_lock_thread *thread;

	HASH_FIND(hh, lockorder->threads, &tid, sizeof(tid), thread);
	if (thread) {
		HASH_DEL(lockorder->threads, thread);
		free(thread);
	}
}

void ks_lockorder_process_gone(struct ks_lockorder *lockorder, uint32_t tgid)
{
	struct ks_lock_graph *graph;

	HASH_FIND(hh, lockorder->graphs, &tgid, sizeof(tgid), graph);
	if (graph)
		ks_graph_free(lockorder, graph);
}

void ks_lockorder_stats(const struct ks_lockorder *lockorder,
			struct ks_lockorder_stats *stats)
{
	*stats = lockorder->stats;
}
