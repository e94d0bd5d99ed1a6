// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/trace_ids.h"
#include "model/wait_target.h"
#include "meta/host_meta.h"
#include "meta/process_meta.h"
#include "report/json_sink.h"
#include "stacks/wait_site.h"
#include "telemetry/http_otlp.h"
#include "telemetry/span_hold.h"
#include "telemetry/telemetry.h"

struct ks_telemetry {
	struct ks_otlp_exporter *exporter;
	struct ks_otlp_resource *agent_resource;
	struct ks_host_meta host;
	struct ks_symbolizer *symbolizer;
	uint64_t min_wait_ns;
	uint64_t metric_interval_ns;
	uint64_t last_metrics_mono_ns;
	bool stopping; /* the final snapshot is sent or being sent */
	/* NULL: spans go out at once, without happens-before points. */
	struct ks_causality *causality;
	struct ks_span_hold held;
	/* NULL without --http: thread spans have no request to sit in. */
	struct ks_http_spans *http;
};

/* A thread's span being made: its ids, and its parent when it has one. */
struct ks_thread_span {
	struct ks_span_ref ref;
	bool has_parent;
	uint8_t parent_id[KS_SPAN_ID_LEN];
};

/*
 * Spans wait for their points for the engine's reorder window and a tick:
 * a few milliseconds' worth of spans, even on a busy node.
 */
#define KS_MAX_HELD_SPANS 65536

typedef void (*ks_text_writer)(FILE *out, const void *report);

/* What a report writes to stderr, as a string for a log record's body. */
static char *ks_render_text(ks_text_writer write, const void *report)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	write(out, report);
	fclose(out);
	return text;
}

static void ks_write_deadlock_text(FILE *out, const void *report)
{
	ks_report_write_text(out, report);
}

static void ks_write_inversion_text(FILE *out, const void *report)
{
	ks_inversion_write_text(out, report);
}

struct ks_telemetry *ks_telemetry_new(const struct ks_otlp_config *cfg,
				      uint64_t min_wait_ns,
				      struct ks_symbolizer *symbolizer,
				      char *err, size_t err_size)
{
	struct ks_telemetry *telemetry = calloc(1, sizeof(*telemetry));
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!telemetry) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	telemetry->exporter = ks_otlp_exporter_new(cfg, err, err_size);
	if (!telemetry->exporter)
		goto fail;
	ks_host_meta_read(&telemetry->host);
	ks_otlp_attrs_add_configured(&attrs, cfg);
	ks_otlp_attrs_int(&attrs, "process.pid", getpid());
	ks_host_meta_add(&telemetry->host, &attrs);
	telemetry->agent_resource = ks_otlp_resource_new(&attrs);
	if (!telemetry->agent_resource) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (ks_span_hold_init(&telemetry->held, KS_MAX_HELD_SPANS)) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	telemetry->symbolizer = symbolizer;
	telemetry->min_wait_ns = min_wait_ns;
	telemetry->metric_interval_ns =
		(uint64_t)cfg->metric_export_interval_ms * 1000000ull;
	return telemetry;
fail:
	ks_telemetry_free(telemetry);
	return NULL;
}

int ks_telemetry_start(struct ks_telemetry *telemetry)
{
	telemetry->last_metrics_mono_ns = ks_now_mono_ns();
	return ks_otlp_exporter_start(telemetry->exporter);
}

bool ks_telemetry_wants_spans(const struct ks_telemetry *telemetry)
{
	return ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES);
}

void ks_telemetry_set_causality(struct ks_telemetry *telemetry,
				struct ks_causality *causality)
{
	telemetry->causality = causality;
}

void ks_telemetry_set_http(struct ks_telemetry *telemetry,
			   struct ks_http_spans *http)
{
	telemetry->http = http;
}

void ks_telemetry_stop(struct ks_telemetry *telemetry, unsigned int timeout_ms)
{
	if (telemetry->causality) {
		ks_causality_flush(telemetry->causality);
		ks_span_hold_release(&telemetry->held, telemetry->causality,
				     telemetry->exporter, true);
	}
	telemetry->stopping = true;
	ks_otlp_exporter_stop(telemetry->exporter, timeout_ms);
}

