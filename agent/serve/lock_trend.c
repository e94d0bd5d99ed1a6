// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "serve/lock_trend.h"

void ks_lock_trend_add(struct ks_lock_trend *trend, uint64_t end_ns,
		       uint64_t waited_ns)
{
	uint64_t bucket = ks_lock_trend_bucket(end_ns);
	size_t slot;

	if (bucket > trend->newest) {
		/* The buckets in between saw nothing. */
		uint64_t gap = bucket - trend->newest;

		if (!trend->newest || gap >= KS_LOCK_TREND_BUCKETS) {
			memset(trend->waits, 0, sizeof(trend->waits));
			memset(trend->wait_ns, 0, sizeof(trend->wait_ns));
		} else {
			for (uint64_t b = trend->newest + 1; b <= bucket; b++) {
				slot = b % KS_LOCK_TREND_BUCKETS;
				trend->waits[slot] = 0;
				trend->wait_ns[slot] = 0;
			}
		}
		trend->newest = bucket;
	} else if (trend->newest - bucket >= KS_LOCK_TREND_BUCKETS) {
		return;
	}
	slot = bucket % KS_LOCK_TREND_BUCKETS;
	trend->waits[slot]++;
	trend->wait_ns[slot] += waited_ns;
}

uint64_t ks_lock_trend_read(const struct ks_lock_trend *trend, uint64_t now_ns,
			    uint32_t waits[KS_LOCK_TREND_BUCKETS],
			    uint64_t wait_ns[KS_LOCK_TREND_BUCKETS])
{
	uint64_t now = ks_lock_trend_bucket(now_ns), total = 0;

	for (size_t i = 0; i < KS_LOCK_TREND_BUCKETS; i++) {
		uint64_t bucket = now - (KS_LOCK_TREND_BUCKETS - 1) + i;
		/* Written, and not overwritten by a later one since. */
		int held = trend->newest && bucket <= trend->newest &&
			   trend->newest - bucket < KS_LOCK_TREND_BUCKETS &&
			   bucket + KS_LOCK_TREND_BUCKETS > now;
		size_t slot = bucket % KS_LOCK_TREND_BUCKETS;

		if (waits)
			waits[i] = held ? trend->waits[slot] : 0;
		if (wait_ns)
			wait_ns[i] = held ? trend->wait_ns[slot] : 0;
		total += held ? trend->wait_ns[slot] : 0;
	}
	return total;
}
