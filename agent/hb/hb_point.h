/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A recorded point of one thread (a span start, say) and how two points
 * are ordered: the answer the happens-before engine gives, and the same
 * answer recomputed by anyone holding two exported encodings.
 *
 * A point is the event (actor, count): the count-th recorded event of its
 * actor.  Its clock says how many events of every other actor happened
 * before it.  As in FastTrack (Flanagan and Freund, PLDI 2009), a happened
 * before b exactly when b's clock has a's actor at a.count or more: only
 * one component of each side is ever read.
 *
 * Clocks are bounded, so some lose components; they then only bound the
 * truth from below.  unknown_before says where: components of events at or
 * before that time (monotonic ns) may be missing.  A component that is
 * present is never above the truth, so "a before b" is a sure answer, and
 * "a not before b" is sure only when a is later than b.unknown_before;
 * otherwise the answer is KS_HB_UNKNOWN, never a guess.
 *
 * One thing can make a component too high: a sync object's "gone" that
 * arrived after the new object under its id was already used (see hb.h).
 * doubtful_before says where: "a before b" is then sure only when a is
 * later than b.doubtful_before.
 */
#ifndef KS_HB_POINT_H
#define KS_HB_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "hb/vclock.h"

enum ks_hb_order {
	KS_HB_UNKNOWN = 0, /* cannot tell: history was lost or expired */
	KS_HB_BEFORE, /* a happened before b */
	KS_HB_AFTER, /* b happened before a */
	KS_HB_CONCURRENT, /* neither */
	KS_HB_EQUAL, /* the same point */
};

/* Actors are named by (slot, generation), unique for an engine's life. */
#define KS_HB_ACTOR(slot, gen) (((uint64_t)(slot) << 32) | (uint32_t)(gen))
#define KS_HB_ACTOR_SLOT(actor) ((uint32_t)((actor) >> 32))
#define KS_HB_ACTOR_GEN(actor) ((uint32_t)(actor))

struct ks_hb_point {
	uint64_t ts; /* when it was recorded, monotonic ns */
	uint64_t actor;
	uint64_t count;
	uint64_t lamport; /* a before b implies lamport(a) < lamport(b) */
	uint64_t unknown_before; /* 0: no component is missing */
	uint64_t doubtful_before; /* 0: no component is too high */
	const struct ks_vclock *clock; /* other actors: never has actor */
};

const char *ks_hb_order_name(enum ks_hb_order order);

enum ks_hb_order ks_hb_point_order(const struct ks_hb_point *a,
				   const struct ks_hb_point *b);

/*
 * The text encoding, for a span attribute.  It is base64url (RFC 4648
 * section 5, no padding) of these bytes, each number an unsigned LEB128
 * varint:
 *
 *   version (the byte 1)
 *   ts
 *   slot, generation, count                     the point's own event
 *   lamport
 *   unknown: 0 if none, else ts - unknown_before + 1
 *   doubtful: 0 if none, else ts - doubtful_before + 1
 *   n                                           number of entries
 *   n times: slot - previous slot (the first: slot), generation, count
 *
 * Entries are in ascending (slot, generation) order, counts nonzero, so an
 * encoding is deterministic: equal points encode equally.  unknown_before
 * and doubtful_before are encoded clamped to ts: a point only ever knows
 * of events no later than itself, so nothing later can be missing from it
 * or be wrongly in it.
 *
 * Writes at most size bytes with a terminating NUL; returns the length the
 * whole encoding needs (without the NUL), as snprintf does.
 */
size_t ks_hb_point_encode(const struct ks_hb_point *point, char *text,
			  size_t size);

/*
 * Decodes text into point.  point->clock is *clock, a new clock the caller
 * owns: ks_vclock_put(NULL, *clock).  -EINVAL for anything that is not an
 * encoding of this version, -ENOMEM.
 */
int ks_hb_point_decode(const char *text, struct ks_hb_point *point,
		       struct ks_vclock **clock);

#endif /* KS_HB_POINT_H */
