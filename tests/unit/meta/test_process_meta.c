// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a process says about itself, in its environment. */
#include "unit.h"

#include "meta/process_meta.h"

static void test_environment_lookup(void **state)
{
	static const char block[] = "PATH=/bin\0OTEL_SERVICE_NAME=checkout\0"
				    "OTEL_SERVICE_NAME_X=no\0EMPTY=\0";

	assert_string_equal(
		ks_environ_get(block, sizeof(block) - 1, "OTEL_SERVICE_NAME"),
		"checkout");
	assert_string_equal(ks_environ_get(block, sizeof(block) - 1, "EMPTY"),
			    "");
	assert_null(ks_environ_get(block, sizeof(block) - 1, "OTEL"));
	assert_null(ks_environ_get(block, sizeof(block) - 1, "MISSING"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
