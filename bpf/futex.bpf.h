/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Futex waits and wakes: the only place a contended user lock, a
 * pthread_join or a condition variable becomes visible to the kernel.  An
 * uncontended pthread mutex never makes a system call, so nothing here runs
 * for it.  Called from the system call hooks in syscalls.bpf.c.
 */
#ifndef KNOTSCOPE_FUTEX_BPF_H
#define KNOTSCOPE_FUTEX_BPF_H

#include "common.bpf.h"
#include "syscalls.bpf.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG

/* Kernel-internal "restart me" codes, never seen by user space. */
#define ERESTARTSYS 512
#define ERESTART_RESTARTBLOCK 516

struct futex_waitv_entry {
	__u64 val;
	__u64 uaddr;
	__u32 flags;
	__u32 reserved;
};

static __always_inline void ks_read_futex_words(struct ks_wait_begin *e)
{
	const void *uaddr = (const void *)e->uaddr;
	const void *first = uaddr - sizeof(e->words_before);
	__u64 in_page = e->uaddr & 4095;
	__u32 both[(sizeof(e->words_before) + sizeof(e->words)) / 4];

	/*
	 * One read of all ten words where they share a page, as nearly all
	 * do: each read of user memory is a helper call that costs about
	 * 100 ns on a small VM, paid by the waiting thread.  It reads onto
	 * the stack: the kernel's copy into the record itself, whose memory
	 * is cold, cost some 50 ns more than the plain stores after it.
	 */
	if (in_page >= sizeof(e->words_before) &&
	    in_page <= 4096 - sizeof(e->words) &&
	    !bpf_probe_read_user(both, sizeof(both), first)) {
		__builtin_memcpy(e->words_before, both, sizeof(both));
		e->flags |=
			KS_WAIT_WORDS_OK | KS_WAIT_KIND_OK | KS_WAIT_BEFORE_OK;
		return;
	}
	/*
	 * Else three, because a futex word may sit at either end of a
	 * mapping: the owner (third word) matters, the mutex kind (fifth)
	 * only helps, and what lies before the word (musl's mutex type,
	 * glibc's rwlock state) is read on its own.
	 */
	if (!bpf_probe_read_user(e->words, 3 * sizeof(__u32), uaddr))
		e->flags |= KS_WAIT_WORDS_OK;
	else
		__builtin_memset(e->words, 0, 3 * sizeof(__u32));
	if (!bpf_probe_read_user(&e->words[3], 3 * sizeof(__u32), uaddr + 12))
		e->flags |= KS_WAIT_KIND_OK;
	else
		__builtin_memset(&e->words[3], 0, 3 * sizeof(__u32));
	if (!bpf_probe_read_user(e->words_before, sizeof(e->words_before),
				 first))
		e->flags |= KS_WAIT_BEFORE_OK;
	else
		__builtin_memset(e->words_before, 0, sizeof(e->words_before));
}

/*
 * A wait's waker, its sleeper (see waits.bpf.c) and the thread's next wait
 * may each try to end it: whoever clears active ends it, once.
 */
static __always_inline bool ks_wait_claim_end(struct ks_inflight *inflight)
{
	return inflight->active &&
	       __sync_val_compare_and_swap(&inflight->active, 1, 0) == 1;
}

/* The user stack from sp up into stack; how many bytes it holds. */
static __always_inline __u32 ks_copy_stack(__u8 stack[KS_STACK_SNAPSHOT_BYTES],
					   const void *sp)
{
	/* Near the top of a stack the full copy can fail: try less. */
	if (!bpf_probe_read_user(stack, KS_STACK_SNAPSHOT_BYTES, sp))
		return KS_STACK_SNAPSHOT_BYTES;
	if (!bpf_probe_read_user(stack, 128, sp))
		return 128;
	return 0;
}

/*
 * The wait record without the stack: the thread copied one a moment ago.
 * What it saves is the copy into the ring buffer, whose memory is cold.
 */
#define KS_WAIT_BEGIN_NO_STACK offsetof(struct ks_wait_begin, stack)

