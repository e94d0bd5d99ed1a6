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
#include "base/memory.h"
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
#include "serve/listen_addr.h"
#include "serve/lock_stats.h"
#include "serve/web_server.h"
#include "telemetry/telemetry.h"

static bool ks_wants_precise(const struct ks_options *options)
{
	return options->nr_precise_pids || options->nr_precise_comms;
}

/* Precise mode for the processes already running that it names. */
static int ks_setup_precise(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	struct ks_process *process;

	agent->inversion_reporter = (struct ks_inversion_reporter){
		.table = &agent->model.table,
		.symbolizer = agent->symbolizer,
		.sink = agent->sink,
		.telemetry = agent->telemetry,
	};
	agent->lockorder = ks_lockorder_new(ks_inversion_report,
					    &agent->inversion_reporter);
	agent->precise = ks_precise_new(
		agent->capture, options->precise_pids, options->nr_precise_pids,
		options->precise_comms, options->nr_precise_comms);
	if (!agent->lockorder || !agent->precise)
		return -ENOMEM;
	for (process = agent->model.table.processes; process;
	     process = process->hh.next)
		if (ks_precise_wants(agent->precise, process->tgid,
				     process->comm) &&
		    !ks_precise_attach(agent->precise, process->tgid))
			ks_symbolizer_preload(agent->symbolizer, process->tgid);
	return 0;
}

/* Lets the kernel side report the end of a wait the scan found. */
static int ks_track_wait(void *ctx, uint32_t tid,
			 const struct ks_inflight *inflight)
{
	struct ks_agent *agent = ctx;

	return ks_capture_track_wait(agent->capture, tid, inflight);
}

/* When the read tid is in began, from the kernel side's slot for it. */
static uint64_t ks_read_began(void *ctx, uint32_t tid, int fd)
{
	struct ks_agent *agent = ctx;

	return agent->capture ? ks_capture_read_began(agent->capture, tid, fd) :
				0;
}

static const struct ks_detector_ops ks_detector_ops = {
	.refresh = ks_live_refresh_wait,
	.read_stack = ks_live_read_stack,
	.complete = ks_live_complete_io,
	.verify = ks_live_verify_wait,
	.report = ks_deadlock_report,
};

static const struct ks_stall_ops ks_stall_ops = {
	.still_waiting = ks_live_still_waiting,
	.count_threads = ks_live_count_threads,
	.shared_memory = ks_live_shared_memory,
	.report = ks_stall_report,
};

static void ks_announce(struct ks_agent *agent,
			const struct ks_scan_result *scan)
{
	struct ks_ready_info info = {
		.attach_mode = ks_capture_attach_mode(agent->capture),
		.syscall_hooks = ks_capture_syscall_hooks(agent->capture),
		.wait_hooks = ks_wait_hooks_name(agent->options->wait_hooks),
		.channel_edges = agent->options->channel_edges,
		.confirm_ms = agent->options->confirm_ms,
		.stall_ms = agent->options->stall_ms,
		.nr_processes = scan->nr_processes,
		.nr_threads = scan->nr_threads,
		.nr_seeded_waits = scan->nr_seeded_waits,
		.http_address =
			agent->http_server ?
				ks_http_server_address(agent->http_server) :
				NULL,
	};
	char selection[512];

	ks_selection_describe(&agent->selection, selection, sizeof(selection));
	info.selection = selection;
	ks_info("watching %s: %u processes, %u threads, %u already in futex "
		"waits (%s, waits seen by %s, system call hooks: %s); "
		"deadlocks are reported after %u ms\n",
		selection, scan->nr_processes, scan->nr_threads,
		scan->nr_seeded_waits, info.attach_mode, info.wait_hooks,
		info.syscall_hooks, agent->options->confirm_ms);
	if (agent->options->stall_ms)
		ks_info("stalls are reported after %u ms\n",
			agent->options->stall_ms);
	if (agent->sink)
		ks_json_write_ready(agent->sink, &info);
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
		.sampler = &agent->otlp.sampler,
		.keep_query = options->http_query,
		.routes = &options->http_routes,
		.join_wait_ns = KS_HTTP_JOIN_WAIT_NS,
		.unseen_wait_ns = KS_HTTP_UNSEEN_WAIT_NS,
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
	agent->http = ks_http_spans_new(&config, &ks_agent_http_hooks, agent);
	if (!agent->http)
		return -ENOMEM;
	if (agent->telemetry)
		ks_telemetry_set_http(agent->telemetry, agent->http);
	if (agent->dashboard)
		ks_dashboard_set_http(agent->dashboard, agent->http);
	return 0;
}

