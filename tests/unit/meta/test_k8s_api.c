// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watch streams read as the network cuts them: objects split anywhere,
 * several in one chunk; and bodies that are not JSON end the transfer.
 */
#include <stdio.h>

#include "unit.h"

#include "meta/k8s_api.h"

struct seen {
	int nr;
	char types[8][16];
};

static int on_object(void *ctx, json_object *obj)
{
	struct seen *seen = ctx;
	json_object *type;

	if (!json_object_object_get_ex(obj, "type", &type))
		return -1;
	snprintf(seen->types[seen->nr++], sizeof(seen->types[0]), "%s",
		 json_object_get_string(type));
	return 0;
}

static void test_stream_cut_anywhere(void **state)
{
	static const char stream[] =
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
		"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\"}}\n"
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
		"{\"resourceVersion\":\"12\"}}}\n";
	size_t len = strlen(stream);

	/* Every size of cut, from a byte at a time to all at once. */
	for (size_t step = 1; step <= len; step++) {
		struct ks_k8s_reader reader;
		struct seen seen = { 0 };

		assert_int_equal(ks_k8s_reader_init(&reader, on_object, &seen),
				 0);
		for (size_t at = 0; at < len; at += step) {
			size_t n = len - at < step ? len - at : step;

			assert_int_equal(
				ks_k8s_reader_write((char *)stream + at, 1, n,
						    &reader),
				n);
		}
		assert_false(reader.failed);
		assert_int_equal(seen.nr, 3);
		assert_string_equal(seen.types[0], "ADDED");
		assert_string_equal(seen.types[2], "BOOKMARK");
		ks_k8s_reader_clear(&reader);
	}
}

static void test_not_json_ends_it(void **state)
{
	static const char page[] = "<html>502 Bad Gateway</html>";
	struct ks_k8s_reader reader;
	struct seen seen = { 0 };

	assert_int_equal(ks_k8s_reader_init(&reader, on_object, &seen), 0);
	assert_int_equal(
		ks_k8s_reader_write((char *)page, 1, strlen(page), &reader), 0);
	assert_true(reader.failed);
	assert_int_equal(seen.nr, 0);
	ks_k8s_reader_clear(&reader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_cut_anywhere),
		cmocka_unit_test(test_not_json_ends_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
