// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The spans of threads: a span per lock wait and per blocking pipe, unix
 * socket or eventfd read over --min-wait, per off-CPU interval over
 * --offcpu-min, each with a link to the span its releaser had just ended;
 * a span per HTTP request; a span per blocked wait of a deadlock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/trace_ids.h"
#include "model/wait_target.h"
#include "report/io_wait_describe.h"
#include "report/report.h"
#include "stacks/wait_site.h"
#include "telemetry/http_otlp.h"
#include "telemetry/internal.h"

/* A thread's span being made: its ids, and its parent when it has one. */
struct ks_thread_span {
	struct ks_span_ref ref;
	bool has_parent;
	uint8_t parent_id[KS_SPAN_ID_LEN];
};

static void ks_add_hex(struct ks_otlp_attrs *attrs, const char *key,
		       uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	ks_otlp_attrs_str(attrs, key, buf);
}

/*
 * Unwinding a stack with libdw costs tens to hundreds of microseconds: at
 * most this share of the main thread goes to it, so a flood of waits
 * cannot stall the loop.  Spans past the budget go without their site.
 * The share is of the thread's own CPU time: on a busy machine the same
 * unwinding takes longer by the clock, and would shed sites for nothing.
 */
#define KS_UNWIND_WINDOW_NS (100 * 1000000ull)
#define KS_UNWIND_BUDGET_NS (20 * 1000000ull)

static bool ks_unwind_allowed(struct ks_telemetry *telemetry, uint64_t now)
{
	if (now - telemetry->unwind_window_ns >= KS_UNWIND_WINDOW_NS) {
		telemetry->unwind_window_ns = now;
		telemetry->unwind_spent_ns = 0;
	}
	return telemetry->unwind_spent_ns < KS_UNWIND_BUDGET_NS;
}

/* budgeted: a span of a flood's kind, rather than of a deadlock. */
static void ks_add_site(struct ks_telemetry *telemetry,
			const struct ks_thread *thread, bool budgeted,
			struct ks_otlp_attrs *attrs)
{
	uint64_t start;
	struct ks_frame site;
	int found;

	if (budgeted && !ks_unwind_allowed(telemetry, ks_now_mono_ns())) {
		telemetry->shed.span_sites++;
		return;
	}
	start = ks_thread_cpu_ns();
	found = ks_wait_site(telemetry->symbolizer, thread, &site);
	telemetry->unwind_spent_ns += ks_thread_cpu_ns() - start;
	if (found)
		return;
	if (site.function[0])
		ks_otlp_attrs_str(attrs, "code.function.name", site.function);
	if (site.file[0]) {
		ks_otlp_attrs_str(attrs, "code.file.path", site.file);
		ks_otlp_attrs_int(attrs, "code.line.number", site.line);
	}
	if (site.module[0]) {
		ks_otlp_attrs_str(attrs, "knotscope.code.module", site.module);
		ks_add_hex(attrs, "knotscope.code.module_offset",
			   site.module_offset);
	}
}

static void ks_add_thread_attrs(const struct ks_thread *thread,
				struct ks_otlp_attrs *attrs)
{
	ks_otlp_attrs_int(attrs, "thread.id", thread->tid);
	ks_otlp_attrs_str(attrs, "thread.name", thread->comm);
}

/* What a wait was for, from the record of the lock it waits on. */
static void ks_add_wait_attrs(struct ks_telemetry *telemetry,
			      const struct ks_thread *thread, bool budgeted,
			      struct ks_otlp_attrs *attrs)
{
	const struct ks_thread_wait *wait = &thread->wait;
	const struct ks_wait_begin *lock = ks_lock_wait(wait);
	char buf[64];

