/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Cycle finding in a wait-for graph.  A blocked thread waits for exactly one
 * thing held by at most one thread, so every node has at most one out-edge:
 * each connected piece of the graph holds at most one cycle, and one walk
 * per node finds them all in linear time.
 */
#ifndef KS_WAITGRAPH_H
#define KS_WAITGRAPH_H

#include <stddef.h>
#include <stdint.h>

struct ks_graph_node {
	struct ks_graph_node *next; /* the node this one waits for, or NULL */
	uint32_t walk; /* scratch: which walk reached this node */
	int32_t cycle; /* result: index of its cycle, or -1 */
};

struct ks_graph_cycle {
	struct ks_graph_node *
		*nodes; /* in wait order: nodes[i] waits for [i+1] */
	size_t len;
};

/*
 * Finds every cycle among nodes[0..n).  Edges must stay inside the set.
 * cycles receives at most n entries; member receives n pointers, shared by
 * the cycles.  Returns the number of cycles.  Afterwards node->cycle names
 * the cycle a node is on, or -1.
 */
size_t ks_graph_find_cycles(struct ks_graph_node **nodes, size_t n,
			    struct ks_graph_cycle *cycles,
			    struct ks_graph_node **members);

/* The cycle a node's chain of waits runs into, or -1 if it ends. */
int32_t ks_graph_cycle_reached(const struct ks_graph_node *node);

#endif /* KS_WAITGRAPH_H */
