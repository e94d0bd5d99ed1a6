// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Traced processes' text, made safe to print. */
#include "unit.h"

#include "base/printable.h"

static void assert_printable(const char *text, const char *expected)
{
	char out[KS_PRINTABLE_SIZE(64)];

	assert_string_equal(ks_printable(text, out, sizeof(out)), expected);
}

static void test_plain_text_is_kept(void **state)
{
	assert_printable("worker-3", "worker-3");
	assert_printable("", "");
	/* UTF-8 names stay readable: café, 数据, an emoji. */
	assert_printable(
		"caf\xc3\xa9 \xe6\x95\xb0\xe6\x8d\xae \xf0\x9f\x94\x92",
		"caf\xc3\xa9 \xe6\x95\xb0\xe6\x8d\xae \xf0\x9f\x94\x92");
}

static void test_terminal_controls_are_escaped(void **state)
{
	assert_printable("\x1b[2J\x1b[31mPWN\a", "\\x1b[2J\\x1b[31mPWN\\x07");
	assert_printable("x\nknotscope: OK", "x\\x0aknotscope: OK");
	assert_printable("a\rb\tc\x7f", "a\\x0db\\x09c\\x7f");
	/* C1 controls, raw or encoded: CSI is one of them. */
	assert_printable("\x9b"
			 "2J",
			 "\\x9b2J");
	assert_printable("\xc2\x9b"
			 "2J",
			 "\\xc2\\x9b2J");
	/* A right-to-left override would reorder the rest of the line. */
	assert_printable("ab\xe2\x80\xae"
			 "cd",
			 "ab\\xe2\\x80\\xaecd");
}

static void test_escapes_cannot_be_forged(void **state)
{
	assert_printable("\\x1b", "\\\\x1b");
}

static void test_malformed_utf8_is_escaped_byte_by_byte(void **state)
{
	assert_printable("\xff\xfe", "\\xff\\xfe");
	/* Overlong '/', a surrogate, a sequence cut short. */
	assert_printable("\xc0\xaf", "\\xc0\\xaf");
	assert_printable("\xed\xa0\x80", "\\xed\\xa0\\x80");
	assert_printable("\xe6\x95", "\\xe6\\x95");
}

static void test_cut_at_a_whole_escape(void **state)
{
	char out[6];

	assert_string_equal(ks_printable("ab\ncd", out, sizeof(out)), "ab");
	assert_string_equal(ks_printable("abcdefgh", out, sizeof(out)),
			    "abcde");
	assert_string_equal(
		ks_printable("\xe6\x95\xb0\xe6\x95\xb0", out, sizeof(out)),
		"\xe6\x95\xb0");
}

static void test_printable_predicate(void **state)
{
	assert_true(ks_is_printable("prod eu \\ caf\xc3\xa9"));
	assert_true(ks_is_printable(""));
	assert_false(ks_is_printable("a\nb"));
	assert_false(ks_is_printable("\xff"));
	assert_false(ks_is_printable("\xe2\x80\xae"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_kept),
		cmocka_unit_test(test_terminal_controls_are_escaped),
		cmocka_unit_test(test_escapes_cannot_be_forged),
		cmocka_unit_test(test_malformed_utf8_is_escaped_byte_by_byte),
		cmocka_unit_test(test_cut_at_a_whole_escape),
		cmocka_unit_test(test_printable_predicate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
