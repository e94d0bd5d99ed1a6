// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "detect/waitgraph.h"

#define KS_UNSEEN UINT32_MAX
#define KS_NO_COMPONENT UINT32_MAX

void ks_graph_init(struct ks_graph *graph)
{
	memset(graph, 0, sizeof(*graph));
}

void ks_graph_release(struct ks_graph *graph)
{
	free(graph->nodes);
	free(graph->edges);
	free(graph->knots);
	free(graph->members);
	free(graph->rev_first);
	free(graph->rev_edges);
	free(graph->index);
	free(graph->low);
	free(graph->stack);
	free(graph->walk);
	free(graph->cursor);
	free(graph->component);
	ks_graph_init(graph);
}

void ks_graph_clear(struct ks_graph *graph)
{
	graph->nr_nodes = graph->nr_edges = graph->nr_knots = 0;
}

int ks_graph_add_node(struct ks_graph *graph, bool escapes)
{
	struct ks_graph_node *node;

	if (graph->nr_nodes == graph->nodes_cap) {
		size_t cap = ks_doubled(graph->nodes_cap, graph->nr_nodes + 1);

		if (ks_grow(&graph->nodes, sizeof(*graph->nodes), cap))
			return -1;
		graph->nodes_cap = cap;
	}
	node = &graph->nodes[graph->nr_nodes++];
	memset(node, 0, sizeof(*node));
	node->first_edge = (uint32_t)graph->nr_edges;
	node->escapes = escapes;
	node->knot = -1;
	return 0;
}

int ks_graph_add_edge(struct ks_graph *graph, uint32_t to)
{
	if (graph->nr_edges == graph->edges_cap) {
		size_t cap = ks_doubled(graph->edges_cap, graph->nr_edges + 1);

		if (ks_grow(&graph->edges, sizeof(*graph->edges), cap))
			return -1;
		graph->edges_cap = cap;
	}
	graph->edges[graph->nr_edges++] = to;
	graph->nodes[graph->nr_nodes - 1].nr_edges++;
	return 0;
}

static int ks_reserve_scratch(struct ks_graph *g)
{
	size_t n = g->nr_nodes + 1;

	if (n > g->scratch_cap) {
		size_t cap = ks_doubled(g->scratch_cap, n);

		if (ks_grow(&g->knots, sizeof(*g->knots), cap) ||
		    ks_grow(&g->members, sizeof(uint32_t), cap) ||
		    ks_grow(&g->rev_first, sizeof(uint32_t), cap) ||
		    ks_grow(&g->index, sizeof(uint32_t), cap) ||
		    ks_grow(&g->low, sizeof(uint32_t), cap) ||
		    ks_grow(&g->stack, sizeof(uint32_t), cap) ||
		    ks_grow(&g->walk, sizeof(uint32_t), cap) ||
		    ks_grow(&g->cursor, sizeof(uint32_t), cap) ||
		    ks_grow(&g->component, sizeof(uint32_t), cap))
			return -1;
		g->scratch_cap = cap;
	}
	if (g->nr_edges + 1 > g->rev_cap) {
		size_t cap = ks_doubled(g->rev_cap, g->nr_edges + 1);

		if (ks_grow(&g->rev_edges, sizeof(uint32_t), cap))
			return -1;
		g->rev_cap = cap;
	}
	return 0;
}

/* Who waits on each node: rev_edges[rev_first[v]..rev_first[v + 1]). */
static void ks_build_reverse(struct ks_graph *g)
{
	size_t n = g->nr_nodes;

	memset(g->rev_first, 0, (n + 1) * sizeof(uint32_t));
	for (size_t e = 0; e < g->nr_edges; e++)
		g->rev_first[g->edges[e] + 1]++;
	for (size_t v = 0; v < n; v++)
		g->rev_first[v + 1] += g->rev_first[v];
	/* cursor[v]: where v's next waiter goes. */
	memcpy(g->cursor, g->rev_first, n * sizeof(uint32_t));
	for (size_t u = 0; u < n; u++) {
		const struct ks_graph_node *node = &g->nodes[u];

		for (uint32_t e = 0; e < node->nr_edges; e++) {
			uint32_t v = g->edges[node->first_edge + e];

			g->rev_edges[g->cursor[v]++] = (uint32_t)u;
		}
	}
}

/*
 * Frees every node that escapes or has nothing to wait on, then every node
 * that waits on a free one: what stays deadlocked is closed.
 */
static void ks_mark_deadlocked(struct ks_graph *g)
{
	size_t head = 0, tail = 0;

	for (size_t v = 0; v < g->nr_nodes; v++) {
		struct ks_graph_node *node = &g->nodes[v];

		node->deadlocked = !node->escapes && node->nr_edges;
		node->knot = -1;
		if (!node->deadlocked)
			g->walk[tail++] = (uint32_t)v;
	}
	while (head < tail) {
		uint32_t v = g->walk[head++];

		for (uint32_t r = g->rev_first[v]; r < g->rev_first[v + 1];
		     r++) {
			struct ks_graph_node *waiter =
				&g->nodes[g->rev_edges[r]];

			if (waiter->deadlocked) {
				waiter->deadlocked = false;
				g->walk[tail++] = g->rev_edges[r];
			}
		}
	}
}

/* Tarjan's strongly connected components of the deadlocked nodes, without
 * recursion: walk is the depth-first path, cursor each one's next edge. */
