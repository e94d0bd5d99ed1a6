// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Off-CPU intervals of watched threads, and who ended them.  Measured in the
 * kernel so that only intervals over ks_offcpu_min_ns reach the agent: a
 * busy machine switches tasks far too often to send every switch.  The
 * agent loads these programs only when --offcpu-min asks for them.
 */
#include "common.bpf.h"
#include "sched.bpf.h"

/* In prev's context: current is the task going off the CPU. */
static __always_inline void ks_off_cpu(__u64 now)
{
	struct ks_offcpu_since since = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	since.start_ns = now;
	since.state = ks_current_state();
	bpf_map_update_elem(&ks_offcpu_since, &tid, &since, BPF_ANY);
}

static __always_inline void ks_on_cpu(struct task_struct *next, __u32 tid,
				      __u64 now)
{
	struct ks_offcpu_since *since;
	struct ks_offcpu *e;

	since = bpf_map_lookup_elem(&ks_offcpu_since, &tid);
	if (!since)
		return;
	if (now - since->start_ns >= ks_offcpu_min_ns) {
		e = ks_reserve(sizeof(*e), KS_EV_OFFCPU);
		if (e) {
			/* Running in prev's context: name next explicitly. */
			e->hdr.tgid = BPF_CORE_READ(next, tgid);
			e->hdr.tid = tid;
			e->start_ns = since->start_ns;
			e->waker_tgid = since->waker_tgid;
			e->waker_tid = since->waker_tid;
			e->state = since->state;
			e->_pad0 = 0;
			ks_submit(e);
		}
	}
	bpf_map_delete_elem(&ks_offcpu_since, &tid);
}

KS_TRACEPOINT(sched_switch, ks_switch, bool preempt, struct task_struct *prev,
	      struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	/* Preempted or still runnable: waiting for a CPU, not for anyone. */
	if (!preempt && ks_current_state() != KS_TASK_RUNNING &&
	    ks_current_selected())
		ks_off_cpu(now);
	ks_on_cpu(next, KS_ARG(next, pid), now);
	return 0;
}

/*
 * sched_waking runs in the waker's context; sched_wakeup may run on the
 * wakee's CPU, in an interrupt on behalf of the waker.  In an interrupt,
 * current is whoever the interrupt hit, not a waker: such wakes (timers,
 * I/O completions) have none.  Wakers that are not watched are not
 * recorded either: the edge would start nowhere.
 */
KS_TRACEPOINT(sched_waking, ks_waking, struct task_struct *task)
{
	__u32 tid = KS_ARG(task, pid);
	struct ks_offcpu_since *since;
	struct ks_wakeup *e;
	__u64 pid_tgid, now;

	since = bpf_map_lookup_elem(&ks_offcpu_since, &tid);
	if (!since || since->waker_tid)
		return 0;
	if (!ks_on_task_stack(ks_current_task()) || !ks_current_selected())
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	since->waker_tgid = pid_tgid >> 32;
	since->waker_tid = (__u32)pid_tgid;
	now = bpf_ktime_get_ns();
	/*
	 * The edge itself, in the waker's stream where it belongs: the
	 * off-CPU record comes later, from the wakee's side.
	 */
	if (now - since->start_ns < ks_offcpu_min_ns)
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_WAKEUP);
	if (!e)
		return 0;
	e->off_since_ns = since->start_ns;
	e->wakee_tgid = KS_ARG(task, tgid);
	e->wakee_tid = tid;
	ks_submit(e);
	return 0;
}
