// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "stacks/lock_guess.h"

struct ks_guess_rule {
	const char *in_name; /* a part of a function's demangled name */
	enum ks_wait_guess guess;
};

/* A runtime's lock wraps a C library wait: the runtime's name wins. */
static const struct ks_guess_rule runtime_rules[] = {
	{ "PyThread_acquire_lock", KS_GUESS_CPYTHON_LOCK },
	{ "Mutex::lock_contended", KS_GUESS_RUST_MUTEX },
	{ "RwLock::read_contended", KS_GUESS_RUST_RWLOCK },
	{ "RwLock::write_contended", KS_GUESS_RUST_RWLOCK },
	{ "Condvar::wait", KS_GUESS_CONDVAR },
	{ "condition_variable::wait", KS_GUESS_CONDVAR },
};

/* glibc's and musl's entry points, the innermost first. */
static const struct ks_guess_rule libc_rules[] = {
	{ "pthread_cond_", KS_GUESS_CONDVAR },
	{ "pthread_barrier_wait", KS_GUESS_BARRIER },
	{ "pthread_rwlock_", KS_GUESS_RWLOCK },
	{ "sem_wait", KS_GUESS_SEMAPHORE },
	{ "sem_timedwait", KS_GUESS_SEMAPHORE },
	{ "sem_clockwait", KS_GUESS_SEMAPHORE },
	{ "pthread_mutex_", KS_GUESS_MUTEX },
	{ "pthread_join", KS_GUESS_THREAD_EXIT },
	{ "pthread_clockjoin", KS_GUESS_THREAD_EXIT },
	{ "pthread_timedjoin", KS_GUESS_THREAD_EXIT },
};

static enum ks_wait_guess ks_match(const struct ks_stack *stack,
				   const struct ks_guess_rule *rules,
				   size_t nr_rules)
{
	for (unsigned int i = 0; i < stack->nr; i++)
		for (size_t r = 0; r < nr_rules; r++)
			if (strstr(stack->frames[i].function, rules[r].in_name))
				return rules[r].guess;
	return KS_GUESS_UNKNOWN;
}

enum ks_wait_guess ks_guess_from_stack(const struct ks_stack *stack,
				       enum ks_wait_guess from_words)
{
	enum ks_wait_guess guess =
		ks_match(stack, runtime_rules,
			 sizeof(runtime_rules) / sizeof(runtime_rules[0]));

	if (guess == KS_GUESS_UNKNOWN)
		guess = ks_match(stack, libc_rules,
				 sizeof(libc_rules) / sizeof(libc_rules[0]));
	return guess == KS_GUESS_UNKNOWN ? from_words : guess;
}
