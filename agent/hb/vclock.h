/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sparse vector clocks (Fidge 1988, Mattern 1989): for each actor, how many
 * of its events are known.  Only nonzero components are stored, sorted by
 * actor, so a clock costs what its thread has actually heard of, and a
 * join is one linear merge.
 *
 * Clocks are reference counted and never change once a second reference
 * exists: a thread's clock, the sync objects it released and the points it
 * recorded all share one copy until the thread learns something new.  That
 * sharing is what makes a release and a recorded point O(1).
 *
 * The order is the product order: a <= b when every component of a is at
 * most that of b (absent components are 0).  Join is the componentwise
 * maximum, the least upper bound of that order.
 */
#ifndef KS_VCLOCK_H
#define KS_VCLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Actor 0 names no actor: callers use it for "none". */
struct ks_vclock_entry {
	uint64_t actor;
	uint64_t count;
};

struct ks_vclock {
	uint32_t refs;
	uint32_t len;
	struct ks_vclock_entry entries[]; /* ascending actors, counts > 0 */
};

/* What the clocks alive right now hold, for memory accounting. */
struct ks_vclock_usage {
	uint64_t clocks;
	uint64_t entries;
};

enum ks_vclock_order {
	KS_VCLOCK_EQUAL,
	KS_VCLOCK_BEFORE, /* a < b */
	KS_VCLOCK_AFTER, /* a > b */
	KS_VCLOCK_CONCURRENT, /* neither: incomparable */
};

/*
 * A clock holding a copy of entries[0..len), which must be ascending by
 * actor with nonzero counts.  usage may be NULL.  NULL without memory.
 */
struct ks_vclock *ks_vclock_new(struct ks_vclock_usage *usage,
				const struct ks_vclock_entry *entries,
				size_t len);
/* Another reference to clock (NULL stays NULL). */
struct ks_vclock *ks_vclock_get(struct ks_vclock *clock);
/* Drops a reference; the last one frees the clock.  NULL is fine. */
void ks_vclock_put(struct ks_vclock_usage *usage, struct ks_vclock *clock);

/* In all that follows, a NULL clock is the bottom: every component 0. */
static inline size_t ks_vclock_len(const struct ks_vclock *clock)
{
	return clock ? clock->len : 0;
}

uint64_t ks_vclock_count(const struct ks_vclock *clock, uint64_t actor);

/*
 * Writes the join of a and b to out, which has room for len(a) + len(b)
 * entries, leaving out actor exclude (0 leaves out nothing).  Returns the
 * number of entries written.
 */
size_t ks_vclock_join(struct ks_vclock_entry *out, const struct ks_vclock *a,
		      const struct ks_vclock *b, uint64_t exclude);
/*
 * Joins one component into entries[0..len), which must have room for one
 * more: the count of entry.actor becomes the larger of the two.  Returns
 * the new length.
 */
size_t ks_vclock_raise(struct ks_vclock_entry *entries, size_t len,
		       struct ks_vclock_entry entry);

bool ks_vclock_leq(const struct ks_vclock *a, const struct ks_vclock *b);
enum ks_vclock_order ks_vclock_compare(const struct ks_vclock *a,
				       const struct ks_vclock *b);

#endif /* KS_VCLOCK_H */
