// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Lock-order inversions from sequences of mutex calls, as precise mode sees. */
#include "unit.h"

#include <pthread.h>

#include "detect/lockorder.h"

#define A 0x1000
#define B 0x2000
#define C 0x3000

struct world {
	struct ks_lockorder *lockorder;
	unsigned int reports;
	size_t last_len;
	uint64_t last_id;
	uint64_t last_mutexes[8];
	uint32_t last_tids[8];
};

static void record(void *ctx, const struct ks_inversion *found)
{
	struct world *w = ctx;

	w->reports++;
	w->last_len = found->nr_orders;
	w->last_id = found->id;
	for (size_t i = 0; i < found->nr_orders && i < 8; i++) {
		w->last_mutexes[i] = found->orders[i].first->mutex;
		w->last_tids[i] = found->orders[i].second->tid;
		/* Each order's second mutex is the next order's first. */
		assert_int_equal(
			found->orders[i].second->mutex,
			found->orders[(i + 1) % found->nr_orders].first->mutex);
	}
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	w->lockorder = ks_lockorder_new(record, w);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_lockorder_free(w->lockorder);
	free(w);
	return 0;
}

static void call(struct world *w, uint32_t tid, uint16_t what, uint64_t mutex)
{
	struct ks_lock_call_rec rec = { 0 };

	rec.hdr.kind = KS_EV_LOCK_CALL;
	rec.hdr.tgid = 7;
	rec.hdr.tid = tid;
	rec.mutex = mutex;
	rec.call = what;
	rec.stack_len = 8;
	ks_lockorder_call(w->lockorder, &rec);
}

static void result(struct world *w, uint32_t tid, uint16_t what, uint64_t mutex,
		   int ret)
{
	struct ks_lock_result rec = { 0 };

	rec.hdr.kind = KS_EV_LOCK_RESULT;
	rec.hdr.tgid = 7;
	rec.hdr.tid = tid;
	rec.mutex = mutex;
	rec.call = what;
	rec.ret = ret;
	ks_lockorder_result(w->lockorder, &rec);
}

static void lock(struct world *w, uint32_t tid, uint64_t mutex)
{
	call(w, tid, KS_CALL_LOCK, mutex);
	result(w, tid, KS_CALL_LOCK, mutex, 0);
}

static void unlock(struct world *w, uint32_t tid, uint64_t mutex)
{
	call(w, tid, KS_CALL_UNLOCK, mutex);
}

/* first, then second while holding first, then both released. */
static void nested(struct world *w, uint32_t tid, uint64_t first,
		   uint64_t second)
{
	lock(w, tid, first);
	lock(w, tid, second);
	unlock(w, tid, second);
	unlock(w, tid, first);
}

static void test_ab_then_ba_is_an_inversion(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, B);
	assert_int_equal(w->reports, 0);
	/* Another thread, much later: never an actual deadlock here. */
	lock(w, 2, B);
	lock(w, 2, A);
	assert_int_equal(w->reports, 1);
	assert_int_equal(w->last_len, 2);
	assert_true((w->last_tids[0] == 1 && w->last_tids[1] == 2) ||
		    (w->last_tids[0] == 2 && w->last_tids[1] == 1));
}

static void test_consistent_order_is_fine(void **state)
{
	struct world *w = *state;

	for (uint32_t tid = 1; tid <= 4; tid++) {
		lock(w, tid, A);
		lock(w, tid, B);
		lock(w, tid, C);
		unlock(w, tid, C);
		unlock(w, tid, B);
		unlock(w, tid, A);
	}
	/* Skipping a level keeps the order. */
	lock(w, 5, A);
	lock(w, 5, C);
	assert_int_equal(w->reports, 0);
}

static void test_three_lock_cycle(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, B);
	nested(w, 2, B, C);
	assert_int_equal(w->reports, 0);
	lock(w, 3, C);
	lock(w, 3, A);
	assert_int_equal(w->reports, 1);
	assert_int_equal(w->last_len, 3);
}

static void test_reported_once(void **state)
{
	struct world *w = *state;
	uint64_t id;

	nested(w, 1, A, B);
	lock(w, 2, B);
	lock(w, 2, A);
	id = w->last_id;
	unlock(w, 2, A);
	unlock(w, 2, B);
	lock(w, 3, B);
	lock(w, 3, A);
	assert_int_equal(w->reports, 1);
	assert_int_equal(w->last_id, id);
}

