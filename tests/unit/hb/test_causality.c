// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Records to happens-before: each kind of record that carries an edge
 * orders points of the threads it connects, and nothing else does.  Points
 * are compared the way a backend would, from their exported encodings.
 */
#include "unit.h"

#include <errno.h>

#include "fixtures.h"
#include "hb/hb_point.h"
#include "model_world.h"

static int setup(void **state)
{
	struct model_world *w = model_world_new(true);

	assert_non_null(w);
	assert_non_null(w->causality);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	model_world_free(*state);
	return 0;
}

/* add_thread() starts thread tid at tick 1000 + tid, USER_HZ 100. */
static uint64_t start_ns_of(uint32_t tid)
{
	return (1000ull + tid) * 10000000ull;
}

static void wake(struct model_world *w, uint32_t tgid, uint32_t tid,
		 uint64_t uaddr, uint32_t op, uint64_t ts)
{
	struct ks_wake rec = { 0 };

	record_header(&rec.hdr, KS_EV_WAKE, sizeof(rec), tgid, tid, ts);
	rec.uaddr = uaddr;
	rec.op = FUTEX_WAKE | op;
	rec.syscall = KS_SYS_FUTEX;
	model_world_apply(w, &rec, sizeof(rec));
}

static void wait_end(struct model_world *w, uint32_t tgid, uint32_t tid,
		     uint64_t uaddr, uint32_t op, uint64_t ts, int64_t ret)
{
	struct ks_wait_end rec = { 0 };

	record_header(&rec.hdr, KS_EV_WAIT_END, sizeof(rec), tgid, tid, ts);
	rec.uaddr = uaddr;
	rec.op = FUTEX_WAIT | op;
	rec.begin_ts_ns = ts - 1000;
	rec.ret = ret;
	model_world_apply(w, &rec, sizeof(rec));
}

/* A pipe's inode when a test does not say: one pipe, alive throughout. */
#define PIPE_INODE 4242

static void pipe_io(struct model_world *w, uint32_t tgid, uint32_t tid,
		    uint64_t object, uint32_t inode, bool write, uint64_t ts)
{
	struct ks_io rec = { 0 };

	record_header(&rec.hdr, KS_EV_IO, sizeof(rec), tgid, tid, ts);
	rec.object = object;
	rec.inode = inode;
	rec.bytes = 1;
	rec.begin_ns = ts;
	rec.kind = KS_IO_PIPE;
	rec.op = write ? KS_IO_WRITE : KS_IO_READ;
	model_world_apply(w, &rec, sizeof(rec));
}

static void channel(struct model_world *w, uint32_t tgid, uint32_t tid,
		    uint64_t object, bool write, uint64_t ts)
{
	pipe_io(w, tgid, tid, object, PIPE_INODE, write, ts);
}

/* A record of a pipe as a stream: op, bytes, and the count it carries. */
static void stream_io(struct model_world *w, uint32_t tgid, uint32_t tid,
		      uint8_t op, uint64_t bytes, uint64_t pending, uint64_t ts)
{
	struct ks_io rec = { 0 };

	record_header(&rec.hdr, KS_EV_IO, sizeof(rec), tgid, tid, ts);
	rec.object = 0xffff8880bb;
	rec.inode = PIPE_INODE;
	rec.bytes = bytes;
	rec.begin_ns = ts;
	rec.kind = KS_IO_PIPE;
	rec.op = op;
	rec.flags = KS_IO_STREAM | KS_IO_COUNTED;
	rec.pending = pending;
	model_world_apply(w, &rec, sizeof(rec));
}

static void fork_thread(struct model_world *w, uint32_t tgid, uint32_t parent,
			uint32_t child_tgid, uint32_t child,
			uint64_t clear_child_tid, uint64_t ts)
{
	struct ks_fork rec = { 0 };

	record_header(&rec.hdr, KS_EV_FORK, sizeof(rec), tgid, parent, ts);
	rec.child_tgid = child_tgid;
	rec.child_tid = child;
	rec.child.start_boottime_ns = start_ns_of(child);
	rec.child.ns_tid = child;
	rec.child.pidns_ino = TEST_PIDNS;
	rec.clear_child_tid = clear_child_tid;
	rec.flags = child_tgid == tgid ? KS_FORK_THREAD : 0;
	model_world_apply(w, &rec, sizeof(rec));
}

