// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/version.h"
#include "detect/long_waits.h"
#include "model/record.h"
#include "report/io_wait_describe.h"
#include "report/json_sink.h"
#include "report/metric_samples.h"

struct ks_json_sink {
	FILE *out;
	bool owned;
	uint64_t lost; /* records that could not be written */
};

struct ks_json_sink *ks_json_sink_open(const char *path)
{
	struct ks_json_sink *sink = calloc(1, sizeof(*sink));

	if (!sink)
		return NULL;
	if (!strcmp(path, "-")) {
		sink->out = stdout;
	} else {
		sink->out = fopen(path, "we");
		sink->owned = true;
	}
	if (!sink->out) {
		int err = errno;

		free(sink);
		errno = err;
		return NULL;
	}
	return sink;
}

uint64_t ks_json_sink_lost(const struct ks_json_sink *sink)
{
	return sink->lost;
}

void ks_json_sink_close(struct ks_json_sink *sink)
{
	if (!sink)
		return;
	if (sink->owned)
		fclose(sink->out);
	else
		fflush(sink->out);
	free(sink);
}

static void ks_add(json_object *obj, const char *key, json_object *value)
{
	ks_json_add(obj, key, value);
}

json_object *ks_json_hex(uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	return json_object_new_string(buf);
}

static json_object *ks_record(const char *type, uint64_t real_ns)
{
	json_object *obj = json_object_new_object();
	char time[40];

	ks_format_rfc3339(real_ns, time, sizeof(time));
	ks_add(obj, "type", json_object_new_string(type));
	ks_add(obj, "time", json_object_new_string(time));
	ks_add(obj, "time_unix_nano", json_object_new_uint64(real_ns));
	return obj;
}

/* A finding's record: its type, time and id. */
static json_object *ks_finding_record(const char *type, uint64_t real_ns,
				      uint64_t id)
{
	json_object *obj = ks_record(type, real_ns);
	char text[20];

	snprintf(text, sizeof(text), "%016" PRIx64, id);
	ks_add(obj, "id", json_object_new_string(text));
	return obj;
}

/* From the last thread blocking to the report; null when not known. */
static void ks_add_latency(json_object *obj, int64_t latency_ns)
{
	ks_add(obj, "detection_latency_ms",
	       latency_ns < 0 ?
		       NULL :
		       json_object_new_double((double)latency_ns / 1e6));
}

const char *ks_json_text(json_object *obj)
{
	return obj ? json_object_to_json_string_ext(
			     obj, JSON_C_TO_STRING_PLAIN |
					  JSON_C_TO_STRING_NOSLASHESCAPE) :
		     NULL;
}

/* Writes one line and releases obj; a failing sink is reported once. */
static int ks_emit(struct ks_json_sink *sink, json_object *obj)
{
	const char *text = ks_json_text(obj);
	int ret = 0;

	if (!text) {
		if (!sink->lost)
			ks_warn("cannot write to the --json sink: out of "
				"memory\n");
		sink->lost++;
		ret = -ENOMEM;
	} else if (fprintf(sink->out, "%s\n", text) < 0 || fflush(sink->out)) {
		ret = -errno;
		if (!sink->lost)
			ks_warn("cannot write to the --json sink: %s\n",
				strerror(-ret));
		sink->lost++;
		/* What did not go out must not go out later, half of it. */
		clearerr(sink->out);
		__fpurge(sink->out);
	}
	json_object_put(obj);
	return ret;
}