	ks_add_thread_attrs(thread, attrs);
	ks_otlp_attrs_str(attrs, "knotscope.lock.kind",
			  ks_lock_kind_name(wait->lock_kind));
	ks_add_hex(attrs, "knotscope.lock.address", wait->lock_addr);
	if (wait->mutex_kind != UINT32_MAX) {
		ks_mutex_kind_describe(wait->mutex_kind, buf, sizeof(buf));
		ks_otlp_attrs_str(attrs, "knotscope.mutex.type", buf);
	}
	if (wait->holder_tid)
		ks_otlp_attrs_int(attrs, "knotscope.lock.holder.tid",
				  wait->holder_tid);
	ks_futex_op_describe(lock->op, buf, sizeof(buf));
	ks_otlp_attrs_str(attrs, "knotscope.futex.op", buf);
	ks_add_site(telemetry, thread, budgeted, attrs);
}

static OtlpSpan *ks_wait_span(struct ks_telemetry *telemetry,
			      const struct ks_thread *thread, bool budgeted,
			      const uint8_t trace_id[KS_TRACE_ID_LEN],
			      const uint8_t span_id[KS_SPAN_ID_LEN],
			      uint64_t end_mono_ns)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char name[48];
	OtlpSpan *span;

	ks_add_wait_attrs(telemetry, thread, budgeted, &attrs);
	snprintf(name, sizeof(name), "wait for %s",
		 ks_lock_kind_family(thread->wait.lock_kind));
	span = ks_otlp_span_new(
		trace_id, span_id, name,
		ks_mono_to_real_ns(thread->wait.begin.hdr.ts_ns),
		ks_mono_to_real_ns(end_mono_ns));
	if (!span || ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_attrs_release(&attrs);
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

/* The acquire that ended at ts, if the thread's latest one did. */
static const struct ks_edge_source *
ks_acquired_at(const struct ks_thread *thread, uint64_t ts)
{
	const struct ks_edge_source *source = &thread->causal.acquired;

	return source->kind && source->acquire_ns == ts ? source : NULL;
}

/*
 * The span goes out once its end's place in the happens-before order is
 * known: a point of thread at end_ns, which must not be older than the
 * thread's records already handed to the engine.
 */
static void ks_export_with_point(struct ks_telemetry *telemetry,
				 struct ks_thread *thread,
				 struct ks_otlp_resource *resource,
				 const struct ks_otlp_scope *scope,
				 OtlpSpan *span, uint64_t end_ns)
{
	uint64_t stamp;

	if (!telemetry->causality) {
		ks_otlp_export_span(telemetry->exporter, resource, scope, span);
		return;
	}
	stamp = ks_causality_stamp(telemetry->causality, thread, end_ns);
	/* Full: this one goes out without its point rather than wait. */
	if (ks_span_hold_push(&telemetry->held, span, resource, scope, stamp)) {
		telemetry->shed.hb_points++;
		ks_otlp_export_span(telemetry->exporter, resource, scope, span);
	}
}

/*
 * Every span of a thread's own wait goes out through here: it becomes the
 * span the thread's next releases link back to.
 */
static void
ks_emit_thread_span(struct ks_telemetry *telemetry, struct ks_thread *thread,
		    struct ks_otlp_resource *resource,
		    const struct ks_otlp_scope *scope, OtlpSpan *span,
		    const struct ks_thread_span *made, uint64_t end_ns)
{
	if (made->has_parent &&
	    ks_otlp_span_set_parent(span, made->parent_id)) {
		ks_otlp_message_free(span);
		return;
	}
	thread->causal.last_span = made->ref;
	ks_export_with_point(telemetry, thread, resource, scope, span, end_ns);
}

/*
 * A new span of a thread from since_ns to until_ns: its ids, and the
 * resource of its process, or NULL when the sampler drops it.  Time a
 * thread spends blocked while it serves an HTTP request is part of that
 * request: the span is a child of the request's SERVER span (sampled, or
 * it would not be offered), in its trace.  Otherwise it goes into the
 * trace of the thread's busy period (span_groups.h), or, with no room for
 * one, starts a trace of its own.
 */
static struct ks_otlp_resource *
ks_span_start(struct ks_telemetry *telemetry, struct ks_thread *thread,
	      uint64_t since_ns, uint64_t until_ns, struct ks_thread_span *made)
{
	struct ks_otlp_resource *resource;
	struct ks_group_slot slot;
	bool sampled;

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES))
		return NULL;
	/* Before a busy period counts it: a span not made is in none. */
	if (telemetry->shedding) {
		telemetry->shed.spans++;
		return NULL;
	}
	if (ks_otlp_exporter_full(telemetry->exporter, KS_OTLP_TRACES)) {
		ks_otlp_export_skipped(telemetry->exporter, KS_OTLP_TRACES);
		return NULL;
	}
	resource = ks_resource_of(telemetry, thread->process);
	if (!resource)
		return NULL;
	made->ref.valid = true;
	made->has_parent =
		telemetry->metrics.http &&
		ks_http_spans_enclosing(telemetry->metrics.http, thread->tgid,
					thread->tid, since_ns,
					made->ref.trace_id, made->parent_id);
	if (made->has_parent) {
		sampled = true;
	} else if (ks_span_groups_join(telemetry->groups, thread, resource,
				       since_ns, until_ns, &telemetry->sampler,
				       telemetry->exporter, &slot)) {
		made->has_parent = true;
		memcpy(made->ref.trace_id, slot.trace_id, KS_TRACE_ID_LEN);
		memcpy(made->parent_id, slot.root_id, KS_SPAN_ID_LEN);
		sampled = slot.sampled;
	} else {
		ks_trace_id_new(made->ref.trace_id);
		sampled = ks_sampler_sample(&telemetry->sampler,
					    made->ref.trace_id, KS_PARENT_NONE);
	}
	if (!sampled)
		return NULL;
	ks_span_id_new(made->ref.span_id);
	return resource;
}

