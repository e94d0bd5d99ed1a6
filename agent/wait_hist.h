/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A fixed-bucket histogram of wait durations.  The bounds are decades from
 * 10 us to 10 s: lock waits span that whole range, and fixed bounds keep
 * every series of every process comparable, in OTLP and in Prometheus.
 */
#ifndef KS_WAIT_HIST_H
#define KS_WAIT_HIST_H

#include <stdint.h>

#define KS_WAIT_HIST_NR_BOUNDS 7

/* Upper bounds, in seconds: bucket i counts (bounds[i - 1], bounds[i]]. */
extern const double ks_wait_hist_bounds_s[KS_WAIT_HIST_NR_BOUNDS];

struct ks_wait_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t buckets[KS_WAIT_HIST_NR_BOUNDS + 1];
};

void ks_wait_hist_record(struct ks_wait_hist *hist, uint64_t ns);

#endif /* KS_WAIT_HIST_H */
