// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Trace and span ids. */
#include "unit.h"

#include "base/trace_ids.h"

static void test_ids_are_random_and_never_zero(void **state)
{
	uint8_t a[KS_TRACE_ID_LEN], b[KS_TRACE_ID_LEN];
	static const uint8_t zero[KS_TRACE_ID_LEN];

	for (int i = 0; i < 1000; i++) {
		ks_trace_id_new(a);
		ks_trace_id_new(b);
		assert_memory_not_equal(a, zero, sizeof(a));
		assert_memory_not_equal(a, b, sizeof(a));
		ks_span_id_new(a);
		assert_memory_not_equal(a, zero, KS_SPAN_ID_LEN);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_are_random_and_never_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
