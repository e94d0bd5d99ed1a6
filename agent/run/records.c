// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where each ring buffer record goes, in the order that keeps every part
 * right: happens-before first (a thread that exits must still be in the
 * table), then the model, then the part that owns the kind (lock order,
 * HTTP) or that a change of the model concerns (precise mode's probes).
 */
#include <errno.h>

#include "base/clock.h"
#include "run/agent.h"

/* Records are cheap: the clock is read once for this many. */
#define KS_RECORDS_PER_CLOCK_READ 64

static void ks_after_exec(struct ks_agent *agent, const struct ks_exec *rec)
{
	uint32_t tgid = rec->hdr.tgid;

	/* A new image: its mutex API is somewhere else now, if anywhere. */
	if (agent->precise && ks_table_process(&agent->model.table, tgid) &&
	    ks_precise_wants(agent->precise, tgid, rec->comm) &&
	    !ks_precise_attach(agent->precise, tgid))
		ks_symbolizer_preload(agent->symbolizer, tgid);
}

static void ks_after_exit(struct ks_agent *agent, const struct ks_exit *rec)
{
	if (agent->lockorder)
		ks_lockorder_thread_gone(agent->lockorder, rec->hdr.tid);
	if (agent->http)
		ks_http_spans_thread_exit(agent->http, rec->hdr.tgid,
					  rec->hdr.tid);
}

static void ks_route_record(struct ks_agent *agent, void *data, size_t size)
{
	const struct ks_event_header *hdr = data;

	if (!ks_model_accept(&agent->model, data, size))
		return;
	if (hdr->ts_ns > agent->consumed_ts_ns)
		agent->consumed_ts_ns = hdr->ts_ns;
	if (agent->causality)
		ks_causality_apply(agent->causality, &agent->model, data);
	ks_model_apply(&agent->model, data);
	switch (hdr->kind) {
	case KS_EV_EXEC:
		ks_after_exec(agent, data);
		break;
	case KS_EV_EXIT:
		ks_after_exit(agent, data);
		break;
	case KS_EV_LOCK_CALL:
		if (agent->lockorder)
			ks_lockorder_call(agent->lockorder, data);
		break;
	case KS_EV_LOCK_RESULT:
		if (agent->lockorder)
			ks_lockorder_result(agent->lockorder, data);
		break;
	case KS_EV_SOCK_OPEN:
	case KS_EV_SOCK_DATA:
	case KS_EV_SOCK_CLOSE:
		if (agent->http && ks_http_spans_apply(agent->http, data, size))
			agent->model.malformed++;
		break;
	}
}

int ks_agent_on_record(void *ctx, void *data, size_t size)
{
	struct ks_agent *agent = ctx;

	ks_route_record(agent, data, size);
	/* Past the tick's budget: the rest waits for the next go round. */
	if (!(++agent->consumed % KS_RECORDS_PER_CLOCK_READ) &&
	    ks_now_mono_ns() >= agent->records_deadline_ns)
		return -EAGAIN;
	return 0;
}

static void ks_on_process_ended(void *ctx, struct ks_process *process,
				const char *why, uint64_t ts_ns)
{
	struct ks_agent *agent = ctx;

	/* First, while the process still has its resource for the spans. */
	if (agent->http)
		ks_http_spans_process_gone(agent->http, process->tgid, ts_ns);
	if (agent->sink &&
	    (process->stats.futex_waits || process->stats.io_waits))
		ks_json_write_process(agent->sink, process, why);
}

const struct ks_model_hooks ks_agent_model_hooks = {
	.process_ended = ks_on_process_ended,
};

void ks_agent_process_gone(void *ctx, struct ks_process *process)
{
	struct ks_agent *agent = ctx;
	char *const *labels;
	size_t nr_labels;

	/*
	 * Read while /proc still has it, when something scrapes /metrics:
	 * its series outlive it a while.
	 */
	if (agent->dashboard && process->stats.futex_waits &&
	    ks_dashboard_scraped(agent->dashboard))
		ks_dashboard_resource_labels(agent->dashboard, process, &labels,
					     &nr_labels);
	ks_symbolizer_forget(agent->symbolizer, process->tgid);
	if (agent->lock_stats && process->stats.lock_waits)
		ks_lock_stats_forget_process(agent->lock_stats, process->tgid);
	if (agent->telemetry)
		ks_telemetry_process_gone(agent->telemetry, process);
	if (agent->precise) {
		ks_precise_detach(agent->precise, process->tgid);
		ks_lockorder_process_gone(agent->lockorder, process->tgid);
	}
}

void ks_agent_process_freed(void *ctx, struct ks_process *process)
{
	struct ks_agent *agent = ctx;

	if (agent->telemetry)
		ks_telemetry_process_freed(agent->telemetry, process);
	if (agent->http)
		ks_http_spans_forget_metrics(agent->http, process->tgid);
}

static void ks_on_http_span(void *ctx, const struct ks_http_span *span)
{
	struct ks_agent *agent = ctx;
	struct ks_process *process =
		ks_table_process(&agent->model.table, span->tgid);
	struct ks_thread *thread =
		ks_table_thread(&agent->model.table, span->tid);

	if (!process)
		return;
	/* Its RED slots are seconds: the tick's start is time enough, and
	 * saves a clock read per span. */
	if (agent->dashboard)
		ks_dashboard_http_span(agent->dashboard, process, span,
				       agent->tick_start_ns);
	if (!agent->telemetry)
		return;
	ks_telemetry_http_span(
		agent->telemetry, process, span,
		thread && thread->tgid == span->tgid ? thread->comm : NULL);
}

static void ks_on_trace_ctx_update(void *ctx, uint64_t pid_tgid,
				   const uint8_t span_id[8],
				   const uint8_t trace_id[16])
{
	struct ks_agent *agent = ctx;

	ks_trace_ctx_map_update(&agent->trace_ctx, pid_tgid, span_id, trace_id);
}

static void ks_on_trace_ctx_retract(void *ctx, uint64_t pid_tgid,
				    const uint8_t span_id[8])
{
	struct ks_agent *agent = ctx;

	ks_trace_ctx_map_retract(&agent->trace_ctx, pid_tgid, span_id);
}

static void ks_on_forget_sock(void *ctx, uint64_t sock, uint64_t conn_id)
{
	struct ks_agent *agent = ctx;

	if (agent->capture)
		ks_capture_forget_sock(agent->capture, sock, conn_id);
}

const struct ks_http_hooks ks_agent_http_hooks = {
	.span_ready = ks_on_http_span,
	.trace_ctx_update = ks_on_trace_ctx_update,
	.trace_ctx_retract = ks_on_trace_ctx_retract,
	.forget_sock = ks_on_forget_sock,
};
