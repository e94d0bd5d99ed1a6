// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP/HTTP transport's set-up when memory runs out: libcurl's own
 * allocations (its header lists among them) go through allocators this
 * test installs, which fail the Nth one and count what is not given back.
 */
#include "unit.h"

#include <curl/curl.h>

#include "otlp/otlp_http.h"

static long countdown = -1;
static long outstanding;

static bool fail_now(void)
{
	return countdown >= 0 && countdown-- == 0;
}

static void *counted(void *ptr)
{
	outstanding += ptr != NULL;
	return ptr;
}

static void *failing_malloc(size_t size)
{
	return fail_now() ? NULL : counted(malloc(size));
}

static void counting_free(void *ptr)
{
	outstanding -= ptr != NULL;
	free(ptr);
}

static void *failing_realloc(void *ptr, size_t size)
{
	void *grown;

	if (fail_now())
		return NULL;
	grown = realloc(ptr, size);
	if (!ptr)
		counted(grown);
	return grown;
}

static char *failing_strdup(const char *text)
{
	return fail_now() ? NULL : counted(strdup(text));
}

static void *failing_calloc(size_t nmemb, size_t size)
{
	return fail_now() ? NULL : counted(calloc(nmemb, size));
}

static void test_set_up_gives_back_everything_when_memory_runs_out(void **s)
{
	struct ks_otlp_pair headers[] = {
		{ "authorization", "Bearer t0k" },
		{ "x-team", "core" },
	};
	struct ks_otlp_target target = {
		.enabled = true,
		.url = "http://127.0.0.1:4318/v1/traces",
		.headers = { .items = headers, .nr = 2 },
		.gzip = true,
		.timeout_ms = 1000,
	};
	char err[KS_OTLP_ERR_SIZE];
	long baseline = outstanding;
	long n;

	for (n = 0; n < 1000; n++) {
		struct ks_otlp_http *http;

		countdown = n;
		http = ks_otlp_http_new(&target, err, sizeof(err));
		ks_otlp_http_free(http);
		assert_int_equal(outstanding, baseline);
		if (countdown >= 0)
			break;
	}
	countdown = -1;
	assert_true(n < 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_set_up_gives_back_everything_when_memory_runs_out),
	};

	curl_global_init_mem(CURL_GLOBAL_DEFAULT, failing_malloc, counting_free,
			     failing_realloc, failing_strdup, failing_calloc);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
