// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>

#include "base/grow.h"

size_t ks_doubled(size_t cap, size_t n)
{
	cap = cap ? cap : 64;
	while (cap < n)
		cap *= 2;
	return cap;
}

int ks_grow(void *field_ptr, size_t elem_size, size_t cap)
{
	void **field = field_ptr;
	void *grown = realloc(*field, cap * elem_size);

	if (!grown)
		return -1;
	*field = grown;
	return 0;
}

int ks_reserve(void *field_ptr, size_t *cap, size_t elem_size, size_t n)
{
	size_t grown_cap;

	if (n <= *cap)
		return 0;
	grown_cap = ks_doubled(*cap, n);
	if (ks_grow(field_ptr, elem_size, grown_cap))
		return -1;
	*cap = grown_cap;
	return 0;
}
