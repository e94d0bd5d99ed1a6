// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/memory.h"
#include "capture/bpf_pins.h"
#include "detect/long_waits.h"
#include "run/agent.h"

/* How long a stop may spend delivering what is queued for OTLP. */
#define KS_FLUSH_TIMEOUT_MS 5000
/*
 * How long a stop may spend on the records still in the ring buffer: a
 * flood that goes on would otherwise keep it draining.
 */
#define KS_FINAL_DRAIN_NS (1000 * 1000000ull)

void ks_agent_unpin(struct ks_agent *agent)
{
	if (!agent->pinned || agent->options->keep_pins)
		return;
	ks_bpf_pins_remove(ks_capture_object(agent->capture),
			   agent->options->pin_dir);
	agent->pinned = false;
}

/*
 * The end of a run, in the order that loses nothing: what is already in the
 * ring buffer is applied, capture stops, the last metrics are queued, and
 * the exporter gets a bounded time to deliver everything queued.
 */
void ks_agent_finish(struct ks_agent *agent)
{
	struct ks_agent_health health;
	struct ks_otlp_stats export;
	struct ks_hb_stats hb;

	if (agent->board)
		ks_board_set_phase(agent->board, KS_PHASE_STOPPING);
	agent->records_deadline_ns = ks_now_mono_ns() + KS_FINAL_DRAIN_NS;
	ks_capture_consume(agent->capture);
	if (agent->http)
		ks_http_spans_finish(agent->http, ks_now_mono_ns());
	ks_agent_health(agent, &health, &export, &hb);
	ks_agent_unpin(agent);
	/* Kept: what the kernel side counted goes with its maps. */
	ks_capture_read_stats(agent->capture, &agent->kernel_at_close);
	ks_capture_close(agent->capture);
	agent->capture = NULL;
	if (!agent->telemetry)
		return;
	ks_telemetry_flush_metrics(agent->telemetry, &health);
	ks_telemetry_stop(agent->telemetry, KS_FLUSH_TIMEOUT_MS);
}

static void ks_log_export(const struct ks_otlp_stats *export)
{
	for (int s = 0; export && s < KS_OTLP_NR_SIGNALS; s++) {
		const struct ks_otlp_signal_stats *st = &export->signal[s];
		uint64_t failed = 0;

		if (!st->enabled)
			continue;
		for (int f = 0; f < KS_OTLP_NR_FAILURES; f++)
			failed += st->failed[f];
		ks_info("OTLP %s: %llu produced, %llu exported, %llu rejected, "
			"%llu dropped (queue full), %llu failed, %llu dropped "
			"at shutdown\n",
			ks_otlp_signal_name(s),
			(unsigned long long)st->produced,
			(unsigned long long)st->exported,
			(unsigned long long)st->rejected,
			(unsigned long long)st->dropped_queue_full,
			(unsigned long long)failed,
			(unsigned long long)st->dropped_shutdown);
	}
}

void ks_agent_summarize(struct ks_agent *agent)
{
	struct ks_run_summary summary = { 0 };
	struct ks_long_waits long_waits;
	struct ks_agent_health health;
	struct ks_otlp_stats export;
	struct ks_hb_stats hb;

	ks_agent_health(agent, &health, &export, &hb);
	for (int k = 0; k < KS_EV_KIND_MAX; k++)
		summary.kernel_drops += health.kernel_lost[k];
	summary.inflight_full = health.untracked_waits;
	memcpy(summary.events, health.events, sizeof(summary.events));
	summary.malformed = health.malformed;
	summary.deadlocks = health.deadlocks;
	summary.stalls = health.stalls;
	summary.export = health.export;
	summary.http = health.http;
	summary.memory_limit = agent->memory.limit;
	summary.memory_peak = ks_memory_peak();
	summary.shed = health.shed;
	summary.duration_s =
		(double)(ks_now_mono_ns() - agent->started_ns) / 1e9;
	ks_info("stopped after %.1f s: %llu futex waits seen, %llu records "
		"lost to a full ring buffer, %llu deadlock%s and %llu stall%s "
		"reported\n",
		summary.duration_s,
		(unsigned long long)summary.events[KS_EV_WAIT_BEGIN],
		(unsigned long long)summary.kernel_drops,
		(unsigned long long)summary.deadlocks,
		summary.deadlocks == 1 ? "" : "s",
		(unsigned long long)summary.stalls,
		summary.stalls == 1 ? "" : "s");
	ks_log_export(health.export);
	ks_long_waits_count(&agent->model.table, NULL, ks_now_mono_ns(),
			    &long_waits);
	if (long_waits.count)
		ks_info("%u thread%s blocked %llu s or longer on locks nobody "
			"is known to hold (the longest %.1f s): see the "
			"summary's unknown_holder_waits\n",
			long_waits.count, long_waits.count == 1 ? "" : "s",
			KS_LONG_WAIT_NS / 1000000000ull,
			(double)long_waits.longest_ns / 1e9);
	if (agent->sink)
		ks_json_write_summary(agent->sink, &summary,
				      &agent->model.table);
}

bool ks_agent_lost_output(struct ks_agent *agent)
{
	uint64_t lost = agent->sink ? ks_json_sink_lost(agent->sink) : 0;

	if (lost)
		ks_err("--json %s: %llu record%s could not be written\n",
		       agent->options->json_path, (unsigned long long)lost,
		       lost == 1 ? "" : "s");
	return lost;
}
