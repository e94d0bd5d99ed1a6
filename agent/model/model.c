// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/futex.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/proc.h"
#include "model/model.h"
#include "model/record.h"
#include "model/wait_target.h"

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

void ks_model_probe_libc(struct ks_process *process)
{
	if (process->libc_probed)
		return;
	process->libc = ks_proc_libc(process->tgid);
	process->libc_probed = true;
}

/* The process exited, exec'd or stopped matching the selection at ts_ns. */
static void ks_forget_process(struct ks_model *model,
			      struct ks_process *process, const char *why,
			      uint64_t ts_ns)
{
	ks_notify(model, process_ended, process, why, ts_ns);
	ks_table_remove_process(&model->table, process);
	model->version++;
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
	/* Without its stack (KS_WAIT_STACK_LATER) the record is shorter. */
	memcpy(&thread->wait.begin, rec,
	       rec->hdr.size < sizeof(*rec) ? rec->hdr.size : sizeof(*rec));
	/* Stacks are unwound from it later: its length must be the truth. */
	if (rec->hdr.size < sizeof(*rec))
		thread->wait.begin.stack_len = 0;
	else if (rec->stack_len > sizeof(rec->stack))
		thread->wait.begin.stack_len = sizeof(rec->stack);
	thread->wait.stack_sought = false;
	thread->wait.refreshed = false;
	thread->wait.guessed = false;
	thread->wait.pi_refused = pi_refused;

	thread->process->stats.futex_waits++;
	ks_model_probe_libc(thread->process);
	ks_wait_target_resolve(&model->table, thread, &target);
	thread->wait.lock_kind = target.kind;
	thread->wait.lock_addr = target.lock_addr;
	thread->wait.mutex_kind = target.mutex_kind;
	thread->wait.holder_tid = target.holder ? target.holder->tid : 0;
	if (target.kind != KS_LOCK_NONE)
		thread->process->stats.lock_waits++;
	model->version++;
}

/*
 * The stack a wait's begin did not copy, read at its end while the thread
 * had not run: for the hooks below, which name the wait's site.
 */
static void ks_take_late_stack(struct ks_thread_wait *wait,
			       const struct ks_wait_end_stack *rec)
{
	struct ks_wait_begin *begin = &wait->begin;

	if (!(begin->flags & KS_WAIT_STACK_LATER) || begin->stack_len)
		return;
	begin->stack_len = rec->stack_len < sizeof(begin->stack) ?
				   rec->stack_len :
				   sizeof(begin->stack);
	memcpy(begin->stack, rec->stack, begin->stack_len);
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
		uint64_t waited =
			ks_lasted_ns(rec->begin_ts_ns, rec->hdr.ts_ns);

		if (rec->hdr.size >= sizeof(struct ks_wait_end_stack))
			ks_take_late_stack(wait, (const void *)rec);

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
	model->version++;
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
	model->version++;
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
			    ks_lasted_ns(rec->begin_ts_ns, rec->hdr.ts_ns));
	ks_notify(model, klock_ended, thread, rec);
	thread->klock.active = false;
	model->version++;
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
	model->version++;
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
}

static void ks_on_exit(struct ks_model *model, const struct ks_exit *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_process *process;

	if (thread && thread->start_ticks ==
			      ks_table_ns_to_ticks(&model->table,
						   rec->task.start_boottime_ns))
		ks_table_remove_thread(&model->table, thread);
	if (rec->flags & KS_EXIT_GROUP_DEAD) {
		process = ks_table_process(&model->table, rec->hdr.tgid);
		if (process)
			ks_forget_process(model, process, "exited",
					  rec->hdr.ts_ns);
	}
	model->version++;
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

/* The latest data the thread took in or gave out, and on which fd. */
static void ks_note_channel(struct ks_thread *thread, int32_t fd, bool write,
			    uint64_t ts_ns, bool at_entry)
{
	struct ks_thread_channels *c = &thread->channels;

	if (write) {
		c->write_fd = fd;
		c->write_ns = ts_ns;
		c->write_at_entry = at_entry;
	} else {
		c->read_fd = fd;
		c->read_ns = ts_ns;
	}
}

static void ks_on_io(struct ks_model *model, const struct ks_io *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);

	/* A stream write's return or a count: nothing the model keeps. */
	if (!thread || (rec->op != KS_IO_WRITE && rec->op != KS_IO_READ))
		return;
	/* A write is recorded as it begins, a read as it returns data. */
	ks_note_channel(thread, rec->fd, rec->op == KS_IO_WRITE, rec->hdr.ts_ns,
			true);
	if (rec->op == KS_IO_READ)
		ks_notify(model, channel_read, thread, rec);
}

/*
 * A blocking channel read seen by the scheduler, as the io record the
 * system call hooks would have made of it, its byte count unknown.
 */
static void ks_on_read_woken(struct ks_model *model,
			     const struct ks_read_woken *rec)
{
	struct ks_io io = {
		.hdr = rec->hdr,
		.object = rec->object,
		.begin_ns = rec->begin_ns,
		.fd = rec->fd,
		.kind = rec->kind,
		.op = KS_IO_READ,
		.inode = rec->inode,
	};

	io.hdr.kind = KS_EV_IO;
	io.hdr.size = sizeof(io);
	ks_on_io(model, &io);
}

/* With --http: a TCP connection's data call, recorded as it returned. */
static void ks_on_sock_data(struct ks_model *model,
			    const struct ks_sock_data *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);

	/* io_uring and splice name no descriptor the kernel side knows. */
	if (thread && thread->tgid == rec->hdr.tgid && rec->total_len &&
	    rec->fd >= 0)
		ks_note_channel(thread, rec->fd, rec->direction == KS_SOCK_SEND,
				rec->hdr.ts_ns, false);
}

static void ks_on_offcpu(struct ks_model *model, const struct ks_offcpu *rec)
{
	struct ks_thread *thread;

	thread = ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	if (thread)
		ks_notify(model, off_cpu, thread, rec);
}

bool ks_model_accept(struct ks_model *model, const void *data, size_t size)
{
	const struct ks_event_header *hdr = data;

	if (!ks_record_valid(data, size)) {
		model->malformed++;
		return false;
	}
	model->events[hdr->kind]++;
	ks_trace("cpu %u ts %llu kind %u tgid %u tid %u\n", hdr->cpu,
		 (unsigned long long)hdr->ts_ns, hdr->kind, hdr->tgid,
		 hdr->tid);
	return true;
}

void ks_model_apply(struct ks_model *model, const void *record)
{
	const struct ks_event_header *hdr = record;

	switch (hdr->kind) {
	case KS_EV_WAIT_BEGIN:
		ks_on_wait_begin(model, record);
		break;
	case KS_EV_WAIT_END:
		ks_on_wait_end(model, record);
		break;
	case KS_EV_FORK:
		ks_on_fork(model, record);
		break;
	case KS_EV_EXEC:
		ks_on_exec(model, record);
		break;
	case KS_EV_EXIT:
		ks_on_exit(model, record);
		break;
	case KS_EV_RENAME:
		ks_on_rename(model, record);
		break;
	case KS_EV_KLOCK_BEGIN:
		ks_on_klock_begin(model, record);
		break;
	case KS_EV_KLOCK_END:
		ks_on_klock_end(model, record);
		break;
	case KS_EV_IO:
		ks_on_io(model, record);
		break;
	case KS_EV_READ_WOKEN:
		ks_on_read_woken(model, record);
		break;
	case KS_EV_OFFCPU:
		ks_on_offcpu(model, record);
		break;
	case KS_EV_SOCK_DATA:
		ks_on_sock_data(model, record);
		break;
	}
}
