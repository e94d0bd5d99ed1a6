// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The thread table and waits as ring buffer records drive them. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fixtures.h"
#include "model_world.h"

static int setup(void **state)
{
	struct model_world *w = model_world_new(false);

	assert_non_null(w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	model_world_free(*state);
	return 0;
}

/* Ticks of 10 ms at USER_HZ 100: start times are compared in ticks. */
#define START(t) ((uint64_t)(t)*10000000ull)

static void fork_thread(struct model_world *w, uint32_t tgid, uint32_t tid,
			uint64_t start, uint64_t clear_child_tid)
{
	struct ks_fork rec = { 0 };

	record_header(&rec.hdr, KS_EV_FORK, sizeof(rec), tgid, tgid, start);
	rec.child_tgid = tgid;
	rec.child_tid = tid;
	rec.child.start_boottime_ns = START(start);
	rec.child.ns_tid = tid;
	rec.child.pidns_ino = TEST_PIDNS;
	rec.clear_child_tid = clear_child_tid;
	rec.flags = tid == tgid ? 0 : KS_FORK_THREAD;
	memcpy(rec.comm, "server", 7);
	model_world_apply(w, &rec, sizeof(rec));
}

static void exit_thread(struct model_world *w, uint32_t tgid, uint32_t tid,
			uint64_t start, bool last)
{
	struct ks_exit rec = { 0 };

	record_header(&rec.hdr, KS_EV_EXIT, sizeof(rec), tgid, tid, 0);
	rec.task.start_boottime_ns = START(start);
	rec.flags = last ? KS_EXIT_GROUP_DEAD : 0;
	model_world_apply(w, &rec, sizeof(rec));
}

static void wait_begin(struct model_world *w, uint32_t tgid, uint32_t tid,
		       uint32_t op, uint64_t ts)
{
	struct ks_wait_begin rec = { 0 };

	record_header(&rec.hdr, KS_EV_WAIT_BEGIN, sizeof(rec), tgid, tid, ts);
	rec.syscall = KS_SYS_FUTEX;
	rec.op = op;
	rec.uaddr = 0x1000;
	rec.val = 2;
	rec.flags = KS_WAIT_WORDS_OK | KS_WAIT_KIND_OK;
	rec.words[0] = 2;
	rec.words[2] = tgid;
	rec.words[3] = 1;
	model_world_apply(w, &rec, sizeof(rec));
}

static void wait_end(struct model_world *w, uint32_t tgid, uint32_t tid,
		     uint32_t op, uint64_t begin_ts, uint64_t ts, int64_t ret)
{
	struct ks_wait_end rec = { 0 };

	record_header(&rec.hdr, KS_EV_WAIT_END, sizeof(rec), tgid, tid, ts);
	rec.begin_ts_ns = begin_ts;
	rec.op = op;
	rec.ret = ret;
	model_world_apply(w, &rec, sizeof(rec));
}

static void test_fork_and_exit_keep_the_table_exact(void **state)
{
	struct model_world *w = *state;
	struct ks_process *process;

	fork_thread(w, 50, 50, 1, 0);
	fork_thread(w, 50, 51, 2, 0x7000);
	process = ks_table_process(&w->model.table, 50);
	assert_non_null(process);
	assert_int_equal(process->nr_threads, 2);
	assert_string_equal(process->comm, "server");
	assert_int_equal(ks_table_thread(&w->model.table, 51)->clear_child_tid,
			 0x7000);

	exit_thread(w, 50, 51, 2, false);
	assert_null(ks_table_thread(&w->model.table, 51));
	assert_int_equal(process->nr_threads, 1);
	exit_thread(w, 50, 50, 1, true);
	assert_null(ks_table_process(&w->model.table, 50));
}

static void test_exit_of_a_previous_incarnation_is_ignored(void **state)
{
	struct model_world *w = *state;

	fork_thread(w, 50, 50, 1, 0);
	fork_thread(w, 50, 51, 9, 0);
	/* A late exit of an older thread 51 must not remove the new one. */
	exit_thread(w, 50, 51, 3, false);
	assert_non_null(ks_table_thread(&w->model.table, 51));
}

static void test_waits_begin_and_end_and_are_counted(void **state)
{
	struct model_world *w = *state;
	struct ks_thread *thread;
	struct ks_process *process;

	fork_thread(w, 50, 50, 1, 0);
	wait_begin(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000);
	thread = ks_table_thread(&w->model.table, 50);
	assert_true(thread->wait.active);
	/* An end that belongs to another wait changes nothing. */
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 999, 1500, 0);
	assert_true(thread->wait.active);
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000, 4000, 0);
	assert_false(thread->wait.active);
	process = ks_table_process(&w->model.table, 50);
	assert_int_equal(process->stats.futex_waits, 1);
	assert_int_equal(process->stats.lock_waits, 1);
	assert_int_equal(process->stats.wait_ns, 3000);
	assert_int_equal(process->stats.max_wait_ns, 3000);
}