static size_t ks_components(struct ks_graph *g)
{
	uint32_t counter = 0, nr_components = 0;
	size_t top = 0;

	for (size_t v = 0; v < g->nr_nodes; v++) {
		g->index[v] = KS_UNSEEN;
		g->component[v] = KS_NO_COMPONENT;
	}
	for (size_t root = 0; root < g->nr_nodes; root++) {
		size_t depth = 0;

		if (!g->nodes[root].deadlocked || g->index[root] != KS_UNSEEN)
			continue;
		g->walk[depth++] = (uint32_t)root;
		g->index[root] = g->low[root] = counter++;
		g->cursor[root] = 0;
		g->stack[top++] = (uint32_t)root;
		while (depth) {
			uint32_t v = g->walk[depth - 1];
			const struct ks_graph_node *node = &g->nodes[v];

			if (g->cursor[v] < node->nr_edges) {
				uint32_t w = g->edges[node->first_edge +
						      g->cursor[v]++];

				if (g->index[w] == KS_UNSEEN) {
					g->index[w] = g->low[w] = counter++;
					g->cursor[w] = 0;
					g->stack[top++] = w;
					g->walk[depth++] = w;
				} else if (g->component[w] == KS_NO_COMPONENT &&
					   g->index[w] < g->low[v]) {
					g->low[v] = g->index[w]; /* on stack */
				}
				continue;
			}
			depth--;
			if (depth && g->low[v] < g->low[g->walk[depth - 1]])
				g->low[g->walk[depth - 1]] = g->low[v];
			if (g->low[v] != g->index[v])
				continue;
			do
				g->component[g->stack[--top]] = nr_components;
			while (g->stack[top] != v);
			nr_components++;
		}
	}
	return nr_components;
}

/*
 * The components no edge leaves become the knots: numbers each, and gives
 * each its share of members[] (knot->len counts them, filled later).
 */
static void ks_number_knots(struct ks_graph *g, size_t nr_components)
{
	/* Reused: cursor[c] is component c's knot, or KS_UNSEEN. */
	uint32_t *knot_of = g->cursor;
	size_t offset = 0;

	for (size_t c = 0; c < nr_components; c++)
		knot_of[c] = 0;
	for (size_t v = 0; v < g->nr_nodes; v++) {
		const struct ks_graph_node *node = &g->nodes[v];

		if (g->component[v] == KS_NO_COMPONENT)
			continue;
		for (uint32_t e = 0; e < node->nr_edges; e++)
			if (g->component[g->edges[node->first_edge + e]] !=
			    g->component[v])
				knot_of[g->component[v]] = KS_UNSEEN;
	}
	for (size_t c = 0; c < nr_components; c++)
		if (knot_of[c] != KS_UNSEEN)
			knot_of[c] = (uint32_t)g->nr_knots++;
	for (size_t k = 0; k < g->nr_knots; k++)
		g->knots[k].len = 0;
	for (size_t v = 0; v < g->nr_nodes; v++) {
		uint32_t c = g->component[v];

		if (c == KS_NO_COMPONENT || knot_of[c] == KS_UNSEEN)
			continue;
		g->nodes[v].knot = (int32_t)knot_of[c];
		g->knots[knot_of[c]].len++;
	}
	for (size_t k = 0; k < g->nr_knots; k++) {
		g->knots[k].members = &g->members[offset];
		offset += g->knots[k].len;
		g->knots[k].len = 0;
	}
}

/*
 * Lists each knot's members, from its lowest node, each followed, where one
 * is left, by the first member it waits on: a cycle comes out in wait order.
 */
static void ks_list_knots(struct ks_graph *g)
{
	/* Reused: index[v] is KS_UNSEEN once v is listed. */
	for (size_t start = 0; start < g->nr_nodes; start++) {
		uint32_t v = (uint32_t)start;
		int32_t knot = g->nodes[v].knot;

		if (knot < 0 || g->index[v] == KS_UNSEEN)
			continue;
		for (;;) {
			const struct ks_graph_node *node = &g->nodes[v];
			struct ks_graph_knot *k = &g->knots[knot];
			uint32_t next = KS_UNSEEN;

			k->members[k->len++] = v;
			g->index[v] = KS_UNSEEN;
			for (uint32_t e = 0; e < node->nr_edges; e++) {
				uint32_t w = g->edges[node->first_edge + e];

				if (g->nodes[w].knot == knot &&
				    g->index[w] != KS_UNSEEN) {
					next = w;
					break;
				}
			}
			if (next == KS_UNSEEN)
				break;
			v = next;
		}
	}
}

int ks_graph_find_knots(struct ks_graph *g)
{
	g->nr_knots = 0;
	if (ks_reserve_scratch(g))
		return -1;
	ks_build_reverse(g);
	ks_mark_deadlocked(g);
	ks_number_knots(g, ks_components(g));
	ks_list_knots(g);
	return 0;
}

size_t ks_graph_behind(struct ks_graph *g, int32_t knot, uint32_t *out)
{
	size_t head = 0, tail = 0, n = 0;

	/* index[] is a visited mark here: the knots are listed already. */
	for (size_t v = 0; v < g->nr_nodes; v++) {
		g->index[v] = g->nodes[v].knot == knot;
		if (g->index[v])
			g->walk[tail++] = (uint32_t)v;
	}
	while (head < tail) {
		uint32_t v = g->walk[head++];

		for (uint32_t r = g->rev_first[v]; r < g->rev_first[v + 1];
		     r++) {
			uint32_t u = g->rev_edges[r];

			if (g->index[u] || !g->nodes[u].deadlocked)
				continue;
			g->index[u] = 1;
			g->walk[tail++] = u;
			out[n++] = u;
		}
	}
	return n;
}
