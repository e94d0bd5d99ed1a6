// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hold-back buffer: timestamp order out, arrival order among equals. */
#include "unit.h"

#include "hb/hb_holdback.h"

static void insert(struct ks_hb_holdback *hold, uint64_t ts, uint64_t tag)
{
	const struct ks_hb_event event = { .ts = ts, .target = tag };

	ks_hb_holdback_insert(hold, &event);
}

static void test_comes_out_sorted_and_stable(void **state)
{
	/* (ts, tag): almost sorted, with two equal timestamps. */
	const uint64_t in[][2] = { { 10, 0 }, { 30, 1 }, { 20, 2 }, { 40, 3 },
				   { 20, 4 }, { 5, 5 },	 { 50, 6 } };
	const uint64_t out_tags[] = { 5, 0, 2, 4, 1, 3, 6 };
	struct ks_hb_holdback hold;
	struct ks_hb_event event;

	assert_int_equal(ks_hb_holdback_init(&hold, 7), 0);
	for (size_t i = 0; i < 7; i++)
		insert(&hold, in[i][0], in[i][1]);
	assert_int_equal(ks_hb_holdback_len(&hold), 7);
	assert_int_equal(ks_hb_holdback_first(&hold)->ts, 5);
	for (size_t i = 0; i < 7; i++) {
		ks_hb_holdback_pop(&hold, &event);
		assert_int_equal(event.target, out_tags[i]);
	}
	assert_null(ks_hb_holdback_first(&hold));
	ks_hb_holdback_destroy(&hold);
}

/* Popping and inserting around the ring's end keeps the order. */
static void test_wraps_around(void **state)
{
	struct ks_hb_holdback hold;
	struct ks_hb_event event;
	uint64_t last = 0;

	assert_int_equal(ks_hb_holdback_init(&hold, 4), 0);
	for (uint64_t i = 0; i < 1000; i++) {
		/* Every other one an older straggler. */
		insert(&hold, 100 + 10 * i - (i % 2 ? 15 : 0), i);
		if (ks_hb_holdback_len(&hold) == 4) {
			ks_hb_holdback_pop(&hold, &event);
			assert_true(event.ts >= last);
			last = event.ts;
		}
	}
	ks_hb_holdback_destroy(&hold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comes_out_sorted_and_stable),
		cmocka_unit_test(test_wraps_around),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
