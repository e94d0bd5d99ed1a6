/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memory handed out by bumping a pointer through a few blocks, and freed
 * all at once: for trees of many small nodes that live and die together,
 * where a malloc() and a free() per node would cost more than the tree's
 * whole use.
 *
 * glibc's obstack does the bumping too, but one arena must be able to
 * take over another's blocks (ks_arena_adopt), so that a list built on
 * its own joins a tree without being copied.
 */
#ifndef KS_ARENA_H
#define KS_ARENA_H

#include <stddef.h>

struct ks_arena_block;

/* Start it zeroed (KS_ARENA_INIT): no block is allocated until needed. */
struct ks_arena {
	struct ks_arena_block *blocks; /* the one being filled first */
};

#define KS_ARENA_INIT \
	{             \
		0     \
	}

/* size zeroed bytes aligned for any type, or NULL on ENOMEM. */
void *ks_arena_alloc(struct ks_arena *arena, size_t size);

/* A copy of s in the arena, or NULL on ENOMEM. */
char *ks_arena_strdup(struct ks_arena *arena, const char *s);

/*
 * Moves all of from's memory into arena, where it stays valid until arena
 * is released; from is left empty.
 */
void ks_arena_adopt(struct ks_arena *arena, struct ks_arena *from);

/*
 * Frees every block, leaving the arena empty.  The arena itself may live
 * in one of its blocks: it is not touched once freeing has begun.
 */
void ks_arena_release(struct ks_arena *arena);

#endif /* KS_ARENA_H */
