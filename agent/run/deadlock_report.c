// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/proc.h"
#include "report/report.h"
#include "run/deadlock_report.h"

static const struct ks_thread *ks_nth_thread(const struct ks_deadlock *deadlock,
					     size_t i)
{
	return i < deadlock->nr_members ?
		       deadlock->members[i].thread :
		       deadlock->behind[i - deadlock->nr_members].thread;
}

static void ks_count_in_processes(const struct ks_deadlock *deadlock)
{
	for (size_t i = 0; i < deadlock->nr_members; i++) {
		struct ks_process *process =
			deadlock->members[i].thread->process;
		bool counted = false;

		for (size_t j = 0; j < i; j++)
			counted |=
				deadlock->members[j].thread->process == process;
		if (!counted)
			process->stats.deadlocks++;
	}
}

void ks_unwind_blocked(struct ks_symbolizer *symbolizer,
		       const struct ks_thread *t, struct ks_stack *stack)
{
	__u64 regs[KS_NR_USER_REGS] = { 0 };
	struct ks_stack_source source = {
		.regs = t->wait.begin.regs,
		.snapshot = t->wait.begin.stack,
		.snapshot_len = t->wait.begin.stack_len,
		/* Confirmed just now: still blocked in that wait. */
		.live = true,
	};
	bool in_io = t->io.target && !t->wait.active && !t->klock.active;
	struct ks_proc_syscall sc;

	/*
	 * Blocked on a kernel lock inside some system call: that call's
	 * frame, not the last futex wait's, is where it is.  A thread in an
	 * I/O wait was seen in its call with that frame, and has not run
	 * since.
	 */
	if (in_io)
		sc = t->io.sc;
	else if (t->klock.active && ks_proc_read_syscall(t->tgid, t->tid, &sc))
		return;
	if (in_io || t->klock.active) {
		regs[KS_REG_IP] = sc.pc;
		regs[KS_REG_SP] = sc.sp;
		source.regs = regs;
		source.snapshot_len = 0;
	}
	ks_symbolizer_unwind(symbolizer, t->tgid, t->tid, &source,
			     KS_MAX_FRAMES, stack);
}

void ks_deadlock_report(void *ctx, const struct ks_deadlock *deadlock)
{
	struct ks_deadlock_reporter *reporter = ctx;
	size_t nr = deadlock->nr_members + deadlock->nr_behind;
	struct ks_stack *stacks = calloc(nr, sizeof(*stacks));
	struct ks_report report = { .deadlock = deadlock };
	uint64_t now;

	if (!stacks) {
		ks_err("out of memory while reporting a deadlock\n");
		return;
	}
	for (size_t i = 0; i < nr; i++)
		ks_unwind_blocked(reporter->symbolizer,
				  ks_nth_thread(deadlock, i), &stacks[i]);
	/* Latency runs to the report, unwinding included. */
	now = ks_now_mono_ns();
	report.member_stacks = stacks;
	report.behind_stacks = stacks + deadlock->nr_members;
	report.confirmed_real_ns = ks_mono_to_real_ns(now);
	report.latency_ns =
		deadlock->last_block_mono_ns ?
			(int64_t)(now - deadlock->last_block_mono_ns) :
			-1;
	/* One trace for every output to name. */
	if (reporter->telemetry) {
		ks_trace_id_new(report.trace_id);
		report.traced = true;
	}
	ks_count_in_processes(deadlock);
	ks_report_write_text(stderr, &report);
	if (reporter->sink)
		ks_json_write_deadlock(reporter->sink, &report);
	if (reporter->telemetry)
		ks_telemetry_deadlock(reporter->telemetry, &report);
	if (reporter->dashboard)
		ks_dashboard_deadlock(reporter->dashboard, &report);
	free(stacks);
}
