// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/grow.h"
#include "base/hash.h"
#include "base/mix64.h"
#include "detect/detector.h"
#include "detect/waitgraph.h"

/* Without events, still look this often: long waits may need a refresh. */
#define KS_IDLE_TICK_NS 1000000000ull

/* Bounds the memory of reported cycles whose threads all still live. */
#define KS_MAX_REMEMBERED 4096

/*
 * A wait more threads than this could end is taken for one that can end:
 * deadlocks are among a few threads, and the graph stays small.
 */
#define KS_MAX_EDGES_PER_WAIT 1024

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
	void *live_ctx, *report_ctx;
	bool dirty;
	uint64_t last_tick_ns;
	uint64_t tick;
	uint64_t nr_reported;
	struct ks_candidate *candidates;
	struct ks_graph graph; /* node i is blocked[i] */
	/* Scratch, grown as needed, reused between ticks. */
	size_t capacity;
	struct ks_deadlock_member *blocked;
	struct ks_deadlock_member *report_members;
	struct ks_deadlock_member *report_behind;
	uint32_t *behind;
};

struct ks_detector *ks_detector_new(uint64_t confirm_ns,
				    const struct ks_detector_ops *ops,
				    void *live_ctx, void *report_ctx)
{
	struct ks_detector *detector = calloc(1, sizeof(*detector));

	if (!detector)
		return NULL;
	detector->confirm_ns = confirm_ns;
	detector->ops = *ops;
	detector->live_ctx = live_ctx;
	detector->report_ctx = report_ctx;
	detector->dirty = true;
	ks_graph_init(&detector->graph);
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
	ks_graph_release(&detector->graph);
	free(detector->blocked);
	free(detector->report_members);
	free(detector->report_behind);
	free(detector->behind);
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

static int ks_detector_reserve(struct ks_detector *d, size_t n)
{
	size_t cap = ks_doubled(d->capacity, n);

	if (n <= d->capacity)
		return 0;
	if (ks_grow(&d->blocked, sizeof(*d->blocked), cap) ||
	    ks_grow(&d->report_members, sizeof(*d->report_members), cap) ||
	    ks_grow(&d->report_behind, sizeof(*d->report_behind), cap) ||
	    ks_grow(&d->behind, sizeof(*d->behind), cap))
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
	return wait->active && !thread->klock.active && !wait->refreshed &&
	       !target->timed && !target->deadlock_edge &&
	       !(wait->begin.flags & KS_WAIT_SEEDED) &&
	       now >= wait->begin.hdr.ts_ns + d->confirm_ns;
}

/* A wait that has lasted as long, with no stack yet: see ops.read_stack. */
static bool ks_wait_needs_stack(const struct ks_detector *d,
				const struct ks_thread *thread, uint64_t now)
{
	const struct ks_thread_wait *wait = &thread->wait;

	return wait->active && !thread->klock.active && !wait->stack_sought &&
	       (wait->begin.flags & KS_WAIT_STACK_LATER) &&
	       !wait->begin.stack_len &&
	       now >= wait->begin.hdr.ts_ns + d->confirm_ns;
}

static bool ks_is_node(const struct ks_detector *d,
		       const struct ks_thread *thread)
{
	return thread->detector_tick == d->tick;
}

/* Collects blocked threads with an edge; returns how many. */
static size_t ks_collect_nodes(struct ks_detector *d,
			       const struct ks_table *table, uint64_t now)
{
	struct ks_thread *thread;
	size_t n = 0;

	for (thread = table->threads; thread; thread = thread->hh.next) {
		struct ks_deadlock_member *m;

		if (!thread->wait.active && !thread->klock.active &&
		    !thread->io.target)
			continue;
		if (ks_detector_reserve(d, n + 1))
			break;
		m = &d->blocked[n];
		ks_wait_target_resolve(table, thread, &m->target);
		if (ks_wait_needs_refresh(d, thread, &m->target, now)) {
			d->ops.refresh(d->live_ctx, thread);
			ks_wait_target_resolve(table, thread, &m->target);
		}
		if (ks_wait_needs_stack(d, thread, now))
			d->ops.read_stack(d->live_ctx, thread);
		if (!m->target.deadlock_edge)
			continue;
		m->thread = thread;
		thread->detector_tick = d->tick;
		thread->detector_index = n;
		n++;
	}
	return n;
}

/* An edge to thread, or false when it is not blocked for good. */
static bool ks_edge_to(struct ks_detector *d, const struct ks_thread *thread,
		       size_t *nr_edges)
{
	if (!thread || !ks_is_node(d, thread) ||
	    ++*nr_edges > KS_MAX_EDGES_PER_WAIT)
		return false;
	return !ks_graph_add_edge(&d->graph, (uint32_t)thread->detector_index);
}

/*
 * The edges of an I/O wait: to each party thread, or to every thread of a
 * party process.  False when one of them is not blocked for good (or not
 * known): then the wait can end.
 */
static bool ks_io_edges(struct ks_detector *d, const struct ks_table *table,
			const struct ks_io_target *io)
{
	size_t nr_edges = 0;

	for (uint32_t p = 0; p < io->nr_parties; p++) {
		const struct ks_io_party *party = &io->parties[p];
		const struct ks_process *process =
			ks_table_process(table, party->tgid);
		const struct ks_thread *thread;

		if (!process || !process->nr_threads)
			return false;
		if (party->tid) {
			thread = ks_table_thread(table, party->tid);
			if (!thread || thread->tgid != party->tgid ||
			    !ks_edge_to(d, thread, &nr_edges))
				return false;
			continue;
		}
		DL_FOREACH(process->threads, thread)
			if (!ks_edge_to(d, thread, &nr_edges))
				return false;
	}
	return nr_edges > 0;
}

/* The graph: a node per blocked thread, its edges to what it waits on. */
static void ks_build_graph(struct ks_detector *d, const struct ks_table *table,
			   size_t n)
{
	ks_graph_clear(&d->graph);
	for (size_t i = 0; i < n; i++) {
		const struct ks_wait_target *target = &d->blocked[i].target;
		bool edges;

		if (ks_graph_add_node(&d->graph, false))
			return;
		if (target->io)
			edges = ks_io_edges(d, table, target->io);
		else
			edges = ks_edge_to(d, target->holder, &(size_t){ 0 });
		d->graph.nodes[i].escapes = !edges;
	}
}

/*
 * Which of the threads that could end an I/O wait a report follows: the
 * next member of the knot if it is one, else the first blocked one.
 */
static void ks_choose_holder(struct ks_detector *d,
			     struct ks_deadlock_member *m,
			     const struct ks_thread *next)
{
	const struct ks_graph_node *node;

	if (!m->target.io)
		return;
	node = &d->graph.nodes[m->thread->detector_index];
	m->target.holder = NULL;
	for (uint32_t e = 0; e < node->nr_edges; e++) {
		struct ks_thread *t =
			d->blocked[d->graph.edges[node->first_edge + e]].thread;

		if (t == next) {
			m->target.holder = t;
			return;
		}
		if (!m->target.holder &&
		    d->graph.nodes[t->detector_index].deadlocked)
			m->target.holder = t;
	}
}

/* Who waits for what held by whom, whatever order the members come in. */
static uint64_t ks_member_identity(const struct ks_deadlock_member *m)
{
	const struct ks_wait_target *target = &m->target;
	uint64_t hash = KS_FNV1A_INIT;

	hash = ks_fnv1a(hash, &m->thread->tid, sizeof(m->thread->tid));
	hash = ks_fnv1a(hash, &m->thread->start_ticks,
			sizeof(m->thread->start_ticks));
	if (!target->io) {
		hash = ks_fnv1a(hash, &target->lock_addr,
				sizeof(target->lock_addr));
		hash = ks_fnv1a(hash, &target->holder->tid,
				sizeof(target->holder->tid));
		return hash;
	}
	hash = ks_fnv1a(hash, &target->io->kind, sizeof(target->io->kind));
	hash = ks_fnv1a(hash, &target->io->inode, sizeof(target->io->inode));
	hash = ks_fnv1a(hash, &target->io->child_tgid,
			sizeof(target->io->child_tgid));
	return ks_fnv1a(hash, target->io->parties,
			target->io->nr_parties * sizeof(*target->io->parties));
}

static uint64_t ks_knot_identity(const struct ks_deadlock_member *members,
				 size_t len)
{
	uint64_t id = 0;

	/* A sum of mixed hashes: the same set of waits, the same id. */
	for (size_t i = 0; i < len; i++)
		id += ks_mix64(ks_member_identity(&members[i]));
	return id;
}

/* The knot's members in its order, each with the holder it follows. */
static void ks_knot_members(struct ks_detector *d,
			    const struct ks_graph_knot *knot)
{
	for (size_t i = 0; i < knot->len; i++)
		d->report_members[i] = d->blocked[knot->members[i]];
	for (size_t i = 0; i < knot->len; i++)
		ks_choose_holder(d, &d->report_members[i],
				 d->report_members[(i + 1) % knot->len].thread);
}

static size_t ks_knot_behind(struct ks_detector *d, int32_t knot)
{
	size_t n = ks_graph_behind(&d->graph, knot, d->behind);

	for (size_t i = 0; i < n; i++) {
		d->report_behind[i] = d->blocked[d->behind[i]];
		ks_choose_holder(d, &d->report_behind[i], NULL);
	}
	return n;
}

/*
 * Who can end an I/O wait was looked for among processes with threads
 * blocked only: before a knot's window counts, among all of them.  True
 * when some had to be, and the graph is now out of date.
 */
static bool ks_complete(struct ks_detector *d, const struct ks_table *table,
			const struct ks_deadlock_member *members, size_t n,
			uint64_t now)
{
	bool asked = false;

	for (size_t i = 0; i < n; i++) {
		const struct ks_io_target *io = members[i].target.io;

		if (io && !io->complete) {
			d->ops.complete(d->live_ctx, table, members[i].thread,
					now);
			asked = true;
		}
	}
	return asked;
}

static bool ks_confirm(struct ks_detector *d, const struct ks_table *table,
		       const struct ks_deadlock_member *members, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!d->ops.verify(d->live_ctx, table, members[i].thread,
				   &members[i].target))
			return false;
	return true;
}

