// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/futex.h>
#include <string.h>

#include "base/log.h"
#include "base/proc.h"
#include "model/wait_target.h"
#include "model/model.h"

const char *ks_event_kind_name(unsigned int kind)
{
	static const char *const names[KS_EV_KIND_MAX] = {
		[KS_EV_WAIT_BEGIN] = "wait_begin",
		[KS_EV_WAIT_END] = "wait_end",
		[KS_EV_FORK] = "fork",
		[KS_EV_EXEC] = "exec",
		[KS_EV_EXIT] = "exit",
		[KS_EV_RENAME] = "rename",
		[KS_EV_WAKE] = "wake",
		[KS_EV_IO] = "io",
		[KS_EV_REAPED] = "reaped",
		[KS_EV_OFFCPU] = "offcpu",
		[KS_EV_KLOCK_BEGIN] = "klock_begin",
		[KS_EV_KLOCK_END] = "klock_end",
		[KS_EV_LOCK_CALL] = "lock_call",
		[KS_EV_LOCK_RESULT] = "lock_result",
		[KS_EV_WAKEUP] = "wakeup",
		[KS_EV_SOCK_OPEN] = "sock_open",
		[KS_EV_SOCK_DATA] = "sock_data",
		[KS_EV_SOCK_CLOSE] = "sock_close",
	};

	return kind < KS_EV_KIND_MAX && names[kind] ? names[kind] : "unknown";
}

/* The smallest each kind can be; socket data records carry bytes too. */
static const size_t ks_record_size[KS_EV_KIND_MAX] = {
	[KS_EV_WAIT_BEGIN] = sizeof(struct ks_wait_begin),
	[KS_EV_WAIT_END] = sizeof(struct ks_wait_end),
	[KS_EV_FORK] = sizeof(struct ks_fork),
	[KS_EV_EXEC] = sizeof(struct ks_exec),
	[KS_EV_EXIT] = sizeof(struct ks_exit),
	[KS_EV_RENAME] = sizeof(struct ks_rename),
	[KS_EV_WAKE] = sizeof(struct ks_wake),
	[KS_EV_IO] = sizeof(struct ks_io),
	[KS_EV_REAPED] = sizeof(struct ks_reaped),
	[KS_EV_OFFCPU] = sizeof(struct ks_offcpu),
	[KS_EV_KLOCK_BEGIN] = sizeof(struct ks_klock_begin),
	[KS_EV_KLOCK_END] = sizeof(struct ks_klock_end),
	[KS_EV_LOCK_CALL] = sizeof(struct ks_lock_call_rec),
	[KS_EV_LOCK_RESULT] = sizeof(struct ks_lock_result),
	[KS_EV_WAKEUP] = sizeof(struct ks_wakeup),
	[KS_EV_SOCK_OPEN] = sizeof(struct ks_sock_open),
	[KS_EV_SOCK_DATA] = sizeof(struct ks_sock_data),
	[KS_EV_SOCK_CLOSE] = sizeof(struct ks_sock_close),
};

int ks_model_subscribe(struct ks_model *model,
		       const struct ks_model_hooks *hooks, void *ctx)
{
	if (model->nr_subscribers == KS_MODEL_MAX_SUBSCRIBERS)
		return -ENOSPC;
	model->subscribers[model->nr_subscribers++] =
		(struct ks_model_subscriber){ hooks, ctx };
	return 0;
}

/* Calls hook(ctx, ...) of every subscriber that has one, in order. */
#define ks_notify(model, hook, ...)                                     \
	do {                                                            \
		for (unsigned int i_ = 0; i_ < (model)->nr_subscribers; \
		     i_++) {                                            \
			const struct ks_model_subscriber *s_ =          \
				&(model)->subscribers[i_];              \
			if (s_->hooks->hook)                            \
				s_->hooks->hook(s_->ctx, __VA_ARGS__);  \
		}                                                       \
	} while (0)

struct ks_thread *ks_model_thread(struct ks_model *model, uint32_t tgid,
				  uint32_t tid)
{
	struct ks_thread *thread = ks_table_thread(&model->table, tid);
	struct ks_proc_task task;
	bool fresh_process;

	if (thread && thread->tgid == tgid)
		return thread;
	if (ks_proc_read_task(tgid, tid, &task))
		return NULL;
	fresh_process = !ks_table_process(&model->table, tgid);
	thread = ks_table_add_thread(&model->table, tgid, tid, task.pidns_ino,
				     task.ns_tid, task.start_ticks, task.comm);
	if (thread && fresh_process && tid != tgid)
		ks_proc_read_comm(tgid, thread->process->comm);
	return thread;
}