int ks_json_write_ready(struct ks_json_sink *sink,
			const struct ks_ready_info *info)
{
	json_object *obj = ks_record("ready", ks_now_real_ns());

	ks_add(obj, "version", json_object_new_string(KS_VERSION));
	ks_add(obj, "agent_pid", json_object_new_int(getpid()));
	ks_add(obj, "attach_mode", json_object_new_string(info->attach_mode));
	ks_add(obj, "syscall_hooks",
	       json_object_new_string(info->syscall_hooks));
	ks_add(obj, "wait_hooks", json_object_new_string(info->wait_hooks));
	ks_add(obj, "channel_edges",
	       json_object_new_boolean(info->channel_edges));
	ks_add(obj, "selection", json_object_new_string(info->selection));
	ks_add(obj, "confirm_ms", json_object_new_int((int)info->confirm_ms));
	ks_add(obj, "stall_ms",
	       info->stall_ms ? json_object_new_int((int)info->stall_ms) :
				NULL);
	ks_add(obj, "processes", json_object_new_int((int)info->nr_processes));
	ks_add(obj, "threads", json_object_new_int((int)info->nr_threads));
	ks_add(obj, "already_blocked_waits",
	       json_object_new_int((int)info->nr_seeded_waits));
	ks_add(obj, "http",
	       info->http_address ? json_object_new_string(info->http_address) :
				    NULL);
	return ks_emit(sink, obj);
}

static json_object *ks_thread_ref(const struct ks_thread *thread)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "pid", json_object_new_int((int)thread->tgid));
	ks_add(obj, "tid", json_object_new_int((int)thread->tid));
	ks_add(obj, "comm", json_object_new_string(thread->comm));
	ks_add(obj, "process_comm",
	       json_object_new_string(thread->process->comm));
	return obj;
}

json_object *ks_json_frame(const struct ks_frame *f)
{
	json_object *frame = json_object_new_object();

	ks_add(frame, "pc", ks_json_hex(f->pc));
	if (f->function[0]) {
		ks_add(frame, "function", json_object_new_string(f->function));
		if (f->inlined)
			ks_add(frame, "inlined", json_object_new_boolean(true));
		else
			ks_add(frame, "offset",
			       json_object_new_uint64(f->function_offset));
	}
	if (f->module[0]) {
		ks_add(frame, "module", json_object_new_string(f->module));
		ks_add(frame, "module_offset", ks_json_hex(f->module_offset));
	}
	if (f->file[0]) {
		ks_add(frame, "file", json_object_new_string(f->file));
		ks_add(frame, "line", json_object_new_int(f->line));
	}
	if (f->scanned)
		ks_add(frame, "scanned", json_object_new_boolean(true));
	return frame;
}

json_object *ks_json_stack(const struct ks_stack *stack)
{
	json_object *frames = json_object_new_array();

	for (unsigned int i = 0; i < stack->nr; i++)
		ks_json_push(frames, ks_json_frame(&stack->frames[i]));
	return frames;
}

static void ks_add_since(json_object *wait, uint64_t since_mono, uint64_t now)
{
	char buf[40];

	ks_format_rfc3339(ks_mono_to_real_ns(since_mono), buf, sizeof(buf));
	ks_add(wait, "blocked_since", json_object_new_string(buf));
	ks_add(wait, "blocked_ms",
	       json_object_new_double((double)(now - since_mono) / 1e6));
}

static void ks_add_futex_wait(json_object *wait,
			      const struct ks_wait_begin *begin, uint64_t now)
{
	char buf[64];

	ks_futex_op_describe(begin->op, buf, sizeof(buf));
	ks_add(wait, "futex_op", json_object_new_string(buf));
	ks_add(wait, "futex_address", ks_json_hex(begin->uaddr));
	if (begin->flags & KS_WAIT_SEEDED)
		ks_add(wait, "blocked_since", NULL);
	else
		ks_add_since(wait, begin->hdr.ts_ns, now);
}

/* What a thread waits for: the lock, the futex call, since when. */
static json_object *ks_wait_json(const struct ks_thread *thread,
				 const struct ks_wait_target *target,
				 uint64_t now)
{
	json_object *wait = json_object_new_object();
	char buf[64];

	ks_add(wait, "kind",
	       json_object_new_string(ks_lock_kind_name(target->kind)));
	if (target->mutex_kind != UINT32_MAX) {
		ks_mutex_kind_describe(target->mutex_kind, buf, sizeof(buf));
		ks_add(wait, "mutex_type", json_object_new_string(buf));
	}
	ks_lock_address_describe(target, buf, sizeof(buf));
	ks_add(wait, "address", json_object_new_string(buf));
	ks_add(wait, "libc",
	       json_object_new_string(ks_libc_name(thread->process->libc)));
	if (ks_lock_kind_in_kernel(target->kind))
		ks_add_since(wait, thread->klock.begin_ts_ns, now);
	else
		ks_add_futex_wait(wait, &thread->wait.begin, now);
	if (thread->wait.pi_refused)
		ks_add(wait, "kernel_refused",
		       json_object_new_string("EDEADLK"));
	return wait;
}

