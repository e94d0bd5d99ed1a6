/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Lock-order inversions (potential deadlocks), lockdep-style, for processes
 * in precise mode.  Each acquisition of a mutex B while a thread holds A
 * records the order A -> B in its process's lock graph, with where each was
 * acquired; an order that closes a cycle means some interleaving of those
 * threads deadlocks, even if this run did not.
 *
 * A trylock cannot block, so it adds no order into the lock it takes (only
 * out of it, while held); a timed lock can time out, but lockdep's choice is
 * kept: it still orders.  pthread_mutex_destroy forgets the mutex, so an
 * address reused for another mutex starts with no history.
 */
#ifndef KS_LOCKORDER_H
#define KS_LOCKORDER_H

#include <stddef.h>
#include <stdint.h>

#include "knotscope_abi.h"

/* One acquisition, as the uprobe saw the call: who and from where. */
struct ks_acquisition {
	uint32_t tgid;
	uint32_t tid;
	uint64_t mutex;
	uint64_t ts_ns;
	__u64 regs[KS_NR_USER_REGS];
	uint32_t stack_len;
	uint8_t stack[KS_CALL_STACK_BYTES];
};

/* The order first <- ... : a thread acquired `second` while holding `first`. */
struct ks_lock_order {
	const struct ks_acquisition *first; /* when `first` was taken */
	const struct ks_acquisition *second; /* when `second` was taken */
};

struct ks_inversion {
	uint64_t id; /* stable for the same mutexes in the same order */
	uint32_t tgid;
	/* The cycle: orders[i].second is orders[i + 1].first's mutex. */
	const struct ks_lock_order *orders;
	size_t nr_orders;
};

typedef void (*ks_inversion_fn)(void *ctx, const struct ks_inversion *found);

struct ks_lockorder;

struct ks_lockorder *ks_lockorder_new(ks_inversion_fn report, void *ctx);
void ks_lockorder_free(struct ks_lockorder *lockorder);

/* Records from the uprobes, in the order the ring buffer delivers them. */
void ks_lockorder_call(struct ks_lockorder *lockorder,
		       const struct ks_lock_call_rec *rec);
void ks_lockorder_result(struct ks_lockorder *lockorder,
			 const struct ks_lock_result *rec);

void ks_lockorder_thread_gone(struct ks_lockorder *lockorder, uint32_t tid);
void ks_lockorder_process_gone(struct ks_lockorder *lockorder, uint32_t tgid);

struct ks_lockorder_stats {
	uint64_t orders; /* distinct orders recorded */
	uint64_t nodes; /* mutexes in the graphs now */
	uint64_t inversions; /* reported */
	uint64_t dropped; /* acquisitions not recorded: limits reached */
};

void ks_lockorder_stats(const struct ks_lockorder *lockorder,
			struct ks_lockorder_stats *stats);

#endif /* KS_LOCKORDER_H */
