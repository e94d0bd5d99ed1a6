// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread and process lifecycle, so the agent's thread table stays exact
 * between its one /proc scan at start and the end of the run.
 */
#include "common.bpf.h"
#include "io_edges.bpf.h"

KS_TRACEPOINT(sched_process_fork, ks_fork, struct task_struct *parent,
	      struct task_struct *child)
{
	struct ks_fork *e;

	if (!ks_task_selected(child))
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_FORK);
	if (!e)
		return 0;
	ks_fill_task_id(&e->child, child);
	e->child_tgid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	e->clear_child_tid = (__u64)BPF_CORE_READ(child, clear_child_tid);
	e->flags = e->child_tgid == BPF_CORE_READ(parent, tgid) ?
			   KS_FORK_THREAD :
			   0;
	e->_pad0 = 0;
	BPF_CORE_READ_INTO(&e->comm, child, comm);
	ks_submit(e);
	return 0;
}

/*
 * Not filtered: exec is rare, and it is how a process starts or stops
 * matching --comm, which only the agent can tell.
 */
KS_TRACEPOINT(sched_process_exec, ks_exec, struct task_struct *task,
	      pid_t old_pid, struct linux_binprm *bprm)
{
	struct ks_exec *e;

	if (BPF_CORE_READ(task, tgid) == ks_agent_tgid)
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_EXEC);
	if (!e)
		return 0;
	ks_fill_task_id(&e->task, task);
	e->old_tid = old_pid;
	e->_pad0 = 0;
	BPF_CORE_READ_INTO(&e->comm, task, comm);
	ks_submit(e);
	return 0;
}

KS_TRACEPOINT(sched_process_exit, ks_exit, struct task_struct *task)
{
	__u32 tid = BPF_CORE_READ(task, pid);
	struct ks_exit *e;

	/* A thread killed inside a wait never reaches sys_exit; a reader's
	 * slot is kept from read to read, and goes with the thread. */
	bpf_map_delete_elem(&ks_inflight, &tid);
	ks_io_thread_gone(tid);
	if (!ks_task_selected(task))
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_EXIT);
	if (!e)
		return 0;
	ks_fill_task_id(&e->task, task);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	/* signal->live drops to zero before this tracepoint fires. */
	e->flags = BPF_CORE_READ(task, signal, live.counter) == 0 ?
			   KS_EXIT_GROUP_DEAD :
			   0;
	ks_submit(e);
	return 0;
}

/* Fires before the comm changes, so the filter still sees the old name. */
KS_TRACEPOINT(task_rename, ks_rename, struct task_struct *task,
	      const char *comm)
{
	struct ks_rename *e;

	if (!ks_task_selected(task))
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_RENAME);
	if (!e)
		return 0;
	/* The renamed task may not be current (writes to /proc/TID/comm). */
	e->hdr.tgid = BPF_CORE_READ(task, tgid);
	e->hdr.tid = BPF_CORE_READ(task, pid);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	ks_submit(e);
	return 0;
}
