/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finds actual deadlocks: knots in the wait-for graph (waitgraph.h), where
 * a thread waits on a lock's holder or on any of the threads that can end
 * its I/O wait, that stand unchanged for a confirmation window and that
 * the live processes confirm (each thread still in that very wait, each
 * lock still held by the same thread, each pipe or socket as it was, and
 * nobody else able to end it).  Each deadlock is reported once, and again
 * only if it changes.
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
	/*
	 * target.holder: the member it waits on next (for an I/O wait, the
	 * one of the threads that could end it that the report follows).
	 */
	struct ks_wait_target target;
};

struct ks_deadlock {
	uint64_t id; /* stable for the same threads, locks and holders */
	/* The cycle, in wait order (a knot with I/O waits: in the order of
	 * the holders followed, as far as that goes round). */
	const struct ks_deadlock_member *members;
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
	/*
	 * Reads the stack of a long wait whose thread copied none when it
	 * began (KS_WAIT_STACK_LATER): reports and spans name its site.
	 */
	void (*read_stack)(void *ctx, struct ks_thread *thread);
	/*
	 * Finds who can end thread's I/O wait among every process, not only
	 * those with threads blocked: asked for each I/O wait of a knot
	 * before its window counts.
	 */
	void (*complete)(void *ctx, const struct ks_table *table,
			 struct ks_thread *thread, uint64_t now);
	/* Is the thread still in that wait, the lock still held (the pipe
	 * or socket as it was) as target says?  Asked only when a cycle is
	 * about to be reported. */
	bool (*verify)(void *ctx, const struct ks_table *table,
		       const struct ks_thread *thread,
		       const struct ks_wait_target *target);
	void (*report)(void *ctx, const struct ks_deadlock *deadlock);
};

struct ks_detector;

/*
 * ops->report is called with report_ctx, the others, which look at the
 * live processes, with live_ctx.
 */
struct ks_detector *ks_detector_new(uint64_t confirm_ns,
				    const struct ks_detector_ops *ops,
				    void *live_ctx, void *report_ctx);
void ks_detector_free(struct ks_detector *detector);

/* A wait began or ended, a thread came or went: the graph may differ. */
void ks_detector_mark_dirty(struct ks_detector *detector);
/* Whether a tick at now could change anything. */
bool ks_detector_wants_tick(const struct ks_detector *detector, uint64_t now);
void ks_detector_tick(struct ks_detector *detector,
		      const struct ks_table *table, uint64_t now);
uint64_t ks_detector_nr_reported(const struct ks_detector *detector);

#endif /* KS_DETECTOR_H */
