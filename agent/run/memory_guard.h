/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's memory ceiling (--memory-limit, by default its control
 * group's limit), and what it sheds to stay under it: load is shed and
 * counted well before the ceiling, never after.
 *
 * From 75% of the ceiling, no span is made (each counted), and spans held
 * for their happens-before points go out at once without them.  From 90%,
 * the symbolizer's state of every process is dropped too, to be rebuilt
 * when next needed.  A level ends once memory is 10 points under where it
 * began.  Deadlock and inversion reports are never shed.
 */
#ifndef KS_MEMORY_GUARD_H
#define KS_MEMORY_GUARD_H

#include <stdint.h>

enum ks_shed_level {
	KS_SHED_NOTHING = 0,
	KS_SHED_SPANS,
	KS_SHED_CACHES,
	KS_NR_SHED_LEVELS,
};

struct ks_memory_guard {
	uint64_t limit; /* bytes; 0: no ceiling, nothing is shed */
	uint64_t resident; /* the latest reading */
	enum ks_shed_level level;
};

/* Percent of the ceiling where each level begins. */
#define KS_SHED_SPANS_PERCENT 75
#define KS_SHED_CACHES_PERCENT 90
#define KS_SHED_HYSTERESIS_PERCENT 10

/* Takes a reading of resident bytes; returns the level to be at. */
enum ks_shed_level ks_memory_guard_update(struct ks_memory_guard *guard,
					  uint64_t resident);

/* "nothing", "spans", "caches": for messages. */
const char *ks_shed_level_name(enum ks_shed_level level);

#endif /* KS_MEMORY_GUARD_H */
