// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The happens-before engine on small scripted executions: each edge kind
 * orders what it should and nothing else, events out of order are still
 * applied causally, and whatever the engine had to lose turns answers into
 * "unknown", never into wrong ones.
 */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "hb_engine.h"

/* Thread, lock and process keys: any 64-bit values. */
enum { A = 101, B, C, D, E, P, Q, W, V };
enum { LOCK = 0x1000, LOCK2, PIPE, CONDVAR };

static void test_mutex_handoff_is_ordered(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a_in, a_after, b_in;

	a_in = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(20), A, KS_HB_WORD, LOCK);
	a_after = ks_hb_stamp(hb, US(25), A);
	ks_hb_acquire(hb, US(30), B, KS_HB_WORD, LOCK);
	b_in = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);

	assert_order(hb, a_in, b_in, KS_HB_BEFORE);
	/* What A did after unlocking is not before B's critical section. */
	assert_order(hb, a_after, b_in, KS_HB_CONCURRENT);
	assert_order(hb, a_in, a_after, KS_HB_BEFORE);
	assert_order(hb, a_in, a_in, KS_HB_EQUAL);
	assert_int_equal(stats_of(hb).edges, 1);
	ks_hb_free(hb);
}

static void test_threads_without_shared_sync_are_concurrent(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, b;

	a = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(12), B, KS_HB_WORD, LOCK2);
	b = ks_hb_stamp(hb, US(20), B);
	ks_hb_flush(hb);

	assert_order(hb, a, b, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

static void test_pipe_producer_consumer_is_ordered(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t produced, consumer_before, consumed, second;

	produced = ks_hb_stamp(hb, US(10), A);
	consumer_before = ks_hb_stamp(hb, US(11), B);
	ks_hb_release(hb, US(12), A, KS_HB_CHANNEL, PIPE);
	ks_hb_acquire(hb, US(15), B, KS_HB_CHANNEL, PIPE);
	consumed = ks_hb_stamp(hb, US(16), B);
	/* The same id as a futex word is another object. */
	ks_hb_acquire(hb, US(17), C, KS_HB_WORD, PIPE);
	second = ks_hb_stamp(hb, US(18), C);
	ks_hb_flush(hb);

	assert_order(hb, produced, consumed, KS_HB_BEFORE);
	assert_order(hb, consumer_before, produced, KS_HB_CONCURRENT);
	assert_order(hb, produced, second, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

static void test_fork_orders_parent_before_child(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t parent_before, parent_after, child;

	parent_before = ks_hb_stamp(hb, US(10), P);
	ks_hb_fork(hb, US(20), P, C);
	parent_after = ks_hb_stamp(hb, US(21), P);
	child = ks_hb_stamp(hb, US(30), C);
	ks_hb_flush(hb);

	assert_order(hb, parent_before, child, KS_HB_BEFORE);
	assert_order(hb, parent_after, child, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/* pthread_cond_signal -> the wait's return, then the mutex hand-off. */
static void test_condvar_signal_orders_wait_return(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t waiting, signalled, woken;

	waiting = ks_hb_stamp(hb, US(5), B);
	signalled = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, CONDVAR);
	ks_hb_release(hb, US(12), A, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(20), B, KS_HB_WORD, CONDVAR);
	ks_hb_acquire(hb, US(21), B, KS_HB_WORD, LOCK);
	woken = ks_hb_stamp(hb, US(22), B);
	ks_hb_flush(hb);

	assert_order(hb, signalled, woken, KS_HB_BEFORE);
	assert_order(hb, waiting, woken, KS_HB_BEFORE);
	assert_order(hb, waiting, signalled, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/*
 * Clocks are built only when there is something new to learn: hand-offs
 * between threads that already know each other's latest event cost none.
 */
static void test_handoffs_merge_only_what_is_new(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, c, e;

	ks_hb_release(hb, US(10), A, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(11), B, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(12), B, KS_HB_WORD, LOCK);
	ks_hb_flush(hb);
	assert_int_equal(stats_of(hb).merges, 1);
	/* B saw A's release: B's release replaces it, no join. */
	ks_hb_release(hb, US(13), B, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(14), A, KS_HB_WORD, LOCK);
	ks_hb_flush(hb);
	assert_int_equal(stats_of(hb).merges, 2);
	/* Concurrent releases into one object keep both. */
	a = ks_hb_stamp(hb, US(20), A);
	c = ks_hb_stamp(hb, US(21), C);
	ks_hb_release(hb, US(22), A, KS_HB_CHANNEL, PIPE);
	ks_hb_release(hb, US(23), C, KS_HB_CHANNEL, PIPE);
	ks_hb_acquire(hb, US(24), D, KS_HB_CHANNEL, PIPE);
	ks_hb_release(hb, US(25), D, KS_HB_WORD, LOCK2);
	ks_hb_acquire(hb, US(26), E, KS_HB_WORD, LOCK2);
	e = ks_hb_stamp(hb, US(27), E);
	ks_hb_flush(hb);
	assert_order(hb, a, e, KS_HB_BEFORE);
	assert_order(hb, c, e, KS_HB_BEFORE);
	assert_order(hb, a, c, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

static void test_join_after_exit_is_ordered(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t worker, before_join, joined;

	ks_hb_fork(hb, US(1), P, W);
	worker = ks_hb_stamp(hb, US(10), W);
	before_join = ks_hb_stamp(hb, US(11), P);
	ks_hb_exit(hb, US(20), W, Q);
	ks_hb_joined(hb, US(30), P, W);
	joined = ks_hb_stamp(hb, US(31), P);
	ks_hb_flush(hb);

	assert_order(hb, worker, joined, KS_HB_BEFORE);
	assert_order(hb, worker, before_join, KS_HB_CONCURRENT);
	/* The exit object served its one join. */
	assert_int_equal(stats_of(hb).objects, 1); /* the process's */
	assert_int_equal(stats_of(hb).actors, 1);
	assert_int_equal(stats_of(hb).actors_gone, 1); /* a point holds W */
	ks_hb_free(hb);
}

static void test_reap_orders_every_thread_of_the_process(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t t1, t2, reaped;

	t1 = ks_hb_stamp(hb, US(10), A);
	t2 = ks_hb_stamp(hb, US(11), B);
	ks_hb_exit(hb, US(20), A, Q);
	ks_hb_exit(hb, US(21), B, Q);
	ks_hb_reaped(hb, US(30), P, Q);
	reaped = ks_hb_stamp(hb, US(31), P);
	ks_hb_flush(hb);

	assert_order(hb, t1, reaped, KS_HB_BEFORE);
	assert_order(hb, t2, reaped, KS_HB_BEFORE);
	assert_order(hb, t1, t2, KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).objects, 2); /* A's and B's joins */
	ks_hb_free(hb);
}

static void test_sched_wakeup_orders_waker_before_wakee(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t waker, wakee_before, wakee_after;

	wakee_before = ks_hb_stamp(hb, US(5), V);
	waker = ks_hb_stamp(hb, US(10), W);
	ks_hb_wakeup(hb, US(20), W, V);
	wakee_after = ks_hb_stamp(hb, US(30), V);
	ks_hb_flush(hb);

	assert_order(hb, waker, wakee_after, KS_HB_BEFORE);
	assert_order(hb, wakee_before, waker, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/* A wakee's event handed in before the wakeup, but earlier in time. */
static void test_wakeup_is_not_learnt_by_earlier_events(void **state)
{
	struct ks_hb_config cfg = { .holdback_events = 1 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t waker, early, late;

	waker = ks_hb_stamp(hb, US(10), W);
	ks_hb_wakeup(hb, US(20), W, V);
	/* The buffer holds one event: this pushes the wakeup out... */
	ks_hb_stamp(hb, US(25), C);
	/* ...before this, older, arrives. */
	early = ks_hb_stamp(hb, US(15), V);
	late = ks_hb_stamp(hb, US(30), V);
	ks_hb_flush(hb);

	assert_true(stats_of(hb).late >= 1);
	/* Exactly right, not merely unsure: nothing was lost. */
	assert_int_equal(stats_of(hb).lost, 0);
	assert_order(hb, waker, early, KS_HB_CONCURRENT);
	assert_order(hb, waker, late, KS_HB_BEFORE);
	ks_hb_free(hb);
}

/*
 * The futex waiter's return handed in before the waker's wake: the
 * hold-back buffer puts the release first.
 */
static void test_acquire_handed_in_before_its_release(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t waker, woken;

	waker = ks_hb_stamp(hb, US(10), A);
	ks_hb_acquire(hb, US(30), B, KS_HB_WORD, LOCK);
	ks_hb_release(hb, US(20), A, KS_HB_WORD, LOCK);
	woken = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);

	assert_order(hb, waker, woken, KS_HB_BEFORE);
	assert_int_equal(stats_of(hb).late, 0);
	assert_int_equal(stats_of(hb).lost, 0);
	ks_hb_free(hb);
}

static void test_events_wait_for_the_reorder_window(void **state)
{
	struct ks_hb_config cfg = { .reorder_window_ns = US(100) };
	struct ks_hb *hb = engine(&cfg);
	struct ks_hb_point point;
	uint64_t a, b;

	a = ks_hb_stamp(hb, US(10), A);
	b = ks_hb_stamp(hb, US(20), B);
	assert_int_equal(ks_hb_stamp_point(hb, a, &point), -EAGAIN);
	assert_int_equal(ks_hb_order(hb, a, b), KS_HB_UNKNOWN);
	assert_int_equal(stats_of(hb).held, 2);
	/* 10 + 100 has passed, 20 + 100 has not. */
	ks_hb_advance(hb, US(115));
	assert_int_equal(ks_hb_stamp_point(hb, a, &point), 0);
	assert_int_equal(ks_hb_stamp_point(hb, b, &point), -EAGAIN);
	ks_hb_advance(hb, US(120));
	assert_order(hb, a, b, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/*
 * The buffer overflows while a waiter's return waits for its wake, and
 * the wake comes after the return was applied: the edge is lost, and
 * counted.  What it ordered becomes unknown; what it could not touch
 * keeps its answer.
 */
static void test_holdback_overflow_is_counted_and_never_wrong(void **state)
{
	struct ks_hb_config cfg = {
		.holdback_events = 2,
		.reorder_window_ns = US(1000000),
	};
	struct ks_hb *hb = engine(&cfg);
	uint64_t waker, woken, later_c, later_d;
	struct ks_hb_stats stats;

	waker = ks_hb_stamp(hb, US(10), A);
	ks_hb_acquire(hb, US(30), B, KS_HB_WORD, LOCK);
	woken = ks_hb_stamp(hb, US(40), B);
	later_c = ks_hb_stamp(hb, US(50), C);
	later_d = ks_hb_stamp(hb, US(60), D);
	/* The acquire was forced out; its release arrives now. */
	ks_hb_release(hb, US(20), A, KS_HB_WORD, LOCK);
	ks_hb_flush(hb);

	stats = stats_of(hb);
	assert_true(stats.forced >= 2);
	assert_int_equal(stats.late, 1);
	assert_int_equal(stats.lost, 1);
	/* Truly BEFORE; the engine cannot know: unknown, not concurrent. */
	assert_order(hb, waker, woken, KS_HB_UNKNOWN);
	/* Both after the lost edge: it cannot hide anything from them. */
	assert_order(hb, later_c, later_d, KS_HB_CONCURRENT);
	assert_order(hb, woken, later_c, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/*
 * An acquire so late that the lock was released again since: learning
 * the lock now would teach it the future.  It learns nothing instead.
 */
static void test_late_acquire_never_learns_the_future(void **state)
{
	struct ks_hb_config cfg = { .holdback_events = 1 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t first_section, second_section, acquirer;

	first_section = ks_hb_stamp(hb, US(5), A);
	ks_hb_release(hb, US(10), A, KS_HB_WORD, LOCK);
	second_section = ks_hb_stamp(hb, US(26), A);
	ks_hb_release(hb, US(30), A, KS_HB_WORD, LOCK);
	ks_hb_flush(hb);
	ks_hb_acquire(hb, US(20), B, KS_HB_WORD, LOCK);
	acquirer = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);

	/* Truly after the release at 10 only. */
	assert_order(hb, first_section, acquirer, KS_HB_UNKNOWN);
	assert_order(hb, second_section, acquirer, KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).lost, 1);
	ks_hb_free(hb);
}

static void test_lost_records_make_crossing_answers_unknown(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t before, after1, after2;

	before = ks_hb_stamp(hb, US(10), A);
	after1 = ks_hb_stamp(hb, US(30), B);
	after2 = ks_hb_stamp(hb, US(40), C);
	ks_hb_lost(hb, US(15), US(20));
	ks_hb_flush(hb);

	assert_order(hb, before, after1, KS_HB_UNKNOWN);
	assert_order(hb, after1, after2, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/* An evicted lock's releases cannot be learnt: unknown, not "none". */
static void test_evicted_sync_object_makes_answers_unknown(void **state)
{
	struct ks_hb_config cfg = { .max_objects = 1 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t released, acquired;

	released = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_release(hb, US(12), C, KS_HB_WORD, LOCK2);
	ks_hb_acquire(hb, US(20), B, KS_HB_WORD, LOCK);
	acquired = ks_hb_stamp(hb, US(21), B);
	ks_hb_flush(hb);

	assert_int_equal(stats_of(hb).objects_evicted, 1);
	assert_order(hb, released, acquired, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/*
 * R learnt X's release through an object that was then evicted, so R's
 * clock lacks it and says so.  R hands on to O and is collected; S's
 * release replaces R's in O, since S covers all of R that matters.  What
 * R lost must stay marked for whoever acquires O next.
 */
static void test_replaced_release_keeps_what_was_lost(void **state)
{
	struct ks_hb_config cfg = { .max_objects = 2 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t x, y;

	x = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_release(hb, US(12), C, KS_HB_WORD, LOCK2);
	ks_hb_release(hb, US(13), C, KS_HB_WORD, CONDVAR); /* evicts LOCK */
	ks_hb_acquire(hb, US(20), B, KS_HB_WORD, LOCK);
	ks_hb_release(hb, US(21), B, KS_HB_CHANNEL, PIPE);
	ks_hb_exit(hb, US(22), B, 0);
	ks_hb_release(hb, US(30), D, KS_HB_CHANNEL, PIPE);
	ks_hb_acquire(hb, US(31), E, KS_HB_CHANNEL, PIPE);
	y = ks_hb_stamp(hb, US(32), E);
	ks_hb_flush(hb);

	assert_order(hb, x, y, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/*
 * A lock evicted with A's release in it is made again by a late release
 * that belongs to before the lock's last "gone" (and is kept out): the
 * new object holds no release, but must still say that A's was lost.
 */
static void test_empty_reborn_object_still_says_what_it_lost(void **state)
{
	struct ks_hb_config cfg = { .max_objects = 1 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t released, acquired;

	ks_hb_sync_gone(hb, US(10), KS_HB_WORD, LOCK);
	released = ks_hb_stamp(hb, US(20), A);
	ks_hb_release(hb, US(21), A, KS_HB_WORD, LOCK);
	ks_hb_release(hb, US(22), C, KS_HB_WORD, LOCK2); /* evicts LOCK */
	ks_hb_flush(hb);
	ks_hb_release(hb, US(9), D, KS_HB_WORD, LOCK); /* late, pre-gone */
	ks_hb_acquire(hb, US(30), B, KS_HB_WORD, LOCK);
	acquired = ks_hb_stamp(hb, US(31), B);
	ks_hb_flush(hb);

	/* Truly before, through A's release at 21. */
	assert_order(hb, released, acquired, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/* A destroyed object starts afresh: its old releases order nothing. */
static void test_sync_gone_starts_the_object_afresh(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t released, acquired;

	released = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_sync_gone(hb, US(12), KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(20), B, KS_HB_WORD, LOCK);
	acquired = ks_hb_stamp(hb, US(21), B);
	ks_hb_flush(hb);

	assert_order(hb, released, acquired, KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).objects_gone, 1);
	ks_hb_free(hb);
}

/*
 * The lock's memory is reused for a new lock; the old one's "gone" comes
 * after the new one was used.  The new lock's acquirer learnt the old
 * lock's release too: an answer built on it is doubtful, not "before".
 */
static void test_late_sync_gone_makes_mixed_answers_doubtful(void **state)
{
	struct ks_hb_config cfg = { .holdback_events = 1 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t old_owner, new_owner, acquirer;

	old_owner = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	new_owner = ks_hb_stamp(hb, US(18), B);
	ks_hb_release(hb, US(20), B, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(25), C, KS_HB_WORD, LOCK);
	ks_hb_sync_gone(hb, US(15), KS_HB_WORD, LOCK);
	acquirer = ks_hb_stamp(hb, US(30), C);
	ks_hb_flush(hb);

	/* Truly concurrent: A's release went to the old lock. */
	assert_order(hb, old_owner, acquirer, KS_HB_UNKNOWN);
	assert_order(hb, new_owner, acquirer, KS_HB_BEFORE);
	assert_int_equal(stats_of(hb).lost, 1);
	ks_hb_free(hb);
}

/*
 * Six threads hand their knowledge to one whose clock keeps two entries:
 * some answers become unknown, none becomes concurrent, and a thread met
 * after the loss is still answered exactly.
 */
static void test_clock_bound_loses_to_unknown_never_wrong(void **state)
{
	struct ks_hb_config cfg = { .max_clock_entries = 2 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t senders[6], hub, stranger;
	int before = 0, unknown = 0;

	for (int i = 0; i < 6; i++) {
		senders[i] = ks_hb_stamp(hb, US(10 + i), A + i);
		ks_hb_release(hb, US(20 + i), A + i, KS_HB_CHANNEL, PIPE + i);
	}
	for (int i = 0; i < 6; i++)
		ks_hb_acquire(hb, US(30 + i), W, KS_HB_CHANNEL, PIPE + i);
	hub = ks_hb_stamp(hb, US(40), W);
	stranger = ks_hb_stamp(hb, US(50), V);
	ks_hb_flush(hb);

	for (int i = 0; i < 6; i++) {
		enum ks_hb_order order = ks_hb_order(hb, senders[i], hub);

		assert_true(order == KS_HB_BEFORE || order == KS_HB_UNKNOWN);
		before += order == KS_HB_BEFORE;
		unknown += order == KS_HB_UNKNOWN;
	}
	assert_true(before >= 1);
	assert_true(unknown >= 1);
	assert_true(stats_of(hb).entries_dropped > 0);
	assert_order(hb, stranger, hub, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/*
 * An evicted thread comes back as a new actor that lost its past: its
 * earlier points are not before its later ones as far as the engine can
 * tell, and it says so.
 */
static void test_evicted_thread_comes_back_unsure(void **state)
{
	struct ks_hb_config cfg = { .max_actors = 2 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t first, learnt, again, fresh;

	first = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(12), B, KS_HB_WORD, LOCK);
	learnt = ks_hb_stamp(hb, US(13), B);
	/* C and D push A and B out. */
	ks_hb_stamp(hb, US(20), C);
	ks_hb_stamp(hb, US(21), D);
	again = ks_hb_stamp(hb, US(30), B);
	fresh = ks_hb_stamp(hb, US(31), E);
	ks_hb_flush(hb);

	assert_true(stats_of(hb).actors_evicted >= 2);
	assert_order(hb, first, learnt, KS_HB_BEFORE);
	assert_order(hb, learnt, again, KS_HB_UNKNOWN);
	assert_order(hb, first, again, KS_HB_UNKNOWN);
	assert_order(hb, again, fresh, KS_HB_CONCURRENT);
	ks_hb_free(hb);
}

/*
 * A wakeup arrives late for a wakee whose point after it was applied by an
 * identity since evicted; the key now names a new identity that has done
 * nothing.  The old point missed the wakeup all the same.
 */
static void test_late_wakeup_of_an_evicted_wakee_is_lost(void **state)
{
	struct ks_hb_config cfg = { .max_actors = 2 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t waker, woken;

	waker = ks_hb_stamp(hb, US(20), W);
	woken = ks_hb_stamp(hb, US(30), V);
	/* C and D push W and V out; E's wakeup brings V's key back. */
	ks_hb_stamp(hb, US(31), C);
	ks_hb_stamp(hb, US(32), D);
	ks_hb_wakeup(hb, US(35), E, V);
	ks_hb_flush(hb);
	ks_hb_wakeup(hb, US(25), W, V);
	ks_hb_flush(hb);

	/* Truly before: V's point at 30 is its first event after 25. */
	assert_order(hb, waker, woken, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/*
 * A point outlives its thread: answered while held, unknown once dropped,
 * and the thread's id is then collected and its slot reused by a new
 * thread, which is not mistaken for the old one.
 */
static void test_points_of_collected_threads(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t worker, joined, newcomer, worker_id;
	struct ks_hb_point pw, pn;

	ks_hb_fork(hb, US(1), P, W);
	worker = ks_hb_stamp(hb, US(10), W);
	ks_hb_exit(hb, US(20), W, 0);
	ks_hb_joined(hb, US(30), P, W);
	joined = ks_hb_stamp(hb, US(31), P);
	ks_hb_flush(hb);

	assert_order(hb, worker, joined, KS_HB_BEFORE);
	assert_int_equal(stats_of(hb).actors_collected, 0);
	assert_int_equal(ks_hb_stamp_point(hb, worker, &pw), 0);
	worker_id = pw.actor;
	ks_hb_stamp_drop(hb, worker);
	assert_int_equal(stats_of(hb).actors_collected, 1);
	assert_order(hb, worker, joined, KS_HB_UNKNOWN);
	assert_int_equal(ks_hb_stamp_point(hb, worker, &pw), -ENOENT);

	newcomer = ks_hb_stamp(hb, US(40), V);
	ks_hb_flush(hb);
	assert_int_equal(ks_hb_stamp_point(hb, newcomer, &pn), 0);
	assert_int_equal(ks_hb_stamp_point(hb, joined, &pw), 0);
	/* The same slot, another generation: joined knows W, not V. */
	assert_int_equal(KS_HB_ACTOR_SLOT(pn.actor),
			 KS_HB_ACTOR_SLOT(worker_id));
	assert_int_not_equal(pn.actor, worker_id);
	assert_true(ks_vclock_count(pw.clock, worker_id) > 0);
	assert_int_equal(ks_vclock_count(pw.clock, pn.actor), 0);
	assert_order(hb, newcomer, joined, KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).actor_slots, 2);
	ks_hb_free(hb);
}

static void test_oldest_points_are_dropped_beyond_the_limit(void **state)
{
	struct ks_hb_config cfg = { .max_stamps = 4 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t stamps[5];

	for (int i = 0; i < 5; i++)
		stamps[i] = ks_hb_stamp(hb, US(10 + i), A);
	ks_hb_flush(hb);

	assert_int_equal(stats_of(hb).stamps_dropped, 1);
	assert_int_equal(stats_of(hb).stamps, 4);
	assert_int_equal(ks_hb_order(hb, stamps[0], stamps[4]), KS_HB_UNKNOWN);
	assert_order(hb, stamps[1], stamps[4], KS_HB_BEFORE);
	/* A stale handle is never confused with the slot's new point. */
	assert_int_not_equal(stamps[0], stamps[4]);
	ks_hb_free(hb);
}

static void test_lamport_counters_follow_the_order(void **state)
{
	struct ks_hb *hb = engine(NULL);
	struct ks_hb_point a, b, c;
	uint64_t sa, sb, sc;

	for (int i = 0; i < 5; i++)
		ks_hb_stamp(hb, US(1 + i), A);
	sa = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	ks_hb_acquire(hb, US(12), B, KS_HB_WORD, LOCK);
	sb = ks_hb_stamp(hb, US(13), B);
	sc = ks_hb_stamp(hb, US(14), C);
	ks_hb_flush(hb);

	assert_int_equal(ks_hb_stamp_point(hb, sa, &a), 0);
	assert_int_equal(ks_hb_stamp_point(hb, sb, &b), 0);
	assert_int_equal(ks_hb_stamp_point(hb, sc, &c), 0);
	assert_int_equal(a.lamport, 6);
	/* B's acquire takes max(its own, A's release) + 1, then B's point. */
	assert_int_equal(b.lamport, 9);
	assert_int_equal(c.lamport, 1);
	ks_hb_free(hb);
}

/*
 * Exported points answer, from their encodings alone, what the engine
 * answers; the encoding is deterministic.
 */
static void test_exported_points_answer_like_the_engine(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t stamps[6];
	struct ks_hb_point decoded[6];
	struct ks_vclock *clocks[6];
	char text[6][128], again[128];

	stamps[0] = ks_hb_stamp(hb, US(10), A);
	ks_hb_release(hb, US(11), A, KS_HB_WORD, LOCK);
	stamps[1] = ks_hb_stamp(hb, US(12), B);
	ks_hb_acquire(hb, US(13), B, KS_HB_WORD, LOCK);
	stamps[2] = ks_hb_stamp(hb, US(14), B);
	ks_hb_fork(hb, US(15), B, C);
	stamps[3] = ks_hb_stamp(hb, US(16), C);
	stamps[4] = ks_hb_stamp(hb, US(17), D);
	ks_hb_wakeup(hb, US(18), C, D);
	stamps[5] = ks_hb_stamp(hb, US(19), D);
	ks_hb_flush(hb);

	for (int i = 0; i < 6; i++) {
		struct ks_hb_point point;
		size_t len;

		assert_int_equal(ks_hb_stamp_point(hb, stamps[i], &point), 0);
		len = ks_hb_point_encode(&point, text[i], sizeof(text[i]));
		assert_true(len > 0 && len < sizeof(text[i]));
		assert_int_equal(
			ks_hb_point_encode(&point, again, sizeof(again)), len);
		assert_string_equal(text[i], again);
		assert_int_equal(
			ks_hb_point_decode(text[i], &decoded[i], &clocks[i]),
			0);
		assert_int_equal(decoded[i].lamport, point.lamport);
	}
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			assert_int_equal(
				ks_hb_point_order(&decoded[i], &decoded[j]),
				ks_hb_order(hb, stamps[i], stamps[j]));
	/* A -> B -> C -> D, transitively. */
	assert_int_equal(ks_hb_point_order(&decoded[0], &decoded[5]),
			 KS_HB_BEFORE);
	for (int i = 0; i < 6; i++)
		ks_vclock_put(NULL, clocks[i]);
	ks_hb_free(hb);
}

/*
 * A million threads forked, run and joined by one: the engine's size
 * stays flat, the joiner's clock stays bounded without losing anything,
 * and a point of the first worker, held throughout, is still answered.
 */
static void test_thread_churn_stays_bounded(void **state)
{
	const uint64_t nr_threads = 1000000, first_worker = 1u << 20;
	struct ks_hb *hb = engine(NULL);
	uint64_t ts = 0, held = 0, last;
	struct ks_hb_stats stats;
	uint64_t max_entries = 0, max_objects = 0, max_slots = 0;

	for (uint64_t i = 0; i < nr_threads; i++) {
		uint64_t worker = first_worker + i;

		/*
		 * A microsecond apart: the buffer is never forced.  The
		 * parent learns of the worker while it lives (its result,
		 * under a lock), so its clock gathers ids collected later.
		 */
		ks_hb_fork(hb, ts += US(1), P, worker);
		if (!i)
			held = ks_hb_stamp(hb, ts += US(1), worker);
		ks_hb_release(hb, ts += US(1), worker, KS_HB_WORD, LOCK);
		ks_hb_acquire(hb, ts += US(1), P, KS_HB_WORD, LOCK);
		ks_hb_exit(hb, ts += US(1), worker, 0);
		ks_hb_joined(hb, ts += US(1), P, worker);
		if (i % 4096 == 0) {
			ks_hb_get_stats(hb, &stats);
			if (stats.clock_entries > max_entries)
				max_entries = stats.clock_entries;
			if (stats.objects > max_objects)
				max_objects = stats.objects;
			if (stats.actor_slots > max_slots)
				max_slots = stats.actor_slots;
		}
	}
	last = ks_hb_stamp(hb, ts += US(1), P);
	ks_hb_flush(hb);

	stats = stats_of(hb);
	assert_int_equal(stats.actors_created, nr_threads + 1);
	assert_int_equal(stats.actors, 1);
	assert_int_equal(stats.actors_gone, 1); /* the first worker, held */
	assert_int_equal(stats.actors_collected, nr_threads - 1);
	/* Live: the parent, the held worker, workers in the window. */
	assert_true(max_slots <= 64);
	assert_true(max_objects <= 64);
	/* A handful of clocks, each within the bound. */
	assert_true(max_entries <= 4 * 65);
	assert_int_equal(stats.forced, 0);
	/* Workers' ids leave the parent's clock for free once collected. */
	assert_true(stats.entries_pruned > 0);
	assert_int_equal(stats.entries_dropped, 0);
	assert_int_equal(stats.lost, 0);
	assert_order(hb, held, last, KS_HB_BEFORE);
	ks_hb_free(hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_handoff_is_ordered),
		cmocka_unit_test(
			test_threads_without_shared_sync_are_concurrent),
		cmocka_unit_test(test_pipe_producer_consumer_is_ordered),
		cmocka_unit_test(test_fork_orders_parent_before_child),
		cmocka_unit_test(test_condvar_signal_orders_wait_return),
		cmocka_unit_test(test_handoffs_merge_only_what_is_new),
		cmocka_unit_test(test_join_after_exit_is_ordered),
		cmocka_unit_test(test_reap_orders_every_thread_of_the_process),
		cmocka_unit_test(test_sched_wakeup_orders_waker_before_wakee),
		cmocka_unit_test(test_wakeup_is_not_learnt_by_earlier_events),
		cmocka_unit_test(test_acquire_handed_in_before_its_release),
		cmocka_unit_test(test_events_wait_for_the_reorder_window),
		cmocka_unit_test(
			test_holdback_overflow_is_counted_and_never_wrong),
		cmocka_unit_test(test_late_acquire_never_learns_the_future),
		cmocka_unit_test(
			test_lost_records_make_crossing_answers_unknown),
		cmocka_unit_test(
			test_evicted_sync_object_makes_answers_unknown),
		cmocka_unit_test(test_replaced_release_keeps_what_was_lost),
		cmocka_unit_test(
			test_empty_reborn_object_still_says_what_it_lost),
		cmocka_unit_test(test_sync_gone_starts_the_object_afresh),
		cmocka_unit_test(
			test_late_sync_gone_makes_mixed_answers_doubtful),
		cmocka_unit_test(test_clock_bound_loses_to_unknown_never_wrong),
		cmocka_unit_test(test_evicted_thread_comes_back_unsure),
		cmocka_unit_test(test_late_wakeup_of_an_evicted_wakee_is_lost),
		cmocka_unit_test(test_points_of_collected_threads),
		cmocka_unit_test(
			test_oldest_points_are_dropped_beyond_the_limit),
		cmocka_unit_test(test_lamport_counters_follow_the_order),
		cmocka_unit_test(test_exported_points_answer_like_the_engine),
		cmocka_unit_test(test_thread_churn_stays_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
