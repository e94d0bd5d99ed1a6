/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a blocked thread waits for, and which thread holds it.
 *
 * The kernel only sees an address and a few numbers.  Which futex waits are
 * lock waits with a known holder is inferred from glibc's layouts, and every
 * inference is checked against the live thread table, because condition
 * variables, semaphores and other futex users keep other things at the same
 * offsets.  A wrong holder would be a false deadlock: when unsure, there is
 * no holder.
 */
#ifndef KS_WAIT_TARGET_H
#define KS_WAIT_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

enum ks_lock_kind {
	KS_LOCK_NONE = 0, /* condvar, semaphore, barrier, unknown */
	KS_LOCK_MUTEX, /* pthread_mutex_t: normal, recursive, errorcheck... */
	KS_LOCK_ROBUST_MUTEX, /* ... with PTHREAD_MUTEX_ROBUST */
	KS_LOCK_PI_MUTEX, /* ... with PTHREAD_PRIO_INHERIT */
	KS_LOCK_THREAD_EXIT, /* pthread_join: the holder is the joined thread */
};

_Static_assert(KS_LOCK_THREAD_EXIT + 1 == KS_NR_LOCK_KINDS,
	       "per-kind statistics in table.h");

struct ks_wait_target {
	enum ks_lock_kind kind;
	uint64_t lock_addr; /* the mutex, or the joined thread's tid word */
	uint32_t holder_ns_tid; /* as found in memory, 0 if none */
	struct ks_thread *holder; /* that thread, validated, or NULL */
	uint32_t mutex_kind; /* glibc __kind when read, else UINT32_MAX */
	bool timed;
	/* Untimed, with a validated holder: can be part of a deadlock. */
	bool deadlock_edge;
};

/*
 * Resolves what waiter waits for, from the lock words in its wait record
 * (ks_lock_wait()): as the kernel captured them, or as re-read since.
 */
void ks_wait_target_resolve(const struct ks_table *table,
			    const struct ks_thread *waiter,
			    struct ks_wait_target *out);

const char *ks_lock_kind_name(enum ks_lock_kind kind);
/* "normal", "recursive", "errorcheck" or "adaptive", plus flags. */
void ks_mutex_kind_describe(uint32_t mutex_kind, char *buf, unsigned long size);

#endif /* KS_WAIT_TARGET_H */
