/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * No silent misses: threads blocked for long, without a timeout, on a lock
 * nobody is known to hold (a musl or glibc mutex whose owner is not
 * recorded, an rwlock's readers, a semaphore, CPython's or Rust's locks).
 * No deadlock can be reported for them, and a stall only when their whole
 * process is blocked; they are counted and listed instead.
 */
#ifndef KS_LONG_WAITS_H
#define KS_LONG_WAITS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/table.h"
#include "model/wait_target.h"

/* How long a wait must have lasted to count. */
#define KS_LONG_WAIT_NS (10 * 1000000000ull)

/*
 * Whether thread's wait has lasted KS_LONG_WAIT_NS at now, untimed, on a
 * lock with no known holder; target and guess say what it waits for.  A
 * guess its stack made (thread->wait.guessed) wins over the words'.
 */
bool ks_long_wait(const struct ks_table *table, const struct ks_thread *thread,
		  uint64_t now, struct ks_wait_target *target,
		  enum ks_wait_guess *guess);

/*
 * Whether the stack of thread's wait is worth a look for a better guess:
 * long, untimed, with no known holder, taken for a lock by its words (a
 * semaphore may be CPython's lock, or a condition variable's word), and
 * not looked at yet.  Waits the words take for nothing are left alone:
 * unwinding costs, and every idle thread pool has such waits.
 */
bool ks_long_wait_unguessed(const struct ks_table *table,
			    const struct ks_thread *thread, uint64_t now);

struct ks_long_waits {
	unsigned int count;
	uint64_t longest_ns;
};

/* Of one process, or of every watched process when process is NULL. */
void ks_long_waits_count(const struct ks_table *table,
			 const struct ks_process *process, uint64_t now,
			 struct ks_long_waits *out);

#endif /* KS_LONG_WAITS_H */
