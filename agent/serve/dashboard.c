// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/version.h"
#include "detect/long_waits.h"
#include "meta/host_meta.h"
#include "meta/process_meta.h"
#include "model/wait_target.h"
#include "report/json_sink.h"
#include "serve/dashboard.h"
#include "serve/graph_view.h"
#include "serve/history.h"
#include "serve/http_red.h"
#include "serve/prometheus.h"
#include "serve/stack_cache.h"

#define KS_JSON_TYPE "application/json"

struct ks_dashboard {
	struct ks_dashboard_config cfg;
	struct ks_graph_view *graph;
	struct ks_http_red *red; /* HTTP requests, with --http */
	/* Stacks of the long waits nobody is known to hold. */
	struct ks_stack_cache *long_wait_stacks;
	/* Deadlock and stall records as --json writes them, kept across
	 * restarts, and how many of each this run reported. */
	struct ks_history *history;
	uint64_t nr_deadlocks;
	uint64_t nr_stalls;
	bool finding_pending;
	uint64_t published_mono_ns;
	/* The previous publication's counters, for rates. */
	uint64_t rate_mono_ns;
	uint64_t rate_events;
	double events_per_s;
	struct ks_bpf_prog_cost rate_bpf[KS_MAX_BPF_PROGS];
	unsigned int rate_nr_bpf;
	/* /metrics was rendered: something reads it. */
	bool scraped;
	/* What resources are made of: the node, and the agent's own. */
	struct ks_host_meta host;
	char **agent_labels;
	size_t nr_agent_labels;
	uint64_t agent_labels_meta_gen;
};

struct ks_dashboard *ks_dashboard_new(const struct ks_dashboard_config *cfg)
{
	struct ks_dashboard *dashboard = calloc(1, sizeof(*dashboard));

	if (!dashboard)
		return NULL;
	dashboard->cfg = *cfg;
	ks_host_meta_read(&dashboard->host);
	dashboard->graph = ks_graph_view_new(cfg->symbolizer);
	dashboard->long_wait_stacks =
		ks_stack_cache_new(cfg->symbolizer, KS_DASH_STACK_FRAMES);
	dashboard->history =
		ks_history_open(cfg->history_file, KS_HISTORY_DEFAULT_MAX);
	if (!dashboard->graph || !dashboard->long_wait_stacks ||
	    !dashboard->history) {
		ks_dashboard_free(dashboard);
		return NULL;
	}
	return dashboard;
}

void ks_dashboard_free(struct ks_dashboard *dashboard)
{
	if (!dashboard)
		return;
	ks_history_close(dashboard->history);
	ks_attrs_text_free(dashboard->agent_labels, dashboard->nr_agent_labels);
	ks_http_red_free(dashboard->red);
	ks_graph_view_free(dashboard->graph);
	ks_stack_cache_free(dashboard->long_wait_stacks);
	free(dashboard);
}

void ks_dashboard_set_attach_mode(struct ks_dashboard *dashboard,
				  const char *attach_mode)
{
	dashboard->cfg.attach_mode = attach_mode;
}

void ks_dashboard_set_http(struct ks_dashboard *dashboard,
			   struct ks_http_spans *http)
{
	dashboard->cfg.watched.http = http;
	if (!dashboard->red)
		dashboard->red = ks_http_red_new();
}

bool ks_dashboard_due(struct ks_dashboard *dashboard, uint64_t now_mono_ns)
{
	if (dashboard->finding_pending)
		return true;
	return ks_board_wanted(dashboard->cfg.board) &&
	       now_mono_ns - dashboard->published_mono_ns >=
		       KS_DASH_PUBLISH_MS * 1000000ull;
}

/*
 * Keeps record (of type, taken) in the history and counts it in *count;
 * published at the next tick.
 */
static void ks_remember(struct ks_dashboard *dashboard, const char *type,
			char *record, uint64_t *count)
{
	if (!record)
		return;
	ks_history_append(dashboard->history, type, record);
	free(record);
	(*count)++;
	dashboard->finding_pending = true;
}

void ks_dashboard_deadlock(struct ks_dashboard *dashboard,
			   const struct ks_report *report)
{
	ks_remember(dashboard, "deadlock", ks_json_deadlock_string(report),
		    &dashboard->nr_deadlocks);
}

