// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "hb/hb_streams.h"

struct ks_hb_stream *ks_hb_stream_new(bool in_step)
{
	struct ks_hb_stream *stream = calloc(1, sizeof(*stream));

	if (stream)
		stream->desynced = !in_step;
	return stream;
}

static struct ks_hb_segment *ks_seg(const struct ks_hb_stream *stream,
				    uint32_t i)
{
	return &stream->ring[(stream->head + i) % stream->capacity];
}

const struct ks_hb_segment *ks_hb_stream_at(const struct ks_hb_stream *stream,
					    uint32_t i)
{
	return ks_seg(stream, i);
}

static uint64_t ks_remaining(const struct ks_hb_segment *seg)
{
	return seg->units > seg->consumed ? seg->units - seg->consumed : 0;
}

static uint64_t ks_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static void ks_seg_release(struct ks_hb_stream_pool *pool,
			   struct ks_hb_segment *seg)
{
	ks_vclock_put(pool->usage, seg->at.others);
	seg->at.others = NULL;
	pool->segments--;
}

/* Removes the i-th segment, keeping the others in order. */
static void ks_seg_remove(struct ks_hb_stream_pool *pool,
			  struct ks_hb_stream *stream, uint32_t i)
{
	ks_seg_release(pool, ks_seg(stream, i));
	for (; i + 1 < stream->len; i++)
		*ks_seg(stream, i) = *ks_seg(stream, i + 1);
	stream->len--;
}

static void ks_clear(struct ks_hb_stream_pool *pool,
		     struct ks_hb_stream *stream)
{
	for (uint32_t i = 0; i < stream->len; i++)
		ks_seg_release(pool, ks_seg(stream, i));
	stream->head = 0;
	stream->len = 0;
	stream->in_flight = 0;
}

void ks_hb_stream_free(struct ks_hb_stream_pool *pool,
		       struct ks_hb_stream *stream)
{
	if (!stream)
		return;
	ks_clear(pool, stream);
	free(stream->ring);
	free(stream);
}

void ks_hb_stream_desync(struct ks_hb_stream_pool *pool,
			 struct ks_hb_stream *stream)
{
	if (stream->desynced)
		return;
	stream->desynced = true;
	pool->desyncs++;
}

/* Room for one more segment in the ring.  -1 without memory. */
static int ks_grow(struct ks_hb_stream *stream)
{
	uint32_t capacity = stream->capacity ? 2 * stream->capacity : 4;
	struct ks_hb_segment *ring;

	if (stream->len < stream->capacity)
		return 0;
	ring = malloc(capacity * sizeof(*ring));
	if (!ring)
		return -1;
	for (uint32_t i = 0; i < stream->len; i++)
		ring[i] = *ks_seg(stream, i);
	free(stream->ring);
	stream->ring = ring;
	stream->capacity = capacity;
	stream->head = 0;
	return 0;
}

/*
 * Frees a segment by merging the oldest two that are not in flight into
 * one of unknown origin: a read of their bytes will learn nothing and say
 * so, rather than learn something it should not.  False if there is none.
 */
static bool ks_make_room(struct ks_hb_stream_pool *pool,
			 struct ks_hb_stream *stream)
{
	for (uint32_t i = 0; i + 1 < stream->len; i++) {
		struct ks_hb_segment *a = ks_seg(stream, i);
		struct ks_hb_segment *b = ks_seg(stream, i + 1);
		uint64_t units = ks_remaining(a) + ks_remaining(b);
		uint64_t ts = a->ts > b->ts ? a->ts : b->ts;
		bool grouped = a->grouped, tainted = a->tainted || b->tainted;

		if (a->in_flight || b->in_flight)
			continue;
		ks_vclock_put(pool->usage, a->at.others);
		*a = (struct ks_hb_segment){
			.ts = ts,
			.units = units,
			.grouped = grouped,
			.tainted = tainted,
			.unknown = true,
		};
		ks_seg_remove(pool, stream, i + 1);
		pool->forgotten++;
		return true;
	}
	return false;
}

static void ks_bounds(const struct ks_hb_stream *stream, uint64_t *min,
		      uint64_t *max);
static void ks_restart(struct ks_hb_stream_pool *pool,
		       struct ks_hb_stream *stream, uint64_t pending,
		       const struct ks_hb_segment *keep, uint64_t ts);

/*
 * A count the kernel side took (flags, pending) against what the stream
 * says: out of step when it does not add up, and started again from it
 * when no write is in flight.
 */
static void ks_check_count(struct ks_hb_stream_pool *pool,
			   struct ks_hb_stream *stream, uint32_t flags,
			   uint64_t pending, uint64_t ts)
{
	uint64_t min, max;

	if (!(flags & KS_HB_IO_COUNTED))
		return;
	ks_bounds(stream, &min, &max);
	if (pending < min || pending > max)
		ks_hb_stream_desync(pool, stream);
	if (stream->desynced && !stream->in_flight)
		ks_restart(pool, stream, pending, NULL, ts);
}