void ks_telemetry_free(struct ks_telemetry *telemetry)
{
	if (!telemetry)
		return;
	ks_span_hold_destroy(&telemetry->held);
	ks_otlp_exporter_free(telemetry->exporter);
	ks_otlp_resource_put(telemetry->agent_resource);
	free(telemetry);
}

void ks_telemetry_stats(struct ks_telemetry *telemetry,
			struct ks_otlp_stats *stats)
{
	ks_otlp_exporter_stats(telemetry->exporter, stats);
}

/* Made when first needed: most watched processes never send anything. */
static struct ks_otlp_resource *ks_resource_of(struct ks_telemetry *telemetry,
					       struct ks_process *process)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!process->resource) {
		ks_process_meta_add(process->tgid, process->comm,
				    &telemetry->host, &attrs);
		process->resource = ks_otlp_resource_new(&attrs);
	}
	return process->resource;
}

void ks_telemetry_inversion(struct ks_telemetry *telemetry,
			    struct ks_process *process,
			    const struct ks_inversion_report *report)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_resource *resource;
	OtlpLogRecord *record = NULL;
	char *body = NULL, *json = NULL;
	char id[20];

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS))
		return;
	resource = ks_resource_of(telemetry, process);
	body = ks_render_text(ks_write_inversion_text, report);
	json = ks_json_inversion_string(report);
	if (!resource || !body || !json)
		goto cleanup;
	record = ks_otlp_log_new(report->real_ns, ks_now_real_ns(),
				 KS_OTLP_SEVERITY_WARN,
				 "knotscope.lock_order_inversion", body);
	if (!record)
		goto cleanup;
	snprintf(id, sizeof(id), "%016" PRIx64, report->found->id);
	ks_otlp_attrs_str(&attrs, "knotscope.inversion.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.inversion.mutexes",
			  (int64_t)report->found->nr_orders);
	ks_otlp_attrs_str(&attrs, "knotscope.inversion.report", json);
	if (ks_otlp_attrs_move(&attrs, &record->attributes,
			       &record->n_attributes)) {
		ks_otlp_message_free(record);
		goto cleanup;
	}
	ks_otlp_export_log(telemetry->exporter, resource, record);
cleanup:
	free(body);
	free(json);
}

struct ks_otlp_builder {
	struct ks_telemetry *telemetry;
	struct ks_otlp_metrics *snapshot;
	uint64_t now_real_ns;
	/* The metric being filled, and whose: samples of one come together. */
	OtlpMetric *metric;
	const struct ks_metric_desc *desc;
	struct ks_otlp_resource *resource;
};

static void ks_add_hex(struct ks_otlp_attrs *attrs, const char *key,
		       uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	ks_otlp_attrs_str(attrs, key, buf);
}

static void ks_add_site(struct ks_telemetry *telemetry,
			const struct ks_thread *thread,
			struct ks_otlp_attrs *attrs)
{
	struct ks_frame site;

	if (ks_wait_site(telemetry->symbolizer, thread, &site))
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
			      const struct ks_thread *thread,
			      struct ks_otlp_attrs *attrs)
{
	const struct ks_thread_wait *wait = &thread->wait;
	const struct ks_wait_begin *lock = ks_lock_wait(wait);
	char buf[64];

	ks_add_thread_attrs(thread, attrs);
	ks_otlp_attrs_str(attrs, "knotscope.lock.kind",
			  ks_lock_kind_name(wait->lock_kind));
	ks_add_hex(attrs, "knotscope.lock.address", lock->uaddr);
	if (wait->lock_kind != KS_LOCK_THREAD_EXIT &&
	    wait->lock_kind != KS_LOCK_NONE &&
	    (lock->flags & KS_WAIT_KIND_OK)) {
		ks_mutex_kind_describe(lock->words[4], buf, sizeof(buf));
		ks_otlp_attrs_str(attrs, "knotscope.mutex.type", buf);
	}
	if (wait->holder_tid)
		ks_otlp_attrs_int(attrs, "knotscope.lock.holder.tid",
				  wait->holder_tid);
	ks_futex_op_describe(lock->op, buf, sizeof(buf));
	ks_otlp_attrs_str(attrs, "knotscope.futex.op", buf);
	ks_add_site(telemetry, thread, attrs);
}

