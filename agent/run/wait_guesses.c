// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What long waits nobody is known to hold really are: a semaphore may be a
 * CPython lock, a condition variable's word may pass for a semaphore's.
 * The functions on the stack say, so each such wait's stack is unwound
 * once, while it is still blocked, a few per pass.
 */
#include <stdlib.h>

#include "detect/long_waits.h"
#include "detect/live_wait.h"
#include "run/agent.h"
#include "stacks/lock_guess.h"

/* Stacks unwound per pass; the others wait for the next. */
#define KS_GUESSES_PER_PASS 16

void ks_agent_guess_long_waits(struct ks_agent *agent, uint64_t now)
{
	const struct ks_table *table = &agent->model.table;
	struct ks_stack *stack = NULL;
	unsigned int budget = KS_GUESSES_PER_PASS;
	struct ks_thread *thread;

	for (thread = table->threads; thread && budget;
	     thread = thread->hh.next) {
		struct ks_wait_target target;

		if (!ks_long_wait_unguessed(table, thread, now) ||
		    !ks_live_still_waiting(NULL, thread))
			continue;
		if (!stack && !(stack = malloc(sizeof(*stack))))
			return;
		budget--;
		ks_unwind_blocked(agent->symbolizer, thread, stack);
		ks_wait_target_resolve(table, thread, &target);
		thread->wait.guess = (uint8_t)ks_guess_from_stack(
			stack, ks_wait_guess_from_words(thread, &target));
		thread->wait.guessed = true;
	}
	free(stack);
}
