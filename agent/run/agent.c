// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "capture/bpf_pins.h"
#include "capture/bpf_stats.h"
#include "capture/capture.h"
#include "capture/trace_ctx_map.h"
#include "detect/live_wait.h"
#include "model/model.h"
#include "model/scan.h"
#include "run/agent.h"
#include "run/deadlock_report.h"
#include "run/inversion_report.h"
#include "serve/dashboard.h"
#include "serve/http_server.h"
#include "serve/listen_addr.h"
#include "serve/lock_stats.h"
#include "telemetry/telemetry.h"

/*
 * How often the ring buffer is drained and the graph examined.  The kernel
 * side does not wake the agent per record (see ks_submit), so this bounds
 * how late an event is seen: it adds at most this much to detection.
 */
#define KS_TICK_NS (20 * 1000000ull)
#define KS_CLOCK_RESAMPLE_NS (10 * 1000000000ull)
/* How long a stop may spend delivering what is queued for OTLP. */
#define KS_FLUSH_TIMEOUT_MS 5000

struct ks_agent {
	const struct ks_options *options;
	struct ks_selection selection;
	struct ks_model model;
	struct ks_capture *capture;
	struct ks_otlp_config otlp;
	struct ks_telemetry *telemetry; /* NULL without OTLP export */
	struct ks_deadlock_reporter reporter;
	struct ks_inversion_reporter inversion_reporter;
	/* Ring buffer drops seen so far: the engine learns of new ones. */
	uint64_t kernel_lost;
	uint64_t last_tick_ns;
	/* The HTTP side; all NULL with --listen off. */
	struct ks_board *board;
	struct ks_lock_stats *lock_stats;
	struct ks_dashboard *dashboard;
	struct ks_http_server *http;
	int bpf_stats_fd; /* keeps BPF run-time statistics on; -1: off */
	bool pinned;
	struct ks_trace_ctx_map trace_ctx;
	struct ks_http_stats http_stats; /* the latest snapshot */
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	uint64_t started_ns;
	uint64_t started_real_ns;
};

static int ks_on_record(void *ctx, void *data, size_t size)
{
	struct ks_agent *agent = ctx;

	ks_events_apply(&agent->model, data, size);
	return 0;
}

static int ks_track_wait(void *ctx, uint32_t tid,
			 const struct ks_inflight *inflight)
{
	struct ks_agent *agent = ctx;

	return ks_capture_track_wait(agent->capture, tid, inflight);
}

static void ks_on_process_gone(void *ctx, struct ks_process *process)
{
	struct ks_agent *agent = ctx;

	ks_symbolizer_forget(agent->model.symbolizer, process->tgid);
	if (agent->lock_stats && process->stats.lock_waits)
		ks_lock_stats_forget_process(agent->lock_stats, process->tgid);
	if (agent->telemetry)
		ks_telemetry_process_gone(agent->telemetry, &agent->model,
					  process);
	if (agent->model.http)
		ks_http_spans_forget_metrics(agent->model.http, process->tgid);
	if (agent->model.precise) {
		ks_precise_detach(agent->model.precise, process->tgid);
		ks_lockorder_process_gone(agent->model.lockorder,
					  process->tgid);
	}
}

static bool ks_wants_precise(const struct ks_options *options)
{
	return options->nr_precise_pids || options->nr_precise_comms;
}

/* Precise mode for the processes already running that it names. */
static int ks_setup_precise(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	struct ks_process *process;

	agent->inversion_reporter.model = &agent->model;
	agent->inversion_reporter.telemetry = agent->telemetry;
	agent->model.lockorder = ks_lockorder_new(ks_inversion_report,
						  &agent->inversion_reporter);
	agent->model.precise = ks_precise_new(
		agent->capture, options->precise_pids, options->nr_precise_pids,
		options->precise_comms, options->nr_precise_comms);
	if (!agent->model.lockorder || !agent->model.precise)
		return -ENOMEM;
	for (process = agent->model.table.processes; process;
	     process = process->hh.next)
		if (ks_precise_wants(agent->model.precise, process->tgid,
				     process->comm) &&
		    !ks_precise_attach(agent->model.precise, process->tgid))
			ks_symbolizer_preload(agent->model.symbolizer,
					      process->tgid);
	return 0;
}

