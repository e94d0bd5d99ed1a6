// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Findings kept across restarts in a bounded file. */
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#include "serve/history.h"

static char path[64];

static int make_path(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ks-history-XXXXXX");
	fd = mkstemp(path);
	close(fd);
	unlink(path);
	return 0;
}

static int remove_path(void **state)
{
	unlink(path);
	return 0;
}

static size_t lines_of(const char *file)
{
	FILE *f = fopen(file, "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_survives_a_restart(void **state)
{
	struct ks_history *history = ks_history_open(path, 4);
	FILE *f;

	ks_history_append(history, "deadlock",
			  "{\"type\":\"deadlock\",\"id\":\"a\"}");
	ks_history_append(history, "stall",
			  "{\"type\":\"stall\",\"id\":\"b\"}");
	assert_int_equal(ks_history_count(history), 2);
	ks_history_close(history);
	/* What a crash mid-line or someone else's editor leaves. */
	f = fopen(path, "a");
	fputs("{\"type\":\"dead\nnot json\n[1,2]\n{\"id\":\"no type\"}\n", f);
	fclose(f);

	history = ks_history_open(path, 4);
	assert_int_equal(ks_history_count(history), 2);
	assert_int_equal(ks_history_skipped(history), 4);
	assert_string_equal(ks_history_type(history, 0), "deadlock");
	assert_string_equal(
		ks_history_record(history, 0),
		"{\"type\":\"deadlock\",\"id\":\"a\",\"restored\":true}");
	assert_string_equal(ks_history_type(history, 1), "stall");
	ks_history_close(history);
}

static void test_bounded_in_memory_and_on_disk(void **state)
{
	struct ks_history *history = ks_history_open(path, 4);
	char record[64];

	for (int i = 0; i < 20; i++) {
		snprintf(record, sizeof(record),
			 "{\"type\":\"deadlock\",\"n\":%d}", i);
		ks_history_append(history, "deadlock", record);
		assert_true(ks_history_count(history) <= 4);
		/* Rewritten with the latest 4 once past 8 lines. */
		assert_true(lines_of(path) <= 8);
	}
	assert_int_equal(ks_history_total(history), 20);
	assert_string_equal(ks_history_record(history, 3),
			    "{\"type\":\"deadlock\",\"n\":19}");
	ks_history_close(history);
	history = ks_history_open(path, 4);
	assert_int_equal(ks_history_count(history), 4);
	assert_string_equal(
		ks_history_record(history, 0),
		"{\"type\":\"deadlock\",\"n\":16,\"restored\":true}");
	ks_history_close(history);
}

/* A file it cannot write: the records stay in memory, the agent goes on. */
static void test_unwritable_file(void **state)
{
	struct ks_history *history =
		ks_history_open("/proc/self/no/such/dir/history", 4);

	assert_non_null(history);
	ks_history_append(history, "deadlock", "{\"type\":\"deadlock\"}");
	assert_int_equal(ks_history_count(history), 1);
	ks_history_close(history);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_survives_a_restart,
						make_path, remove_path),
		cmocka_unit_test_setup_teardown(
			test_bounded_in_memory_and_on_disk, make_path,
			remove_path),
		cmocka_unit_test(test_unwritable_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
