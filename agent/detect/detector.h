/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finds actual deadlocks: cycles in the wait-for graph (thread -> lock ->
 * holding thread) that stand unchanged for a confirmation window and that
 * the live processes confirm (each thread still in that futex wait, each
 * lock still held by the same thread).  Each deadlock is reported once, and
 * again only if it changes.
 */
#ifndef KS_DETECTOR_H
#define KS_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/table.h"
#include "model/wait_target.h"

struct ks_deadlock_member {
	struct ks_thread *thread;
	struct ks_wait_target target; /* target.holder is the next member */
};

struct ks_deadlock {
	uint64_t id; /* stable for the same threads, locks and holders */
	const struct ks_deadlock_member *members; /* the cycle, in wait order */
	size_t nr_members;
	const struct ks_deadlock_member *behind; /* blocked on the cycle */
	size_t nr_behind;
	/* When the last member began to wait; 0 if one was already blocked
	 * when knotscope started. */
	uint64_t last_block_mono_ns;
	uint64_t confirmed_mono_ns;
};

struct ks_detector_ops {
	/* Re-reads the lock words of a long wait that has no holder yet. */
	void (*refresh)(void *ctx, struct ks_thread *thread);
	/* Is the thread still in that wait, the lock still held as target
	 * says?  Asked only when a cycle is about to be reported. */
	bool (*verify)(void *ctx, const struct ks_table *table,
		       const struct ks_thread *thread,
		       const struct ks_wait_target *target);
	void (*report)(void *ctx, const struct ks_deadlock *deadlock);
};

struct ks_detector;

struct ks_detector *ks_detector_new(uint64_t confirm_ns,
				    const struct ks_detector_ops *ops,
				    void *ctx);
void ks_detector_free(struct ks_detector *detector);

/* A wait began or ended, a thread came or went: the graph may differ. */
void ks_detector_mark_dirty(struct ks_detector *detector);
/* Whether a tick at now could change anything. */
bool ks_detector_wants_tick(const struct ks_detector *detector, uint64_t now);
void ks_detector_tick(struct ks_detector *detector,
		      const struct ks_table *table, uint64_t now);
uint64_t ks_detector_nr_reported(const struct ks_detector *detector);

#endif /* KS_DETECTOR_H */