void ks_dashboard_stall(struct ks_dashboard *dashboard,
			const struct ks_stall_report *report)
{
	ks_remember(dashboard, "stall", ks_json_stall_string(report),
		    &dashboard->nr_stalls);
}

/*
 * A resource's attributes as text, kept in *labels: read when missing, and
 * again once the API told more about its pod when they were unsettled,
 * unless the process is gone: neither its cgroup nor /proc would say again
 * what they said.  Whether it read them now.
 */
static bool ks_read_labels(struct ks_dashboard *dashboard, uint32_t tgid,
			   const char *comm, uint64_t start_ticks, bool gone,
			   char ***labels, size_t *nr, uint64_t *meta_gen)
{
	struct ks_k8s_cache *pods = dashboard->cfg.pods;
	uint64_t generation = pods ? ks_k8s_cache_generation(pods) : 0;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	bool settled;

	if (*labels && (gone || !*meta_gen || *meta_gen == generation))
		return false;
	ks_attrs_text_free(*labels, *nr);
	*labels = NULL;
	*nr = 0;
	settled = ks_process_meta_add(tgid, comm, start_ticks, &dashboard->host,
				      pods, &attrs);
	if (attrs.failed || ks_attrs_as_text(&attrs, labels, nr)) {
		*labels = NULL;
		*nr = 0;
	}
	*meta_gen = settled ? 0 : generation;
	ks_otlp_attrs_release(&attrs);
	return true;
}

/* The service.name is looked up as they are read: each HTTP span needs it. */
static void ks_read_process_labels(struct ks_dashboard *dashboard,
				   struct ks_process *process)
{
	if (ks_read_labels(dashboard, process->tgid, process->comm,
			   process->start_ticks, process->departed_mono_ns != 0,
			   &process->labels, &process->nr_labels,
			   &process->labels_meta_gen))
		process->labels_service = ks_attrs_text_find(
			process->labels, process->nr_labels, "service.name");
}

bool ks_dashboard_scraped(const struct ks_dashboard *dashboard)
{
	return dashboard->scraped;
}

void ks_dashboard_resource_labels(void *ctx, struct ks_process *process,
				  char *const **pairs, size_t *nr)
{
	struct ks_dashboard *dashboard = ctx;

	if (!process) {
		ks_read_labels(dashboard, (uint32_t)getpid(), "knotscope", 0,
			       false, &dashboard->agent_labels,
			       &dashboard->nr_agent_labels,
			       &dashboard->agent_labels_meta_gen);
		*pairs = dashboard->agent_labels;
		*nr = dashboard->nr_agent_labels;
		return;
	}
	ks_read_process_labels(dashboard, process);
	*pairs = process->labels;
	*nr = process->nr_labels;
}

void ks_dashboard_http_span(struct ks_dashboard *dashboard,
			    struct ks_process *process,
			    const struct ks_http_span *span,
			    uint64_t now_mono_ns)
{
	if (!dashboard->red)
		return;
	ks_read_process_labels(dashboard, process);
	ks_http_red_add(dashboard->red,
			process->labels_service ?: process->comm, span,
			now_mono_ns);
}

/* The document of a JSON object, which it releases. */
static struct ks_doc *ks_json_doc(json_object *obj)
{
	const char *text = ks_json_text(obj);
	char *copy = text ? strdup(text) : NULL;

	json_object_put(obj);
	return copy ? ks_doc_adopt(KS_JSON_TYPE, copy, strlen(copy)) : NULL;
}

static json_object *ks_holders_json(const struct ks_lock_entry *lock)
{
	json_object *holders = json_object_new_array();

	for (unsigned int i = 0; i < lock->nr_holders; i++) {
		json_object *holder = json_object_new_object();

		ks_json_add(holder, "tid",
			    json_object_new_int64(lock->holders[i].tid));
		ks_json_add(holder, "comm",
			    json_object_new_string(lock->holders[i].comm));
		ks_json_add(holder, "waits",
			    json_object_new_uint64(lock->holders[i].waits));
		ks_json_push(holders, holder);
	}
	return holders;
}