static OtlpSpan *ks_wait_span(struct ks_telemetry *telemetry,
			      const struct ks_thread *thread,
			      const uint8_t trace_id[KS_TRACE_ID_LEN],
			      const uint8_t span_id[KS_SPAN_ID_LEN],
			      uint64_t end_mono_ns)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char name[48];
	OtlpSpan *span;

	snprintf(name, sizeof(name), "wait for %s",
		 ks_lock_kind_name(thread->wait.lock_kind));
	span = ks_otlp_span_new(
		trace_id, span_id, name,
		ks_mono_to_real_ns(thread->wait.begin.hdr.ts_ns),
		ks_mono_to_real_ns(end_mono_ns));
	if (!span)
		return NULL;
	ks_add_wait_attrs(telemetry, thread, &attrs);
	if (ks_otlp_attrs_move(&attrs, &span->attributes,
			       &span->n_attributes)) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

/* The edge a span ends on: who released it, and a link to their span. */
static void ks_add_edge(OtlpSpan *span, const struct ks_edge_source *source)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_attrs link = KS_OTLP_ATTRS_INIT;

	ks_otlp_attrs_str(&attrs, "knotscope.hb.edge",
			  ks_edge_kind_name(source->kind));
	ks_otlp_attrs_int(&attrs, "knotscope.hb.source.tid", source->tid);
	ks_otlp_attrs_move(&attrs, &span->attributes, &span->n_attributes);
	if (!source->span.valid)
		return;
	ks_otlp_attrs_str(&link, "knotscope.link.kind",
			  ks_edge_kind_name(source->kind));
	ks_otlp_span_add_link(span, source->span.trace_id, source->span.span_id,
			      &link);
}

/* The acquire that ended at ts, if the thread's latest one did. */
static const struct ks_edge_source *
ks_acquired_at(const struct ks_thread *thread, uint64_t ts)
{
	const struct ks_edge_source *source = &thread->causal.acquired;

	return source->kind && source->acquire_ns == ts ? source : NULL;
}

/*
 * Every span of a thread goes out through here: it becomes the span the
 * thread's next releases link back to, and waits for its happens-before
 * point at its end.
 */
static void
ks_emit_thread_span(struct ks_telemetry *telemetry, struct ks_thread *thread,
		    struct ks_otlp_resource *resource, OtlpSpan *span,
		    const struct ks_thread_span *made, uint64_t end_ns)
{
	uint64_t stamp;

	if (made->has_parent &&
	    ks_otlp_span_set_parent(span, made->parent_id)) {
		ks_otlp_message_free(span);
		return;
	}
	thread->causal.last_span = made->ref;
	if (!telemetry->causality) {
		ks_otlp_export_span(telemetry->exporter, resource, span);
		return;
	}
	stamp = ks_causality_stamp(telemetry->causality, thread, end_ns);
	/* Full: this one goes out without its point rather than wait. */
	if (ks_span_hold_push(&telemetry->held, span, resource, stamp))
		ks_otlp_export_span(telemetry->exporter, resource, span);
}

/*
 * A new span of a thread that began waiting at since_ns: its ids, and the
 * resource of its process.  Time a thread spends blocked while it serves
 * an HTTP request is part of that request: the span is a child of the
 * request's SERVER span, in its trace.  Otherwise it starts a trace.
 */
static struct ks_otlp_resource *ks_span_start(struct ks_telemetry *telemetry,
					      struct ks_thread *thread,
					      uint64_t since_ns,
					      struct ks_thread_span *made)
{
	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_TRACES))
		return NULL;
	made->ref.valid = true;
	made->has_parent =
		telemetry->http &&
		ks_http_spans_enclosing(telemetry->http, thread->tgid,
					thread->tid, since_ns,
					made->ref.trace_id, made->parent_id);
	if (!made->has_parent)
		ks_trace_id_new(made->ref.trace_id);
	ks_span_id_new(made->ref.span_id);
	return ks_resource_of(telemetry, thread->process);
}

