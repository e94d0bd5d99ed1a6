/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Happens-before from the ring buffer: each record that carries
 * synchronisation becomes a call on the engine (hb.h), with the threads
 * and sync objects named for it, and each acquire remembers who released
 * what it acquired, so that the span ending there can link to the span
 * the releaser had just finished.
 *
 * Record to edge:
 *   futex wake (and requeue, wake_op, unlock_pi)   release of the word(s)
 *   futex wait that returned 0 or -EAGAIN          acquire of the word
 *   ... on a thread's clear_child_tid              join of that thread
 *   eventfd, unix datagram socket write (at entry) release of the channel
 *   ... read that returned data                    acquire of the channel
 *   pipe, FIFO, unix stream socket write           a stream's write: entry
 *                                                  and return
 *   ... read that returned data                    acquire of the writes
 *                                                  whose bytes it returned
 *   fork/clone                                     parent -> child
 *   wakeup of a thread long off CPU                waker -> wakee
 *   thread exit                                    release to join, reap
 *   wait4/waitid returned a child                  reap of its threads
 *   precise mode: unlock call / lock that returned 0, mutex destroy
 *                                                  release / acquire / gone
 *
 * Private futex words are named by (process, address), shared ones by
 * address alone: processes that map a shared word at different addresses
 * are not connected.  The model must see each record after this does, so
 * that a thread that exits is still in the table.
 */
#ifndef KS_CAUSALITY_H
#define KS_CAUSALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/trace_ids.h"
#include "hb/hb.h"
#include "model/table.h"

/*
 * Room for any encoded point: a clock of the engine's default 64 entries
 * at worst ~30 bytes each before base64.
 */
#define KS_HB_POINT_TEXT_MAX 4096

enum ks_edge_kind {
	KS_EDGE_NONE = 0,
	KS_EDGE_FUTEX_WAKE, /* a futex wake, then the wait's return */
	KS_EDGE_UNLOCK, /* precise mode: unlock, then a lock */
	KS_EDGE_CHANNEL, /* a write, then the read of its data */
	KS_EDGE_WAKEUP, /* the scheduler's waker, then the wakee */
	KS_EDGE_JOIN, /* a thread's exit, then its join */
};

struct ks_causality;
struct ks_model;

/* NULL without memory. */
struct ks_causality *ks_causality_new(const struct ks_hb_config *cfg);
void ks_causality_free(struct ks_causality *causality);

/* One validated record, before the model applies it. */
void ks_causality_apply(struct ks_causality *causality, struct ks_model *model,
			const void *record);
/*
 * Records were dropped between from_ns and to_ns (the ring buffer was
 * full): answers across that time become unknown rather than wrong.
 */
void ks_causality_lost(struct ks_causality *causality, uint64_t from_ns,
		       uint64_t to_ns);
/* The stream has reached now_ns: events held back for order can apply. */
void ks_causality_advance(struct ks_causality *causality, uint64_t now_ns);
/* Applies everything held back: no record will come any more. */
void ks_causality_flush(struct ks_causality *causality);

/* A point of thread at ts_ns, for a span ending there.  0 on failure. */
uint64_t ks_causality_stamp(struct ks_causality *causality,
			    struct ks_thread *thread, uint64_t ts_ns);
/*
 * The point as exported: its encoding into text (hb_point.h) and its
 * Lamport counter.  -EAGAIN while its events are held back (ask again
 * later); -ENOENT or -EIO when it is lost; -ENOSPC when text is too small
 * (KS_HB_POINT_TEXT_MAX is always enough).
 *
 * Points are never given back: the engine keeps the latest max_stamps of
 * them and drops the oldest.  A thread with a point held keeps its
 * components in the clocks that learn of it; one without may lose them.
 * So an exported point stays comparable with those exported after it, as
 * long as it is among the latest max_stamps; an older one compares as
 * unknown, never wrongly.
 */
int ks_causality_point(struct ks_causality *causality, uint64_t stamp,
		       char *text, size_t size, uint64_t *lamport);

/* Most sources ks_causality_sources() gives for one point. */
#define KS_CAUSALITY_SOURCES_MAX 8

/*
 * The writes whose bytes a stream read returned, when the point's thread
 * made that read just before it (a span ending at the read): their
 * writers and the spans those had just finished, the write of the last
 * byte first, at most max (KS_CAUSALITY_SOURCES_MAX).  0 for any other
 * point, or one not yet known (ks_causality_point() says -EAGAIN).
 */
size_t ks_causality_sources(const struct ks_causality *causality,
			    uint64_t stamp, struct ks_edge_source *sources,
			    size_t max);

/* The engine's counters, for the agent's own metrics. */
void ks_causality_stats(const struct ks_causality *causality,
			struct ks_hb_stats *stats);

const char *ks_edge_kind_name(enum ks_edge_kind kind);

#endif /* KS_CAUSALITY_H */
