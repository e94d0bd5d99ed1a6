// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's own memory, and its control group's limit. */
#include "unit.h"

#include <stdio.h>
#include <sys/stat.h>

#include "base/memory.h"

static char root[64];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256], command[320];
	FILE *f;

	snprintf(command, sizeof(command), "mkdir -p %s%s", root, dir);
	assert_int_equal(system(command), 0);
	snprintf(path, sizeof(path), "%s%s/%s", root, dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int make_root(void **state)
{
	snprintf(root, sizeof(root), "/tmp/ks-cgroup-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int remove_root(void **state)
{
	char command[128];

	snprintf(command, sizeof(command), "rm -rf %s", root);
	return system(command);
}

static void test_resident_size_of_this_process(void **state)
{
	uint64_t before = ks_memory_resident();
	volatile char *block = malloc(64 << 20);

	assert_true(before > 0);
	/* One byte a page is enough to make every page resident. */
	for (size_t i = 0; i < 64 << 20; i += 4096)
		block[i] = 1;
	assert_true(ks_memory_resident() >= before + (60 << 20));
	assert_true(ks_memory_peak() >= before + (60 << 20));
	free((void *)block);
}

/* v2: the smallest memory.max on the way up; "max" is none. */
static void test_v2_smallest_limit_up_the_tree(void **state)
{
	write_file("", "memory.max", "max\n");
	write_file("/kubepods", "memory.max", "1073741824\n");
	write_file("/kubepods/pod1", "memory.max", "268435456\n");
	write_file("/kubepods/pod1/agent", "memory.max", "max\n");
	assert_int_equal(
		ks_memory_cgroup_limit_in("0::/kubepods/pod1/agent\n", root),
		268435456);
	assert_int_equal(ks_memory_cgroup_limit_in("0::/\n", root), 0);
	assert_int_equal(ks_memory_cgroup_limit_in("0::/elsewhere\n", root), 0);
}

/* v1: memory.limit_in_bytes, and its huge "unlimited". */
static void test_v1_memory_hierarchy(void **state)
{
	write_file("/memory", "memory.limit_in_bytes", "9223372036854771712\n");
	write_file("/memory/ks", "memory.limit_in_bytes", "134217728\n");
	assert_int_equal(ks_memory_cgroup_limit_in("12:pids:/\n"
						   "4:cpu,memory:/ks\n"
						   "0::/\n",
						   root),
			 134217728);
	assert_int_equal(ks_memory_cgroup_limit_in("4:memory:/\n", root), 0);
	assert_int_equal(ks_memory_cgroup_limit_in("4:memoryx:/ks\n", root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resident_size_of_this_process),
		cmocka_unit_test_setup_teardown(
			test_v2_smallest_limit_up_the_tree, make_root,
			remove_root),
		cmocka_unit_test_setup_teardown(test_v1_memory_hierarchy,
						make_root, remove_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
