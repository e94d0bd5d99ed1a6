/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the scheduler's tracepoints need to know about the tasks they see. */
#ifndef KNOTSCOPE_SCHED_BPF_H
#define KNOTSCOPE_SCHED_BPF_H

#include "common.bpf.h"

#define KS_TASK_RUNNING 0

struct task_struct___pre_5_14 {
	long state;
};

/*
 * The state of the current task, self (as KS_SELF() takes it): at
 * sched_switch, which runs in its context, the task going off the CPU.
 */
static __always_inline __u32 ks_self_state(struct task_struct *self)
{
	if (bpf_core_field_exists(struct task_struct, __state))
		return KS_SELF(self, __state);
	if (KS_HAVE_TASK_BTF)
		return ((struct task_struct___pre_5_14 *)self)->state;
	return BPF_CORE_READ(
		(struct task_struct___pre_5_14 *)bpf_get_current_task(), state);
}

static __always_inline __u32 ks_current_state(void)
{
	return ks_self_state(ks_current_task());
}

/* Whether someone holds self's pi_lock (a queued spinlock's word not 0). */
static __always_inline bool ks_self_pi_locked(struct task_struct *self)
{
	if (!bpf_core_field_exists(self->pi_lock.raw_lock.val))
		return false;
	return KS_SELF(self, pi_lock.raw_lock.val.counter) != 0;
}

/*
 * A task's on_cpu, as KS_ARG() reads it (value): 1 from when the task is
 * picked until it is switched out.
 */
#define KS_TASK_ON_CPU(value) \
	(bpf_core_field_exists(((struct task_struct *)0)->on_cpu) && (value))

/*
 * The smallest kernel stack (THREAD_SIZE) of the architectures we build
 * for; KASAN kernels have twice as much, and a wake from the upper half of
 * such a stack is taken for an interrupt's: an edge missed, never made up.
 */
#define KS_THREAD_SIZE (16 * 1024)

/*
 * Whether this program runs on the current task's own kernel stack, self
 * (as KS_SELF() takes it).  Interrupts run on per-CPU stacks of their own
 * (so do softirqs on the way out of one), and there current is only whoever
 * the interrupt hit.  The preempt count would say it directly, but it is a
 * per-CPU variable that kernels built without CONFIG_KALLSYMS_ALL do not
 * let BPF name.
 */
static __always_inline bool ks_on_task_stack(struct task_struct *self)
{
	__u64 marker = 0, here = 0;
	void *where = &marker;

	/*
	 * The task's user registers sit at the top of its kernel stack: how
	 * far below them this program's stack is, as the difference of two
	 * pointers, which the verifier lets privileged programs take (5.15+).
	 */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return (__u64)((char *)bpf_task_pt_regs(self) -
			       (char *)&marker) < KS_THREAD_SIZE;
	/* Else read back through a helper (about 35 ns): the verifier keeps
	 * stack addresses opaque, the number is all that is compared. */
	bpf_probe_read_kernel(&here, sizeof(here), &where);
	return here - (__u64)KS_SELF(self, stack) < KS_THREAD_SIZE;
}

#endif /* KNOTSCOPE_SCHED_BPF_H */
