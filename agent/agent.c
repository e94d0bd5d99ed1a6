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

#include "agent.h"
#include "capture.h"
#include "clock.h"
#include "log.h"
#include "model.h"
#include "proc.h"
#include "report.h"
#include "scan.h"

/*
 * How often the ring buffer is drained and the graph examined.  The kernel
 * side does not wake the agent per record (see ks_submit), so this bounds
 * how late an event is seen: it adds at most this much to detection.
 */
#define KS_TICK_NS (20 * 1000000ull)
#define KS_CLOCK_RESAMPLE_NS (10 * 1000000000ull)

struct ks_agent {
	const struct ks_options *options;
	struct ks_selection selection;
	struct ks_model model;
	struct ks_capture *capture;
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	uint64_t started_ns;
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
}

static void ks_refresh_wait(void *ctx, struct ks_thread *thread)
{
	struct ks_wait_begin *lock = ks_lock_wait_mut(&thread->wait);

	ks_read_lock_words(thread->tgid, lock->uaddr, lock->words,
			   &lock->flags);
	thread->wait.refreshed = true;
}

static bool ks_verify_wait(void *ctx, const struct ks_table *table,
			   const struct ks_thread *thread,
			   const struct ks_wait_target *target)
{
	struct ks_thread probe = *thread;
	struct ks_wait_begin *lock = ks_lock_wait_mut(&probe.wait);
	struct ks_wait_target fresh;
	struct ks_proc_syscall sc;

	/* Still inside that very futex() call? */
	if (ks_proc_read_syscall(thread->tgid, thread->tid, &sc) ||
	    (sc.nr != SYS_futex && sc.nr != SYS_restart_syscall) ||
	    sc.args[0] != thread->wait.begin.uaddr)
		return false;
	/* And the lock still held by the same thread, read just now? */
	ks_read_lock_words(thread->tgid, lock->uaddr, lock->words,
			   &lock->flags);
	ks_wait_target_resolve(table, &probe, &fresh);
	return fresh.deadlock_edge && fresh.holder == target->holder;
}

static void ks_report(void *ctx, const struct ks_deadlock *deadlock)
{
	struct ks_agent *agent = ctx;
	size_t nr = deadlock->nr_members + deadlock->nr_behind;
	struct ks_stack *stacks = calloc(nr ? nr : 1, sizeof(*stacks));
	struct ks_report report = { .deadlock = deadlock };
	uint64_t now;

	if (!stacks) {
		ks_err("out of memory while reporting a deadlock\n");
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct ks_thread *t =
			i < deadlock->nr_members ?
				deadlock->members[i].thread :
				deadlock->behind[i - deadlock->nr_members]
					.thread;

		ks_symbolizer_unwind(agent->model.symbolizer, t->tgid, t->tid,
				     t->wait.begin.regs, &stacks[i]);
	}
	now = ks_now_mono_ns();
	report.member_stacks = stacks;
	report.behind_stacks = stacks + deadlock->nr_members;
	report.confirmed_real_ns = ks_mono_to_real_ns(now);
	report.latency_ns =
		deadlock->last_block_mono_ns ?
			(int64_t)(now - deadlock->last_block_mono_ns) :
			-1;
	ks_report_write_text(stderr, &report);
	if (agent->model.sink)
		ks_json_write_deadlock(agent->model.sink, &report);
	free(stacks);
}

static const struct ks_detector_ops ks_detector_ops = {
	.refresh = ks_refresh_wait,
	.verify = ks_verify_wait,
	.report = ks_report,
};

static int ks_setup_loop(struct ks_agent *agent)
{
	struct itimerspec tick = {
		.it_interval = { .tv_nsec = KS_TICK_NS },
		.it_value = { .tv_nsec = KS_TICK_NS },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	/*
	 * A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is discarded instead of queued for the signalfd: restore the
	 * default disposition before blocking.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
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

static void ks_tick(struct ks_agent *agent)
{
	uint64_t now;

	ks_capture_consume(agent->capture);
	/* After draining: records may be newer than an earlier reading. */
	now = ks_now_mono_ns();
	if (ks_detector_wants_tick(agent->model.detector, now))
		ks_detector_tick(agent->model.detector, &agent->model.table,
				 now);
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

static void ks_summarize(struct ks_agent *agent)
{
	struct ks_run_summary summary = { 0 };
	struct ks_cpu_stats stats;

	if (!ks_capture_read_stats(agent->capture, &stats)) {
		for (int k = 0; k < KS_EV_KIND_MAX; k++)
			summary.kernel_drops += stats.reserve_failed[k];
		summary.inflight_full = stats.inflight_full;
	}
	memcpy(summary.events, agent->model.events, sizeof(summary.events));
	summary.malformed = agent->model.malformed;
	summary.deadlocks = ks_detector_nr_reported(agent->model.detector);
	summary.duration_s =
		(double)(ks_now_mono_ns() - agent->started_ns) / 1e9;
	ks_info("stopped after %.1f s: %llu futex waits seen, %llu records "
		"lost to a full ring buffer, %llu deadlock%s reported\n",
		summary.duration_s,
		(unsigned long long)summary.events[KS_EV_WAIT_BEGIN],
		(unsigned long long)summary.kernel_drops,
		(unsigned long long)summary.deadlocks,
		summary.deadlocks == 1 ? "" : "s");
	if (agent->model.sink)
		ks_json_write_summary(agent->model.sink, &summary,
				      &agent->model.table);
}

int ks_agent_run(const struct ks_options *options)
{
	struct ks_agent agent = {
		.options = options,
		.epoll_fd = -1,
		.signal_fd = -1,
		.timer_fd = -1,
	};
	struct ks_capture_config capture_config = {
		.selection = &agent.selection,
		.ringbuf_bytes = options->ringbuf_mb << 20,
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
	agent.model.detector =
		ks_detector_new((uint64_t)options->confirm_ms * 1000000ull,
				&ks_detector_ops, &agent);
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

	ks_clock_resample();
	if (ks_capture_open(&agent.capture, &capture_config))
		goto cleanup;
	/* Attached first, then scanned: nothing falls between the two. */
	ks_scan(&agent.model, ks_track_wait, &agent, &scan);
	err = ks_setup_loop(&agent);
	if (err) {
		ks_err("cannot set up the event loop: %s\n", strerror(-err));
		goto cleanup;
	}
	agent.started_ns = ks_now_mono_ns();
	ks_announce(&agent, &scan);

	err = ks_loop(&agent);
	if (err) {
		ks_err("event loop failed: %s\n", strerror(-err));
		goto cleanup;
	}
	/* What was already in the ring buffer still counts. */
	ks_capture_consume(agent.capture);
	ks_summarize(&agent);
	status = 0;
cleanup:
	if (agent.epoll_fd >= 0)
		close(agent.epoll_fd);
	if (agent.signal_fd >= 0)
		close(agent.signal_fd);
	if (agent.timer_fd >= 0)
		close(agent.timer_fd);
	ks_capture_close(agent.capture);
	ks_table_clear(&agent.model.table);
	ks_detector_free(agent.model.detector);
	ks_symbolizer_free(agent.model.symbolizer);
	ks_json_sink_close(agent.model.sink);
	return status;
}
