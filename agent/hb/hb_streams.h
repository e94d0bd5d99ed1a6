/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Streams: what the happens-before engine knows of a pipe, a FIFO or one
 * direction of a unix socket (bytes; messages for datagram sockets), so
 * that a read acquires the writes whose bytes it returned, not every write
 * made before it.
 *
 * A stream is the queue of the writes whose bytes may still be in the
 * object, in the order the kernel appended them: its segments.  A write
 * enters at its system call's entry (the release; it is in flight) and
 * learns its size at its return; a read consumes from the front.  Two
 * writes are in a known order when one returned before the other entered.
 * Writes that overlapped in time may have appended in either order, even
 * interleaved: they form a group, and a read learns its members only by
 * consuming all of it.
 *
 * What the engine is told can be incomplete: bytes moved by calls it did
 * not see (io_uring, splice, processes not watched), records lost, data in
 * the object from before the agent started, reads that ran at the same time
 * (the kernel side flags those).  So after each read, and at each write's
 * entry and return when no read was running, the kernel side counts what
 * the object holds, and the stream checks the count against its segments.
 * A read whose bytes cannot be told for sure learns nothing (the engine
 * marks the reader's loss); a stream whose count does not add up is out of
 * step, and starts again from the next count taken with no write in
 * flight, that content of unknown origin.  A stream first seen starts out
 * of step: the object may hold bytes from before.
 *
 * What a count cannot tell: a write in flight may have appended anything
 * up to what it asked, so while one is, a count only bounds the content.
 * Bytes moved unseen while a write is in flight can hide in that slack
 * until the next count taken without one.
 */
#ifndef KS_HB_STREAMS_H
#define KS_HB_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hb/hb_time.h"
#include "hb/vclock.h"

/* Segments one stream keeps; beyond, the oldest are merged, unknown. */
#define KS_HB_STREAM_SEGMENTS 64

/* Flags of a read or a write's return, as the kernel side reported it. */
#define KS_HB_IO_PEEK (1u << 0) /* nothing was consumed */
#define KS_HB_IO_OVERLAPPED (1u << 1) /* another read ran at the same time */
#define KS_HB_IO_COUNTED (1u << 2) /* pending: what the object held after */

struct ks_hb_segment {
	/* The writer's time at its write; empty for unknown bytes. */
	struct ks_hb_time at;
	uint64_t writer; /* the writer's thread key, for its return */
	uint64_t tag; /* the caller's, handed to the reads that learn it */
	uint64_t ts; /* the write's entry; unknown bytes: written by then */
	uint64_t asked; /* the most the write can append; 0: not known */
	uint64_t units; /* appended, once the write returned */
	uint64_t consumed;
	bool in_flight; /* entered, not returned: units not known yet */
	bool grouped; /* may have interleaved with the segment before */
	bool tainted; /* part of its group was read: whose bytes, unknown */
	bool unknown; /* of unknown origin */
};

struct ks_hb_stream {
	struct ks_hb_segment *ring;
	uint32_t head, len, capacity;
	uint32_t in_flight;
	/* The segments do not describe the object: learn nothing. */
	bool desynced;
};

/* What all streams hold together, and their bound. */
struct ks_hb_stream_pool {
	size_t segments, max_segments;
	struct ks_vclock_usage *usage;
	uint64_t desyncs; /* counts that did not add up, returns unseen */
	uint64_t restarts; /* desynced streams that started again */
	uint64_t forgotten; /* segments merged into unknown to stay bounded */
};

/* A read, before anything changes: what it returned, whether surely. */
struct ks_hb_stream_plan {
	uint32_t end; /* its units are in the first end segments */
	bool exact; /* they are exactly the known segments among them */
	bool desync; /* the stream does not describe the object */
	uint64_t
		unknown_ts; /* unknown units it returned were written by then */
	uint64_t take[KS_HB_STREAM_SEGMENTS]; /* units of each it consumes */
	/* A group read in part: whose units remain is not known any more. */
	uint32_t taint_begin, taint_end;
};

/*
 * A new stream, empty; in_step when the caller knows the object is empty
 * (it was just made), else out of step until a count.  NULL without memory.
 */
struct ks_hb_stream *ks_hb_stream_new(bool in_step);
void ks_hb_stream_free(struct ks_hb_stream_pool *pool,
		       struct ks_hb_stream *stream);

/*
 * A write entered at ts: at is the writer's time there (a reference is
 * taken), writer its thread key, asked the most it can append (0: not
 * known); the object held pending units then if flags has
 * KS_HB_IO_COUNTED.  If the segment cannot be kept (the stream full of
 * writes in flight) the stream is out of step.
 */
void ks_hb_stream_append(struct ks_hb_stream_pool *pool,
			 struct ks_hb_stream *stream,
			 const struct ks_hb_time *at, uint64_t writer,
			 uint64_t tag, uint64_t ts, uint64_t asked,
			 uint32_t flags, uint64_t pending);
/*
 * writer's write returned written units (<= 0: none), the object then
 * holding pending units if flags has KS_HB_IO_COUNTED.  False when its
 * entry was never seen: the stream is desynced.
 */
bool ks_hb_stream_returned(struct ks_hb_stream_pool *pool,
			   struct ks_hb_stream *stream, uint64_t writer,
			   int64_t written, uint32_t flags, uint64_t pending,
			   uint64_t ts);
/*
 * The object held pending units at ts, counted with nothing moved (flags
 * has KS_HB_IO_COUNTED): checked like any count, and where the stream is
 * out of step and no write is in flight, it starts again from it.
 */
void ks_hb_stream_counted(struct ks_hb_stream_pool *pool,
			  struct ks_hb_stream *stream, uint32_t flags,
			  uint64_t pending, uint64_t ts);
/* writer's write will not say when it returned (its record was lost). */
void ks_hb_stream_forget_writer(struct ks_hb_stream_pool *pool,
				struct ks_hb_stream *stream, uint64_t writer);
/* Records of the stream were lost or came late: trust nothing until a count. */
void ks_hb_stream_desync(struct ks_hb_stream_pool *pool,
			 struct ks_hb_stream *stream);

/*
 * A read of units (flags KS_HB_IO_*): which segments it returned, and
 * whether that is sure.  Nothing changes until ks_hb_stream_consume().
 */
void ks_hb_stream_plan_read(const struct ks_hb_stream *stream, uint64_t units,
			    uint32_t flags, uint64_t pending,
			    struct ks_hb_stream_plan *plan);
/* The i-th segment from the front, i < the stream's length. */
const struct ks_hb_segment *ks_hb_stream_at(const struct ks_hb_stream *stream,
					    uint32_t i);
/* The read planned happens: its units leave the stream, or it restarts. */
void ks_hb_stream_consume(struct ks_hb_stream_pool *pool,
			  struct ks_hb_stream *stream, uint32_t flags,
			  uint64_t pending,
			  const struct ks_hb_stream_plan *plan, uint64_t ts);

#endif /* KS_HB_STREAMS_H */
