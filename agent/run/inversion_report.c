// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "base/clock.h"
#include "base/log.h"
#include "report/report.h"
#include "run/inversion_report.h"

static void ks_unwind_acquisition(struct ks_symbolizer *symbolizer,
				  const struct ks_acquisition *acq,
				  struct ks_stack *stack)
{
	struct ks_stack_source source = {
		.regs = acq->regs,
		.snapshot = acq->stack,
		.snapshot_len = acq->stack_len,
		/* Long past: the thread's stack holds other frames now. */
		.live = false,
	};

	ks_symbolizer_unwind(symbolizer, acq->tgid, acq->tid, &source,
			     KS_MAX_FRAMES, stack);
}

void ks_inversion_report(void *ctx, const struct ks_inversion *found)
{
	struct ks_inversion_reporter *reporter = ctx;
	struct ks_process *process =
		ks_table_process(reporter->table, found->tgid);
	size_t n = found->nr_orders;
	struct ks_stack *stacks = calloc(2 * n, sizeof(*stacks));
	const char **comms = calloc(n, sizeof(*comms));
	struct ks_inversion_report report = {
		.found = found,
		.process_comm = process ? process->comm : "?",
		.thread_comms = comms,
		.first_stacks = stacks,
		.second_stacks = stacks + n,
		.real_ns = ks_now_real_ns(),
	};

	if (!stacks || !comms) {
		ks_err("out of memory while reporting a lock-order inversion\n");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ks_lock_order *order = &found->orders[i];
		struct ks_thread *thread =
			ks_table_thread(reporter->table, order->second->tid);

		/* A thread gone since: its process's name will do. */
		comms[i] = thread ? thread->comm : report.process_comm;
		ks_unwind_acquisition(reporter->symbolizer, order->first,
				      &stacks[i]);
		ks_unwind_acquisition(reporter->symbolizer, order->second,
				      &stacks[n + i]);
	}
	ks_inversion_write_text(stderr, &report);
	if (reporter->sink)
		ks_json_write_inversion(reporter->sink, &report);
	if (reporter->telemetry && process)
		ks_telemetry_inversion(reporter->telemetry, process, &report);
cleanup:
	free(stacks);
	free(comms);
}
