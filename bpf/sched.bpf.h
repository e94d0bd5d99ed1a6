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
 * The state of the task going off the CPU at sched_switch, which runs in
 * that task's context: prev is current, read with plain loads.
 */
static __always_inline __u32 ks_current_state(void)
{
	if (bpf_core_field_exists(struct task_struct, __state))
		return KS_CURRENT(__state);
	if (bpf_core_enum_value_exists(enum bpf_func_id,
				       BPF_FUNC_get_current_task_btf))
		return ((struct task_struct___pre_5_14 *)
				bpf_get_current_task_btf())
			->state;
	return BPF_CORE_READ(
		(struct task_struct___pre_5_14 *)bpf_get_current_task(), state);
}

/*
 * The smallest kernel stack (THREAD_SIZE) of the architectures we build
 * for; KASAN kernels have twice as much, and a wake from the upper half of
 * such a stack is taken for an interrupt's: an edge missed, never made up.
 */
#define KS_THREAD_SIZE (16 * 1024)

/*
 * Whether this program runs on the current task's own kernel stack.
 * Interrupts run on per-CPU stacks of their own (so do softirqs on the way
 * out of one), and there current is only whoever the interrupt hit.  The
 * preempt count would say it directly, but it is a per-CPU variable that
 * kernels built without CONFIG_KALLSYMS_ALL do not let BPF name.
 */
static __always_inline bool ks_on_task_stack(void)
{
	__u64 marker = 0, here = 0;
	void *where = &marker;

	/* Read back through a helper: the verifier keeps stack addresses
	 * opaque, the number is all that is compared. */
	bpf_probe_read_kernel(&here, sizeof(here), &where);
	return here - (__u64)KS_CURRENT(stack) < KS_THREAD_SIZE;
}

#endif /* KNOTSCOPE_SCHED_BPF_H */
