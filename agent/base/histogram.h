/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Histograms of durations over fixed bucket bounds: fixed, so that every
 * series of every process stays comparable, in OTLP and in Prometheus.
 */
#ifndef KS_HISTOGRAM_H
#define KS_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

struct ks_hist_scale {
	size_t nr_bounds;
	const uint64_t *bounds_ns; /* ascending upper bounds */
	const double *bounds_s; /* the same in seconds, as OTLP carries them */
};

struct ks_hist_summary {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
};

/*
 * Counts ns in buckets (nr_bounds + 1 of them: bucket i counts values in
 * (bounds[i - 1], bounds[i]], the last one the rest) and in summary.
 */
void ks_hist_add(const struct ks_hist_scale *scale, uint64_t *buckets,
		 struct ks_hist_summary *summary, uint64_t ns);

#endif /* KS_HISTOGRAM_H */
