// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The stall rule's corner cases: which processes are stalled, when it is
 * confirmed, and what is never one.  The live processes are stubbed.
 */
#include "unit.h"

#include "detect/stall.h"
#include "fixtures.h"

#define MS 1000000ull
#define WINDOW (1000 * MS)
#define PID 100

struct world {
	struct ks_table table;
	struct ks_stall_detector *detector;
	struct ks_thread *main, *worker;
	/* What the stubbed live process says. */
	bool still_waiting;
	int extra_threads; /* threads /proc has that the table does not */
	int shared_memory;
	unsigned int nr_shared_asked;
	unsigned int nr_reports;
	size_t last_members;
	uint64_t last_block;
	uint64_t last_id;
};

static bool stub_still_waiting(void *ctx, const struct ks_thread *thread)
{
	return ((struct world *)ctx)->still_waiting;
}

static int stub_count_threads(void *ctx, uint32_t tgid)
{
	struct world *w = ctx;
	struct ks_process *process = ks_table_process(&w->table, tgid);

	return process ? (int)process->nr_threads + w->extra_threads : -1;
}

static int stub_shared_memory(void *ctx, uint32_t tgid, uint64_t addr)
{
	struct world *w = ctx;

	w->nr_shared_asked++;
	return w->shared_memory;
}

static void stub_report(void *ctx, const struct ks_stall *stall)
{
	struct world *w = ctx;

	w->nr_reports++;
	w->last_members = stall->nr_members;
	w->last_block = stall->last_block_mono_ns;
	w->last_id = stall->id;
	assert_int_equal(stall->process->tgid, PID);
}

static const struct ks_stall_ops stub_ops = {
	.still_waiting = stub_still_waiting,
	.count_threads = stub_count_threads,
	.shared_memory = stub_shared_memory,
	.report = stub_report,
};

/* A sem_wait(): value 0, a waiter, private; nobody holds a semaphore. */
static void wait_on_semaphore(struct ks_thread *t, uint64_t uaddr,
			      uint32_t flags, uint64_t at)
{
	const uint32_t sem[6] = { 0, 1, 0, 0, 0, 0 };

	begin_wait(t, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, uaddr, 0, sem,
		   flags);
	t->wait.begin.hdr.ts_ns = at;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->table, 100);
	w->main = add_thread(&w->table, PID, PID);
	w->worker = add_thread(&w->table, PID, PID + 1);
	w->still_waiting = true;
	w->detector = ks_stall_detector_new(WINDOW, &stub_ops, w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_stall_detector_free(w->detector);
	ks_table_clear(&w->table);
	free(w);
	return 0;
}

static void tick(struct world *w, uint64_t now)
{
	ks_stall_detector_tick(w->detector, &w->table, now);
}

static void both_on_semaphores(struct world *w)
{
	wait_on_semaphore(w->main, 0x1000, 0, 1 * MS);
	wait_on_semaphore(w->worker, 0x2000, 0, 2 * MS);
}

static void test_every_thread_on_an_ownerless_lock_is_a_stall(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	tick(w, 10 * MS);
	assert_int_equal(w->nr_reports, 0);
	/* Confirmation is due only after the window. */
	assert_true(ks_stall_detector_wants_tick(w->detector, 20 * MS));
	tick(w, 10 * MS + WINDOW - 1);
	assert_int_equal(w->nr_reports, 0);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_members, 2);
	assert_int_equal(w->last_block, 2 * MS);
	/* Once. */
	tick(w, 20 * MS + 3 * WINDOW);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(ks_stall_detector_nr_reported(w->detector), 1);
}

