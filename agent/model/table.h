/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's picture of the watched processes and their threads: built
 * from /proc once, then kept exact by the kernel's lifecycle events.
 */
#ifndef KS_TABLE_H
#define KS_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include <utlist.h>

#include "base/libc_kind.h"
#include "base/trace_ids.h"
#include "knotscope_abi.h"
#include "model/io_wait.h"
#include "model/lock_kind.h"
#include "model/wait_hist.h"

struct ks_otlp_resource;

/* What a thread is blocked in right now, as the kernel reported it. */
struct ks_thread_wait {
	bool active;
	struct ks_wait_begin begin; /* KS_WAIT_SEEDED: rebuilt from /proc */
	/*
	 * The FUTEX_LOCK_PI the kernel refused with EDEADLK.  glibc then
	 * parks the thread forever in an unrelated futex wait; what the
	 * thread really waits for is that lock.
	 */
	bool pi_refused;
	struct ks_wait_begin refused;
	/* begin.words were re-read from the process since the wait began. */
	bool refreshed;
	/* The stack the wait's begin did not copy was looked for since. */
	bool stack_sought;
	/* What the wait was found to be when it began (enum ks_lock_kind),
	 * the lock's address (an rwlock's futex words lie inside it), the
	 * mutex's type (UINT32_MAX: not a mutex, or unknown) and the
	 * holder's tid then: what a lock-wait span reports. */
	uint8_t lock_kind;
	uint64_t lock_addr;
	uint32_t mutex_kind;
	uint32_t holder_tid;
	/* What its stack says the wait is (enum ks_wait_guess), once looked
	 * at: only long waits nobody is known to hold are. */
	bool guessed;
	uint8_t guess;
};

/* Whether a site can be named from the wait's record: it has a stack, or
 * never was to have one (a wait found at start whose stack was unreadable). */
static inline bool ks_wait_has_stack(const struct ks_thread_wait *wait)
{
	return wait->begin.stack_len ||
	       !(wait->begin.flags & KS_WAIT_STACK_LATER);
}

/* The record that says which lock a blocked thread waits for. */
static inline const struct ks_wait_begin *
ks_lock_wait(const struct ks_thread_wait *wait)
{
	return wait->pi_refused ? &wait->refused : &wait->begin;
}

static inline struct ks_wait_begin *
ks_lock_wait_mut(struct ks_thread_wait *wait)
{
	return wait->pi_refused ? &wait->refused : &wait->begin;
}

/* A kernel lock the thread waits for, inside a system call. */
struct ks_thread_klock {
	bool active;
	uint64_t lock; /* kernel address: never leaves the agent as is */
	uint32_t flags; /* KS_KLOCK_* */
	uint32_t owner_tid; /* host tid, 0 unknown */
	uint64_t begin_ts_ns;
};

/* An exported span, as a link to it needs it. */
struct ks_span_ref {
	bool valid;
	uint8_t trace_id[KS_TRACE_ID_LEN];
	uint8_t span_id[KS_SPAN_ID_LEN];
};

/* Where an edge into a thread came from (causality.c fills it). */
struct ks_edge_source {
	uint8_t kind; /* enum ks_edge_kind, 0: none yet */
	uint32_t tid; /* the thread that released, woke or exited */
	uint64_t release_ns;
	uint64_t acquire_ns; /* when this thread took it in */
	/* The releaser's latest span before it released, if it had one. */
	struct ks_span_ref span;
};

/*
 * The latest data a thread took in from, and gave out to, a pipe or socket
 * (io records; sock_data records with --http): which thread serves a
 * connection.  0 ns: none seen.
 */
struct ks_thread_channels {
	int32_t read_fd;
	int32_t write_fd;
	uint64_t read_ns;
	uint64_t write_ns;
	/* write_ns is when that write began (io records are made at entry),
	 * not when it returned (sock_data records). */
	bool write_at_entry;
};

/* What spans of the thread link to. */
struct ks_thread_causal {
	struct ks_span_ref last_span; /* the latest ended and exported */
	struct ks_edge_source acquired; /* the latest acquire or join */
	struct ks_edge_source woken; /* the latest wakeup off CPU */
};

struct ks_process_stats {
	uint64_t futex_waits; /* every wait, lock or not */
	uint64_t lock_waits; /* waits on a mutex or a thread exit */
	/* Reads, writes, polls and waits for a child that lasted, and whose
	 * pipe, socket or child was found (model/io_sweep.h). */
	uint64_t io_waits;
	uint64_t wait_ns; /* time spent in the waits that ended */
	uint64_t max_wait_ns;
	uint64_t deadlocks; /* reported deadlocks this process was part of */
	uint64_t stalls; /* stalls reported of this process */
	/* Ended lock waits by enum ks_lock_kind (KS_LOCK_NONE unused). */
	struct ks_wait_hist lock_wait[KS_NR_LOCK_KINDS];
};

struct ks_process;

struct ks_ns_key {
	uint32_t pidns_ino;
	uint32_t ns_tid;
};

