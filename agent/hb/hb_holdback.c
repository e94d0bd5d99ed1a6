// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "hb/hb_holdback.h"

int ks_hb_holdback_init(struct ks_hb_holdback *hold, size_t capacity)
{
	size_t size = 1;

	while (size < capacity)
		size *= 2;
	hold->ring = calloc(size, sizeof(*hold->ring));
	if (!hold->ring)
		return -ENOMEM;
	hold->mask = size - 1;
	hold->head = 0;
	hold->len = 0;
	return 0;
}

void ks_hb_holdback_destroy(struct ks_hb_holdback *hold)
{
	free(hold->ring);
	hold->ring = NULL;
}

size_t ks_hb_holdback_len(const struct ks_hb_holdback *hold)
{
	return hold->len;
}

void ks_hb_holdback_insert(struct ks_hb_holdback *hold,
			   const struct ks_hb_event *event)
{
	size_t at = hold->len;

	while (at) {
		const struct ks_hb_event *before =
			&hold->ring[(hold->head + at - 1) & hold->mask];

		if (before->ts <= event->ts)
			break;
		hold->ring[(hold->head + at) & hold->mask] = *before;
		at--;
	}
	hold->ring[(hold->head + at) & hold->mask] = *event;
	hold->len++;
}

const struct ks_hb_event *
ks_hb_holdback_first(const struct ks_hb_holdback *hold)
{
	return hold->len ? &hold->ring[hold->head] : NULL;
}

void ks_hb_holdback_pop(struct ks_hb_holdback *hold, struct ks_hb_event *event)
{
	*event = hold->ring[hold->head];
	hold->head = (hold->head + 1) & hold->mask;
	hold->len--;
}
