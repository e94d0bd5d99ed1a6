// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The main loop's period: fast while the loop is busy, slow once idle. */
#include "unit.h"

#include "run/tick_pace.h"

#define US 1000ull
#define MS 1000000ull

/*
 * Runs the loop for a window's worth of ticks at the current period, each
 * busy for busy_per_ms of each millisecond since the one before; returns
 * how many times the period changed.
 */
static int run_window(struct ks_tick_pace *pace, uint64_t *now,
		      uint64_t busy_per_ms)
{
	uint64_t end = *now + KS_TICK_WINDOW_NS;
	int changes = 0;

	while (*now < end) {
		uint64_t period = pace->period_ns;
		uint64_t start = *now + period;

		*now = start + busy_per_ms * (period / MS);
		changes += ks_tick_pace_update(pace, start, *now);
	}
	return changes;
}

/* Ten windows at busy_per_ms: the period stays period_ns throughout. */
static void assert_stays(struct ks_tick_pace *pace, uint64_t *now,
			 uint64_t busy_per_ms, uint64_t period_ns)
{
	for (int i = 0; i < 10; i++)
		assert_int_equal(run_window(pace, now, busy_per_ms), 0);
	assert_int_equal(pace->period_ns, period_ns);
}

static void test_the_period_starts_slow(void **state)
{
	struct ks_tick_pace pace;

	ks_tick_pace_init(&pace, 0);
	assert_int_equal(pace.period_ns, KS_TICK_SLOW_NS);
}

/* 33,000 requests/s took about 1.5 ms per 20 ms: cut into four. */
static void test_a_busy_loop_ticks_fast(void **state)
{
	struct ks_tick_pace pace;
	uint64_t now = 0;

	ks_tick_pace_init(&pace, now);
	assert_int_equal(run_window(&pace, &now, 75 * US), 1);
	assert_stays(&pace, &now, 75 * US, KS_TICK_FAST_NS);
}

static void test_an_idle_loop_ticks_slow_again(void **state)
{
	struct ks_tick_pace pace;
	uint64_t now = 0;

	ks_tick_pace_init(&pace, now);
	run_window(&pace, &now, 75 * US);
	assert_int_equal(run_window(&pace, &now, 5 * US), 1);
	assert_int_equal(pace.period_ns, KS_TICK_SLOW_NS);
}

/* Between the two lines, either period stays: no switching. */
static void test_a_flow_near_the_line_keeps_its_period(void **state)
{
	struct ks_tick_pace pace;
	uint64_t now = 0;

	ks_tick_pace_init(&pace, now);
	assert_stays(&pace, &now, 20 * US, KS_TICK_SLOW_NS);
	run_window(&pace, &now, 75 * US);
	assert_stays(&pace, &now, 20 * US, KS_TICK_FAST_NS);
}

/*
 * A tick that left records over is followed at once by one with little
 * to do: the window, not that tick, decides.
 */
static void test_one_short_tick_keeps_it_fast(void **state)
{
	struct ks_tick_pace pace;
	uint64_t now = 0;

	ks_tick_pace_init(&pace, now);
	run_window(&pace, &now, 75 * US);
	assert_false(ks_tick_pace_update(&pace, now, now + 10 * MS));
	now += 10 * MS;
	assert_false(ks_tick_pace_update(&pace, now, now + 10 * US));
	now += 10 * MS;
	assert_false(ks_tick_pace_update(&pace, now, now + 10 * US));
	assert_int_equal(pace.period_ns, KS_TICK_FAST_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_period_starts_slow),
		cmocka_unit_test(test_a_busy_loop_ticks_fast),
		cmocka_unit_test(test_an_idle_loop_ticks_slow_again),
		cmocka_unit_test(test_a_flow_near_the_line_keeps_its_period),
		cmocka_unit_test(test_one_short_tick_keeps_it_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