static void ks_on_wait_ended(void *ctx, struct ks_thread *thread,
			     const struct ks_wait_end *end)
{
	struct ks_telemetry *telemetry = ctx;
	const struct ks_edge_source *source;
	struct ks_otlp_resource *resource;
	struct ks_thread_span made;
	OtlpSpan *span;

	if (end->hdr.ts_ns - end->begin_ts_ns < telemetry->min_wait_ns)
		return;
	source = ks_acquired_at(thread, end->hdr.ts_ns);
	/*
	 * Condvars, semaphores, barriers: idle workers wait on them all day,
	 * so only a wait that another thread's wake ended is worth a span.
	 */
	if (thread->wait.lock_kind == KS_LOCK_NONE && (!source || end->ret))
		return;
	resource = ks_span_start(telemetry, thread, end->begin_ts_ns, &made);
	if (!resource)
		return;
	span = ks_wait_span(telemetry, thread, made.ref.trace_id,
			    made.ref.span_id, end->hdr.ts_ns);
	if (!span)
		return;
	if (source)
		ks_add_edge(span, source);
	ks_emit_thread_span(telemetry, thread, resource, span, &made,
			    end->hdr.ts_ns);
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

	if (end->hdr.ts_ns - end->begin_ts_ns < telemetry->min_wait_ns)
		return;
	resource = ks_span_start(telemetry, thread, end->begin_ts_ns, &made);
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
	if (ks_otlp_attrs_move(&attrs, &span->attributes,
			       &span->n_attributes)) {
		ks_otlp_message_free(span);
		return;
	}
	ks_emit_thread_span(telemetry, thread, resource, span, &made,
			    end->hdr.ts_ns);
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

	if (io->hdr.ts_ns - io->begin_ns < telemetry->min_wait_ns)
		return;
	resource = ks_span_start(telemetry, thread, io->begin_ns, &made);
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
	ks_otlp_attrs_int(&attrs, "knotscope.channel.bytes",
			  (int64_t)io->bytes);
	if (ks_otlp_attrs_move(&attrs, &span->attributes,
			       &span->n_attributes)) {
		ks_otlp_message_free(span);
		return;
	}
	source = ks_acquired_at(thread, io->hdr.ts_ns);
	if (source)
		ks_add_edge(span, source);
	ks_emit_thread_span(telemetry, thread, resource, span, &made,
			    io->hdr.ts_ns);
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

	if (wait->active && wait->begin.hdr.ts_ns <= off->start_ns) {
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

	resource = ks_span_start(telemetry, thread, off->start_ns, &made);
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
	if (ks_otlp_attrs_move(&attrs, &span->attributes,
			       &span->n_attributes)) {
		ks_otlp_message_free(span);
		return;
	}
	if (woken->kind && woken->release_ns >= off->start_ns &&
	    woken->release_ns <= off->hdr.ts_ns)
		ks_add_edge(span, woken);
	ks_emit_thread_span(telemetry, thread, resource, span, &made,
			    off->hdr.ts_ns);
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
	resource = ks_resource_of(telemetry, process);
	if (!resource)
		return;
	otlp = ks_http_span_otlp(span, thread_name);
	if (otlp)
		ks_otlp_export_span(telemetry->exporter, resource, otlp);
}

/* "id,id,...": the spans of the blocked waits, in the report's order. */
static char *ks_span_id_list(const uint8_t (*span_ids)[KS_SPAN_ID_LEN],
			     size_t n)
{
	char *list = malloc(n * (2 * KS_SPAN_ID_LEN + 1) + 1), *at = list;

	if (!list)
		return NULL;
	*at = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*at++ = ',';
		for (int b = 0; b < KS_SPAN_ID_LEN; b++)
			at += sprintf(at, "%02x", span_ids[i][b]);
	}
	return list;
}

