// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Recorded points: the order rules on their own, and the exported text
 * encoding, byte for byte, round trips and refusals.
 */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "hb/hb_point.h"
#include "rng.h"

static struct ks_vclock *clock_of(const struct ks_vclock_entry *entries,
				  size_t n)
{
	struct ks_vclock *clock = ks_vclock_new(NULL, entries, n);

	assert_non_null(clock);
	return clock;
}

static void test_one_actor_is_ordered_by_its_counts(void **state)
{
	struct ks_hb_point a = { .ts = 10, .actor = 7, .count = 3 };
	struct ks_hb_point b = { .ts = 20, .actor = 7, .count = 5 };

	assert_int_equal(ks_hb_point_order(&a, &b), KS_HB_BEFORE);
	assert_int_equal(ks_hb_point_order(&b, &a), KS_HB_AFTER);
	assert_int_equal(ks_hb_point_order(&a, &a), KS_HB_EQUAL);
}

static void test_one_component_decides(void **state)
{
	const struct ks_vclock_entry knows_a[] = { { 1, 3 }, { 9, 1 } };
	struct ks_vclock *clock = clock_of(knows_a, 2);
	struct ks_hb_point a = { .ts = 10, .actor = 1, .count = 3 };
	struct ks_hb_point a_later = { .ts = 15, .actor = 1, .count = 4 };
	struct ks_hb_point b = {
		.ts = 20, .actor = 2, .count = 1, .clock = clock
	};

	assert_int_equal(ks_hb_point_order(&a, &b), KS_HB_BEFORE);
	assert_int_equal(ks_hb_point_order(&b, &a), KS_HB_AFTER);
	assert_int_equal(ks_hb_point_order(&a_later, &b), KS_HB_CONCURRENT);
	ks_vclock_put(NULL, clock);
}

/* A missing component is only a sure "no" for events after the loss. */
static void test_unknown_before_makes_old_negatives_unsure(void **state)
{
	struct ks_hb_point old = { .ts = 10, .actor = 1, .count = 1 };
	struct ks_hb_point at_loss = { .ts = 30, .actor = 3, .count = 1 };
	struct ks_hb_point recent = { .ts = 31, .actor = 4, .count = 1 };
	struct ks_hb_point b = {
		.ts = 40, .actor = 2, .count = 9, .unknown_before = 30
	};

	assert_int_equal(ks_hb_point_order(&old, &b), KS_HB_UNKNOWN);
	assert_int_equal(ks_hb_point_order(&at_loss, &b), KS_HB_UNKNOWN);
	assert_int_equal(ks_hb_point_order(&recent, &b), KS_HB_CONCURRENT);
}

/* Components that may be too high make only old positives unsure. */
static void test_doubtful_before_makes_old_positives_unsure(void **state)
{
	const struct ks_vclock_entry knows[] = { { 1, 9 }, { 3, 9 } };
	struct ks_vclock *clock = clock_of(knows, 2);
	struct ks_hb_point old = { .ts = 10, .actor = 1, .count = 1 };
	struct ks_hb_point recent = { .ts = 31, .actor = 3, .count = 1 };
	struct ks_hb_point b = { .ts = 40,
				 .actor = 2,
				 .count = 9,
				 .doubtful_before = 30,
				 .clock = clock };
	struct ks_hb_point decoded;
	struct ks_vclock *back;

	assert_int_equal(ks_hb_point_order(&old, &b), KS_HB_UNKNOWN);
	assert_int_equal(ks_hb_point_order(&recent, &b), KS_HB_BEFORE);
	assert_int_equal(ks_hb_point_decode("AegHAgEFBwALAA", &decoded, &back),
			 0);
	assert_int_equal(decoded.doubtful_before, 990);
	assert_int_equal(decoded.unknown_before, 0);
	ks_vclock_put(NULL, back);
	ks_vclock_put(NULL, clock);
}

/* Knowing more than you can is not a clock of one history. */
static void test_each_before_the_other_is_unknown(void **state)
{
	const struct ks_vclock_entry knows_1[] = { { 1, 5 } };
	const struct ks_vclock_entry knows_2[] = { { 2, 5 } };
	struct ks_vclock *c1 = clock_of(knows_1, 1);
	struct ks_vclock *c2 = clock_of(knows_2, 1);
	struct ks_hb_point a = { .ts = 1, .actor = 1, .count = 1, .clock = c2 };
	struct ks_hb_point b = { .ts = 2, .actor = 2, .count = 1, .clock = c1 };

	assert_int_equal(ks_hb_point_order(&a, &b), KS_HB_UNKNOWN);
	ks_vclock_put(NULL, c1);
	ks_vclock_put(NULL, c2);
}

/* The example in hb_point.h's terms, checked byte for byte. */
static const struct ks_vclock_entry example_entries[] = {
	{ KS_HB_ACTOR(0, 3), 4 },
	{ KS_HB_ACTOR(5, 1), 2 },
};
/*
 * 01 | e8 07 (ts 1000) | 02 01 05 (slot 2, gen 1, count 5) | 07 (lamport) |
 * 65 (unknown: 1000 - 900 + 1) | 00 (doubtful: none) | 02 (entries) |
 * 00 03 04 (slot 0, gen 3, count 4) | 05 01 02 (slot 0 + 5, gen 1, count 2)
 */
static const char example_text[] = "AegHAgEFB2UAAgADBAUBAg";

