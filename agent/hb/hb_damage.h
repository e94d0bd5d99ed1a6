/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When the happens-before engine lost edges: an event that came too late
 * to be applied in timestamp order, one it had no memory to apply, records
 * the BPF ring buffer dropped.
 *
 * Every edge goes forward in time, so an edge lost at time d only hides,
 * from points after d, events at or before d.  Clocks only ever lose
 * knowledge this way, never gain false knowledge: "a before b" stays a sure
 * answer, and "a not before b" becomes unsure exactly when some lost time
 * d has a.ts <= d <= b.ts.  Hence a point's unknown_before includes the
 * latest lost time not after it.
 *
 * The times are kept as at most KS_HB_DAMAGE_SPANS disjoint spans; when
 * there would be more, the two closest merge, which only makes more
 * answers unsure.  Spans that end before every point anyone still holds
 * can be forgotten.
 */
#ifndef KS_HB_DAMAGE_H
#define KS_HB_DAMAGE_H

#include <stdbool.h>
#include <stdint.h>

#define KS_HB_DAMAGE_SPANS 32

struct ks_hb_damage_span {
	uint64_t lo, hi;
};

struct ks_hb_damage {
	/* One spare: an insertion may overfill before the merge. */
	struct ks_hb_damage_span spans[KS_HB_DAMAGE_SPANS + 1];
	unsigned int len;
	uint64_t forgotten; /* latest end of a forgotten span, or 0 */
};

/* Edges may have been lost at any time in [lo, hi]. */
void ks_hb_damage_add(struct ks_hb_damage *damage, uint64_t lo, uint64_t hi);
/* The latest time at or before ts when edges may have been lost, or 0. */
uint64_t ks_hb_damage_latest(const struct ks_hb_damage *damage, uint64_t ts);
bool ks_hb_damage_full(const struct ks_hb_damage *damage);
/*
 * Forgets the spans that end before oldest, the time of the oldest point
 * still held.  A point recorded later with a time at or before
 * damage->forgotten can no longer be answered for.
 */
void ks_hb_damage_forget(struct ks_hb_damage *damage, uint64_t oldest);

#endif /* KS_HB_DAMAGE_H */
