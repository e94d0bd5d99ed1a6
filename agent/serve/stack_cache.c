// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
/*
 * With memory short, a stack that cannot be kept is shown once and
 * unwound again next time, rather than the agent exiting, uthash's
 * default.
 */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (ks_stack_not_kept = true)
#include <uthash.h>

#include "report/json_sink.h"
#include "serve/stack_cache.h"
#include "stacks/wait_site.h"

static bool ks_stack_not_kept;

/* A waiter's stack, kept for as long as it stays in that wait. */
struct ks_cached_stack {
	uint32_t tid; /* key */
	uint64_t begin_ts_ns; /* the wait it belongs to */
	uint64_t rendering; /* the last rendering that used it */
	json_object *frames;
	UT_hash_handle hh;
};

struct ks_stack_cache {
	struct ks_symbolizer *symbolizer;
	unsigned int frames;
	struct ks_cached_stack *stacks;
	uint64_t rendering;
	unsigned int budget;
};

struct ks_stack_cache *ks_stack_cache_new(struct ks_symbolizer *symbolizer,
					  unsigned int frames)
{
	struct ks_stack_cache *cache = calloc(1, sizeof(*cache));

	if (cache) {
		cache->symbolizer = symbolizer;
		cache->frames = frames;
	}
	return cache;
}

static void ks_drop_stack(struct ks_stack_cache *cache,
			  struct ks_cached_stack *cached)
{
	HASH_DEL(cache->stacks, cached);
	json_object_put(cached->frames);
	free(cached);
}

void ks_stack_cache_free(struct ks_stack_cache *cache)
{
	struct ks_cached_stack *cached, *tmp;

	if (!cache)
		return;
	HASH_ITER(hh, cache->stacks, cached, tmp)
		ks_drop_stack(cache, cached);
	free(cache);
}

void ks_stack_cache_begin(struct ks_stack_cache *cache, unsigned int budget)
{
	cache->rendering++;
	cache->budget = budget;
}

static json_object *ks_unwind(struct ks_stack_cache *cache,
			      const struct ks_thread *thread)
{
	struct ks_stack *stack = malloc(sizeof(*stack));
	json_object *frames = NULL;

	if (!stack)
		return NULL;
	if (!ks_wait_stack(cache->symbolizer, thread, cache->frames, stack))
		frames = ks_json_stack(stack);
	free(stack);
	return frames;
}

json_object *ks_stack_cache_get(struct ks_stack_cache *cache,
				const struct ks_thread *thread)
{
	uint64_t begin_ts = thread->wait.begin.hdr.ts_ns;
	struct ks_cached_stack *cached;

	HASH_FIND(hh, cache->stacks, &thread->tid, sizeof(thread->tid), cached);
	if (cached && cached->begin_ts_ns != begin_ts) {
		ks_drop_stack(cache, cached);
		cached = NULL;
	}
	if (!cached) {
		if (!cache->budget)
			return NULL;
		cache->budget--;
		cached = calloc(1, sizeof(*cached));
		if (!cached)
			return NULL;
		cached->tid = thread->tid;
		cached->begin_ts_ns = begin_ts;
		/* A failed unwind is cached too: it would fail again. */
		cached->frames = ks_unwind(cache, thread);
		ks_stack_not_kept = false;
		HASH_ADD(hh, cache->stacks, tid, sizeof(cached->tid), cached);
		if (ks_stack_not_kept) {
			json_object *frames = cached->frames;

			free(cached);
			return frames;
		}
	}
	cached->rendering = cache->rendering;
	return json_object_get(cached->frames);
}

void ks_stack_cache_sweep(struct ks_stack_cache *cache)
{
	struct ks_cached_stack *cached, *tmp;

	HASH_ITER(hh, cache->stacks, cached, tmp)
		if (cached->rendering != cache->rendering)
			ks_drop_stack(cache, cached);
}
