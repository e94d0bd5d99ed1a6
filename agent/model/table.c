// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "model/table.h"

void ks_comm_copy(char *dst, const char *src)
{
	size_t len = src ? strnlen(src, KS_COMM_LEN - 1) : 0;

	memset(dst, 0, KS_COMM_LEN);
	memcpy(dst, src, len);
}

void ks_table_init(struct ks_table *table, unsigned long user_hz)
{
	memset(table, 0, sizeof(*table));
	table->user_hz = user_hz ? user_hz : 100;
}

static void ks_process_free(struct ks_table *table, struct ks_process *process)
{
	if (table->on_process_freed)
		table->on_process_freed(table->ctx, process);
	for (size_t i = 0; i < process->nr_labels; i++)
		free(process->labels[i]);
	free(process->labels);
	free(process);
}

/* Frees the departed processes prune says to, keeping the others' order. */
static void ks_departed_prune(struct ks_table *table,
			      bool (*prune)(const struct ks_process *process,
					    const void *arg),
			      const void *arg)
{
	struct ks_process **link = &table->departed, *process;

	table->departed_tail = NULL;
	while ((process = *link)) {
		if (!prune(process, arg)) {
			table->departed_tail = process;
			link = &process->departed_next;
			continue;
		}
		*link = process->departed_next;
		table->nr_departed--;
		ks_process_free(table, process);
	}
}

static bool ks_prune_all(const struct ks_process *process, const void *arg)
{
	return true;
}

void ks_table_clear(struct ks_table *table)
{
	struct ks_process *process, *tmp;
	unsigned int holds = table->departed_holds;

	table->departed_holds = 0;
	HASH_ITER(hh, table->processes, process, tmp)
		ks_table_remove_process(table, process);
	ks_departed_prune(table, ks_prune_all, NULL);
	table->departed_holds = holds;
}

static bool ks_prune_tgid(const struct ks_process *process, const void *arg)
{
	return process->tgid == *(const uint32_t *)arg;
}

struct ks_process *ks_table_process_or_departed(const struct ks_table *table,
						uint32_t tgid)
{
	struct ks_process *process = ks_table_process(table, tgid);

	if (process)
		return process;
	for (process = table->departed; process;
	     process = process->departed_next)
		if (process->tgid == tgid)
			return process;
	return NULL;
}

struct ks_release {
	unsigned int hold;
	uint64_t before_ns;
};

/* Releases the hold of those departed before; true when none is left. */
static bool ks_prune_released(const struct ks_process *process, const void *arg)
{
	const struct ks_release *release = arg;

	if (process->departed_mono_ns < release->before_ns)
		((struct ks_process *)process)->holds &= ~release->hold;
	return !process->holds;
}

void ks_table_release_departed(struct ks_table *table, unsigned int hold,
			       uint64_t departed_before_mono_ns)
{
	struct ks_release release = { hold, departed_before_mono_ns };

	ks_departed_prune(table, ks_prune_released, &release);
}

uint64_t ks_table_ns_to_ticks(const struct ks_table *table, uint64_t ns)
{
	/* The kernel's nsec_to_clock_t(): /proc shows start times this way. */
	return ns / (1000000000ull / table->user_hz);
}

struct ks_process *ks_table_process(const struct ks_table *table, uint32_t tgid)
{
	struct ks_process *process;

	HASH_FIND(hh, table->processes, &tgid, sizeof(tgid), process);
	return process;
}

struct ks_thread *ks_table_thread(const struct ks_table *table, uint32_t tid)
{
	struct ks_thread *thread;

	HASH_FIND(hh, table->threads, &tid, sizeof(tid), thread);
	return thread;
}

struct ks_thread *ks_table_thread_in_ns(const struct ks_table *table,
					uint32_t pidns_ino, uint32_t ns_tid)
{
	struct ks_ns_key key = { .pidns_ino = pidns_ino, .ns_tid = ns_tid };
	struct ks_thread *thread;

	HASH_FIND(hh_ns, table->threads_by_ns, &key, sizeof(key), thread);
	return thread;
}

static struct ks_process *
ks_table_ensure_process(struct ks_table *table, uint32_t tgid, const char *comm)
{
	struct ks_process *process = ks_table_process(table, tgid);

	if (process)
		return process;
	/* The pid is reused: what was kept of the last one under it goes. */
	if (table->departed)
		ks_departed_prune(table, ks_prune_tgid, &tgid);
	process = calloc(1, sizeof(*process));
	if (!process)
		return NULL;
	process->tgid = tgid;
	process->serial = ++table->processes_taken;
	process->first_seen_real_ns = ks_now_real_ns();
	if (comm)
		ks_comm_copy(process->comm, comm);
	HASH_ADD(hh, table->processes, tgid, sizeof(process->tgid), process);
	return process;
}

struct ks_thread *ks_table_add_thread(struct ks_table *table, uint32_t tgid,
				      uint32_t tid, uint32_t pidns_ino,
				      uint32_t ns_tid, uint64_t start_ticks,
				      const char *comm)
{
	struct ks_thread *thread = ks_table_thread(table, tid);
	struct ks_process *process;

	if (thread && thread->start_ticks == start_ticks &&
	    thread->tgid == tgid)
		return thread;
	if (thread)
		ks_table_remove_thread(table, thread);

	/* A leader's comm names its process; other threads inherit it. */
	process =
		ks_table_ensure_process(table, tgid, tid == tgid ? comm : NULL);
	if (!process)
		return NULL;
	thread = calloc(1, sizeof(*thread));
	if (!thread)
		return NULL;
	thread->tid = tid;
	thread->tgid = tgid;
	thread->ns.pidns_ino = pidns_ino;
	thread->ns.ns_tid = ns_tid;
	thread->start_ticks = start_ticks;
	if (comm)
		ks_comm_copy(thread->comm, comm);
	thread->process = process;
	/* Kept after the leader is gone: it names the process instance. */
	if (tid == tgid)
		process->start_ticks = start_ticks;
	DL_APPEND(process->threads, thread);
	process->nr_threads++;
	HASH_ADD(hh, table->threads, tid, sizeof(thread->tid), thread);
	HASH_ADD(hh_ns, table->threads_by_ns, ns, sizeof(thread->ns), thread);
	return thread;
}

void ks_table_remove_thread(struct ks_table *table, struct ks_thread *thread)
{
	HASH_DELETE(hh, table->threads, thread);
	HASH_DELETE(hh_ns, table->threads_by_ns, thread);
	DL_DELETE(thread->process->threads, thread);
	thread->process->nr_threads--;
	ks_thread_io_reset(&thread->io);
	free(thread);
}

void ks_table_remove_process(struct ks_table *table, struct ks_process *process)
{
	struct ks_thread *thread, *tmp;

	if (table->on_process_gone)
		table->on_process_gone(table->ctx, process);
	DL_FOREACH_SAFE(process->threads, thread, tmp)
		ks_table_remove_thread(table, thread);
	HASH_DELETE(hh, table->processes, process);
	if (!table->departed_holds) {
		ks_process_free(table, process);
		return;
	}
	process->departed_mono_ns = ks_now_mono_ns();
	process->holds = table->departed_holds;
	if (table->departed_tail)
		table->departed_tail->departed_next = process;
	else
		table->departed = process;
	table->departed_tail = process;
	/* Memory has a ceiling: the oldest kept goes first. */
	if (++table->nr_departed > KS_MAX_DEPARTED) {
		process = table->departed;
		table->departed = process->departed_next;
		table->nr_departed--;
		ks_process_free(table, process);
	}
}