/* The stack length comes with the record: never past the snapshot. */
static void test_a_wait_keeps_no_more_stack_than_it_carries(void **state)
{
	struct model_world *w = *state;
	struct ks_wait_begin rec = { 0 };
	struct ks_thread *thread;

	fork_thread(w, 50, 50, 1, 0);
	record_header(&rec.hdr, KS_EV_WAIT_BEGIN, sizeof(rec), 50, 50, 1000);
	rec.syscall = KS_SYS_FUTEX;
	rec.op = FUTEX_WAIT_PRIVATE;
	rec.stack_len = UINT32_MAX;
	model_world_apply(w, &rec, sizeof(rec));
	thread = ks_table_thread(&w->model.table, 50);
	assert_true(thread->wait.active);
	assert_int_equal(thread->wait.begin.stack_len,
			 sizeof(thread->wait.begin.stack));
}

struct ended {
	unsigned int calls;
	uint64_t begin_ts;
	uint8_t lock_kind;
};

static void record_ended(void *ctx, struct ks_thread *thread,
			 const struct ks_wait_end *end)
{
	struct ended *ended = ctx;

	ended->calls++;
	/* Called while the thread still holds the wait that ended. */
	ended->begin_ts = thread->wait.begin.hdr.ts_ns;
	ended->lock_kind = thread->wait.lock_kind;
}

static const struct ks_model_hooks record_hooks = { .wait_ended =
							    record_ended };

static void test_every_subscriber_hears_of_ended_waits(void **state)
{
	struct model_world *w = *state;
	struct ended first = { 0 }, second = { 0 };

	assert_int_equal(ks_model_subscribe(&w->model, &record_hooks, &first),
			 0);
	assert_int_equal(ks_model_subscribe(&w->model, &record_hooks, &second),
			 0);
	fork_thread(w, 50, 50, 1, 0);
	wait_begin(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000);
	/* Another wait's end is nobody's business. */
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 999, 1500, 0);
	assert_int_equal(first.calls, 0);
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000, 4000, 0);
	assert_int_equal(first.calls, 1);
	assert_int_equal(second.calls, 1);
	assert_int_equal(second.begin_ts, 1000);
	assert_int_equal(second.lock_kind, KS_LOCK_MUTEX);
}

static void test_subscribers_are_bounded(void **state)
{
	struct model_world *w = *state;
	struct ended ended = { 0 };

	for (int i = 0; i < KS_MODEL_MAX_SUBSCRIBERS; i++)
		assert_int_equal(
			ks_model_subscribe(&w->model, &record_hooks, &ended),
			0);
	assert_int_equal(ks_model_subscribe(&w->model, &record_hooks, &ended),
			 -ENOSPC);
}

struct ended_processes {
	unsigned int calls;
	uint32_t tgid;
	char why[16];
	uint64_t ts_ns;
	bool still_in_table;
	struct ks_table *table;
};

static void record_process_ended(void *ctx, struct ks_process *process,
				 const char *why, uint64_t ts_ns)
{
	struct ended_processes *ended = ctx;

	ended->calls++;
	ended->tgid = process->tgid;
	snprintf(ended->why, sizeof(ended->why), "%s", why);
	ended->ts_ns = ts_ns;
	ended->still_in_table = ks_table_process(ended->table, process->tgid);
}

static const struct ks_model_hooks process_hooks = {
	.process_ended = record_process_ended,
};

static void test_subscribers_hear_why_a_process_ended(void **state)
{
	struct model_world *w = *state;
	struct ended_processes ended = { .table = &w->model.table };
	const char comms[1][KS_COMM_LEN] = { "server" };
	struct ks_exec exec = { 0 };

	assert_int_equal(ks_model_subscribe(&w->model, &process_hooks, &ended),
			 0);
	fork_thread(w, 50, 50, 1, 0);
	fork_thread(w, 50, 51, 2, 0);
	exit_thread(w, 50, 51, 2, false);
	assert_int_equal(ended.calls, 0);
	exit_thread(w, 50, 50, 1, true);
	assert_int_equal(ended.calls, 1);
	assert_int_equal(ended.tgid, 50);
	assert_string_equal(ended.why, "exited");
	assert_true(ended.still_in_table);
	assert_null(ks_table_process(&w->model.table, 50));

	fork_thread(w, 60, 60, 3, 0);
	record_header(&exec.hdr, KS_EV_EXEC, sizeof(exec), 60, 60, 7000);
	exec.task.start_boottime_ns = START(3);
	memcpy(exec.comm, "server", 7);
	model_world_apply(w, &exec, sizeof(exec));
	assert_int_equal(ended.calls, 2);
	assert_string_equal(ended.why, "exec");
	assert_int_equal(ended.ts_ns, 7000);

	w->selection.comms = comms;
	w->selection.nr_comms = 1;
	memcpy(exec.comm, "other", 6);
	model_world_apply(w, &exec, sizeof(exec));
	assert_int_equal(ended.calls, 3);
	assert_string_equal(ended.why, "unwatched");
	assert_null(ks_table_process(&w->model.table, 60));
}