static OtlpLogRecord *ks_deadlock_log(const struct ks_report *report,
				      const uint8_t trace_id[KS_TRACE_ID_LEN],
				      const uint8_t (*span_ids)[KS_SPAN_ID_LEN])
{
	const struct ks_deadlock *deadlock = report->deadlock;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char *body = ks_render_text(ks_write_deadlock_text, report);
	char *json = ks_json_deadlock_string(report);
	char *spans = ks_span_id_list(span_ids, deadlock->nr_members);
	OtlpLogRecord *record = NULL;
	char id[20];

	if (!body || !json || !spans)
		goto cleanup;
	record = ks_otlp_log_new(report->confirmed_real_ns, ks_now_real_ns(),
				 KS_OTLP_SEVERITY_ERROR, "knotscope.deadlock",
				 body);
	if (!record)
		goto cleanup;
	snprintf(id, sizeof(id), "%016" PRIx64, deadlock->id);
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.threads",
			  (int64_t)deadlock->nr_members);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.blocked_behind",
			  (int64_t)deadlock->nr_behind);
	if (report->latency_ns >= 0)
		ks_otlp_attrs_double(&attrs,
				     "knotscope.deadlock.detection_latency_ms",
				     (double)report->latency_ns / 1e6);
	/* Threads, locks, holders and stacks, as the --json sink has them. */
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.report", json);
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.span_ids", spans);
	if (ks_otlp_attrs_move(&attrs, &record->attributes,
			       &record->n_attributes) ||
	    ks_otlp_log_set_span(record, trace_id, span_ids[0])) {
		ks_otlp_message_free(record);
		record = NULL;
	}
cleanup:
	free(body);
	free(json);
	free(spans);
	return record;
}

/*
 * A deadlock becomes one trace: a span per blocked wait, from when it began
 * to the report, status ERROR, each linked to the wait of the thread it
 * waits for; and a log record tied to the first of those spans.
 */
void ks_telemetry_deadlock(struct ks_telemetry *telemetry,
			   const struct ks_report *report)
{
	const struct ks_deadlock *deadlock = report->deadlock;
	size_t n = deadlock->nr_members;
	uint8_t trace_id[KS_TRACE_ID_LEN];
	uint8_t(*span_ids)[KS_SPAN_ID_LEN] = calloc(n, KS_SPAN_ID_LEN);
	struct ks_thread *first = deadlock->members[0].thread;
	struct ks_otlp_resource *resource;
	OtlpLogRecord *record;

	if (!span_ids)
		return;
	ks_trace_id_new(trace_id);
	for (size_t i = 0; i < n; i++)
		ks_span_id_new(span_ids[i]);
	for (size_t i = 0; i < n && ks_otlp_exporter_wants(telemetry->exporter,
							   KS_OTLP_TRACES);
	     i++) {
		struct ks_thread *thread = deadlock->members[i].thread;
		struct ks_otlp_attrs link = KS_OTLP_ATTRS_INIT;
		OtlpSpan *span;

		resource = ks_resource_of(telemetry, thread->process);
		span = ks_wait_span(telemetry, thread, trace_id, span_ids[i],
				    deadlock->confirmed_mono_ns);
		if (!resource || !span) {
			ks_otlp_message_free(span);
			continue;
		}
		ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR, "deadlock");
		ks_otlp_attrs_str(&link, "knotscope.link.kind", "waits_for");
		ks_otlp_span_add_link(span, trace_id, span_ids[(i + 1) % n],
				      &link);
		ks_otlp_export_span(telemetry->exporter, resource, span);
	}
	resource = ks_resource_of(telemetry, first->process);
	if (resource &&
	    ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_LOGS)) {
		record = ks_deadlock_log(report, trace_id, span_ids);
		if (record)
			ks_otlp_export_log(telemetry->exporter, resource,
					   record);
	}
	free(span_ids);
}

static void ks_builder_flush(struct ks_otlp_builder *b)
{
	if (b->metric)
		ks_otlp_metrics_add(b->snapshot, b->resource, b->metric);
	b->metric = NULL;
}

static OtlpMetric *ks_metric_new(const struct ks_metric_desc *desc)
{
	switch (desc->type) {
	case KS_METRIC_COUNTER:
		return ks_otlp_sum_new(desc->name, desc->unit,
				       desc->description, KS_OTLP_CUMULATIVE,
				       true);
	case KS_METRIC_GAUGE:
		return ks_otlp_gauge_new(desc->name, desc->unit,
					 desc->description);
	case KS_METRIC_HISTOGRAM:
		break;
	}
	return ks_otlp_histogram_new(desc->name, desc->unit, desc->description,
				     KS_OTLP_CUMULATIVE);
}

static void ks_add_histogram_point(struct ks_otlp_builder *b,
				   const struct ks_metric_sample *sample,
				   struct ks_otlp_attrs *attrs)
{
	const struct ks_hist_summary *summary = sample->summary;
	struct ks_otlp_histogram_values values = {
		.bounds = sample->scale->bounds_s,
		.nr_bounds = sample->scale->nr_bounds,
		.counts = sample->buckets,
		.sum = (double)summary->sum_ns / 1e9,
		.has_min_max = summary->count > 0,
		.min = (double)summary->min_ns / 1e9,
		.max = (double)summary->max_ns / 1e9,
	};

