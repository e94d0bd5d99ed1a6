/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A histogram of lock wait durations.  The bounds are decades from 10 us to
 * 10 s: lock waits span that whole range.
 */
#ifndef KS_WAIT_HIST_H
#define KS_WAIT_HIST_H

#include <stdint.h>

#include "base/histogram.h"

#define KS_WAIT_HIST_NR_BOUNDS 7

extern const struct ks_hist_scale ks_wait_hist_scale;

struct ks_wait_hist {
	struct ks_hist_summary summary;
	uint64_t buckets[KS_WAIT_HIST_NR_BOUNDS + 1];
};

void ks_wait_hist_record(struct ks_wait_hist *hist, uint64_t ns);

#endif /* KS_WAIT_HIST_H */