/*
 * user: the user's registers where plain loads read them (a typed pointer,
 * or a copy), NULL when they cannot be had; pid_tgid: the current task's;
 * picked: where waits are taken from the scheduler, the task's
 * se.exec_start (see struct ks_inflight), else 0.
 */
static __always_inline int ks_wait_begin(const struct pt_regs *user,
					 __u64 pid_tgid, __u64 picked,
					 __u16 syscall, __u64 uaddr, __u32 op,
					 __u32 val, __u32 flags)
{
	__u32 tid = (__u32)pid_tgid;
	struct ks_inflight inflight = {}, *slot;
	__u64 now = bpf_ktime_get_ns();
	struct ks_cpu_stats *stats;
	struct ks_wait_begin *e;

	if (!user)
		return 0;
	slot = bpf_map_lookup_elem(&ks_inflight, &tid);
	/*
	 * A wait still active here was missed ending: it is over, and must be
	 * before its fields change under a waker that would claim it.
	 */
	if (slot)
		ks_wait_claim_end(slot);
	if (!slot || now - slot->stack_ns >= ks_stack_every_ns) {
		e = ks_reserve_for(sizeof(*e), KS_EV_WAIT_BEGIN, now, pid_tgid);
		if (!e)
			return 0;
		e->stack_len = ks_copy_stack(e->stack, (const void *)user->sp);
		if (slot) {
			slot->stack_ns = now;
			slot->sp = 0;
		}
	} else {
		e = ks_reserve_for(KS_WAIT_BEGIN_NO_STACK, KS_EV_WAIT_BEGIN,
				   now, pid_tgid);
		if (!e)
			return 0;
		flags |= KS_WAIT_STACK_LATER;
		e->stack_len = 0;
		slot->sp = user->sp;
	}
	e->_pad1 = 0;
	e->uaddr = uaddr;
	e->op = op;
	e->val = val;
	e->flags = flags;
	e->syscall = syscall;
	e->_pad0 = 0;
	ks_read_futex_words(e);
	ks_save_user_regs(e->regs, user);

	if (slot) {
		/*
		 * The thread's own slot: only its waker reads it meanwhile,
		 * and only once active, written last, by an exchange: a full
		 * barrier before the sleeper looks for an early wake.
		 */
		slot->begin_ts_ns = now;
		slot->uaddr = uaddr;
		slot->op = op;
		slot->begin_exec_start = picked;
		__sync_lock_test_and_set(&slot->active, 1);
	} else {
		inflight.begin_ts_ns = now;
		inflight.uaddr = uaddr;
		inflight.op = op;
		inflight.stack_ns = now;
		inflight.begin_exec_start = picked;
		inflight.active = 1;
		if (bpf_map_update_elem(&ks_inflight, &tid, &inflight,
					BPF_ANY)) {
			stats = ks_cpu_stats();
			if (stats)
				__sync_fetch_and_add(&stats->inflight_full, 1);
		}
	}
	ks_submit(e);
	return 0;
}

static __always_inline int ks_wake(__u16 syscall, __u64 uaddr, __u64 uaddr2,
				   __u32 op, __u32 nr)
{
	struct ks_wake *e = ks_reserve(sizeof(*e), KS_EV_WAKE);

	if (!e)
		return 0;
	e->uaddr = uaddr;
	e->uaddr2 = uaddr2;
	e->op = op;
	e->nr = nr;
	e->syscall = syscall;
	e->_pad0 = 0;
	e->_pad1 = 0;
	ks_submit(e);
	return 0;
}

static __always_inline bool ks_futex_op_waits(__u32 op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return true;
	}
	return false;
}

