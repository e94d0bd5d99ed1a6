// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "detect/waitgraph.h"

size_t ks_graph_find_cycles(struct ks_graph_node **nodes, size_t n,
			    struct ks_graph_cycle *cycles,
			    struct ks_graph_node **members)
{
	size_t nr_cycles = 0, nr_members = 0;

	for (size_t i = 0; i < n; i++) {
		nodes[i]->walk = 0;
		nodes[i]->cycle = -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t walk = (uint32_t)i + 1;
		struct ks_graph_node *node = nodes[i];
		struct ks_graph_node *start;

		while (node && !node->walk) {
			node->walk = walk;
			node = node->next;
		}
		/* Ran into an earlier walk or a dead end: nothing new. */
		if (!node || node->walk != walk)
			continue;
		start = node;
		cycles[nr_cycles].nodes = &members[nr_members];
		cycles[nr_cycles].len = 0;
		do {
			node->cycle = (int32_t)nr_cycles;
			members[nr_members++] = node;
			cycles[nr_cycles].len++;
			node = node->next;
		} while (node != start);
		nr_cycles++;
	}
	return nr_cycles;
}

int32_t ks_graph_cycle_reached(const struct ks_graph_node *node)
{
	/*
	 * Terminates: after ks_graph_find_cycles every infinite chain runs
	 * into a node marked with its cycle.
	 */
	while (node && node->cycle < 0)
		node = node->next;
	return node ? node->cycle : -1;
}
