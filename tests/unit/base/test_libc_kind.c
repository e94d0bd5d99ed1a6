// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which C library a process runs on, from its mappings or its executable. */
#include "fake_proc.h"

#include <unistd.h>

#include "base/libc_kind.h"

static char root[] = "/tmp/knotscope-libc-XXXXXX";

static void write_maps(const char *pid, const char *text)
{
	fake_proc_write_maps(root, pid, text);
}

static int setup(void **state)
{
	if (fake_proc_setup(root))
		return -1;
	write_maps("10",
		   "55d0c0a46000-55d0c0a47000 r--p 00000000 08:01 1 /srv/abba\n"
		   "7f96fdd2d000-7f96fdd53000 r--p 00000000 08:01 2 "
		   "/usr/lib/x86_64-linux-gnu/libc.so.6\n");
	write_maps("11",
		   "5585965dd000-5585965de000 r--p 00000000 08:01 3 /srv/app\n"
		   "7f5cb2e00000-7f5cb2e14000 r--p 00000000 08:01 4 "
		   "/lib/ld-musl-x86_64.so.1\n");
	/* Alpine names musl's libc after the loader's twin. */
	write_maps("12", "7f5cb2e00000-7f5cb2e14000 r-xp 00000000 08:01 5 "
			 "/usr/lib/libc.musl-x86_64.so.1\n");
	/* Debian's ld-musl-x86_64.so.1 links to the triplet's libc.so. */
	write_maps("14", "7f64f7d51000-7f64f7d65000 r--p 00000000 08:01 7 "
			 "/usr/lib/x86_64-linux-musl/libc.so\n");
	/* A static program without an executable to read. */
	write_maps("13",
		   "00400000-00401000 r--p 00000000 08:01 6 /srv/static\n");
	return 0;
}

static int teardown(void **state)
{
	return fake_proc_teardown(root);
}

static void test_mappings_name_the_library(void **state)
{
	assert_int_equal(ks_proc_libc(10), KS_LIBC_GLIBC);
	assert_int_equal(ks_proc_libc(11), KS_LIBC_MUSL);
	assert_int_equal(ks_proc_libc(12), KS_LIBC_MUSL);
	assert_int_equal(ks_proc_libc(14), KS_LIBC_MUSL);
}

static void test_unknown_without_library_or_executable(void **state)
{
	assert_int_equal(ks_proc_libc(13), KS_LIBC_UNKNOWN);
	assert_int_equal(ks_proc_libc(99), KS_LIBC_UNKNOWN);
	assert_string_equal(ks_libc_name(KS_LIBC_UNKNOWN), "unknown");
}

static void test_this_process_runs_on_glibc(void **state)
{
	ks_proc_set_root("/proc");
	assert_int_equal(ks_proc_libc((uint32_t)getpid()), KS_LIBC_GLIBC);
	assert_string_equal(ks_libc_name(KS_LIBC_GLIBC), "glibc");
	ks_proc_set_root(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mappings_name_the_library),
		cmocka_unit_test(test_unknown_without_library_or_executable),
		cmocka_unit_test(test_this_process_runs_on_glibc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