static __always_inline int ks_futex_enter(const struct ks_syscall_args *args,
					  const struct pt_regs *user,
					  __u64 pid_tgid, __u64 picked)
{
	__u64 uaddr = args->arg[0];
	__u32 op = args->arg[1];
	__u32 val = args->arg[2];
	__u64 timeout = args->arg[3];
	__u32 flags = 0;

	if (!ks_futex_op_waits(op)) {
		switch (op & FUTEX_CMD_MASK) {
		case FUTEX_WAKE:
		case FUTEX_WAKE_BITSET:
		case FUTEX_UNLOCK_PI:
			return ks_wake(KS_SYS_FUTEX, uaddr, 0, op, val);
		case FUTEX_REQUEUE:
		case FUTEX_CMP_REQUEUE:
		case FUTEX_WAKE_OP:
		case FUTEX_CMP_REQUEUE_PI:
			/* The second word is in the fifth argument. */
			return ks_wake(KS_SYS_FUTEX, uaddr, args->arg[4], op,
				       val);
		}
		return 0;
	}
	if (timeout)
		flags |= KS_WAIT_TIMED;
	if (!(op & FUTEX_PRIVATE_FLAG))
		flags |= KS_WAIT_SHARED;
	return ks_wait_begin(user, pid_tgid, picked, KS_SYS_FUTEX, uaddr, op,
			     val, flags);
}

static __always_inline int
ks_futex_waitv_enter(const struct ks_syscall_args *args,
		     const struct pt_regs *user, __u64 pid_tgid, __u64 picked)
{
	struct futex_waitv_entry first = {};
	__u64 waiters = args->arg[0];
	__u32 count = args->arg[1];
	__u64 timeout = args->arg[3];
	__u32 flags = 0;

	/* Several words at once: no single owner, reported by the first. */
	bpf_probe_read_user(&first, sizeof(first), (const void *)waiters);
	if (timeout)
		flags |= KS_WAIT_TIMED;
	if (!(first.flags & FUTEX2_PRIVATE))
		flags |= KS_WAIT_SHARED;
	return ks_wait_begin(user, pid_tgid, picked, KS_SYS_FUTEX_WAITV,
			     first.uaddr, first.flags & FUTEX2_PRIVATE, count,
			     flags);
}

static __always_inline int
ks_futex2_wait_enter(const struct ks_syscall_args *args,
		     const struct pt_regs *user, __u64 pid_tgid, __u64 picked)
{
	__u64 uaddr = args->arg[0];
	__u32 val = args->arg[1];
	__u32 futex2_flags = args->arg[3];
	__u64 timeout = args->arg[4];
	__u32 flags = 0;

	if (timeout)
		flags |= KS_WAIT_TIMED;
	if (!(futex2_flags & FUTEX2_PRIVATE))
		flags |= KS_WAIT_SHARED;
	/* FUTEX2_PRIVATE is FUTEX_PRIVATE_FLAG: op reads as FUTEX_WAIT's. */
	return ks_wait_begin(user, pid_tgid, picked, KS_SYS_FUTEX_WAIT, uaddr,
			     futex2_flags & FUTEX2_PRIVATE, val, flags);
}

static __always_inline int
ks_futex2_wake_enter(const struct ks_syscall_args *args)
{
	/* futex_wake(uaddr, mask, nr, flags) */
	return ks_wake(KS_SYS_FUTEX_WAKE, args->arg[0], 0,
		       FUTEX_WAKE | (args->arg[3] & FUTEX2_PRIVATE),
		       args->arg[2]);
}

static __always_inline int
ks_futex2_requeue_enter(const struct ks_syscall_args *args)
{
	struct futex_waitv_entry pair[2] = {};

	/* futex_requeue(waiters[2], flags, nr_wake, nr_requeue) */
	bpf_probe_read_user(pair, sizeof(pair), (const void *)args->arg[0]);
	return ks_wake(KS_SYS_FUTEX_REQUEUE, pair[0].uaddr, pair[1].uaddr,
		       FUTEX_REQUEUE | (pair[0].flags & FUTEX2_PRIVATE),
		       args->arg[2]);
}

/* Whether a futex call, by its number and arguments, waits. */
static __always_inline bool
ks_futex_call_waits(long nr, const struct ks_syscall_args *args)
{
	if (nr == KS_NR_FUTEX)
		return ks_futex_op_waits(args->arg[1]);
	return nr == KS_NR_FUTEX_WAITV || nr == KS_NR_FUTEX_WAIT;
}

static __always_inline bool ks_is_futex_syscall(long nr)
{
	return nr == KS_NR_FUTEX || nr == KS_NR_FUTEX_WAITV ||
	       nr == KS_NR_FUTEX_WAIT || nr == KS_NR_FUTEX_WAKE ||
	       nr == KS_NR_FUTEX_REQUEUE;
}

