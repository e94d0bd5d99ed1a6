// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Departed processes: kept for their final values, then freed. */
#include "unit.h"

#include "fixtures.h"
#include "model/table.h"

static unsigned int nr_freed;
static uint32_t last_freed;

static void on_freed(void *ctx, struct ks_process *process)
{
	nr_freed++;
	last_freed = process->tgid;
}

static void setup_table(struct ks_table *table, unsigned int holds)
{
	ks_table_init(table, 100);
	table->on_process_freed = on_freed;
	table->departed_holds = holds;
	nr_freed = 0;
}

static void test_without_holds_a_process_is_freed_at_once(void **state)
{
	struct ks_table table;

	setup_table(&table, 0);
	add_thread(&table, 100, 100);
	ks_table_remove_process(&table, ks_table_process(&table, 100));
	assert_int_equal(nr_freed, 1);
	assert_null(ks_table_process_or_departed(&table, 100));
	ks_table_clear(&table);
}

static void test_departed_is_kept_until_every_hold_is_released(void **state)
{
	struct ks_table table;
	struct ks_process *process;
	uint64_t after;

	setup_table(&table, KS_HOLD_EXPORT | KS_HOLD_SCRAPE);
	add_thread(&table, 100, 100);
	add_thread(&table, 100, 101);
	process = ks_table_process(&table, 100);
	process->stats.futex_waits = 7;
	ks_table_remove_process(&table, process);
	assert_int_equal(nr_freed, 0);
	assert_null(ks_table_process(&table, 100));
	process = ks_table_process_or_departed(&table, 100);
	assert_non_null(process);
	assert_int_equal(process->stats.futex_waits, 7);
	assert_int_equal(process->nr_threads, 0);
	/* A release for what departed before: not this one yet. */
	ks_table_release_departed(&table, KS_HOLD_EXPORT,
				  process->departed_mono_ns);
	assert_int_equal(process->holds, KS_HOLD_EXPORT | KS_HOLD_SCRAPE);
	after = process->departed_mono_ns + 1;
	ks_table_release_departed(&table, KS_HOLD_EXPORT, after);
	assert_int_equal(nr_freed, 0);
	ks_table_release_departed(&table, KS_HOLD_SCRAPE, after);
	assert_int_equal(nr_freed, 1);
	assert_int_equal(table.nr_departed, 0);
	assert_null(ks_table_process_or_departed(&table, 100));
	ks_table_clear(&table);
}

static void test_a_reused_pid_takes_the_departed_one_away(void **state)
{
	struct ks_table table;

	setup_table(&table, KS_HOLD_EXPORT);
	add_thread(&table, 100, 100);
	add_thread(&table, 200, 200);
	ks_table_remove_process(&table, ks_table_process(&table, 100));
	ks_table_remove_process(&table, ks_table_process(&table, 200));
	add_thread(&table, 100, 100);
	assert_int_equal(nr_freed, 1);
	assert_int_equal(last_freed, 100);
	assert_int_equal(table.nr_departed, 1);
	assert_ptr_equal(ks_table_process_or_departed(&table, 100),
			 ks_table_process(&table, 100));
	/* Clearing the table frees the departed too. */
	ks_table_clear(&table);
	assert_int_equal(nr_freed, 3);
	assert_null(table.departed);
}

static void test_departed_have_a_ceiling(void **state)
{
	struct ks_table table;

	setup_table(&table, KS_HOLD_SCRAPE);
	for (uint32_t pid = 1; pid <= KS_MAX_DEPARTED + 2; pid++) {
		add_thread(&table, pid, pid);
		ks_table_remove_process(&table, ks_table_process(&table, pid));
	}
	assert_int_equal(table.nr_departed, KS_MAX_DEPARTED);
	assert_int_equal(nr_freed, 2);
	/* The oldest went first. */
	assert_null(ks_table_process_or_departed(&table, 2));
	assert_non_null(ks_table_process_or_departed(&table, 3));
	ks_table_clear(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_holds_a_process_is_freed_at_once),
		cmocka_unit_test(
			test_departed_is_kept_until_every_hold_is_released),
		cmocka_unit_test(test_a_reused_pid_takes_the_departed_one_away),
		cmocka_unit_test(test_departed_have_a_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