static void ks_on_http_span(void *ctx, const struct ks_http_span *span)
{
	struct ks_agent *agent = ctx;
	struct ks_process *process =
		ks_table_process(&agent->model.table, span->tgid);
	struct ks_thread *thread =
		ks_table_thread(&agent->model.table, span->tid);

	if (!agent->telemetry || !process)
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

static void ks_on_forget_sock(void *ctx, uint32_t tgid, int32_t fd)
{
	struct ks_agent *agent = ctx;

	if (agent->capture)
		ks_capture_forget_sock(agent->capture, tgid, fd);
}

static const struct ks_http_hooks ks_agent_http_hooks = {
	.span_ready = ks_on_http_span,
	.trace_ctx_update = ks_on_trace_ctx_update,
	.trace_ctx_retract = ks_on_trace_ctx_retract,
	.forget_sock = ks_on_forget_sock,
};

/*
 * The agent's own counters.  export is filled when OTLP export is on, hb
 * when happens-before is tracked; both must live as long as health is used.
 */
static void ks_agent_health(struct ks_agent *agent,
			    struct ks_agent_health *health,
			    struct ks_otlp_stats *export,
			    struct ks_hb_stats *hb)
{
	struct ks_cpu_stats kernel;

	memset(health, 0, sizeof(*health));
	memcpy(health->events, agent->model.events, sizeof(health->events));
	if (agent->capture && !ks_capture_read_stats(agent->capture, &kernel)) {
		memcpy(health->kernel_lost, kernel.reserve_failed,
		       sizeof(health->kernel_lost));
		health->untracked_waits = kernel.inflight_full;
		health->socks_untracked = kernel.socks_full;
	}
	if (agent->model.http) {
		ks_http_spans_stats(agent->model.http, &agent->http_stats);
		health->http = &agent->http_stats;
	}
	health->malformed = agent->model.malformed;
	health->deadlocks = ks_detector_nr_reported(agent->model.detector);
	health->started_real_ns = agent->started_real_ns;
	if (agent->telemetry) {
		ks_telemetry_stats(agent->telemetry, export);
		health->export = export;
	}
	if (agent->model.causality) {
		ks_causality_stats(agent->model.causality, hb);
		health->hb = hb;
	}
	if (agent->capture && agent->bpf_stats_fd >= 0)
		ks_bpf_stats_read(ks_capture_object(agent->capture), health);
}

static const struct ks_detector_ops ks_detector_ops = {
	.refresh = ks_live_refresh_wait,
	.verify = ks_live_verify_wait,
	.report = ks_deadlock_report,
};

static void ks_stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
}

/*
 * Blocked before any thread starts, since threads inherit the mask: a stop
 * signal must reach the main loop's signalfd, not end the process in
 * whichever thread the kernel picks.  A shell starts background jobs with
 * SIGINT ignored, and an ignored signal is discarded instead of queued for
 * the signalfd: restore the default disposition first.
 */
static int ks_block_stop_signals(void)
{
	sigset_t mask;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	ks_stop_signals(&mask);
	return sigprocmask(SIG_BLOCK, &mask, NULL) ? -errno : 0;
}

