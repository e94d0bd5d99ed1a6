// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/grow.h"
#include "base/proc.h"
#include "model/io_parties.h"
#include "model/io_sweep.h"
#include "model/wait_target.h"

/* Sweeps take at most 1/KS_IO_SWEEP_SHARE of the agent's time. */
#define KS_IO_SWEEP_SHARE 50

struct ks_io_sweep {
	uint64_t min_interval_ns;
	uint64_t interval_ns;
	uint64_t next_ns;
	struct ks_io_sweep_hooks hooks;
	struct ks_sock_diag *diag;
	struct ks_io_sweep_stats stats;
	/* Scratch, grown as needed. */
	struct ks_thread **waiters;
	size_t waiters_cap;
	uint32_t *tgids;
	size_t tgids_cap;
};

struct ks_io_sweep *ks_io_sweep_new(uint64_t interval_ns,
				    const struct ks_io_sweep_hooks *hooks)
{
	struct ks_io_sweep *sweep = calloc(1, sizeof(*sweep));

	if (!sweep)
		return NULL;
	sweep->diag = ks_sock_diag_new();
	if (!sweep->diag) {
		free(sweep);
		return NULL;
	}
	sweep->min_interval_ns = sweep->interval_ns = interval_ns;
	if (hooks)
		sweep->hooks = *hooks;
	return sweep;
}

void ks_io_sweep_free(struct ks_io_sweep *sweep)
{
	if (!sweep)
		return;
	ks_sock_diag_free(sweep->diag);
	free(sweep->waiters);
	free(sweep->tgids);
	free(sweep);
}

struct ks_sock_diag *ks_io_sweep_diag(struct ks_io_sweep *sweep)
{
	return sweep->diag;
}

bool ks_io_sweep_due(const struct ks_io_sweep *sweep, uint64_t now)
{
	return now >= sweep->next_ns;
}

void ks_io_sweep_stats(const struct ks_io_sweep *sweep,
		       struct ks_io_sweep_stats *out)
{
	*out = sweep->stats;
	out->interval_ns = sweep->interval_ns;
}

/*
 * The system call numbers /proc shows are the process's own ABI's: only
 * processes of the agent's word size have the agent's numbers.
 */
static bool ks_native_process(struct ks_process *process)
{
	if (!process->io_abi_checked) {
		process->io_abi_native =
			ks_proc_elf_class(process->tgid) ==
			(sizeof(void *) == 8 ? KS_ELF_CLASS_64 :
					       KS_ELF_CLASS_32);
		process->io_abi_checked = true;
	}
	return process->io_abi_native;
}

/* The child a wait4() names, by its pid in the waiter's namespace. */
static uint32_t ks_child_tgid(const struct ks_table *table,
			      const struct ks_thread *waiter, uint32_t pid)
{
	struct ks_thread *child =
		ks_table_thread_in_ns(table, waiter->ns.pidns_ino, pid);

	return child && child->tid == child->tgid ? child->tgid : 0;
}

/* When the call began, from the kernel side's records, if they say. */
static uint64_t ks_begin_of(const struct ks_io_sweep *sweep,
			    const struct ks_thread *thread,
			    const struct ks_io_call *call)
{
	const struct ks_thread_channels *c = &thread->channels;
	uint64_t began = 0;

	if (call->via != KS_IO_VIA_CALL)
		return 0;
	if (call->dir == KS_IO_DIR_READ && sweep->hooks.read_began)
		began = sweep->hooks.read_began(sweep->hooks.ctx, thread->tid,
						(int)call->fd);
	else if (call->dir == KS_IO_DIR_WRITE && c->write_at_entry &&
		 c->write_fd == call->fd)
		began = c->write_ns;
	return began <= thread->io.seen_ns ? began : 0;
}

static void ks_resolve(struct ks_io_sweep *sweep, const struct ks_table *table,
		       struct ks_thread *thread, const struct ks_io_call *call)
{
	struct ks_thread_io *io = &thread->io;
	struct ks_io_target *target = calloc(1, sizeof(*target));
	uint32_t child = call->dir == KS_IO_DIR_CHILD ?
				 ks_child_tgid(table, thread, call->child) :
				 0;

	if (!target)
		return;
	if (ks_io_target_resolve(sweep->diag, thread->tgid, call, child,
				 target)) {
		free(target);
		io->unresolvable = true;
		return;
	}
	io->target = target;
	io->begin_ns = ks_begin_of(sweep, thread, call);
	thread->process->stats.io_waits++;
}

/*
 * Takes one sample of thread; returns whether its lasting wait appeared or
 * went away.
 */
static bool ks_sample(struct ks_io_sweep *sweep, const struct ks_table *table,
		      struct ks_thread *thread, uint64_t now)
{
	struct ks_thread_io *io = &thread->io;
	struct ks_proc_progress progress;
	bool had = io->target != NULL;
	struct ks_proc_syscall sc;
	struct ks_io_call call;

	sweep->stats.sampled++;
	if (thread->wait.active || thread->klock.active ||
	    ks_proc_read_syscall(thread->tgid, thread->tid, &sc) ||
	    !ks_io_call_of(&sc, &call) || !ks_native_process(thread->process) ||
	    ks_proc_read_progress(thread->tgid, thread->tid, &progress)) {
		if (io->blocked)
			ks_thread_io_reset(io);
		return had;
	}
	if (io->blocked && !memcmp(&io->sc, &sc, sizeof(sc)) &&
	    !memcmp(&io->progress, &progress, sizeof(progress))) {
		io->samples++;
	} else {
		ks_thread_io_reset(io);
		io->blocked = true;
		io->sc = sc;
		io->progress = progress;
		io->seen_ns = now;
		io->samples = 1;
	}
	if (io->samples >= 2 && !io->target && !io->unresolvable)
		ks_resolve(sweep, table, thread, &call);
	return had != (io->target != NULL);
}

