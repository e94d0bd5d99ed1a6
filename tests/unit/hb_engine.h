/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the tests of the happens-before engine share: an engine that must
 * exist, its statistics, and an answer checked both ways round.
 */
#ifndef KS_TEST_HB_ENGINE_H
#define KS_TEST_HB_ENGINE_H

#include "unit.h"

#include "hb/hb.h"

/* Timestamps are microseconds apart: inside the default 1 ms window. */
#define US(n) ((uint64_t)(n)*1000)

static inline struct ks_hb *engine(const struct ks_hb_config *cfg)
{
	struct ks_hb *hb = ks_hb_new(cfg);

	assert_non_null(hb);
	return hb;
}

static inline struct ks_hb_stats stats_of(const struct ks_hb *hb)
{
	struct ks_hb_stats stats;

	ks_hb_get_stats(hb, &stats);
	return stats;
}

/* a and b in both directions: the two answers must mirror. */
static inline void assert_order(const struct ks_hb *hb, uint64_t a, uint64_t b,
				enum ks_hb_order expected)
{
	static const enum ks_hb_order mirror[] = {
		[KS_HB_UNKNOWN] = KS_HB_UNKNOWN,
		[KS_HB_BEFORE] = KS_HB_AFTER,
		[KS_HB_AFTER] = KS_HB_BEFORE,
		[KS_HB_CONCURRENT] = KS_HB_CONCURRENT,
		[KS_HB_EQUAL] = KS_HB_EQUAL,
	};

	assert_string_equal(ks_hb_order_name(ks_hb_order(hb, a, b)),
			    ks_hb_order_name(expected));
	assert_string_equal(ks_hb_order_name(ks_hb_order(hb, b, a)),
			    ks_hb_order_name(mirror[expected]));
}

#endif /* KS_TEST_HB_ENGINE_H */
