// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Cycle finding in wait-for graphs where each node waits for at most one. */
#include "unit.h"

#include "detect/waitgraph.h"

#define MAX_NODES 16

struct graph {
	struct ks_graph_node storage[MAX_NODES];
	struct ks_graph_node *nodes[MAX_NODES];
	struct ks_graph_node *members[MAX_NODES];
	struct ks_graph_cycle cycles[MAX_NODES];
	size_t n;
};

/* edges[i] = index node i waits for, or -1. */
static size_t build_and_find(struct graph *g, const int *edges, size_t n)
{
	memset(g, 0, sizeof(*g));
	g->n = n;
	for (size_t i = 0; i < n; i++) {
		g->nodes[i] = &g->storage[i];
		g->storage[i].next =
			edges[i] >= 0 ? &g->storage[edges[i]] : NULL;
	}
	return ks_graph_find_cycles(g->nodes, n, g->cycles, g->members);
}

static size_t index_of(const struct graph *g, const struct ks_graph_node *node)
{
	return (size_t)(node - g->storage);
}

static void test_no_edges_no_cycle(void **state)
{
	const int edges[] = { -1, -1, -1 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 3), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(g.storage[i].cycle, -1);
}

static void test_chain_is_not_a_cycle(void **state)
{
	const int edges[] = { 1, 2, 3, -1 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 4), 0);
	assert_int_equal(ks_graph_cycle_reached(&g.storage[0]), -1);
}

static void test_self_loop_is_a_cycle_of_one(void **state)
{
	const int edges[] = { -1, 1 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 2), 1);
	assert_int_equal(g.cycles[0].len, 1);
	assert_int_equal(index_of(&g, g.cycles[0].nodes[0]), 1);
}

static void test_two_cycle_in_wait_order(void **state)
{
	const int edges[] = { 1, 0 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 2), 1);
	assert_int_equal(g.cycles[0].len, 2);
	/* nodes[i] waits for nodes[i + 1], wrapping around. */
	assert_ptr_equal(g.cycles[0].nodes[0]->next, g.cycles[0].nodes[1]);
	assert_ptr_equal(g.cycles[0].nodes[1]->next, g.cycles[0].nodes[0]);
}

static void test_five_philosophers(void **state)
{
	const int edges[] = { 1, 2, 3, 4, 0 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 5), 1);
	assert_int_equal(g.cycles[0].len, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(g.storage[i].cycle, 0);
}

static void test_tail_leading_into_cycle_is_behind_it(void **state)
{
	/* 3 -> 2 -> 0 <-> 1, and 4 alone. */
	const int edges[] = { 1, 0, 0, 2, -1 };
	struct graph g;

	assert_int_equal(build_and_find(&g, edges, 5), 1);
	assert_int_equal(g.cycles[0].len, 2);
	assert_int_equal(g.storage[2].cycle, -1);
	assert_int_equal(g.storage[3].cycle, -1);
	assert_int_equal(ks_graph_cycle_reached(&g.storage[3]), 0);
	assert_int_equal(ks_graph_cycle_reached(&g.storage[2]), 0);
	assert_int_equal(ks_graph_cycle_reached(&g.storage[4]), -1);
}

static void test_two_separate_cycles(void **state)
{
	/* 0 <-> 1 and 2 -> 3 -> 4 -> 2, with 5 -> 3. */
	const int edges[] = { 1, 0, 3, 4, 2, 3 };
	struct graph g;
	size_t len0, len1;

	assert_int_equal(build_and_find(&g, edges, 6), 2);
	len0 = g.cycles[0].len;
	len1 = g.cycles[1].len;
	assert_true((len0 == 2 && len1 == 3) || (len0 == 3 && len1 == 2));
	assert_int_equal(ks_graph_cycle_reached(&g.storage[5]),
			 g.storage[3].cycle);
	/* Members of both cycles are distinct slots of the shared array. */
	assert_ptr_not_equal(g.cycles[0].nodes, g.cycles[1].nodes);
}

static void test_rerun_resets_marks(void **state)
{
	const int cyclic[] = { 1, 0 };
	struct graph g;

	assert_int_equal(build_and_find(&g, cyclic, 2), 1);
	/* The same storage, edge broken: the old marks must not linger. */
	g.storage[1].next = NULL;
	assert_int_equal(ks_graph_find_cycles(g.nodes, 2, g.cycles, g.members),
			 0);
	assert_int_equal(g.storage[0].cycle, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_edges_no_cycle),
		cmocka_unit_test(test_chain_is_not_a_cycle),
		cmocka_unit_test(test_self_loop_is_a_cycle_of_one),
		cmocka_unit_test(test_two_cycle_in_wait_order),
		cmocka_unit_test(test_five_philosophers),
		cmocka_unit_test(test_tail_leading_into_cycle_is_behind_it),
		cmocka_unit_test(test_two_separate_cycles),
		cmocka_unit_test(test_rerun_resets_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
