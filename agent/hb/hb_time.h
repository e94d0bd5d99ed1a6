/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What one place knows at one instant: a thread now, a sync object after
 * the releases it received, a recorded point.
 *
 * The clock of other actors is shared and immutable; (actor, count), the
 * place's own latest event, is kept beside it so that a thread's ticks
 * never copy the clock.  A thread's clock never holds its own actor.  A
 * sync object holding one release is that releaser's time; one holding
 * releases no single one of them covers keeps them all in the clock and
 * has actor 0.
 */
#ifndef KS_HB_TIME_H
#define KS_HB_TIME_H

#include <stdint.h>

#include "hb/vclock.h"

struct ks_hb_time {
	struct ks_vclock *others;
	uint64_t actor; /* 0: none */
	uint64_t count;
	uint64_t lamport;
	/*
	 * Components may be missing for events at or before lost_before
	 * (monotonic ns; 0: none missing): a clock over its bound, a late or
	 * lost edge, an evicted sync object.
	 */
	uint64_t lost_before;
	/*
	 * Components no held point could need were removed or not learnt
	 * (hb_actors.h), the latest at pruned_before.  The engine's answers
	 * never read them, but a reader of exported points might.
	 */
	uint64_t pruned_before;
};

static inline uint64_t ks_hb_time_count(const struct ks_hb_time *time,
					uint64_t actor)
{
	return actor == time->actor ? time->count :
				      ks_vclock_count(time->others, actor);
}

#endif /* KS_HB_TIME_H */
