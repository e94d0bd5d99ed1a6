/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the live process says about a thread's wait, read from
 * /proc/PID/task/TID/syscall, the process's memory, its open files and the
 * kernel's socket tables: the detector's view of the world, checked
 * against the world.  ctx is the I/O sweep (model/io_sweep.h).
 */
#ifndef KS_LIVE_WAIT_H
#define KS_LIVE_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "model/table.h"
#include "model/wait_target.h"

/* Reads the lock words of the thread's wait again, from the process. */
void ks_live_refresh_wait(void *ctx, struct ks_thread *thread);
/* Reads the stack of the thread's wait from the process, if it is still
 * in that call; stack_len stays 0 otherwise. */
void ks_live_read_stack(void *ctx, struct ks_thread *thread);

/* True when the thread is still inside that very futex call. */
bool ks_live_still_waiting(void *ctx, const struct ks_thread *thread);
/* The process's threads now, -1 when it is gone: ks_stall_ops. */
int ks_live_count_threads(void *ctx, uint32_t tgid);
/* Whether addr is in memory other processes may map: ks_stall_ops. */
int ks_live_shared_memory(void *ctx, uint32_t tgid, uint64_t addr);
/* Finds who can end thread's I/O wait among every process. */
void ks_live_complete_io(void *ctx, const struct ks_table *table,
			 struct ks_thread *thread, uint64_t now);

/*
 * True when the thread is still inside that very futex() call and the
 * lock, read just now, is still held by target->holder; for an I/O wait,
 * when it is still in that very call and has not run since it was first
 * seen in it, the pipe or socket is as it was (a reader's source empty, a
 * writer's bytes not taken), and searching every process now finds the
 * same threads able to end it, each of whose processes has no thread the
 * agent does not know.
 */
bool ks_live_verify_wait(void *ctx, const struct ks_table *table,
			 const struct ks_thread *thread,
			 const struct ks_wait_target *target);

#endif /* KS_LIVE_WAIT_H */