static int ks_setup_loop(struct ks_agent *agent)
{
	struct itimerspec tick = {
		.it_interval = { .tv_nsec = KS_TICK_NS },
		.it_value = { .tv_nsec = KS_TICK_NS },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	ks_stop_signals(&mask);
	agent->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	agent->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	agent->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (agent->signal_fd < 0 || agent->timer_fd < 0 || agent->epoll_fd < 0)
		return -errno;
	if (timerfd_settime(agent->timer_fd, 0, &tick, NULL))
		return -errno;
	ev.data.fd = agent->signal_fd;
	if (epoll_ctl(agent->epoll_fd, EPOLL_CTL_ADD, agent->signal_fd, &ev))
		return -errno;
	ev.data.fd = agent->timer_fd;
	if (epoll_ctl(agent->epoll_fd, EPOLL_CTL_ADD, agent->timer_fd, &ev))
		return -errno;
	ev.data.fd = ks_capture_epoll_fd(agent->capture);
	if (epoll_ctl(agent->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

static void ks_announce(struct ks_agent *agent,
			const struct ks_scan_result *scan)
{
	struct ks_ready_info info = {
		.attach_mode = ks_capture_attach_mode(agent->capture),
		.confirm_ms = agent->options->confirm_ms,
		.nr_processes = scan->nr_processes,
		.nr_threads = scan->nr_threads,
		.nr_seeded_waits = scan->nr_seeded_waits,
		.http_address = agent->http ?
					ks_http_server_address(agent->http) :
					NULL,
	};
	char selection[512];

	ks_selection_describe(&agent->selection, selection, sizeof(selection));
	info.selection = selection;
	ks_info("watching %s: %u processes, %u threads, %u already in futex "
		"waits (%s); deadlocks are reported after %u ms\n",
		selection, scan->nr_processes, scan->nr_threads,
		scan->nr_seeded_waits, info.attach_mode,
		agent->options->confirm_ms);
	if (agent->model.sink)
		ks_json_write_ready(agent->model.sink, &info);
}

/*
 * Everything reserved before drained_ns has been consumed; what was stamped
 * before it but reserved later is the engine's reorder window to absorb.
 */
static void ks_tick_causality(struct ks_agent *agent,
			      const struct ks_agent_health *health,
			      uint64_t drained_ns)
{
	uint64_t lost = 0;

	for (int k = 0; k < KS_EV_KIND_MAX; k++)
		lost += health->kernel_lost[k];
	if (lost != agent->kernel_lost)
		ks_causality_lost(agent->model.causality, agent->last_tick_ns,
				  drained_ns);
	agent->kernel_lost = lost;
	agent->last_tick_ns = drained_ns;
	ks_causality_advance(agent->model.causality, drained_ns);
}

static void ks_tick(struct ks_agent *agent)
{
	struct ks_agent_health health;
	struct ks_otlp_stats export;
	struct ks_hb_stats hb;
	uint64_t drained = ks_now_mono_ns(), now;

	ks_capture_consume(agent->capture);
	/* After draining: records may be newer than an earlier reading. */
	now = ks_now_mono_ns();
	if (agent->model.http)
		ks_http_spans_tick(agent->model.http, now);
	if (ks_detector_wants_tick(agent->model.detector, now))
		ks_detector_tick(agent->model.detector, &agent->model.table,
				 now);
	if (agent->telemetry) {
		ks_agent_health(agent, &health, &export, &hb);
		if (agent->model.causality)
			ks_tick_causality(agent, &health, drained);
		ks_telemetry_tick(agent->telemetry, &agent->model, &health,
				  now);
	}
	if (!agent->board)
		return;
	ks_board_heartbeat(agent->board, now);
	if (ks_dashboard_due(agent->dashboard, now)) {
		ks_agent_health(agent, &health, &export, &hb);
		ks_dashboard_publish(agent->dashboard, &health, now);
	}
}

static int ks_loop(struct ks_agent *agent)
{
	uint64_t deadline =
		agent->options->duration_s ?
			agent->started_ns +
				agent->options->duration_s * 1000000000ull :
			0;
	uint64_t next_resample = agent->started_ns + KS_CLOCK_RESAMPLE_NS;

	for (;;) {
		struct epoll_event events[4];
		int n = epoll_wait(agent->epoll_fd, events, 4, -1);
		uint64_t now;

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			uint64_t expirations;

			if (fd == agent->signal_fd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) == sizeof(si))
					ks_debug("signal %u: stopping\n",
						 si.ssi_signo);
				return 0;
			}
			if (fd == agent->timer_fd &&
			    read(fd, &expirations, sizeof(expirations)) < 0)
				return -errno;
			/* Timer or a full ring buffer: drain and look. */
		}
		ks_tick(agent);
		now = ks_now_mono_ns();
		if (now >= next_resample) {
			ks_clock_resample();
			next_resample = now + KS_CLOCK_RESAMPLE_NS;
		}
		if (deadline && now >= deadline)
			return 0;
	}
}

static void ks_unpin(struct ks_agent *agent)
{
	if (!agent->pinned || agent->options->keep_pins)
		return;
	ks_bpf_pins_remove(ks_capture_object(agent->capture), KS_PIN_DIR);
	agent->pinned = false;
}

/*
 * The end of a run, in the order that loses nothing: what is already in the
 * ring buffer is applied, capture stops, the last metrics are queued, and
 * the exporter gets a bounded time to deliver everything queued.
 */
static void ks_finish(struct ks_agent *agent)
{
	struct ks_agent_health health;
	struct ks_otlp_stats export;
	struct ks_hb_stats hb;

	if (agent->board)
		ks_board_set_phase(agent->board, KS_PHASE_STOPPING);
	ks_capture_consume(agent->capture);
	if (agent->model.http)
		ks_http_spans_finish(agent->model.http, ks_now_mono_ns());
	ks_agent_health(agent, &health, &export, &hb);
	ks_unpin(agent);
	ks_capture_close(agent->capture);
	agent->capture = NULL;
	if (!agent->telemetry)
		return;
	ks_telemetry_flush_metrics(agent->telemetry, &agent->model, &health);
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

static void ks_summarize(struct ks_agent *agent)
{
	struct ks_run_summary summary = { 0 };
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
	summary.export = health.export;
	summary.http = health.http;
	summary.duration_s =
		(double)(ks_now_mono_ns() - agent->started_ns) / 1e9;
	ks_info("stopped after %.1f s: %llu futex waits seen, %llu records "
		"lost to a full ring buffer, %llu deadlock%s reported\n",
		summary.duration_s,
		(unsigned long long)summary.events[KS_EV_WAIT_BEGIN],
		(unsigned long long)summary.kernel_drops,
		(unsigned long long)summary.deadlocks,
		summary.deadlocks == 1 ? "" : "s");
	ks_log_export(health.export);
	if (agent->model.sink)
		ks_json_write_summary(agent->model.sink, &summary,
				      &agent->model.table);
}

/*
 * HTTP spans: the shared traces_ctx_v1 map (none is fine: profilers then
 * just do without), and what turns socket records into spans.
 */
static int ks_setup_http(struct ks_agent *agent,
			 struct ks_capture_config *capture)
{
	const struct ks_options *options = agent->options;
	struct ks_http_spans_config config = {
		.keep_query = options->http_query,
		.routes = &options->http_routes,
		.join_wait_ns = KS_HTTP_JOIN_WAIT_NS,
		.max_conns = KS_MAX_SOCKS,
		.max_exchanges = KS_HTTP_MAX_EXCHANGES,
	};

	capture->http = options->http;
	capture->capture_bytes = options->http_capture_bytes;
	if (!options->http)
		return 0;
	if (options->bpffs)
		ks_trace_ctx_map_open(&agent->trace_ctx, options->bpffs);
	capture->trace_ctx_fd = agent->trace_ctx.fd;
	agent->model.http =
		ks_http_spans_new(&config, &ks_agent_http_hooks, agent);
	if (!agent->model.http)
		return -ENOMEM;
	if (agent->telemetry)
		ks_telemetry_set_http(agent->telemetry, agent->model.http);
	return 0;
}

/*
 * OTLP settings from the OTEL_* environment, then the command line.  Returns
 * 0, or 2 (a usage error) or 1 (no memory) after saying what is wrong.
 */
static int ks_setup_telemetry(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	struct ks_otlp_cli cli = {
		.endpoint = options->otlp_endpoint,
		.headers = options->otlp_headers,
		.nr_headers = options->nr_otlp_headers,
		.compression = options->otlp_compression,
		.timeout_ms = options->otlp_timeout_ms,
	};
	char err[KS_OTLP_ERR_SIZE];

	if (ks_otlp_config_from_env(&agent->otlp, getenv, err, sizeof(err)) ||
	    ks_otlp_config_apply_cli(&agent->otlp, &cli, err, sizeof(err))) {
		ks_err("%s\n", err);
		return 2;
	}
	if (!agent->otlp.enabled) {
		if (!options->offcpu_min_ns)
			return 0;
		ks_err("--offcpu-min makes spans: it needs an OTLP endpoint\n");
		return 2;
	}
	agent->telemetry =
		ks_telemetry_new(&agent->otlp, options->min_wait_ns,
				 agent->model.symbolizer, err, sizeof(err));
	if (!agent->telemetry) {
		ks_err("OTLP export: %s\n", err);
		return 2;
	}
	agent->reporter.telemetry = agent->telemetry;
	if (ks_model_subscribe(&agent->model, &ks_telemetry_hooks,
			       agent->telemetry))
		return 1;
	if (!ks_telemetry_wants_spans(agent->telemetry)) {
		if (!options->offcpu_min_ns)
			return 0;
		ks_err("--offcpu-min makes spans: trace export is off\n");
		return 2;
	}
	agent->model.causality = ks_causality_new(NULL);
	if (!agent->model.causality) {
		ks_err("out of memory\n");
		return 1;
	}
	ks_telemetry_set_causality(agent->telemetry, agent->model.causality);
	return 0;
}

/* Dashboard and probes off, as if --listen off had been given. */
static void ks_drop_dashboard(struct ks_agent *agent)
{
	ks_http_server_stop(agent->http);
	ks_dashboard_free(agent->dashboard);
	ks_lock_stats_free(agent->lock_stats);
	ks_board_free(agent->board);
	agent->http = NULL;
	agent->dashboard = NULL;
	agent->lock_stats = NULL;
	agent->board = NULL;
	agent->reporter.dashboard = NULL;
}

static int ks_start_dashboard(struct ks_agent *agent, const char *token,
			      char *err, size_t err_size)
{
	const struct ks_options *options = agent->options;
	struct ks_lock_stats_config locks = {
		.site_budget = KS_LOCK_STATS_DEFAULT_SITE_BUDGET,
		.resolve_site = ks_lock_stats_wait_site,
		.resolve_ctx = agent->model.symbolizer,
		.table = &agent->model.table,
	};
	struct ks_dashboard_config dashboard = {
		.model = &agent->model,
		.bpf_stats = options->bpf_stats,
	};
	struct ks_http_config http = {
		.listen = options->listen,
		.token = token,
	};

	agent->board = ks_board_new();
	agent->lock_stats = ks_lock_stats_new(&locks);
	dashboard.board = http.board = agent->board;
	dashboard.lock_stats = agent->lock_stats;
	agent->dashboard = ks_dashboard_new(&dashboard);
	if (!agent->board || !agent->lock_stats || !agent->dashboard) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	agent->http = ks_http_server_start(&http, err, err_size);
	if (!agent->http)
		return -1;
	/* Only now: what is dropped after a failure must not be called. */
	if (ks_model_subscribe(&agent->model, &ks_lock_stats_hooks,
			       agent->lock_stats)) {
		snprintf(err, err_size, "too many model subscribers");
		return -1;
	}
	agent->reporter.dashboard = agent->dashboard;
	return 0;
}

/*
 * The HTTP server starts before BPF is loaded, so probes answer (not
 * ready) meanwhile.  Returns 0, or 1 after saying why.  Only an address
 * given on the command line must be had; the default one may be taken
 * by another agent on the machine, which leaves this one without.
 */
static int ks_setup_dashboard(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	char err[256];
	char *token = NULL;
	int status = 0, ret;

	if (ks_listen_addr_off(options->listen))
		return 0;
	if (options->listen_token_file) {
		ret = ks_http_read_token(options->listen_token_file, &token);
		if (ret) {
			ks_err("--listen-token-file %s: %s\n",
			       options->listen_token_file,
			       ret == -EINVAL ? "no token on its first line" :
						strerror(-ret));
			return 1;
		}
	}
	if (ks_start_dashboard(agent, token, err, sizeof(err))) {
		ks_drop_dashboard(agent);
		if (options->listen_explicit) {
			ks_err("--listen %s\n", err);
			status = 1;
		} else {
			ks_warn("no dashboard: %s\n", err);
		}
		goto cleanup;
	}
	ks_info("dashboard, metrics and probes on http://%s/\n",
		ks_http_server_address(agent->http));
cleanup:
	free(token);
	return status;
}

/* Costs per BPF program, and pins; neither is worth failing a run for. */
static int ks_setup_inspection(struct ks_agent *agent)
{
	struct bpf_object *obj = ks_capture_object(agent->capture);

	if (agent->options->bpf_stats) {
		agent->bpf_stats_fd = ks_bpf_stats_enable();
		if (agent->bpf_stats_fd < 0)
			ks_warn("no BPF run-time statistics: %s\n",
				strerror(-agent->bpf_stats_fd));
	}
	if (!agent->options->pin)
		return 0;
	if (ks_bpf_pins_create(obj, KS_PIN_DIR))
		return 1;
	agent->pinned = true;
	return 0;
}

int ks_agent_run(const struct ks_options *options)
{
	struct ks_agent agent = {
		.options = options,
		.trace_ctx = { .fd = -1 },
		.epoll_fd = -1,
		.signal_fd = -1,
		.timer_fd = -1,
		.bpf_stats_fd = -1,
	};
	struct ks_capture_config capture_config = {
		.selection = &agent.selection,
		.ringbuf_bytes = options->ringbuf_mb << 20,
		.precise = ks_wants_precise(options),
		.offcpu_min_ns = options->offcpu_min_ns,
		.attach_mode = options->attach_mode,
		.trace_ctx_fd = -1,
		.on_record = ks_on_record,
		.ctx = &agent,
	};
	struct ks_scan_result scan;
	int status = 1, err;

	agent.selection = (struct ks_selection){
		.pids = options->pids,
		.nr_pids = options->nr_pids,
		.comms = options->comms,
		.nr_comms = options->nr_comms,
		.agent_tgid = (uint32_t)getpid(),
	};
	ks_table_init(&agent.model.table, (unsigned long)sysconf(_SC_CLK_TCK));
	agent.model.table.on_process_gone = ks_on_process_gone;
	agent.model.table.ctx = &agent;
	agent.model.selection = &agent.selection;
	agent.model.symbolizer = ks_symbolizer_new();
	agent.reporter.model = &agent.model;
	agent.model.detector =
		ks_detector_new((uint64_t)options->confirm_ms * 1000000ull,
				&ks_detector_ops, &agent.reporter);
	if (!agent.model.symbolizer || !agent.model.detector) {
		ks_err("out of memory\n");
		goto cleanup;
	}
	if (options->json_path) {
		agent.model.sink = ks_json_sink_open(options->json_path);
		if (!agent.model.sink) {
			ks_err("--json %s: %s\n", options->json_path,
			       strerror(errno));
			goto cleanup;
		}
	}
	for (unsigned int i = 0; i < options->nr_pids; i++) {
		if (kill((pid_t)options->pids[i], 0) && errno == ESRCH) {
			ks_err("--pid %u: no such process\n", options->pids[i]);
			goto cleanup;
		}
	}
	for (unsigned int i = 0; i < options->nr_precise_pids; i++) {
		if (kill((pid_t)options->precise_pids[i], 0) &&
		    errno == ESRCH) {
			ks_err("--precise %u: no such process\n",
			       options->precise_pids[i]);
			goto cleanup;
		}
	}

	err = ks_setup_telemetry(&agent);
	if (err) {
		status = err;
		goto cleanup;
	}
	err = ks_block_stop_signals();
	if (err) {
		ks_err("cannot block stop signals: %s\n", strerror(-err));
		goto cleanup;
	}
	if (ks_setup_dashboard(&agent))
		goto cleanup;

	if (ks_setup_http(&agent, &capture_config)) {
		ks_err("out of memory\n");
		goto cleanup;
	}
	ks_clock_resample();
	if (ks_capture_open(&agent.capture, &capture_config))
		goto cleanup;
	if (agent.dashboard)
		ks_dashboard_set_attach_mode(
			agent.dashboard, ks_capture_attach_mode(agent.capture));
	if (ks_setup_inspection(&agent))
		goto cleanup;
	agent.trace_ctx.nr_own_progs =
		ks_capture_prog_ids(agent.capture, agent.trace_ctx.own_progs,
				    KS_TRACE_CTX_MAX_OWN_PROGS);
	/* Attached first, then scanned: nothing falls between the two. */
	ks_scan(&agent.model, ks_track_wait, &agent, &scan);
	if (ks_wants_precise(options) && ks_setup_precise(&agent)) {
		ks_err("out of memory\n");
		goto cleanup;
	}
	err = ks_setup_loop(&agent);
	if (err) {
		ks_err("cannot set up the event loop: %s\n", strerror(-err));
		goto cleanup;
	}
	agent.started_ns = ks_now_mono_ns();
	agent.started_real_ns = ks_now_real_ns();
	if (agent.telemetry && ks_telemetry_start(agent.telemetry)) {
		ks_err("cannot start the OTLP export threads\n");
		goto cleanup;
	}
	ks_announce(&agent, &scan);
	if (agent.board)
		ks_board_set_phase(agent.board, KS_PHASE_READY);

	err = ks_loop(&agent);
	if (err) {
		ks_err("event loop failed: %s\n", strerror(-err));
		goto cleanup;
	}
	ks_finish(&agent);
	ks_summarize(&agent);
	status = 0;
cleanup:
	if (agent.epoll_fd >= 0)
		close(agent.epoll_fd);
	if (agent.signal_fd >= 0)
		close(agent.signal_fd);
	if (agent.timer_fd >= 0)
		close(agent.timer_fd);
	if (agent.bpf_stats_fd >= 0)
		close(agent.bpf_stats_fd);
	if (agent.capture)
		ks_unpin(&agent);
	ks_capture_close(agent.capture);
	agent.capture = NULL;
	ks_trace_ctx_map_close(&agent.trace_ctx);
	ks_http_spans_free(agent.model.http, ks_now_mono_ns());
	/* Last: probes answer "stopping" until the very end. */
	ks_drop_dashboard(&agent);
	ks_table_clear(&agent.model.table);
	ks_precise_free(agent.model.precise);
	ks_lockorder_free(agent.model.lockorder);
	ks_telemetry_free(agent.telemetry);
	ks_causality_free(agent.model.causality);
	ks_otlp_config_free(&agent.otlp);
	ks_detector_free(agent.model.detector);
	ks_symbolizer_free(agent.model.symbolizer);
	ks_json_sink_close(agent.model.sink);
	return status;
}
