// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "model/wait_hist.h"

static const double ks_wait_hist_bounds_s[KS_WAIT_HIST_NR_BOUNDS] = {
	0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10,
};

static const uint64_t ks_wait_hist_bounds_ns[KS_WAIT_HIST_NR_BOUNDS] = {
	10000ull,     100000ull,     1000000ull,     10000000ull,
	100000000ull, 1000000000ull, 10000000000ull,
};

const struct ks_hist_scale ks_wait_hist_scale = {
	.nr_bounds = KS_WAIT_HIST_NR_BOUNDS,
	.bounds_ns = ks_wait_hist_bounds_ns,
	.bounds_s = ks_wait_hist_bounds_s,
};

void ks_wait_hist_record(struct ks_wait_hist *hist, uint64_t ns)
{
	ks_hist_add(&ks_wait_hist_scale, hist->buckets, &hist->summary, ns);
}