static json_object *ks_sites_json(const struct ks_lock_entry *lock)
{
	json_object *sites = json_object_new_array();

	for (unsigned int i = 0; i < lock->nr_sites; i++) {
		json_object *site = ks_json_frame(&lock->sites[i].frame);

		ks_json_add(site, "samples",
			    json_object_new_uint64(lock->sites[i].samples));
		ks_json_push(sites, site);
	}
	return sites;
}

static json_object *ks_lock_entry_json(const struct ks_lock_entry *lock)
{
	json_object *obj = json_object_new_object();
	char buf[64];

	ks_json_add(obj, "pid", json_object_new_int64(lock->tgid));
	ks_json_add(obj, "process_comm",
		    json_object_new_string(lock->process_comm));
	ks_json_add(obj, "address", ks_json_hex(lock->address));
	ks_json_add(obj, "kind",
		    json_object_new_string(ks_lock_kind_name(lock->kind)));
	if (lock->mutex_kind != UINT32_MAX) {
		ks_mutex_kind_describe(lock->mutex_kind, buf, sizeof(buf));
		ks_json_add(obj, "mutex_type", json_object_new_string(buf));
	}
	ks_json_add(obj, "waits", json_object_new_uint64(lock->waits));
	ks_json_add(obj, "wait_ns", json_object_new_uint64(lock->wait_ns));
	ks_json_add(obj, "max_wait_ns",
		    json_object_new_uint64(lock->max_wait_ns));
	ks_json_add(obj, "avg_wait_ns",
		    json_object_new_uint64(lock->wait_ns / lock->waits));
	ks_format_rfc3339(ks_mono_to_real_ns(lock->last_wait_end_mono_ns), buf,
			  sizeof(buf));
	ks_json_add(obj, "last_wait_end", json_object_new_string(buf));
	ks_json_add(obj, "holders", ks_holders_json(lock));
	ks_json_add(obj, "unknown_holder_waits",
		    json_object_new_uint64(lock->unknown_holder_waits));
	ks_json_add(obj, "sites", ks_sites_json(lock));
	return obj;
}

/*
 * The hour of contention of the KS_DASH_TREND_LOCKS locks waited for most
 * in it: per lock, waits and wait time in each bucket, oldest first.
 */
static json_object *ks_trends_json(const struct ks_lock_stats *stats,
				   uint64_t now)
{
	const struct ks_lock_entry *top[KS_DASH_TREND_LOCKS];
	size_t n =
		ks_lock_stats_top_recent(stats, now, top, KS_DASH_TREND_LOCKS);
	uint32_t waits[KS_LOCK_TREND_BUCKETS];
	uint64_t wait_ns[KS_LOCK_TREND_BUCKETS];
	json_object *obj = json_object_new_object();
	json_object *locks = json_object_new_array();
	char time[64];

	for (size_t i = 0; i < n; i++) {
		uint64_t total =
			ks_lock_trend_read(&top[i]->trend, now, waits, wait_ns);
		json_object *lock, *waits_json, *wait_ns_json;

		if (!total)
			break;
		lock = json_object_new_object();
		waits_json = json_object_new_array_ext(KS_LOCK_TREND_BUCKETS);
		wait_ns_json = json_object_new_array_ext(KS_LOCK_TREND_BUCKETS);
		for (size_t b = 0; b < KS_LOCK_TREND_BUCKETS; b++) {
			ks_json_push(waits_json,
				     json_object_new_int64(waits[b]));
			ks_json_push(wait_ns_json,
				     json_object_new_uint64(wait_ns[b]));
		}
		ks_json_add(lock, "pid", json_object_new_int64(top[i]->tgid));
		ks_json_add(lock, "process_comm",
			    json_object_new_string(top[i]->process_comm));
		ks_json_add(lock, "address", ks_json_hex(top[i]->address));
		ks_json_add(lock, "kind",
			    json_object_new_string(
				    ks_lock_kind_name(top[i]->kind)));
		ks_json_add(lock, "wait_ns_total",
			    json_object_new_uint64(total));
		ks_json_add(lock, "waits", waits_json);
		ks_json_add(lock, "wait_ns", wait_ns_json);
		ks_json_push(locks, lock);
	}
	ks_format_rfc3339(ks_mono_to_real_ns(now), time, sizeof(time));
	ks_json_add(obj, "end", json_object_new_string(time));
	ks_json_add(obj, "bucket_s",
		    json_object_new_int(KS_LOCK_TREND_BUCKET_S));
	ks_json_add(obj, "buckets", json_object_new_int(KS_LOCK_TREND_BUCKETS));
	ks_json_add(obj, "locks", locks);
	return obj;
}