/*
 * The pods of this node from the API server, watched from a thread of its
 * own.  In a pod (--k8s-api auto) a failure only warns: names then come
 * from cgroups and pod log directories.  0, or 1 after saying why.
 */
static int ks_setup_kubernetes(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	const char *node = getenv("K8S_NODE_NAME");
	struct ks_k8s_cache_config cache = {
		.max_pods = KS_K8S_DEFAULT_MAX_PODS,
		.well_known_labels = options->k8s_well_known_labels,
	};
	struct ks_k8s_watch_config watch = {
		.api_url = options->k8s_api_explicit ? options->k8s_api : NULL,
		.credentials = options->k8s_credentials,
		.node_name = node,
	};
	char err[256];

	if (!options->k8s_api)
		return 0;
	if (!options->k8s_api_explicit && !getenv("KUBERNETES_SERVICE_HOST")) {
		ks_debug("not in a Kubernetes pod: no API server to ask\n");
		return 0;
	}
	if (!node || !*node) {
		snprintf(
			err, sizeof(err),
			"K8S_NODE_NAME is not set: which node's pods to watch");
		goto fail;
	}
	agent->pods = ks_k8s_cache_new(&cache);
	if (!agent->pods) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	watch.cache = agent->pods;
	agent->k8s = ks_k8s_watch_start(&watch, err, sizeof(err));
	if (agent->k8s) {
		if (agent->telemetry)
			ks_telemetry_set_pods(agent->telemetry, agent->pods);
		return 0;
	}
	ks_k8s_cache_free(agent->pods);
	agent->pods = NULL;
fail:
	if (options->k8s_api_explicit) {
		ks_err("--k8s-api %s: %s\n", options->k8s_api, err);
		return 1;
	}
	ks_warn("no Kubernetes API: %s\n", err);
	return 0;
}

/*
 * OTLP settings: the configuration file's below the OTEL_* environment,
 * then the command line.  0, or 2 after saying what is wrong; warnings
 * about settings ignored are said either way.
 */
static int ks_load_otlp_config(const struct ks_options *options,
			       struct ks_otlp_config *cfg)
{
	const struct ks_otlp_presets presets = {
		.items = options->otlp_presets,
		.nr = options->nr_otlp_presets,
	};
	struct ks_otlp_cli cli = {
		.endpoint = options->otlp_endpoint,
		.headers = options->otlp_headers,
		.nr_headers = options->nr_otlp_headers,
		.compression = options->otlp_compression,
		.timeout_ms = options->otlp_timeout_ms,
		.protocol = options->otlp_protocol,
	};
	char err[KS_OTLP_ERR_SIZE];
	unsigned int warned;

	if (ks_otlp_config_from_env(cfg, getenv, &presets, err, sizeof(err)))
		goto failed;
	if (ks_otlp_config_apply_cli(cfg, &cli, err, sizeof(err))) {
		ks_otlp_config_free(cfg);
		goto failed;
	}
	warned = cfg->nr_warnings < KS_OTLP_MAX_WARNINGS ? cfg->nr_warnings :
							   KS_OTLP_MAX_WARNINGS;
	for (unsigned int i = 0; i < warned; i++)
		ks_warn("%s\n", cfg->warnings[i]);
	if (cfg->nr_warnings > warned)
		ks_warn("and %u more OTEL_* settings ignored\n",
			cfg->nr_warnings - warned);
	return 0;
failed:
	ks_err("%s\n", err);
	return 2;
}