static void ks_on_wait_ended(void *ctx, struct ks_thread *thread,
			     const struct ks_wait_end *end)
{
	struct ks_telemetry *telemetry = ctx;
	const struct ks_edge_source *source;
	struct ks_otlp_resource *resource;
	struct ks_thread_span made;
	OtlpSpan *span;

	if (ks_lasted_ns(end->begin_ts_ns, end->hdr.ts_ns) <
	    telemetry->min_wait_ns)
		return;
	source = ks_acquired_at(thread, end->hdr.ts_ns);
	/*
	 * Condvars, semaphores, barriers: idle workers wait on them all day,
	 * so only a wait that another thread's wake ended is worth a span.
	 */
	if (thread->wait.lock_kind == KS_LOCK_NONE && (!source || end->ret))
		return;
	resource = ks_span_start(telemetry, thread, end->begin_ts_ns,
				 end->hdr.ts_ns, &made);
	if (!resource)
		return;
	span = ks_wait_span(telemetry, thread, true, made.ref.trace_id,
			    made.ref.span_id, end->hdr.ts_ns);
	if (!span)
		return;
	if (source)
		ks_span_add_edges(span, source, 1);
	ks_emit_thread_span(telemetry, thread, resource, &ks_scope_locks, span,
			    &made, end->hdr.ts_ns);
}

/* A kernel lock wait: its thread and its holder; no user site to name. */
static void ks_on_klock_ended(void *ctx, struct ks_thread *thread,
			      const struct ks_klock_end *end)
{
	struct ks_telemetry *telemetry = ctx;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_resource *resource;
	struct ks_wait_target target = { 0 };
	struct ks_thread_span made;
	char name[48], address[32];
	OtlpSpan *span;

	if (ks_lasted_ns(end->begin_ts_ns, end->hdr.ts_ns) <
	    telemetry->min_wait_ns)
		return;
	resource = ks_span_start(telemetry, thread, end->begin_ts_ns,
				 end->hdr.ts_ns, &made);
	if (!resource)
		return;
	target.kind = ks_klock_kind(thread->klock.flags);
	target.lock_addr = thread->klock.lock;
	snprintf(name, sizeof(name), "wait for %s",
		 ks_lock_kind_name(target.kind));
	span = ks_otlp_span_new(made.ref.trace_id, made.ref.span_id, name,
				ks_mono_to_real_ns(end->begin_ts_ns),
				ks_mono_to_real_ns(end->hdr.ts_ns));
	if (!span)
		return;
	ks_lock_address_describe(&target, address, sizeof(address));
	ks_add_thread_attrs(thread, &attrs);
	ks_otlp_attrs_str(&attrs, "knotscope.lock.kind",
			  ks_lock_kind_name(target.kind));
	ks_otlp_attrs_str(&attrs, "knotscope.lock.address", address);
	if (thread->klock.owner_tid)
		ks_otlp_attrs_int(&attrs, "knotscope.lock.holder.tid",
				  thread->klock.owner_tid);
	if (end->ret)
		ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR,
					"lock not acquired");
	if (ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return;
	}
	ks_emit_thread_span(telemetry, thread, resource, &ks_scope_locks, span,
			    &made, end->hdr.ts_ns);
}

