// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP spans as OTLP spans: the attributes a connection's spans share are
 * encoded once, and a span never carries another's.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "httptrace/http_semconv.h"
#include "sock_records.h"
#include "telemetry/http_otlp.h"

static struct ks_http_span request(const char *host)
{
	struct ks_http_span s = {
		.kind = KS_HTTP_SPAN_SERVER,
		.tid = 7,
		.status = 200,
		.version_minor = 1,
		.method_known = true,
		.path_len = 6,
		.target_len = 6,
		.response_body_size = 612,
		.start_ns = 1000,
		.end_ns = 2000,
	};

	strcpy(s.method, "GET");
	strcpy(s.target, "/index");
	snprintf(s.host, sizeof(s.host), "%s", host);
	s.tuple.local = test_endpoint(8080);
	s.tuple.remote = test_endpoint(40000);
	ks_http_tuple_text(&s.tuple, &s.tuple_text);
	return s;
}

/* The span as a receiver decodes it; free with protobuf-c. */
static OtlpSpan *received(const struct ks_http_span *span,
			  const char *thread_name,
			  struct ks_http_shared_attrs *shared)
{
	OtlpSpan *otlp = ks_http_span_otlp(span, thread_name, shared);
	OtlpSpan *seen;
	size_t len;
	uint8_t *buf;

	assert_non_null(otlp);
	len = protobuf_c_message_get_packed_size(&otlp->base);
	buf = malloc(len);
	assert_non_null(buf);
	protobuf_c_message_pack(&otlp->base, buf);
	ks_otlp_message_free(otlp);
	seen = (OtlpSpan *)protobuf_c_message_unpack(
		&opentelemetry__proto__trace__v1__span__descriptor, NULL, len,
		buf);
	free(buf);
	assert_non_null(seen);
	assert_int_equal(seen->base.n_unknown_fields, 0);
	return seen;
}

/* The attribute named key, checked to appear once; NULL when absent. */
static const OtlpAnyValue *attr(const OtlpSpan *span, const char *key)
{
	const OtlpAnyValue *found = NULL;

	for (size_t i = 0; i < span->n_attributes; i++) {
		if (strcmp(span->attributes[i]->key, key))
			continue;
		assert_null(found);
		found = span->attributes[i]->value;
	}
	return found;
}

static void check_str(const OtlpSpan *span, const char *key, const char *value)
{
	const OtlpAnyValue *v = attr(span, key);

	assert_non_null(v);
	assert_string_equal(v->string_value, value);
}

static void check_int(const OtlpSpan *span, const char *key, int64_t value)
{
	const OtlpAnyValue *v = attr(span, key);

	assert_non_null(v);
	assert_int_equal(v->int_value, value);
}

static void test_every_attribute_once(void **state)
{
	struct ks_http_shared_attrs *shared = ks_http_shared_attrs_new();
	struct ks_http_span s = request("example.com:8081");

	assert_non_null(shared);
	/* The second span's shared attributes are the kept ones. */
	for (int i = 0; i < 2; i++) {
		OtlpSpan *seen = received(&s, "worker", shared);

		assert_int_equal(seen->n_attributes, 13);
		check_str(seen, "http.request.method", "GET");
		check_str(seen, "url.path", "/index");
		check_int(seen, "http.response.status_code", 200);
		check_int(seen, "http.response.body.size", 612);
		check_str(seen, "url.scheme", "http");
		check_str(seen, "server.address", "example.com");
		check_int(seen, "server.port", 8081);
		check_str(seen, "network.peer.address", s.tuple_text.remote);
		check_int(seen, "network.peer.port", 40000);
		check_str(seen, "client.address", s.tuple_text.remote);
		check_str(seen, "network.protocol.version", "1.1");
		check_int(seen, "thread.id", 7);
		check_str(seen, "thread.name", "worker");
		protobuf_c_message_free_unpacked(&seen->base, NULL);
	}
	ks_http_shared_attrs_free(shared);
}

/* The next span of the connection has key = value (NULL: no key). */
static void expect_str(struct ks_http_shared_attrs *shared,
		       const struct ks_http_span *s, const char *thread_name,
		       const char *key, const char *value)
{
	OtlpSpan *seen = received(s, thread_name, shared);

	if (value)
		check_str(seen, key, value);
	else
		assert_null(attr(seen, key));
	protobuf_c_message_free_unpacked(&seen->base, NULL);
}

static void expect_int(struct ks_http_shared_attrs *shared,
		       const struct ks_http_span *s, const char *thread_name,
		       const char *key, int64_t value)
{
	OtlpSpan *seen = received(s, thread_name, shared);

	check_int(seen, key, value);
	protobuf_c_message_free_unpacked(&seen->base, NULL);
}

