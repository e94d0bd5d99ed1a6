// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* W3C Trace Context: traceparent decoding and formatting, tracestate checks. */
#include <stdio.h>

#include "unit.h"

#include "httptrace/traceparent.h"

#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_ID "00f067aa0ba902b7"

static bool parse(const char *value, struct ks_traceparent *tp)
{
	return ks_traceparent_parse(value, strlen(value), tp);
}

static bool valid_traceparent(const char *value)
{
	struct ks_traceparent tp;

	return parse(value, &tp);
}

static bool valid_tracestate(const char *value)
{
	return ks_tracestate_valid(value, strlen(value));
}

static void test_version_00_decodes(void **state)
{
	static const uint8_t trace_id[KS_TRACE_ID_LEN] = {
		0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
		0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
	};
	static const uint8_t parent_id[KS_PARENT_ID_LEN] = {
		0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7,
	};
	struct ks_traceparent tp;

	assert_true(parse("00-" TRACE_ID "-" PARENT_ID "-01", &tp));
	assert_int_equal(tp.version, 0);
	assert_memory_equal(tp.trace_id, trace_id, sizeof(trace_id));
	assert_memory_equal(tp.parent_id, parent_id, sizeof(parent_id));
	assert_int_equal(tp.flags, KS_TRACE_FLAG_SAMPLED);
}

static void test_version_00_keeps_unknown_flags(void **state)
{
	struct ks_traceparent tp;

	assert_true(parse("00-" TRACE_ID "-" PARENT_ID "-09", &tp));
	assert_int_equal(tp.flags, 0x09);
	assert_true(parse("00-" TRACE_ID "-" PARENT_ID "-00", &tp));
	assert_int_equal(tp.flags, 0);
}

static void test_version_00_rejects_malformed(void **state)
{
	static const char *const invalid[] = {
		"",
		"00",
		/* Trailing data is for later versions only. */
		"00-" TRACE_ID "-" PARENT_ID "-01-extra",
		"00-" TRACE_ID "-" PARENT_ID "-01 ",
		/* Upper case hex. */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT_ID "-01",
		"00-" TRACE_ID "-00F067AA0BA902B7-01",
		"00-" TRACE_ID "-" PARENT_ID "-0A",
		"0A-" TRACE_ID "-" PARENT_ID "-01",
		/* All-zero ids. */
		"00-00000000000000000000000000000000-" PARENT_ID "-01",
		"00-" TRACE_ID "-0000000000000000-01",
		/* Wrong lengths and separators. */
		"00-4bf92f3577b34da6a3ce929d0e0e473-" PARENT_ID "-01",
		"00-" TRACE_ID "0-" PARENT_ID "-01",
		"00-" TRACE_ID "-00f067aa0ba902b-01",
		"00-" TRACE_ID "-" PARENT_ID "0-01",
		"00-" TRACE_ID "-" PARENT_ID "-1",
		"00_" TRACE_ID "_" PARENT_ID "_01",
		"0-" TRACE_ID "-" PARENT_ID "-011",
		/* Not hex at all. */
		"00-4bf92f3577b34da6a3ce929d0e0e473g-" PARENT_ID "-01",
		"00-" TRACE_ID "-" PARENT_ID "-0g",
		"g0-" TRACE_ID "-" PARENT_ID "-01",
		"00-" TRACE_ID "-" PARENT_ID "--1",
		/* Version ff is invalid forever. */
		"ff-" TRACE_ID "-" PARENT_ID "-01",
	};

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (valid_traceparent(invalid[i]))
			fail_msg("accepted \"%s\"", invalid[i]);
	}
}

static void test_later_version_forward_compatible(void **state)
{
	struct ks_traceparent tp;

	assert_true(parse("cc-" TRACE_ID "-" PARENT_ID "-01", &tp));
	assert_int_equal(tp.version, 0xcc);
	/* Later versions may append fields after a dash. */
	assert_true(parse("cc-" TRACE_ID "-" PARENT_ID
			  "-01-what-the-future-will-be-like",
			  &tp));
	/* Only the sampled flag means anything across versions. */
	assert_true(parse("01-" TRACE_ID "-" PARENT_ID "-ff", &tp));
	assert_int_equal(tp.flags, KS_TRACE_FLAG_SAMPLED);
	assert_false(valid_traceparent("cc-" TRACE_ID "-" PARENT_ID
				       "-01.what-the-future-will-be-like"));
	assert_false(valid_traceparent("cc-" TRACE_ID "-" PARENT_ID "-0"));
	assert_false(valid_traceparent("cc-" TRACE_ID "-" PARENT_ID "-0x"));
}

