// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Records as the agent first meets them: named, and checked whole. */
#include "unit.h"

#include "model/record.h"

static void test_every_kind_has_a_name(void **state)
{
	for (unsigned int kind = 1; kind < KS_EV_KIND_MAX; kind++)
		assert_string_not_equal(ks_record_kind_name(kind), "unknown");
	assert_string_equal(ks_record_kind_name(0), "unknown");
	assert_string_equal(ks_record_kind_name(KS_EV_KIND_MAX), "unknown");
	assert_string_equal(ks_record_kind_name(KS_EV_SOCK_DATA), "sock_data");
}

static void test_only_whole_records_of_known_kinds_are_valid(void **state)
{
	struct ks_wait_end rec = { 0 };
	struct ks_sock_data *data;
	size_t with_bytes = sizeof(*data) + 16;

	rec.hdr.kind = KS_EV_WAIT_END;
	rec.hdr.size = sizeof(rec);
	assert_true(ks_record_valid(&rec, sizeof(rec)));
	/* The header must say the size the ring buffer gave. */
	assert_false(ks_record_valid(&rec, sizeof(rec) - 1));
	rec.hdr.size = sizeof(rec) - 8;
	assert_false(ks_record_valid(&rec, sizeof(rec) - 8));
	assert_false(ks_record_valid(&rec, 4));
	rec.hdr.size = sizeof(rec);
	rec.hdr.kind = 0;
	assert_false(ks_record_valid(&rec, sizeof(rec)));
	rec.hdr.kind = KS_EV_KIND_MAX;
	assert_false(ks_record_valid(&rec, sizeof(rec)));

	/* Socket data records carry their bytes after the fixed part. */
	data = calloc(1, with_bytes);
	assert_non_null(data);
	data->hdr.kind = KS_EV_SOCK_DATA;
	data->hdr.size = (uint16_t)with_bytes;
	assert_true(ks_record_valid(data, with_bytes));
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_has_a_name),
		cmocka_unit_test(
			test_only_whole_records_of_known_kinds_are_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
