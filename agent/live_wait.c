// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <sys/syscall.h>

#include "live_wait.h"
#include "proc.h"
#include "scan.h"

void ks_live_refresh_wait(void *ctx, struct ks_thread *thread)
{
	struct ks_wait_begin *lock = ks_lock_wait_mut(&thread->wait);

	ks_read_lock_words(thread->tgid, lock->uaddr, lock->words,
			   &lock->flags);
	thread->wait.refreshed = true;
}

bool ks_live_verify_wait(void *ctx, const struct ks_table *table,
			 const struct ks_thread *thread,
			 const struct ks_wait_target *target)
{
	struct ks_thread probe = *thread;
	struct ks_wait_begin *lock = ks_lock_wait_mut(&probe.wait);
	struct ks_wait_target fresh;
	struct ks_proc_syscall sc;

	/*
	 * A wait interrupted by SIGSTOP or a debugger resumes through
	 * restart_syscall(), which keeps the original arguments.
	 */
	if (ks_proc_read_syscall(thread->tgid, thread->tid, &sc) ||
	    (sc.nr != SYS_futex && sc.nr != SYS_restart_syscall) ||
	    sc.args[0] != thread->wait.begin.uaddr)
		return false;
	ks_read_lock_words(thread->tgid, lock->uaddr, lock->words,
			   &lock->flags);
	ks_wait_target_resolve(table, &probe, &fresh);
	return fresh.deadlock_edge && fresh.holder == target->holder;
}
