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

#include "model/lock_kind.h"
#include "model/table.h"

struct ks_wait_target {
	enum ks_lock_kind kind;
	uint64_t lock_addr; /* the mutex, or the joined thread's tid word */
	uint32_t holder_ns_tid; /* as found in memory, 0 if none */
	struct ks_thread *holder; /* that thread, validated, or NULL */
	uint32_t mutex_kind; /* glibc __kind when read, else UINT32_MAX */
	/* An rwlock the thread waits to write while readers hold it: how
	 * many (glibc counts readers, it does not name them); else 0. */
	uint32_t readers;
	bool timed;
	/*
	 * An I/O wait (a pipe, a socket, a child): what it is, and who can
	 * end it, any one of a set (io->parties).  holder is then the one
	 * a deadlock's report follows, NULL until one is chosen.
	 */
	const struct ks_io_target *io;
	/* Untimed, with a validated holder (or parties): can be part of a
	 * deadlock. */
	bool deadlock_edge;
};

/*
 * Resolves what waiter waits for: the kernel lock it is blocked on if any,
 * else its futex wait, from the lock words in its wait record
 * (ks_lock_wait()), as the kernel captured them or as re-read since, else
 * the lasting I/O wait the sweep found (io_sweep.h).
 */
void ks_wait_target_resolve(const struct ks_table *table,
			    const struct ks_thread *waiter,
			    struct ks_wait_target *out);

/*
 * What a futex wait most likely is, for waits nobody is known to hold: a
 * guess from the words (here) or from the functions on the stack
 * (stacks/lock_guess.h), which reports say is a guess.
 */
enum ks_wait_guess {
	KS_GUESS_UNKNOWN = 0,
	KS_GUESS_MUTEX, /* a pthread mutex, of the process's C library */
	KS_GUESS_RWLOCK, /* a pthread rwlock */
	KS_GUESS_SEMAPHORE, /* a sem_t */
	KS_GUESS_CPYTHON_LOCK, /* CPython's threading.Lock: a sem_t */
	KS_GUESS_RUST_MUTEX, /* Rust's std::sync::Mutex: a 0/1/2 word */
	KS_GUESS_RUST_RWLOCK, /* Rust's std::sync::RwLock */
	KS_GUESS_CONDVAR, /* a condition variable: waits for a signal */
	KS_GUESS_BARRIER, /* a barrier: waits for the others to arrive */
	KS_GUESS_THREAD_EXIT, /* a join: waits for a thread to exit */
};

/* From the words and op of waiter's wait, target being what it resolved to. */
enum ks_wait_guess
ks_wait_guess_from_words(const struct ks_thread *waiter,
			 const struct ks_wait_target *target);
/* "sem_t", "cpython-lock", "rust-mutex", "musl-mutex", "condvar", ... */
const char *ks_wait_guess_name(enum ks_wait_guess guess, enum ks_libc libc);
/* A lock somebody holds (not a signal, a barrier or a join awaited). */
bool ks_wait_guess_is_lock(enum ks_wait_guess guess);

const char *ks_lock_kind_name(enum ks_lock_kind kind);
/*
 * What a wait is for, in a span's name: every user mutex flavour is a
 * "mutex" (knotscope.lock.kind tells which), else the kind's own name.
 */
const char *ks_lock_kind_family(enum ks_lock_kind kind);
bool ks_lock_kind_in_kernel(enum ks_lock_kind kind);
/* The kind of kernel lock a contention_begin's KS_KLOCK_* flags name. */
enum ks_lock_kind ks_klock_kind(uint32_t flags);

/*
 * The lock's address as reports show it: "0x..." in the process, or for a
 * kernel lock "k:" and a keyed hash of its address.  Kernel addresses would
 * give away the kernel's layout (KASLR) to anyone who reads the telemetry;
 * the key is random per agent run, so ids are stable only within a run.
 */
void ks_lock_address_describe(const struct ks_wait_target *target, char *buf,
			      unsigned long size);
/* "normal", "recursive", "errorcheck" or "adaptive", plus flags. */
void ks_mutex_kind_describe(uint32_t mutex_kind, char *buf, unsigned long size);

#endif /* KS_WAIT_TARGET_H */
