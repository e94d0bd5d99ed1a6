// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/hash.h"
#include "detect/detector.h"
#include "detect/waitgraph.h"

/* Without events, still look this often: long waits may need a refresh. */
#define KS_IDLE_TICK_NS 1000000000ull

/* Bounds the memory of reported cycles whose threads all still live. */
#define KS_MAX_REMEMBERED 4096

struct ks_member_id {
	uint32_t tid;
	uint64_t start_ticks;
};

struct ks_candidate {
	uint64_t id;
	uint64_t first_seen_ns;
	uint64_t seen_tick;
	bool reported;
	UT_hash_handle hh;
	size_t nr_members; /* filled once reported */
	struct ks_member_id members[];
};

struct ks_detector {
	uint64_t confirm_ns;
	struct ks_detector_ops ops;
	void *ctx;
	bool dirty;
	uint64_t last_tick_ns;
	uint64_t tick;
	uint64_t nr_reported;
	struct ks_candidate *candidates;
	/* Scratch, grown as needed, reused between ticks. */
	size_t capacity;
	struct ks_deadlock_member *blocked;
	struct ks_graph_node *graph; /* graph[i] is blocked[i]'s node */
	struct ks_graph_node **nodes;
	struct ks_graph_node **members;
	struct ks_graph_cycle *cycles;
	struct ks_deadlock_member *report_members;
	struct ks_deadlock_member *report_behind;
};

struct ks_detector *ks_detector_new(uint64_t confirm_ns,
				    const struct ks_detector_ops *ops,
				    void *ctx)
{
	struct ks_detector *detector = calloc(1, sizeof(*detector));

	if (!detector)
		return NULL;
	detector->confirm_ns = confirm_ns;
	detector->ops = *ops;
	detector->ctx = ctx;
	detector->dirty = true;
	return detector;
}

void ks_detector_free(struct ks_detector *detector)
{
	struct ks_candidate *candidate, *tmp;

	if (!detector)
		return;
	HASH_ITER(hh, detector->candidates, candidate, tmp) {
		HASH_DEL(detector->candidates, candidate);
		free(candidate);
	}
	free(detector->blocked);
	free(detector->graph);
	free(detector->nodes);
	free(detector->members);
	free(detector->cycles);
	free(detector->report_members);
	free(detector->report_behind);
	free(detector);
}

void ks_detector_mark_dirty(struct ks_detector *detector)
{
	detector->dirty = true;
}

uint64_t ks_detector_nr_reported(const struct ks_detector *detector)
{
	return detector->nr_reported;
}

static bool ks_detector_has_pending(const struct ks_detector *detector)
{
	const struct ks_candidate *candidate;

	for (candidate = detector->candidates; candidate;
	     candidate = candidate->hh.next)
		if (!candidate->reported)
			return true;
	return false;
}

bool ks_detector_wants_tick(const struct ks_detector *detector, uint64_t now)
{
	return detector->dirty || ks_detector_has_pending(detector) ||
	       now - detector->last_tick_ns >= KS_IDLE_TICK_NS;
}

/* field_ptr: address of an array pointer; grows that array to cap. */
static int ks_grow(void *field_ptr, size_t elem_size, size_t cap)
{
	void **field = field_ptr;
	void *grown = realloc(*field, cap * elem_size);

	if (!grown)
		return -1;
	*field = grown;
	return 0;
}

static int ks_detector_reserve(struct ks_detector *d, size_t n)
{
	size_t cap = d->capacity ? d->capacity : 64;

	if (n <= d->capacity)
		return 0;
	while (cap < n)
		cap *= 2;
	if (ks_grow(&d->blocked, sizeof(*d->blocked), cap) ||
	    ks_grow(&d->graph, sizeof(*d->graph), cap) ||
	    ks_grow(&d->nodes, sizeof(*d->nodes), cap) ||
	    ks_grow(&d->members, sizeof(*d->members), cap) ||
	    ks_grow(&d->cycles, sizeof(*d->cycles), cap) ||
	    ks_grow(&d->report_members, sizeof(*d->report_members), cap) ||
	    ks_grow(&d->report_behind, sizeof(*d->report_behind), cap))
		return -1;
	d->capacity = cap;
	return 0;
}