/* Whether thread is blocked for good on something with a known end. */
static bool ks_blocked_with_edge(const struct ks_table *table,
				 const struct ks_thread *thread)
{
	struct ks_wait_target target;

	if (thread->io.target)
		return true;
	if (!thread->wait.active && !thread->klock.active)
		return false;
	ks_wait_target_resolve(table, thread, &target);
	return target.deadlock_edge;
}

/*
 * The processes whose holders can matter: those with a thread blocked for
 * good.  A wait whose other end only other processes hold cannot be part of
 * a deadlock, so it needs no search of theirs until it is a candidate.
 */
static size_t ks_blocked_processes(struct ks_io_sweep *sweep,
				   const struct ks_table *table)
{
	struct ks_process *process;
	size_t n = 0;

	for (process = table->processes; process; process = process->hh.next) {
		struct ks_thread *thread;

		DL_FOREACH(process->threads, thread) {
			if (!ks_blocked_with_edge(table, thread))
				continue;
			if (ks_reserve(&sweep->tgids, &sweep->tgids_cap,
				       sizeof(*sweep->tgids), n + 1))
				return n;
			sweep->tgids[n++] = process->tgid;
			break;
		}
	}
	return n;
}

static bool ks_same_parties(const struct ks_io_party *a, uint32_t nr_a,
			    const struct ks_io_party *b, uint32_t nr_b)
{
	return nr_a == nr_b && (!nr_a || !memcmp(a, b, nr_a * sizeof(*a)));
}

/*
 * Finds the parties of waiters[0..n) among tgids, or everywhere; whether
 * any changed.
 */
static bool ks_find_parties(const struct ks_table *table,
			    struct ks_thread **waiters, size_t n,
			    const uint32_t *tgids, size_t nr_tgids,
			    bool everywhere, uint64_t now)
{
	struct ks_io_party **before = calloc(n + 1, sizeof(*before));
	uint32_t *nr_before = calloc(n + 1, sizeof(*nr_before));
	bool changed = false;

	if (!before || !nr_before)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		struct ks_io_target *target = waiters[i]->io.target;

		/* Kept until compared: the search replaces them. */
		before[i] = target->parties;
		nr_before[i] = target->nr_parties;
		target->parties = NULL;
		target->nr_parties = 0;
	}
	if (ks_io_parties_find(table, waiters, n, tgids, nr_tgids, everywhere,
			       now)) {
		/* Nothing found is no evidence: back as they were. */
		for (size_t i = 0; i < n; i++) {
			waiters[i]->io.target->parties = before[i];
			waiters[i]->io.target->nr_parties = nr_before[i];
			before[i] = NULL;
		}
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ks_io_target *target = waiters[i]->io.target;

		changed |=
			!ks_same_parties(before[i], nr_before[i],
					 target->parties, target->nr_parties);
	}
cleanup:
	for (size_t i = 0; before && i < n; i++)
		free(before[i]);
	free(before);
	free(nr_before);
	return changed;
}

/* The resolved waits whose parties are unknown or old. */
static size_t ks_stale_waiters(struct ks_io_sweep *sweep,
			       const struct ks_table *table, uint64_t now)
{
	struct ks_thread *thread;
	size_t n = 0;

	sweep->stats.blocked = sweep->stats.resolved = 0;
	for (thread = table->threads; thread; thread = thread->hh.next) {
		const struct ks_io_target *target = thread->io.target;

		sweep->stats.blocked += thread->io.samples >= 2;
		if (!target)
			continue;
		sweep->stats.resolved++;
		if (target->parties_ns &&
		    now - target->parties_ns < KS_IO_PARTIES_TTL_NS)
			continue;
		if (ks_reserve(&sweep->waiters, &sweep->waiters_cap,
			       sizeof(*sweep->waiters), n + 1))
			break;
		sweep->waiters[n++] = thread;
	}
	return n;
}

void ks_io_sweep_run(struct ks_io_sweep *sweep, struct ks_model *model,
		     uint64_t now)
{
	struct ks_table *table = &model->table;
	uint64_t started = ks_now_mono_ns(), cost;
	struct ks_thread *thread;
	bool changed = false;
	size_t n;

	for (thread = table->threads; thread; thread = thread->hh.next)
		changed |= ks_sample(sweep, table, thread, now);
	n = ks_stale_waiters(sweep, table, now);
	if (n) {
		size_t nr_tgids = ks_blocked_processes(sweep, table);

		changed |= ks_find_parties(table, sweep->waiters, n,
					   sweep->tgids, nr_tgids, false, now);
	}
	if (changed)
		model->version++;

	sweep->stats.sweeps++;
	cost = ks_now_mono_ns() - started;
	sweep->stats.last_cost_ns = cost;
	sweep->interval_ns = cost * KS_IO_SWEEP_SHARE;
	if (sweep->interval_ns < sweep->min_interval_ns)
		sweep->interval_ns = sweep->min_interval_ns;
	sweep->next_ns = now + sweep->interval_ns;
}

int ks_io_sweep_complete(struct ks_io_sweep *sweep,
			 const struct ks_table *table, struct ks_thread *thread,
			 uint64_t now)
{
	if (!thread->io.target)
		return -1;
	ks_find_parties(table, &thread, 1, NULL, 0, true, now);
	return thread->io.target->complete ? 0 : -1;
}
