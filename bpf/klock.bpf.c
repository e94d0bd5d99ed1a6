// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Waits for kernel locks (mutexes, rw-semaphores, rt-mutexes, semaphores)
 * by watched threads, from the contention tracepoints (Linux 5.19+), which
 * fire only on the slow path.  A stall that crosses the user/kernel
 * boundary (a thread blocked on a kernel mutex held by a thread blocked on
 * a user lock) becomes one chain in the wait-for graph.
 */
#include "common.bpf.h"

/* struct mutex.owner and rw_semaphore.owner keep flags in the low bits. */
#define KS_LOCK_OWNER_FLAGS 0x7ul
/* An rw-semaphore held by readers has no single owner. */
#define KS_RWSEM_READER_OWNED 0x1ul

static __always_inline struct task_struct *ks_klock_owner(void *lock,
							  __u32 flags)
{
	unsigned long owner;

	if (flags & KS_KLOCK_MUTEX) {
		owner = BPF_CORE_READ((struct mutex *)lock, owner.counter);
	} else if (flags & KS_KLOCK_WRITE) {
		owner = BPF_CORE_READ((struct rw_semaphore *)lock,
				      owner.counter);
		if (owner & KS_RWSEM_READER_OWNED)
			return NULL;
	} else {
		return NULL;
	}
	return (struct task_struct *)(owner & ~KS_LOCK_OWNER_FLAGS);
}

KS_TRACEPOINT(contention_begin, ks_klock_begin, void *lock, unsigned int flags)
{
	struct ks_klock_inflight inflight = {};
	struct task_struct *owner;
	struct ks_klock_begin *e;
	__u32 tid;

	/* Spinning never sleeps, and per-CPU locks have no single owner. */
	if (flags & (KS_KLOCK_SPIN | KS_KLOCK_PERCPU) || !ks_current_selected())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	/* The slow path may pass here several times per acquisition. */
	if (bpf_map_lookup_elem(&ks_klock_inflight, &tid))
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_KLOCK_BEGIN);
	if (!e)
		return 0;
	owner = ks_klock_owner(lock, flags);
	e->lock = (__u64)lock;
	e->flags = flags;
	e->owner_tid = owner ? BPF_CORE_READ(owner, pid) : 0;
	e->owner_tgid = owner ? BPF_CORE_READ(owner, tgid) : 0;
	e->_pad0 = 0;
	inflight.begin_ts_ns = e->hdr.ts_ns;
	inflight.lock = (__u64)lock;
	bpf_map_update_elem(&ks_klock_inflight, &tid, &inflight, BPF_ANY);
	ks_submit(e);
	return 0;
}

KS_TRACEPOINT(contention_end, ks_klock_end, void *lock, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_klock_inflight *inflight;
	struct ks_klock_end *e;

	inflight = bpf_map_lookup_elem(&ks_klock_inflight, &tid);
	if (!inflight || inflight->lock != (__u64)lock)
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_KLOCK_END);
	if (e) {
		e->lock = (__u64)lock;
		e->begin_ts_ns = inflight->begin_ts_ns;
		e->ret = ret;
		e->_pad0 = 0;
		ks_submit(e);
	}
	bpf_map_delete_elem(&ks_klock_inflight, &tid);
	return 0;
}
