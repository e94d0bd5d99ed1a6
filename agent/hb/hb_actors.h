/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The threads the happens-before engine knows, and the ids clocks name
 * them by.
 *
 * An id is (slot, generation).  A thread takes a free slot when first seen;
 * when it is gone (exited, or evicted to stay bounded) and no recorded
 * point of it is still held, the id is collected: the slot's generation
 * moves on and the slot is free again.  So the slot array stays as large
 * as the most ids uncollected at once, however many threads come and go.
 *
 * Which components a question can read: a happens-before question names
 * two held points, and reads one component of each side's clock, that of
 * the other point's actor, comparing it with that point's count.  A point
 * taken later has a count above anything already known of its actor.  So a
 * component (Y, d) can only matter while a point of Y is held: for an
 * actor with none (collected, or live but unasked), components already in
 * clocks may be removed, and knowledge of it need not be learnt, without
 * changing any answer of the engine's.  Only an exported point, which a
 * reader may compare with an older exported one, must say so.
 *
 * A slot whose generation would wrap is never used again, so an id names
 * one thread for the engine's whole life.
 */
#ifndef KS_HB_ACTORS_H
#define KS_HB_ACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "hb/hb_forgotten.h"
#include "hb/hb_point.h"
#include "hb/hb_time.h"
#include "hb/vclock.h"

/* Writes a stream read learnt that a point right after it links to. */
#define KS_HB_SOURCES 4

struct ks_hb_actor {
	uint64_t key; /* the caller's: host tid and start time */
	struct ks_hb_time now; /* now.actor is this actor's id */
	/*
	 * Wakeups it received, taken at its first event after them: the
	 * waker's record and the wakee's own may come in either order.
	 */
	struct ks_hb_time inbox;
	uint64_t inbox_first_ts, inbox_last_ts; /* both 0: empty */
	uint64_t last_ts; /* its latest applied event */
	/* A stream it entered a write into, 0: none; its return comes next. */
	uint64_t writing;
	/* The tags of the writes its latest stream read learnt, at sources_ts. */
	uint64_t sources[KS_HB_SOURCES];
	uint32_t nr_sources;
	uint64_t sources_ts;
	struct ks_hb_actor *prev, *next; /* least recently active first */
	UT_hash_handle hh;
};

enum ks_hb_actor_state {
	KS_HB_ACTOR_COLLECTED, /* gone, no point held: moot for good */
	KS_HB_ACTOR_UNASKED, /* no point held now: what is known is moot */
	KS_HB_ACTOR_GONE, /* no more events, but points of it are held */
	KS_HB_ACTOR_LIVE, /* points of it are held */
};

struct ks_hb_actor_slot {
	uint32_t gen;
	uint32_t holds; /* points of this id held */
	bool live;
};

struct ks_hb_actors {
	struct ks_hb_actor *by_key;
	struct ks_hb_actor *lru;
	struct ks_hb_actor_slot *slots;
	uint32_t nr_slots, slots_capacity;
	uint32_t *free_slots; /* a stack: reuse keeps slot numbers small */
	uint32_t nr_free;
	size_t nr_live, nr_gone;
	uint64_t created, collected, evicted;
	struct ks_vclock_usage *usage;
	struct ks_hb_forgotten forgotten; /* evicted keys */
};

void ks_hb_actors_init(struct ks_hb_actors *actors,
		       struct ks_vclock_usage *usage);
void ks_hb_actors_destroy(struct ks_hb_actors *actors);

struct ks_hb_actor *ks_hb_actors_find(const struct ks_hb_actors *actors,
				      uint64_t key);
/* A new live actor with a fresh id and nothing known; NULL without memory. */
struct ks_hb_actor *ks_hb_actors_add(struct ks_hb_actors *actors, uint64_t key);
/* It had an event: it becomes the most recently active. */
void ks_hb_actors_touch(struct ks_hb_actors *actors, struct ks_hb_actor *actor);
struct ks_hb_actor *
ks_hb_actors_least_recent(const struct ks_hb_actors *actors);
/* No more events will come: frees actor; its id waits for its points. */
void ks_hb_actors_retire(struct ks_hb_actors *actors,
			 struct ks_hb_actor *actor);

/*
 * Retires actor to stay bounded, remembering that its key's history is
 * lost up to until (no later than what it knew) if the key comes back.
 */
void ks_hb_actors_evict(struct ks_hb_actors *actors, struct ks_hb_actor *actor,
			uint64_t until);
/* When history of this key (or a colliding one) was lost, or 0. */
uint64_t ks_hb_actors_forgotten(const struct ks_hb_actors *actors,
				uint64_t key);

/* Inline: the engine asks for every component it may trim or skip. */
static inline enum ks_hb_actor_state
ks_hb_actors_state(const struct ks_hb_actors *actors, uint64_t id)
{
	const struct ks_hb_actor_slot *slot =
		&actors->slots[KS_HB_ACTOR_SLOT(id)];

	if (slot->gen != KS_HB_ACTOR_GEN(id))
		return KS_HB_ACTOR_COLLECTED;
	if (!slot->holds)
		return KS_HB_ACTOR_UNASKED;
	return slot->live ? KS_HB_ACTOR_LIVE : KS_HB_ACTOR_GONE;
}
/* A point of a live or gone id is held, or no longer held. */
void ks_hb_actors_hold(struct ks_hb_actors *actors, uint64_t id);
void ks_hb_actors_unhold(struct ks_hb_actors *actors, uint64_t id);

#endif /* KS_HB_ACTORS_H */