static void exit_thread(struct model_world *w, uint32_t tgid, uint32_t tid,
			uint64_t ts)
{
	struct ks_exit rec = { 0 };

	record_header(&rec.hdr, KS_EV_EXIT, sizeof(rec), tgid, tid, ts);
	rec.task.start_boottime_ns = start_ns_of(tid);
	rec.flags = tgid == tid ? KS_EXIT_GROUP_DEAD : 0;
	model_world_apply(w, &rec, sizeof(rec));
}

/* A point of thread tid at ts. */
static uint64_t stamp(struct model_world *w, uint32_t tid, uint64_t ts)
{
	struct ks_thread *thread = ks_table_thread(&w->model.table, tid);

	assert_non_null(thread);
	return ks_causality_stamp(w->causality, thread, ts);
}

/* How two points compare, from their encodings alone. */
static enum ks_hb_order order(struct model_world *w, uint64_t a, uint64_t b)
{
	char text_a[KS_HB_POINT_TEXT_MAX], text_b[KS_HB_POINT_TEXT_MAX];
	struct ks_vclock *clock_a, *clock_b;
	struct ks_hb_point pa, pb;
	enum ks_hb_order answer;
	uint64_t lamport;

	ks_causality_flush(w->causality);
	assert_int_equal(ks_causality_point(w->causality, a, text_a,
					    sizeof(text_a), &lamport),
			 0);
	assert_int_equal(ks_causality_point(w->causality, b, text_b,
					    sizeof(text_b), &lamport),
			 0);
	assert_int_equal(ks_hb_point_decode(text_a, &pa, &clock_a), 0);
	assert_int_equal(ks_hb_point_decode(text_b, &pb, &clock_b), 0);
	answer = ks_hb_point_order(&pa, &pb);
	ks_vclock_put(NULL, clock_a);
	ks_vclock_put(NULL, clock_b);
	return answer;
}

static struct ks_thread *thread_of(struct model_world *w, uint32_t tid)
{
	return ks_table_thread(&w->model.table, tid);
}

static void test_futex_wake_orders_the_waiter_after_the_waker(void **state)
{
	struct model_world *w = *state;
	uint64_t before_wake, after_wait;
	struct ks_thread *waker = add_thread(&w->model.table, 10, 11);
	const struct ks_edge_source *source;

	add_thread(&w->model.table, 10, 12);
	waker->causal.last_span =
		(struct ks_span_ref){ .valid = true, .span_id = { 7 } };
	before_wake = stamp(w, 11, 100);
	wake(w, 10, 11, 0x1000, FUTEX_PRIVATE_FLAG, 200);
	wait_end(w, 10, 12, 0x1000, FUTEX_PRIVATE_FLAG, 300, 0);
	after_wait = stamp(w, 12, 300);

	source = &thread_of(w, 12)->causal.acquired;
	assert_int_equal(source->kind, KS_EDGE_FUTEX_WAKE);
	assert_int_equal(source->tid, 11);
	assert_int_equal(source->acquire_ns, 300);
	assert_true(source->span.valid);
	assert_int_equal(source->span.span_id[0], 7);
	assert_int_equal(order(w, before_wake, after_wait), KS_HB_BEFORE);
}

static void test_a_wait_that_timed_out_learns_nothing(void **state)
{
	struct model_world *w = *state;
	uint64_t a, b;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 10, 12);
	a = stamp(w, 11, 100);
	wake(w, 10, 11, 0x1000, FUTEX_PRIVATE_FLAG, 200);
	wait_end(w, 10, 12, 0x1000, FUTEX_PRIVATE_FLAG, 300, -ETIMEDOUT);
	b = stamp(w, 12, 300);

	assert_int_equal(thread_of(w, 12)->causal.acquired.kind, KS_EDGE_NONE);
	assert_int_equal(order(w, a, b), KS_HB_CONCURRENT);
}

static void test_private_words_belong_to_their_process(void **state)
{
	struct model_world *w = *state;
	uint64_t private_waker, private_waiter, shared_waker, shared_waiter;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	add_thread(&w->model.table, 30, 31);
	add_thread(&w->model.table, 40, 41);
	/* The same address in two processes: two different words. */
	private_waker = stamp(w, 11, 100);
	wake(w, 10, 11, 0x1000, FUTEX_PRIVATE_FLAG, 200);
	wait_end(w, 20, 21, 0x1000, FUTEX_PRIVATE_FLAG, 300, 0);
	private_waiter = stamp(w, 21, 300);
	/* A shared word mapped at the same address: one word. */
	shared_waker = stamp(w, 31, 400);
	wake(w, 30, 31, 0x2000, 0, 500);
	wait_end(w, 40, 41, 0x2000, 0, 600, 0);
	shared_waiter = stamp(w, 41, 600);

	assert_int_equal(order(w, private_waker, private_waiter),
			 KS_HB_CONCURRENT);
	assert_int_equal(order(w, shared_waker, shared_waiter), KS_HB_BEFORE);
}

