// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The record of lost edges: for any point, the latest loss not after it,
 * and when the record is full it may only grow more cautious.
 */
#include "unit.h"

#include "hb/hb_damage.h"

static void test_latest_loss_not_after(void **state)
{
	struct ks_hb_damage damage = { 0 };

	ks_hb_damage_add(&damage, 100, 100);
	ks_hb_damage_add(&damage, 300, 400);
	assert_int_equal(ks_hb_damage_latest(&damage, 50), 0);
	assert_int_equal(ks_hb_damage_latest(&damage, 100), 100);
	assert_int_equal(ks_hb_damage_latest(&damage, 200), 100);
	/* Inside a span: the point itself may be what was lost. */
	assert_int_equal(ks_hb_damage_latest(&damage, 350), 350);
	assert_int_equal(ks_hb_damage_latest(&damage, 1000), 400);
}

static void test_overlapping_spans_become_one(void **state)
{
	struct ks_hb_damage damage = { 0 };

	ks_hb_damage_add(&damage, 300, 400);
	ks_hb_damage_add(&damage, 100, 200);
	ks_hb_damage_add(&damage, 150, 350);
	assert_int_equal(damage.len, 1);
	assert_int_equal(damage.spans[0].lo, 100);
	assert_int_equal(damage.spans[0].hi, 400);
}

/*
 * Full: the closest two merge.  Every time answered as lost before still
 * is (the answer can only move later), and the count stays bounded.
 */
static void test_full_record_only_grows_cautious(void **state)
{
	struct ks_hb_damage damage = { 0 };
	uint64_t before[2000];

	for (uint64_t i = 0; i < 200; i++) {
		uint64_t ts = 1000 * i + (i * 7919) % 500;

		for (uint64_t t = 0; t < 2000; t++)
			before[t] = ks_hb_damage_latest(&damage, 100 * t);
		ks_hb_damage_add(&damage, ts, ts);
		assert_true(damage.len <= KS_HB_DAMAGE_SPANS);
		for (uint64_t t = 0; t < 2000; t++)
			assert_true(ks_hb_damage_latest(&damage, 100 * t) >=
				    before[t]);
		assert_int_equal(ks_hb_damage_latest(&damage, ts), ts);
	}
	assert_true(ks_hb_damage_full(&damage));
}

static void test_forgets_what_no_point_can_reach(void **state)
{
	struct ks_hb_damage damage = { 0 };

	ks_hb_damage_add(&damage, 100, 100);
	ks_hb_damage_add(&damage, 200, 250);
	ks_hb_damage_add(&damage, 500, 500);
	ks_hb_damage_forget(&damage, 300);
	assert_int_equal(damage.len, 1);
	assert_int_equal(damage.forgotten, 250);
	assert_int_equal(ks_hb_damage_latest(&damage, 400), 0);
	assert_int_equal(ks_hb_damage_latest(&damage, 600), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latest_loss_not_after),
		cmocka_unit_test(test_overlapping_spans_become_one),
		cmocka_unit_test(test_full_record_only_grows_cautious),
		cmocka_unit_test(test_forgets_what_no_point_can_reach),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