/* What a deadlock's member blocked in I/O waits on, and since when. */
static json_object *ks_io_wait_json(const struct ks_deadlock *deadlock,
				    const struct ks_deadlock_member *m,
				    uint64_t now)
{
	json_object *wait = json_object_new_object();
	bool first_seen;
	uint64_t since = ks_thread_io_since(&m->thread->io, &first_seen);

	ks_io_wait_add_json(wait, deadlock, m);
	ks_add_since(wait, since, now);
	ks_add(wait, "first_seen", json_object_new_boolean(first_seen));
	return wait;
}

static json_object *ks_member_json(const struct ks_deadlock *deadlock,
				   const struct ks_deadlock_member *m,
				   const struct ks_stack *stack, uint64_t now)
{
	json_object *obj = ks_thread_ref(m->thread);

	ks_add(obj, "wait",
	       m->target.io ? ks_io_wait_json(deadlock, m, now) :
			      ks_wait_json(m->thread, &m->target, now));
	ks_add(obj, "holder", ks_thread_ref(m->target.holder));
	ks_add(obj, "stack", ks_json_stack(stack));
	return obj;
}

static json_object *ks_words_json(const uint32_t *words, size_t n)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		ks_json_push(list, ks_json_hex(words[i]));
	return list;
}

static json_object *ks_stalled_json(const struct ks_stall_member *m,
				    enum ks_wait_guess guess,
				    const struct ks_stack *stack, uint64_t now)
{
	const struct ks_wait_begin *begin = &m->thread->wait.begin;
	json_object *obj = ks_thread_ref(m->thread);
	json_object *wait = ks_wait_json(m->thread, &m->target, now);

	ks_add(wait, "guess",
	       json_object_new_string(
		       ks_wait_guess_name(guess, m->thread->process->libc)));
	ks_add(wait, "futex_words",
	       ks_words_json(begin->words,
			     sizeof(begin->words) / sizeof(begin->words[0])));
	if (begin->flags & KS_WAIT_BEFORE_OK)
		ks_add(wait, "futex_words_before",
		       ks_words_json(begin->words_before,
				     sizeof(begin->words_before) /
					     sizeof(begin->words_before[0])));
	if (m->target.readers)
		ks_add(wait, "readers",
		       json_object_new_int((int)m->target.readers));
	ks_add(obj, "wait", wait);
	ks_add(obj, "holder",
	       m->target.holder ? ks_thread_ref(m->target.holder) : NULL);
	ks_add(obj, "stack", ks_json_stack(stack));
	return obj;
}

static json_object *ks_signals_json(const struct ks_stall_report *report)
{
	json_object *list;
	char names[512], *name, *save = NULL;

	if (!report->caught_signals_known)
		return NULL;
	list = json_object_new_array();
	ks_signal_set_describe(report->caught_signals, names, sizeof(names));
	for (name = strtok_r(names, ",", &save); name;
	     name = strtok_r(NULL, ",", &save))
		ks_json_push(list, json_object_new_string(name));
	return list;
}

