// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Confirmation, reporting once, and forgetting, with the processes stubbed. */
#include "unit.h"

#include "detect/detector.h"
#include "fixtures.h"

#define MS 1000000ull
#define CONFIRM (100 * MS)

struct world {
	struct ks_table table;
	struct ks_detector *detector;
	bool verify_answer;
	unsigned int nr_verified;
	unsigned int nr_refreshed;
	unsigned int nr_stacks_read;
	unsigned int nr_completed;
	unsigned int nr_reports;
	size_t last_members;
	size_t last_behind;
	uint64_t last_id;
	uint64_t last_block;
	/* What a refresh finds in memory for a thread. */
	uint32_t refresh_owner;
};

static void stub_refresh(void *ctx, struct ks_thread *thread)
{
	struct world *w = ctx;

	w->nr_refreshed++;
	thread->wait.begin.words[2] = w->refresh_owner;
	thread->wait.refreshed = true;
}

static void stub_read_stack(void *ctx, struct ks_thread *thread)
{
	struct world *w = ctx;

	w->nr_stacks_read++;
	thread->wait.stack_sought = true;
}

static bool stub_verify(void *ctx, const struct ks_table *table,
			const struct ks_thread *thread,
			const struct ks_wait_target *target)
{
	struct world *w = ctx;

	w->nr_verified++;
	return w->verify_answer;
}

static void stub_report(void *ctx, const struct ks_deadlock *deadlock)
{
	struct world *w = ctx;

	w->nr_reports++;
	w->last_members = deadlock->nr_members;
	w->last_behind = deadlock->nr_behind;
	w->last_id = deadlock->id;
	w->last_block = deadlock->last_block_mono_ns;
	for (size_t i = 0; i < deadlock->nr_members; i++)
		assert_ptr_equal(
			deadlock->members[i].target.holder,
			deadlock->members[(i + 1) % deadlock->nr_members]
				.thread);
}

static void stub_complete(void *ctx, const struct ks_table *table,
			  struct ks_thread *thread, uint64_t now)
{
	struct world *w = ctx;

	w->nr_completed++;
	thread->io.target->complete = true;
}

static const struct ks_detector_ops stub_ops = {
	.refresh = stub_refresh,
	.read_stack = stub_read_stack,
	.complete = stub_complete,
	.verify = stub_verify,
	.report = stub_report,
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->table, 100);
	w->detector = ks_detector_new(CONFIRM, &stub_ops, w, w);
	w->verify_answer = true;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_detector_free(w->detector);
	ks_table_clear(&w->table);
	free(w);
	return 0;
}

/* t1 waits for a mutex held by t2 and the other way round. */
static void make_abba(struct world *w, struct ks_thread **t1,
		      struct ks_thread **t2)
{
	*t1 = add_thread(&w->table, 10, 10);
	*t2 = add_thread(&w->table, 10, 11);
	wait_for_mutex(*t1, 0xb000, 11);
	wait_for_mutex(*t2, 0xa000, 10);
	(*t2)->wait.begin.hdr.ts_ns = 2 * MS;
}

static void tick(struct world *w, uint64_t now)
{
	ks_detector_mark_dirty(w->detector);
	ks_detector_tick(w->detector, &w->table, now);
}

static void test_cycle_is_reported_after_the_window(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	tick(w, 10 * MS);
	assert_int_equal(w->nr_reports, 0);
	tick(w, 10 * MS + CONFIRM - 1);
	assert_int_equal(w->nr_reports, 0);
	assert_int_equal(w->nr_verified, 0);
	tick(w, 10 * MS + CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_members, 2);
	assert_int_equal(w->last_block, 2 * MS);
	assert_int_equal(w->nr_verified, 2);
	assert_int_equal(ks_detector_nr_reported(w->detector), 1);
}

static void test_unverified_cycle_is_not_reported(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	w->verify_answer = false;
	tick(w, 0);
	tick(w, CONFIRM);
	tick(w, 2 * CONFIRM);
	assert_int_equal(w->nr_reports, 0);
	assert_true(ks_detector_wants_tick(w->detector, 2 * CONFIRM));
	/* Once the processes confirm it, it is reported. */
	w->verify_answer = true;
	tick(w, 3 * CONFIRM);
	assert_int_equal(w->nr_reports, 1);
}

static void test_reported_once_across_ticks(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	for (uint64_t now = 0; now < 20 * CONFIRM; now += 20 * MS)
		tick(w, now);
	assert_int_equal(w->nr_reports, 1);
}

static void
test_cycle_broken_for_a_tick_is_still_the_same_deadlock(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	/* A spurious wake-up: t1 left its wait, then waited again. */
	t1->wait.active = false;
	tick(w, CONFIRM + 20 * MS);
	wait_for_mutex(t1, 0xb000, 11);
	tick(w, CONFIRM + 40 * MS);
	tick(w, 3 * CONFIRM);
	assert_int_equal(w->nr_reports, 1);
}