void ks_hb_stream_counted(struct ks_hb_stream_pool *pool,
			  struct ks_hb_stream *stream, uint32_t flags,
			  uint64_t pending, uint64_t ts)
{
	ks_check_count(pool, stream, flags, pending, ts);
}

void ks_hb_stream_append(struct ks_hb_stream_pool *pool,
			 struct ks_hb_stream *stream,
			 const struct ks_hb_time *at, uint64_t writer,
			 uint64_t tag, uint64_t ts, uint64_t asked,
			 uint32_t flags, uint64_t pending)
{
	struct ks_hb_segment *seg;
	bool full;

	/* Checked before it can append: no slack of its own yet. */
	ks_check_count(pool, stream, flags, pending, ts);
	full = stream->len >= KS_HB_STREAM_SEGMENTS ||
	       pool->segments >= pool->max_segments;
	if ((full && !ks_make_room(pool, stream)) || ks_grow(stream)) {
		/* Its bytes will come from nowhere the stream knows. */
		ks_hb_stream_desync(pool, stream);
		return;
	}
	seg = ks_seg(stream, stream->len);
	*seg = (struct ks_hb_segment){
		.at = *at,
		.writer = writer,
		.tag = tag,
		.ts = ts,
		.asked = asked,
		.in_flight = true,
		/* A write in flight may append before, after or amid it. */
		.grouped = stream->in_flight > 0,
	};
	seg->at.others = ks_vclock_get(at->others);
	stream->len++;
	stream->in_flight++;
	pool->segments++;
}

/* What the object can hold now, if the stream describes it. */
static void ks_bounds(const struct ks_hb_stream *stream, uint64_t *min,
		      uint64_t *max)
{
	uint64_t known = 0, room = 0;
	bool unbounded = false;

	for (uint32_t i = 0; i < stream->len; i++) {
		const struct ks_hb_segment *seg = ks_seg(stream, i);

		if (!seg->in_flight)
			known += ks_remaining(seg);
		else if (!seg->asked || seg->asked < seg->consumed)
			unbounded = true;
		else
			room += seg->asked - seg->consumed;
	}
	*min = known;
	*max = unbounded ? UINT64_MAX : known + room;
}

static struct ks_hb_segment *ks_push(struct ks_hb_stream_pool *pool,
				     struct ks_hb_stream *stream,
				     const struct ks_hb_segment *seg)
{
	struct ks_hb_segment *slot;

	if (ks_grow(stream))
		return NULL;
	slot = ks_seg(stream, stream->len++);
	*slot = *seg;
	pool->segments++;
	return slot;
}

/*
 * Starts the stream again from a count it can trust, taken with no write
 * in flight: pending units, of unknown origin but for the last remaining
 * of keep (its reference moves in), whose write returned just now and
 * overlapped none: the object's last bytes are its.
 */
static void ks_restart(struct ks_hb_stream_pool *pool,
		       struct ks_hb_stream *stream, uint64_t pending,
		       const struct ks_hb_segment *keep, uint64_t ts)
{
	uint64_t kept = keep ? ks_min_u64(pending, keep->units) : 0;
	struct ks_hb_segment tail;

	if (keep)
		tail = *keep;
	ks_clear(pool, stream);
	stream->desynced = false;
	pool->restarts++;
	if (pending > kept) {
		const struct ks_hb_segment unknown = {
			.ts = ts,
			.units = pending - kept,
			.unknown = true,
		};

		ks_push(pool, stream, &unknown);
	}
	if (!keep)
		return;
	tail.consumed = tail.units - kept;
	tail.grouped = false;
	tail.tainted = false;
	if (!kept || !ks_push(pool, stream, &tail))
		ks_vclock_put(pool->usage, tail.at.others);
}

static bool ks_find_writer(const struct ks_hb_stream *stream, uint64_t writer,
			   uint32_t *index)
{
	for (uint32_t i = stream->len; i-- > 0;) {
		const struct ks_hb_segment *seg = ks_seg(stream, i);

		if (seg->in_flight && seg->writer == writer) {
			*index = i;
			return true;
		}
	}
	return false;
}

void ks_hb_stream_forget_writer(struct ks_hb_stream_pool *pool,
				struct ks_hb_stream *stream, uint64_t writer)
{
	uint32_t i;

	if (ks_find_writer(stream, writer, &i)) {
		ks_seg_remove(pool, stream, i);
		stream->in_flight--;
	}
	ks_hb_stream_desync(pool, stream);
}

