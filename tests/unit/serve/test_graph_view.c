// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The dashboard's wait-for graph, drawn from lock and I/O waits. */
#include "unit.h"

#include "fixtures.h"
#include "serve/graph_view.h"

#define NOW 5000000ull

struct world {
	struct ks_table table;
	struct ks_symbolizer *symbolizer;
	struct ks_graph_view *view;
	json_object *graph;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->table, 100);
	w->symbolizer = ks_symbolizer_new();
	w->view = ks_graph_view_new(w->symbolizer);
	assert_non_null(w->view);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	json_object_put(w->graph);
	ks_graph_view_free(w->view);
	ks_symbolizer_free(w->symbolizer);
	ks_table_clear(&w->table);
	free(w);
	return 0;
}

static void render(struct world *w)
{
	json_object_put(w->graph);
	w->graph = ks_graph_view_render(w->view, &w->table, NOW);
	assert_non_null(w->graph);
}

static json_object *field(json_object *obj, const char *key)
{
	json_object *value = NULL;

	assert_true(json_object_object_get_ex(obj, key, &value));
	return value;
}

static const char *text(json_object *obj, const char *key)
{
	return json_object_get_string(field(obj, key));
}

static bool flag(json_object *obj, const char *key)
{
	return json_object_get_boolean(field(obj, key));
}

/* The element of list whose "id" is id. */
static json_object *node(struct world *w, const char *list, const char *id)
{
	json_object *items = field(w->graph, list);

	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *item = json_object_array_get_idx(items, i);

		if (!strcmp(text(item, "id"), id))
			return item;
	}
	fail_msg("no %s %s", list, id);
	return NULL;
}

/* The one edge from -> to. */
static json_object *edge(struct world *w, const char *from, const char *to)
{
	json_object *edges = field(w->graph, "edges");
	json_object *found = NULL;

	for (size_t i = 0; i < json_object_array_length(edges); i++) {
		json_object *e = json_object_array_get_idx(edges, i);

		if (strcmp(text(e, "from"), from) || strcmp(text(e, "to"), to))
			continue;
		assert_null(found);
		found = e;
	}
	if (!found)
		fail_msg("no edge %s -> %s", from, to);
	return found;
}

static size_t count(struct world *w, const char *list)
{
	return json_object_array_length(field(w->graph, list));
}

/* A parent and its child each write a full pipe only the other reads. */
static void test_pipe_deadlock_is_drawn_as_a_cycle(void **state)
{
	struct world *w = *state;
	const struct ks_io_party to_child[] = { ANY_OF(20) };
	const struct ks_io_party to_parent[] = { ANY_OF(10) };
	struct ks_thread *parent = add_thread(&w->table, 10, 10);
	struct ks_thread *child = add_thread(&w->table, 20, 20);
	json_object *e, *io, *cycle;

	wait_on_io(parent, KS_IO_WAIT_PIPE_WRITE, 111, to_child, 1, true);
	wait_on_io(child, KS_IO_WAIT_PIPE_WRITE, 222, to_parent, 1, true);
	render(w);

	assert_int_equal(count(w, "threads"), 2);
	assert_int_equal(count(w, "locks"), 0);
	assert_int_equal(count(w, "edges"), 2);
	e = edge(w, "t:10", "t:20");
	assert_string_equal(text(e, "kind"), "io_wait");
	assert_string_equal(text(e, "wait_kind"), "pipe-write");
	assert_string_equal(text(e, "object"), "pipe:[111]");
	assert_true(flag(e, "in_cycle"));
	e = edge(w, "t:20", "t:10");
	assert_string_equal(text(e, "object"), "pipe:[222]");
	assert_true(flag(e, "in_cycle"));

	io = field(node(w, "threads", "t:10"), "io");
	assert_string_equal(text(io, "kind"), "pipe-write");
	assert_string_equal(text(io, "syscall"), "write");
	assert_string_equal(text(io, "object"), "pipe:[111]");
	assert_int_equal(json_object_get_int(field(io, "fd")), 5);
	assert_true(flag(node(w, "threads", "t:10"), "in_cycle"));
	assert_true(flag(node(w, "threads", "t:10"), "first_seen"));
	/* Since the sweep first saw it, at 3 ms. */
	assert_true(json_object_get_double(field(node(w, "threads", "t:10"),
						 "blocked_ms")) == 2.0);

	assert_int_equal(count(w, "cycles"), 1);
	cycle = json_object_array_get_idx(field(w->graph, "cycles"), 0);
	assert_int_equal(json_object_array_length(cycle), 2);
}

