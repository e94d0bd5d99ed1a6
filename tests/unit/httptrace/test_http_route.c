// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* http.route templates. */
#include "unit.h"

#include "httptrace/http_route.h"

static const char *match(const struct ks_http_routes *routes, const char *path)
{
	return ks_http_route_match(routes, path, strlen(path));
}

static void test_match(void **state)
{
	struct ks_http_routes routes = {
		.templates = { "/users/{id}", "/users/{id}/orders/{order}",
			       "/static/*", "/" },
		.nr = 4,
	};

	assert_string_equal(match(&routes, "/users/42"), "/users/{id}");
	assert_string_equal(match(&routes, "/users/42/orders/7"),
			    "/users/{id}/orders/{order}");
	assert_null(match(&routes, "/users/"));
	assert_null(match(&routes, "/users/42/"));
	assert_null(match(&routes, "/users/42/orders"));
	assert_string_equal(match(&routes, "/static/css/a.css"), "/static/*");
	assert_string_equal(match(&routes, "/static"), "/static/*");
	assert_string_equal(match(&routes, "/"), "/");
	assert_null(match(&routes, "/other"));
	assert_null(match(&routes, ""));
	assert_null(match(NULL, "/"));
	/* Only the path's first len bytes count: the query is not path. */
	assert_string_equal(ks_http_route_match(&routes, "/users/42?x", 9),
			    "/users/{id}");
}

static void test_valid(void **state)
{
	assert_true(ks_http_route_valid("/a/{b}/*"));
	assert_true(ks_http_route_valid("/"));
	assert_false(ks_http_route_valid("a/b"));
	assert_false(ks_http_route_valid(""));
	assert_false(ks_http_route_valid("/a/*/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