static void test_trylock_cannot_invert(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, B);
	/* B then trylock A: backs off instead of waiting, no deadlock. */
	lock(w, 2, B);
	call(w, 2, KS_CALL_TRYLOCK, A);
	result(w, 2, KS_CALL_TRYLOCK, A, 0);
	assert_int_equal(w->reports, 0);
	/* But what is taken while the trylocked A is held orders after A. */
	unlock(w, 2, B);
	lock(w, 2, C);
	unlock(w, 2, C);
	unlock(w, 2, A);
	lock(w, 3, C);
	lock(w, 3, A);
	assert_int_equal(w->reports, 1);
}

static void test_failed_calls_hold_nothing(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, B);
	/* A timed lock of B that times out: A is not taken while B held. */
	call(w, 2, KS_CALL_TIMEDLOCK, B);
	result(w, 2, KS_CALL_TIMEDLOCK, B, 110);
	lock(w, 2, A);
	assert_int_equal(w->reports, 0);
}

static void test_destroyed_mutex_address_starts_over(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, B);
	call(w, 1, KS_CALL_DESTROY, B);
	/* A new mutex at B's old address, used in the other order. */
	lock(w, 2, B);
	lock(w, 2, A);
	assert_int_equal(w->reports, 0);
}

static void test_recursive_relock_orders_nothing(void **state)
{
	struct world *w = *state;

	nested(w, 1, A, A);
	assert_int_equal(w->reports, 0);
}

static void test_processes_have_their_own_graphs(void **state)
{
	struct world *w = *state;
	struct ks_lockorder_stats stats;

	lock(w, 1, A);
	lock(w, 1, B);
	ks_lockorder_process_gone(w->lockorder, 7);
	ks_lockorder_thread_gone(w->lockorder, 1);
	lock(w, 2, B);
	lock(w, 2, A);
	assert_int_equal(w->reports, 0);
	ks_lockorder_stats(w->lockorder, &stats);
	assert_int_equal(stats.orders, 2);
}

/* Past the limit of orders, new mutexes cost nothing: none is kept. */
static void test_a_process_graph_is_bounded(void **state)
{
	struct world *w = *state;
	struct ks_lockorder_stats stats;

	for (uint64_t i = 0; i < 40000; i++)
		nested(w, 1, 0x100000 + 16 * 2 * i,
		       0x100000 + 16 * (2 * i + 1));
	ks_lockorder_stats(w->lockorder, &stats);
	assert_int_equal(stats.orders, 16384);
	assert_int_equal(stats.dropped, 40000 - 16384);
	assert_true(stats.nodes <= 2 * 16384);
}

#define CHAIN 15000

/* A chain of CHAIN mutexes, then the order that closes it. */
static void *close_a_long_chain(void *arg)
{
	struct world *w = arg;

	for (uint64_t i = 0; i < CHAIN; i++)
		nested(w, 1, 0x100000 + 16 * i, 0x100000 + 16 * (i + 1));
	nested(w, 2, 0x100000 + 16 * CHAIN, 0x100000);
	return NULL;
}

/* The search for a cycle does not recurse as deep as the chain is long. */
static void test_a_long_chain_fits_any_stack(void **state)
{
	struct world *w = *state;
	pthread_attr_t attr;
	pthread_t thread;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	assert_int_equal(pthread_create(&thread, &attr, close_a_long_chain, w),
			 0);
	pthread_join(thread, NULL);
	pthread_attr_destroy(&attr);
	assert_int_equal(w->reports, 1);
	assert_int_equal(w->last_len, CHAIN + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_ab_then_ba_is_an_inversion),
		T(test_consistent_order_is_fine),
		T(test_three_lock_cycle),
		T(test_reported_once),
		T(test_trylock_cannot_invert),
		T(test_failed_calls_hold_nothing),
		T(test_destroyed_mutex_address_starts_over),
		T(test_recursive_relock_orders_nothing),
		T(test_processes_have_their_own_graphs),
		T(test_a_process_graph_is_bounded),
		T(test_a_long_chain_fits_any_stack),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