static void test_format_round_trips(void **state)
{
	static const char text[] = "00-" TRACE_ID "-" PARENT_ID "-01";
	char buf[KS_TRACEPARENT_LEN + 1];
	struct ks_traceparent tp;

	assert_true(parse(text, &tp));
	memset(buf, 'x', sizeof(buf));
	ks_traceparent_format(&tp, buf);
	assert_string_equal(buf, text);
}

static void test_format_writes_version_00(void **state)
{
	char buf[KS_TRACEPARENT_LEN + 1];
	struct ks_traceparent tp;

	assert_true(parse("cc-" TRACE_ID "-" PARENT_ID "-03-more", &tp));
	ks_traceparent_format(&tp, buf);
	assert_string_equal(buf, "00-" TRACE_ID "-" PARENT_ID "-01");
}

static void test_tracestate_valid_lists(void **state)
{
	static const char *const valid[] = {
		"",
		"congo=t61rcWkgMzE",
		"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
		" rojo=1 ,\tcongo=2\t",
		/* Empty members are allowed. */
		"rojo=1,,congo=2",
		",",
		"fw529a3039@dt=FW4;0;0;0",
		"1tenant@sys-1=v",
		"a_b-c*d/e=x",
		"key=value with spaces",
		"k=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		if (!valid_tracestate(valid[i]))
			fail_msg("rejected \"%s\"", valid[i]);
	}
}

static void test_tracestate_invalid_lists(void **state)
{
	static const char *const invalid[] = {
		"Rojo=1",
		"rojo",
		"rojo=",
		"=1",
		"rojo=1=2",
		"rojo=1,rojo=2",
		"1rojo=1",
		"t@1sys=1",
		"t@=1",
		"@sys=1",
		"t@systemid-too-long=1",
		"rojo=caf\xc3\xa9",
		"rojo=a\tb",
	};

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (valid_tracestate(invalid[i]))
			fail_msg("accepted \"%s\"", invalid[i]);
	}
}

static void test_tracestate_limits(void **state)
{
	char list[2048];
	size_t len = 0;

	/* 32 members fit, a 33rd does not. */
	for (int i = 0; i < KS_TRACESTATE_MEMBERS_MAX; i++)
		len += (size_t)sprintf(list + len, "%sk%d=v", i ? "," : "", i);
	assert_true(ks_tracestate_valid(list, len));
	len += (size_t)sprintf(list + len, ",k99=v");
	assert_false(ks_tracestate_valid(list, len));

	/* 512 characters fit, 513 do not. */
	memset(list, 'v', sizeof(list));
	memcpy(list, "k=", 2);
	memcpy(list + 256, ",l=", 3);
	assert_true(ks_tracestate_valid(list, KS_TRACESTATE_MAX));
	assert_false(ks_tracestate_valid(list, KS_TRACESTATE_MAX + 1));

	/* A simple key has at most 256 characters. */
	memset(list, 'k', 256);
	list[256] = '=';
	list[257] = 'v';
	assert_true(ks_tracestate_valid(list, 258));
	memset(list, 'k', 257);
	list[257] = '=';
	list[258] = 'v';
	assert_false(ks_tracestate_valid(list, 259));
}

static void test_tracestate_long_value(void **state)
{
	char list[300];

	memset(list, 'v', sizeof(list));
	memcpy(list, "k=", 2);
	assert_true(ks_tracestate_valid(list, 2 + 256));
	assert_false(ks_tracestate_valid(list, 2 + 257));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_00_decodes),
		cmocka_unit_test(test_version_00_keeps_unknown_flags),
		cmocka_unit_test(test_version_00_rejects_malformed),
		cmocka_unit_test(test_later_version_forward_compatible),
		cmocka_unit_test(test_format_round_trips),
		cmocka_unit_test(test_format_writes_version_00),
		cmocka_unit_test(test_tracestate_valid_lists),
		cmocka_unit_test(test_tracestate_invalid_lists),
		cmocka_unit_test(test_tracestate_limits),
		cmocka_unit_test(test_tracestate_long_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