static json_object *ks_locks_json(const struct ks_lock_stats *stats)
{
	const struct ks_lock_entry *top[KS_DASH_TOP_LOCKS];
	size_t n = ks_lock_stats_top(stats, top, KS_DASH_TOP_LOCKS);
	json_object *obj = json_object_new_object();
	json_object *locks = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		ks_json_push(locks, ks_lock_entry_json(top[i]));
	ks_json_add(obj, "locks", locks);
	ks_json_add(obj, "tracked",
		    json_object_new_uint64(ks_lock_stats_count(stats)));
	ks_json_add(obj, "evicted",
		    json_object_new_uint64(ks_lock_stats_evicted(stats)));
	return obj;
}

static json_object *ks_processes_json(const struct ks_table *table)
{
	json_object *obj = json_object_new_object();
	json_object *list = json_object_new_array();
	const struct ks_process *process;

	for (process = table->processes; process; process = process->hh.next) {
		json_object *entry;

		if (!process->stats.futex_waits)
			continue;
		entry = ks_json_process(process);
		ks_json_add(entry, "threads",
			    json_object_new_int64(process->nr_threads));
		ks_json_add(entry, "deadlocks",
			    json_object_new_uint64(process->stats.deadlocks));
		ks_json_add(entry, "stalls",
			    json_object_new_uint64(process->stats.stalls));
		ks_json_push(list, entry);
	}
	ks_json_add(obj, "processes", list);
	return obj;
}

/* Over the record kinds; kind 0 is unused. */
static uint64_t ks_sum_kinds(const uint64_t values[KS_EV_KIND_MAX])
{
	uint64_t sum = 0;

	for (int kind = 1; kind < KS_EV_KIND_MAX; kind++)
		sum += values[kind];
	return sum;
}

static const struct ks_bpf_prog_cost *
ks_previous_cost(const struct ks_dashboard *dashboard, const char *name)
{
	for (unsigned int i = 0; i < dashboard->rate_nr_bpf; i++)
		if (!strcmp(dashboard->rate_bpf[i].name, name))
			return &dashboard->rate_bpf[i];
	return NULL;
}

static json_object *ks_bpf_json(const struct ks_dashboard *dashboard,
				const struct ks_agent_health *health,
				double elapsed_ns)
{
	json_object *list = json_object_new_array();

	for (unsigned int i = 0; i < health->nr_bpf_progs; i++) {
		const struct ks_bpf_prog_cost *cost = &health->bpf_progs[i];
		const struct ks_bpf_prog_cost *before =
			ks_previous_cost(dashboard, cost->name);
		json_object *prog = json_object_new_object();

		ks_json_add(prog, "name", json_object_new_string(cost->name));
		ks_json_add(prog, "run_count",
			    json_object_new_uint64(cost->run_count));
		ks_json_add(prog, "run_time_ns",
			    json_object_new_uint64(cost->run_time_ns));
		ks_json_add(prog, "avg_run_ns",
			    json_object_new_double(
				    cost->run_count ?
					    (double)cost->run_time_ns /
						    (double)cost->run_count :
					    0));
		/* Of one CPU, since the previous publication. */
		ks_json_add(prog, "cpu_percent",
			    before && elapsed_ns > 0 ?
				    json_object_new_double(
					    (double)(cost->run_time_ns -
						     before->run_time_ns) /
					    elapsed_ns * 100) :
				    NULL);
		ks_json_push(list, prog);
	}
	return list;
}

static const char *ks_phase_name(enum ks_phase phase)
{
	switch (phase) {
	case KS_PHASE_STARTING:
		return "starting";
	case KS_PHASE_READY:
		return "ready";
	case KS_PHASE_STOPPING:
		break;
	}
	return "stopping";
}

/* {"enabled": false} without --http. */
static json_object *ks_http_json(const struct ks_dashboard *dashboard,
				 uint64_t now)
{
	json_object *obj = dashboard->red ?
				   ks_http_red_json(dashboard->red, now) :
				   json_object_new_object();

	ks_json_add(obj, "enabled",
		    json_object_new_boolean(dashboard->red != NULL));
	return obj;
}

