// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Precise mode: uprobes on the pthread mutex API of the processes named by
 * --precise, and only those (the agent attaches them per process).  Every
 * lock and unlock becomes visible, uncontended ones too, which is what
 * lock-order (potential deadlock) detection needs, at the cost of a uprobe
 * hit per call.  The default mode never loads these.
 */
#include "common.bpf.h"
#include "syscalls.bpf.h"

/*
 * A lock call in progress, for its return probe.  LRU: a thread that dies
 * inside pthread_mutex_lock() never returns to delete its entry, and the
 * oldest such entries make room.  The agent shrinks it to one entry when
 * precise mode is off.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ks_lock_result);
} ks_lock_pending_map;

ks_lock_pending_map ks_lock_pending SEC(".maps");

static __always_inline int ks_lock_call(struct pt_regs *ctx, __u16 call)
{
	struct ks_lock_result pending = {};
	struct ks_lock_call_rec *e;
	struct ks_cpu_stats *stats;
	__u32 tid;

	e = ks_reserve(sizeof(*e), KS_EV_LOCK_CALL);
	if (!e)
		return 0;
	e->mutex = PT_REGS_PARM1(ctx);
	e->call = call;
	e->_pad0 = 0;
	ks_save_user_regs(e->regs, ctx);
	/* At entry the stack starts with the return address: the caller. */
	if (!bpf_probe_read_user(e->stack, sizeof(e->stack),
				 (const void *)e->regs[KS_REG_SP]))
		e->stack_len = sizeof(e->stack);
	else
		e->stack_len = 0;
	if (call != KS_CALL_UNLOCK && call != KS_CALL_DESTROY) {
		tid = e->hdr.tid;
		pending.mutex = e->mutex;
		pending.call = call;
		/* Its result will not be seen: counted like a wait's end. */
		if (bpf_map_update_elem(&ks_lock_pending, &tid, &pending,
					BPF_ANY)) {
			stats = ks_cpu_stats();
			if (stats)
				__sync_fetch_and_add(&stats->inflight_full, 1);
		}
	}
	ks_submit(e);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ks_mutex_lock)
{
	return ks_lock_call(ctx, KS_CALL_LOCK);
}

SEC("uprobe")
int BPF_KPROBE(ks_mutex_timedlock)
{
	return ks_lock_call(ctx, KS_CALL_TIMEDLOCK);
}

SEC("uprobe")
int BPF_KPROBE(ks_mutex_trylock)
{
	return ks_lock_call(ctx, KS_CALL_TRYLOCK);
}

SEC("uprobe")
int BPF_KPROBE(ks_mutex_unlock)
{
	return ks_lock_call(ctx, KS_CALL_UNLOCK);
}

SEC("uprobe")
int BPF_KPROBE(ks_mutex_destroy)
{
	return ks_lock_call(ctx, KS_CALL_DESTROY);
}

/* One return probe for every call that can acquire. */
SEC("uretprobe")
int BPF_KRETPROBE(ks_mutex_return)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ks_lock_result *pending, *e;

	pending = bpf_map_lookup_elem(&ks_lock_pending, &tid);
	if (!pending)
		return 0;
	e = ks_reserve(sizeof(*e), KS_EV_LOCK_RESULT);
	if (e) {
		e->mutex = pending->mutex;
		e->ret = (__s32)PT_REGS_RC(ctx);
		e->call = pending->call;
		e->_pad0 = 0;
		ks_submit(e);
	}
	bpf_map_delete_elem(&ks_lock_pending, &tid);
	return 0;
}
