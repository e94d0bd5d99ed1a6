// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which file of a --precise process to probe, from its maps. */
#include "fake_proc.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "capture/precise.h"

static char root[] = "/tmp/knotscope-precise-XXXXXX";

static int setup(void **state)
{
	if (fake_proc_setup(root))
		return -1;
	fake_proc_write_maps(
		root, "20",
		"55d0c0a46000-55d0c0a47000 r--p 00000000 08:01 1 /srv/app\n"
		"7f96fdd2d000-7f96fdd53000 r--p 00000000 08:01 2 "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n"
		"7f96fdf00000-7f96fdf01000 r--p 00000000 08:01 3 "
		"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n");
	/* Just after exec: the program and its loader, no libc yet. */
	fake_proc_write_maps(
		root, "21",
		"55d0c0a46000-55d0c0a47000 r--p 00000000 08:01 1 /srv/app\n"
		"7f96fdf00000-7f96fdf01000 r--p 00000000 08:01 3 "
		"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n");
	/* Static: no loader, ever. */
	fake_proc_write_maps(
		root, "22",
		"00400000-00401000 r--p 00000000 08:01 6 /srv/static\n");
	return 0;
}

static int teardown(void **state)
{
	return fake_proc_teardown(root);
}

static void test_libc_of_a_dynamic_program(void **state)
{
	char path[PATH_MAX], want[PATH_MAX];

	assert_int_equal(ks_precise_find_library(20, path, sizeof(path)), 0);
	snprintf(want, sizeof(want),
		 "%s/20/root/usr/lib/x86_64-linux-gnu/libc.so.6", root);
	assert_string_equal(path, want);
}

static void test_not_yet_while_the_loader_maps(void **state)
{
	char path[PATH_MAX];

	assert_int_equal(ks_precise_find_library(21, path, sizeof(path)),
			 -EAGAIN);
}

static void test_a_static_program_itself(void **state)
{
	char path[PATH_MAX], want[PATH_MAX];

	assert_int_equal(ks_precise_find_library(22, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/22/exe", root);
	assert_string_equal(path, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc_of_a_dynamic_program),
		cmocka_unit_test(test_not_yet_while_the_loader_maps),
		cmocka_unit_test(test_a_static_program_itself),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
