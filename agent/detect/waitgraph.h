/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Deadlocks in a wait-for graph where a blocked thread can be freed by any
 * one of a set of threads: one for a lock (its holder), several for a pipe
 * (every thread that holds its other end).  This is the OR model of
 * deadlock: a thread is deadlocked when every thread that could free it is
 * deadlocked too.
 *
 * A node marked as escaping waits on something outside the graph (a
 * thread that runs, waits with a timeout, or is unknown): it is free, and
 * so is every node one of whose edges leads to a free node.  What remains
 * is closed: each of its nodes waits only on nodes in it, none of which
 * can ever run.  Its knots, the strongly connected parts no edge leaves,
 * are the deadlocks; its other nodes wait behind them.  Where every node
 * has one edge, the knots are exactly the cycles.
 *
 * Linear in nodes and edges; the graph keeps its memory between runs.
 */
#ifndef KS_WAITGRAPH_H
#define KS_WAITGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ks_graph_node {
	uint32_t first_edge; /* its edges: edges[first_edge..+nr_edges) */
	uint32_t nr_edges;
	bool escapes;
	/* Results: deadlocked, and the knot it is in (-1: none). */
	bool deadlocked;
	int32_t knot;
};

struct ks_graph_knot {
	uint32_t *members; /* node indexes, in wait order */
	size_t len;
};

struct ks_graph {
	struct ks_graph_node *nodes;
	size_t nr_nodes;
	uint32_t *edges; /* node indexes */
	size_t nr_edges;
	/* Results. */
	struct ks_graph_knot *knots;
	size_t nr_knots;
	/* Storage and scratch, grown as needed. */
	size_t nodes_cap, edges_cap, scratch_cap, rev_cap;
	uint32_t *members, *rev_first, *rev_edges, *index, *low, *stack, *walk,
		*cursor, *component;
};

void ks_graph_init(struct ks_graph *graph);
void ks_graph_release(struct ks_graph *graph);

/* Empties the graph, keeping its memory. */
void ks_graph_clear(struct ks_graph *graph);
/* Adds a node, numbered from 0 in order; -1 when memory runs out. */
int ks_graph_add_node(struct ks_graph *graph, bool escapes);
/* Adds an edge from the node added last; -1 when memory runs out. */
int ks_graph_add_edge(struct ks_graph *graph, uint32_t to);

/*
 * Finds the deadlocked nodes and the knots.  In a knot, each member is
 * followed, where it can be, by one it waits on: a cycle is listed in wait
 * order.  -1 when memory runs out.
 */
int ks_graph_find_knots(struct ks_graph *graph);

/*
 * The deadlocked nodes outside every knot that wait, directly or not, on
 * knot: written to out (room for every node), how many returned.
 */
size_t ks_graph_behind(struct ks_graph *graph, int32_t knot, uint32_t *out);

#endif /* KS_WAITGRAPH_H */
