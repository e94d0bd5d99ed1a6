// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Memory bumped out of blocks, adopted across arenas, freed at once. */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>

#include "unit.h"

#include "base/arena.h"

static void test_allocations_are_aligned_zeroed_and_apart(void **state)
{
	struct ks_arena arena = KS_ARENA_INIT;
	unsigned char *previous = NULL;

	/* Enough to need several blocks, one of them larger than any. */
	for (size_t size = 1; size < 3000; size += 7) {
		unsigned char *p = ks_arena_alloc(&arena, size);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		for (size_t i = 0; i < size; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xa5, size);
		/* The previous one was not overwritten by this one. */
		if (previous)
			assert_int_equal(previous[0], 0xa5);
		previous = p;
	}
	assert_non_null(ks_arena_alloc(&arena, 1 << 20));
	/* A size that would wrap around the block's header is refused. */
	assert_null(ks_arena_alloc(&arena, SIZE_MAX));
	assert_null(ks_arena_alloc(&arena, SIZE_MAX - sizeof(void *)));
	ks_arena_release(&arena);
	assert_null(arena.blocks);
}

static void test_strdup_copies(void **state)
{
	struct ks_arena arena = KS_ARENA_INIT;
	char text[] = "worker";
	char *copy = ks_arena_strdup(&arena, text);

	text[0] = 'W';
	assert_string_equal(copy, "worker");
	assert_string_equal(ks_arena_strdup(&arena, ""), "");
	ks_arena_release(&arena);
}

/* Adopted memory stays valid, and the adopter goes on filling its block. */
static void test_adopted_memory_lives_with_the_adopter(void **state)
{
	struct ks_arena tree = KS_ARENA_INIT, list = KS_ARENA_INIT;
	char *mine = ks_arena_strdup(&tree, "root");
	char *theirs[100];

	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "item %d of the list", i);
		theirs[i] = ks_arena_strdup(&list, text);
	}
	ks_arena_adopt(&tree, &list);
	assert_null(list.blocks);
	ks_arena_adopt(&tree, &list); /* nothing left: nothing happens */
	assert_string_equal(ks_arena_strdup(&tree, "after"), "after");
	assert_string_equal(mine, "root");
	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "item %d of the list", i);
		assert_string_equal(theirs[i], text);
	}
	ks_arena_release(&list);
	ks_arena_release(&tree);
}

static void test_empty_arena_adopts_and_releases(void **state)
{
	struct ks_arena tree = KS_ARENA_INIT, list = KS_ARENA_INIT;
	char *kept = ks_arena_strdup(&list, "kept");

	ks_arena_adopt(&tree, &list);
	assert_string_equal(kept, "kept");
	ks_arena_release(&tree);
	ks_arena_release(&tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocations_are_aligned_zeroed_and_apart),
		cmocka_unit_test(test_strdup_copies),
		cmocka_unit_test(test_adopted_memory_lives_with_the_adopter),
		cmocka_unit_test(test_empty_arena_adopts_and_releases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