/*
 * At entry: waits begin, wakes happen.  user, pid_tgid and picked as for
 * ks_wait_begin().
 */
static __always_inline int
ks_futex_sys_enter(const struct ks_syscall_args *args,
		   const struct pt_regs *user, long nr, __u64 pid_tgid,
		   __u64 picked)
{
	switch (nr) {
	case KS_NR_FUTEX:
		return ks_futex_enter(args, user, pid_tgid, picked);
	case KS_NR_FUTEX_WAITV:
		return ks_futex_waitv_enter(args, user, pid_tgid, picked);
	case KS_NR_FUTEX_WAIT:
		return ks_futex2_wait_enter(args, user, pid_tgid, picked);
	case KS_NR_FUTEX_WAKE:
		return ks_futex2_wake_enter(args);
	default:
		return ks_futex2_requeue_enter(args);
	}
}

static __always_inline void ks_wait_end_fill(struct ks_wait_end *e,
					     const struct ks_inflight *inflight,
					     long ret, __u64 waker)
{
	e->uaddr = inflight->uaddr;
	e->begin_ts_ns = inflight->begin_ts_ns;
	e->ret = ret;
	e->op = inflight->op;
	e->waker_tgid = waker >> 32;
	e->waker_tid = (__u32)waker;
	e->_pad0 = 0;
}

/*
 * The end of a wait that copied no stack at its start and lasted long
 * enough for a span: its stack, still as it was, from the memory of the
 * current task, which must be the sleeper's.
 */
static __always_inline bool
ks_wait_end_with_stack(const struct ks_inflight *inflight, long ret,
		       __u64 wakee, __u64 waker, __u64 now)
{
	struct ks_wait_end_stack *e;

	e = ks_reserve_for(sizeof(*e), KS_EV_WAIT_END, now, wakee);
	if (!e)
		return false;
	ks_wait_end_fill(&e->end, inflight, ret, waker);
	e->stack_len = ks_copy_stack(e->stack, (const void *)inflight->sp);
	e->_pad0 = 0;
	ks_submit(e);
	return true;
}

/*
 * The record of a wait's end: of wakee's pid_tgid (the current task's, or
 * the task woken), naming waker's (0: none).  sees_stack: the current task
 * shares the sleeper's memory.
 */
static __always_inline void ks_wait_end_emit(const struct ks_inflight *inflight,
					     long ret, __u64 wakee, __u64 waker,
					     bool sees_stack)
{
	__u64 now = bpf_ktime_get_ns();
	struct ks_wait_end *e;

	/* A waker on another CPU can read a clock a little behind. */
	if (inflight->sp && sees_stack && now > inflight->begin_ts_ns &&
	    now - inflight->begin_ts_ns >= ks_stack_min_ns &&
	    ks_wait_end_with_stack(inflight, ret, wakee, waker, now))
		return;
	e = ks_reserve_for(sizeof(*e), KS_EV_WAIT_END, now, wakee);
	if (!e)
		return;
	ks_wait_end_fill(e, inflight, ret, waker);
	ks_submit(e);
}

/* At exit of a futex call or of restart_syscall: a wait ends. */
static __always_inline int ks_futex_sys_exit(long ret)
{
	struct ks_inflight *inflight;
	__u64 pid_tgid;
	__u32 tid;

	/*
	 * A signal (SIGSTOP, a debugger, a handler) interrupted the wait and
	 * the kernel will resume it: by re-entering futex() (a new begin
	 * replaces this one) or through restart_syscall(), whose exit ends
	 * it.  Either way the thread is still waiting.
	 */
	if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK)
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	tid = (__u32)pid_tgid;
	inflight = bpf_map_lookup_elem(&ks_inflight, &tid);
	if (!inflight || !inflight->active)
		return 0;
	ks_wait_end_emit(inflight, ret, pid_tgid, 0, true);
	inflight->active = 0;
	return 0;
}

#endif /* KNOTSCOPE_FUTEX_BPF_H */
