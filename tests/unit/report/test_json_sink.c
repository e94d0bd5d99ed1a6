// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * JSON records when memory runs out: json-c's constructors return NULL,
 * and adding to a NULL object aborts inside json-c.  Every allocation of a
 * record's making is made to fail in turn: the record is then whole,
 * degraded or lost (and counted), never a crash.
 */
#include "unit.h"

#include <stdio.h>

#include "fixtures.h"
#include "report/json_sink.h"
#include "serve/graph_view.h"

/* Interposed for the whole process: allocation number countdown fails. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);

static long countdown = -1;

static bool fail_now(void)
{
	return countdown >= 0 && countdown-- == 0;
}

void *malloc(size_t size)
{
	return fail_now() ? NULL : __libc_malloc(size);
}

void *calloc(size_t nmemb, size_t size)
{
	return fail_now() ? NULL : __libc_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
	return fail_now() ? NULL : __libc_realloc(ptr, size);
}

struct world {
	struct ks_table table;
	struct ks_deadlock_member members[2];
	struct ks_stack stacks[2];
	struct ks_deadlock deadlock;
	struct ks_report report;
};

/* Two threads of one process, each waiting for the other's mutex. */
static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct ks_thread *a, *b;

	ks_table_init(&w->table, 100);
	a = add_thread(&w->table, 50, 50);
	b = add_thread(&w->table, 50, 51);
	wait_for_mutex(a, 0x1000, 51);
	wait_for_mutex(b, 0x2000, 50);
	for (int i = 0; i < 2; i++) {
		struct ks_deadlock_member *m = &w->members[i];

		m->thread = i ? b : a;
		m->target.kind = KS_LOCK_MUTEX;
		m->target.lock_addr = i ? 0x2000 : 0x1000;
		m->target.holder = i ? a : b;
		m->target.mutex_kind = 0;
		w->stacks[i].nr = 2;
		snprintf(w->stacks[i].frames[0].function,
			 sizeof(w->stacks[i].frames[0].function), "take");
		snprintf(w->stacks[i].frames[1].function,
			 sizeof(w->stacks[i].frames[1].function), "main");
	}
	w->deadlock = (struct ks_deadlock){ .id = 0x1f149a0aa968629eull,
					    .members = w->members,
					    .nr_members = 2,
					    .confirmed_mono_ns = 2000000 };
	w->report = (struct ks_report){ .deadlock = &w->deadlock,
					.member_stacks = w->stacks,
					.latency_ns = 163000000 };
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_table_clear(&w->table);
	free(w);
	return 0;
}

/* Runs make with allocation n failing, for every n it makes. */
static void with_each_allocation_failing(void (*make)(struct world *),
					 struct world *w)
{
	for (long n = 0; n < 2000; n++) {
		countdown = n;
		make(w);
		/* Made without failing: every allocation was tried. */
		if (countdown >= 0) {
			countdown = -1;
			return;
		}
	}
	fail_msg("more allocations than expected");
}

static void make_deadlock_string(struct world *w)
{
	free(ks_json_deadlock_string(&w->report));
}

static void make_records(struct world *w)
{
	static const struct ks_ready_info ready = {
		.attach_mode = "tp_btf",
		.syscall_hooks = "none",
		.wait_hooks = "sched",
		.selection = "all processes",
		.confirm_ms = 100,
	};
	struct ks_run_summary summary = { .duration_s = 1 };
	struct ks_json_sink *sink = ks_json_sink_open("/dev/null");

	if (!sink)
		return;
	ks_json_write_ready(sink, &ready);
	ks_json_write_deadlock(sink, &w->report);
	ks_json_write_summary(sink, &summary, &w->table);
	ks_json_sink_close(sink);
}

static struct ks_symbolizer *symbolizer;

static void make_graph(struct world *w)
{
	struct ks_graph_view *view = ks_graph_view_new(symbolizer);
	json_object *graph;

	if (!view)
		return;
	graph = ks_graph_view_render(view, &w->table, 3000000);
	json_object_put(graph);
	ks_graph_view_free(view);
}

static void test_deadlock_text_survives_any_failed_allocation(void **state)
{
	with_each_allocation_failing(make_deadlock_string, *state);
}

static void test_records_survive_any_failed_allocation(void **state)
{
	with_each_allocation_failing(make_records, *state);
}

static void test_the_graph_survives_any_failed_allocation(void **state)
{
	symbolizer = ks_symbolizer_new();
	with_each_allocation_failing(make_graph, *state);
	ks_symbolizer_free(symbolizer);
}

/* A record that could not be made is lost and counted, not half-written. */
static void test_a_record_that_cannot_be_made_is_counted(void **state)
{
	struct world *w = *state;
	struct ks_json_sink *sink = ks_json_sink_open("/dev/null");

	assert_non_null(sink);
	countdown = 0;
	ks_json_write_deadlock(sink, &w->report);
	countdown = -1;
	assert_int_equal(ks_json_sink_lost(sink), 1);
	ks_json_write_deadlock(sink, &w->report);
	assert_int_equal(ks_json_sink_lost(sink), 1);
	ks_json_sink_close(sink);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_deadlock_text_survives_any_failed_allocation),
		T(test_records_survive_any_failed_allocation),
		T(test_the_graph_survives_any_failed_allocation),
		T(test_a_record_that_cannot_be_made_is_counted),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
