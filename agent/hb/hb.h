/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The happens-before engine: vector clocks over the threads of a node, fed
 * with the synchronisation the kernel shows, answering for two recorded
 * points whether one happened before the other.  docs/happens-before.md
 * explains the design; this is the contract.
 *
 * Threads are named by a 64-bit key the caller chooses (host tid and start
 * time, so a reused tid is a new thread), sync objects by a kind and a
 * 64-bit id.  Every call takes the event's timestamp (monotonic ns, the
 * clock of bpf_ktime_get_ns) and is held back, sorted, until no earlier
 * record can still arrive (see Ordering).  The edges, one call each:
 *
 *   ks_hb_release / ks_hb_acquire, on a sync object:
 *     WORD:    mutex unlock -> next lock; futex WAKE (and REQUEUE, WAKE_OP)
 *              -> return of the waits it woke; cond signal/broadcast ->
 *              wait return; sem_post -> sem_wait; rwlock unlock -> lock;
 *              barrier arrival -> departure (every arrival releases, every
 *              departure acquires).  The id names the word: the caller
 *              makes private futexes (mm, address) and shared ones (inode
 *              or page, offset) distinct.
 *     CHANNEL: write -> read of an object whose reads learn every write
 *              before them: an eventfd's counter, a message queue.
 *     Timestamps: a release's is taken before it can take effect (the
 *     syscall's entry, before the unlocking store); an acquire's after it
 *     completed (the syscall's exit, the lock's return).  Then a release
 *     always sorts before the acquires it enables.  An acquire of an object
 *     nothing released is harmless: it learns nothing.
 *   ks_hb_stream_write / _wrote / _read / _count, on a stream (hb_streams.h): a
 *                   pipe, a FIFO, one direction of a unix socket.  A write
 *                   releases at its entry, says at its return how much it
 *                   appended; a read acquires the writes whose bytes (or
 *                   messages) it returned, and only them.  The kernel
 *                   side's count of what the object held after each call
 *                   is checked: a read that cannot be told for sure learns
 *                   nothing and its thread's clock says so.
 *   ks_hb_fork:     parent -> child, at clone/fork/vfork (sched_process_fork:
 *                   the parent's context, before the child runs).
 *   ks_hb_wakeup:   waker -> wakee, at sched_wakeup (the waker's context);
 *                   the wakee learns it at its next event.
 *   ks_hb_exit:     the thread's last event (sched_process_exit).  Releases
 *                   to its join and, with a process key, to the process's
 *                   wait4; then the thread is gone.
 *   ks_hb_joined:   pthread_join returned (the futex wait on the exited
 *                   thread's tid word): acquires that thread's exit.
 *   ks_hb_reaped:   wait4/waitid returned that process: acquires the exits
 *                   of all its threads.
 *   ks_hb_sync_gone: an address unmapped or reused, a channel or stream
 *                   closed for good: the object's releases are forgotten,
 *                   its id starts afresh (a stream, known empty; a stream
 *                   first seen may hold bytes from before).
 *
 * The answers are about these edges and program order, nothing else: two
 * points no recorded edge connects are concurrent, however the program
 * really synchronised (an uncontended lock never enters the kernel).
 *
 * Ordering.  An event waits until one with a timestamp reorder_window_ns
 * later has been handed in, or ks_hb_advance() says the stream reached
 * that time, or ks_hb_flush().  If the buffer is full, the earliest event
 * is applied early (counted as forced).  An event that then arrives older
 * than one already applied is late; the engine applies it anyway where
 * that is exact (nothing that should have seen it already ran), and
 * otherwise records that edges were lost at its time (counted as lost):
 * answers it could have changed become KS_HB_UNKNOWN, never wrong.  What
 * the engine cannot check: each thread's own records (its releases,
 * acquires, points, forks and wakeups it does, its exit) must be handed in
 * in the order the thread produced them, as one BPF ring buffer delivers
 * them; a consumer merging several buffers must keep that order.
 *
 * Points.  ks_hb_stamp() records a point of a thread and returns a handle
 * at once; the point is filled when its event is applied, and asks as
 * KS_HB_UNKNOWN until then.  At most max_stamps points are held: beyond,
 * the oldest is dropped, and its handle asks as KS_HB_UNKNOWN.
 *
 * Not thread-safe: one thread owns an engine.
 */
#ifndef KS_HB_H
#define KS_HB_H

#include <stddef.h>
#include <stdint.h>

#include "hb/hb_point.h"
#include "hb/hb_streams.h"

enum ks_hb_sync_kind {
	KS_HB_WORD = 1, /* futex words and the locks built on them */
	KS_HB_CHANNEL =
		2, /* eventfds, message queues: reads learn every write */
	KS_HB_STREAM =
		3, /* pipes, FIFOs, unix sockets: reads learn their bytes */
};

/* Zero fields take the defaults in brackets. */
struct ks_hb_config {
	/* Components a clock keeps besides its own [64]. */
	uint32_t max_clock_entries;
	/* Threads tracked; the least recently active is evicted [131072]. */
	uint32_t max_actors;
	/* Sync objects; the least recently used is evicted [262144]. */
	uint32_t max_objects;
	/* Points held; the oldest is dropped [65536, at most 2^24]. */
	uint32_t max_stamps;
	/* Events held back for reordering [16384]. */
	uint32_t holdback_events;
	/* Writes of all streams whose bytes may still be unread [65536]. */
	uint32_t max_segments;
	/* How much older than its predecessor a record may be [1 ms]. */
	uint64_t reorder_window_ns;
};

struct ks_hb_stats {
	uint64_t events; /* handed in */
	uint64_t held; /* waiting to be applied, now */
	uint64_t forced; /* applied early: the hold-back buffer was full */
	uint64_t late; /* arrived older than an event already applied */
	uint64_t lost; /* edges known lost: late, no memory, dropped records */
	uint64_t edges; /* acquires that found a release, forks, wakeups */
	uint64_t merges; /* of those, the ones that built a new clock */
	uint64_t actors; /* threads live now */
	uint64_t actors_gone; /* exited, kept for the points of them held */
	uint64_t actor_slots; /* ids in use or free: the id space's size */
	uint64_t actors_created, actors_collected, actors_evicted;
	uint64_t objects; /* now */
	uint64_t objects_evicted, objects_gone;
	uint64_t stamps; /* held now */
	uint64_t stamps_dropped; /* the oldest, beyond max_stamps */
	uint64_t stamps_failed; /* could not be recorded: ask as unknown */
	uint64_t clocks, clock_entries; /* allocated now */
	uint64_t entries_pruned; /* of unasked ids: no answer changed */
	uint64_t entries_dropped; /* over max_clock_entries: answers unsure */
	uint64_t stream_reads; /* reads of streams */
	uint64_t stream_reads_unsure; /* ... that learnt nothing, and said so */
	uint64_t
		stream_desyncs; /* counts that did not add up, unseen returns */
	uint64_t stream_restarts; /* ... and the streams started again */
	uint64_t stream_segments; /* writes held now, their bytes unread */
};

struct ks_hb;

/* cfg may be NULL: all defaults.  NULL without memory or for bad limits. */
struct ks_hb *ks_hb_new(const struct ks_hb_config *cfg);
void ks_hb_free(struct ks_hb *hb);

void ks_hb_release(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		   enum ks_hb_sync_kind kind, uint64_t id);
void ks_hb_acquire(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		   enum ks_hb_sync_kind kind, uint64_t id);
void ks_hb_sync_gone(struct ks_hb *hb, uint64_t ts, enum ks_hb_sync_kind kind,
		     uint64_t id);
void ks_hb_fork(struct ks_hb *hb, uint64_t ts, uint64_t parent, uint64_t child);
void ks_hb_wakeup(struct ks_hb *hb, uint64_t ts, uint64_t waker,
		  uint64_t wakee);
/* process: the caller's key for the thread's process, 0 for none. */
void ks_hb_exit(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		uint64_t process);
void ks_hb_joined(struct ks_hb *hb, uint64_t ts, uint64_t joiner,
		  uint64_t exited);
void ks_hb_reaped(struct ks_hb *hb, uint64_t ts, uint64_t waiter,
		  uint64_t process);
/*
 * A system call on a stream.  A stream's units are bytes, or messages, as
 * long as the caller is consistent.
 */
struct ks_hb_io {
	/* write: the most it can append, 0 not known; wrote: what it did,
	 * <= 0 nothing; read: what it returned. */
	int64_t units;
	uint32_t flags; /* KS_HB_IO_* (hb_streams.h) */
	/* With KS_HB_IO_COUNTED: what the object held after the call (at a
	 * write's entry: before it). */
	uint64_t pending;
	/* A write's: ks_hb_stamp_sources() hands it back to the points
	 * right after the reads that learn the write. */
	uint64_t tag;
};

/* A write entered (the release); it returned; a read returned. */
void ks_hb_stream_write(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io);
void ks_hb_stream_wrote(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io);
void ks_hb_stream_read(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		       uint64_t stream, const struct ks_hb_io *io);
/*
 * thread counted what the stream held, moving nothing (a read's entry):
 * io->pending with KS_HB_IO_COUNTED in io->flags.  A stream first seen
 * starts in step from such a count, rather than at its next read.
 */
void ks_hb_stream_count(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io);
/*
 * Records lost between two timestamps (the BPF ring buffer was full):
 * edges there may be missing.
 */
void ks_hb_lost(struct ks_hb *hb, uint64_t from_ts, uint64_t to_ts);

/* No record older than now - reorder_window_ns can still arrive. */
void ks_hb_advance(struct ks_hb *hb, uint64_t now);
/* Applies everything held: nothing older will arrive (shutdown, tests). */
void ks_hb_flush(struct ks_hb *hb);

/*
 * Records a point of thread and returns its handle (never 0).  The point
 * is a recorded event: it follows everything the thread did before it.
 */
uint64_t ks_hb_stamp(struct ks_hb *hb, uint64_t ts, uint64_t thread);
/* The caller no longer needs the point; stale handles are ignored. */
void ks_hb_stamp_drop(struct ks_hb *hb, uint64_t stamp);
/*
 * The point as exported: its Lamport counter, and what to encode with
 * ks_hb_point_encode().  point->clock stays valid until the stamp is
 * dropped.  -ENOENT for a stale handle, -EAGAIN while not yet applied,
 * -EIO for a point that could not be recorded.
 */
int ks_hb_stamp_point(const struct ks_hb *hb, uint64_t stamp,
		      struct ks_hb_point *point);

/*
 * The tags of the writes a stream read learnt, when the point's thread did
 * such a read just before it, at the point's time: at most max, the
 * latest write of each writer, the write of the last unit first.  0 for
 * anything else, or a stale or pending handle.
 */
size_t ks_hb_stamp_sources(const struct ks_hb *hb, uint64_t stamp,
			   uint64_t *tags, size_t max);

/* How a relates to b; KS_HB_UNKNOWN also for stale or pending handles. */
enum ks_hb_order ks_hb_order(const struct ks_hb *hb, uint64_t a, uint64_t b);

void ks_hb_get_stats(const struct ks_hb *hb, struct ks_hb_stats *stats);

#endif /* KS_HB_H */