static void test_encoding_is_exactly_as_documented(void **state)
{
	struct ks_vclock *clock = clock_of(example_entries, 2);
	struct ks_hb_point point = {
		.ts = 1000,
		.actor = KS_HB_ACTOR(2, 1),
		.count = 5,
		.lamport = 7,
		.unknown_before = 900,
		.clock = clock,
	};
	char text[64], tiny[5];

	assert_int_equal(ks_hb_point_encode(&point, text, sizeof(text)),
			 strlen(example_text));
	assert_string_equal(text, example_text);
	/* Too small: cut and terminated, the full length still returned. */
	assert_int_equal(ks_hb_point_encode(&point, tiny, sizeof(tiny)),
			 strlen(example_text));
	assert_string_equal(tiny, "AegH");
	ks_vclock_put(NULL, clock);
}

static void test_decoding_the_example(void **state)
{
	struct ks_hb_point point;
	struct ks_vclock *clock;

	assert_int_equal(ks_hb_point_decode(example_text, &point, &clock), 0);
	assert_int_equal(point.ts, 1000);
	assert_int_equal(point.actor, KS_HB_ACTOR(2, 1));
	assert_int_equal(point.count, 5);
	assert_int_equal(point.lamport, 7);
	assert_int_equal(point.unknown_before, 900);
	assert_int_equal(point.doubtful_before, 0);
	assert_ptr_equal(point.clock, clock);
	assert_int_equal(ks_vclock_len(clock), 2);
	assert_memory_equal(clock->entries, example_entries,
			    sizeof(example_entries));
	ks_vclock_put(NULL, clock);
}

static struct ks_rng rng = { .state = 11 };

/* Values of every varint length, from 1 to 10 bytes. */
static uint64_t rng_value(void)
{
	return ks_rng_next(&rng) >> (ks_rng_next(&rng) % 64);
}

static void test_random_points_round_trip(void **state)
{
	for (int round = 0; round < 2000; round++) {
		struct ks_vclock_entry entries[16];
		struct ks_hb_point point, decoded;
		struct ks_vclock *clock, *back;
		size_t n = ks_rng_next(&rng) % 16, len;
		uint64_t slot = 0;
		char text[512];

		for (size_t i = 0; i < n; i++) {
			slot += 1 + ks_rng_next(&rng) % 1000;
			entries[i].actor = KS_HB_ACTOR(
				slot, 1 + ks_rng_next(&rng) % UINT32_MAX);
			entries[i].count = 1 + rng_value() / 2;
		}
		clock = clock_of(entries, n);
		point = (struct ks_hb_point){
			.ts = rng_value(),
			/* Slot 0: never among the entries above. */
			.actor = KS_HB_ACTOR(0, 1 + ks_rng_next(&rng) % 1000),
			.count = 1 + rng_value() / 2,
			.lamport = rng_value(),
			.unknown_before =
				ks_rng_next(&rng) & 1 ? rng_value() : 0,
			.doubtful_before =
				ks_rng_next(&rng) & 1 ? rng_value() : 0,
			.clock = clock,
		};
		len = ks_hb_point_encode(&point, text, sizeof(text));
		assert_true(len < sizeof(text));
		assert_int_equal(ks_hb_point_decode(text, &decoded, &back), 0);
		assert_int_equal(decoded.ts, point.ts);
		assert_int_equal(decoded.actor, point.actor);
		assert_int_equal(decoded.count, point.count);
		assert_int_equal(decoded.lamport, point.lamport);
		/* Clamped to ts: nothing later than a point can be missing. */
		assert_int_equal(decoded.unknown_before,
				 point.unknown_before > point.ts ?
					 point.ts :
					 point.unknown_before);
		assert_int_equal(decoded.doubtful_before,
				 point.doubtful_before > point.ts ?
					 point.ts :
					 point.doubtful_before);
		assert_int_equal(ks_vclock_compare(back, clock),
				 KS_VCLOCK_EQUAL);
		ks_vclock_put(NULL, clock);
		ks_vclock_put(NULL, back);
	}
}

static void test_refuses_what_is_not_an_encoding(void **state)
{
	static const char *const bad[] = {
		"", /* nothing */
		"AugHAgEFB2UAAgADBAUBAg", /* version 2 */
		"AegHAgEFB2UAAgADBA", /* an entry missing */
		"AegHAgEFB2UAAgADBAUBAgA", /* a byte too many */
		"AegHAgEFB2UAAgADBAUBAg==", /* padding is not used */
		"AegHAgEFB2UAAgADBAUB+g", /* not base64url */
		"AegHAgEFB2UAAgUDBAABAg", /* entries out of order */
		"AegHAgEFB2UAAQADAA", /* a zero count */
		"AegHAgEFB2UAAQIBBA", /* its own actor among the others */
		"AegHAgEFB2XqBwA", /* doubtful before time began */
		"Ae____________________8", /* a varint past 64 bits */
	};
	struct ks_hb_point point;
	struct ks_vclock *clock;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ks_hb_point_decode(bad[i], &point, &clock),
				 -EINVAL);
		assert_null(clock);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_actor_is_ordered_by_its_counts),
		cmocka_unit_test(test_one_component_decides),
		cmocka_unit_test(
			test_unknown_before_makes_old_negatives_unsure),
		cmocka_unit_test(
			test_doubtful_before_makes_old_positives_unsure),
		cmocka_unit_test(test_each_before_the_other_is_unknown),
		cmocka_unit_test(test_encoding_is_exactly_as_documented),
		cmocka_unit_test(test_decoding_the_example),
		cmocka_unit_test(test_random_points_round_trip),
		cmocka_unit_test(test_refuses_what_is_not_an_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
