// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a process says about itself, in its environment. */
#include "unit.h"

#include "base/proc.h"
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

/*
 * The same derivation as Python's uuid.uuid5(UUID("4d63009a-8d0f-11ee-
 * aad7-4c796ed8e320"), "f3b1d7c2-.../4242/987654"), computed apart.
 */
static void test_instance_id_is_uuid5_of_boot_pid_and_start(void **state)
{
	struct ks_host_meta host = { .boot_id = "f3b1d7c2-8a43-4c1e-9d2f-"
						"0a1b2c3d4e5f" };
	char id[KS_UUID_TEXT_SIZE];

	ks_proc_set_root(KS_UNIT_FIXTURES "/proc");
	assert_int_equal(ks_service_instance_id(&host, 4242, 0, id), 0);
	assert_string_equal(id, "eb6c6dee-fff8-52d5-b288-d6785422f14e");
	/* Another boot: another instance, though pid and start match. */
	host.boot_id[0] = '0';
	assert_int_equal(ks_service_instance_id(&host, 4242, 0, id), 0);
	assert_string_not_equal(id, "eb6c6dee-fff8-52d5-b288-d6785422f14e");
	/* A process that is gone has no start time, hence no id. */
	assert_int_equal(ks_service_instance_id(&host, 4243, 0, id), -1);
	/* Unless the model knew when it started. */
	assert_int_equal(ks_service_instance_id(&host, 4243, 987654, id), 0);
	ks_proc_set_root("/proc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_lookup),
		cmocka_unit_test(
			test_instance_id_is_uuid5_of_boot_pid_and_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
