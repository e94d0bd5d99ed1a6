/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * FNV-1a, 64-bit (Fowler, Noll and Vo): a hash of bytes in a line of code,
 * for identities that must be stable (a deadlock's id across ticks) and for
 * hash tables keyed by a few fields.  Not for anything an attacker may aim
 * at a table with: it is not keyed.
 */
#ifndef KS_HASH_H
#define KS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define KS_FNV1A_INIT 0xcbf29ce484222325ull

/* hash continued over len bytes at data; start from KS_FNV1A_INIT. */
static inline uint64_t ks_fnv1a(uint64_t hash, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

#endif /* KS_HASH_H */