static json_object *ks_stall_json(const struct ks_stall_report *report)
{
	const struct ks_stall *stall = report->stall;
	json_object *obj = ks_finding_record("stall", report->confirmed_real_ns,
					     stall->id);
	json_object *threads = json_object_new_array();
	ks_add_latency(obj, report->latency_ns);
	ks_add(obj, "pid", json_object_new_int((int)stall->process->tgid));
	ks_add(obj, "process_comm",
	       json_object_new_string(stall->process->comm));
	/* Handlers that could still end the stall: the one way out. */
	ks_add(obj, "signal_handlers", ks_signals_json(report));
	for (size_t i = 0; i < stall->nr_members; i++)
		ks_json_push(threads,
			     ks_stalled_json(&stall->members[i],
					     report->guesses[i],
					     &report->stacks[i],
					     stall->confirmed_mono_ns));
	ks_add(obj, "threads", threads);
	return obj;
}

static json_object *ks_deadlock_json(const struct ks_report *report)
{
	const struct ks_deadlock *deadlock = report->deadlock;
	json_object *obj = ks_finding_record(
		"deadlock", report->confirmed_real_ns, deadlock->id);
	json_object *threads = json_object_new_array();
	json_object *behind = json_object_new_array();
	json_object *pids = json_object_new_array();

	ks_add_latency(obj, report->latency_ns);
	for (size_t i = 0; i < deadlock->nr_members; i++) {
		const struct ks_thread *t = deadlock->members[i].thread;
		bool seen = false;

		ks_json_push(threads,
			     ks_member_json(deadlock, &deadlock->members[i],
					    &report->member_stacks[i],
					    deadlock->confirmed_mono_ns));
		for (size_t j = 0; j < i; j++)
			seen |= deadlock->members[j].thread->tgid == t->tgid;
		if (!seen)
			ks_json_push(pids, json_object_new_int((int)t->tgid));
	}
	for (size_t i = 0; i < deadlock->nr_behind; i++)
		ks_json_push(behind,
			     ks_member_json(deadlock, &deadlock->behind[i],
					    &report->behind_stacks[i],
					    deadlock->confirmed_mono_ns));
	ks_add(obj, "pids", pids);
	ks_add(obj, "threads", threads);
	ks_add(obj, "blocked_behind", behind);
	if (report->traced) {
		char trace[2 * KS_TRACE_ID_LEN + 1];

		for (size_t i = 0; i < KS_TRACE_ID_LEN; i++)
			snprintf(trace + 2 * i, 3, "%02x", report->trace_id[i]);
		ks_add(obj, "trace_id", json_object_new_string(trace));
	}
	return obj;
}

int ks_json_write_deadlock(struct ks_json_sink *sink,
			   const struct ks_report *report)
{
	return ks_emit(sink, ks_deadlock_json(report));
}

/* One line of JSON, malloc()ed, and obj released. */
static char *ks_json_string(json_object *obj)
{
	const char *text = ks_json_text(obj);
	char *copy = text ? strdup(text) : NULL;

	json_object_put(obj);
	return copy;
}

char *ks_json_deadlock_string(const struct ks_report *report)
{
	return ks_json_string(ks_deadlock_json(report));
}

int ks_json_write_stall(struct ks_json_sink *sink,
			const struct ks_stall_report *report)
{
	return ks_emit(sink, ks_stall_json(report));
}

char *ks_json_stall_string(const struct ks_stall_report *report)
{
	return ks_json_string(ks_stall_json(report));
}

static json_object *ks_acquisition_json(const struct ks_acquisition *acq,
					const struct ks_stack *stack)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "mutex", ks_json_hex(acq->mutex));
	ks_add(obj, "stack", ks_json_stack(stack));
	return obj;
}

static json_object *ks_inversion_json(const struct ks_inversion_report *report)
{
	const struct ks_inversion *found = report->found;
	json_object *obj = ks_finding_record("lock_order_inversion",
					     report->real_ns, found->id);
	json_object *orders = json_object_new_array();
	ks_add(obj, "pid", json_object_new_int((int)found->tgid));
	ks_add(obj, "process_comm",
	       json_object_new_string(report->process_comm));
	for (size_t i = 0; i < found->nr_orders; i++) {
		const struct ks_lock_order *order = &found->orders[i];
		json_object *entry = json_object_new_object();

		ks_add(entry, "tid",
		       json_object_new_int((int)order->second->tid));
		ks_add(entry, "comm",
		       json_object_new_string(report->thread_comms[i]));
		ks_add(entry, "first",
		       ks_acquisition_json(order->first,
					   &report->first_stacks[i]));
		ks_add(entry, "then",
		       ks_acquisition_json(order->second,
					   &report->second_stacks[i]));
		ks_json_push(orders, entry);
	}
	ks_add(obj, "orders", orders);
	return obj;
}