/* The Kubernetes API's watch: null when the agent does not ask it. */
static json_object *ks_kubernetes_json(struct ks_dashboard *dashboard)
{
	struct ks_k8s_watch_stats watch;
	struct ks_k8s_cache_stats cache;
	json_object *obj;

	if (!dashboard->cfg.k8s)
		return NULL;
	ks_k8s_watch_stats(dashboard->cfg.k8s, &watch);
	ks_k8s_cache_stats(dashboard->cfg.pods, &cache);
	obj = json_object_new_object();
	ks_json_add(obj, "state",
		    json_object_new_string(ks_k8s_state_name(watch.state)));
	ks_json_add(obj, "pods", json_object_new_uint64(cache.pods));
	ks_json_add(obj, "owners", json_object_new_uint64(cache.owners));
	ks_json_add(obj, "pods_refused",
		    json_object_new_uint64(cache.pods_refused));
	ks_json_add(obj, "labels_dropped",
		    json_object_new_uint64(cache.labels_dropped));
	ks_json_add(obj, "lists", json_object_new_uint64(watch.lists));
	ks_json_add(obj, "events", json_object_new_uint64(watch.events));
	ks_json_add(obj, "owner_lookups",
		    json_object_new_uint64(watch.owner_lookups));
	ks_json_add(obj, "failures", json_object_new_uint64(watch.failures));
	ks_json_add(obj, "last_error",
		    watch.last_error[0] ?
			    json_object_new_string(watch.last_error) :
			    NULL);
	return obj;
}

static json_object *ks_health_json(struct ks_dashboard *dashboard,
				   const struct ks_agent_health *health,
				   uint64_t now)
{
	const struct ks_table *table = dashboard->cfg.watched.table;
	const struct ks_lock_stats *locks = dashboard->cfg.lock_stats;
	uint64_t events = ks_sum_kinds(health->events);
	double elapsed_ns = (double)(now - dashboard->rate_mono_ns);
	json_object *obj = json_object_new_object();
	json_object *lock_obj = json_object_new_object();
	json_object *long_obj = json_object_new_object();
	struct ks_long_waits long_waits;
	unsigned int nr_processes = 0, nr_threads = 0;
	const struct ks_process *process;

	if (dashboard->rate_mono_ns && elapsed_ns > 0)
		dashboard->events_per_s =
			(double)(events - dashboard->rate_events) /
			(elapsed_ns / 1e9);
	for (process = table->processes; process; process = process->hh.next) {
		nr_processes++;
		nr_threads += process->nr_threads;
	}
	ks_json_add(obj, "phase",
		    json_object_new_string(ks_phase_name(
			    ks_board_phase(dashboard->cfg.board))));
	ks_json_add(obj, "version", json_object_new_string(KS_VERSION));
	ks_json_add(obj, "agent_pid", json_object_new_int(getpid()));
	ks_json_add(obj, "attach_mode",
		    dashboard->cfg.attach_mode ?
			    json_object_new_string(dashboard->cfg.attach_mode) :
			    NULL);
	ks_json_add(obj, "uptime_s",
		    json_object_new_double(
			    health->started_real_ns ?
				    (double)(ks_now_real_ns() -
					     health->started_real_ns) /
					    1e9 :
				    0));
	ks_json_add(obj, "events", ks_json_by_kind(health->events));
	ks_json_add(obj, "events_per_s",
		    json_object_new_double(dashboard->events_per_s));
	ks_json_add(obj, "kernel_lost", ks_json_by_kind(health->kernel_lost));
	ks_json_add(obj, "kernel_lost_total",
		    json_object_new_uint64(ks_sum_kinds(health->kernel_lost)));
	ks_json_add(obj, "untracked_waits",
		    json_object_new_uint64(health->untracked_waits));
	ks_json_add(obj, "malformed_records",
		    json_object_new_uint64(health->malformed));
	ks_json_add(obj, "deadlocks",
		    json_object_new_uint64(health->deadlocks));
	ks_json_add(obj, "stalls", json_object_new_uint64(health->stalls));
	ks_long_waits_count(table, NULL, now, &long_waits);
	ks_json_add(long_obj, "count", json_object_new_int64(long_waits.count));
	ks_json_add(
		long_obj, "longest_ms",
		json_object_new_double((double)long_waits.longest_ns / 1e6));
	ks_json_add(obj, "unknown_holder_waits", long_obj);
	ks_json_add(obj, "processes", json_object_new_int64(nr_processes));
	ks_json_add(obj, "threads", json_object_new_int64(nr_threads));
	ks_json_add(lock_obj, "tracked",
		    json_object_new_uint64(ks_lock_stats_count(locks)));
	ks_json_add(lock_obj, "evicted",
		    json_object_new_uint64(ks_lock_stats_evicted(locks)));
	ks_json_add(lock_obj, "site_lookups",
		    json_object_new_uint64(ks_lock_stats_site_lookups(locks)));
	ks_json_add(lock_obj, "sites_skipped",
		    json_object_new_uint64(ks_lock_stats_sites_skipped(locks)));
	ks_json_add(obj, "locks", lock_obj);
	ks_json_add(obj, "export",
		    health->export ? ks_json_export(health->export) : NULL);
	ks_json_add(obj, "bpf_stats",
		    json_object_new_boolean(dashboard->cfg.bpf_stats));
	ks_json_add(obj, "bpf_programs",
		    ks_bpf_json(dashboard, health, elapsed_ns));
	ks_json_add(obj, "kubernetes", ks_kubernetes_json(dashboard));
	ks_json_add(obj, "login",
		    json_object_new_boolean(dashboard->cfg.login));
	ks_json_add(obj, "trace_url",
		    dashboard->cfg.trace_url ?
			    json_object_new_string(dashboard->cfg.trace_url) :
			    NULL);
	dashboard->rate_mono_ns = now;
	dashboard->rate_events = events;
	memcpy(dashboard->rate_bpf, health->bpf_progs,
	       sizeof(dashboard->rate_bpf));
	dashboard->rate_nr_bpf = health->nr_bpf_progs;
	return obj;
}

