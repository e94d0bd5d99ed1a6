// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/proc.h"
#include "report/report.h"
#include "run/stall_report.h"
#include "stacks/lock_guess.h"

/*
 * The signals the program itself handles: the C library installs handlers
 * for its own (thread cancellation, set*id across threads, timers) in
 * every threaded program, below the SIGRTMIN programs see: 32 and 33 for
 * glibc, 32 to 34 for musl.
 */
static int ks_program_handlers(const struct ks_process *process, uint64_t *mask)
{
	int last_own = process->libc == KS_LIBC_MUSL ? 34 : 33;

	if (ks_proc_read_caught_signals(process->tgid, mask))
		return -1;
	for (int sig = 32; sig <= last_own; sig++)
		*mask &= ~(1ull << (sig - 1));
	return 0;
}

void ks_stall_report(void *ctx, const struct ks_stall *stall)
{
	struct ks_deadlock_reporter *reporter = ctx;
	size_t n = stall->nr_members;
	struct ks_stack *stacks = calloc(n, sizeof(*stacks));
	enum ks_wait_guess *guesses = calloc(n, sizeof(*guesses));
	struct ks_stall_report report = { .stall = stall };
	uint64_t now;

	if (!stacks || !guesses) {
		ks_err("out of memory while reporting a stall\n");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ks_stall_member *m = &stall->members[i];

		ks_unwind_blocked(reporter->symbolizer, m->thread, &stacks[i]);
		guesses[i] = ks_guess_from_stack(
			&stacks[i],
			ks_wait_guess_from_words(m->thread, &m->target));
	}
	report.caught_signals_known =
		!ks_program_handlers(stall->process, &report.caught_signals);
	/* Latency runs to the report, unwinding included. */
	now = ks_now_mono_ns();
	report.stacks = stacks;
	report.guesses = guesses;
	report.confirmed_real_ns = ks_mono_to_real_ns(now);
	report.latency_ns = stall->last_block_mono_ns ?
				    (int64_t)(now - stall->last_block_mono_ns) :
				    -1;
	stall->process->stats.stalls++;
	ks_stall_write_text(stderr, &report);
	if (reporter->sink)
		ks_json_write_stall(reporter->sink, &report);
	if (reporter->telemetry)
		ks_telemetry_stall(reporter->telemetry, &report);
	if (reporter->dashboard)
		ks_dashboard_stall(reporter->dashboard, &report);
cleanup:
	free(stacks);
	free(guesses);
}