static const char *ks_channel_name(uint8_t kind)
{
	switch (kind) {
	case KS_IO_PIPE:
		return "pipe";
	case KS_IO_UNIX:
		return "unix_socket";
	case KS_IO_EVENTFD:
		return "eventfd";
	}
	return "unknown";
}

/* A read that blocked for data, linked to the write that brought it. */
static void ks_on_channel_read(void *ctx, struct ks_thread *thread,
			       const struct ks_io *io)
{
	struct ks_telemetry *telemetry = ctx;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	const struct ks_edge_source *source;
	struct ks_otlp_resource *resource;
	struct ks_thread_span made;
	char name[48];
	OtlpSpan *span;

	if (ks_lasted_ns(io->begin_ns, io->hdr.ts_ns) < telemetry->min_wait_ns)
		return;
	resource = ks_span_start(telemetry, thread, io->begin_ns, io->hdr.ts_ns,
				 &made);
	if (!resource)
		return;
	snprintf(name, sizeof(name), "read %s", ks_channel_name(io->kind));
	span = ks_otlp_span_new(made.ref.trace_id, made.ref.span_id, name,
				ks_mono_to_real_ns(io->begin_ns),
				ks_mono_to_real_ns(io->hdr.ts_ns));
	if (!span)
		return;
	ks_add_thread_attrs(thread, &attrs);
	ks_otlp_attrs_str(&attrs, "knotscope.channel.kind",
			  ks_channel_name(io->kind));
	ks_otlp_attrs_int(&attrs, "knotscope.channel.fd", io->fd);
	/* Unknown where the read was seen by the scheduler, not returning. */
	if (io->bytes)
		ks_otlp_attrs_int(&attrs, "knotscope.channel.bytes",
				  (int64_t)io->bytes);
	if (ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return;
	}
	source = ks_acquired_at(thread, io->hdr.ts_ns);
	if (source)
		ks_span_add_edges(span, source, 1);
	ks_emit_thread_span(telemetry, thread, resource, &ks_scope_hb, span,
			    &made, io->hdr.ts_ns);
}

/* TASK_INTERRUPTIBLE and TASK_UNINTERRUPTIBLE, under flags like FREEZABLE. */
static const char *ks_task_state_name(uint32_t state)
{
	if (state & 1)
		return "interruptible";
	if (state & 2)
		return "uninterruptible";
	return "other";
}

/* What the thread was blocked in, when the kernel side saw it. */
static void ks_add_offcpu_cause(const struct ks_thread *thread,
				const struct ks_offcpu *off,
				struct ks_otlp_attrs *attrs)
{
	const struct ks_thread_wait *wait = &thread->wait;
	uint64_t began = wait->begin.hdr.ts_ns;

	/*
	 * A futex call's wait is still on when the thread comes back; one
	 * taken from the scheduler begins as the thread leaves the CPU and
	 * ended when it was woken, before this record.
	 */
	if (began <= off->hdr.ts_ns &&
	    (wait->active ? began <= off->start_ns : began >= off->start_ns)) {
		ks_otlp_attrs_str(attrs, "knotscope.offcpu.in", "futex_wait");
		ks_otlp_attrs_str(attrs, "knotscope.lock.kind",
				  ks_lock_kind_name(wait->lock_kind));
		ks_add_hex(attrs, "knotscope.lock.address",
			   ks_lock_wait(wait)->uaddr);
	} else if (thread->klock.active &&
		   thread->klock.begin_ts_ns <= off->start_ns) {
		ks_otlp_attrs_str(attrs, "knotscope.offcpu.in", "kernel_lock");
	}
}