static bool ks_wait_needs_refresh(const struct ks_detector *d,
				  const struct ks_thread *thread,
				  const struct ks_wait_target *target,
				  uint64_t now)
{
	const struct ks_thread_wait *wait = &thread->wait;

	/*
	 * The kernel read the lock words when the wait began.  A holder
	 * writes glibc's __owner a few instructions after taking the lock,
	 * so a waiter arriving in between saw no owner: look again once the
	 * wait has lasted long enough to matter.
	 */
	return !thread->klock.active && !wait->refreshed && !target->timed &&
	       !target->deadlock_edge &&
	       !(wait->begin.flags & KS_WAIT_SEEDED) &&
	       now >= wait->begin.hdr.ts_ns + d->confirm_ns;
}

/* Collects blocked threads with an edge; returns how many. */
static size_t ks_collect_edges(struct ks_detector *d,
			       const struct ks_table *table, uint64_t now)
{
	struct ks_thread *thread;
	size_t n = 0;

	for (thread = table->threads; thread; thread = thread->hh.next) {
		struct ks_deadlock_member *m;

		if (!thread->wait.active && !thread->klock.active)
			continue;
		if (ks_detector_reserve(d, n + 1))
			break;
		m = &d->blocked[n];
		ks_wait_target_resolve(table, thread, &m->target);
		if (ks_wait_needs_refresh(d, thread, &m->target, now)) {
			d->ops.refresh(d->ctx, thread);
			ks_wait_target_resolve(table, thread, &m->target);
		}
		if (!m->target.deadlock_edge)
			continue;
		m->thread = thread;
		thread->detector_tick = d->tick;
		thread->detector_index = n;
		n++;
	}
	/* Linked once all are in: growing the arrays moves them. */
	for (size_t i = 0; i < n; i++) {
		struct ks_thread *holder = d->blocked[i].target.holder;

		/* Only a blocked holder continues the chain. */
		d->graph[i].next = holder->detector_tick == d->tick ?
					   &d->graph[holder->detector_index] :
					   NULL;
		d->nodes[i] = &d->graph[i];
	}
	return n;
}

static struct ks_deadlock_member *ks_member_of(struct ks_detector *d,
					       const struct ks_graph_node *node)
{
	return &d->blocked[node - d->graph];
}

/*
 * Orders the cycle from its lowest tid, so the same cycle found from another
 * member gets the same id, then hashes who waits for what held by whom.
 */
static uint64_t ks_cycle_identity(struct ks_deadlock_member *members,
				  size_t len)
{
	uint64_t hash = KS_FNV1A_INIT;
	size_t first = 0;

	for (size_t i = 1; i < len; i++)
		if (members[i].thread->tid < members[first].thread->tid)
			first = i;
	for (size_t k = 0; k < len; k++) {
		const struct ks_deadlock_member *m =
			&members[(first + k) % len];

		hash = ks_fnv1a(hash, &m->thread->tid, sizeof(m->thread->tid));
		hash = ks_fnv1a(hash, &m->thread->start_ticks,
				sizeof(m->thread->start_ticks));
		hash = ks_fnv1a(hash, &m->target.lock_addr,
				sizeof(m->target.lock_addr));
		hash = ks_fnv1a(hash, &m->target.holder->tid,
				sizeof(m->target.holder->tid));
	}
	return hash;
}

static bool ks_confirm(struct ks_detector *d, const struct ks_table *table,
		       const struct ks_deadlock_member *members, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!d->ops.verify(d->ctx, table, members[i].thread,
				   &members[i].target))
			return false;
	return true;
}

