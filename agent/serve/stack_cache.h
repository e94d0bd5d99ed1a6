/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Waiters' stacks for the dashboard's documents, as JSON: unwound from the
 * snapshot their wait began with (never from live memory: the thread may
 * have moved on), once per wait, and at most a few per rendering, since
 * unwinding is not free.
 */
#ifndef KS_STACK_CACHE_H
#define KS_STACK_CACHE_H

#include <json-c/json.h>

#include "model/table.h"
#include "stacks/symbolize.h"

struct ks_stack_cache;

/* frames: how many frames each stack keeps. */
struct ks_stack_cache *ks_stack_cache_new(struct ks_symbolizer *symbolizer,
					  unsigned int frames);
void ks_stack_cache_free(struct ks_stack_cache *cache);

/* A rendering begins: budget new stacks may be unwound in it. */
void ks_stack_cache_begin(struct ks_stack_cache *cache, unsigned int budget);
/* The thread's stack (a new reference), or NULL while out of budget. */
json_object *ks_stack_cache_get(struct ks_stack_cache *cache,
				const struct ks_thread *thread);
/* The rendering ended: stacks of waits it did not show are dropped. */
void ks_stack_cache_sweep(struct ks_stack_cache *cache);

#endif /* KS_STACK_CACHE_H */