/* "name":[newest first], from the kept records of type (NULL: all). */
static void ks_write_records(FILE *out, const struct ks_history *history,
			     const char *name, const char *type)
{
	bool first = true;

	fprintf(out, "\"%s\":[", name);
	for (size_t i = ks_history_count(history); i-- > 0;) {
		if (type && strcmp(ks_history_type(history, i), type))
			continue;
		fprintf(out, "%s%s", first ? "" : ",",
			ks_history_record(history, i));
		first = false;
	}
	fputs("]", out);
}

/*
 * From the kept records, restored ones included, newest first:
 * KS_DOC_DEADLOCKS is {"total": N, "deadlocks": [...], "stalls_total": M,
 * "stalls": [...]} with this run's counts, KS_DOC_HISTORY is
 * {"total": N, "records": [...]} with every type, N counting restored
 * ones too.
 */
static struct ks_doc *ks_records_doc(const struct ks_dashboard *dashboard,
				     enum ks_doc_id id)
{
	const struct ks_history *history = dashboard->history;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	if (id == KS_DOC_HISTORY) {
		fprintf(out, "{\"total\":%" PRIu64 ",",
			ks_history_total(history));
		ks_write_records(out, history, "records", NULL);
	} else {
		fprintf(out, "{\"total\":%" PRIu64 ",",
			dashboard->nr_deadlocks);
		ks_write_records(out, history, "deadlocks", "deadlock");
		fprintf(out, ",\"stalls_total\":%" PRIu64 ",",
			dashboard->nr_stalls);
		ks_write_records(out, history, "stalls", "stall");
	}
	fputs("}", out);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return ks_doc_adopt(KS_JSON_TYPE, text, len);
}

static json_object *ks_long_wait_stack(void *ctx,
				       const struct ks_thread *thread)
{
	return ks_stack_cache_get(ctx, thread);
}

/* /api/waits: the long waits nobody holds, each stack unwound once. */
static json_object *ks_long_waits_doc(struct ks_dashboard *dashboard,
				      uint64_t now)
{
	json_object *obj;

	ks_stack_cache_begin(dashboard->long_wait_stacks,
			     KS_DASH_STACKS_PER_RENDER);
	obj = ks_json_long_waits(dashboard->cfg.watched.table, now,
				 ks_long_wait_stack,
				 dashboard->long_wait_stacks);
	ks_stack_cache_sweep(dashboard->long_wait_stacks);
	return obj;
}