/* The kernel gives a dead process's pid to a new one. */
static void test_a_reused_pid_starts_with_new_words(void **state)
{
	struct model_world *w = *state;
	uint64_t old_waker, new_waiter;

	add_thread(&w->model.table, 10, 10);
	old_waker = stamp(w, 10, 100);
	wake(w, 10, 10, 0x1000, FUTEX_PRIVATE_FLAG, 200);
	exit_thread(w, 10, 10, 300);
	/* Its memory is gone: the same address is another word. */
	add_thread(&w->model.table, 10, 12);
	wait_end(w, 10, 12, 0x1000, FUTEX_PRIVATE_FLAG, 400, 0);
	new_waiter = stamp(w, 12, 400);

	assert_int_equal(order(w, old_waker, new_waiter), KS_HB_CONCURRENT);
}

/* A pipe freed and another made at its address: another inode number. */
static void test_a_pipe_at_a_dead_pipes_address_is_another(void **state)
{
	struct model_world *w = *state;
	uint64_t old_writer, new_reader;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	old_writer = stamp(w, 11, 100);
	pipe_io(w, 10, 11, 0xabc000, 7, true, 200);
	pipe_io(w, 20, 21, 0xabc000, 8, false, 300);
	new_reader = stamp(w, 21, 300);

	assert_int_equal(order(w, old_writer, new_reader), KS_HB_CONCURRENT);
}

/* Eventfds share one inode: a new one at a dead one's address says so. */
static void test_a_new_eventfd_at_a_dead_ones_address_is_another(void **state)
{
	struct model_world *w = *state;
	struct ks_io made = { 0 };
	uint64_t old_writer, new_reader;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	old_writer = stamp(w, 11, 100);
	pipe_io(w, 10, 11, 0xabc000, 0, true, 200);
	record_header(&made.hdr, KS_EV_IO, sizeof(made), 20, 21, 250);
	made.object = 0xabc000;
	made.kind = KS_IO_EVENTFD;
	made.op = KS_IO_MADE;
	model_world_apply(w, &made, sizeof(made));
	pipe_io(w, 20, 21, 0xabc000, 0, false, 300);
	new_reader = stamp(w, 21, 300);

	assert_int_equal(order(w, old_writer, new_reader), KS_HB_CONCURRENT);
}

static void test_a_pipe_orders_the_reader_after_the_writer(void **state)
{
	struct model_world *w = *state;
	uint64_t writer, reader, unrelated;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	add_thread(&w->model.table, 30, 31);
	writer = stamp(w, 11, 100);
	channel(w, 10, 11, 0xffff8880aa, true, 200);
	channel(w, 20, 21, 0xffff8880aa, false, 300);
	reader = stamp(w, 21, 300);
	unrelated = stamp(w, 31, 400);

	assert_int_equal(thread_of(w, 21)->causal.acquired.kind,
			 KS_EDGE_CHANNEL);
	assert_int_equal(thread_of(w, 21)->causal.acquired.tid, 11);
	assert_int_equal(order(w, writer, reader), KS_HB_BEFORE);
	assert_int_equal(order(w, writer, unrelated), KS_HB_CONCURRENT);
}

/*
 * Records from two CPUs: a write stamped after the read that it cannot
 * have fed, delivered first.  It is no source of the read.
 */
static void test_a_later_write_is_no_source(void **state)
{
	struct model_world *w = *state;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	channel(w, 10, 11, 0xffff8880aa, true, 500);
	channel(w, 20, 21, 0xffff8880aa, false, 300);

	assert_int_equal(thread_of(w, 21)->causal.acquired.kind, KS_EDGE_NONE);
}

/*
 * Two bytes written one at a time, each after a span of the writer's; a
 * read of one returns the first: it follows the first write only, and its
 * source is the span before that write.
 */