	ks_otlp_histogram_add(b->metric, attrs, sample->start_real_ns,
			      b->now_real_ns, &values);
}

static void ks_add_point(struct ks_otlp_builder *b,
			 const struct ks_metric_sample *sample)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	for (unsigned int i = 0; i < sample->nr_attrs; i++) {
		const struct ks_metric_attr *attr = &sample->attrs[i];

		switch (attr->type) {
		case KS_METRIC_ATTR_STRING:
			ks_otlp_attrs_str(&attrs, attr->key, attr->value);
			break;
		case KS_METRIC_ATTR_INT:
			ks_otlp_attrs_int(&attrs, attr->key, attr->int_value);
			break;
		case KS_METRIC_ATTR_BOOL:
			ks_otlp_attrs_bool(&attrs, attr->key, attr->int_value);
			break;
		}
	}
	if (sample->scale)
		ks_add_histogram_point(b, sample, &attrs);
	else if (sample->desc->nanoseconds)
		ks_otlp_metric_add_double(b->metric, &attrs,
					  sample->start_real_ns, b->now_real_ns,
					  (double)sample->value / 1e9);
	else
		ks_otlp_metric_add_int(b->metric, &attrs, sample->start_real_ns,
				       b->now_real_ns, (int64_t)sample->value);
}

static void ks_add_sample(void *ctx, const struct ks_metric_sample *sample)
{
	struct ks_otlp_builder *b = ctx;
	struct ks_otlp_resource *resource =
		sample->process ?
			ks_resource_of(b->telemetry, sample->process) :
			b->telemetry->agent_resource;

	if (!resource)
		return;
	if (b->metric && (b->desc != sample->desc || b->resource != resource))
		ks_builder_flush(b);
	if (!b->metric) {
		b->metric = ks_metric_new(sample->desc);
		b->desc = sample->desc;
		b->resource = resource;
		if (!b->metric)
			return;
	}
	ks_add_point(b, sample);
}

/* All metrics with health, or process's alone. */
static void ks_send_metrics(struct ks_telemetry *telemetry,
			    const struct ks_model *model,
			    struct ks_process *process,
			    const struct ks_agent_health *health)
{
	struct ks_otlp_builder builder = {
		.telemetry = telemetry,
		.now_real_ns = ks_now_real_ns(),
	};

	if (!ks_otlp_exporter_wants(telemetry->exporter, KS_OTLP_METRICS))
		return;
	builder.snapshot = ks_otlp_metrics_new();
	if (!builder.snapshot)
		return;
	if (process)
		ks_metrics_collect_process(model, process, ks_add_sample,
					   &builder);
	else
		ks_metrics_collect(model, health, ks_add_sample, &builder);
	ks_builder_flush(&builder);
	ks_otlp_export_metrics(telemetry->exporter, builder.snapshot);
}

void ks_telemetry_process_gone(struct ks_telemetry *telemetry,
			       const struct ks_model *model,
			       struct ks_process *process)
{
	/* Cumulative series end with the process: their last values. */
	if (!telemetry->stopping)
		ks_send_metrics(telemetry, model, process, NULL);
	ks_otlp_resource_put(process->resource);
	process->resource = NULL;
}

void ks_telemetry_flush_metrics(struct ks_telemetry *telemetry,
				const struct ks_model *model,
				const struct ks_agent_health *health)
{
	ks_send_metrics(telemetry, model, NULL, health);
}

void ks_telemetry_tick(struct ks_telemetry *telemetry,
		       const struct ks_model *model,
		       const struct ks_agent_health *health, uint64_t now_mono)
{
	if (telemetry->causality)
		ks_span_hold_release(&telemetry->held, telemetry->causality,
				     telemetry->exporter, false);
	if (now_mono - telemetry->last_metrics_mono_ns <
	    telemetry->metric_interval_ns)
		return;
	telemetry->last_metrics_mono_ns = now_mono;
	ks_telemetry_flush_metrics(telemetry, model, health);
}
