/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hold-back buffer in front of the happens-before engine: events wait
 * here, sorted by timestamp, until no earlier event can still arrive.
 *
 * Records from one BPF ring buffer come in reservation order, but each
 * carries a timestamp taken before its reservation, so a record can be
 * older than the one consumed before it: a futex waiter's return can come
 * before the wake that caused it.  Applying the return first would merge a
 * clock that does not hold the wake yet, and the edge would be lost.
 * Sorted by timestamp, every release (stamped before it takes effect) comes
 * before the acquires it enables (stamped after they complete).
 *
 * Input is almost sorted, so insertion walks back from the tail and almost
 * always stops at once: O(1) in the common case, O(distance) otherwise.
 * Events of equal timestamps keep their arrival order.
 */
#ifndef KS_HB_HOLDBACK_H
#define KS_HB_HOLDBACK_H

#include <stddef.h>
#include <stdint.h>

enum ks_hb_event_kind {
	KS_HB_EV_RELEASE,
	KS_HB_EV_ACQUIRE,
	KS_HB_EV_SYNC_GONE,
	KS_HB_EV_FORK,
	KS_HB_EV_WAKEUP,
	KS_HB_EV_EXIT,
	KS_HB_EV_JOINED,
	KS_HB_EV_REAPED,
	KS_HB_EV_STAMP,
	KS_HB_EV_STREAM_WRITE,
	KS_HB_EV_STREAM_WROTE,
	KS_HB_EV_STREAM_READ,
	KS_HB_EV_STREAM_COUNT,
};

struct ks_hb_event {
	uint64_t ts; /* monotonic ns */
	uint64_t thread; /* whose event it is (unused by SYNC_GONE) */
	uint64_t target; /* sync object, other thread, process or stamp */
	uint32_t kind; /* enum ks_hb_event_kind */
	uint32_t sync_kind; /* the namespace of a sync object target */
	/* Streams: units asked, written or read; the object's count after. */
	int64_t units;
	uint64_t pending;
	uint64_t tag; /* a stream write's */
	uint32_t flags; /* KS_HB_IO_* */
	uint32_t _pad0;
};

struct ks_hb_holdback {
	struct ks_hb_event *ring;
	size_t mask; /* ring size - 1: a power of two */
	size_t head;
	size_t len;
};

/* Room for capacity events at least.  -ENOMEM. */
int ks_hb_holdback_init(struct ks_hb_holdback *hold, size_t capacity);
void ks_hb_holdback_destroy(struct ks_hb_holdback *hold);

size_t ks_hb_holdback_len(const struct ks_hb_holdback *hold);
/* The caller keeps len below the capacity asked for at init. */
void ks_hb_holdback_insert(struct ks_hb_holdback *hold,
			   const struct ks_hb_event *event);
/* The earliest event, NULL when empty. */
const struct ks_hb_event *
ks_hb_holdback_first(const struct ks_hb_holdback *hold);
void ks_hb_holdback_pop(struct ks_hb_holdback *hold, struct ks_hb_event *event);

#endif /* KS_HB_HOLDBACK_H */
