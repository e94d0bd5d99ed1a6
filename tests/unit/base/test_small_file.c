// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The readers of small /proc, /sys and /etc files. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/small_file.h"

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/ks-small-file-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_whole_file_or_what_fits(void **state)
{
	char *path = write_temp("abcdef\nghi\n");
	char buf[64], small[5];

	assert_int_equal(ks_read_small_file(path, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "abcdef\nghi\n");
	/* What does not fit is not read; the rest is terminated. */
	assert_int_equal(ks_read_small_file(path, small, sizeof(small)), 4);
	assert_string_equal(small, "abcd");
	assert_int_equal(ks_read_first_line(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abcdef");
	unlink(path);
	free(path);
	assert_int_equal(ks_read_small_file("/nonexistent/x", buf, 8), -1);
	assert_int_equal(ks_read_first_line("/nonexistent/x", buf, 8), -1);
	assert_string_equal(buf, "");
}

static void test_status_fields_by_whole_key(void **state)
{
	const char *status = "Name:\tcat\nUmask:\t0022\nUid:\t1000\t1000\n"
			     "CapEff:\t000001ffffffffff\nSeccomp:\t2\n";

	assert_string_equal(ks_status_field(status, "Name"),
			    "cat\nUmask:\t0022\nUid:\t1000\t1000\n"
			    "CapEff:\t000001ffffffffff\nSeccomp:\t2\n");
	assert_int_equal(strtoul(ks_status_field(status, "Uid"), NULL, 10),
			 1000);
	assert_int_equal(strtoul(ks_status_field(status, "Seccomp"), NULL, 10),
			 2);
	/* A key is matched whole, at the start of a line. */
	assert_null(ks_status_field(status, "Cap"));
	assert_null(ks_status_field(status, "mask"));
	assert_null(ks_status_field("", "Uid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_file_or_what_fits),
		cmocka_unit_test(test_status_fields_by_whole_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
