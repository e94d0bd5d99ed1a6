// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "wait_hist.h"

const double ks_wait_hist_bounds_s[KS_WAIT_HIST_NR_BOUNDS] = {
	0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10,
};

static const uint64_t ks_wait_hist_bounds_ns[KS_WAIT_HIST_NR_BOUNDS] = {
	10000ull,     100000ull,     1000000ull,     10000000ull,
	100000000ull, 1000000000ull, 10000000000ull,
};

void ks_wait_hist_record(struct ks_wait_hist *hist, uint64_t ns)
{
	unsigned int bucket = 0;

	while (bucket < KS_WAIT_HIST_NR_BOUNDS &&
	       ns > ks_wait_hist_bounds_ns[bucket])
		bucket++;
	hist->buckets[bucket]++;
	if (!hist->count || ns < hist->min_ns)
		hist->min_ns = ns;
	if (ns > hist->max_ns)
		hist->max_ns = ns;
	hist->count++;
	hist->sum_ns += ns;
}
