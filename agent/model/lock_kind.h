/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kinds of lock a wait can be for: what wait_target.c infers from a
 * futex wait or a kernel lock, and what the table's per-process statistics
 * are kept by.
 */
#ifndef KS_LOCK_KIND_H
#define KS_LOCK_KIND_H

enum ks_lock_kind {
	KS_LOCK_NONE = 0, /* condvar, semaphore, barrier, unknown */
	KS_LOCK_MUTEX, /* pthread_mutex_t: normal, recursive, errorcheck... */
	KS_LOCK_ROBUST_MUTEX, /* ... with PTHREAD_MUTEX_ROBUST */
	KS_LOCK_PI_MUTEX, /* ... with PTHREAD_PRIO_INHERIT */
	KS_LOCK_THREAD_EXIT, /* pthread_join: the holder is the joined thread */
	KS_LOCK_RWLOCK_WRITE, /* pthread_rwlock_t, to write: held by a writer
				 (named) or by readers (counted) */
	KS_LOCK_RWLOCK_READ, /* pthread_rwlock_t, to read: held by a writer */
	KS_LOCK_KERNEL_MUTEX, /* struct mutex, in a system call */
	KS_LOCK_KERNEL_RWSEM, /* struct rw_semaphore */
	KS_LOCK_KERNEL_OTHER, /* rt_mutex, semaphore: no owner recorded */
};

#define KS_NR_LOCK_KINDS (KS_LOCK_KERNEL_OTHER + 1)

#endif /* KS_LOCK_KIND_H */
