/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A 64-bit integer mix, the finalizer of splitmix64 (Steele, Lea and Flood,
 * OOPSLA 2014): close keys land far apart, for hash tables keyed by
 * integers and for seeded test inputs.
 */
#ifndef KS_MIX64_H
#define KS_MIX64_H

#include <stdint.h>

static inline uint64_t ks_mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif /* KS_MIX64_H */
