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

/* std::mutex::lock() and its lock_guard are inlined into the user's code. */
static void test_cxx_and_rust_locks_are_machinery(void **state)
{
	struct ks_frame frame = { 0 };

	strcpy(frame.module, "/srv/bank");
	strcpy(frame.function, "__gthread_mutex_lock");
	strcpy(frame.file, "/usr/include/x86_64-linux-gnu/c++/12/bits/"
			   "gthr-default.h");
	assert_true(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "std::lock_guard<std::mutex>::lock_guard("
			       "std::mutex&)");
	strcpy(frame.file, "/usr/include/c++/12/bits/std_mutex.h");
	assert_true(ks_frame_in_lock_machinery(&frame));
	/* An inlined level whose name has no namespace: its header says. */
	strcpy(frame.function, "lock");
	assert_true(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "std::sys::sync::mutex::futex::Mutex::"
			       "lock_contended");
	strcpy(frame.file, "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/"
			   "library/std/src/sys/sync/mutex/futex.rs");
	assert_true(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.function, "transfer(account&, account&)");
	strcpy(frame.file, "bank.cpp");
	assert_false(ks_frame_in_lock_machinery(&frame));
	strcpy(frame.module, "/usr/lib/x86_64-linux-musl/libc.so");
	assert_true(ks_frame_in_lock_machinery(&frame));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_machinery_is_recognised),
		cmocka_unit_test(test_cxx_and_rust_locks_are_machinery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
