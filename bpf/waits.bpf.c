// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Futex waits taken from the scheduler (the agent's default, --wait-hooks
 * sched): a wait is recorded when its thread really blocks, and ends when
 * something wakes it, in the waker's context.  No system call is hooked, so
 * the kernel keeps every task of the machine on its fast system call path
 * (any syscall tracepoint takes them all off it), and a futex call that
 * does not sleep (an uncontended wake, a wait whose word already changed)
 * costs nothing.  docs/capture-cost.md has the figures.
 *
 * The same two programs see the blocking reads of pipes, unix sockets and
 * eventfds, and the waits for a child, and the happens-before edge of each:
 * the write, or the exit, that woke the thread.
 */
#include "common.bpf.h"
#include "futex.bpf.h"
#include "io_edges.bpf.h"
#include "sched.bpf.h"
#include "syscalls.bpf.h"

#define KS_PF_EXITING 0x00000004
#define KS_PF_KTHREAD 0x00200000
#define KS_TASK_WAKING 0x00000200

#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif

/*
 * Field by field: a constant initializer would become a constant pool
 * (.rodata.cst32), a map of its own that cannot be pinned.
 */
static __always_inline int
ks_note_blocked(enum ks_blocked_in in, const struct ks_fd_class *class, int fd)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_blocked blocked;

	__builtin_memset(&blocked, 0, sizeof(blocked));
	blocked.since_ns = bpf_ktime_get_ns();
	blocked.in = in;
	if (class) {
		blocked.kind = class->kind;
		blocked.object = class->object;
		blocked.inode = class->inode;
		blocked.fd = fd;
	}
	bpf_map_update_elem(&ks_blocked, &tid, &blocked, BPF_ANY);
	return 0;
}

/* Reads of anything but a channel (files, TCP, terminals) are not noted. */
static __always_inline int ks_note_blocked_read(int fd)
{
	struct ks_fd_class class;

	ks_classify_fd(fd, &class);
	if (!class.kind)
		return 0;
	return ks_note_blocked(KS_BLOCKED_READ, &class, fd);
}

/* A thread's context switches so far: each one out counts. */
static __always_inline __u64 ks_switches(unsigned long nvcsw,
					 unsigned long nivcsw)
{
	return (__u64)nvcsw + nivcsw;
}

/*
 * A waker on another CPU may pass sched_waking while this thread is still
 * on its way off the CPU, before its wait was recorded: it found nothing
 * to end.  That waker still holds the thread's pi_lock (it keeps it until
 * the thread is off the CPU), and, where the thread was taken off its run
 * queue, has marked it TASK_WAKING.  Where the scheduler left the thread
 * queued for now (EEVDF's delayed dequeue), nothing but pi_lock shows, so
 * the waker leaves a mark in the slot (ks_woken_early()), and pi_lock held
 * counts only with a mark of this very sleep: a mark from an earlier run
 * does not, and neither does anyone else holding pi_lock for a moment
 * (reading /proc/PID/wchan does).  Such a wait ends at once, named after
 * the mark's waker.  (The one case taken wrongly: a mark from a sleep of
 * this same run that was woken before it began, and another pi_lock holder
 * now.)
 */
static __always_inline void ks_end_if_woken_meanwhile(struct task_struct *self,
						      __u64 pid_tgid)
{
	bool waking = ks_self_state(self) & KS_TASK_WAKING, early;
	__u32 tid = (__u32)pid_tgid;
	struct ks_inflight *inflight;
	__u64 switches, mark;

	/* Most waits: no wake under way, and no lookup. */
	if (!waking && !ks_self_pi_locked(self))
		return;
	inflight = bpf_map_lookup_elem(&ks_inflight, &tid);
	if (!inflight)
		return;
	/* This sleep's switch is counted: a mark from before it or from it. */
	switches = ks_switches(KS_SELF(self, nvcsw), KS_SELF(self, nivcsw));
	mark = inflight->early_switches;
	early = mark == switches || mark == switches + 1;
	if ((waking || early) && ks_wait_claim_end(inflight))
		ks_wait_end_emit(inflight, 0, pid_tgid,
				 early ? inflight->early_waker : 0, true);
	inflight->early_switches = 0;
}

/*
 * The calls a sleep is recorded in: a futex wait and, without
 * --channel-edges (whose system call hooks see them all), a read and a
 * wait for a child.  A thread woken in any other call has nothing to end.
 */