int ks_agent_check_config(const struct ks_options *options)
{
	struct ks_otlp_config cfg;
	int status = ks_load_otlp_config(options, &cfg);

	if (status)
		return status;
	ks_otlp_config_free(&cfg);
	ks_info("the configuration is valid\n");
	return 0;
}

/*
 * OTLP settings (see ks_load_otlp_config()), and the telemetry made of
 * them.  Returns 0, or 2 (a usage error) or 1 (no memory) after saying
 * what is wrong.
 */
static int ks_setup_telemetry(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	char err[KS_OTLP_ERR_SIZE];
	int status = ks_load_otlp_config(options, &agent->otlp);

	if (status)
		return status;
	if (agent->otlp.sdk_disabled)
		ks_info("OTEL_SDK_DISABLED=true: no OpenTelemetry export\n");
	if (!agent->otlp.enabled) {
		if (!options->offcpu_min_ns)
			return 0;
		ks_err("--offcpu-min makes spans: it needs an OTLP endpoint\n");
		return 2;
	}
	agent->telemetry = ks_telemetry_new(
		&agent->otlp, options->min_wait_ns, &agent->model.table,
		agent->symbolizer, err, sizeof(err));
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
	agent->causality = ks_causality_new(NULL);
	if (!agent->causality) {
		ks_err("out of memory\n");
		return 1;
	}
	ks_telemetry_set_causality(agent->telemetry, agent->causality);
	return 0;
}

/* Dashboard and probes off, as if --listen off had been given. */
static void ks_drop_dashboard(struct ks_agent *agent)
{
	ks_http_server_stop(agent->http_server);
	ks_dashboard_free(agent->dashboard);
	ks_lock_stats_free(agent->lock_stats);
	ks_board_free(agent->board);
	agent->http_server = NULL;
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
		.resolve_ctx = agent->symbolizer,
		.table = &agent->model.table,
	};
	struct ks_dashboard_config dashboard = {
		.watched = { .table = &agent->model.table },
		.symbolizer = agent->symbolizer,
		.bpf_stats = options->bpf_stats,
		.pods = agent->pods,
		.k8s = agent->k8s,
		.history_file = options->history_file,
		.trace_url = options->trace_url,
		.login = options->listen_token_file != NULL,
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
	agent->http_server = ks_http_server_start(&http, err, err_size);
	if (!agent->http_server)
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
			       ret == -E2BIG  ? "its first line goes on past "
						"4 KiB: not a token" :
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
		ks_http_server_address(agent->http_server));
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
	if (ks_bpf_pins_create(obj, agent->options->pin_dir))
		return 1;
	agent->pinned = true;
	return 0;
}

