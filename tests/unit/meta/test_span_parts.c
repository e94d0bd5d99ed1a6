// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What spans are made of: resources, wait sites, ids. */
#include "unit.h"

#include "base/trace_ids.h"
#include "meta/process_meta.h"
#include "stacks/wait_site.h"

static void test_environment_lookup(void **state)
{
	static const char block[] = "PATH=/bin\0OTEL_SERVICE_NAME=checkout\0"
				    "OTEL_SERVICE_NAME_X=no\0EMPTY=\0";

	assert_string_equal(
		ks_environ_get(block, sizeof(block) - 1, "OTEL_SERVICE_NAME"),
		"checkout");
	assert_string_equal(ks_environ_get(block, sizeof(block) - 1, "EMPTY"),
			    "");
	assert_null(ks_environ_get(block, sizeof(block) - 1, "OTEL"));
	assert_null(ks_environ_get(block, sizeof(block) - 1, "MISSING"));
}

static void test_lock_machinery_is_recognised(void **state)
{
	struct ks_frame frame = { 0 };

	strcpy(frame.module, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	strcpy(frame.function, "anything");
	assert_true(ks_frame_in_lock_machinery(&frame));
	/* Static binaries: glibc's functions live in the program. */
	strcpy(frame.module, "/srv/app-static");
	strcpy(frame.function, "__pthread_mutex_lock");
	assert_true(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "__futex_abstimed_wait_common");
	assert_true(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "transfer_funds");
	assert_false(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "");
	assert_false(ks_frame_in_lock_machinery(&frame));
}

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
		cmocka_unit_test(test_environment_lookup),
		cmocka_unit_test(test_lock_machinery_is_recognised),
		cmocka_unit_test(test_ids_are_random_and_never_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
