// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "hb/hb_damage.h"

static void ks_hb_damage_remove(struct ks_hb_damage *damage, unsigned int i)
{
	memmove(&damage->spans[i], &damage->spans[i + 1],
		(damage->len - i - 1) * sizeof(damage->spans[0]));
	damage->len--;
}

/* Spans i and i + 1 become one covering both and the gap between. */
static void ks_hb_damage_merge_next(struct ks_hb_damage *damage, unsigned int i)
{
	if (damage->spans[i + 1].hi > damage->spans[i].hi)
		damage->spans[i].hi = damage->spans[i + 1].hi;
	ks_hb_damage_remove(damage, i + 1);
}

void ks_hb_damage_add(struct ks_hb_damage *damage, uint64_t lo, uint64_t hi)
{
	unsigned int at = damage->len;

	while (at && damage->spans[at - 1].lo > lo)
		at--;
	memmove(&damage->spans[at + 1], &damage->spans[at],
		(damage->len - at) * sizeof(damage->spans[0]));
	damage->spans[at] = (struct ks_hb_damage_span){ .lo = lo, .hi = hi };
	damage->len++;
	/* Keep them disjoint: overlaps with the neighbours become one. */
	if (at && damage->spans[at - 1].hi >= lo)
		ks_hb_damage_merge_next(damage, --at);
	while (at + 1 < damage->len &&
	       damage->spans[at + 1].lo <= damage->spans[at].hi)
		ks_hb_damage_merge_next(damage, at);
	if (damage->len > KS_HB_DAMAGE_SPANS) {
		unsigned int closest = 0;

		for (unsigned int i = 1; i + 1 < damage->len; i++)
			if (damage->spans[i + 1].lo - damage->spans[i].hi <
			    damage->spans[closest + 1].lo -
				    damage->spans[closest].hi)
				closest = i;
		ks_hb_damage_merge_next(damage, closest);
	}
}

uint64_t ks_hb_damage_latest(const struct ks_hb_damage *damage, uint64_t ts)
{
	for (unsigned int i = damage->len; i--;)
		if (damage->spans[i].lo <= ts)
			return damage->spans[i].hi < ts ? damage->spans[i].hi :
							  ts;
	return 0;
}

bool ks_hb_damage_full(const struct ks_hb_damage *damage)
{
	return damage->len >= KS_HB_DAMAGE_SPANS;
}

void ks_hb_damage_forget(struct ks_hb_damage *damage, uint64_t oldest)
{
	while (damage->len && damage->spans[0].hi < oldest) {
		if (damage->spans[0].hi > damage->forgotten)
			damage->forgotten = damage->spans[0].hi;
		ks_hb_damage_remove(damage, 0);
	}
}