/*
 * Time off CPU over --offcpu-min, linked to the thread that woke it.  The
 * waker's wakeup record came first, from the waker's own stream.
 */
static void ks_on_off_cpu(void *ctx, struct ks_thread *thread,
			  const struct ks_offcpu *off)
{
	struct ks_telemetry *telemetry = ctx;
	const struct ks_edge_source *woken = &thread->causal.woken;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_resource *resource;
	struct ks_thread_span made;
	OtlpSpan *span;

	resource = ks_span_start(telemetry, thread, off->start_ns,
				 off->hdr.ts_ns, &made);
	if (!resource)
		return;
	span = ks_otlp_span_new(made.ref.trace_id, made.ref.span_id, "off cpu",
				ks_mono_to_real_ns(off->start_ns),
				ks_mono_to_real_ns(off->hdr.ts_ns));
	if (!span)
		return;
	ks_add_thread_attrs(thread, &attrs);
	ks_otlp_attrs_str(&attrs, "knotscope.offcpu.state",
			  ks_task_state_name(off->state));
	ks_add_offcpu_cause(thread, off, &attrs);
	if (ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return;
	}
	if (woken->kind && woken->release_ns >= off->start_ns &&
	    woken->release_ns <= off->hdr.ts_ns)
		ks_span_add_edges(span, woken, 1);
	ks_emit_thread_span(telemetry, thread, resource, &ks_scope_hb, span,
			    &made, off->hdr.ts_ns);
}

const struct ks_model_hooks ks_telemetry_hooks = {
	.wait_ended = ks_on_wait_ended,
	.klock_ended = ks_on_klock_ended,
	.channel_read = ks_on_channel_read,
	.off_cpu = ks_on_off_cpu,
};

void ks_telemetry_http_span(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_http_span *span,
			    const char *thread_name)
{
	struct ks_otlp_resource *resource;
	OtlpSpan *otlp;

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES))
		return;
	if (telemetry->shedding) {
		telemetry->shed.spans++;
		return;
	}
	if (ks_otlp_exporter_full(telemetry->exporter, KS_OTLP_TRACES)) {
		ks_otlp_export_skipped(telemetry->exporter, KS_OTLP_TRACES);
		return;
	}
	if (!telemetry->http_shared)
		telemetry->http_shared = ks_http_shared_attrs_new();
	resource = ks_resource_of(telemetry, process);
	if (!resource || !telemetry->http_shared)
		return;
	otlp = ks_http_span_otlp(span, thread_name, telemetry->http_shared);
	if (otlp)
		ks_otlp_export_span(telemetry->exporter, resource,
				    &ks_scope_http, otlp);
}

