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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_machinery_is_recognised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
