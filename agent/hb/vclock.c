// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "hb/vclock.h"

struct ks_vclock *ks_vclock_new(struct ks_vclock_usage *usage,
				const struct ks_vclock_entry *entries,
				size_t len)
{
	struct ks_vclock *clock;

	if (len > UINT32_MAX)
		return NULL;
	clock = malloc(sizeof(*clock) + len * sizeof(clock->entries[0]));
	if (!clock)
		return NULL;
	clock->refs = 1;
	clock->len = (uint32_t)len;
	if (len)
		memcpy(clock->entries, entries, len * sizeof(entries[0]));
	if (usage) {
		usage->clocks++;
		usage->entries += len;
	}
	return clock;
}

struct ks_vclock *ks_vclock_get(struct ks_vclock *clock)
{
	if (clock)
		clock->refs++;
	return clock;
}

void ks_vclock_put(struct ks_vclock_usage *usage, struct ks_vclock *clock)
{
	if (!clock || --clock->refs)
		return;
	if (usage) {
		usage->clocks--;
		usage->entries -= clock->len;
	}
	free(clock);
}

/* Index of the first entry whose actor is not below actor. */
static size_t ks_vclock_lower_bound(const struct ks_vclock_entry *entries,
				    size_t len, uint64_t actor)
{
	size_t lo = 0, hi = len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (entries[mid].actor < actor)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t ks_vclock_count(const struct ks_vclock *clock, uint64_t actor)
{
	size_t i;

	if (!clock)
		return 0;
	i = ks_vclock_lower_bound(clock->entries, clock->len, actor);
	if (i < clock->len && clock->entries[i].actor == actor)
		return clock->entries[i].count;
	return 0;
}

size_t ks_vclock_join(struct ks_vclock_entry *out, const struct ks_vclock *a,
		      const struct ks_vclock *b, uint64_t exclude)
{
	const struct ks_vclock_entry *ea = a ? a->entries : NULL;
	const struct ks_vclock_entry *eb = b ? b->entries : NULL;
	size_t na = ks_vclock_len(a), nb = ks_vclock_len(b);
	size_t i = 0, j = 0, n = 0, at;

	while (i < na && j < nb) {
		if (ea[i].actor < eb[j].actor) {
			out[n++] = ea[i++];
		} else if (eb[j].actor < ea[i].actor) {
			out[n++] = eb[j++];
		} else {
			out[n] = ea[i++];
			if (eb[j].count > out[n].count)
				out[n].count = eb[j].count;
			n++;
			j++;
		}
	}
	/* One side is exhausted: the rest of the other follows as it is. */
	if (i < na)
		memcpy(&out[n], &ea[i], (na - i) * sizeof(out[0]));
	if (j < nb)
		memcpy(&out[n], &eb[j], (nb - j) * sizeof(out[0]));
	n += (na - i) + (nb - j);
	/* At most one entry to leave out: found once, not tested per entry. */
	at = ks_vclock_lower_bound(out, n, exclude);
	if (exclude && at < n && out[at].actor == exclude) {
		memmove(&out[at], &out[at + 1], (n - at - 1) * sizeof(out[0]));
		n--;
	}
	return n;
}

size_t ks_vclock_raise(struct ks_vclock_entry *entries, size_t len,
		       struct ks_vclock_entry entry)
{
	size_t i = ks_vclock_lower_bound(entries, len, entry.actor);

	if (i < len && entries[i].actor == entry.actor) {
		if (entry.count > entries[i].count)
			entries[i].count = entry.count;
		return len;
	}
	memmove(&entries[i + 1], &entries[i], (len - i) * sizeof(entries[0]));
	entries[i] = entry;
	return len + 1;
}

enum ks_vclock_order ks_vclock_compare(const struct ks_vclock *a,
				       const struct ks_vclock *b)
{
	const struct ks_vclock_entry *ea = a ? a->entries : NULL;
	const struct ks_vclock_entry *eb = b ? b->entries : NULL;
	size_t na = ks_vclock_len(a), nb = ks_vclock_len(b);
	size_t i = 0, j = 0;
	bool a_ahead = false, b_ahead = false;

	/* An entry only one side has is ahead of the other's implicit 0. */
	while ((i < na || j < nb) && !(a_ahead && b_ahead)) {
		if (j == nb || (i < na && ea[i].actor < eb[j].actor)) {
			a_ahead = true;
			i++;
		} else if (i == na || eb[j].actor < ea[i].actor) {
			b_ahead = true;
			j++;
		} else {
			a_ahead |= ea[i].count > eb[j].count;
			b_ahead |= eb[j].count > ea[i].count;
			i++;
			j++;
		}
	}
	if (a_ahead && b_ahead)
		return KS_VCLOCK_CONCURRENT;
	if (a_ahead)
		return KS_VCLOCK_AFTER;
	return b_ahead ? KS_VCLOCK_BEFORE : KS_VCLOCK_EQUAL;
}

bool ks_vclock_leq(const struct ks_vclock *a, const struct ks_vclock *b)
{
	enum ks_vclock_order order = ks_vclock_compare(a, b);

	return order == KS_VCLOCK_EQUAL || order == KS_VCLOCK_BEFORE;
}
