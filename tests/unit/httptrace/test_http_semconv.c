// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Semantic-convention values derived from HTTP spans. */
#include "unit.h"

#include <stdio.h>

#include "httptrace/http_semconv.h"
#include "sock_records.h"

static struct ks_http_span span(enum ks_http_span_kind kind, const char *host)
{
	struct ks_http_span s = { .kind = kind, .status = 200 };

	snprintf(s.host, sizeof(s.host), "%s", host);
	s.tuple.local = test_endpoint(8080);
	s.tuple.remote = test_endpoint(40000);
	memset(s.tuple.remote.addr, 0, 16);
	s.tuple.remote.addr[15] = 1; /* ::1 */
	ks_http_tuple_text(&s.tuple, &s.tuple_text);
	return s;
}

static void check_server(const struct ks_http_span *s, const char *address,
			 uint16_t port)
{
	char got[KS_HTTP_HOST_MAX + 1];
	uint16_t got_port;

	ks_http_server_endpoint(s, got, sizeof(got), &got_port);
	assert_string_equal(got, address);
	assert_int_equal(got_port, port);
}

static void test_server_endpoint(void **state)
{
	struct ks_http_span s = span(KS_HTTP_SPAN_SERVER, "example.com");

	check_server(&s, "example.com", 80);
	s = span(KS_HTTP_SPAN_SERVER, "example.com:8443");
	check_server(&s, "example.com", 8443);
	s = span(KS_HTTP_SPAN_SERVER, "[2001:db8::1]:81");
	check_server(&s, "2001:db8::1", 81);
	/* No Host, or one that does not parse: the socket says. */
	s = span(KS_HTTP_SPAN_SERVER, "");
	check_server(&s, "127.0.0.1", 8080);
	s = span(KS_HTTP_SPAN_SERVER, "h:99999");
	check_server(&s, "127.0.0.1", 8080);
	s = span(KS_HTTP_SPAN_CLIENT, "");
	check_server(&s, "::1", 40000);
}

static void test_errors(void **state)
{
	struct ks_http_span s = span(KS_HTTP_SPAN_SERVER, "");
	char buf[8];

	s.status = 404;
	assert_false(ks_http_span_failed(&s));
	assert_null(ks_http_error_type(&s, buf, sizeof(buf)));
	s.kind = KS_HTTP_SPAN_CLIENT;
	assert_true(ks_http_span_failed(&s));
	assert_string_equal(ks_http_error_type(&s, buf, sizeof(buf)), "404");
	s.failure = KS_HTTP_CLOSED_DURING_RESPONSE;
	assert_string_equal(ks_http_error_type(&s, buf, sizeof(buf)),
			    "connection_closed");
	s.status = 0;
	s.failure = KS_HTTP_CLOSED_BEFORE_RESPONSE;
	s.kind = KS_HTTP_SPAN_SERVER;
	assert_true(ks_http_span_failed(&s));
	assert_non_null(ks_http_failure_message(s.failure));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_endpoint),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
