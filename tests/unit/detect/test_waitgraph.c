// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Deadlocks in wait-for graphs where a node may wait on any of several. */
#include "unit.h"

#include "detect/waitgraph.h"

#define ESCAPES -2
#define END -1

/*
 * edges: for each node, the nodes it waits on, END-terminated; a node
 * whose list starts with ESCAPES waits on something outside the graph.
 */
static void build(struct ks_graph *g, const int *edges, size_t n)
{
	ks_graph_clear(g);
	for (size_t i = 0; i < n; i++) {
		bool escapes = *edges == ESCAPES;

		assert_int_equal(ks_graph_add_node(g, escapes), 0);
		if (escapes)
			edges++;
		for (; *edges != END; edges++)
			assert_int_equal(ks_graph_add_edge(g, (uint32_t)*edges),
					 0);
		edges++;
	}
	assert_int_equal(ks_graph_find_knots(g), 0);
}

static int setup(void **state)
{
	struct ks_graph *g = calloc(1, sizeof(*g));

	ks_graph_init(g);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	ks_graph_release(*state);
	free(*state);
	return 0;
}

static void assert_deadlocked(struct ks_graph *g, const char *expected)
{
	for (size_t i = 0; i < g->nr_nodes; i++)
		assert_int_equal(g->nodes[i].deadlocked, expected[i] == 'D');
}

static void test_nothing_waited_on_is_no_deadlock(void **state)
{
	const int edges[] = { END, END, END };
	struct ks_graph *g = *state;

	build(g, edges, 3);
	assert_int_equal(g->nr_knots, 0);
	assert_deadlocked(g, "fff");
}

static void test_chain_to_a_runner_is_free(void **state)
{
	const int edges[] = { 1, END, 2, END, ESCAPES, END };
	struct ks_graph *g = *state;

	build(g, edges, 3);
	assert_int_equal(g->nr_knots, 0);
	assert_deadlocked(g, "fff");
}

static void test_self_loop_is_a_knot_of_one(void **state)
{
	const int edges[] = { END, 1, END };
	struct ks_graph *g = *state;

	build(g, edges, 2);
	assert_int_equal(g->nr_knots, 1);
	assert_int_equal(g->knots[0].len, 1);
	assert_int_equal(g->knots[0].members[0], 1);
	assert_int_equal(g->nodes[1].knot, 0);
	assert_int_equal(g->nodes[0].knot, -1);
}

static void test_cycles_come_in_wait_order(void **state)
{
	/* 0 -> 3 -> 1 -> 4 -> 2 -> 0: five philosophers, shuffled. */
	const int edges[] = { 3, END, 4, END, 0, END, 1, END, 2, END };
	struct ks_graph *g = *state;
	const uint32_t *m;

	build(g, edges, 5);
	assert_int_equal(g->nr_knots, 1);
	assert_int_equal(g->knots[0].len, 5);
	m = g->knots[0].members;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(g->edges[g->nodes[m[i]].first_edge],
				 m[(i + 1) % 5]);
}

static void test_threads_behind_a_cycle(void **state)
{
	/* 0 <-> 1; 2 waits on 1, 3 on 2; 4 on 3 and on a runner. */
	const int edges[] = { 1,   END, 0, END, 1,	 END, 2,
			      END, 3,	5, END, ESCAPES, END };
	struct ks_graph *g = *state;
	uint32_t behind[6];

	build(g, edges, 6);
	assert_int_equal(g->nr_knots, 1);
	assert_deadlocked(g, "DDDDff");
	assert_int_equal(ks_graph_behind(g, 0, behind), 2);
	assert_int_equal(behind[0], 2);
	assert_int_equal(behind[1], 3);
}

static void test_one_free_party_frees_the_waiter(void **state)
{
	/* 0 can be freed by 1 or 2; 1 waits on 0; 2 runs: nobody is stuck. */
	const int edges[] = { 1, 2, END, 0, END, ESCAPES, END };
	struct ks_graph *g = *state;

	build(g, edges, 3);
	assert_int_equal(g->nr_knots, 0);
	assert_deadlocked(g, "fff");
}

static void test_every_party_stuck_is_a_knot(void **state)
{
	/* A pipe's reader 0 and its two writers 1 and 2, blocked on 0. */
	const int edges[] = { 1, 2, END, 0, END, 0, END };
	struct ks_graph *g = *state;

	build(g, edges, 3);
	assert_int_equal(g->nr_knots, 1);
	assert_int_equal(g->knots[0].len, 3);
	assert_deadlocked(g, "DDD");
}

static void test_knot_is_the_part_no_edge_leaves(void **state)
{
	/*
	 * 0 <-> 1, and 1 may also be freed by 2; 2 <-> 3.  All four are
	 * stuck, but only {2, 3} is a knot: {0, 1} waits behind it.
	 */
	const int edges[] = { 1, END, 0, 2, END, 3, END, 2, END };
	struct ks_graph *g = *state;
	uint32_t behind[4];

	build(g, edges, 4);
	assert_deadlocked(g, "DDDD");
	assert_int_equal(g->nr_knots, 1);
	assert_int_equal(g->nodes[2].knot, 0);
	assert_int_equal(g->nodes[3].knot, 0);
	assert_int_equal(g->nodes[0].knot, -1);
	assert_int_equal(ks_graph_behind(g, 0, behind), 2);
}

static void test_separate_knots(void **state)
{
	const int edges[] = { 1, END, 0, END, 3, END, 2, END, 4, END };
	struct ks_graph *g = *state;
	uint32_t behind[5];

	build(g, edges, 5);
	assert_int_equal(g->nr_knots, 3);
	assert_int_not_equal(g->nodes[0].knot, g->nodes[2].knot);
	assert_int_equal(ks_graph_behind(g, g->nodes[0].knot, behind), 0);
}

static void test_long_cycle_needs_no_deep_recursion(void **state)
{
	struct ks_graph *g = *state;
	const size_t n = 200000;

	ks_graph_clear(g);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ks_graph_add_node(g, false), 0);
		assert_int_equal(ks_graph_add_edge(g, (uint32_t)((i + 1) % n)),
				 0);
	}
	assert_int_equal(ks_graph_find_knots(g), 0);
	assert_int_equal(g->nr_knots, 1);
	assert_int_equal(g->knots[0].len, n);
	/* Cleared and used again: nothing of the last run is left. */
	build(g, (const int[]){ END }, 1);
	assert_int_equal(g->nr_knots, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_waited_on_is_no_deadlock),
		cmocka_unit_test(test_chain_to_a_runner_is_free),
		cmocka_unit_test(test_self_loop_is_a_knot_of_one),
		cmocka_unit_test(test_cycles_come_in_wait_order),
		cmocka_unit_test(test_threads_behind_a_cycle),
		cmocka_unit_test(test_one_free_party_frees_the_waiter),
		cmocka_unit_test(test_every_party_stuck_is_a_knot),
		cmocka_unit_test(test_knot_is_the_part_no_edge_leaves),
		cmocka_unit_test(test_separate_knots),
		cmocka_unit_test(test_long_cycle_needs_no_deep_recursion),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
