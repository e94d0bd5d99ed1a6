// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/memory.h"
#include "run/agent.h"
#include "run/tick_pace.h"

/*
 * The most a tick spends handing records over: the detector, telemetry,
 * probes and the dashboard have their turn at least this often however
 * many records come.  What the loop cannot take stays in the ring buffer,
 * and when that is full, the kernel side drops and counts.
 */
#define KS_TICK_RECORDS_NS (10 * 1000000ull)
#define KS_CLOCK_RESAMPLE_NS (10 * 1000000000ull)
/* How often the agent's resident size is read against its ceiling. */
#define KS_MEMORY_CHECK_NS (20 * 1000000ull)
/* How often long waits are looked at: they last 10 s before they count. */
#define KS_GUESS_NS 1000000000ull
/* How soon publication in traces_ctx_v1 follows a profiler's start or end. */
#define KS_TRACE_CTX_CHECK_NS 1000000000ull

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
 * the signalfd: restore the default disposition first.  SIGPIPE is
 * ignored: a --json reader that goes away must cost the records it would
 * have read (write() then fails with EPIPE, and the run says so), not the
 * run, its summary and its final export.
 */
int ks_agent_block_signals(void)
{
	sigset_t mask;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	ks_stop_signals(&mask);
	return sigprocmask(SIG_BLOCK, &mask, NULL) ? -errno : 0;
}

/* Ticks every period_ns (under a second), the first one period_ns from now. */
static int ks_arm_ticks(int timer_fd, uint64_t period_ns)
{
	struct itimerspec tick = {
		.it_interval = { .tv_nsec = period_ns },
		.it_value = { .tv_nsec = period_ns },
	};

	return timerfd_settime(timer_fd, 0, &tick, NULL) ? -errno : 0;
}

int ks_agent_loop_setup(struct ks_agent *agent)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	int err;

	ks_stop_signals(&mask);
	agent->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	agent->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	agent->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (agent->signal_fd < 0 || agent->timer_fd < 0 || agent->epoll_fd < 0)
		return -errno;
	err = ks_arm_ticks(agent->timer_fd, KS_TICK_SLOW_NS);
	if (err)
		return err;
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
		ks_causality_lost(agent->causality, agent->last_tick_ns,
				  drained_ns);
	agent->kernel_lost = lost;
	agent->last_tick_ns = drained_ns;
	ks_causality_advance(agent->causality, drained_ns);
}

static void ks_tick_detectors(struct ks_agent *agent, uint64_t now)
{
	if (agent->options->io_sweep_ms &&
	    ks_io_sweep_due(agent->io_sweep, now))
		ks_io_sweep_run(agent->io_sweep, &agent->model, now);
	if (agent->model.version != agent->detector_version) {
		agent->detector_version = agent->model.version;
		ks_detector_mark_dirty(agent->detector);
		if (agent->stalls)
			ks_stall_detector_mark_dirty(agent->stalls);
	}
	if (ks_detector_wants_tick(agent->detector, now))
		ks_detector_tick(agent->detector, &agent->model.table, now);
	/* After deadlocks: a stall is what no cycle explains. */
	if (agent->stalls && ks_stall_detector_wants_tick(agent->stalls, now))
		ks_stall_detector_tick(agent->stalls, &agent->model.table, now);
}

/* Moves to the shedding level memory calls for; see memory_guard.h. */
static void ks_shed(struct ks_agent *agent, enum ks_shed_level was,
		    enum ks_shed_level level)
{
	ks_warn("memory at %llu MiB of a %llu MiB ceiling: shedding "
		"%s\n",
		(unsigned long long)(agent->memory.resident >> 20),
		(unsigned long long)(agent->memory.limit >> 20),
		ks_shed_level_name(level));
	if (agent->telemetry)
		ks_telemetry_shed_spans(agent->telemetry,
					level >= KS_SHED_SPANS);
	if (level >= KS_SHED_CACHES && was < KS_SHED_CACHES)
		for (struct ks_process *process = agent->model.table.processes;
		     process; process = process->hh.next)
			ks_symbolizer_forget(agent->symbolizer, process->tgid);
	/* What was freed goes back to the system, not just to malloc. */
	if (level > was)
		malloc_trim(0);
}

