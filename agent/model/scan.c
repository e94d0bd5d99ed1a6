// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>

#include "base/clock.h"
#include "base/proc.h"
#include "model/scan.h"

struct ks_scan_ctx {
	struct ks_model *model;
	ks_track_wait_fn track;
	void *track_ctx;
	uint32_t tgid;
	struct ks_scan_result *result;
};

void ks_read_lock_words(uint32_t pid, struct ks_wait_begin *begin)
{
	uint64_t addr = begin->uaddr;

	begin->flags &=
		~(KS_WAIT_WORDS_OK | KS_WAIT_KIND_OK | KS_WAIT_BEFORE_OK);
	memset(begin->words, 0, sizeof(begin->words));
	memset(begin->words_before, 0, sizeof(begin->words_before));
	/* In parts, as the kernel side does: the lock may end a page. */
	if (!ks_proc_read_mem(pid, addr, begin->words, 3 * sizeof(uint32_t)))
		begin->flags |= KS_WAIT_WORDS_OK;
	if (!ks_proc_read_mem(pid, addr + 12, &begin->words[3],
			      3 * sizeof(uint32_t)))
		begin->flags |= KS_WAIT_KIND_OK;
	if (!ks_proc_read_mem(pid, addr - sizeof(begin->words_before),
			      begin->words_before, sizeof(begin->words_before)))
		begin->flags |= KS_WAIT_BEFORE_OK;
}

static bool ks_is_futex_wait(const struct ks_proc_syscall *sc)
{
	/* A wait interrupted by SIGSTOP or ptrace resumes as restart_syscall. */
	if (sc->nr != SYS_futex && sc->nr != SYS_restart_syscall)
		return false;
	switch (sc->args[1] & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return true;
	}
	return false;
}

void ks_read_wait_stack(const struct ks_thread *thread,
			struct ks_wait_begin *begin)
{
	static const size_t tries[] = { sizeof(begin->stack), 128 };
	uint64_t sp = begin->regs[KS_REG_SP];

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (!ks_proc_read_mem(thread->tgid, sp, begin->stack,
				      tries[i])) {
			begin->stack_len = (uint32_t)tries[i];
			return;
		}
	}
}

static void ks_seed_wait(struct ks_scan_ctx *ctx, struct ks_thread *thread,
			 const struct ks_proc_syscall *sc)
{
	struct ks_wait_begin *begin = &thread->wait.begin;
	struct ks_proc_syscall again;
	struct ks_inflight inflight;

	memset(begin, 0, sizeof(*begin));
	begin->hdr.ts_ns = ks_now_mono_ns();
	begin->hdr.tgid = thread->tgid;
	begin->hdr.tid = thread->tid;
	begin->hdr.kind = KS_EV_WAIT_BEGIN;
	begin->hdr.size = sizeof(*begin);
	begin->uaddr = sc->args[0];
	begin->op = (uint32_t)sc->args[1];
	begin->val = (uint32_t)sc->args[2];
	begin->syscall = KS_SYS_FUTEX;
	begin->flags = KS_WAIT_SEEDED;
	if (sc->args[3])
		begin->flags |= KS_WAIT_TIMED;
	if (!(begin->op & FUTEX_PRIVATE_FLAG))
		begin->flags |= KS_WAIT_SHARED;
	ks_read_lock_words(thread->tgid, begin);
	/* /proc shows only these two registers; CFI unwinding copes. */
	begin->regs[KS_REG_IP] = sc->pc;
	begin->regs[KS_REG_SP] = sc->sp;
	ks_read_wait_stack(thread, begin);

	memset(&inflight, 0, sizeof(inflight));
	inflight.begin_ts_ns = 0;
	inflight.uaddr = begin->uaddr;
	inflight.op = begin->op;
	ctx->track(ctx->track_ctx, thread->tid, &inflight);
	/* It may have woken before the kernel side learnt of it. */
	if (ks_proc_read_syscall(thread->tgid, thread->tid, &again) ||
	    memcmp(&again, sc, sizeof(again)))
		return;
	thread->wait.active = true;
	thread->process->stats.futex_waits++;
	ks_model_probe_libc(thread->process);
	ctx->result->nr_seeded_waits++;
}

static int ks_scan_thread(uint32_t tid, void *arg)
{
	struct ks_scan_ctx *ctx = arg;
	struct ks_proc_task task;
	struct ks_proc_syscall sc;
	struct ks_thread *thread;

	if (ks_proc_read_task(ctx->tgid, tid, &task))
		return 0; /* exited meanwhile */
	thread = ks_table_add_thread(&ctx->model->table, ctx->tgid, tid,
				     task.pidns_ino, task.ns_tid,
				     task.start_ticks, task.comm);
	if (!thread)
		return 0;
	ctx->result->nr_threads++;
	if (!thread->wait.active &&
	    !ks_proc_read_syscall(ctx->tgid, tid, &sc) && ks_is_futex_wait(&sc))
		ks_seed_wait(ctx, thread, &sc);
	return 0;
}

static int ks_scan_process(uint32_t tgid, void *arg)
{
	struct ks_scan_ctx *ctx = arg;
	char comm[KS_COMM_LEN];
	struct ks_process *process;

	if (ks_proc_read_comm(tgid, comm) ||
	    !ks_selection_matches(ctx->model->selection, tgid, comm))
		return 0;
	ctx->tgid = tgid;
	ks_proc_for_each_thread(tgid, ks_scan_thread, ctx);
	process = ks_table_process(&ctx->model->table, tgid);
	if (process) {
		memcpy(process->comm, comm, KS_COMM_LEN);
		ctx->result->nr_processes++;
	}
	return 0;
}

int ks_scan(struct ks_model *model, ks_track_wait_fn track, void *track_ctx,
	    struct ks_scan_result *result)
{
	struct ks_scan_ctx ctx = {
		.model = model,
		.track = track,
		.track_ctx = track_ctx,
		.result = result,
	};

	memset(result, 0, sizeof(*result));
	return ks_proc_for_each_process(ks_scan_process, &ctx);
}
