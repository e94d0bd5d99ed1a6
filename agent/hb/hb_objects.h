/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The sync objects the happens-before engine knows: futex words and locks,
 * channels, streams, thread and process exits.  Each holds the join of the
 * releases it received, so that a later acquire learns all of them; a
 * stream also holds its writes apart (hb_streams.h), since its reads learn
 * only the ones whose bytes they returned.
 *
 * Bounded two ways, each remembered per id (lossily, see hb_forgotten.h)
 * so that nothing is ever mistaken for what it is not:
 *
 * - The caller says when an object is gone (an address unmapped or reused,
 *   a channel closed): it is removed, and its id starts afresh.  The time
 *   is kept as the floor of the id's next objects: a record older than it,
 *   arriving late, belongs to the old object and must not reach the new.
 * - Beyond max objects the least recently used is evicted, and the time of
 *   its latest release is kept: the id's next object says that knowledge
 *   of events up to then may be missing, rather than that there was none.
 */
#ifndef KS_HB_OBJECTS_H
#define KS_HB_OBJECTS_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "hb/hb_forgotten.h"
#include "hb/hb_streams.h"
#include "hb/hb_time.h"
#include "hb/vclock.h"

/* Namespaces: ids of different kinds never meet. */
enum ks_hb_object_kind {
	KS_HB_OBJECT_WORD = 1, /* a futex word, lock, condvar, semaphore */
	KS_HB_OBJECT_CHANNEL, /* a pipe, socket, eventfd, message queue */
	KS_HB_OBJECT_THREAD_EXIT, /* id: the exiting thread's key */
	KS_HB_OBJECT_PROCESS_EXIT, /* id: the caller's process key */
	KS_HB_OBJECT_STREAM, /* a pipe, FIFO, one direction of a unix socket */
};

struct ks_hb_object_key {
	uint64_t kind;
	uint64_t id;
};

struct ks_hb_object {
	struct ks_hb_object_key key;
	struct ks_hb_time released; /* the join of the releases so far */
	uint64_t last_release_ts, last_acquire_ts; /* 0: none yet */
	/* Records at or before it were for an object gone since. */
	uint64_t floor_ts;
	/* A stream's writes whose bytes may be unread; NULL for the others. */
	struct ks_hb_stream *stream;
	struct ks_hb_object *prev, *next; /* least recently used first */
	UT_hash_handle hh;
};

struct ks_hb_objects {
	struct ks_hb_object *by_key;
	struct ks_hb_object *lru;
	size_t nr, max;
	uint64_t evicted, removed;
	struct ks_vclock_usage *usage;
	struct ks_hb_stream_pool *streams;
	struct ks_hb_forgotten evictions; /* latest release evicted */
	struct ks_hb_forgotten gone; /* latest time an object went */
};

void ks_hb_objects_init(struct ks_hb_objects *objects, size_t max,
			struct ks_vclock_usage *usage,
			struct ks_hb_stream_pool *streams);
void ks_hb_objects_destroy(struct ks_hb_objects *objects);

/* The object, now the most recently used; NULL if unknown. */
struct ks_hb_object *ks_hb_objects_find(struct ks_hb_objects *objects,
					struct ks_hb_object_key key);
/*
 * A new empty object, evicting beyond max; NULL without memory.  It starts
 * with its id's floor and with what its id's evictions lost.  Acquires
 * applied before it existed left no trace: as far as a late release can
 * tell, the latest of them was at now, the latest time applied.
 */
struct ks_hb_object *ks_hb_objects_add(struct ks_hb_objects *objects,
				       struct ks_hb_object_key key,
				       uint64_t now);
/* The object under key went at ts; object is it if known, or NULL. */
void ks_hb_objects_gone(struct ks_hb_objects *objects,
			struct ks_hb_object_key key,
			struct ks_hb_object *object, uint64_t ts);
/* The object served its one acquire (a join, a reap): freed. */
void ks_hb_objects_remove(struct ks_hb_objects *objects,
			  struct ks_hb_object *object);
/* The latest release evicted under this key (or a colliding one), or 0. */
uint64_t ks_hb_objects_evicted_until(const struct ks_hb_objects *objects,
				     struct ks_hb_object_key key);
/* The latest time an object under this key (or a colliding one) went. */
uint64_t ks_hb_objects_gone_until(const struct ks_hb_objects *objects,
				  struct ks_hb_object_key key);

#endif /* KS_HB_OBJECTS_H */
