/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Arrays that grow by doubling: scratch the agent reuses from one tick to
 * the next, never shrunk.
 */
#ifndef KS_GROW_H
#define KS_GROW_H

#include <stddef.h>

/* The capacity, doubled from cap (64 at first), that holds n. */
size_t ks_doubled(size_t cap, size_t n);

/*
 * field_ptr: the address of an array pointer; reallocates that array to
 * cap elements of elem_size.  0, or -1 with the array left as it was.
 */
int ks_grow(void *field_ptr, size_t elem_size, size_t cap);

/* Grows the array at field_ptr, of *cap elements, to hold n; 0 or -1. */
int ks_reserve(void *field_ptr, size_t *cap, size_t elem_size, size_t n);

#endif /* KS_GROW_H */
