// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include <sys/syscall.h>

#include <stdlib.h>

#include "base/proc.h"
#include "detect/live_wait.h"
#include "model/io_parties.h"
#include "model/io_sweep.h"
#include "model/scan.h"

/* futex_wait(2), the futex2 call, numbered alike on every architecture. */
#define KS_SYS_NR_FUTEX_WAIT 455

void ks_live_refresh_wait(void *ctx, struct ks_thread *thread)
{
	struct ks_wait_begin *lock = ks_lock_wait_mut(&thread->wait);

	ks_read_lock_words(thread->tgid, lock);
	thread->wait.refreshed = true;
}

void ks_live_read_stack(void *ctx, struct ks_thread *thread)
{
	struct ks_wait_begin *begin = &thread->wait.begin;
	struct ks_proc_syscall sc;

	thread->wait.stack_sought = true;
	ks_read_wait_stack(thread, begin);
	/* Read while the thread stayed in that call, or it is another's. */
	if (ks_proc_read_syscall(thread->tgid, thread->tid, &sc) ||
	    sc.sp != begin->regs[KS_REG_SP] || sc.args[0] != begin->uaddr)
		begin->stack_len = 0;
}

/*
 * The kernel does not show who holds one of its locks; what the process
 * shows is where the thread sleeps, which must be a sleeping lock's slow
 * path (__mutex_lock, rwsem_down_*_slowpath, rt_mutex_*, down*).
 */
static bool ks_live_verify_klock(const struct ks_thread *thread)
{
	static const char *const sleepers[] = { "mutex", "rwsem", "down" };
	char wchan[128];

	if (ks_proc_read_wchan(thread->tgid, thread->tid, wchan, sizeof(wchan)))
		return false;
	for (size_t i = 0; i < sizeof(sleepers) / sizeof(sleepers[0]); i++)
		if (strstr(wchan, sleepers[i]))
			return true;
	return false;
}

bool ks_live_still_waiting(void *ctx, const struct ks_thread *thread)
{
	struct ks_proc_syscall sc;

	/*
	 * A wait interrupted by SIGSTOP or a debugger resumes through
	 * restart_syscall(), which keeps the original arguments.
	 */
	return !ks_proc_read_syscall(thread->tgid, thread->tid, &sc) &&
	       (sc.nr == SYS_futex || sc.nr == SYS_restart_syscall ||
		sc.nr == KS_SYS_NR_FUTEX_WAIT) &&
	       sc.args[0] == thread->wait.begin.uaddr;
}

int ks_live_count_threads(void *ctx, uint32_t tgid)
{
	return ks_proc_count_threads(tgid);
}

int ks_live_shared_memory(void *ctx, uint32_t tgid, uint64_t addr)
{
	return ks_proc_mapping_shared(tgid, addr);
}

void ks_live_complete_io(void *ctx, const struct ks_table *table,
			 struct ks_thread *thread, uint64_t now)
{
	ks_io_sweep_complete(ctx, table, thread, now);
}

/* Whether searching every process now finds the same parties. */
static bool ks_same_parties_now(const struct ks_table *table,
				const struct ks_thread *thread)
{
	const struct ks_io_target *was = thread->io.target;
	struct ks_io_target now = *was;
	struct ks_thread probe = *thread;
	struct ks_thread *waiters[] = { &probe };
	bool same;

	now.parties = NULL;
	now.nr_parties = 0;
	probe.io.target = &now;
	if (ks_io_parties_find(table, waiters, 1, NULL, 0, true, 0))
		return false;
	same = now.nr_parties == was->nr_parties &&
	       !memcmp(now.parties, was->parties,
		       now.nr_parties * sizeof(*now.parties));
	free(now.parties);
	return same;
}

struct ks_known_threads {
	const struct ks_table *table;
	uint32_t tgid;
	bool all_known;
};

static int ks_check_known(uint32_t tid, void *ctx)
{
	struct ks_known_threads *check = ctx;
	const struct ks_thread *thread = ks_table_thread(check->table, tid);

	if (!thread || thread->tgid != check->tgid)
		check->all_known = false;
	return 0;
}

/*
 * Whether every thread of each party process that any of its threads can
 * stand for is one the agent knows: edges go to the threads it knows, and
 * one it missed (a record lost) could be running and end the wait.
 */
static bool ks_parties_all_known(const struct ks_table *table,
				 const struct ks_io_target *io)
{
	for (uint32_t i = 0; i < io->nr_parties; i++) {
		struct ks_known_threads check = {
			.table = table,
			.tgid = io->parties[i].tgid,
			.all_known = true,
		};

		if (io->parties[i].tid)
			continue;
		if (ks_proc_for_each_thread(check.tgid, ks_check_known,
					    &check) ||
		    !check.all_known)
			return false;
	}
	return true;
}

static bool ks_live_verify_io(struct ks_io_sweep *sweep,
			      const struct ks_table *table,
			      const struct ks_thread *thread)
{
	const struct ks_thread_io *io = &thread->io;
	struct ks_proc_progress progress;
	struct ks_proc_syscall sc;
	struct ks_io_call call;

	/* The same call, not one made again: the thread has not run. */
	if (ks_proc_read_syscall(thread->tgid, thread->tid, &sc) ||
	    memcmp(&sc, &io->sc, sizeof(sc)) ||
	    ks_proc_read_progress(thread->tgid, thread->tid, &progress) ||
	    memcmp(&progress, &io->progress, sizeof(progress)) ||
	    !ks_io_call_of(&sc, &call))
		return false;
	return ks_io_target_unchanged(ks_io_sweep_diag(sweep), thread->tgid,
				      &call, io->target) &&
	       ks_same_parties_now(table, thread) &&
	       ks_parties_all_known(table, io->target);
}

bool ks_live_verify_wait(void *ctx, const struct ks_table *table,
			 const struct ks_thread *thread,
			 const struct ks_wait_target *target)
{
	struct ks_thread probe = *thread;
	struct ks_wait_begin *lock = ks_lock_wait_mut(&probe.wait);
	struct ks_wait_target fresh;

	if (target->io)
		return ks_live_verify_io(ctx, table, thread);
	if (ks_lock_kind_in_kernel(target->kind))
		return ks_live_verify_klock(thread);
	if (!ks_live_still_waiting(ctx, thread))
		return false;
	ks_read_lock_words(thread->tgid, lock);
	ks_wait_target_resolve(table, &probe, &fresh);
	return fresh.deadlock_edge && fresh.holder == target->holder;
}
