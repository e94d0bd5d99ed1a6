// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/mix64.h"

/*
 * Keys are 64-bit thread keys: one multiply-and-shift mix spreads them as
 * well as uthash's byte-wise default, at a fraction of the cost.
 */
#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = (unsigned int)ks_mix64(*(const uint64_t *)(keyptr)))

#include <uthash.h>
#include <utlist.h>

#include "hb/hb_actors.h"

void ks_hb_actors_init(struct ks_hb_actors *actors,
		       struct ks_vclock_usage *usage)
{
	memset(actors, 0, sizeof(*actors));
	actors->usage = usage;
}

static void ks_hb_actor_free(struct ks_hb_actors *actors,
			     struct ks_hb_actor *actor)
{
	ks_vclock_put(actors->usage, actor->now.others);
	ks_vclock_put(actors->usage, actor->inbox.others);
	free(actor);
}

void ks_hb_actors_destroy(struct ks_hb_actors *actors)
{
	struct ks_hb_actor *actor, *tmp;

	HASH_ITER(hh, actors->by_key, actor, tmp) {
		HASH_DEL(actors->by_key, actor);
		ks_hb_actor_free(actors, actor);
	}
	free(actors->slots);
	free(actors->free_slots);
	memset(actors, 0, sizeof(*actors));
}

struct ks_hb_actor *ks_hb_actors_find(const struct ks_hb_actors *actors,
				      uint64_t key)
{
	struct ks_hb_actor *actor;

	HASH_FIND(hh, actors->by_key, &key, sizeof(key), actor);
	return actor;
}

static bool ks_hb_actors_grow(struct ks_hb_actors *actors)
{
	uint32_t capacity =
		actors->slots_capacity ? 2 * actors->slots_capacity : 64;
	struct ks_hb_actor_slot *slots;
	uint32_t *free_slots;

	if (capacity <= actors->slots_capacity)
		return false;
	slots = realloc(actors->slots, capacity * sizeof(*slots));
	if (!slots)
		return false;
	actors->slots = slots;
	free_slots =
		realloc(actors->free_slots, capacity * sizeof(*free_slots));
	if (!free_slots)
		return false;
	actors->free_slots = free_slots;
	actors->slots_capacity = capacity;
	return true;
}

/* A slot for a new id, or UINT32_MAX without memory. */
static uint32_t ks_hb_actors_take_slot(struct ks_hb_actors *actors)
{
	uint32_t slot;

	if (actors->nr_free)
		return actors->free_slots[--actors->nr_free];
	if (actors->nr_slots == actors->slots_capacity &&
	    !ks_hb_actors_grow(actors))
		return UINT32_MAX;
	slot = actors->nr_slots++;
	actors->slots[slot] = (struct ks_hb_actor_slot){ .gen = 1 };
	return slot;
}

struct ks_hb_actor *ks_hb_actors_add(struct ks_hb_actors *actors, uint64_t key)
{
	struct ks_hb_actor *actor = calloc(1, sizeof(*actor));
	uint32_t slot;

	if (!actor)
		return NULL;
	slot = ks_hb_actors_take_slot(actors);
	if (slot == UINT32_MAX) {
		free(actor);
		return NULL;
	}
	actors->slots[slot].live = true;
	actors->slots[slot].holds = 0;
	actor->key = key;
	actor->now.actor = KS_HB_ACTOR(slot, actors->slots[slot].gen);
	HASH_ADD(hh, actors->by_key, key, sizeof(actor->key), actor);
	DL_APPEND(actors->lru, actor);
	actors->nr_live++;
	actors->created++;
	return actor;
}

void ks_hb_actors_touch(struct ks_hb_actors *actors, struct ks_hb_actor *actor)
{
	if (actors->lru->prev == actor)
		return;
	DL_DELETE(actors->lru, actor);
	DL_APPEND(actors->lru, actor);
}

struct ks_hb_actor *ks_hb_actors_least_recent(const struct ks_hb_actors *actors)
{
	return actors->lru;
}

static void ks_hb_actors_collect(struct ks_hb_actors *actors, uint32_t slot)
{
	actors->nr_gone--;
	actors->collected++;
	/* A wrapped generation could name a collected id again: retire. */
	if (++actors->slots[slot].gen)
		actors->free_slots[actors->nr_free++] = slot;
}

void ks_hb_actors_retire(struct ks_hb_actors *actors, struct ks_hb_actor *actor)
{
	uint32_t slot = KS_HB_ACTOR_SLOT(actor->now.actor);

	HASH_DEL(actors->by_key, actor);
	DL_DELETE(actors->lru, actor);
	ks_hb_actor_free(actors, actor);
	actors->slots[slot].live = false;
	actors->nr_live--;
	actors->nr_gone++;
	if (!actors->slots[slot].holds)
		ks_hb_actors_collect(actors, slot);
}

void ks_hb_actors_evict(struct ks_hb_actors *actors, struct ks_hb_actor *actor,
			uint64_t until)
{
	ks_hb_forgotten_note(&actors->forgotten, actor->key, until);
	ks_hb_actors_retire(actors, actor);
	actors->evicted++;
}

uint64_t ks_hb_actors_forgotten(const struct ks_hb_actors *actors, uint64_t key)
{
	return ks_hb_forgotten_until(&actors->forgotten, key);
}

void ks_hb_actors_hold(struct ks_hb_actors *actors, uint64_t id)
{
	actors->slots[KS_HB_ACTOR_SLOT(id)].holds++;
}

void ks_hb_actors_unhold(struct ks_hb_actors *actors, uint64_t id)
{
	uint32_t slot = KS_HB_ACTOR_SLOT(id);

	if (!--actors->slots[slot].holds && !actors->slots[slot].live)
		ks_hb_actors_collect(actors, slot);
}
