// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "run/memory_guard.h"

static const unsigned int ks_marks[KS_NR_SHED_LEVELS] = {
	[KS_SHED_NOTHING] = 0,
	[KS_SHED_SPANS] = KS_SHED_SPANS_PERCENT,
	[KS_SHED_CACHES] = KS_SHED_CACHES_PERCENT,
};

enum ks_shed_level ks_memory_guard_update(struct ks_memory_guard *guard,
					  uint64_t resident)
{
	uint64_t percent;

	guard->resident = resident;
	if (!guard->limit)
		return guard->level;
	percent = resident * 100 / guard->limit;
	while (guard->level + 1 < KS_NR_SHED_LEVELS &&
	       percent >= ks_marks[guard->level + 1])
		guard->level++;
	while (guard->level > KS_SHED_NOTHING &&
	       percent + KS_SHED_HYSTERESIS_PERCENT < ks_marks[guard->level])
		guard->level--;
	return guard->level;
}

const char *ks_shed_level_name(enum ks_shed_level level)
{
	static const char *const names[KS_NR_SHED_LEVELS] = {
		[KS_SHED_NOTHING] = "nothing",
		[KS_SHED_SPANS] = "spans",
		[KS_SHED_CACHES] = "spans and symbol caches",
	};

	return names[level];
}
