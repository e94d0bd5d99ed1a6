/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The --json sink: one JSON object per line, each with a "type", flushed as
 * it is written so a reader can follow it live.  Types: "ready" (capture is
 * attached), "deadlock", "stall", "lock_order_inversion", "process" (a
 * watched process that waited on futexes exited) and "summary" (at the
 * end).
 */
#ifndef KS_JSON_SINK_H
#define KS_JSON_SINK_H

#include <json-c/json.h>
#include <stdint.h>

#include "httptrace/http_spans.h"
#include "model/table.h"
#include "otlp/otlp_export.h"
#include "report/json_build.h"
#include "report/metric_samples.h"
#include "report/report.h"

struct ks_json_sink;

struct ks_ready_info {
	const char *attach_mode; /* "tp_btf" or "raw_tp" */
	/* "fentry", "tracepoint", "sys_enter", or "none": no call hooked */
	const char *syscall_hooks;
	const char *wait_hooks; /* "sched" or "syscall" */
	bool channel_edges;
	const char *selection; /* human description */
	unsigned int confirm_ms;
	unsigned int stall_ms; /* 0: no stall detection */
	unsigned int nr_processes;
	unsigned int nr_threads;
	unsigned int nr_seeded_waits;
	const char *http_address; /* NULL without the HTTP server */
};

struct ks_run_summary {
	uint64_t events[KS_EV_KIND_MAX];
	uint64_t kernel_drops; /* ring buffer full */
	uint64_t inflight_full;
	uint64_t malformed; /* records the agent could not parse */
	uint64_t deadlocks;
	uint64_t stalls;
	double duration_s;
	const struct ks_otlp_stats *export; /* NULL without OTLP export */
	const struct ks_http_stats *http; /* NULL without --http */
	uint64_t memory_limit; /* bytes; 0: no ceiling */
	uint64_t memory_peak; /* the most resident bytes seen */
	struct ks_shed_stats shed;
};

/* path "-" is stdout.  NULL on error, with errno set. */
struct ks_json_sink *ks_json_sink_open(const char *path);
void ks_json_sink_close(struct ks_json_sink *sink);
/*
 * Records that could not be written (a full disk, a reader gone): the
 * first failure is a warning, the count is for the end of the run.
 */
uint64_t ks_json_sink_lost(const struct ks_json_sink *sink);

int ks_json_write_ready(struct ks_json_sink *sink,
			const struct ks_ready_info *info);
int ks_json_write_deadlock(struct ks_json_sink *sink,
			   const struct ks_report *report);
/* The same deadlock record as one line of JSON, malloc()ed; NULL on ENOMEM. */
char *ks_json_deadlock_string(const struct ks_report *report);
/* "stall": a whole process blocked on futexes nobody can wake. */
int ks_json_write_stall(struct ks_json_sink *sink,
			const struct ks_stall_report *report);
char *ks_json_stall_string(const struct ks_stall_report *report);
/* "lock_order_inversion": a potential deadlock found in precise mode. */
int ks_json_write_inversion(struct ks_json_sink *sink,
			    const struct ks_inversion_report *report);
char *ks_json_inversion_string(const struct ks_inversion_report *report);
int ks_json_write_process(struct ks_json_sink *sink,
			  const struct ks_process *process, const char *state);
/* process_list: watched processes still alive, written inside the summary. */
int ks_json_write_summary(struct ks_json_sink *sink,
			  const struct ks_run_summary *summary,
			  const struct ks_table *table);

/* A thread's stack as JSON (a new reference), or NULL for none. */
typedef json_object *(*ks_json_stack_fn)(void *ctx,
					 const struct ks_thread *thread);

/*
 * Threads blocked for long on locks nobody is known to hold (see
 * detect/long_waits.h): {"threshold_s", "count", "longest_ms", "threads":
 * [{pid, tid, comm, process_comm, wait, stack}]}, each with its stack
 * when stack_of gives one.  In the summary, and the dashboard's.
 */
json_object *ks_json_long_waits(const struct ks_table *table, uint64_t now,
				ks_json_stack_fn stack_of, void *ctx);

/* Pieces of those records, shared with the dashboard's documents. */
json_object *ks_json_hex(uint64_t value);
json_object *ks_json_frame(const struct ks_frame *frame);
json_object *ks_json_stack(const struct ks_stack *stack);
/* pid, comm and the process's wait statistics. */
json_object *ks_json_process(const struct ks_process *process);
/* {"wait_begin": N, "wait_end": N, ...}: one count per record kind. */
json_object *ks_json_by_kind(const uint64_t values[KS_EV_KIND_MAX]);
/* Per signal: produced, exported, rejected, dropped, failed, queued... */
json_object *ks_json_export(const struct ks_otlp_stats *stats);
/* One line, owned by obj; NULL when memory ran out. */
const char *ks_json_text(json_object *obj);

#endif /* KS_JSON_SINK_H */