bool ks_hb_stream_returned(struct ks_hb_stream_pool *pool,
			   struct ks_hb_stream *stream, uint64_t writer,
			   int64_t written, uint32_t flags, uint64_t pending,
			   uint64_t ts)
{
	struct ks_hb_segment *seg, kept;
	uint64_t min, max;
	bool alone;
	uint32_t i;

	if (!ks_find_writer(stream, writer, &i)) {
		ks_hb_stream_desync(pool, stream);
		return false;
	}
	seg = ks_seg(stream, i);
	seg->in_flight = false;
	stream->in_flight--;
	/* No other write overlapped it, before or after. */
	alone = !seg->grouped && i + 1 == stream->len;
	if (written <= 0 || seg->consumed > (uint64_t)written) {
		/* Reads took bytes it never wrote: they were someone else's. */
		if (seg->consumed)
			ks_hb_stream_desync(pool, stream);
		ks_seg_remove(pool, stream, i);
		seg = NULL;
	} else {
		seg->units = (uint64_t)written;
	}
	if (!(flags & KS_HB_IO_COUNTED))
		return true;
	ks_bounds(stream, &min, &max);
	if (!stream->desynced && pending >= min && pending <= max)
		return true;
	ks_hb_stream_desync(pool, stream);
	if (stream->in_flight)
		return true;
	if (!seg || !alone) {
		ks_restart(pool, stream, pending, NULL, ts);
		return true;
	}
	/* Its reference moves to the restarted stream. */
	kept = *seg;
	seg->at.others = NULL;
	ks_restart(pool, stream, pending, &kept, ts);
	return true;
}

void ks_hb_stream_plan_read(const struct ks_hb_stream *stream, uint64_t units,
			    uint32_t flags, uint64_t pending,
			    struct ks_hb_stream_plan *plan)
{
	uint64_t left = units, known = 0, appending = 0, min, max;
	uint32_t i = 0;

	memset(plan, 0, sizeof(*plan));
	plan->exact = !(flags & KS_HB_IO_OVERLAPPED) &&
		      (flags & KS_HB_IO_COUNTED) && !stream->desynced;
	plan->desync = stream->desynced;
	while (!plan->desync && left && i < stream->len) {
		const struct ks_hb_segment *seg = ks_seg(stream, i);
		bool tainted = seg->tainted || seg->grouped;
		bool in_flight = seg->in_flight;
		uint64_t total = ks_remaining(seg), take;
		uint32_t j = i + 1;

		for (; j < stream->len && ks_seg(stream, j)->grouped; j++) {
			tainted |= ks_seg(stream, j)->tainted;
			in_flight |= ks_seg(stream, j)->in_flight;
			total += ks_remaining(ks_seg(stream, j));
		}
		if (in_flight && j - i > 1) {
			/* Writes still appending, in an order unknown. */
			plan->desync = true;
		} else if (in_flight) {
			/* Alone, hence last: whatever follows is its. */
			if (seg->asked && seg->consumed + left > seg->asked)
				plan->desync = true;
			plan->take[i] = left;
			appending = left;
			left = 0;
			i = j;
		} else {
			take = ks_min_u64(left, total);
			if (tainted || (j - i > 1 && take < total)) {
				plan->exact = false;
				plan->taint_begin = i;
				plan->taint_end = j;
			}
			known += take;
			left -= take;
			for (; i < j; i++) {
				seg = ks_seg(stream, i);
				plan->take[i] =
					ks_min_u64(take, ks_remaining(seg));
				take -= plan->take[i];
				if (seg->unknown && seg->ts > plan->unknown_ts)
					plan->unknown_ts = seg->ts;
			}
		}
	}
	plan->end = i;
	if (left)
		plan->desync = true; /* more than the stream knows of */
	if (plan->desync) {
		plan->exact = false;
		return;
	}
	if (!(flags & KS_HB_IO_COUNTED) || (flags & KS_HB_IO_OVERLAPPED))
		return;
	ks_bounds(stream, &min, &max);
	if (!(flags & KS_HB_IO_PEEK)) {
		min -= known;
		if (max != UINT64_MAX)
			max -= known + appending;
	}
	if (pending < min || pending > max) {
		plan->exact = false;
		plan->desync = true;
	}
}

void ks_hb_stream_consume(struct ks_hb_stream_pool *pool,
			  struct ks_hb_stream *stream, uint32_t flags,
			  uint64_t pending,
			  const struct ks_hb_stream_plan *plan, uint64_t ts)
{
	if (plan->desync) {
		ks_hb_stream_desync(pool, stream);
	} else if (!(flags & KS_HB_IO_PEEK)) {
		for (uint32_t i = 0; i < plan->end; i++)
			ks_seg(stream, i)->consumed += plan->take[i];
		for (uint32_t i = plan->taint_begin; i < plan->taint_end; i++)
			ks_seg(stream, i)->tainted = true;
		while (stream->len && !ks_seg(stream, 0)->in_flight &&
		       !ks_remaining(ks_seg(stream, 0))) {
			ks_seg_release(pool, ks_seg(stream, 0));
			stream->head = (stream->head + 1) % stream->capacity;
			stream->len--;
		}
	}
	if (stream->desynced && !(flags & KS_HB_IO_OVERLAPPED))
		ks_check_count(pool, stream, flags, pending, ts);
}
