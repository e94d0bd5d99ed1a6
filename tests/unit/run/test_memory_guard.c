// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What is shed at which share of the memory ceiling, and when it ends. */
#include "unit.h"

#include "run/memory_guard.h"

#define MIB (1024ull * 1024)

static void test_levels_begin_at_their_marks(void **state)
{
	struct ks_memory_guard guard = { .limit = 100 * MIB };

	assert_int_equal(ks_memory_guard_update(&guard, 74 * MIB),
			 KS_SHED_NOTHING);
	assert_int_equal(ks_memory_guard_update(&guard, 75 * MIB),
			 KS_SHED_SPANS);
	assert_int_equal(ks_memory_guard_update(&guard, 90 * MIB),
			 KS_SHED_CACHES);
	assert_int_equal(guard.resident, 90 * MIB);
}

static void test_a_jump_goes_straight_to_the_top(void **state)
{
	struct ks_memory_guard guard = { .limit = 100 * MIB };

	assert_int_equal(ks_memory_guard_update(&guard, 99 * MIB),
			 KS_SHED_CACHES);
}

/* A level ends 10 points under its mark: no flapping at the line. */
static void test_levels_end_under_their_marks(void **state)
{
	struct ks_memory_guard guard = { .limit = 100 * MIB };

	ks_memory_guard_update(&guard, 95 * MIB);
	assert_int_equal(ks_memory_guard_update(&guard, 85 * MIB),
			 KS_SHED_CACHES);
	assert_int_equal(ks_memory_guard_update(&guard, 79 * MIB),
			 KS_SHED_SPANS);
	assert_int_equal(ks_memory_guard_update(&guard, 70 * MIB),
			 KS_SHED_SPANS);
	assert_int_equal(ks_memory_guard_update(&guard, 64 * MIB),
			 KS_SHED_NOTHING);
}

static void test_without_a_ceiling_nothing_is_shed(void **state)
{
	struct ks_memory_guard guard = { 0 };

	assert_int_equal(ks_memory_guard_update(&guard, 1ull << 40),
			 KS_SHED_NOTHING);
	assert_int_equal(guard.resident, 1ull << 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels_begin_at_their_marks),
		cmocka_unit_test(test_a_jump_goes_straight_to_the_top),
		cmocka_unit_test(test_levels_end_under_their_marks),
		cmocka_unit_test(test_without_a_ceiling_nothing_is_shed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
