/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Detector callbacks that do nothing, for tests of what feeds the model
 * rather than of what the detector reports.
 */
#ifndef KS_TEST_INERT_DETECTOR_H
#define KS_TEST_INERT_DETECTOR_H

#include "detect/detector.h"

static inline void inert_refresh(void *ctx, struct ks_thread *thread)
{
}

static inline bool inert_verify(void *ctx, const struct ks_table *table,
				const struct ks_thread *thread,
				const struct ks_wait_target *target)
{
	return false;
}

static inline void inert_report(void *ctx, const struct ks_deadlock *deadlock)
{
}

static const struct ks_detector_ops inert_detector_ops = {
	inert_refresh,
	inert_verify,
	inert_report,
};

#endif /* KS_TEST_INERT_DETECTOR_H */