int ks_json_write_inversion(struct ks_json_sink *sink,
			    const struct ks_inversion_report *report)
{
	return ks_emit(sink, ks_inversion_json(report));
}

char *ks_json_inversion_string(const struct ks_inversion_report *report)
{
	return ks_json_string(ks_inversion_json(report));
}

json_object *ks_json_process(const struct ks_process *process)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "pid", json_object_new_int((int)process->tgid));
	ks_add(obj, "comm", json_object_new_string(process->comm));
	ks_add(obj, "futex_waits",
	       json_object_new_uint64(process->stats.futex_waits));
	ks_add(obj, "lock_waits",
	       json_object_new_uint64(process->stats.lock_waits));
	ks_add(obj, "io_waits",
	       json_object_new_uint64(process->stats.io_waits));
	ks_add(obj, "wait_ns", json_object_new_uint64(process->stats.wait_ns));
	ks_add(obj, "max_wait_ns",
	       json_object_new_uint64(process->stats.max_wait_ns));
	ks_add(obj, "stalls", json_object_new_uint64(process->stats.stalls));
	return obj;
}

int ks_json_write_process(struct ks_json_sink *sink,
			  const struct ks_process *process, const char *state)
{
	json_object *obj = ks_record("process", ks_now_real_ns());
	json_object *fields = ks_json_process(process);

	ks_add(obj, "state", json_object_new_string(state));
	json_object_object_foreach(fields, key, value) {
		ks_add(obj, key, json_object_get(value));
	}
	json_object_put(fields);
	return ks_emit(sink, obj);
}

json_object *ks_json_by_kind(const uint64_t values[KS_EV_KIND_MAX])
{
	json_object *obj = json_object_new_object();

	/* Kind 0 is unused. */
	for (int kind = 1; kind < KS_EV_KIND_MAX; kind++)
		ks_add(obj, ks_record_kind_name(kind),
		       json_object_new_uint64(values[kind]));
	return obj;
}

json_object *ks_json_export(const struct ks_otlp_stats *stats)
{
	json_object *signals = json_object_new_object();

	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
		const struct ks_otlp_signal_stats *st = &stats->signal[s];
		json_object *obj, *failed;

		if (!st->enabled)
			continue;
		obj = json_object_new_object();
		failed = json_object_new_object();
		ks_add(obj, "produced", json_object_new_uint64(st->produced));
		ks_add(obj, "exported", json_object_new_uint64(st->exported));
		ks_add(obj, "rejected", json_object_new_uint64(st->rejected));
		ks_add(obj, "dropped_queue_full",
		       json_object_new_uint64(st->dropped_queue_full));
		for (int f = 0; f < KS_OTLP_NR_FAILURES; f++)
			ks_add(failed, ks_otlp_failure_name(f),
			       json_object_new_uint64(st->failed[f]));
		ks_add(obj, "failed", failed);
		ks_add(obj, "dropped_shutdown",
		       json_object_new_uint64(st->dropped_shutdown));
		ks_add(obj, "queued",
		       json_object_new_uint64(st->queued + st->exporting));
		ks_add(obj, "requests", json_object_new_uint64(st->requests));
		ks_add(obj, "retries", json_object_new_uint64(st->retries));
		ks_add(signals, ks_otlp_signal_name(s), obj);
	}
	return signals;
}

static void ks_add_counter(void *ctx, const char *name, uint64_t value)
{
	ks_add(ctx, name, json_object_new_uint64(value));
}

static json_object *ks_http_json(const struct ks_http_stats *st)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "connections", json_object_new_uint64(st->connections));
	ks_http_stats_foreach(st, ks_add_counter, obj);
	return obj;
}