/* --memory-limit, else the cgroup's limit, else none. */
static void ks_setup_memory_ceiling(struct ks_agent *agent)
{
	const struct ks_options *options = agent->options;
	uint64_t limit = options->memory_limit;
	const char *from = "--memory-limit";

	if (options->memory_limit_off)
		return;
	if (!limit) {
		limit = ks_memory_cgroup_limit();
		from = "its cgroup's memory limit";
	}
	agent->memory.limit = limit;
	if (limit)
		ks_info("memory ceiling %llu MiB (%s): spans are shed from "
			"%u%% of it\n",
			(unsigned long long)(limit >> 20), from,
			KS_SHED_SPANS_PERCENT);
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
		.stack_every_ns = options->wait_stack_every_ns,
		.min_wait_ns = options->min_wait_ns,
		.attach_mode = options->attach_mode,
		.syscall_hooks = options->syscall_hooks_set ?
					 &options->syscall_hooks :
					 NULL,
		.wait_hooks = options->wait_hooks,
		.channel_edges = options->channel_edges,
		.trace_ctx_fd = -1,
		.on_record = ks_agent_on_record,
		.ctx = &agent,
	};
	struct ks_io_sweep_hooks io_hooks = {
		.read_began = ks_read_began,
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
	ks_setup_memory_ceiling(&agent);
	ks_table_init(&agent.model.table, (unsigned long)sysconf(_SC_CLK_TCK));
	agent.model.table.on_process_gone = ks_agent_process_gone;
	agent.model.table.on_process_freed = ks_agent_process_freed;
	agent.model.table.ctx = &agent;
	agent.model.selection = &agent.selection;
	agent.symbolizer = ks_symbolizer_new();
	agent.reporter.symbolizer = agent.symbolizer;
	agent.io_sweep = ks_io_sweep_new(
		(uint64_t)options->io_sweep_ms * 1000000ull, &io_hooks);
	agent.detector = ks_detector_new(
		(uint64_t)options->confirm_ms * 1000000ull, &ks_detector_ops,
		agent.io_sweep, &agent.reporter);
	if (options->stall_ms)
		agent.stalls = ks_stall_detector_new(
			(uint64_t)options->stall_ms * 1000000ull, &ks_stall_ops,
			&agent.reporter);
	if (!agent.symbolizer || !agent.io_sweep || !agent.detector ||
	    (options->stall_ms && !agent.stalls)) {
		ks_err("out of memory\n");
		goto cleanup;
	}
	if (options->json_path) {
		agent.sink = ks_json_sink_open(options->json_path);
		if (!agent.sink) {
			ks_err("--json %s: %s\n", options->json_path,
			       strerror(errno));
			goto cleanup;
		}
		agent.reporter.sink = agent.sink;
	}
	/* First: the agent hears of a process's end before the others. */
	if (ks_model_subscribe(&agent.model, &ks_agent_model_hooks, &agent)) {
		ks_err("too many model subscribers\n");
		goto cleanup;
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
	err = ks_agent_block_signals();
	if (err) {
		ks_err("cannot block stop signals: %s\n", strerror(-err));
		goto cleanup;
	}
	/* After the signals: its thread must not take a stop signal. */
	if (ks_setup_kubernetes(&agent) || ks_setup_dashboard(&agent))
		goto cleanup;

	/*
	 * A process that goes is kept for its final values: the next
	 * periodic export, and a scrape interval of /metrics.
	 */
	if (agent.telemetry && ks_telemetry_wants_metrics(agent.telemetry))
		agent.model.table.departed_holds |= KS_HOLD_EXPORT;
	if (agent.dashboard)
		agent.model.table.departed_holds |= KS_HOLD_SCRAPE;
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
	err = ks_agent_loop_setup(&agent);
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

	err = ks_agent_loop(&agent);
	if (err) {
		ks_err("event loop failed: %s\n", strerror(-err));
		goto cleanup;
	}
	ks_agent_finish(&agent);
	ks_agent_summarize(&agent);
	status = ks_agent_lost_output(&agent) ? 1 : 0;
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
		ks_agent_unpin(&agent);
	ks_capture_close(agent.capture);
	agent.capture = NULL;
	ks_trace_ctx_map_close(&agent.trace_ctx);
	ks_http_spans_free(agent.http, ks_now_mono_ns());
	/* Last: probes answer "stopping" until the very end. */
	ks_drop_dashboard(&agent);
	ks_table_clear(&agent.model.table);
	ks_precise_free(agent.precise);
	ks_lockorder_free(agent.lockorder);
	ks_telemetry_free(agent.telemetry);
	ks_causality_free(agent.causality);
	ks_otlp_config_free(&agent.otlp);
	ks_detector_free(agent.detector);
	ks_stall_detector_free(agent.stalls);
	ks_io_sweep_free(agent.io_sweep);
	ks_symbolizer_free(agent.symbolizer);
	ks_json_sink_close(agent.sink);
	ks_k8s_watch_stop(agent.k8s);
	ks_k8s_cache_free(agent.pods);
	return status;
}
