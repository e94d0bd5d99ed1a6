/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the engine forgot to stay bounded, and up to when: a sync object
 * evicted with releases in it, a thread evicted with its history.  When the
 * key comes back, whatever learns from it is told that knowledge of events
 * up to that time may be missing, instead of being told nothing happened.
 *
 * Direct-mapped by a hash of the key, each slot keeping the latest time of
 * every key that fell there: a collision can only make the answer later,
 * which only makes more answers unsure, never wrong.
 */
#ifndef KS_HB_FORGOTTEN_H
#define KS_HB_FORGOTTEN_H

#include <stdint.h>

#include "base/mix64.h"

#define KS_HB_FORGOTTEN_SLOTS 4096

struct ks_hb_forgotten {
	uint64_t until[KS_HB_FORGOTTEN_SLOTS];
};

static inline void ks_hb_forgotten_note(struct ks_hb_forgotten *forgotten,
					uint64_t key, uint64_t ts)
{
	uint64_t *until =
		&forgotten->until[ks_mix64(key) % KS_HB_FORGOTTEN_SLOTS];

	if (ts > *until)
		*until = ts;
}

/* 0 when nothing under this key (or its slot) was ever forgotten. */
static inline uint64_t
ks_hb_forgotten_until(const struct ks_hb_forgotten *forgotten, uint64_t key)
{
	return forgotten->until[ks_mix64(key) % KS_HB_FORGOTTEN_SLOTS];
}

#endif /* KS_HB_FORGOTTEN_H */
