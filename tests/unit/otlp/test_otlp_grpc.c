// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP/gRPC on the wire: frames, statuses, and which are retried. */
#include "unit.h"

#include <errno.h>

#include "otlp/otlp_config.h"
#include "otlp/otlp_grpc.h"
#include "otlp/otlp_retry.h"

static void feed(struct ks_otlp_grpc_status *status, const char *line)
{
	ks_otlp_grpc_status_line(status, line, strlen(line));
}

static void test_methods_are_the_collector_services(void **state)
{
	assert_string_equal(
		ks_otlp_grpc_method(KS_OTLP_TRACES),
		"/opentelemetry.proto.collector.trace.v1.TraceService/Export");
	assert_string_equal(ks_otlp_grpc_method(KS_OTLP_METRICS),
			    "/opentelemetry.proto.collector.metrics.v1."
			    "MetricsService/Export");
	assert_string_equal(
		ks_otlp_grpc_method(KS_OTLP_LOGS),
		"/opentelemetry.proto.collector.logs.v1.LogsService/Export");
}

static void test_prefix_is_flag_and_big_endian_length(void **state)
{
	uint8_t prefix[KS_OTLP_GRPC_PREFIX_LEN];

	ks_otlp_grpc_prefix(prefix, true, 0x01020304);
	assert_memory_equal(prefix, "\x01\x01\x02\x03\x04", 5);
	ks_otlp_grpc_prefix(prefix, false, 7);
	assert_memory_equal(prefix, "\x00\x00\x00\x00\x07", 5);
}

static void test_response_message_is_one_whole_frame(void **state)
{
	static const uint8_t one[] = { 0, 0, 0, 0, 2, 0x0a, 0x00 };
	static const uint8_t short_frame[] = { 0, 0, 0, 0, 3, 0x0a };
	static const uint8_t compressed[] = { 1, 0, 0, 0, 1, 0x00 };
	const uint8_t *message;
	size_t len;

	assert_int_equal(ks_otlp_grpc_message(one, sizeof(one), &message, &len),
			 0);
	assert_int_equal(len, 2);
	assert_ptr_equal(message, one + 5);
	assert_int_equal(ks_otlp_grpc_message(NULL, 0, &message, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(ks_otlp_grpc_message(short_frame, sizeof(short_frame),
					      &message, &len),
			 -EPROTO);
	assert_int_equal(ks_otlp_grpc_message(compressed, sizeof(compressed),
					      &message, &len),
			 -ENOTSUP);
}

static void test_status_message_and_retry_info(void **state)
{
	struct ks_otlp_grpc_status status;

	ks_otlp_grpc_status_reset(&status);
	feed(&status, "content-type: application/grpc\r\n");
	assert_false(status.has_code);
	feed(&status, "grpc-status: 14\r\n");
	feed(&status, "grpc-message: try%20later\r\n");
	/*
	 * google.rpc.Status{code 14, message "try later", details [Any{
	 * RetryInfo{retry_delay {seconds 1 nanos 500000000}}}]}, base64
	 * without its padding, as gRPC sends binary headers.
	 */
	feed(&status, "grpc-status-details-bin: CA4SCXRyeSBsYXRlcho2Cih0eXBlLm"
		      "dvb2dsZWFwaXMuY29tL2dvb2dsZS5ycGMuUmV0cnlJbmZvEgoKCAgBEI"
		      "DKte4B\r\n");
	assert_true(status.has_code);
	assert_int_equal(status.code, KS_GRPC_UNAVAILABLE);
	assert_string_equal(status.message, "try later");
	assert_true(status.has_retry_delay);
	assert_int_equal(status.retry_delay_ms, 1500);

	ks_otlp_grpc_status_reset(&status);
	feed(&status, "grpc-status: abc\r\n");
	feed(&status, "grpc-status: +4\r\n");
	feed(&status, "grpc-status: 0x4\r\n");
	feed(&status, "grpc-status-details-bin: !!!\r\n");
	assert_false(status.has_code);
	assert_false(status.has_retry_delay);
}

static void test_grpc_verdicts_follow_the_spec(void **state)
{
	static const int retried[] = { 1, 4, 10, 11, 14, 15 };
	static const int given_up[] = { 2, 3, 5, 6, 7, 9, 12, 13, 16 };

	assert_int_equal(ks_otlp_verdict_for_grpc(0, false), KS_OTLP_DELIVERED);
	for (size_t i = 0; i < sizeof(retried) / sizeof(*retried); i++)
		assert_int_equal(ks_otlp_verdict_for_grpc(retried[i], false),
				 KS_OTLP_RETRY);
	for (size_t i = 0; i < sizeof(given_up) / sizeof(*given_up); i++)
		assert_int_equal(ks_otlp_verdict_for_grpc(given_up[i], false),
				 KS_OTLP_GIVE_UP);
	/* RESOURCE_EXHAUSTED: only when the server said it will recover. */
	assert_int_equal(ks_otlp_verdict_for_grpc(8, false), KS_OTLP_GIVE_UP);
	assert_int_equal(ks_otlp_verdict_for_grpc(8, true), KS_OTLP_RETRY);
}

static void test_http_statuses_map_to_grpc_codes(void **state)
{
	assert_int_equal(ks_otlp_grpc_code_for_http(503), KS_GRPC_UNAVAILABLE);
	assert_int_equal(ks_otlp_grpc_code_for_http(429), KS_GRPC_UNAVAILABLE);
	assert_int_equal(ks_otlp_grpc_code_for_http(404),
			 KS_GRPC_UNIMPLEMENTED);
	assert_int_equal(ks_otlp_grpc_code_for_http(401),
			 KS_GRPC_UNAUTHENTICATED);
	assert_int_equal(ks_otlp_grpc_code_for_http(500), KS_GRPC_UNKNOWN);
	assert_string_equal(ks_otlp_grpc_code_name(14), "UNAVAILABLE");
	assert_string_equal(ks_otlp_grpc_code_name(99), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods_are_the_collector_services),
		cmocka_unit_test(test_prefix_is_flag_and_big_endian_length),
		cmocka_unit_test(test_response_message_is_one_whole_frame),
		cmocka_unit_test(test_status_message_and_retry_info),
		cmocka_unit_test(test_grpc_verdicts_follow_the_spec),
		cmocka_unit_test(test_http_statuses_map_to_grpc_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
