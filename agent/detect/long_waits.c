// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "detect/long_waits.h"

/* Blocked this long, untimed, in a futex wait nobody is known to hold. */
static bool ks_long_unheld(const struct ks_table *table,
			   const struct ks_thread *thread, uint64_t now,
			   struct ks_wait_target *target)
{
	const struct ks_thread_wait *wait = &thread->wait;

	if (!wait->active || thread->klock.active ||
	    now < wait->begin.hdr.ts_ns + KS_LONG_WAIT_NS)
		return false;
	ks_wait_target_resolve(table, thread, target);
	return !target->timed && !target->holder;
}

bool ks_long_wait(const struct ks_table *table, const struct ks_thread *thread,
		  uint64_t now, struct ks_wait_target *target,
		  enum ks_wait_guess *guess)
{
	if (!ks_long_unheld(table, thread, now, target))
		return false;
	*guess = thread->wait.guessed ?
			 (enum ks_wait_guess)thread->wait.guess :
			 ks_wait_guess_from_words(thread, target);
	return ks_wait_guess_is_lock(*guess);
}

bool ks_long_wait_unguessed(const struct ks_table *table,
			    const struct ks_thread *thread, uint64_t now)
{
	struct ks_wait_target target;

	return !thread->wait.guessed &&
	       ks_long_unheld(table, thread, now, &target) &&
	       ks_wait_guess_is_lock(ks_wait_guess_from_words(thread, &target));
}

static void ks_count_process(const struct ks_table *table,
			     const struct ks_process *process, uint64_t now,
			     struct ks_long_waits *out)
{
	const struct ks_thread *thread;

	DL_FOREACH(process->threads, thread) {
		struct ks_wait_target target;
		enum ks_wait_guess guess;
		uint64_t waited;

		if (!ks_long_wait(table, thread, now, &target, &guess))
			continue;
		waited = now - thread->wait.begin.hdr.ts_ns;
		out->count++;
		if (waited > out->longest_ns)
			out->longest_ns = waited;
	}
}

void ks_long_waits_count(const struct ks_table *table,
			 const struct ks_process *process, uint64_t now,
			 struct ks_long_waits *out)
{
	out->count = 0;
	out->longest_ns = 0;
	if (process) {
		ks_count_process(table, process, now, out);
		return;
	}
	for (process = table->processes; process; process = process->hh.next)
		ks_count_process(table, process, now, out);
}
