/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whole-process hangs on locks nobody can be named for: every thread of a
 * process blocked, without a timeout, in a futex wait that no thread of
 * the process can end (each is blocked) and no other process can (the
 * word is in memory only this process maps), with at least one of them on
 * something whose holder is unknown (a cycle of known holders is the
 * deadlock detector's).  Such a process can only be woken by a signal
 * handler or from outside (a debugger writing its memory).
 *
 * Confirmed like a deadlock: the same waits, begun at the same times, for
 * a window; then the live process says it has those threads and no more,
 * and each is still in that very futex call.  Each stall is reported once
 * while its process lives, and again only if its waits change.
 */
#ifndef KS_STALL_H
#define KS_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/table.h"
#include "model/wait_target.h"

struct ks_stall_member {
	struct ks_thread *thread;
	struct ks_wait_target target;
};

struct ks_stall {
	uint64_t id; /* stable for the same process, threads and futexes */
	struct ks_process *process;
	const struct ks_stall_member *members; /* every thread */
	size_t nr_members;
	/* When the last thread began to wait; 0 if one was already blocked
	 * when knotscope started. */
	uint64_t last_block_mono_ns;
	uint64_t confirmed_mono_ns;
};

/* What the live processes say; the agent's are in detect/live_wait.h. */
struct ks_stall_ops {
	/* Is the thread still in that very futex call? */
	bool (*still_waiting)(void *ctx, const struct ks_thread *thread);
	/* How many threads the process has now, -1 if it is gone. */
	int (*count_threads)(void *ctx, uint32_t tgid);
	/* 1: addr is in memory other processes may map, 0: private, -1:
	 * not known (taken as shared). */
	int (*shared_memory)(void *ctx, uint32_t tgid, uint64_t addr);
	void (*report)(void *ctx, const struct ks_stall *stall);
};

struct ks_stall_detector;

/* window_ns: how long the same waits must stand before they are checked. */
struct ks_stall_detector *ks_stall_detector_new(uint64_t window_ns,
						const struct ks_stall_ops *ops,
						void *ctx);
void ks_stall_detector_free(struct ks_stall_detector *detector);

void ks_stall_detector_mark_dirty(struct ks_stall_detector *detector);
bool ks_stall_detector_wants_tick(const struct ks_stall_detector *detector,
				  uint64_t now);
void ks_stall_detector_tick(struct ks_stall_detector *detector,
			    const struct ks_table *table, uint64_t now);
uint64_t
ks_stall_detector_nr_reported(const struct ks_stall_detector *detector);

#endif /* KS_STALL_H */