static json_object *ks_json_memory(const struct ks_run_summary *summary)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "limit_bytes",
	       summary->memory_limit ?
		       json_object_new_uint64(summary->memory_limit) :
		       NULL);
	ks_add(obj, "peak_resident_bytes",
	       json_object_new_uint64(summary->memory_peak));
	return obj;
}

/* The same items as knotscope.agent.shed, under the same names. */
static json_object *ks_json_shed(const struct ks_shed_stats *shed)
{
	json_object *obj = json_object_new_object();

	ks_add(obj, "spans", json_object_new_uint64(shed->spans));
	ks_add(obj, "span_sites", json_object_new_uint64(shed->span_sites));
	ks_add(obj, "hb_points", json_object_new_uint64(shed->hb_points));
	return obj;
}

json_object *ks_json_long_waits(const struct ks_table *table, uint64_t now,
				ks_json_stack_fn stack_of, void *ctx)
{
	json_object *obj = json_object_new_object();
	json_object *threads = json_object_new_array();
	const struct ks_thread *thread;
	struct ks_long_waits total;

	ks_long_waits_count(table, NULL, now, &total);
	ks_add(obj, "threshold_s",
	       json_object_new_int((int)(KS_LONG_WAIT_NS / 1000000000ull)));
	ks_add(obj, "count", json_object_new_int((int)total.count));
	ks_add(obj, "longest_ms",
	       json_object_new_double((double)total.longest_ns / 1e6));
	for (thread = table->threads; thread; thread = thread->hh.next) {
		struct ks_wait_target target;
		enum ks_wait_guess guess;
		json_object *entry, *wait, *stack;

		if (!ks_long_wait(table, thread, now, &target, &guess))
			continue;
		entry = ks_thread_ref(thread);
		wait = ks_wait_json(thread, &target, now);
		ks_add(wait, "guess",
		       json_object_new_string(ks_wait_guess_name(
			       guess, thread->process->libc)));
		if (target.readers)
			ks_add(wait, "readers",
			       json_object_new_int((int)target.readers));
		ks_add(entry, "wait", wait);
		stack = stack_of ? stack_of(ctx, thread) : NULL;
		if (stack)
			ks_add(entry, "stack", stack);
		ks_json_push(threads, entry);
	}
	ks_add(obj, "threads", threads);
	return obj;
}

int ks_json_write_summary(struct ks_json_sink *sink,
			  const struct ks_run_summary *summary,
			  const struct ks_table *table)
{
	json_object *obj = ks_record("summary", ks_now_real_ns());
	json_object *processes = json_object_new_array();
	const struct ks_process *process;

	ks_add(obj, "duration_s", json_object_new_double(summary->duration_s));
	ks_add(obj, "events", ks_json_by_kind(summary->events));
	ks_add(obj, "kernel_drops",
	       json_object_new_uint64(summary->kernel_drops));
	ks_add(obj, "untracked_waits",
	       json_object_new_uint64(summary->inflight_full));
	ks_add(obj, "malformed_records",
	       json_object_new_uint64(summary->malformed));
	ks_add(obj, "deadlocks", json_object_new_uint64(summary->deadlocks));
	ks_add(obj, "stalls", json_object_new_uint64(summary->stalls));
	ks_add(obj, "memory", ks_json_memory(summary));
	ks_add(obj, "shed", ks_json_shed(&summary->shed));
	ks_add(obj, "unknown_holder_waits",
	       ks_json_long_waits(table, ks_now_mono_ns(), NULL, NULL));
	if (summary->export)
		ks_add(obj, "export", ks_json_export(summary->export));
	if (summary->http)
		ks_add(obj, "http", ks_http_json(summary->http));
	for (process = table->processes; process; process = process->hh.next)
		if (process->stats.futex_waits || process->stats.io_waits)
			ks_json_push(processes, ks_json_process(process));
	ks_add(obj, "processes", processes);
	return ks_emit(sink, obj);
}
