// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which OTLP exports are retried, after how long. */
#include "unit.h"

#include "otlp/otlp_retry.h"

static void test_status_verdicts_follow_the_spec(void **state)
{
	static const long delivered[] = { 200, 202, 204 };
	static const long retried[] = { 429, 502, 503, 504 };
	static const long given_up[] = { 100, 301, 400, 401, 403, 404,
					 408, 413, 415, 500, 501, 505 };

	for (size_t i = 0; i < sizeof(delivered) / sizeof(*delivered); i++)
		assert_int_equal(ks_otlp_verdict_for_status(delivered[i]),
				 KS_OTLP_DELIVERED);
	for (size_t i = 0; i < sizeof(retried) / sizeof(*retried); i++)
		assert_int_equal(ks_otlp_verdict_for_status(retried[i]),
				 KS_OTLP_RETRY);
	for (size_t i = 0; i < sizeof(given_up) / sizeof(*given_up); i++)
		assert_int_equal(ks_otlp_verdict_for_status(given_up[i]),
				 KS_OTLP_GIVE_UP);
}

static void test_dropped_connections_are_retried(void **state)
{
	static const CURLcode retried[] = {
		CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
		CURLE_RECV_ERROR,      CURLE_SEND_ERROR,
		CURLE_GOT_NOTHING,     CURLE_COULDNT_RESOLVE_HOST,
	};
	static const CURLcode given_up[] = {
		CURLE_URL_MALFORMAT,
		CURLE_UNSUPPORTED_PROTOCOL,
		CURLE_PEER_FAILED_VERIFICATION,
		CURLE_SSL_CERTPROBLEM,
		CURLE_SSL_CONNECT_ERROR,
		CURLE_OUT_OF_MEMORY,
	};

	for (size_t i = 0; i < sizeof(retried) / sizeof(*retried); i++)
		assert_int_equal(ks_otlp_verdict_for_transport(retried[i]),
				 KS_OTLP_RETRY);
	for (size_t i = 0; i < sizeof(given_up) / sizeof(*given_up); i++)
		assert_int_equal(ks_otlp_verdict_for_transport(given_up[i]),
				 KS_OTLP_GIVE_UP);
}

static void assert_retry_after(const char *value, time_t now,
			       uint64_t expected_ms)
{
	uint64_t delay_ms = 12345;

	assert_true(ks_otlp_parse_retry_after(value, now, &delay_ms));
	assert_int_equal(delay_ms, expected_ms);
}

static void assert_no_retry_after(const char *value)
{
	uint64_t delay_ms = 12345;

	assert_false(ks_otlp_parse_retry_after(value, 0, &delay_ms));
	assert_int_equal(delay_ms, 12345);
}

static void test_retry_after_in_seconds(void **state)
{
	assert_retry_after("5", 0, 5000);
	assert_retry_after(" 7 ", 0, 7000);
	assert_retry_after("0", 0, 0);
	assert_retry_after("120", 0, 120000);
}

static void test_retry_after_as_http_date(void **state)
{
	time_t now = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);

	assert_true(now > 0);
	assert_retry_after(" Wed, 21 Oct 2015 07:28:10 GMT", now, 10000);
	/* The two obsolete forms RFC 9110 still asks recipients to read. */
	assert_retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", now, 30000);
	assert_retry_after("Wed Oct 21 07:28:05 2015", now, 5000);
}

static void test_retry_after_negative_or_past_means_now(void **state)
{
	time_t now = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);

	assert_retry_after("-3", 0, 0);
	assert_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now, 0);
	assert_retry_after("-99999999999999999999999", 0, 0);
}

static void test_retry_after_is_capped(void **state)
{
	time_t now = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);

	assert_retry_after("86400", 0, KS_OTLP_RETRY_AFTER_MAX_MS);
	assert_retry_after("99999999999999999999999", 0,
			   KS_OTLP_RETRY_AFTER_MAX_MS);
	assert_retry_after("Thu, 01 Jan 2065 00:00:00 GMT", now,
			   KS_OTLP_RETRY_AFTER_MAX_MS);
}

static void test_retry_after_garbage_is_ignored(void **state)
{
	assert_no_retry_after("");
	assert_no_retry_after("   ");
	assert_no_retry_after("soon");
	assert_no_retry_after("5 seconds");
	assert_no_retry_after("1.5");
	assert_no_retry_after("-");
}

static void test_backoff_doubles_within_jitter_bounds(void **state)
{
	static const struct {
		unsigned int attempt;
		uint64_t low, high;
	} cases[] = {
		{ 0, 500, 1000 },  { 1, 1000, 2000 },  { 2, 2000, 4000 },
		{ 3, 2500, 5000 }, { 60, 2500, 5000 },
	};
	static const uint32_t randoms[] = { 0,	 1,	499,	   500,
					    501, 77777, UINT32_MAX };

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		/* The extremes of the jitter are reachable, nothing beyond. */
		assert_int_equal(
			ks_otlp_backoff_ms(cases[i].attempt, 1000, 5000, 0),
			cases[i].low);
		assert_int_equal(
			ks_otlp_backoff_ms(
				cases[i].attempt, 1000, 5000,
				(uint32_t)(cases[i].high - cases[i].low)),
			cases[i].high);
		for (size_t j = 0; j < sizeof(randoms) / sizeof(*randoms);
		     j++) {
			uint64_t delay = ks_otlp_backoff_ms(
				cases[i].attempt, 1000, 5000, randoms[j]);

			assert_in_range(delay, cases[i].low, cases[i].high);
		}
	}
}

static void test_backoff_with_tiny_initial_delay(void **state)
{
	assert_int_equal(ks_otlp_backoff_ms(0, 1, 5000, UINT32_MAX), 1);
	assert_in_range(ks_otlp_backoff_ms(4, 10, 1000, 12345), 80, 160);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_verdicts_follow_the_spec),
		cmocka_unit_test(test_dropped_connections_are_retried),
		cmocka_unit_test(test_retry_after_in_seconds),
		cmocka_unit_test(test_retry_after_as_http_date),
		cmocka_unit_test(test_retry_after_negative_or_past_means_now),
		cmocka_unit_test(test_retry_after_is_capped),
		cmocka_unit_test(test_retry_after_garbage_is_ignored),
		cmocka_unit_test(test_backoff_doubles_within_jitter_bounds),
		cmocka_unit_test(test_backoff_with_tiny_initial_delay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
