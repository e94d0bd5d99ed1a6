// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a wait is, from the function names on its stack. */
#include "unit.h"

#include "stacks/lock_guess.h"

static void stack_of(struct ks_stack *stack, const char *const *functions)
{
	memset(stack, 0, sizeof(*stack));
	for (; *functions; functions++)
		strcpy(stack->frames[stack->nr++].function, *functions);
}

static void test_the_runtime_wins_over_the_c_library(void **state)
{
	static const char *const cpython[] = {
		"__futex_abstimed_wait_common",
		"__new_sem_wait_slow64.constprop.0",
		"PyThread_acquire_lock_timed", "lock_PyThread_acquire_lock",
		NULL
	};
	static const char *const rust[] = {
		"syscall",
		"std::sys::sync::mutex::futex::Mutex::lock_contended",
		"rust_locks::take", NULL
	};
	struct ks_stack stack;

	stack_of(&stack, cpython);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_SEMAPHORE),
			 KS_GUESS_CPYTHON_LOCK);
	stack_of(&stack, rust);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_RUST_MUTEX),
			 KS_GUESS_RUST_MUTEX);
}

static void test_the_c_library_names_its_waits(void **state)
{
	static const char *const cond[] = { "__futex_abstimed_wait_common",
					    "___pthread_cond_wait",
					    "worker_loop", NULL };
	static const char *const sem[] = { "__new_sem_wait_slow64.constprop.0",
					   "wait_for", NULL };
	static const char *const barrier[] = { "pthread_barrier_wait", "main",
					       NULL };
	struct ks_stack stack;

	/* A condition variable's words can pass for a semaphore's. */
	stack_of(&stack, cond);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_SEMAPHORE),
			 KS_GUESS_CONDVAR);
	stack_of(&stack, sem);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_UNKNOWN),
			 KS_GUESS_SEMAPHORE);
	stack_of(&stack, barrier);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_UNKNOWN),
			 KS_GUESS_BARRIER);
}

static void test_a_stack_that_says_nothing_keeps_the_words_guess(void **state)
{
	static const char *const stripped[] = { "", "", NULL };
	struct ks_stack stack;

	stack_of(&stack, stripped);
	assert_int_equal(ks_guess_from_stack(&stack, KS_GUESS_RUST_MUTEX),
			 KS_GUESS_RUST_MUTEX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_runtime_wins_over_the_c_library),
		cmocka_unit_test(test_the_c_library_names_its_waits),
		cmocka_unit_test(
			test_a_stack_that_says_nothing_keeps_the_words_guess),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
