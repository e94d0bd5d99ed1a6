// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where a wait was asked for: outside the lock machinery. */
#include "unit.h"

#include "stacks/wait_site.h"

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

static void test_waits_are_named_after_the_call(void **state)
{
	assert_int_equal(ks_wait_api_of("__pthread_mutex_lock"),
			 KS_WAIT_API_MUTEX);
	assert_int_equal(ks_wait_api_of("__lll_lock_wait"), KS_WAIT_API_MUTEX);
	assert_int_equal(ks_wait_api_of("pthread_cond_wait@@GLIBC_2.3.2"),
			 KS_WAIT_API_CONDITION);
	assert_int_equal(ks_wait_api_of("__pthread_clockjoin_ex"),
			 KS_WAIT_API_JOIN);
	assert_int_equal(ks_wait_api_of("__new_sem_wait_slow64"),
			 KS_WAIT_API_SEMAPHORE);
	assert_int_equal(ks_wait_api_of("futex_wait"), KS_WAIT_API_UNKNOWN);
	/*
	 * The same site, whether the lock words named a holder or not:
	 * one name (the issue: "futex" for the same call site otherwise).
	 */
	assert_string_equal(ks_wait_what(KS_WAIT_API_MUTEX, KS_LOCK_NONE),
			    "mutex");
	assert_string_equal(ks_wait_what(KS_WAIT_API_MUTEX, KS_LOCK_MUTEX),
			    "mutex");
	/* Without symbols, what the words showed; mutex flavours alike. */
	assert_string_equal(
		ks_wait_what(KS_WAIT_API_UNKNOWN, KS_LOCK_ROBUST_MUTEX),
		"mutex");
	assert_string_equal(
		ks_wait_what(KS_WAIT_API_UNKNOWN, KS_LOCK_THREAD_EXIT),
		"thread-exit");
	assert_string_equal(ks_wait_what(KS_WAIT_API_UNKNOWN, KS_LOCK_NONE),
			    "futex");
	assert_string_equal(ks_wait_what(KS_WAIT_API_CONDITION, KS_LOCK_NONE),
			    "condition");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_machinery_is_recognised),
		cmocka_unit_test(test_waits_are_named_after_the_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