static void test_a_thread_not_in_a_futex_wait_means_no_stall(void **state)
{
	struct world *w = *state;

	/* An idle pool: one thread runs (or polls, or sleeps), the
	 * others wait on it. */
	wait_on_semaphore(w->worker, 0x2000, 0, 2 * MS);
	tick(w, 10 * MS);
	tick(w, 10 * MS + 2 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_timed_wait_means_no_stall(void **state)
{
	struct world *w = *state;

	wait_on_semaphore(w->main, 0x1000, KS_WAIT_TIMED, 1 * MS);
	wait_on_semaphore(w->worker, 0x2000, 0, 2 * MS);
	tick(w, 10 * MS);
	tick(w, 10 * MS + 2 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_kernel_lock_wait_means_no_stall(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	w->main->klock.active = true;
	tick(w, 10 * MS);
	tick(w, 10 * MS + 2 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void
test_known_holders_all_round_are_a_deadlock_not_a_stall(void **state)
{
	struct world *w = *state;

	wait_for_mutex(w->main, 0x1000, PID + 1);
	wait_for_mutex(w->worker, 0x2000, PID);
	tick(w, 10 * MS);
	tick(w, 10 * MS + 2 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_writer_waiting_for_readers_that_are_blocked(void **state)
{
	struct world *w = *state;

	/* The reader waits for a mutex the writer holds; the writer waits
	 * for one reader, which glibc does not name. */
	wait_for_mutex(w->worker, 0x1000, PID);
	wait_for_rwlock_readers(w->main, 0x4000, 1);
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
}

static void test_shared_memory_another_process_may_wake(void **state)
{
	struct world *w = *state;

	wait_on_semaphore(w->main, 0x1000, KS_WAIT_SHARED, 1 * MS);
	wait_on_semaphore(w->worker, 0x2000, 0, 2 * MS);
	w->shared_memory = 1;
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	tick(w, 10 * MS + 3 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
	/* Asked once: the answer stands while the waits do. */
	assert_int_equal(w->nr_shared_asked, 1);
	/* Memory nobody can be asked about is taken as shared. */
	w->shared_memory = -1;
	wait_on_semaphore(w->main, 0x3000, KS_WAIT_SHARED, 5 * MS);
	tick(w, 20 * MS + 3 * WINDOW);
	tick(w, 20 * MS + 4 * WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_shared_futex_op_on_private_memory(void **state)
{
	struct world *w = *state;

	/* FUTEX_WAIT without FUTEX_PRIVATE_FLAG on a private mapping: the
	 * kernel keys it by this process's memory all the same. */
	wait_on_semaphore(w->main, 0x1000, KS_WAIT_SHARED, 1 * MS);
	wait_on_semaphore(w->worker, 0x2000, 0, 2 * MS);
	w->shared_memory = 0;
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
}

static void test_threads_the_table_does_not_know(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	w->extra_threads = 1;
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 0);
	/* Looked at again after another window, not every tick. */
	w->extra_threads = 0;
	tick(w, 10 * MS + WINDOW + 20 * MS);
	assert_int_equal(w->nr_reports, 0);
	tick(w, 10 * MS + 2 * WINDOW);
	assert_int_equal(w->nr_reports, 1);
}

static void test_a_thread_no_longer_in_its_wait(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	w->still_waiting = false;
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_wait_that_began_again_starts_the_window_over(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	tick(w, 10 * MS);
	/* Woken and waiting again on the same semaphore: something ran. */
	wait_on_semaphore(w->worker, 0x2000, 0, 500 * MS);
	tick(w, 600 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 0);
	tick(w, 600 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_block, 500 * MS);
}

static void test_a_signal_that_interrupts_does_not_report_twice(void **state)
{
	struct world *w = *state;
	uint64_t id;

	both_on_semaphores(w);
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
	id = w->last_id;
	/* A handler runs in the worker; it waits again where it was. */
	w->worker->wait.active = false;
	tick(w, 20 * MS + WINDOW);
	wait_on_semaphore(w->worker, 0x2000, 0, 30 * MS + WINDOW);
	tick(w, 40 * MS + 3 * WINDOW);
	assert_int_equal(w->nr_reports, 1);
	/* Other waits: another stall. */
	wait_on_semaphore(w->worker, 0x3000, 0, 50 * MS + 3 * WINDOW);
	tick(w, 60 * MS + 3 * WINDOW);
	tick(w, 60 * MS + 4 * WINDOW);
	assert_int_equal(w->nr_reports, 2);
	assert_true(w->last_id != id);
}

static void test_waits_seeded_at_start_have_no_block_time(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	w->main->wait.begin.flags |= KS_WAIT_SEEDED;
	tick(w, 10 * MS);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_block, 0);
}

static void test_a_process_gone_is_forgotten(void **state)
{
	struct world *w = *state;

	both_on_semaphores(w);
	tick(w, 10 * MS);
	ks_table_remove_process(&w->table, w->main->process);
	tick(w, 10 * MS + WINDOW);
	assert_int_equal(w->nr_reports, 0);
	assert_false(
		ks_stall_detector_wants_tick(w->detector, 20 * MS + WINDOW));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_every_thread_on_an_ownerless_lock_is_a_stall),
		T(test_a_thread_not_in_a_futex_wait_means_no_stall),
		T(test_a_timed_wait_means_no_stall),
		T(test_a_kernel_lock_wait_means_no_stall),
		T(test_known_holders_all_round_are_a_deadlock_not_a_stall),
		T(test_a_writer_waiting_for_readers_that_are_blocked),
		T(test_shared_memory_another_process_may_wake),
		T(test_a_shared_futex_op_on_private_memory),
		T(test_threads_the_table_does_not_know),
		T(test_a_thread_no_longer_in_its_wait),
		T(test_a_wait_that_began_again_starts_the_window_over),
		T(test_a_signal_that_interrupts_does_not_report_twice),
		T(test_waits_seeded_at_start_have_no_block_time),
		T(test_a_process_gone_is_forgotten),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