static struct ks_doc *ks_metrics_doc(struct ks_dashboard *dashboard,
				     const struct ks_agent_health *health)
{
	struct ks_prom_writer *writer =
		ks_prom_writer_new(ks_dashboard_resource_labels, dashboard);
	struct ks_doc *doc = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!writer)
		return NULL;
	dashboard->scraped = true;
	out = open_memstream(&text, &len);
	if (!out)
		goto cleanup;
	ks_metrics_collect(&dashboard->cfg.watched, health, ks_prom_add,
			   writer);
	if (ks_prom_write(writer, out) | fclose(out)) {
		free(text);
		goto cleanup;
	}
	doc = ks_doc_adopt(KS_PROM_CONTENT_TYPE, text, len);
cleanup:
	ks_prom_writer_free(writer);
	return doc;
}

/*
 * The Server-Sent Event announcing a publication: the documents a page
 * redraws from, in one message, and the counts of deadlocks, stalls and
 * kept records (the records themselves are fetched when these change).
 */
static struct ks_doc *ks_event_doc(struct ks_doc *docs[KS_NR_DOCS],
				   uint64_t nr_deadlocks, uint64_t nr_stalls,
				   uint64_t history_total)
{
	static const struct {
		const char *name;
		enum ks_doc_id id;
	} parts[] = {
		{ "graph", KS_DOC_GRAPH },
		{ "locks", KS_DOC_LOCKS },
		{ "health", KS_DOC_HEALTH },
		{ "processes", KS_DOC_PROCESSES },
	};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	fprintf(out,
		"event: state\ndata: {\"deadlocks_total\":%" PRIu64
		",\"stalls_total\":%" PRIu64 ",\"history_total\":%" PRIu64,
		nr_deadlocks, nr_stalls, history_total);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct ks_doc *doc = docs[parts[i].id];

		fprintf(out, ",\"%s\":", parts[i].name);
		if (doc)
			fwrite(ks_doc_data(doc), 1, ks_doc_len(doc), out);
		else
			fputs("null", out);
	}
	/* JSON text has no raw newline, so one data line holds it all. */
	fputs("}\n\n", out);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return ks_doc_adopt("text/event-stream", text, len);
}

void ks_dashboard_publish(struct ks_dashboard *dashboard,
			  const struct ks_agent_health *health,
			  uint64_t now_mono_ns)
{
	const struct ks_table *table = dashboard->cfg.watched.table;
	struct ks_doc *docs[KS_NR_DOCS] = { 0 };

	docs[KS_DOC_GRAPH] = ks_json_doc(
		ks_graph_view_render(dashboard->graph, table, now_mono_ns));
	docs[KS_DOC_LOCKS] =
		ks_json_doc(ks_locks_json(dashboard->cfg.lock_stats));
	docs[KS_DOC_HTTP] = ks_json_doc(ks_http_json(dashboard, now_mono_ns));
	docs[KS_DOC_TRENDS] = ks_json_doc(
		ks_trends_json(dashboard->cfg.lock_stats, now_mono_ns));
	docs[KS_DOC_DEADLOCKS] = ks_records_doc(dashboard, KS_DOC_DEADLOCKS);
	docs[KS_DOC_HISTORY] = ks_records_doc(dashboard, KS_DOC_HISTORY);
	docs[KS_DOC_HEALTH] =
		ks_json_doc(ks_health_json(dashboard, health, now_mono_ns));
	docs[KS_DOC_PROCESSES] = ks_json_doc(ks_processes_json(table));
	docs[KS_DOC_METRICS] = ks_metrics_doc(dashboard, health);
	docs[KS_DOC_WAITS] =
		ks_json_doc(ks_long_waits_doc(dashboard, now_mono_ns));
	docs[KS_DOC_EVENT] = ks_event_doc(docs, dashboard->nr_deadlocks,
					  dashboard->nr_stalls,
					  ks_history_total(dashboard->history));
	ks_board_publish(dashboard->cfg.board, docs, now_mono_ns);
	dashboard->published_mono_ns = now_mono_ns;
	dashboard->finding_pending = false;
}
