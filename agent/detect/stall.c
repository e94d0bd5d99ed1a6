// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <uthash.h>

#include "base/hash.h"
#include "detect/stall.h"

/* Without events, still look this often: windows end without any. */
#define KS_IDLE_TICK_NS 1000000000ull

/* Bounds the memory of reported stalls whose processes still live. */
#define KS_MAX_REMEMBERED 4096

struct ks_stall_candidate {
	uint64_t id;
	uint32_t tgid;
	/* When each wait began: a wait that ended and began again, even on
	 * the same futex, starts the window over. */
	uint64_t stamp;
	uint64_t first_seen_ns;
	uint64_t seen_tick;
	bool reported;
	/* A wait on memory another process may map: not a stall of this
	 * process alone, whatever else holds. */
	bool rejected;
	UT_hash_handle hh;
};

struct ks_stall_detector {
	uint64_t window_ns;
	struct ks_stall_ops ops;
	void *ctx;
	bool dirty;
	uint64_t last_tick_ns;
	uint64_t tick;
	uint64_t nr_reported;
	struct ks_stall_candidate *candidates;
	/* Scratch, grown as needed. */
	struct ks_stall_member *members;
	size_t capacity;
};

enum ks_verdict { KS_CONFIRMED, KS_NOT_YET, KS_REJECTED };

struct ks_stall_detector *ks_stall_detector_new(uint64_t window_ns,
						const struct ks_stall_ops *ops,
						void *ctx)
{
	struct ks_stall_detector *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->window_ns = window_ns;
	d->ops = *ops;
	d->ctx = ctx;
	d->dirty = true;
	return d;
}

void ks_stall_detector_free(struct ks_stall_detector *d)
{
	struct ks_stall_candidate *candidate, *tmp;

	if (!d)
		return;
	HASH_ITER(hh, d->candidates, candidate, tmp) {
		HASH_DEL(d->candidates, candidate);
		free(candidate);
	}
	free(d->members);
	free(d);
}

void ks_stall_detector_mark_dirty(struct ks_stall_detector *d)
{
	d->dirty = true;
}

uint64_t ks_stall_detector_nr_reported(const struct ks_stall_detector *d)
{
	return d->nr_reported;
}

static bool ks_has_pending(const struct ks_stall_detector *d)
{
	const struct ks_stall_candidate *candidate;

	for (candidate = d->candidates; candidate;
	     candidate = candidate->hh.next)
		if (!candidate->reported && !candidate->rejected)
			return true;
	return false;
}

bool ks_stall_detector_wants_tick(const struct ks_stall_detector *d,
				  uint64_t now)
{
	return d->dirty || ks_has_pending(d) ||
	       now - d->last_tick_ns >= KS_IDLE_TICK_NS;
}

static int ks_reserve(struct ks_stall_detector *d, size_t n)
{
	size_t cap = d->capacity ? d->capacity : 16;
	struct ks_stall_member *grown;

	if (n <= d->capacity)
		return 0;
	while (cap < n)
		cap *= 2;
	grown = realloc(d->members, cap * sizeof(*grown));
	if (!grown)
		return -1;
	d->members = grown;
	d->capacity = cap;
	return 0;
}

/* In a futex wait without a timeout, not in the kernel's own locks. */
static bool ks_blocked_for_good(const struct ks_table *table,
				struct ks_thread *thread,
				struct ks_stall_member *m)
{
	const struct ks_wait_begin *begin = &thread->wait.begin;

	if (!thread->wait.active || thread->klock.active ||
	    (begin->syscall != KS_SYS_FUTEX &&
	     begin->syscall != KS_SYS_FUTEX_WAIT))
		return false;
	m->thread = thread;
	ks_wait_target_resolve(table, thread, &m->target);
	return !m->target.timed;
}

/*
 * Fills d->members with every thread of process when all are blocked for
 * good and one at least on something nobody is known to hold; returns
 * how many, or 0.
 */
static size_t ks_collect_stalled(struct ks_stall_detector *d,
				 const struct ks_table *table,
				 struct ks_process *process)
{
	struct ks_thread *thread;
	bool unknown_holder = false;
	size_t n = 0;

	if (!process->nr_threads || ks_reserve(d, process->nr_threads))
		return 0;
	DL_FOREACH(process->threads, thread) {
		struct ks_stall_member *m = &d->members[n++];

		if (!ks_blocked_for_good(table, thread, m))
			return 0;
		unknown_holder |= !m->target.deadlock_edge;
	}
	return unknown_holder ? n : 0;
}