static __always_inline bool ks_sleep_recorded_in(long nr)
{
	return ks_is_futex_syscall(nr) ||
	       (!ks_channel_edges &&
		(ks_is_io_read(nr) || nr == KS_NR_WAIT4 || nr == KS_NR_WAITID));
}

/*
 * Runs for every context switch of the machine, in prev's context: the
 * first tests are the cheapest, all plain loads, and only a watched thread
 * going to sleep in one of the calls below reads its registers.
 */
KS_TRACEPOINT(sched_switch, ks_block, bool preempt, struct task_struct *prev,
	      struct task_struct *next)
{
	/* prev is the current task, and typed in the tp_btf twin. */
	struct task_struct *self = ks_typed ? prev : ks_current_task();
	struct ks_syscall_args args;
	struct pt_regs *regs;
	__u64 pid_tgid;
	long nr;

	/* Preempted or still runnable: waiting for a CPU, not for anyone. */
	if (preempt || ks_self_state(self) == KS_TASK_RUNNING)
		return 0;
	if (KS_SELF(self, flags) & KS_PF_KTHREAD)
		return 0;
	pid_tgid = ks_self_pid_tgid(self);
	if (!ks_self_selected(self, pid_tgid))
		return 0;
	/* The number alone first: most sleeps are in epoll_wait, poll... */
	regs = ks_self_regs(self);
	if (!regs)
		return 0;
	nr = ks_regs_syscall_nr(regs);
	if (!ks_sleep_recorded_in(nr))
		return 0;
	ks_args_of_regs(&args, regs);
	/*
	 * A wait that a signal interrupted and restart_syscall() resumed is
	 * not seen again: its arguments are gone from the registers.
	 */
	if (ks_futex_call_waits(nr, &args)) {
		ks_futex_sys_enter(&args, regs, nr, pid_tgid,
				   KS_SELF(self, se.exec_start));
		ks_end_if_woken_meanwhile(self, pid_tgid);
		return 0;
	}
	/* Their system call hooks see every read and reap. */
	if (ks_channel_edges)
		return 0;
	if (ks_is_io_read(nr))
		return ks_note_blocked_read((int)args.arg[0]);
	if (nr == KS_NR_WAIT4 || nr == KS_NR_WAITID)
		return ks_note_blocked(KS_BLOCKED_CHILD, NULL, -1);
	return 0;
}

/*
 * A blocking read of a channel, woken (by a write into it, usually): its
 * span, and the edge from the waker, whose past happened before whatever
 * the reader does next.
 */
static __always_inline void
ks_read_woken(__u64 wakee, const struct ks_blocked *blocked, bool by_thread)
{
	struct ks_read_woken *e;
	__u64 waker = 0;

	e = ks_reserve_for(sizeof(*e), KS_EV_READ_WOKEN, bpf_ktime_get_ns(),
			   wakee);
	if (!e)
		return;
	if (by_thread && ks_current_selected())
		waker = bpf_get_current_pid_tgid();
	e->object = blocked->object;
	e->begin_ns = blocked->since_ns;
	e->fd = blocked->fd;
	e->inode = blocked->inode;
	e->waker_tgid = waker >> 32;
	e->waker_tid = (__u32)waker;
	e->kind = blocked->kind;
	__builtin_memset(e->_pad0, 0, sizeof(e->_pad0));
	ks_submit(e);
}

/*
 * A wait for a child woken by a child's exit: the child's whole life
 * happened before whatever the parent does next, reaping it or not.
 */
static __always_inline void ks_child_woken(__u64 wakee)
{
	struct ks_reaped *reaped;

	/* A stopped or traced child wakes its parent too: only exits. */
	if (!ks_current_selected() || !(KS_CURRENT(flags) & KS_PF_EXITING))
		return;
	reaped = ks_reserve(sizeof(*reaped), KS_EV_REAPED);
	if (!reaped)
		return;
	reaped->child_tgid = reaped->hdr.tgid;
	reaped->hdr.tgid = wakee >> 32;
	reaped->hdr.tid = (__u32)wakee;
	reaped->_pad0 = 0;
	ks_submit(reaped);
}

/*
 * The end of task's wait in inflight, claimed by this wake: named after the
 * current task, unless an interrupt woke it (a timeout, or a signal from
 * no thread).  A KS_TRACEPOINT body's helper: ks_typed is its own.
 */