static void test_a_stream_read_learns_and_links_its_own_write(void **state)
{
	struct model_world *w = *state;
	struct ks_thread *writer = add_thread(&w->model.table, 10, 11);
	struct ks_edge_source sources[KS_CAUSALITY_SOURCES_MAX];
	uint64_t first, second, read;

	add_thread(&w->model.table, 20, 21);
	writer->causal.last_span =
		(struct ks_span_ref){ .valid = true, .span_id = { 7 } };
	first = stamp(w, 11, 100);
	stream_io(w, 10, 11, KS_IO_WRITE, 1, 0, 200);
	stream_io(w, 10, 11, KS_IO_WROTE, 1, 1, 210);
	writer->causal.last_span =
		(struct ks_span_ref){ .valid = true, .span_id = { 8 } };
	second = stamp(w, 11, 300);
	stream_io(w, 10, 11, KS_IO_WRITE, 1, 1, 400);
	stream_io(w, 10, 11, KS_IO_WROTE, 1, 2, 410);
	stream_io(w, 20, 21, KS_IO_READ, 1, 1, 500);
	read = stamp(w, 21, 500);

	assert_int_equal(order(w, first, read), KS_HB_BEFORE);
	assert_int_equal(order(w, second, read), KS_HB_CONCURRENT);
	/* Not the object's latest writer's span, as a channel would link. */
	assert_int_equal(thread_of(w, 21)->causal.acquired.kind, KS_EDGE_NONE);
	assert_int_equal(ks_causality_sources(w->causality, read, sources,
					      KS_CAUSALITY_SOURCES_MAX),
			 1);
	assert_int_equal(sources[0].kind, KS_EDGE_CHANNEL);
	assert_int_equal(sources[0].tid, 11);
	assert_int_equal(sources[0].release_ns, 200);
	assert_true(sources[0].span.valid);
	assert_int_equal(sources[0].span.span_id[0], 7);
	/* Only the point right after the read has sources. */
	assert_int_equal(ks_causality_sources(w->causality, second, sources,
					      KS_CAUSALITY_SOURCES_MAX),
			 0);
}

static void test_fork_exit_and_join(void **state)
{
	struct model_world *w = *state;
	uint64_t parent_before, child_point, joiner_after;
	const struct ks_edge_source *source;

	add_thread(&w->model.table, 10, 10);
	parent_before = stamp(w, 10, 50);
	fork_thread(w, 10, 10, 10, 11, 0x7000, 100);
	child_point = stamp(w, 11, 200);
	thread_of(w, 11)->causal.last_span =
		(struct ks_span_ref){ .valid = true, .span_id = { 9 } };
	exit_thread(w, 10, 11, 300);
	/* pthread_join: a wait on the child's tid word, woken by its exit. */
	wait_end(w, 10, 10, 0x7000, 0, 400, 0);
	joiner_after = stamp(w, 10, 400);

	source = &thread_of(w, 10)->causal.acquired;
	assert_int_equal(source->kind, KS_EDGE_JOIN);
	assert_int_equal(source->tid, 11);
	assert_int_equal(source->span.span_id[0], 9);
	assert_int_equal(order(w, parent_before, child_point), KS_HB_BEFORE);
	assert_int_equal(order(w, child_point, joiner_after), KS_HB_BEFORE);
}

/*
 * The kernel wakes the joiner from mm_release(), before the exit
 * tracepoint: the exit record can be the later one, in time and in the
 * ring buffer.
 */
static void test_a_join_before_the_exit_record(void **state)
{
	struct model_world *w = *state;
	uint64_t child_point, joiner_after;

	add_thread(&w->model.table, 10, 10);
	fork_thread(w, 10, 10, 10, 11, 0x7000, 100);
	child_point = stamp(w, 11, 200);
	wait_end(w, 10, 10, 0x7000, 0, 400, 0);
	joiner_after = stamp(w, 10, 400);
	exit_thread(w, 10, 11, 450);

	assert_int_equal(thread_of(w, 10)->causal.acquired.kind, KS_EDGE_JOIN);
	assert_int_equal(order(w, child_point, joiner_after), KS_HB_BEFORE);
}

static void test_a_reaped_child_happened_before_its_parent_goes_on(void **state)
{
	struct model_world *w = *state;
	struct ks_reaped reaped = { 0 };
	uint64_t child_point, parent_after;

	add_thread(&w->model.table, 10, 10);
	add_thread(&w->model.table, 20, 20);
	child_point = stamp(w, 20, 100);
	exit_thread(w, 20, 20, 200);
	record_header(&reaped.hdr, KS_EV_REAPED, sizeof(reaped), 10, 10, 300);
	reaped.child_tgid = 20;
	model_world_apply(w, &reaped, sizeof(reaped));
	parent_after = stamp(w, 10, 300);

	assert_int_equal(order(w, child_point, parent_after), KS_HB_BEFORE);
}