static void ks_identify(const struct ks_stall_member *members, size_t n,
			uint32_t tgid, uint64_t *id, uint64_t *stamp)
{
	*id = ks_fnv1a(KS_FNV1A_INIT, &tgid, sizeof(tgid));
	*stamp = KS_FNV1A_INIT;
	for (size_t i = 0; i < n; i++) {
		const struct ks_thread *t = members[i].thread;

		*id = ks_fnv1a(*id, &t->tid, sizeof(t->tid));
		*id = ks_fnv1a(*id, &t->start_ticks, sizeof(t->start_ticks));
		*id = ks_fnv1a(*id, &t->wait.begin.uaddr,
			       sizeof(t->wait.begin.uaddr));
		*stamp = ks_fnv1a(*stamp, &t->wait.begin.hdr.ts_ns,
				  sizeof(t->wait.begin.hdr.ts_ns));
	}
}

static enum ks_verdict ks_confirm(struct ks_stall_detector *d,
				  const struct ks_process *process,
				  const struct ks_stall_member *members,
				  size_t n)
{
	/* A thread the table does not know (its fork record was lost)
	 * could be the one that runs. */
	if (d->ops.count_threads(d->ctx, process->tgid) != (int)n)
		return KS_NOT_YET;
	for (size_t i = 0; i < n; i++) {
		const struct ks_wait_begin *begin =
			&members[i].thread->wait.begin;

		if ((begin->flags & KS_WAIT_SHARED) &&
		    d->ops.shared_memory(d->ctx, process->tgid, begin->uaddr) !=
			    0)
			return KS_REJECTED;
	}
	for (size_t i = 0; i < n; i++)
		if (!d->ops.still_waiting(d->ctx, members[i].thread))
			return KS_NOT_YET;
	return KS_CONFIRMED;
}

static void ks_report(struct ks_stall_detector *d, struct ks_process *process,
		      size_t n, uint64_t id, uint64_t now)
{
	struct ks_stall stall = {
		.id = id,
		.process = process,
		.members = d->members,
		.nr_members = n,
		.confirmed_mono_ns = now,
	};
	bool seeded = false;

	for (size_t i = 0; i < n; i++) {
		const struct ks_wait_begin *begin =
			&d->members[i].thread->wait.begin;

		if (begin->flags & KS_WAIT_SEEDED)
			seeded = true;
		else if (begin->hdr.ts_ns > stall.last_block_mono_ns)
			stall.last_block_mono_ns = begin->hdr.ts_ns;
	}
	if (seeded)
		stall.last_block_mono_ns = 0;
	d->ops.report(d->ctx, &stall);
	d->nr_reported++;
}

static void ks_examine(struct ks_stall_detector *d,
		       const struct ks_table *table, struct ks_process *process,
		       uint64_t now)
{
	struct ks_stall_candidate *candidate;
	size_t n = ks_collect_stalled(d, table, process);
	uint64_t id, stamp;

	if (!n)
		return;
	ks_identify(d->members, n, process->tgid, &id, &stamp);
	HASH_FIND(hh, d->candidates, &id, sizeof(id), candidate);
	if (!candidate) {
		candidate = calloc(1, sizeof(*candidate));
		if (!candidate)
			return;
		candidate->id = id;
		candidate->tgid = process->tgid;
		candidate->stamp = stamp;
		candidate->first_seen_ns = now;
		HASH_ADD(hh, d->candidates, id, sizeof(id), candidate);
	}
	candidate->seen_tick = d->tick;
	if (candidate->stamp != stamp) {
		candidate->stamp = stamp;
		candidate->first_seen_ns = now;
	}
	if (candidate->reported || candidate->rejected ||
	    now - candidate->first_seen_ns < d->window_ns)
		return;
	switch (ks_confirm(d, process, d->members, n)) {
	case KS_CONFIRMED:
		candidate->reported = true;
		ks_report(d, process, n, id, now);
		break;
	case KS_REJECTED:
		candidate->rejected = true;
		break;
	case KS_NOT_YET:
		/* Look again after another window, not on every tick. */
		candidate->first_seen_ns = now;
		break;
	}
}

/*
 * A stall not seen this tick is forgotten, unless it was reported (or
 * rejected) and its process lives: a signal that wakes a stalled thread
 * for an instant, after which it waits again, must not report it twice.
 */
static void ks_forget(struct ks_stall_detector *d, const struct ks_table *table)
{
	struct ks_stall_candidate *candidate, *tmp;
	size_t remembered = 0;

	HASH_ITER(hh, d->candidates, candidate, tmp) {
		bool settled = candidate->reported || candidate->rejected;
		bool keep = candidate->seen_tick == d->tick ||
			    (settled && remembered < KS_MAX_REMEMBERED &&
			     ks_table_process(table, candidate->tgid));

		remembered += settled && keep;
		if (!keep) {
			HASH_DEL(d->candidates, candidate);
			free(candidate);
		}
	}
}

void ks_stall_detector_tick(struct ks_stall_detector *d,
			    const struct ks_table *table, uint64_t now)
{
	struct ks_process *process;

	d->tick++;
	d->dirty = false;
	d->last_tick_ns = now;
	for (process = table->processes; process; process = process->hh.next)
		ks_examine(d, table, process, now);
	ks_forget(d, table);
}
