// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* RED metrics of HTTP spans: a series per process and attribute set. */
#include "unit.h"

#include "httptrace/http_metrics.h"

static struct ks_http_span request(uint32_t tgid, const char *method)
{
	struct ks_http_span s = {
		.kind = KS_HTTP_SPAN_SERVER,
		.tgid = tgid,
		.status = 200,
		.version_minor = 1,
		.method_known = true,
		.start_ns = 1000,
		.end_ns = 3000,
	};

	strcpy(s.method, method);
	return s;
}

struct seen {
	unsigned int nr;
	uint32_t tgid[4];
	uint64_t count[4];
	char method[4][KS_HTTP_METHOD_MAX + 1];
};

static void see(void *ctx, uint32_t tgid, const struct ks_http_series *series)
{
	struct seen *seen = ctx;

	assert_true(seen->nr < 4);
	seen->tgid[seen->nr] = tgid;
	seen->count[seen->nr] = series->summary.count;
	strcpy(seen->method[seen->nr++], series->key.method);
}

/*
 * Processes looked up one after the other, one dropped and seen again:
 * each request counts in its own process's series.
 */
static void test_requests_count_in_their_process(void **state)
{
	struct ks_http_metrics metrics = { 0 };
	struct ks_http_span first = request(1, "GET");
	struct ks_http_span second = request(2, "POST");
	struct seen seen = { 0 };

	ks_http_metrics_record(&metrics, &first);
	ks_http_metrics_record(&metrics, &first);
	ks_http_metrics_record(&metrics, &second);
	ks_http_metrics_record(&metrics, &first);
	ks_http_metrics_drop_process(&metrics, 2);
	ks_http_metrics_drop_process(&metrics, 1);
	ks_http_metrics_record(&metrics, &first);
	ks_http_metrics_record(&metrics, &second);
	ks_http_metrics_foreach(&metrics, see, &seen);
	assert_int_equal(seen.nr, 2);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(seen.count[i], 1);
		assert_string_equal(seen.method[i],
				    seen.tgid[i] == 1 ? "GET" : "POST");
	}
	ks_http_metrics_clear(&metrics);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_count_in_their_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