/* Whoever looks at the waits can tell when they changed, and only then. */
static void test_version_moves_with_waits_and_threads(void **state)
{
	struct model_world *w = *state;
	uint64_t version;

	fork_thread(w, 50, 50, 1, 0);
	version = w->model.version;
	wait_begin(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000);
	assert_true(w->model.version > version);
	version = w->model.version;
	/* Another wait's end changes nothing. */
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 999, 1500, 0);
	assert_int_equal(w->model.version, version);
	wait_end(w, 50, 50, FUTEX_WAIT_PRIVATE, 1000, 4000, 0);
	assert_true(w->model.version > version);
	version = w->model.version;
	exit_thread(w, 50, 50, 1, true);
	assert_true(w->model.version > version);
}

static void test_edeadlk_from_lock_pi_parks_on_that_lock(void **state)
{
	struct model_world *w = *state;
	struct ks_thread *thread;

	fork_thread(w, 50, 50, 1, 0);
	wait_begin(w, 50, 50, FUTEX_LOCK_PI_PRIVATE, 1000);
	wait_end(w, 50, 50, FUTEX_LOCK_PI_PRIVATE, 1000, 1100, -EDEADLK);
	thread = ks_table_thread(&w->model.table, 50);
	assert_true(thread->wait.pi_refused);
	/* glibc's parking wait keeps the refused lock in view... */
	wait_begin(w, 50, 50, FUTEX_WAIT_BITSET_PRIVATE, 1200);
	assert_true(thread->wait.pi_refused);
	assert_int_equal(ks_lock_wait(&thread->wait)->op,
			 FUTEX_LOCK_PI_PRIVATE);
	/* ...until that wait ends (glibc's never does). */
	wait_end(w, 50, 50, FUTEX_WAIT_BITSET_PRIVATE, 1200, 1300, 0);
	assert_false(thread->wait.pi_refused);
}

static void test_events_from_unknown_threads_create_them(void **state)
{
	struct model_world *w = *state;

	uint32_t self = (uint32_t)getpid();
	struct ks_thread *thread;

	/* Its fork record was lost: /proc tells who it is. */
	wait_begin(w, self, self, FUTEX_WAIT_PRIVATE, 1000);
	thread = ks_table_thread(&w->model.table, self);
	assert_non_null(thread);
	assert_true(thread->wait.active);
	assert_int_not_equal(thread->ns.pidns_ino, 0);
	assert_int_not_equal(thread->start_ticks, 0);
	/* One already gone is not tracked at all. */
	wait_begin(w, 2147483000, 2147483001, FUTEX_WAIT_PRIVATE, 1000);
	assert_null(ks_table_thread(&w->model.table, 2147483001));
}

static void test_exec_restarts_the_process_and_follows_comm(void **state)
{
	struct model_world *w = *state;
	struct ks_exec rec = { 0 };
	const char comms[1][KS_COMM_LEN] = { "server" };

	fork_thread(w, 50, 50, 1, 0);
	fork_thread(w, 50, 51, 2, 0);
	record_header(&rec.hdr, KS_EV_EXEC, sizeof(rec), 50, 50, 0);
	rec.old_tid = 51;
	rec.task.start_boottime_ns = START(1);
	memcpy(rec.comm, "server", 7);
	model_world_apply(w, &rec, sizeof(rec));
	assert_int_equal(ks_table_process(&w->model.table, 50)->nr_threads, 1);
	assert_null(ks_table_thread(&w->model.table, 51));

	/* Watching --comm server: exec into another program unwatches it. */
	w->selection.comms = comms;
	w->selection.nr_comms = 1;
	memcpy(rec.comm, "other", 6);
	model_world_apply(w, &rec, sizeof(rec));
	assert_null(ks_table_process(&w->model.table, 50));
}

static void test_malformed_records_are_counted_and_skipped(void **state)
{
	struct model_world *w = *state;
	struct ks_fork rec = { 0 };
	char garbage[8] = { 1, 2, 3 };

	record_header(&rec.hdr, KS_EV_FORK, sizeof(rec), 50, 50, 0);
	/* Too short for its kind, size field lying, unknown kind, tiny. */
	model_world_apply(w, &rec, sizeof(rec) - 8);
	rec.hdr.size = 12;
	model_world_apply(w, &rec, sizeof(rec));
	record_header(&rec.hdr, 99, sizeof(rec), 50, 50, 0);
	model_world_apply(w, &rec, sizeof(rec));
	model_world_apply(w, garbage, sizeof(garbage));
	assert_int_equal(w->model.malformed, 4);
	assert_null(ks_table_process(&w->model.table, 50));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_fork_and_exit_keep_the_table_exact),
		T(test_exit_of_a_previous_incarnation_is_ignored),
		T(test_waits_begin_and_end_and_are_counted),
		T(test_a_wait_keeps_no_more_stack_than_it_carries),
		T(test_every_subscriber_hears_of_ended_waits),
		T(test_subscribers_are_bounded),
		T(test_subscribers_hear_why_a_process_ended),
		T(test_version_moves_with_waits_and_threads),
		T(test_edeadlk_from_lock_pi_parks_on_that_lock),
		T(test_events_from_unknown_threads_create_them),
		T(test_exec_restarts_the_process_and_follows_comm),
		T(test_malformed_records_are_counted_and_skipped),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