/* The process exited, exec'd or stopped matching the selection at ts_ns. */
static void ks_forget_process(struct ks_model *model,
			      struct ks_process *process, const char *why,
			      uint64_t ts_ns)
{
	/* First, while the process still has its resource for the spans. */
	if (model->http)
		ks_http_spans_process_gone(model->http, process->tgid, ts_ns);
	if (model->sink && process->stats.futex_waits)
		ks_json_write_process(model->sink, process, why);
	ks_table_remove_process(&model->table, process);
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_wait_begin(struct ks_model *model,
			     const struct ks_wait_begin *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	struct ks_wait_target target;
	bool pi_refused;

	if (!thread)
		return;
	/* Only the wait right after an EDEADLK is glibc's parking wait. */
	pi_refused = thread->wait.pi_refused && !thread->wait.active;
	thread->wait.active = true;
	thread->wait.begin = *rec;
	thread->wait.refreshed = false;
	thread->wait.pi_refused = pi_refused;

	thread->process->stats.futex_waits++;
	ks_wait_target_resolve(&model->table, thread, &target);
	thread->wait.lock_kind = target.kind;
	thread->wait.holder_tid = target.holder ? target.holder->tid : 0;
	if (target.kind != KS_LOCK_NONE)
		thread->process->stats.lock_waits++;
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_wait_end(struct ks_model *model,
			   const struct ks_wait_end *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_thread_wait *wait;
	uint32_t cmd = rec->op & FUTEX_CMD_MASK;

	if (!thread || !thread->wait.active)
		return;
	wait = &thread->wait;
	/* A seeded wait began before the kernel side saw it: any end fits. */
	if (!(wait->begin.flags & KS_WAIT_SEEDED) &&
	    wait->begin.hdr.ts_ns != rec->begin_ts_ns)
		return;
	if (!(wait->begin.flags & KS_WAIT_SEEDED)) {
		struct ks_process_stats *stats = &thread->process->stats;
		uint64_t waited = rec->hdr.ts_ns - rec->begin_ts_ns;

		stats->wait_ns += waited;
		if (waited > stats->max_wait_ns)
			stats->max_wait_ns = waited;
		if (wait->lock_kind != KS_LOCK_NONE)
			ks_wait_hist_record(&stats->lock_wait[wait->lock_kind],
					    waited);
		ks_notify(model, wait_ended, thread, rec);
	}
	wait->active = false;
	wait->pi_refused = (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) &&
			   rec->ret == -EDEADLK;
	if (wait->pi_refused)
		wait->refused = wait->begin;
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_klock_begin(struct ks_model *model,
			      const struct ks_klock_begin *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	struct ks_thread_klock *klock;

	if (!thread)
		return;
	klock = &thread->klock;
	klock->active = true;
	klock->lock = rec->lock;
	klock->flags = rec->flags;
	klock->owner_tid = rec->owner_tid;
	klock->begin_ts_ns = rec->hdr.ts_ns;
	thread->process->stats.lock_waits++;
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_klock_end(struct ks_model *model,
			    const struct ks_klock_end *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_wait_target target;

	if (!thread || !thread->klock.active ||
	    thread->klock.begin_ts_ns != rec->begin_ts_ns)
		return;
	ks_wait_target_resolve(&model->table, thread, &target);
	ks_wait_hist_record(&thread->process->stats.lock_wait[target.kind],
			    rec->hdr.ts_ns - rec->begin_ts_ns);
	ks_notify(model, klock_ended, thread, rec);
	thread->klock.active = false;
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_fork(struct ks_model *model, const struct ks_fork *rec)
{
	struct ks_thread *thread;

	thread = ks_table_add_thread(
		&model->table, rec->child_tgid, rec->child_tid,
		rec->child.pidns_ino, rec->child.ns_tid,
		ks_table_ns_to_ticks(&model->table,
				     rec->child.start_boottime_ns),
		rec->comm);
	if (!thread)
		return;
	thread->clear_child_tid = rec->clear_child_tid;
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_exec(struct ks_model *model, const struct ks_exec *rec)
{
	uint32_t tgid = rec->hdr.tgid;
	struct ks_process *process = ks_table_process(&model->table, tgid);
	struct ks_thread *leader;

	if (!ks_selection_matches(model->selection, tgid, rec->comm)) {
		if (process)
			ks_forget_process(model, process, "unwatched",
					  rec->hdr.ts_ns);
		return;
	}
	/*
	 * The other threads are gone (their exits came first) and the
	 * caller, if not the leader, took over the leader's tid: start the
	 * process afresh with one thread and new mappings.
	 */
	if (process)
		ks_forget_process(model, process, "exec", rec->hdr.ts_ns);
	leader = ks_table_add_thread(
		&model->table, tgid, tgid, rec->task.pidns_ino,
		rec->task.ns_tid,
		ks_table_ns_to_ticks(&model->table,
				     rec->task.start_boottime_ns),
		rec->comm);
	if (!leader)
		return;
	ks_comm_copy(leader->process->comm, rec->comm);
	/* A new image: its mutex API is somewhere else now, if anywhere. */
	if (model->precise &&
	    ks_precise_wants(model->precise, tgid, rec->comm) &&
	    !ks_precise_attach(model->precise, tgid))
		ks_symbolizer_preload(model->symbolizer, tgid);
}

static void ks_on_exit(struct ks_model *model, const struct ks_exit *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_process *process;

	if (thread && thread->start_ticks ==
			      ks_table_ns_to_ticks(&model->table,
						   rec->task.start_boottime_ns))
		ks_table_remove_thread(&model->table, thread);
	if (model->lockorder)
		ks_lockorder_thread_gone(model->lockorder, rec->hdr.tid);
	if (model->http)
		ks_http_spans_thread_exit(model->http, rec->hdr.tgid,
					  rec->hdr.tid);
	if (rec->flags & KS_EXIT_GROUP_DEAD) {
		process = ks_table_process(&model->table, rec->hdr.tgid);
		if (process)
			ks_forget_process(model, process, "exited",
					  rec->hdr.ts_ns);
	}
	ks_detector_mark_dirty(model->detector);
}

static void ks_on_rename(struct ks_model *model, const struct ks_rename *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);

	if (!thread)
		return;
	ks_comm_copy(thread->comm, rec->comm);
	if (thread->tid != thread->tgid)
		return;
	ks_comm_copy(thread->process->comm, rec->comm);
	if (!ks_selection_matches(model->selection, thread->tgid, rec->comm))
		ks_forget_process(model, thread->process, "unwatched",
				  rec->hdr.ts_ns);
}

static void ks_on_io(struct ks_model *model, const struct ks_io *rec)
{
	struct ks_thread *thread;

	if (rec->write)
		return;
	thread = ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	if (thread)
		ks_notify(model, channel_read, thread, rec);
}

static void ks_on_offcpu(struct ks_model *model, const struct ks_offcpu *rec)
{
	struct ks_thread *thread;

	thread = ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	if (thread)
		ks_notify(model, off_cpu, thread, rec);
}

void ks_events_apply(struct ks_model *model, const void *data, size_t size)
{
	const struct ks_event_header *hdr = data;

	if (size < sizeof(*hdr) || hdr->kind == 0 ||
	    hdr->kind >= KS_EV_KIND_MAX || hdr->size != size ||
	    size < ks_record_size[hdr->kind]) {
		model->malformed++;
		return;
	}
	model->events[hdr->kind]++;
	ks_trace("cpu %u ts %llu kind %u tgid %u tid %u\n", hdr->cpu,
		 (unsigned long long)hdr->ts_ns, hdr->kind, hdr->tgid,
		 hdr->tid);
	if (model->causality)
		ks_causality_apply(model->causality, model, data);
	switch (hdr->kind) {
	case KS_EV_WAIT_BEGIN:
		ks_on_wait_begin(model, data);
		break;
	case KS_EV_WAIT_END:
		ks_on_wait_end(model, data);
		break;
	case KS_EV_FORK:
		ks_on_fork(model, data);
		break;
	case KS_EV_EXEC:
		ks_on_exec(model, data);
		break;
	case KS_EV_EXIT:
		ks_on_exit(model, data);
		break;
	case KS_EV_RENAME:
		ks_on_rename(model, data);
		break;
	case KS_EV_KLOCK_BEGIN:
		ks_on_klock_begin(model, data);
		break;
	case KS_EV_KLOCK_END:
		ks_on_klock_end(model, data);
		break;
	case KS_EV_IO:
		ks_on_io(model, data);
		break;
	case KS_EV_OFFCPU:
		ks_on_offcpu(model, data);
		break;
	case KS_EV_LOCK_CALL:
		if (model->lockorder)
			ks_lockorder_call(model->lockorder, data);
		break;
	case KS_EV_LOCK_RESULT:
		if (model->lockorder)
			ks_lockorder_result(model->lockorder, data);
		break;
	case KS_EV_SOCK_OPEN:
	case KS_EV_SOCK_DATA:
	case KS_EV_SOCK_CLOSE:
		if (model->http && ks_http_spans_apply(model->http, data, size))
			model->malformed++;
		break;
	}
}
