// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* An hour of one lock's contention, in buckets that roll over. */
#include "unit.h"

#include "serve/lock_trend.h"

#define S 1000000000ull
#define BUCKET (KS_LOCK_TREND_BUCKET_S * S)
#define LAST (KS_LOCK_TREND_BUCKETS - 1)

static void test_buckets_follow_time(void **state)
{
	static struct ks_lock_trend trend;
	uint32_t waits[KS_LOCK_TREND_BUCKETS];
	uint64_t wait_ns[KS_LOCK_TREND_BUCKETS];
	uint64_t t = 1000 * BUCKET + 3 * S;

	ks_lock_trend_add(&trend, t, 5);
	ks_lock_trend_add(&trend, t + 1 * S, 7);
	ks_lock_trend_add(&trend, t + BUCKET, 100);
	assert_int_equal(ks_lock_trend_read(&trend, t + BUCKET, waits, wait_ns),
			 112);
	assert_int_equal(waits[LAST], 1);
	assert_int_equal(wait_ns[LAST], 100);
	assert_int_equal(waits[LAST - 1], 2);
	assert_int_equal(wait_ns[LAST - 1], 12);
	assert_int_equal(waits[LAST - 2], 0);

	/* A record of a wait that ended a bucket ago, arriving late. */
	ks_lock_trend_add(&trend, t, 8);
	ks_lock_trend_read(&trend, t + BUCKET, waits, wait_ns);
	assert_int_equal(wait_ns[LAST - 1], 20);

	/* Read later: the same buckets, further back. */
	ks_lock_trend_read(&trend, t + 11 * BUCKET, waits, wait_ns);
	assert_int_equal(wait_ns[LAST - 10], 100);
	assert_int_equal(wait_ns[LAST - 11], 20);
	assert_int_equal(wait_ns[LAST], 0);

	/* A wait after 20 quiet buckets: those are empty, not stale. */
	ks_lock_trend_add(&trend, t + 21 * BUCKET, 1);
	assert_int_equal(
		ks_lock_trend_read(&trend, t + 21 * BUCKET, waits, wait_ns),
		121);
	/* An hour later, all of it is gone; older records are refused. */
	assert_int_equal(
		ks_lock_trend_read(&trend,
				   t + (21 + KS_LOCK_TREND_BUCKETS) * BUCKET,
				   NULL, NULL),
		0);
	ks_lock_trend_add(&trend, t + 200 * BUCKET + 5, 9);
	ks_lock_trend_add(&trend, t, 1000);
	/* 179 buckets back, the wait of t + 21 buckets is still in. */
	assert_int_equal(
		ks_lock_trend_read(&trend, t + 200 * BUCKET, NULL, NULL), 10);
	assert_int_equal(
		ks_lock_trend_read(&trend, t + 201 * BUCKET, NULL, NULL), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_follow_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