struct ks_thread {
	uint32_t tid; /* host tid: the hash key */
	uint32_t tgid;
	struct ks_ns_key ns; /* second key: tid inside its pid namespace */
	uint64_t start_ticks; /* start time in USER_HZ ticks since boot */
	uint64_t clear_child_tid; /* 0 when unknown (threads from /proc) */
	char comm[KS_COMM_LEN];
	struct ks_process *process;
	struct ks_thread_wait wait;
	struct ks_thread_klock klock;
	struct ks_thread_io io; /* a read, write, poll or wait4 that lasts */
	struct ks_thread_channels channels;
	struct ks_thread_causal causal;
	/* Scratch for the detector: valid while detector_tick is current. */
	uint64_t detector_tick;
	size_t detector_index;
	struct ks_thread *prev, *next; /* in process->threads */
	UT_hash_handle hh;
	UT_hash_handle hh_ns;
};

struct ks_process {
	uint32_t tgid;
	/* In the order the table took processes in: a reused tgid, or one
	 * that exec'd (it leaves the table), gets a new one. */
	uint64_t serial;
	char comm[KS_COMM_LEN];
	/* Its C library (enum ks_libc), looked up at its first wait. */
	uint8_t libc;
	bool libc_probed;
	/* Its executable is of the agent's word size: /proc shows its system
	 * calls by the agent's numbers (looked up at its first I/O wait). */
	bool io_abi_checked;
	bool io_abi_native;
	unsigned int nr_threads;
	struct ks_thread *threads; /* utlist doubly-linked list */
	struct ks_process_stats stats;
	uint64_t first_seen_real_ns; /* where its cumulative metrics start */
	/* Its leader's start, in USER_HZ ticks since boot; 0 until seen. */
	uint64_t start_ticks;
	/* Its OTLP resource, made when first needed; owned by telemetry. */
	struct ks_otlp_resource *resource;
	/*
	 * Its resource's attributes as text, for /metrics: key, value, key,
	 * value...; made when first needed (NULL before).  The service.name
	 * among them, found once for each HTTP span's dashboard row.
	 */
	char **labels;
	size_t nr_labels;
	const char *labels_service; /* NULL: none */
	/*
	 * 0 when each of those two is final; else the generation of the
	 * Kubernetes pods it was made at, unsettled (process_meta.h).
	 */
	uint64_t resource_meta_gen;
	uint64_t labels_meta_gen;
	/*
	 * Departed: gone from the table (0 while in it), kept for its final
	 * values until every hold (enum ks_departed_hold) is released.
	 */
	uint64_t departed_mono_ns;
	unsigned int holds;
	struct ks_process *departed_next;
	UT_hash_handle hh;
};

/*
 * What a departed process is kept for: its final metrics, to go out in
 * the next periodic export rather than a request of their own, and to
 * stay in /metrics for a scrape interval rather than vanish unscraped.
 */
enum ks_departed_hold {
	KS_HOLD_EXPORT = 1 << 0,
	KS_HOLD_SCRAPE = 1 << 1,
};

/* Departed processes kept at most: beyond, the oldest goes at once. */
#define KS_MAX_DEPARTED 4096

struct ks_table {
	struct ks_process *processes;
	struct ks_thread *threads;
	struct ks_thread *threads_by_ns;
	unsigned long user_hz;
	uint64_t processes_taken; /* the last serial given */
	/* Called before a process leaves the table (exit, exec, unselected). */
	void (*on_process_gone)(void *ctx, struct ks_process *process);
	/* Called before a process is freed: at once, or when it departed. */
	void (*on_process_freed)(void *ctx, struct ks_process *process);
	void *ctx;
	/* The holds a leaving process is kept with; 0: freed at once. */
	unsigned int departed_holds;
	/* Departed processes, oldest first. */
	struct ks_process *departed;
	struct ks_process *departed_tail;
	size_t nr_departed;
};

/* Copies a comm, NUL-terminated and zero-padded like the kernel's. */
void ks_comm_copy(char *dst, const char *src);

void ks_table_init(struct ks_table *table, unsigned long user_hz);
void ks_table_clear(struct ks_table *table);

uint64_t ks_table_ns_to_ticks(const struct ks_table *table, uint64_t ns);

struct ks_process *ks_table_process(const struct ks_table *table,
				    uint32_t tgid);
struct ks_thread *ks_table_thread(const struct ks_table *table, uint32_t tid);
struct ks_thread *ks_table_thread_in_ns(const struct ks_table *table,
					uint32_t pidns_ino, uint32_t ns_tid);

/*
 * Adds (or refreshes) a thread.  A thread already known under that tid but
 * with another start time is a dead one whose tid was reused: it is replaced.
 */
struct ks_thread *ks_table_add_thread(struct ks_table *table, uint32_t tgid,
				      uint32_t tid, uint32_t pidns_ino,
				      uint32_t ns_tid, uint64_t start_ticks,
				      const char *comm);
void ks_table_remove_thread(struct ks_table *table, struct ks_thread *thread);
/*
 * The process leaves the table: freed at once, or kept among the
 * departed (its threads gone) with table->departed_holds.
 */
void ks_table_remove_process(struct ks_table *table,
			     struct ks_process *process);

/* A live process with that tgid, else a departed one; NULL for none. */
struct ks_process *ks_table_process_or_departed(const struct ks_table *table,
						uint32_t tgid);
/* Releases hold of every departed process that has it; frees the done. */
void ks_table_release_departed(struct ks_table *table, unsigned int hold,
			       uint64_t departed_before_mono_ns);

#endif /* KS_TABLE_H */
