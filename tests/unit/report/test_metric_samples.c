// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The neutral metrics collection, and the wait histogram under it. */
#include "unit.h"

#include "fixtures.h"
#include "model/wait_hist.h"
#include "report/metric_samples.h"

static void test_histogram_buckets_are_upper_inclusive(void **state)
{
	struct ks_wait_hist hist = { 0 };

	ks_wait_hist_record(&hist, 10000); /* exactly 10 us: first bucket */
	ks_wait_hist_record(&hist, 10001);
	ks_wait_hist_record(&hist, 2000000000ull); /* 2 s */
	ks_wait_hist_record(&hist, 60000000000ull); /* over 10 s */
	assert_int_equal(hist.buckets[0], 1);
	assert_int_equal(hist.buckets[1], 1);
	assert_int_equal(hist.buckets[6], 1);
	assert_int_equal(hist.buckets[KS_WAIT_HIST_NR_BOUNDS], 1);
	assert_int_equal(hist.summary.count, 4);
	assert_int_equal(hist.summary.min_ns, 10000);
	assert_int_equal(hist.summary.max_ns, 60000000000ull);
	assert_int_equal(hist.summary.sum_ns,
			 10000 + 10001 + 2000000000ull + 60000000000ull);
}

struct seen {
	unsigned int samples;
	unsigned int agent_samples;
	unsigned int process_samples;
	uint64_t lock_waits;
	uint64_t wait_begin;
	const struct ks_hist_summary *mutex_hist;
	const struct ks_metric_desc *last_desc;
	const struct ks_process *last_process;
	bool split_group; /* a metric and resource seen, left, seen again */
	const char *groups[64];
	const struct ks_process *group_owner[64];
	unsigned int nr_groups;
};

static void record(void *ctx, const struct ks_metric_sample *sample)
{
	struct seen *seen = ctx;

	seen->samples++;
	if (sample->process)
		seen->process_samples++;
	else
		seen->agent_samples++;
	if (!strcmp(sample->desc->name, "knotscope.lock.waits"))
		seen->lock_waits = sample->value;
	if (!strcmp(sample->desc->name, "knotscope.agent.events") &&
	    !strcmp(sample->attrs[0].value, "wait_begin"))
		seen->wait_begin = sample->value;
	if (sample->scale)
		seen->mutex_hist = sample->summary;
	if (sample->desc != seen->last_desc ||
	    sample->process != seen->last_process) {
		for (unsigned int i = 0; i < seen->nr_groups; i++)
			if (seen->groups[i] == sample->desc->name &&
			    seen->group_owner[i] == sample->process)
				seen->split_group = true;
		seen->groups[seen->nr_groups] = sample->desc->name;
		seen->group_owner[seen->nr_groups++] = sample->process;
	}
	seen->last_desc = sample->desc;
	seen->last_process = sample->process;
}

static void test_collect_covers_agent_and_waiting_processes(void **state)
{
	struct ks_table table;
	struct ks_metrics_source source = { .table = &table };
	struct ks_agent_health health = { 0 };
	struct ks_thread *busy;
	struct seen seen = { 0 };

	ks_table_init(&table, 100);
	busy = add_thread(&table, 10, 10);
	add_thread(&table, 20, 20); /* never waited: no series */
	busy->process->stats.futex_waits = 5;
	busy->process->stats.lock_waits = 3;
	ks_wait_hist_record(&busy->process->stats.lock_wait[1], 5000000);
	health.events[KS_EV_WAIT_BEGIN] = 42;

	ks_metrics_collect(&source, &health, record, &seen);
	assert_true(seen.agent_samples > 0);
	assert_int_equal(seen.lock_waits, 3);
	assert_int_equal(seen.wait_begin, 42);
	assert_non_null(seen.mutex_hist);
	assert_int_equal(seen.mutex_hist->count, 1);
	/* Renderers group consecutive samples: groups must not split. */
	assert_false(seen.split_group);
	ks_table_clear(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets_are_upper_inclusive),
		cmocka_unit_test(
			test_collect_covers_agent_and_waiting_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
