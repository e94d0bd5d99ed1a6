// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/mix64.h"

struct ks_hb_object_key;
static uint64_t ks_hb_object_hash(struct ks_hb_object_key key);

/* Keys are two integers: mixed, not hashed byte by byte (see below). */
#define HASH_FUNCTION(keyptr, keylen, hashv)        \
	((hashv) = (unsigned int)ks_hb_object_hash( \
		 *(const struct ks_hb_object_key *)(keyptr)))

#include <uthash.h>
#include <utlist.h>

#include "hb/hb_objects.h"

void ks_hb_objects_init(struct ks_hb_objects *objects, size_t max,
			struct ks_vclock_usage *usage,
			struct ks_hb_stream_pool *streams)
{
	memset(objects, 0, sizeof(*objects));
	objects->max = max;
	objects->usage = usage;
	objects->streams = streams;
}

static void ks_hb_objects_free(struct ks_hb_objects *objects,
			       struct ks_hb_object *object)
{
	HASH_DEL(objects->by_key, object);
	DL_DELETE(objects->lru, object);
	ks_vclock_put(objects->usage, object->released.others);
	ks_hb_stream_free(objects->streams, object->stream);
	free(object);
	objects->nr--;
}

void ks_hb_objects_destroy(struct ks_hb_objects *objects)
{
	while (objects->lru)
		ks_hb_objects_free(objects, objects->lru);
}

struct ks_hb_object *ks_hb_objects_find(struct ks_hb_objects *objects,
					struct ks_hb_object_key key)
{
	struct ks_hb_object *object;

	HASH_FIND(hh, objects->by_key, &key, sizeof(key), object);
	if (object && objects->lru->prev != object) {
		DL_DELETE(objects->lru, object);
		DL_APPEND(objects->lru, object);
	}
	return object;
}

static uint64_t ks_hb_object_hash(struct ks_hb_object_key key)
{
	return ks_mix64(key.id ^ ks_mix64(key.kind));
}

uint64_t ks_hb_objects_evicted_until(const struct ks_hb_objects *objects,
				     struct ks_hb_object_key key)
{
	return ks_hb_forgotten_until(&objects->evictions,
				     ks_hb_object_hash(key));
}

uint64_t ks_hb_objects_gone_until(const struct ks_hb_objects *objects,
				  struct ks_hb_object_key key)
{
	return ks_hb_forgotten_until(&objects->gone, ks_hb_object_hash(key));
}

static void ks_hb_objects_evict(struct ks_hb_objects *objects)
{
	struct ks_hb_object *victim = objects->lru;

	if (victim->last_release_ts)
		ks_hb_forgotten_note(&objects->evictions,
				     ks_hb_object_hash(victim->key),
				     victim->last_release_ts);
	ks_hb_objects_free(objects, victim);
	objects->evicted++;
}

struct ks_hb_object *ks_hb_objects_add(struct ks_hb_objects *objects,
				       struct ks_hb_object_key key,
				       uint64_t now)
{
	struct ks_hb_object *object;

	if (objects->nr >= objects->max && objects->lru)
		ks_hb_objects_evict(objects);
	object = calloc(1, sizeof(*object));
	if (!object)
		return NULL;
	object->key = key;
	object->released.lost_before =
		ks_hb_objects_evicted_until(objects, key);
	object->floor_ts = ks_hb_objects_gone_until(objects, key);
	object->last_acquire_ts = now;
	HASH_ADD(hh, objects->by_key, key, sizeof(object->key), object);
	DL_APPEND(objects->lru, object);
	objects->nr++;
	return object;
}

void ks_hb_objects_gone(struct ks_hb_objects *objects,
			struct ks_hb_object_key key,
			struct ks_hb_object *object, uint64_t ts)
{
	ks_hb_forgotten_note(&objects->gone, ks_hb_object_hash(key), ts);
	if (object) {
		ks_hb_objects_free(objects, object);
		objects->removed++;
	}
}

void ks_hb_objects_remove(struct ks_hb_objects *objects,
			  struct ks_hb_object *object)
{
	ks_hb_objects_free(objects, object);
}