/* Each value the shared attributes are made of, changed on its own. */
static void test_a_changed_value_is_encoded_again(void **state)
{
	struct ks_http_shared_attrs *shared = ks_http_shared_attrs_new();
	struct ks_http_span s = request("example.com");

	assert_non_null(shared);
	expect_str(shared, &s, "worker", "server.address", "example.com");
	snprintf(s.host, sizeof(s.host), "other.example");
	expect_str(shared, &s, "worker", "server.address", "other.example");
	/* Without a Host field, the server is the connection's end. */
	s.host[0] = '\0';
	expect_str(shared, &s, "worker", "server.address", s.tuple_text.local);
	s.tuple.local.port = 8081;
	expect_int(shared, &s, "worker", "server.port", 8081);
	s.tuple.local.addr[15] ^= 1;
	ks_http_tuple_text(&s.tuple, &s.tuple_text);
	expect_str(shared, &s, "worker", "server.address", s.tuple_text.local);
	snprintf(s.host, sizeof(s.host), "other.example:81");
	expect_int(shared, &s, "worker", "server.port", 81);
	expect_str(shared, &s, "renamed", "thread.name", "renamed");
	expect_str(shared, &s, NULL, "thread.name", NULL);
	s.version_minor = 0;
	expect_str(shared, &s, NULL, "network.protocol.version", "1.0");
	s.tid = 8;
	expect_int(shared, &s, NULL, "thread.id", 8);
	s.tuple.remote.port = 40001;
	expect_int(shared, &s, NULL, "network.peer.port", 40001);
	s.tuple.remote.addr[15] ^= 1;
	ks_http_tuple_text(&s.tuple, &s.tuple_text);
	expect_str(shared, &s, NULL, "network.peer.address",
		   s.tuple_text.remote);

	/* GET and DELETE share a slot: each must find its own. */
	strcpy(s.method, "DELETE");
	expect_str(shared, &s, NULL, "http.request.method", "DELETE");
	strcpy(s.method, "GET");
	expect_str(shared, &s, NULL, "http.request.method", "GET");
	strcpy(s.method, "BREW");
	s.method_known = false;
	expect_str(shared, &s, NULL, "http.request.method", "_OTHER");
	expect_str(shared, &s, NULL, "http.request.method_original", "BREW");

	s.status = 503;
	expect_int(shared, &s, NULL, "http.response.status_code", 503);
	/* No response: no status code, and the span says why. */
	s.status = 0;
	s.failure = KS_HTTP_CLOSED_BEFORE_RESPONSE;
	expect_str(shared, &s, NULL, "http.response.status_code", NULL);
	expect_str(shared, &s, NULL, "error.type", "connection_closed");

	/* A client has no client.address, and a url.full of its own. */
	s.kind = KS_HTTP_SPAN_CLIENT;
	expect_str(shared, &s, NULL, "client.address", NULL);
	expect_str(shared, &s, NULL, "url.full",
		   "http://other.example:81/index");
	ks_http_shared_attrs_free(shared);
}

/* The span's own path, whatever paths came before it. */
static void expect_path(struct ks_http_shared_attrs *shared,
			struct ks_http_span *s, unsigned int n)
{
	char path[16];

	s->path_len = s->target_len =
		(uint16_t)snprintf(path, sizeof(path), "/p%u", n);
	memcpy(s->target, path, s->path_len + 1u);
	expect_str(shared, s, "worker", "url.path", path);
}

/*
 * More paths and sizes than there are slots, so that some share one:
 * each span still carries its own, and a size whose slot another took is
 * encoded again.
 */
static void test_paths_and_sizes_are_each_spans_own(void **state)
{
	struct ks_http_shared_attrs *shared = ks_http_shared_attrs_new();
	struct ks_http_span s = request("example.com");

	assert_non_null(shared);
	for (unsigned int n = 0; n < 600; n++)
		expect_path(shared, &s, n);
	for (unsigned int n = 600; n-- > 0;)
		expect_path(shared, &s, n % 7);
	/* Sizes 64 apart, then back: the same slot in turn. */
	for (uint64_t size = 0; size <= 640; size += 64) {
		s.response_body_size = size;
		expect_int(shared, &s, NULL, "http.response.body.size",
			   (int64_t)size);
		s.response_body_size = 640 - size;
		expect_int(shared, &s, NULL, "http.response.body.size",
			   (int64_t)(640 - size));
	}
	ks_http_shared_attrs_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_attribute_once),
		cmocka_unit_test(test_a_changed_value_is_encoded_again),
		cmocka_unit_test(test_paths_and_sizes_are_each_spans_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
