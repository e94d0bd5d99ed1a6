/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A seeded random sequence for tests and benchmarks: the same seed, the
 * same inputs, so a failure reproduces (splitmix64).
 */
#ifndef KS_TEST_RNG_H
#define KS_TEST_RNG_H

#include <stdint.h>

#include "base/mix64.h"

struct ks_rng {
	uint64_t state;
};

static inline uint64_t ks_rng_next(struct ks_rng *rng)
{
	return ks_mix64(rng->state += 0x9e3779b97f4a7c15ull);
}

/* Below n, n > 0; the modulo bias is immaterial for test inputs. */
static inline uint64_t ks_rng_below(struct ks_rng *rng, uint64_t n)
{
	return ks_rng_next(rng) % n;
}

#endif /* KS_TEST_RNG_H */