static void test_a_changed_cycle_is_reported_again(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2, *t3;

	make_abba(w, &t1, &t2);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	/* t2 now waits, via a third thread, on another lock. */
	t3 = add_thread(&w->table, 10, 12);
	wait_for_mutex(t2, 0xc000, 12);
	wait_for_mutex(t3, 0xa000, 10);
	tick(w, 2 * CONFIRM);
	tick(w, 3 * CONFIRM);
	assert_int_equal(w->nr_reports, 2);
	assert_int_equal(w->last_members, 3);
}

static void test_chains_into_a_cycle_are_reported_behind_it(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2, *late;

	make_abba(w, &t1, &t2);
	late = add_thread(&w->table, 10, 20);
	wait_for_mutex(late, 0xa000, 10);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->last_members, 2);
	assert_int_equal(w->last_behind, 1);
}

static void test_seeded_member_has_no_latency(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	t1->wait.begin.flags |= KS_WAIT_SEEDED;
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_block, 0);
}

static void test_exited_member_lets_the_deadlock_be_forgotten(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	make_abba(w, &t1, &t2);
	tick(w, 0);
	tick(w, CONFIRM);
	ks_table_remove_thread(&w->table, t1);
	/* t2's lock still names tid 10 in memory. */
	w->refresh_owner = 10;
	tick(w, 2 * CONFIRM);
	/* Same tids, a new incarnation: a new deadlock. */
	t1 = add_thread(&w->table, 10, 10);
	t1->start_ticks++;
	wait_for_mutex(t1, 0xb000, 11);
	tick(w, 3 * CONFIRM);
	tick(w, 4 * CONFIRM);
	assert_int_equal(w->nr_reports, 2);
}

static void test_long_wait_without_owner_is_read_again(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	/* t2 blocked before t1 wrote __owner: no holder seen at first. */
	make_abba(w, &t1, &t2);
	t2->wait.begin.words[2] = 0;
	w->refresh_owner = 10;
	tick(w, 2 * MS);
	assert_int_equal(w->nr_refreshed, 0);
	/* A record newer than the tick's clock reading is not old. */
	tick(w, MS);
	assert_int_equal(w->nr_refreshed, 0);
	tick(w, 2 * MS + CONFIRM);
	assert_int_equal(w->nr_refreshed, 1);
	tick(w, 2 * MS + 2 * CONFIRM);
	assert_int_equal(w->nr_refreshed, 1);
	assert_int_equal(w->nr_reports, 1);
}

static void test_long_wait_without_stack_reads_it_once(void **state)
{
	struct world *w = *state;
	struct ks_thread *t1, *t2;

	/* t1 copied its stack at its wait, t2 did not (copied one just
	 * before): t2's is read once its wait has lasted the window. */
	make_abba(w, &t1, &t2);
	t2->wait.begin.flags |= KS_WAIT_STACK_LATER;
	t2->wait.begin.stack_len = 0;
	tick(w, 2 * MS + CONFIRM - 1);
	assert_int_equal(w->nr_stacks_read, 0);
	tick(w, 2 * MS + CONFIRM);
	assert_int_equal(w->nr_stacks_read, 1);
	tick(w, 2 * MS + 2 * CONFIRM);
	assert_int_equal(w->nr_stacks_read, 1);
	assert_int_equal(w->nr_reports, 1);
}

static void test_cycle_through_a_kernel_lock_is_one_chain(void **state)
{
	struct world *w = *state;
	struct ks_thread *user, *kernel;

	/* kernel waits in a syscall for a kernel mutex user holds; user
	 * waits for a pthread mutex kernel holds. */
	user = add_thread(&w->table, 10, 10);
	kernel = add_thread(&w->table, 10, 11);
	wait_for_mutex(user, 0xa000, 11);
	kernel->klock.active = true;
	kernel->klock.lock = 0xffff888100000000ull;
	kernel->klock.flags = KS_KLOCK_MUTEX;
	kernel->klock.owner_tid = 10;
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_members, 2);
}

static void test_kernel_lock_without_owner_is_no_edge(void **state)
{
	struct world *w = *state;
	struct ks_thread *user, *kernel;

	/* A read-held rw-semaphore: the kernel names no single owner. */
	user = add_thread(&w->table, 10, 10);
	kernel = add_thread(&w->table, 10, 11);
	wait_for_mutex(user, 0xa000, 11);
	kernel->klock.active = true;
	kernel->klock.flags = KS_KLOCK_WRITE;
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 0);
}

/*
 * The pipe deadlock of a parent and its child: each writes a full pipe
 * only the other reads, and each is single-threaded.
 */
static void make_pipe_cycle(struct world *w, struct ks_thread **parent,
			    struct ks_thread **child, bool complete)
{
	const struct ks_io_party to_child[] = { ANY_OF(20) };
	const struct ks_io_party to_parent[] = { ANY_OF(10) };

	*parent = add_thread(&w->table, 10, 10);
	*child = add_thread(&w->table, 20, 20);
	wait_on_io(*parent, KS_IO_WAIT_PIPE_WRITE, 111, to_child, 1, complete);
	wait_on_io(*child, KS_IO_WAIT_PIPE_WRITE, 222, to_parent, 1, complete);
}