static void ks_report_cycle(struct ks_detector *d, size_t n,
			    const struct ks_graph_cycle *cycle, size_t index,
			    uint64_t id, uint64_t now)
{
	struct ks_deadlock deadlock = { .id = id, .confirmed_mono_ns = now };
	uint64_t last_block = 0;
	bool seeded = false;
	size_t nr_behind = 0;

	for (size_t i = 0; i < cycle->len; i++) {
		const struct ks_deadlock_member *m =
			ks_member_of(d, cycle->nodes[i]);
		const struct ks_wait_begin *begin = &m->thread->wait.begin;

		d->report_members[i] = *m;
		if (begin->flags & KS_WAIT_SEEDED)
			seeded = true;
		else if (begin->hdr.ts_ns > last_block)
			last_block = begin->hdr.ts_ns;
	}
	deadlock.last_block_mono_ns = seeded ? 0 : last_block;
	for (size_t i = 0; i < n; i++) {
		const struct ks_graph_node *node = &d->graph[i];

		if (node->cycle < 0 &&
		    ks_graph_cycle_reached(node) == (int32_t)index)
			d->report_behind[nr_behind++] = d->blocked[i];
	}
	deadlock.members = d->report_members;
	deadlock.nr_members = cycle->len;
	deadlock.behind = d->report_behind;
	deadlock.nr_behind = nr_behind;
	d->ops.report(d->ctx, &deadlock);
	d->nr_reported++;
}

static void ks_remember_reported(struct ks_candidate *candidate,
				 const struct ks_deadlock_member *members,
				 size_t len)
{
	candidate->reported = true;
	candidate->nr_members = len;
	for (size_t i = 0; i < len; i++) {
		candidate->members[i].tid = members[i].thread->tid;
		candidate->members[i].start_ticks =
			members[i].thread->start_ticks;
	}
}

static bool ks_members_alive(const struct ks_candidate *candidate,
			     const struct ks_table *table)
{
	for (size_t i = 0; i < candidate->nr_members; i++) {
		const struct ks_thread *thread =
			ks_table_thread(table, candidate->members[i].tid);

		if (!thread ||
		    thread->start_ticks != candidate->members[i].start_ticks)
			return false;
	}
	return true;
}

/*
 * A cycle not seen this tick and never reported is forgotten: if it forms
 * again, it is new.  A reported one is remembered while its threads live,
 * because a signal that wakes a deadlocked thread for an instant (glibc
 * then waits again) breaks the cycle for a tick without ending the
 * deadlock, which must not be reported twice.
 */
static void ks_forget_candidates(struct ks_detector *d,
				 const struct ks_table *table)
{
	struct ks_candidate *candidate, *tmp;
	size_t remembered = 0;

	HASH_ITER(hh, d->candidates, candidate, tmp) {
		bool keep = candidate->seen_tick == d->tick ||
			    (candidate->reported &&
			     remembered < KS_MAX_REMEMBERED &&
			     ks_members_alive(candidate, table));

		remembered += candidate->reported && keep;
		if (!keep) {
			HASH_DEL(d->candidates, candidate);
			free(candidate);
		}
	}
}

void ks_detector_tick(struct ks_detector *d, const struct ks_table *table,
		      uint64_t now)
{
	struct ks_candidate *candidate;
	size_t n, nr_cycles;

	d->tick++;
	d->dirty = false;
	d->last_tick_ns = now;

	n = ks_collect_edges(d, table, now);
	nr_cycles = ks_graph_find_cycles(d->nodes, n, d->cycles, d->members);

	for (size_t c = 0; c < nr_cycles; c++) {
		const struct ks_graph_cycle *cycle = &d->cycles[c];
		uint64_t id;

		for (size_t i = 0; i < cycle->len; i++)
			d->report_members[i] =
				*ks_member_of(d, cycle->nodes[i]);
		id = ks_cycle_identity(d->report_members, cycle->len);

		HASH_FIND(hh, d->candidates, &id, sizeof(id), candidate);
		if (!candidate) {
			candidate = calloc(
				1,
				sizeof(*candidate) +
					cycle->len *
						sizeof(candidate->members[0]));
			if (!candidate)
				continue;
			candidate->id = id;
			candidate->first_seen_ns = now;
			HASH_ADD(hh, d->candidates, id, sizeof(id), candidate);
		}
		candidate->seen_tick = d->tick;
		if (candidate->reported ||
		    now - candidate->first_seen_ns < d->confirm_ns)
			continue;
		if (!ks_confirm(d, table, d->report_members, cycle->len))
			continue;
		ks_remember_reported(candidate, d->report_members, cycle->len);
		ks_report_cycle(d, n, cycle, c, id, now);
	}
	ks_forget_candidates(d, table);
}