/* When the wait began, 0 when that is unknown (it began before the agent
 * started); an I/O wait the kernel did not time began when first seen. */
static uint64_t ks_blocked_since(const struct ks_deadlock_member *m)
{
	const struct ks_thread *t = m->thread;
	bool first_seen;

	if (m->target.io)
		return ks_thread_io_since(&t->io, &first_seen);
	if (t->klock.active)
		return t->klock.begin_ts_ns;
	if (t->wait.begin.flags & KS_WAIT_SEEDED)
		return 0;
	return t->wait.begin.hdr.ts_ns;
}

static void ks_report_knot(struct ks_detector *d, size_t len, size_t nr_behind,
			   uint64_t id, uint64_t now)
{
	struct ks_deadlock deadlock = {
		.id = id,
		.members = d->report_members,
		.nr_members = len,
		.behind = d->report_behind,
		.nr_behind = nr_behind,
		.confirmed_mono_ns = now,
	};
	bool unknown = false;

	for (size_t i = 0; i < len; i++) {
		uint64_t since = ks_blocked_since(&d->report_members[i]);

		unknown |= !since;
		if (since > deadlock.last_block_mono_ns)
			deadlock.last_block_mono_ns = since;
	}
	if (unknown)
		deadlock.last_block_mono_ns = 0;
	d->ops.report(d->report_ctx, &deadlock);
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

static struct ks_candidate *ks_candidate(struct ks_detector *d, uint64_t id,
					 size_t len, uint64_t now)
{
	struct ks_candidate *candidate;

	HASH_FIND(hh, d->candidates, &id, sizeof(id), candidate);
	if (candidate)
		return candidate;
	candidate = calloc(1, sizeof(*candidate) +
				      len * sizeof(candidate->members[0]));
	if (!candidate)
		return NULL;
	candidate->id = id;
	candidate->first_seen_ns = now;
	HASH_ADD(hh, d->candidates, id, sizeof(id), candidate);
	return candidate;
}

static void ks_examine_knot(struct ks_detector *d, const struct ks_table *table,
			    int32_t index, uint64_t now)
{
	const struct ks_graph_knot *knot = &d->graph.knots[index];
	struct ks_candidate *candidate;
	size_t nr_behind;
	uint64_t id;

	ks_knot_members(d, knot);
	nr_behind = ks_knot_behind(d, index);
	if (ks_complete(d, table, d->report_members, knot->len, now) |
	    ks_complete(d, table, d->report_behind, nr_behind, now)) {
		d->dirty = true; /* the graph again, with what was found */
		return;
	}
	id = ks_knot_identity(d->report_members, knot->len);
	candidate = ks_candidate(d, id, knot->len, now);
	if (!candidate)
		return;
	candidate->seen_tick = d->tick;
	if (candidate->reported ||
	    now - candidate->first_seen_ns < d->confirm_ns)
		return;
	if (!ks_confirm(d, table, d->report_members, knot->len))
		return;
	ks_remember_reported(candidate, d->report_members, knot->len);
	ks_report_knot(d, knot->len, nr_behind, id, now);
}

void ks_detector_tick(struct ks_detector *d, const struct ks_table *table,
		      uint64_t now)
{
	size_t n;

	d->tick++;
	d->dirty = false;
	d->last_tick_ns = now;

	n = ks_collect_nodes(d, table, now);
	ks_build_graph(d, table, n);
	if (d->graph.nr_nodes == n && !ks_graph_find_knots(&d->graph))
		for (size_t k = 0; k < d->graph.nr_knots; k++)
			ks_examine_knot(d, table, (int32_t)k, now);
	ks_forget_candidates(d, table);
}