static void test_pipe_cycle_between_processes(void **state)
{
	struct world *w = *state;
	struct ks_thread *parent, *child;

	make_pipe_cycle(w, &parent, &child, true);
	tick(w, 10 * MS);
	tick(w, 10 * MS + CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_members, 2);
	/* Neither write was timed by the kernel side: first seen then. */
	assert_int_equal(w->last_block, 3 * MS);
	assert_int_equal(w->nr_completed, 0);
}

static void test_other_ends_are_sought_everywhere_first(void **state)
{
	struct world *w = *state;
	struct ks_thread *parent, *child;

	make_pipe_cycle(w, &parent, &child, false);
	tick(w, 0);
	assert_int_equal(w->nr_completed, 2);
	/* The window starts once nobody else is found to hold them. */
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 0);
	tick(w, 2 * CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->nr_completed, 2);
}

static void test_a_free_thread_of_a_holder_ends_it(void **state)
{
	struct world *w = *state;
	struct ks_thread *parent, *child;

	make_pipe_cycle(w, &parent, &child, true);
	/* The child has a thread that is not blocked: it may read. */
	add_thread(&w->table, 20, 21);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 0);
}

static void test_a_holder_nobody_watches_ends_it(void **state)
{
	struct world *w = *state;
	const struct ks_io_party both[] = { ANY_OF(20), ANY_OF(30) };
	struct ks_thread *parent, *child;

	make_pipe_cycle(w, &parent, &child, true);
	wait_on_io(parent, KS_IO_WAIT_PIPE_WRITE, 111, both, 2, true);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 0);
}

static void test_pipe_and_mutex_in_one_cycle(void **state)
{
	struct world *w = *state;
	const struct ks_io_party writers[] = { ANY_OF(10) };
	struct ks_thread *reader, *writer;

	/*
	 * reader holds mutex 0xa000 and reads a pipe only its own process
	 * can write; writer, the other thread, waits for that mutex first.
	 */
	reader = add_thread(&w->table, 10, 10);
	writer = add_thread(&w->table, 10, 11);
	wait_on_io(reader, KS_IO_WAIT_PIPE_READ, 333, writers, 1, true);
	wait_for_mutex(writer, 0xa000, 10);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	assert_int_equal(w->last_members, 2);
}

static void test_serving_thread_alone_can_answer(void **state)
{
	struct world *w = *state;
	const struct ks_io_party server = { .tgid = 20, .tid = 22, .fd = 7 };
	const struct ks_io_party client = ANY_OF(10);
	struct ks_thread *caller, *handler;

	/*
	 * The caller waits for an answer only handler, the thread of the
	 * server that took the request in, can give; handler waits for the
	 * caller's process.  The server's other thread runs: no matter.
	 */
	caller = add_thread(&w->table, 10, 10);
	add_thread(&w->table, 20, 21);
	handler = add_thread(&w->table, 20, 22);
	wait_on_io(caller, KS_IO_WAIT_SOCKET_READ, 444, &server, 1, true);
	wait_on_io(handler, KS_IO_WAIT_SOCKET_READ, 555, &client, 1, true);
	tick(w, 0);
	tick(w, CONFIRM);
	assert_int_equal(w->nr_reports, 1);
	/* A party thread gone: the wait can end (for all anyone knows). */
	ks_table_remove_thread(&w->table, handler);
	add_thread(&w->table, 30, 30);
	caller->io.target->parties[0].tid = 23;
	tick(w, 2 * CONFIRM);
	tick(w, 3 * CONFIRM);
	assert_int_equal(w->nr_reports, 1);
}

static void test_idle_detector_ticks_rarely(void **state)
{
	struct world *w = *state;

	ks_detector_tick(w->detector, &w->table, 5 * MS);
	assert_false(ks_detector_wants_tick(w->detector, 10 * MS));
	ks_detector_mark_dirty(w->detector);
	assert_true(ks_detector_wants_tick(w->detector, 10 * MS));
	ks_detector_tick(w->detector, &w->table, 10 * MS);
	assert_true(ks_detector_wants_tick(w->detector, 2000 * MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_cycle_is_reported_after_the_window),
		T(test_unverified_cycle_is_not_reported),
		T(test_reported_once_across_ticks),
		T(test_cycle_broken_for_a_tick_is_still_the_same_deadlock),
		T(test_a_changed_cycle_is_reported_again),
		T(test_chains_into_a_cycle_are_reported_behind_it),
		T(test_seeded_member_has_no_latency),
		T(test_exited_member_lets_the_deadlock_be_forgotten),
		T(test_long_wait_without_owner_is_read_again),
		T(test_long_wait_without_stack_reads_it_once),
		T(test_cycle_through_a_kernel_lock_is_one_chain),
		T(test_kernel_lock_without_owner_is_no_edge),
		T(test_pipe_cycle_between_processes),
		T(test_other_ends_are_sought_everywhere_first),
		T(test_a_free_thread_of_a_holder_ends_it),
		T(test_a_holder_nobody_watches_ends_it),
		T(test_pipe_and_mutex_in_one_cycle),
		T(test_serving_thread_alone_can_answer),
		T(test_idle_detector_ticks_rarely),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
