/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's run: set up (setup.c), watch until told to stop (loop.c),
 * route each record to what it concerns (records.c), keep count of its own
 * health (health.c), and end without losing what is queued (finish.c).
 * struct ks_agent is what those share; only main.c calls ks_agent_run().
 */
#ifndef KS_AGENT_H
#define KS_AGENT_H

#include "capture/capture.h"
#include "capture/precise.h"
#include "capture/trace_ctx_map.h"
#include "detect/detector.h"
#include "detect/lockorder.h"
#include "detect/stall.h"
#include "hb/causality.h"
#include "meta/k8s_cache.h"
#include "meta/k8s_watch.h"
#include "httptrace/http_spans.h"
#include "model/io_sweep.h"
#include "model/model.h"
#include "otlp/otlp_config.h"
#include "report/json_sink.h"
#include "report/metric_samples.h"
#include "run/deadlock_report.h"
#include "run/inversion_report.h"
#include "run/memory_guard.h"
#include "run/options.h"
#include "run/stall_report.h"
#include "serve/dashboard.h"
#include "serve/lock_stats.h"
#include "serve/web_server.h"
#include "stacks/symbolize.h"
#include "telemetry/telemetry.h"

struct ks_agent {
	const struct ks_options *options;
	struct ks_selection selection;
	struct ks_model model;
	struct ks_capture *capture;
	struct ks_symbolizer *symbolizer;
	struct ks_detector *detector;
	struct ks_stall_detector *stalls; /* NULL with --stall-ms off */
	/* Threads blocked in I/O, looked for from /proc (--io-sweep-ms). */
	struct ks_io_sweep *io_sweep;
	/* The model's version the detectors last heard of. */
	uint64_t detector_version;
	struct ks_json_sink *sink; /* NULL without --json */
	/* Precise mode, NULL without --precise. */
	struct ks_precise *precise;
	struct ks_lockorder *lockorder;
	/* Happens-before, NULL when no spans are exported. */
	struct ks_causality *causality;
	struct ks_http_spans *http; /* NULL without --http */
	/* This node's pods from the Kubernetes API; NULL when not used. */
	struct ks_k8s_cache *pods;
	struct ks_k8s_watch *k8s;
	struct ks_otlp_config otlp;
	struct ks_telemetry *telemetry; /* NULL without OTLP export */
	struct ks_deadlock_reporter reporter;
	struct ks_inversion_reporter inversion_reporter;
	/* Ring buffer drops seen so far: the engine learns of new ones. */
	uint64_t kernel_lost;
	/*
	 * The kernel side's counters as capture closed: the summary and the
	 * last metrics, which come after, report them.
	 */
	struct ks_cpu_stats kernel_at_close;
	uint64_t last_tick_ns;
	/*
	 * A tick begins at tick_start_ns and hands records over until
	 * records_deadline_ns; consumed counts them, consumed_ts_ns is the
	 * latest one's time.
	 */
	uint64_t tick_start_ns;
	uint64_t records_deadline_ns;
	uint64_t consumed;
	uint64_t consumed_ts_ns;
	/* The memory ceiling, and what is shed to stay under it. */
	struct ks_memory_guard memory;
	uint64_t next_memory_check_ns;
	uint64_t last_guess_ns; /* the last look at long waits' stacks */
	/* The HTTP side; all NULL with --listen off. */
	struct ks_board *board;
	struct ks_lock_stats *lock_stats;
	struct ks_dashboard *dashboard;
	struct ks_http_server *http_server;
	int bpf_stats_fd; /* keeps BPF run-time statistics on; -1: off */
	bool pinned;
	struct ks_trace_ctx_map trace_ctx;
	uint64_t next_trace_ctx_check_ns; /* for other programs using it */
	struct ks_http_stats http_stats; /* the latest snapshot */
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	uint64_t started_ns;
	uint64_t started_real_ns;
};

/* Returns the process exit status. */
int ks_agent_run(const struct ks_options *options);
/*
 * --check-config: what a run would read of the OTEL_* variables and the
 * file's OTLP settings, checked; 0 when valid, 2 after saying why not.
 */
int ks_agent_check_config(const struct ks_options *options);

/* records.c: the capture's callback, with the agent as ctx. */
int ks_agent_on_record(void *ctx, void *data, size_t size);
/* The model's hooks the agent itself needs, with the agent as ctx. */
extern const struct ks_model_hooks ks_agent_model_hooks;
/* The table's on_process_gone: what each part keeps of a process goes. */
void ks_agent_process_gone(void *ctx, struct ks_process *process);
/*
 * The table's on_process_freed: what was kept for a departed process's
 * final values (its resource, its HTTP series) goes with it.
 */
void ks_agent_process_freed(void *ctx, struct ks_process *process);
/* What HTTP spans need of the agent, with the agent as ctx. */
extern const struct ks_http_hooks ks_agent_http_hooks;

/*
 * health.c: the agent's own counters.  export is filled when OTLP export
 * is on, hb when happens-before is tracked; both must live as long as
 * health is used.
 */
void ks_agent_health(struct ks_agent *agent, struct ks_agent_health *health,
		     struct ks_otlp_stats *export, struct ks_hb_stats *hb);

/*
 * loop.c: the event loop; 0 when told to stop or done, else -errno.  Stop
 * signals are blocked before any thread starts, for the loop to read.
 */
int ks_agent_block_signals(void);
int ks_agent_loop_setup(struct ks_agent *agent);
int ks_agent_loop(struct ks_agent *agent);

/*
 * wait_guesses.c: guesses from their stacks what the long waits nobody is
 * known to hold are, a few per call.
 */
void ks_agent_guess_long_waits(struct ks_agent *agent, uint64_t now);

/* finish.c: the end of a run, then what it saw. */
void ks_agent_unpin(struct ks_agent *agent);
void ks_agent_finish(struct ks_agent *agent);
void ks_agent_summarize(struct ks_agent *agent);
/*
 * Whether the run lost output it was asked for (--json records it could
 * not write), after saying how much: the run then ends with status 1.
 */
bool ks_agent_lost_output(struct ks_agent *agent);

#endif /* KS_AGENT_H */
