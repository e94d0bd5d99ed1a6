// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "base/histogram.h"

void ks_hist_add(const struct ks_hist_scale *scale, uint64_t *buckets,
		 struct ks_hist_summary *summary, uint64_t ns)
{
	size_t bucket = 0;

	while (bucket < scale->nr_bounds && ns > scale->bounds_ns[bucket])
		bucket++;
	buckets[bucket]++;
	if (!summary->count || ns < summary->min_ns)
		summary->min_ns = ns;
	if (ns > summary->max_ns)
		summary->max_ns = ns;
	summary->count++;
	summary->sum_ns += ns;
}
