// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "run/tick_pace.h"

void ks_tick_pace_init(struct ks_tick_pace *pace, uint64_t now_ns)
{
	pace->period_ns = KS_TICK_SLOW_NS;
	pace->window_start_ns = now_ns;
	pace->busy_ns = 0;
}

bool ks_tick_pace_update(struct ks_tick_pace *pace, uint64_t start_ns,
			 uint64_t end_ns)
{
	uint64_t was = pace->period_ns;

	pace->busy_ns += end_ns > start_ns ? end_ns - start_ns : 0;
	if (end_ns - pace->window_start_ns < KS_TICK_WINDOW_NS)
		return false;
	if (pace->busy_ns >= KS_TICK_BUSY_NS)
		pace->period_ns = KS_TICK_FAST_NS;
	else if (pace->busy_ns < KS_TICK_IDLE_NS)
		pace->period_ns = KS_TICK_SLOW_NS;
	pace->window_start_ns = end_ns;
	pace->busy_ns = 0;
	return pace->period_ns != was;
}