static void ks_tick_memory(struct ks_agent *agent, uint64_t now)
{
	enum ks_shed_level was = agent->memory.level, level;

	if (now < agent->next_memory_check_ns)
		return;
	agent->next_memory_check_ns = now + KS_MEMORY_CHECK_NS;
	level = ks_memory_guard_update(&agent->memory, ks_memory_resident());
	if (level != was)
		ks_shed(agent, was, level);
}

/* Spans are published in traces_ctx_v1 only while a program uses it. */
static void ks_tick_trace_ctx(struct ks_agent *agent, uint64_t now)
{
	if (agent->trace_ctx.fd < 0 || now < agent->next_trace_ctx_check_ns)
		return;
	agent->next_trace_ctx_check_ns = now + KS_TRACE_CTX_CHECK_NS;
	ks_capture_publish_trace_ctx(
		agent->capture, ks_trace_ctx_map_has_users(&agent->trace_ctx));
}

/* Returns whether records were left in the ring buffer for lack of time. */
static bool ks_tick(struct ks_agent *agent)
{
	struct ks_agent_health health;
	struct ks_otlp_stats export;
	struct ks_hb_stats hb;
	uint64_t drained = ks_now_mono_ns(), now;
	bool backlog;

	agent->tick_start_ns = drained;
	agent->records_deadline_ns = drained + KS_TICK_RECORDS_NS;
	backlog = ks_capture_consume(agent->capture) == -EAGAIN;
	/* Consumed up to the last record handed over, not to now. */
	if (backlog)
		drained = agent->consumed_ts_ns;
	/* After draining: records may be newer than an earlier reading. */
	now = ks_now_mono_ns();
	ks_tick_memory(agent, now);
	ks_tick_trace_ctx(agent, now);
	if (agent->precise)
		ks_precise_retry(agent->precise, now);
	if (agent->http)
		ks_http_spans_tick(agent->http, now);
	ks_tick_detectors(agent, now);
	if (now - agent->last_guess_ns >= KS_GUESS_NS) {
		ks_agent_guess_long_waits(agent, now);
		agent->last_guess_ns = now;
	}
	if (agent->telemetry) {
		ks_agent_health(agent, &health, &export, &hb);
		if (agent->causality)
			ks_tick_causality(agent, &health, drained);
		if (ks_telemetry_tick(agent->telemetry, &health, now))
			ks_table_release_departed(&agent->model.table,
						  KS_HOLD_EXPORT, now);
	}
	/* Scraped at least once, if anything scrapes: kept an interval. */
	if (agent->model.table.departed &&
	    now > agent->options->scrape_interval_ns)
		ks_table_release_departed(
			&agent->model.table, KS_HOLD_SCRAPE,
			now - agent->options->scrape_interval_ns);
	if (!agent->board)
		return backlog;
	ks_board_heartbeat(agent->board, now);
	if (ks_dashboard_due(agent->dashboard, now)) {
		ks_agent_health(agent, &health, &export, &hb);
		ks_dashboard_publish(agent->dashboard, &health, now);
	}
	return backlog;
}

int ks_agent_loop(struct ks_agent *agent)
{
	uint64_t deadline =
		agent->options->duration_s ?
			agent->started_ns +
				agent->options->duration_s * 1000000000ull :
			0;
	uint64_t next_resample = agent->started_ns + KS_CLOCK_RESAMPLE_NS;
	struct ks_tick_pace pace;
	bool backlog = false;
	int err;

	ks_tick_pace_init(&pace, ks_now_mono_ns());
	for (;;) {
		struct epoll_event events[4];
		/* With records left over, no waiting for the timer. */
		int n = epoll_wait(agent->epoll_fd, events, 4,
				   backlog ? 0 : -1);
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
		backlog = ks_tick(agent);
		now = ks_now_mono_ns();
		if (ks_tick_pace_update(&pace, agent->tick_start_ns, now)) {
			ks_debug("ticks every %llu ms\n",
				 (unsigned long long)pace.period_ns / 1000000);
			err = ks_arm_ticks(agent->timer_fd, pace.period_ns);
			if (err)
				return err;
		}
		if (now >= next_resample) {
			ks_clock_resample();
			next_resample = now + KS_CLOCK_RESAMPLE_NS;
		}
		if (deadline && now >= deadline)
			return 0;
	}
}