static void test_a_wakeup_orders_the_wakee_after_the_waker(void **state)
{
	struct model_world *w = *state;
	struct ks_wakeup rec = { 0 };
	uint64_t waker_point, wakee_point;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	waker_point = stamp(w, 11, 100);
	record_header(&rec.hdr, KS_EV_WAKEUP, sizeof(rec), 10, 11, 200);
	rec.wakee_tgid = 20;
	rec.wakee_tid = 21;
	rec.off_since_ns = 50;
	model_world_apply(w, &rec, sizeof(rec));
	wakee_point = stamp(w, 21, 300);

	assert_int_equal(thread_of(w, 21)->causal.woken.kind, KS_EDGE_WAKEUP);
	assert_int_equal(thread_of(w, 21)->causal.woken.release_ns, 200);
	assert_int_equal(order(w, waker_point, wakee_point), KS_HB_BEFORE);
}

static void lock_call(struct model_world *w, uint32_t tid, uint16_t call,
		      uint64_t ts)
{
	struct ks_lock_call_rec rec = { 0 };

	record_header(&rec.hdr, KS_EV_LOCK_CALL, sizeof(rec), 10, tid, ts);
	rec.mutex = 0x5000;
	rec.call = call;
	model_world_apply(w, &rec, sizeof(rec));
}

static void lock_result(struct model_world *w, uint32_t tid, uint64_t ts)
{
	struct ks_lock_result rec = { 0 };

	record_header(&rec.hdr, KS_EV_LOCK_RESULT, sizeof(rec), 10, tid, ts);
	rec.mutex = 0x5000;
	rec.call = KS_CALL_LOCK;
	model_world_apply(w, &rec, sizeof(rec));
}

/* Precise mode: an uncontended hand-off, never seen by the kernel. */
static void test_precise_unlock_then_lock(void **state)
{
	struct model_world *w = *state;
	uint64_t holder, next, after_destroy;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 10, 12);
	add_thread(&w->model.table, 10, 13);
	holder = stamp(w, 11, 100);
	lock_call(w, 11, KS_CALL_UNLOCK, 200);
	lock_call(w, 12, KS_CALL_LOCK, 250);
	lock_result(w, 12, 300);
	next = stamp(w, 12, 300);
	/* Destroyed, then a new mutex at the same address. */
	lock_call(w, 12, KS_CALL_DESTROY, 400);
	lock_call(w, 13, KS_CALL_LOCK, 450);
	lock_result(w, 13, 500);
	after_destroy = stamp(w, 13, 500);

	assert_int_equal(thread_of(w, 12)->causal.acquired.kind,
			 KS_EDGE_UNLOCK);
	assert_int_equal(thread_of(w, 13)->causal.acquired.kind, KS_EDGE_NONE);
	assert_int_equal(order(w, holder, next), KS_HB_BEFORE);
	assert_int_equal(order(w, holder, after_destroy), KS_HB_CONCURRENT);
}

/* A full ring buffer: a missing edge is unknown, never "concurrent". */
static void test_dropped_records_make_answers_unknown(void **state)
{
	struct model_world *w = *state;
	uint64_t a, b;

	add_thread(&w->model.table, 10, 11);
	add_thread(&w->model.table, 20, 21);
	a = stamp(w, 11, 100);
	ks_causality_lost(w->causality, 150, 250);
	b = stamp(w, 21, 300);

	assert_int_equal(order(w, a, b), KS_HB_UNKNOWN);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_futex_wake_orders_the_waiter_after_the_waker),
		T(test_a_wait_that_timed_out_learns_nothing),
		T(test_private_words_belong_to_their_process),
		T(test_a_reused_pid_starts_with_new_words),
		T(test_a_pipe_at_a_dead_pipes_address_is_another),
		T(test_a_new_eventfd_at_a_dead_ones_address_is_another),
		T(test_a_pipe_orders_the_reader_after_the_writer),
		T(test_a_later_write_is_no_source),
		T(test_a_stream_read_learns_and_links_its_own_write),
		T(test_fork_exit_and_join),
		T(test_a_join_before_the_exit_record),
		T(test_a_reaped_child_happened_before_its_parent_goes_on),
		T(test_a_wakeup_orders_the_wakee_after_the_waker),
		T(test_precise_unlock_then_lock),
		T(test_dropped_records_make_answers_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