/* A deadlock's member blocked in I/O: what it waits in and on. */
static OtlpSpan *ks_io_wait_span(const struct ks_deadlock_member *m,
				 const uint8_t trace_id[KS_TRACE_ID_LEN],
				 const uint8_t span_id[KS_SPAN_ID_LEN],
				 uint64_t end_mono_ns)
{
	const struct ks_io_target *io = m->target.io;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	bool first_seen;
	uint64_t since = ks_thread_io_since(&m->thread->io, &first_seen);
	char name[48], object[48];
	OtlpSpan *span;

	snprintf(name, sizeof(name), "wait for %s",
		 ks_io_wait_kind_name(io->kind));
	span = ks_otlp_span_new(trace_id, span_id, name,
				ks_mono_to_real_ns(since),
				ks_mono_to_real_ns(end_mono_ns));
	if (!span)
		return NULL;
	ks_add_thread_attrs(m->thread, &attrs);
	ks_otlp_attrs_str(&attrs, "knotscope.io.kind",
			  ks_io_wait_kind_name(io->kind));
	ks_otlp_attrs_str(&attrs, "knotscope.io.syscall", io->call);
	ks_io_object_describe(io, object, sizeof(object));
	ks_otlp_attrs_str(&attrs, "knotscope.io.object", object);
	if (io->fd >= 0)
		ks_otlp_attrs_int(&attrs, "knotscope.io.fd", io->fd);
	if (ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

/*
 * The root of a deadlock's trace: from when its first member began to wait
 * to the report, in the resource of the first member's process.
 */
static OtlpSpan *ks_deadlock_root(const struct ks_report *report,
				  const uint8_t trace_id[KS_TRACE_ID_LEN],
				  const uint8_t root_id[KS_SPAN_ID_LEN])
{
	const struct ks_deadlock *deadlock = report->deadlock;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	uint64_t start = deadlock->confirmed_mono_ns;
	char id[20];
	OtlpSpan *span;

	for (size_t i = 0; i < deadlock->nr_members; i++) {
		uint64_t begin =
			deadlock->members[i].thread->wait.begin.hdr.ts_ns;

		if (begin && begin < start)
			start = begin;
	}
	span = ks_otlp_span_new(
		trace_id, root_id, "deadlock", ks_mono_to_real_ns(start),
		ks_mono_to_real_ns(deadlock->confirmed_mono_ns));
	if (!span)
		return NULL;
	snprintf(id, sizeof(id), "%016" PRIx64, deadlock->id);
	ks_otlp_attrs_str(&attrs, "error.type", "deadlock");
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.threads",
			  (int64_t)deadlock->nr_members);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.blocked_behind",
			  (int64_t)deadlock->nr_behind);
	if (ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR, "deadlock") ||
	    ks_otlp_span_add_attrs(span, &attrs)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

/*
 * A deadlock becomes one trace: a root span "deadlock", and under it a
 * span per blocked wait, from when it began to the report, status ERROR
 * with error.type deadlock, each linked to the wait of the thread it
 * waits for.
 */
void ks_deadlock_spans(struct ks_telemetry *telemetry,
		       const struct ks_report *report,
		       const uint8_t trace_id[KS_TRACE_ID_LEN],
		       const uint8_t root_id[KS_SPAN_ID_LEN],
		       const uint8_t (*span_ids)[KS_SPAN_ID_LEN])
{
	const struct ks_deadlock *deadlock = report->deadlock;
	size_t n = deadlock->nr_members;
	struct ks_otlp_resource *resource;
	OtlpSpan *root;

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES) ||
	    !ks_sampler_sample(&telemetry->sampler, trace_id, KS_PARENT_NONE))
		return;
	resource =
		ks_resource_of(telemetry, deadlock->members[0].thread->process);
	root = ks_deadlock_root(report, trace_id, root_id);
	if (resource && root)
		ks_otlp_export_span(telemetry->exporter, resource,
				    &ks_scope_locks, root);
	else
		ks_otlp_message_free(root);
	for (size_t i = 0; i < n; i++) {
		struct ks_thread *thread = deadlock->members[i].thread;
		struct ks_otlp_attrs link = KS_OTLP_ATTRS_INIT;
		struct ks_otlp_attrs error = KS_OTLP_ATTRS_INIT;
		OtlpSpan *span;

		resource = ks_resource_of(telemetry, thread->process);
		span = deadlock->members[i].target.io ?
			       ks_io_wait_span(&deadlock->members[i], trace_id,
					       span_ids[i],
					       deadlock->confirmed_mono_ns) :
			       ks_wait_span(telemetry, thread, false, trace_id,
					    span_ids[i],
					    deadlock->confirmed_mono_ns);
		if (!resource || !span) {
			ks_otlp_message_free(span);
			continue;
		}
		ks_otlp_span_set_parent(span, root_id);
		ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR, "deadlock");
		ks_otlp_attrs_str(&error, "error.type", "deadlock");
		ks_otlp_span_add_attrs(span, &error);
		ks_otlp_attrs_str(&link, "knotscope.link.kind", "waits_for");
		ks_otlp_span_add_link(span, trace_id, span_ids[(i + 1) % n],
				      &link);
		/* Blocked since the wait began: its place is the report's. */
		ks_export_with_point(telemetry, thread, resource,
				     &ks_scope_locks, span,
				     deadlock->confirmed_mono_ns);
	}
}