/*
 * A writer on a full pipe whose reader process has two threads, one of
 * them running: an edge to each, not waiting, and no cycle.
 */
static void test_io_wait_with_a_running_reader_is_no_cycle(void **state)
{
	struct world *w = *state;
	const struct ks_io_party reader[] = { ANY_OF(30) };
	struct ks_thread *writer = add_thread(&w->table, 10, 10);

	add_thread(&w->table, 30, 30);
	add_thread(&w->table, 30, 31);
	wait_on_io(writer, KS_IO_WAIT_PIPE_WRITE, 111, reader, 1, true);
	render(w);

	assert_int_equal(count(w, "threads"), 3);
	assert_false(flag(edge(w, "t:10", "t:30"), "in_cycle"));
	assert_false(flag(edge(w, "t:10", "t:31"), "in_cycle"));
	assert_false(flag(node(w, "threads", "t:30"), "waiting"));
	assert_false(flag(node(w, "threads", "t:10"), "in_cycle"));
	assert_int_equal(count(w, "cycles"), 0);
}

/*
 * One process: a thread holds mutex 0xa000 and reads a pipe only the
 * process writes; the other waits for the mutex.  A cycle through a lock
 * edge and an I/O edge, drawn each its own way.
 */
static void test_pipe_and_mutex_in_one_cycle(void **state)
{
	struct world *w = *state;
	const struct ks_io_party writers[] = { ANY_OF(10) };
	struct ks_thread *reader = add_thread(&w->table, 10, 10);
	struct ks_thread *locker = add_thread(&w->table, 10, 11);

	wait_on_io(reader, KS_IO_WAIT_PIPE_READ, 333, writers, 1, true);
	wait_for_mutex(locker, 0xa000, 10);
	render(w);

	assert_string_equal(text(edge(w, "t:11", "l:10:a000"), "kind"),
			    "waits_for");
	assert_true(flag(edge(w, "l:10:a000", "t:10"), "in_cycle"));
	assert_string_equal(text(edge(w, "t:10", "t:11"), "wait_kind"),
			    "pipe-read");
	assert_true(flag(edge(w, "t:10", "t:11"), "in_cycle"));
	/* Its own thread can write the pipe too, in principle. */
	assert_true(flag(edge(w, "t:10", "t:10"), "in_cycle"));
	assert_int_equal(count(w, "cycles"), 1);
}

/* A party whose process is gone: the wait may end, so no cycle. */
static void test_unknown_party_is_no_cycle(void **state)
{
	struct world *w = *state;
	const struct ks_io_party to_child[] = { ANY_OF(20) };
	const struct ks_io_party gone[] = { ANY_OF(10), ANY_OF(99) };
	struct ks_thread *parent = add_thread(&w->table, 10, 10);
	struct ks_thread *child = add_thread(&w->table, 20, 20);

	wait_on_io(parent, KS_IO_WAIT_PIPE_WRITE, 111, to_child, 1, true);
	wait_on_io(child, KS_IO_WAIT_PIPE_WRITE, 222, gone, 2, true);
	render(w);

	assert_false(flag(edge(w, "t:10", "t:20"), "in_cycle"));
	assert_int_equal(count(w, "cycles"), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pipe_deadlock_is_drawn_as_a_cycle),
		T(test_io_wait_with_a_running_reader_is_no_cycle),
		T(test_pipe_and_mutex_in_one_cycle),
		T(test_unknown_party_is_no_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
