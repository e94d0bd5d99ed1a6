// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "base/clock.h"
#include "detect/long_waits.h"
#include "httptrace/http_metrics.h"
#include "httptrace/http_semconv.h"
#include "model/record.h"
#include "model/wait_target.h"
#include "otlp/otlp_retry.h"
#include "report/metric_samples.h"

static const struct ks_metric_desc futex_waits = {
	.name = "knotscope.futex.waits",
	.unit = "{wait}",
	.description = "Futex waits that began: contended locks, condition "
		       "variables, joins and other blocking synchronisation",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc lock_waits = {
	.name = "knotscope.lock.waits",
	.unit = "{wait}",
	.description =
		"Waits that began on a lock with an owner, or on a thread's "
		"exit",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc lock_wait_duration = {
	.name = "knotscope.lock.wait.duration",
	.unit = "s",
	.description = "How long ended lock waits lasted, by lock kind",
	.type = KS_METRIC_HISTOGRAM,
};
static const struct ks_metric_desc deadlocks = {
	.name = "knotscope.deadlocks",
	.unit = "{deadlock}",
	.description = "Deadlocks reported that involved this process",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc stalls = {
	.name = "knotscope.stalls",
	.unit = "{stall}",
	.description = "Stalls reported of this process: every thread blocked "
		       "on a futex nothing else can wake",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc unheld_blocked = {
	.name = "knotscope.unheld_lock.blocked_threads",
	.unit = "{thread}",
	.description = "Threads blocked 10 s or longer, without a timeout, on "
		       "a lock nobody is known to hold (a semaphore, a mutex "
		       "whose owner is not recorded, an rwlock's readers)",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc unheld_longest = {
	.name = "knotscope.unheld_lock.longest_block",
	.unit = "s",
	.description = "How long the longest of those threads has been "
		       "blocked",
	.type = KS_METRIC_GAUGE,
	.nanoseconds = true,
};
static const struct ks_metric_desc agent_events = {
	.name = "knotscope.agent.events",
	.unit = "{event}",
	.description = "Records received from the kernel, by kind",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_lost = {
	.name = "knotscope.agent.events.lost",
	.unit = "{event}",
	.description = "Records the kernel dropped because the ring buffer was "
		       "full, by kind",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_untracked = {
	.name = "knotscope.agent.waits.untracked",
	.unit = "{wait}",
	.description =
		"Waits whose end could not be tracked (in-flight table full)",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_malformed = {
	.name = "knotscope.agent.records.malformed",
	.unit = "{record}",
	.description = "Ring buffer records the agent could not parse",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_deadlocks = {
	.name = "knotscope.agent.deadlocks",
	.unit = "{deadlock}",
	.description = "Deadlocks reported",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_stalls = {
	.name = "knotscope.agent.stalls",
	.unit = "{stall}",
	.description = "Stalls reported",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc agent_processes = {
	.name = "knotscope.agent.processes",
	.unit = "{process}",
	.description = "Processes watched",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc agent_threads = {
	.name = "knotscope.agent.threads",
	.unit = "{thread}",
	.description = "Threads watched",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc export_items = {
	.name = "knotscope.agent.export.items",
	.unit = "{item}",
	.description =
		"Telemetry items handed to the OTLP exporter, by signal and "
		"by what became of them",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc http_server_duration = {
	.name = "http.server.request.duration",
	.unit = "s",
	.description = "Duration of HTTP server requests.",
	.type = KS_METRIC_HISTOGRAM,
};
static const struct ks_metric_desc http_client_duration = {
	.name = "http.client.request.duration",
	.unit = "s",
	.description = "Duration of HTTP client requests.",
	.type = KS_METRIC_HISTOGRAM,
};
static const struct ks_metric_desc agent_http_connections = {
	.name = "knotscope.agent.http.connections",
	.unit = "{connection}",
	.description = "TCP connections traced for HTTP now",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc agent_http_events = {
	.name = "knotscope.agent.http.events",
	.unit = "{event}",
	.description =
		"What became of traced connections and requests, by event",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc export_queue = {
	.name = "knotscope.agent.export.queue.depth",
	.unit = "{item}",
	.description = "Items waiting in the OTLP export queue, by signal",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc bpf_run_count = {
	.name = "knotscope.agent.bpf.run.count",
	.unit = "{run}",
	.description =
		"Runs of each of the agent's BPF programs, while run-time "
		"statistics are on",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc bpf_run_time = {
	.name = "knotscope.agent.bpf.run.time",
	.unit = "s",
	.description =
		"Time spent in each of the agent's BPF programs, while run-time "
		"statistics are on",
	.type = KS_METRIC_COUNTER,
	.nanoseconds = true,
};

static const struct ks_metric_desc hb_events = {
	.name = "knotscope.agent.hb.events",
	.unit = "{event}",
	.description =
		"Synchronisation events handed to the happens-before engine, "
		"and of those the ones applied out of order (late) or early "
		"(forced: the hold-back buffer was full)",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc hb_edges = {
	.name = "knotscope.agent.hb.edges",
	.unit = "{edge}",
	.description =
		"Happens-before edges applied, and the ones known lost "
		"(late, out of memory, or records dropped by the kernel)",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc hb_tracked = {
	.name = "knotscope.agent.hb.tracked",
	.unit = "{item}",
	.description = "What the happens-before engine holds now: threads, "
		       "sync objects, points of exported spans, and vector "
		       "clock entries",
	.type = KS_METRIC_GAUGE,
};

static const struct ks_metric_desc agent_memory = {
	.name = "knotscope.agent.memory.resident",
	.unit = "By",
	.description = "The agent's resident memory",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc agent_memory_limit = {
	.name = "knotscope.agent.memory.limit",
	.unit = "By",
	.description = "The agent's memory ceiling (--memory-limit, or its "
		       "cgroup's): it sheds load before reaching it",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc agent_shed = {
	.name = "knotscope.agent.shed",
	.unit = "{item}",
	.description = "What the agent did not make, to stay under its memory "
		       "ceiling and keep its loop on time: spans, the code "
		       "sites of spans, the happens-before points of spans",
	.type = KS_METRIC_COUNTER,
};

struct ks_collector {
	ks_metric_fn fn;
	void *ctx;
	const struct ks_table *table;
	uint64_t now_mono_ns; /* for how long waits have lasted */
	struct ks_metric_sample sample;
};

static void ks_emit(struct ks_collector *c, const struct ks_metric_desc *desc,
		    uint64_t value, const char *key, const char *attr_value)
{
	c->sample.desc = desc;
	c->sample.value = value;
	c->sample.scale = NULL;
	c->sample.nr_attrs = 0;
	if (key) {
		c->sample.attrs[0] =
			(struct ks_metric_attr){ .key = key,
						 .value = attr_value };
		c->sample.nr_attrs = 1;
	}
	c->fn(c->ctx, &c->sample);
}

static void ks_emit_export(struct ks_collector *c, const char *signal,
			   const char *outcome, uint64_t value)
{
	c->sample.desc = &export_items;
	c->sample.value = value;
	c->sample.scale = NULL;
	c->sample.attrs[0] = (struct ks_metric_attr){ .key = "knotscope.signal",
						      .value = signal };
	c->sample.attrs[1] =
		(struct ks_metric_attr){ .key = "knotscope.outcome",
					 .value = outcome };
	c->sample.nr_attrs = 2;
	c->fn(c->ctx, &c->sample);
}

static void ks_collect_export(struct ks_collector *c,
			      const struct ks_otlp_stats *stats)
{
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
		const struct ks_otlp_signal_stats *st = &stats->signal[s];
		const char *signal = ks_otlp_signal_name(s);

		if (!st->enabled)
			continue;
		ks_emit_export(c, signal, "exported", st->exported);
		ks_emit_export(c, signal, "rejected", st->rejected);
		ks_emit_export(c, signal, "dropped_queue_full",
			       st->dropped_queue_full);
		ks_emit_export(c, signal, "dropped_shutdown",
			       st->dropped_shutdown);
		for (int f = 0; f < KS_OTLP_NR_FAILURES; f++)
			ks_emit_export(c, signal, ks_otlp_failure_name(f),
				       st->failed[f]);
	}
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++)
		if (stats->signal[s].enabled)
			ks_emit(c, &export_queue, stats->signal[s].queue_depth,
				"knotscope.signal", ks_otlp_signal_name(s));
}

static void ks_collect_hb(struct ks_collector *c, const struct ks_hb_stats *hb)
{
	static const char outcome[] = "knotscope.outcome";
	static const char what[] = "knotscope.hb.item";

	ks_emit(c, &hb_events, hb->events, outcome, "handed_in");
	ks_emit(c, &hb_events, hb->late, outcome, "late");
	ks_emit(c, &hb_events, hb->forced, outcome, "forced");
	ks_emit(c, &hb_edges, hb->edges, outcome, "applied");
	ks_emit(c, &hb_edges, hb->lost, outcome, "lost");
	ks_emit(c, &hb_tracked, hb->actors, what, "threads");
	ks_emit(c, &hb_tracked, hb->objects, what, "sync_objects");
	ks_emit(c, &hb_tracked, hb->stamps, what, "points");
	ks_emit(c, &hb_tracked, hb->clock_entries, what, "clock_entries");
}

static void ks_emit_http_event(void *ctx, const char *name, uint64_t value)
{
	ks_emit(ctx, &agent_http_events, value, "knotscope.http.event", name);
}

static void ks_collect_http_health(struct ks_collector *c,
				   const struct ks_agent_health *health)
{
	ks_emit(c, &agent_http_connections, health->http->connections, NULL,
		NULL);
	ks_emit_http_event(c, "connections_untracked", health->socks_untracked);
	ks_http_stats_foreach(health->http, ks_emit_http_event, c);
}

static void ks_collect_agent(struct ks_collector *c,
			     const struct ks_table *table,
			     const struct ks_agent_health *health)
{
	unsigned int nr_processes = 0, nr_threads = 0;
	const struct ks_process *process;

	for (process = table->processes; process; process = process->hh.next) {
		nr_processes++;
		nr_threads += process->nr_threads;
	}
	c->sample.process = NULL;
	c->sample.start_real_ns = health->started_real_ns;
	for (int k = 1; k < KS_EV_KIND_MAX; k++)
		ks_emit(c, &agent_events, health->events[k],
			"knotscope.event.kind", ks_record_kind_name(k));
	for (int k = 1; k < KS_EV_KIND_MAX; k++)
		ks_emit(c, &agent_lost, health->kernel_lost[k],
			"knotscope.event.kind", ks_record_kind_name(k));
	ks_emit(c, &agent_untracked, health->untracked_waits, NULL, NULL);
	ks_emit(c, &agent_malformed, health->malformed, NULL, NULL);
	ks_emit(c, &agent_deadlocks, health->deadlocks, NULL, NULL);
	ks_emit(c, &agent_stalls, health->stalls, NULL, NULL);
	ks_emit(c, &agent_processes, nr_processes, NULL, NULL);
	ks_emit(c, &agent_threads, nr_threads, NULL, NULL);
	ks_emit(c, &agent_memory, health->memory_resident, NULL, NULL);
	if (health->memory_limit)
		ks_emit(c, &agent_memory_limit, health->memory_limit, NULL,
			NULL);
	ks_emit(c, &agent_shed, health->shed.spans, "knotscope.shed.item",
		"spans");
	ks_emit(c, &agent_shed, health->shed.span_sites, "knotscope.shed.item",
		"span_sites");
	ks_emit(c, &agent_shed, health->shed.hb_points, "knotscope.shed.item",
		"hb_points");
	for (unsigned int i = 0; i < health->nr_bpf_progs; i++)
		ks_emit(c, &bpf_run_count, health->bpf_progs[i].run_count,
			"knotscope.bpf.program", health->bpf_progs[i].name);
	for (unsigned int i = 0; i < health->nr_bpf_progs; i++)
		ks_emit(c, &bpf_run_time, health->bpf_progs[i].run_time_ns,
			"knotscope.bpf.program", health->bpf_progs[i].name);
	if (health->export)
		ks_collect_export(c, health->export);
	if (health->hb)
		ks_collect_hb(c, health->hb);
	if (health->http)
		ks_collect_http_health(c, health);
}

static void ks_collect_process(struct ks_collector *c,
			       struct ks_process *process)
{
	const struct ks_process_stats *stats = &process->stats;
	struct ks_long_waits long_waits;

	c->sample.process = process;
	c->sample.start_real_ns = process->first_seen_real_ns;
	ks_emit(c, &futex_waits, stats->futex_waits, NULL, NULL);
	ks_emit(c, &lock_waits, stats->lock_waits, NULL, NULL);
	for (int kind = KS_LOCK_MUTEX; kind < KS_NR_LOCK_KINDS; kind++) {
		if (!stats->lock_wait[kind].summary.count)
			continue;
		c->sample.desc = &lock_wait_duration;
		c->sample.scale = &ks_wait_hist_scale;
		c->sample.buckets = stats->lock_wait[kind].buckets;
		c->sample.summary = &stats->lock_wait[kind].summary;
		c->sample.attrs[0] = (struct ks_metric_attr){
			.key = "knotscope.lock.kind",
			.value = ks_lock_kind_name(kind),
		};
		c->sample.nr_attrs = 1;
		c->fn(c->ctx, &c->sample);
	}
	ks_emit(c, &deadlocks, stats->deadlocks, NULL, NULL);
	ks_emit(c, &stalls, stats->stalls, NULL, NULL);
	ks_long_waits_count(c->table, process, c->now_mono_ns, &long_waits);
	ks_emit(c, &unheld_blocked, long_waits.count, NULL, NULL);
	ks_emit(c, &unheld_longest, long_waits.longest_ns, NULL, NULL);
}

struct ks_http_collector {
	struct ks_collector *c;
	const struct ks_table *table;
};

static void ks_add_attr(struct ks_metric_sample *sample,
			struct ks_metric_attr attr)
{
	sample->attrs[sample->nr_attrs++] = attr;
}

/* The attributes the semantic conventions give the duration metrics. */
static void ks_http_series_attrs(struct ks_metric_sample *sample,
				 const struct ks_http_series_key *key)
{
	sample->nr_attrs = 0;
	if (key->overflow) {
		ks_add_attr(sample, (struct ks_metric_attr){
					    .key = "otel.metric.overflow",
					    .type = KS_METRIC_ATTR_BOOL,
					    .int_value = 1,
				    });
		return;
	}
	ks_add_attr(sample, (struct ks_metric_attr){
				    .key = "http.request.method",
				    .value = key->method,
			    });
	ks_add_attr(sample, (struct ks_metric_attr){ .key = "url.scheme",
						     .value = "http" });
	ks_add_attr(sample, (struct ks_metric_attr){
				    .key = "network.protocol.version",
				    .value = ks_http_protocol_version(
					    key->version_minor),
			    });
	if (key->status)
		ks_add_attr(sample, (struct ks_metric_attr){
					    .key = "http.response.status_code",
					    .type = KS_METRIC_ATTR_INT,
					    .int_value = key->status,
				    });
	if (key->error_type[0])
		ks_add_attr(sample, (struct ks_metric_attr){
					    .key = "error.type",
					    .value = key->error_type,
				    });
	if (key->route)
		ks_add_attr(sample, (struct ks_metric_attr){
					    .key = "http.route",
					    .value = key->route,
				    });
	if (key->kind != KS_HTTP_SPAN_CLIENT)
		return;
	ks_add_attr(sample, (struct ks_metric_attr){
				    .key = "server.address",
				    .value = key->server_address,
			    });
	ks_add_attr(sample, (struct ks_metric_attr){
				    .key = "server.port",
				    .type = KS_METRIC_ATTR_INT,
				    .int_value = key->server_port,
			    });
}

static void ks_collect_http_series(void *ctx, uint32_t tgid,
				   const struct ks_http_series *series)
{
	struct ks_http_collector *hc = ctx;
	struct ks_collector *c = hc->c;
	/* A departed process's series stay until it is freed. */
	struct ks_process *process =
		ks_table_process_or_departed(hc->table, tgid);

	if (!process)
		return;
	c->sample.process = process;
	c->sample.start_real_ns = process->first_seen_real_ns;
	c->sample.desc = series->key.kind == KS_HTTP_SPAN_SERVER ?
				 &http_server_duration :
				 &http_client_duration;
	c->sample.scale = &ks_http_duration_scale;
	c->sample.buckets = series->buckets;
	c->sample.summary = &series->summary;
	ks_http_series_attrs(&c->sample, &series->key);
	c->fn(c->ctx, &c->sample);
}

void ks_metrics_collect(const struct ks_metrics_source *source,
			const struct ks_agent_health *health, ks_metric_fn fn,
			void *ctx)
{
	struct ks_collector c = { .fn = fn,
				  .ctx = ctx,
				  .table = source->table,
				  .now_mono_ns = ks_now_mono_ns() };
	struct ks_http_collector http = { .c = &c, .table = source->table };
	struct ks_process *process;

	ks_collect_agent(&c, source->table, health);
	for (process = source->table->processes; process;
	     process = process->hh.next)
		if (process->stats.futex_waits)
			ks_collect_process(&c, process);
	for (process = source->table->departed; process;
	     process = process->departed_next)
		if (process->stats.futex_waits)
			ks_collect_process(&c, process);
	if (source->http)
		ks_http_metrics_foreach(ks_http_spans_metrics(source->http),
					ks_collect_http_series, &http);
}
