// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTEL_TRACES_SAMPLER's samplers: parents first, then the trace id. */
#include "unit.h"

#include "base/sampler.h"

/* A trace id whose 56 rightmost bits are randomness. */
static void trace_with(uint8_t id[KS_TRACE_ID_LEN], uint64_t randomness)
{
	memset(id, 0xab, KS_TRACE_ID_LEN);
	for (int i = KS_TRACE_ID_LEN - 1; i >= KS_TRACE_ID_LEN - 7; i--) {
		id[i] = (uint8_t)randomness;
		randomness >>= 8;
	}
}

static void test_names_round_trip(void **state)
{
	enum ks_sampler_kind kind;

	for (int k = KS_SAMPLER_PARENTBASED_ALWAYS_ON;
	     k <= KS_SAMPLER_TRACEIDRATIO; k++) {
		assert_true(ks_sampler_kind_parse(ks_sampler_name(k), &kind));
		assert_int_equal(kind, k);
	}
	assert_false(ks_sampler_kind_parse("jaeger_remote", &kind));
	assert_false(ks_sampler_kind_parse("", &kind));
}

static void test_parent_based_follows_the_parent(void **state)
{
	struct ks_sampler sampler;
	uint8_t id[KS_TRACE_ID_LEN];

	trace_with(id, 0);
	ks_sampler_init(&sampler, KS_SAMPLER_PARENTBASED_ALWAYS_OFF, 1);
	assert_false(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
	assert_true(ks_sampler_sample(&sampler, id, KS_PARENT_SAMPLED));
	ks_sampler_init(&sampler, KS_SAMPLER_PARENTBASED_ALWAYS_ON, 1);
	assert_true(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
	assert_false(ks_sampler_sample(&sampler, id, KS_PARENT_NOT_SAMPLED));
	/* The non-parent-based ones ignore the parent. */
	ks_sampler_init(&sampler, KS_SAMPLER_ALWAYS_ON, 1);
	assert_true(ks_sampler_sample(&sampler, id, KS_PARENT_NOT_SAMPLED));
	ks_sampler_init(&sampler, KS_SAMPLER_ALWAYS_OFF, 1);
	assert_false(ks_sampler_sample(&sampler, id, KS_PARENT_SAMPLED));
}

static void test_ratio_uses_the_rightmost_56_bits(void **state)
{
	struct ks_sampler sampler;
	uint8_t id[KS_TRACE_ID_LEN];

	ks_sampler_init(&sampler, KS_SAMPLER_TRACEIDRATIO, 0.25);
	/* Threshold (1 - 0.25) * 2^56: sampled from there up. */
	trace_with(id, (3ull << 54) - 1);
	assert_false(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
	trace_with(id, 3ull << 54);
	assert_true(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
	ks_sampler_init(&sampler, KS_SAMPLER_TRACEIDRATIO, 0);
	trace_with(id, (1ull << 56) - 1);
	assert_false(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
	ks_sampler_init(&sampler, KS_SAMPLER_TRACEIDRATIO, 1);
	trace_with(id, 0);
	assert_true(ks_sampler_sample(&sampler, id, KS_PARENT_NONE));
}

static void test_higher_ratios_sample_a_superset(void **state)
{
	struct ks_sampler low, high;
	uint8_t id[KS_TRACE_ID_LEN];
	unsigned int sampled = 0;

	ks_sampler_init(&low, KS_SAMPLER_TRACEIDRATIO, 0.1);
	ks_sampler_init(&high, KS_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.3);
	for (unsigned int i = 0; i < 10000; i++) {
		ks_trace_id_new(id);
		if (ks_sampler_sample(&low, id, KS_PARENT_NONE))
			assert_true(
				ks_sampler_sample(&high, id, KS_PARENT_NONE));
		sampled += ks_sampler_sample(&low, id, KS_PARENT_NONE);
	}
	/* About a tenth of random ids: 1000, well within 600..1400. */
	assert_in_range(sampled, 600, 1400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_parent_based_follows_the_parent),
		cmocka_unit_test(test_ratio_uses_the_rightmost_56_bits),
		cmocka_unit_test(test_higher_ratios_sample_a_superset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
