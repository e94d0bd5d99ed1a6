/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One lock's contention over the last hour: waits that ended, and their
 * time, in 20-second buckets of CLOCK_MONOTONIC, a ring that forgets
 * what is older.  A fixed 2 KiB per lock: the dashboard draws it.
 */
#ifndef KS_LOCK_TREND_H
#define KS_LOCK_TREND_H

#include <stdint.h>

#define KS_LOCK_TREND_BUCKET_S 20
#define KS_LOCK_TREND_BUCKETS 180 /* an hour */

struct ks_lock_trend {
	/* The latest bucket written (mono_ns / bucket), 0: none yet. */
	uint64_t newest;
	uint32_t waits[KS_LOCK_TREND_BUCKETS];
	uint64_t wait_ns[KS_LOCK_TREND_BUCKETS];
};

/* The bucket that time falls in. */
static inline uint64_t ks_lock_trend_bucket(uint64_t mono_ns)
{
	return mono_ns / (KS_LOCK_TREND_BUCKET_S * 1000000000ull);
}

/* A wait that ended at end_ns after waited_ns; older than an hour: none. */
void ks_lock_trend_add(struct ks_lock_trend *trend, uint64_t end_ns,
		       uint64_t waited_ns);

/*
 * The hour up to now, oldest bucket first, ending with now's (whose
 * bucket has not ended yet); either output may be NULL.  Returns the
 * wait time of the whole hour.
 */
uint64_t ks_lock_trend_read(const struct ks_lock_trend *trend, uint64_t now_ns,
			    uint32_t waits[KS_LOCK_TREND_BUCKETS],
			    uint64_t wait_ns[KS_LOCK_TREND_BUCKETS]);

#endif /* KS_LOCK_TREND_H */
