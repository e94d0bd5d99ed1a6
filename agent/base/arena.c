// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"

/*
 * The first block is 1 KiB with its header, enough for one HTTP span and
 * its attributes (about 800 bytes), doubling from there.  glibc keeps
 * freed chunks of up to 1032 bytes in a cache of the thread's own: a span
 * built and freed by one thread, as each is once encoded, gets the same
 * memory back without going through the allocator's bins.
 */
#define KS_ARENA_FIRST_ALLOC 1024
#define KS_ARENA_BLOCK_MAX 65536

struct ks_arena_block {
	struct ks_arena_block *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

static size_t ks_round_up(size_t size)
{
	return (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
}

void *ks_arena_alloc(struct ks_arena *arena, size_t size)
{
	struct ks_arena_block *block = arena->blocks;
	size_t block_size;
	void *memory;

	/* Rounding up and the block header must not wrap around. */
	if (size > SIZE_MAX / 2)
		return NULL;
	size = ks_round_up(size ? size : 1);
	if (!block || block->size - block->used < size) {
		block_size = block ? block->size * 2 :
				     KS_ARENA_FIRST_ALLOC - sizeof(*block);
		if (block_size > KS_ARENA_BLOCK_MAX)
			block_size = KS_ARENA_BLOCK_MAX;
		if (block_size < size)
			block_size = size;
		block = malloc(sizeof(*block) + block_size);
		if (!block)
			return NULL;
		block->next = arena->blocks;
		block->used = 0;
		block->size = block_size;
		arena->blocks = block;
	}
	memory = block->data + block->used;
	block->used += size;
	return memset(memory, 0, size);
}

char *ks_arena_strdup(struct ks_arena *arena, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = ks_arena_alloc(arena, len);

	return copy ? memcpy(copy, s, len) : NULL;
}

void ks_arena_adopt(struct ks_arena *arena, struct ks_arena *from)
{
	struct ks_arena_block *last = from->blocks;

	if (!last)
		return;
	while (last->next)
		last = last->next;
	/* Behind the block being filled, which goes on being filled. */
	if (arena->blocks) {
		last->next = arena->blocks->next;
		arena->blocks->next = from->blocks;
	} else {
		arena->blocks = from->blocks;
	}
	from->blocks = NULL;
}

void ks_arena_release(struct ks_arena *arena)
{
	struct ks_arena_block *block = arena->blocks, *next;

	arena->blocks = NULL;
	for (; block; block = next) {
		next = block->next;
		free(block);
	}
}
