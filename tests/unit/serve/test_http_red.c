// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HTTP rate, errors and duration per service and route, bounded. */
#include <stdio.h>

#include "unit.h"

#include "httptrace/traceparent.h"
#include "serve/http_red.h"

#define MS 1000000ull
#define S (1000 * MS)

static struct ks_http_span span_of(const char *target, uint16_t status,
				   uint64_t ms, uint8_t trace_byte)
{
	struct ks_http_span span = {
		.kind = KS_HTTP_SPAN_SERVER,
		.start_ns = 100 * S,
		.end_ns = 100 * S + ms * MS,
		.method_known = true,
		.status = status,
		.trace_flags = KS_TRACE_FLAG_SAMPLED,
	};

	strcpy(span.method, "GET");
	snprintf(span.target, sizeof(span.target), "%s?q=1", target);
	span.path_len = (uint16_t)strlen(target);
	memset(span.trace_id, trace_byte, sizeof(span.trace_id));
	return span;
}

static json_object *row_of(json_object *doc, size_t i)
{
	json_object *rows;

	assert_true(json_object_object_get_ex(doc, "rows", &rows));
	return json_object_array_get_idx(rows, i);
}

static const char *str(json_object *obj, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');
	json_object *member;

	if (dot) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		assert_true(json_object_object_get_ex(obj, key, &member));
		return str(member, dot + 1);
	}
	assert_true(json_object_object_get_ex(obj, path, &member));
	return json_object_get_string(member);
}

static void test_rows_rates_and_exemplars(void **state)
{
	struct ks_http_red *red = ks_http_red_new();
	struct ks_http_span span;
	json_object *doc;

	for (int i = 0; i < 30; i++) {
		span = span_of("/users/7", 200, 2, 0x11);
		span.route = "/users/{id}";
		ks_http_red_add(red, "checkout", &span, 100 * S);
	}
	span = span_of("/users/8", 200, 900, 0x22);
	span.route = "/users/{id}";
	ks_http_red_add(red, "checkout", &span, 101 * S);
	span = span_of("/pay", 503, 40, 0x33);
	ks_http_red_add(red, "checkout", &span, 102 * S);

	doc = ks_http_red_json(red, 105 * S);
	assert_string_equal(str(row_of(doc, 0), "route"), "/users/{id}");
	assert_string_equal(str(row_of(doc, 0), "requests"), "31");
	assert_string_equal(str(row_of(doc, 0), "errors"), "0");
	/* The slowest of the minute, linked by its trace. */
	assert_string_equal(str(row_of(doc, 0), "slowest.trace_id"),
			    "22222222222222222222222222222222");
	/* No route: the path, without its query. */
	assert_string_equal(str(row_of(doc, 1), "route"), "/pay");
	assert_string_equal(str(row_of(doc, 1), "errors"), "1");
	assert_string_equal(str(row_of(doc, 1), "last_error.status"), "503");
	json_object_put(doc);

	/* Two minutes later: totals stay, the minute is empty. */
	doc = ks_http_red_json(red, 225 * S);
	assert_string_equal(str(row_of(doc, 0), "minute_requests"), "0");
	assert_string_equal(str(row_of(doc, 0), "rate_per_s"), "0.0");
	assert_null(json_object_object_get(row_of(doc, 0), "slowest"));
	json_object_put(doc);
	ks_http_red_free(red);
}

static void test_bounded(void **state)
{
	struct ks_http_red *red = ks_http_red_new();
	struct ks_http_span span;
	json_object *doc, *rows;
	char path[32];

	for (int i = 0; i < KS_RED_MAX_ROWS + 50; i++) {
		snprintf(path, sizeof(path), "/item/%d", i);
		span = span_of(path, 200, 1, 1);
		ks_http_red_add(red, "shop", &span, 100 * S);
	}
	doc = ks_http_red_json(red, 100 * S);
	json_object_object_get_ex(doc, "rows", &rows);
	assert_int_equal(json_object_array_length(rows), KS_RED_MAX_ROWS);
	assert_string_equal(str(doc, "overflow"), "50");
	json_object_put(doc);
	ks_http_red_free(red);
}

static const char *route_of_row(json_object *doc, const char *service,
				const char *kind, const char *method)
{
	json_object *rows, *row;

	assert_true(json_object_object_get_ex(doc, "rows", &rows));
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		if (!strcmp(str(row, "service"), service) &&
		    !strcmp(str(row, "kind"), kind) &&
		    !strcmp(str(row, "method"), method))
			return str(row, "route");
	}
	return NULL;
}

/* Each part of a row's key keeps it apart; routes are cut at 255 bytes. */
static void test_keys(void **state)
{
	struct ks_http_red *red = ks_http_red_new();
	struct ks_http_span span;
	char path[KS_HTTP_TARGET_MAX + 1], service[320];
	json_object *doc, *rows;

	span = span_of("/a", 200, 1, 1);
	ks_http_red_add(red, "shop", &span, 100 * S);
	ks_http_red_add(red, "shop2", &span, 100 * S);
	strcpy(span.method, "POST");
	ks_http_red_add(red, "shop", &span, 100 * S);
	span.method_known = false;
	ks_http_red_add(red, "shop", &span, 100 * S);
	span = span_of("/a", 200, 1, 1);
	span.kind = KS_HTTP_SPAN_CLIENT;
	strcpy(span.host, "/a");
	ks_http_red_add(red, "shop", &span, 100 * S);
	/* Two paths alike in their first 255 bytes share a row. */
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[KS_HTTP_TARGET_MAX] = '\0';
	span = span_of(path, 200, 1, 1);
	ks_http_red_add(red, "long", &span, 100 * S);
	path[255] = 'q';
	span = span_of(path, 200, 1, 1);
	ks_http_red_add(red, "long", &span, 100 * S);
	/* A key too long for a row, even an "(other)" one: overflow. */
	memset(service, 's', sizeof(service) - 1);
	service[sizeof(service) - 1] = '\0';
	span = span_of("/a", 200, 1, 1);
	ks_http_red_add(red, service, &span, 100 * S);

	doc = ks_http_red_json(red, 100 * S);
	json_object_object_get_ex(doc, "rows", &rows);
	assert_int_equal(json_object_array_length(rows), 6);
	assert_string_equal(route_of_row(doc, "shop", "server", "GET"), "/a");
	assert_string_equal(route_of_row(doc, "shop2", "server", "GET"), "/a");
	assert_string_equal(route_of_row(doc, "shop", "server", "POST"), "/a");
	assert_string_equal(route_of_row(doc, "shop", "server", "_OTHER"),
			    "/a");
	assert_string_equal(route_of_row(doc, "shop", "client", "GET"), "/a");
	path[255] = '\0';
	assert_string_equal(route_of_row(doc, "long", "server", "GET"), path);
	assert_string_equal(str(doc, "overflow"), "1");
	json_object_put(doc);
	ks_http_red_free(red);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_rates_and_exemplars),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