static __always_inline void ks_wait_end_by_wake(bool ks_typed,
						struct task_struct *task,
						struct ks_inflight *inflight)
{
	struct task_struct *self = ks_current_task();
	__u64 wakee = (__u64)KS_ARG(task, tgid) << 32 | KS_ARG(task, pid);
	bool by_thread = ks_on_task_stack(self);
	/* The sleeper's stack is readable from its process's memory. */
	bool sees_stack = inflight->sp &&
			  (void *)KS_ARG(task, mm) == (void *)KS_SELF(self, mm);

	if (by_thread)
		ks_wait_end_emit(inflight, 0, wakee, ks_self_pid_tgid(self),
				 sees_stack);
	else
		ks_wait_end_emit(inflight, -ETIMEDOUT, wakee, 0, sees_stack);
}

/*
 * A wake of a thread on its way into a sleep, before it recorded its wait:
 * the mark that wait looks for (see ks_end_if_woken_meanwhile()).  Written,
 * then, past a full barrier, the slot read again: a wait recorded
 * meanwhile, whose sleeper may have looked for the mark too early, is
 * ended here.
 */
static __always_inline void ks_woken_early(bool ks_typed,
					   struct task_struct *task,
					   struct ks_inflight *inflight)
{
	struct task_struct *self = ks_current_task();

	inflight->early_waker =
		ks_on_task_stack(self) ? ks_self_pid_tgid(self) : 0;
	__sync_lock_test_and_set(
		&inflight->early_switches,
		ks_switches(KS_ARG(task, nvcsw), KS_ARG(task, nivcsw)) + 1);
	if (ks_wait_claim_end(inflight))
		ks_wait_end_by_wake(ks_typed, task, inflight);
}

/*
 * Runs for every wake-up of the machine, in the waker's context (or an
 * interrupt's, where current is whoever the interrupt hit).  One lookup
 * ends a futex wait.  Otherwise, a thread woken in a call no sleep is
 * recorded in (most wakes: epoll_wait, poll, nanosleep, a page fault) stops
 * at a look at its system call number, where a second lookup was; only
 * typed tasks show their registers, so the raw_tp twin looks it up.
 */
KS_TRACEPOINT(sched_waking, ks_woken, struct task_struct *task)
{
	__u32 tid = KS_ARG(task, pid);
	struct ks_inflight *inflight;
	struct ks_blocked *blocked;
	struct pt_regs *regs = NULL;
	__u64 wakee, picked = 0;
	long nr = -1;
	bool left;

	inflight = bpf_map_lookup_elem(&ks_inflight, &tid);
	if (inflight) {
		/*
		 * The scheduler sets exec_start when it picks the thread (and
		 * zeroes it when it moves a woken thread to another CPU, after
		 * this point).  Changed since the wait began: the thread has
		 * left that wait, whose wake came before the wait was recorded
		 * and was missed.  It is over (when, is not known: no record),
		 * and this wake may be early for the next one.
		 */
		picked = KS_ARG(task, se.exec_start);
		left = inflight->begin_exec_start && picked &&
		       picked != inflight->begin_exec_start;
		if (inflight->active && !left) {
			if (ks_wait_claim_end(inflight))
				ks_wait_end_by_wake(ks_typed, task, inflight);
			return 0;
		}
		ks_wait_claim_end(inflight);
	}
	if (ks_typed)
		regs = ks_self_regs(task);
	if (regs) {
		nr = ks_regs_syscall_nr(regs);
		if (!ks_sleep_recorded_in(nr))
			return 0;
	}
	/*
	 * In a futex call and on its CPU: on its way into a futex wait (a
	 * wake comes only to a sleeping state, so not on its way out).  Its
	 * wait may be being recorded right now, the slot's begin_exec_start
	 * already this sleep's and active not yet set: the mark is what its
	 * sleeper looks for then.
	 */
	if (ks_is_futex_syscall(nr) && inflight &&
	    KS_TASK_ON_CPU(KS_ARG(task, on_cpu)))
		ks_woken_early(ks_typed, task, inflight);
	blocked = bpf_map_lookup_elem(&ks_blocked, &tid);
	if (!blocked)
		return 0;
	wakee = (__u64)KS_ARG(task, tgid) << 32 | tid;
	if (blocked->in == KS_BLOCKED_READ)
		ks_read_woken(wakee, blocked,
			      ks_on_task_stack(ks_current_task()));
	else if (ks_on_task_stack(ks_current_task()))
		ks_child_woken(wakee);
	bpf_map_delete_elem(&ks_blocked, &tid);
	return 0;
}
