// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The HTTP/1.x stream parser: framing, fields, partial captures, junk. */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

#include "httptrace/http_parser.h"

#define MAX_EVENTS 32

struct recorded {
	enum ks_http_event event;
	bool has_msg;
	struct ks_http_message msg;
};

struct recorder {
	struct ks_http_parser parser;
	struct recorded events[MAX_EVENTS];
	size_t n;
	/* Response parser to tell request methods to, as a caller would. */
	struct ks_http_parser *responses;
};

static const char *const event_names[] = {
	[KS_HTTP_EV_HEAD] = "HEAD",	    [KS_HTTP_EV_INTERIM] = "INTERIM",
	[KS_HTTP_EV_COMPLETE] = "COMPLETE", [KS_HTTP_EV_ABORT] = "ABORT",
	[KS_HTTP_EV_DESYNC] = "DESYNC",	    [KS_HTTP_EV_NOT_HTTP] = "NOT_HTTP",
};

static void record(void *ctx, enum ks_http_event event,
		   const struct ks_http_message *msg)
{
	struct recorder *rec = ctx;
	struct recorded *slot;

	assert_true(rec->n < MAX_EVENTS);
	slot = &rec->events[rec->n++];
	slot->event = event;
	slot->has_msg = msg != NULL;
	if (msg)
		slot->msg = *msg;
	if (rec->responses && event == KS_HTTP_EV_HEAD)
		ks_http_parser_expect(rec->responses, msg->method);
}

static struct recorder *new_recorder(enum ks_http_direction direction)
{
	struct recorder *rec = calloc(1, sizeof(*rec));

	assert_non_null(rec);
	ks_http_parser_init(&rec->parser, direction, record, rec);
	return rec;
}

static void feed_cut(struct recorder *rec, const char *text, size_t captured,
		     size_t total, uint64_t ts_ns)
{
	ks_http_parser_feed(&rec->parser, (const uint8_t *)text, captured,
			    total, ts_ns);
}

static void feed(struct recorder *rec, const char *text, uint64_t ts_ns)
{
	feed_cut(rec, text, strlen(text), strlen(text), ts_ns);
}

/* The event kinds, space-separated. */
static const char *kinds(const struct recorder *rec)
{
	static char buf[MAX_EVENTS * 10];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rec->n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? " " : "",
					event_names[rec->events[i].event]);
	return buf;
}

/* Everything but timestamps, to compare runs fed in different pieces. */
static void describe(const struct recorder *rec, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rec->n && len < size; i++) {
		const struct recorded *r = &rec->events[i];
		const struct ks_http_message *m = &r->msg;

		if (!r->has_msg) {
			len += (size_t)snprintf(buf + len, size - len, "%s;",
						event_names[r->event]);
			continue;
		}
		len += (size_t)snprintf(
			buf + len, size - len,
			"%s %s %.*s %u 1.%u host=%s len=%llu flags=%x ts=%s;",
			event_names[r->event], m->method_name,
			(int)m->target_len, m->target, m->status,
			m->version_minor, m->host,
			(unsigned long long)m->body_len, m->flags,
			m->tracestate);
	}
}

static const struct ks_http_message *msg_at(const struct recorder *rec,
					    size_t i)
{
	assert_true(i < rec->n);
	assert_true(rec->events[i].has_msg);
	return &rec->events[i].msg;
}

static void test_request_line_and_fields(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	const struct ks_http_message *m;

	feed(rec,
	     "GET /api/users?id=7&token=s3cret HTTP/1.1\r\n"
	     "Host: example.com:8080\r\n"
	     "User-Agent: curl/8.0\r\n"
	     "Accept: */*\r\n"
	     "\r\n",
	     100);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 0);
	assert_int_equal(m->method, KS_HTTP_METHOD_GET);
	assert_string_equal(m->method_name, "GET");
	assert_string_equal(m->target, "/api/users?id=7&token=s3cret");
	/* The caller strips the query by taking path_len bytes. */
	assert_int_equal(m->path_len, strlen("/api/users"));
	assert_string_equal(m->host, "example.com:8080");
	assert_int_equal(m->version_minor, 1);
	assert_int_equal(m->start_ns, 100);
	assert_int_equal(m->head_end_ns, 100);
	assert_int_equal(msg_at(rec, 1)->end_ns, 100);
	assert_int_equal(msg_at(rec, 1)->body_len, 0);
	free(rec);
}

static void test_other_header_values_never_stored(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	static const char secret[] = "hunter2-session-secret";

	feed(rec,
	     "GET / HTTP/1.1\r\nCookie: sid=hunter2-session-secret\r\n"
	     "Authorization: Bearer hunter2-session-secret\r\n\r\n",
	     1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_null(memmem(&rec->parser, sizeof(rec->parser), secret,
			   strlen(secret)));
	assert_null(memmem(rec->events, sizeof(rec->events), secret,
			   strlen(secret)));
	free(rec);
}

static void test_keep_alive_requests(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n", 10);
	feed(rec, "POST /two HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 20);
	feed(rec, "hello", 30);
	feed(rec, "DELETE /three HTTP/1.1\r\n\r\n", 40);
	assert_string_equal(kinds(rec),
			    "HEAD COMPLETE HEAD COMPLETE HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 2)->method, KS_HTTP_METHOD_POST);
	assert_int_equal(msg_at(rec, 3)->start_ns, 20);
	assert_int_equal(msg_at(rec, 3)->end_ns, 30);
	assert_int_equal(msg_at(rec, 3)->body_len, 5);
	assert_string_equal(msg_at(rec, 5)->target, "/three");
	free(rec);
}

/* A message's strings keep nothing of a longer one before it. */
static void test_next_message_strings_start_empty(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	const struct ks_http_message *m;

	feed(rec,
	     "OPTIONS /a/longer/path?q=1 HTTP/1.1\r\nHost: example.com\r\n"
	     "traceparent: 00-0af7651916cd43dd8448eb211c80319c-"
	     "b7ad6b7169203331-01\r\ntracestate: k=v\r\n\r\n"
	     "GET / HTTP/1.1\r\n\r\n",
	     5);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE");
	assert_string_equal(msg_at(rec, 0)->tracestate, "k=v");
	m = msg_at(rec, 2);
	assert_string_equal(m->method_name, "GET");
	assert_string_equal(m->target, "/");
	assert_int_equal(m->path_len, 1);
	assert_string_equal(m->host, "");
	assert_string_equal(m->tracestate, "");
	assert_false(m->flags & KS_HTTP_MSG_TRACEPARENT);
	free(rec);
}

static void test_pipelined_requests_in_one_read(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec,
	     "GET /a HTTP/1.1\r\n\r\n"
	     "PUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
	     "\r\n" /* a stray CRLF between messages is allowed */
	     "HEAD /c HTTP/1.1\r\n\r\n",
	     5);
	assert_string_equal(kinds(rec),
			    "HEAD COMPLETE HEAD COMPLETE HEAD COMPLETE");
	assert_string_equal(msg_at(rec, 2)->target, "/b");
	assert_int_equal(msg_at(rec, 3)->body_len, 3);
	assert_int_equal(msg_at(rec, 4)->method, KS_HTTP_METHOD_HEAD);
	free(rec);
}

static const char request_stream[] =
	"POST /upload?x=1 HTTP/1.1\r\n"
	"host: upload.example\r\n"
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	"tracestate: rojo=00f067aa0ba902b7\r\n"
	"Tracestate: congo=t61rcWkgMzE\r\n"
	"Transfer-Encoding: gzip, chunked\r\n"
	"X-Ignored: \t value \r\n"
	"\r\n"
	"5;name=value\r\nhello\r\n"
	"A\r\n0123456789\r\n"
	"0\r\nChecksum: abc\r\n\r\n"
	"GET /next HTTP/1.0\n"
	"Connection: keep-alive\n"
	"\n";

static const char response_stream[] =
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"
	"HTTP/1.1 204 No Content\r\n\r\n"
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	"3\r\nabc\r\n0\r\n\r\n"
	"HTTP/1.0 200 OK\r\n\r\nuntil the end";

static void run_split(enum ks_http_direction direction, const char *stream,
		      const size_t *cuts, size_t nr_cuts, char *out,
		      size_t size)
{
	struct recorder *rec = new_recorder(direction);
	size_t at = 0, len = strlen(stream);

	for (size_t i = 0; i <= nr_cuts; i++) {
		size_t end = i < nr_cuts ? cuts[i] : len;

		feed_cut(rec, stream + at, end - at, end - at, i + 1);
		at = end;
	}
	ks_http_parser_close(&rec->parser, nr_cuts + 2);
	describe(rec, out, size);
	free(rec);
}

/* Every way to cut the stream in two, and in three, parses the same. */
static void check_split_invariance(enum ks_http_direction direction,
				   const char *stream, const char *expected)
{
	static char whole[8192], split[8192];
	size_t len = strlen(stream);
	struct recorder *rec = new_recorder(direction);

	run_split(direction, stream, NULL, 0, whole, sizeof(whole));
	feed(rec, stream, 1);
	ks_http_parser_close(&rec->parser, 2);
	assert_string_equal(kinds(rec), expected);
	free(rec);
	for (size_t i = 1; i < len; i++) {
		run_split(direction, stream, &i, 1, split, sizeof(split));
		if (strcmp(whole, split))
			fail_msg("cut at %zu:\n%s\nvs\n%s", i, split, whole);
	}
	for (size_t i = 1; i < len; i += 7) {
		for (size_t j = i + 1; j < len; j++) {
			size_t cuts[2] = { i, j };

			run_split(direction, stream, cuts, 2, split,
				  sizeof(split));
			if (strcmp(whole, split))
				fail_msg("cut at %zu, %zu", i, j);
		}
	}
}

static void test_requests_split_at_every_boundary(void **state)
{
	check_split_invariance(KS_HTTP_REQUESTS, request_stream,
			       "HEAD COMPLETE HEAD COMPLETE");
}

static void test_responses_split_at_every_boundary(void **state)
{
	check_split_invariance(KS_HTTP_RESPONSES, response_stream,
			       "INTERIM HEAD COMPLETE HEAD COMPLETE "
			       "HEAD COMPLETE HEAD COMPLETE");
}

static void test_start_line_over_syscalls_keeps_time(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	const struct ks_http_message *m;

	feed(rec, "PUT /fi", 1);
	feed(rec, "le HTTP/1.1\r\nContent-Length: 4\r\n\r\n", 2);
	feed(rec, "data", 3);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 0);
	assert_int_equal(m->start_ns, 1);
	assert_int_equal(m->head_end_ns, 2);
	assert_int_equal(m->end_ns, 2);
	assert_int_equal(msg_at(rec, 1)->end_ns, 3);
	free(rec);
}

static void test_one_byte_per_syscall(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	const struct ks_http_message *m;

	for (size_t i = 0; request_stream[i]; i++)
		feed_cut(rec, request_stream + i, 1, 1, i);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE");
	m = msg_at(rec, 1);
	assert_true(m->flags & KS_HTTP_MSG_CHUNKED);
	assert_int_equal(m->body_len, 15);
	assert_true(m->flags & KS_HTTP_MSG_TRACEPARENT);
	assert_string_equal(m->tracestate,
			    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
	assert_int_equal(m->path_len, strlen("/upload"));
	assert_true(msg_at(rec, 2)->version_minor == 0);
	assert_false(msg_at(rec, 2)->flags & KS_HTTP_MSG_CLOSE);
	free(rec);
}

static void test_content_length_body_partly_captured(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	static const char head[] = "POST /big HTTP/1.1\r\n"
				   "Content-Length: 10000\r\n\r\n";
	size_t head_len = strlen(head);

	/* One write of head and body; only the first 64 bytes captured. */
	feed_cut(rec, head, 64 < head_len ? 64 : head_len, head_len + 10000, 7);
	feed(rec, "GET /after HTTP/1.1\r\n\r\n", 8);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 1)->body_len, 10000);
	assert_int_equal(msg_at(rec, 1)->end_ns, 7);
	assert_false(msg_at(rec, 1)->flags & KS_HTTP_MSG_END_GUESSED);
	free(rec);
}

static void test_content_length_body_over_syscalls(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	feed(rec, "HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n", 1);
	feed_cut(rec, "xxxx", 4, 4096, 2);
	feed_cut(rec, "xxxx", 0, 4096, 3); /* sendfile: nothing captured */
	assert_string_equal(kinds(rec), "HEAD");
	feed_cut(rec, "xxxx", 4, 808, 4);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 1)->end_ns, 4);
	assert_int_equal(msg_at(rec, 1)->body_len, 9000);
	free(rec);
}

static void test_chunk_data_skipped_by_count(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	feed(rec, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1);
	/* A 4 KiB chunk of which the capture holds the first bytes only. */
	feed_cut(rec, "1000\r\nabcdef", 12, 6 + 4096 + 2, 2);
	/* And one whose CR alone was not captured. */
	feed_cut(rec, "2\r\nab\r", 5, 6, 3);
	feed(rec, "\n0\r\n\r\n", 4);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 1)->body_len, 4098);
	assert_int_equal(msg_at(rec, 1)->end_ns, 4);
	free(rec);
}

static void test_chunked_sync_lost_and_recovered(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);
	const struct ks_http_message *m;

	feed(rec, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1);
	/* Many small chunks in one write: chunk-size lines go unseen. */
	feed_cut(rec, "4\r\nabcd\r\n4\r\nefgh\r\n", 18, 900, 2);
	assert_string_equal(kinds(rec), "HEAD DESYNC");
	feed_cut(rec, "4\r\nijkl\r\n", 9, 300, 3);
	feed(rec, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 4);
	assert_string_equal(kinds(rec), "HEAD DESYNC COMPLETE HEAD COMPLETE");
	m = msg_at(rec, 2);
	assert_true(m->flags & KS_HTTP_MSG_END_GUESSED);
	assert_int_equal(m->end_ns, 3);
	assert_int_equal(msg_at(rec, 3)->status, 404);
	free(rec);
}

static void test_bad_chunk_size_desyncs(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec,
	     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "zz\r\n",
	     1);
	ks_http_parser_close(&rec->parser, 2);
	assert_string_equal(kinds(rec), "HEAD DESYNC COMPLETE");
	assert_true(msg_at(rec, 2)->flags & KS_HTTP_MSG_END_GUESSED);
	free(rec);
}

static void test_expect_100_continue(void **state)
{
	struct recorder *requests = new_recorder(KS_HTTP_REQUESTS);
	struct recorder *responses = new_recorder(KS_HTTP_RESPONSES);

	requests->responses = &responses->parser;
	feed(requests,
	     "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\n"
	     "Content-Length: 4\r\n\r\n",
	     1);
	assert_true(msg_at(requests, 0)->flags & KS_HTTP_MSG_EXPECT_CONTINUE);
	feed(responses, "HTTP/1.1 100 Continue\r\n\r\n", 2);
	assert_string_equal(kinds(responses), "INTERIM");
	assert_int_equal(msg_at(responses, 0)->status, 100);
	/* The interim response did not take the request's place. */
	feed(requests, "data", 3);
	feed(responses, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 4);
	assert_string_equal(kinds(requests), "HEAD COMPLETE");
	assert_string_equal(kinds(responses), "INTERIM HEAD COMPLETE");
	assert_int_equal(msg_at(responses, 1)->status, 201);
	assert_int_equal(msg_at(responses, 1)->method, KS_HTTP_METHOD_PUT);
	free(requests);
	free(responses);
}

static void test_head_response_has_no_body(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	ks_http_parser_expect(&rec->parser, KS_HTTP_METHOD_HEAD);
	ks_http_parser_expect(&rec->parser, KS_HTTP_METHOD_GET);
	feed(rec,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	     1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 0)->method, KS_HTTP_METHOD_HEAD);
	assert_int_equal(msg_at(rec, 1)->body_len, 0);
	assert_int_equal(msg_at(rec, 2)->method, KS_HTTP_METHOD_GET);
	assert_int_equal(msg_at(rec, 3)->body_len, 2);
	free(rec);
}

static void test_pipelined_responses_take_methods_in_order(void **state)
{
	struct recorder *requests = new_recorder(KS_HTTP_REQUESTS);
	struct recorder *responses = new_recorder(KS_HTTP_RESPONSES);

	requests->responses = &responses->parser;
	feed(requests,
	     "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"
	     "GET /3 HTTP/1.1\r\n\r\n",
	     1);
	feed(responses,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
	     "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc",
	     2);
	assert_string_equal(kinds(responses), "HEAD COMPLETE HEAD COMPLETE "
					      "HEAD COMPLETE");
	assert_int_equal(msg_at(responses, 2)->method, KS_HTTP_METHOD_HEAD);
	assert_int_equal(msg_at(responses, 5)->body_len, 1);
	free(requests);
	free(responses);
}

static void test_statuses_without_body(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	feed(rec,
	     "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
	     "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	     1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE "
					"HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 0)->status, 204);
	assert_int_equal(msg_at(rec, 2)->status, 304);
	free(rec);
}

static void test_response_until_close(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);
	const struct ks_http_message *m;

	feed(rec, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nab", 1);
	feed_cut(rec, "cdef", 4, 1000, 2);
	assert_string_equal(kinds(rec), "HEAD");
	assert_true(msg_at(rec, 0)->flags & KS_HTTP_MSG_CLOSE);
	ks_http_parser_close(&rec->parser, 9);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 1);
	assert_true(m->flags & KS_HTTP_MSG_UNTIL_CLOSE);
	assert_int_equal(m->body_len, 1002);
	assert_int_equal(m->end_ns, 2);
	free(rec);
}

static void test_connection_close_flag(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "GET / HTTP/1.1\r\nConnection: Upgrade, close\r\n\r\n", 1);
	feed(rec, "GET / HTTP/1.0\r\n\r\n", 2);
	feed(rec, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 3);
	/* Options are compared whole: neither names "close". */
	feed(rec, "GET / HTTP/1.1\r\nConnection: clos, closed\r\n\r\n", 4);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE "
					"HEAD COMPLETE HEAD COMPLETE");
	assert_true(msg_at(rec, 0)->flags & KS_HTTP_MSG_CLOSE);
	assert_true(msg_at(rec, 2)->flags & KS_HTTP_MSG_CLOSE);
	assert_false(msg_at(rec, 4)->flags & KS_HTTP_MSG_CLOSE);
	assert_false(msg_at(rec, 6)->flags & KS_HTTP_MSG_CLOSE);
	free(rec);
}

static void test_close_mid_body_aborts(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789",
	     1);
	ks_http_parser_close(&rec->parser, 5);
	assert_string_equal(kinds(rec), "HEAD ABORT");
	assert_true(msg_at(rec, 1)->flags & KS_HTTP_MSG_HEAD_SEEN);
	assert_int_equal(msg_at(rec, 1)->end_ns, 5);
	assert_int_equal(msg_at(rec, 1)->body_len, 10);
	/* Closed: later bytes are ignored until a reset. */
	feed(rec, "GET / HTTP/1.1\r\n\r\n", 6);
	assert_int_equal(rec->n, 2);
	free(rec);
}

static void test_close_mid_head_aborts(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "GET / HTTP/1.1\r\nHost: a\r\n", 1);
	ks_http_parser_close(&rec->parser, 2);
	assert_string_equal(kinds(rec), "ABORT");
	assert_false(msg_at(rec, 0)->flags & KS_HTTP_MSG_HEAD_SEEN);
	free(rec);
}

static void test_reset_reuses_parser(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	ks_http_parser_expect(&rec->parser, KS_HTTP_METHOD_HEAD);
	feed(rec, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxyz", 1);
	ks_http_parser_reset(&rec->parser);
	rec->n = 0;
	/* A new connection: no method left over, no body left to skip. */
	feed(rec, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_int_equal(msg_at(rec, 0)->method, KS_HTTP_METHOD_UNKNOWN);
	free(rec);
}

static void test_tls_is_not_http(void **state)
{
	static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
						0x01, 0x00, 0x01, 0xfc, 0x03 };
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	for (int i = 0; i < KS_HTTP_PROBE_SYSCALLS; i++) {
		assert_true(ks_http_parser_is_http(&rec->parser));
		ks_http_parser_feed(&rec->parser, client_hello,
				    sizeof(client_hello), 517, (uint64_t)i);
	}
	assert_string_equal(kinds(rec), "NOT_HTTP");
	assert_false(ks_http_parser_is_http(&rec->parser));
	feed(rec, "GET / HTTP/1.1\r\n\r\n", 9);
	ks_http_parser_close(&rec->parser, 10);
	assert_string_equal(kinds(rec), "NOT_HTTP");
	assert_false(ks_http_parser_is_http(&rec->parser));
	free(rec);
}

static void test_other_protocols_are_not_http(void **state)
{
	static const char *const streams[] = {
		/* HTTP/2 with prior knowledge, then its frames. */
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		/* Redis, SMTP-like text, JSON, lower case junk. */
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"EHLO mail.example\r\n",
		"{\"jsonrpc\":\"2.0\"}",
		"get / http/1.1\r\n\r\n",
		"GETTING_A_VERY_LONG_METHOD_NAME / HTTP/1.1\r\n",
		"HTTP/1.1 200 OK\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
		struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

		for (int j = 0; j < KS_HTTP_PROBE_SYSCALLS; j++)
			feed(rec, streams[i], (uint64_t)j);
		if (strcmp(kinds(rec), "NOT_HTTP"))
			fail_msg("\"%s\": %s", streams[i], kinds(rec));
		free(rec);
	}
}

static void test_stream_start_decides_at_once(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	ks_http_parser_stream_start(&rec->parser);
	feed(rec, "\x16\x03\x01\x02\x00", 1);
	assert_string_equal(kinds(rec), "NOT_HTTP");
	ks_http_parser_reset(&rec->parser);
	ks_http_parser_stream_start(&rec->parser);
	feed(rec, "\r\nGET / HTTP/1.1\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "NOT_HTTP HEAD COMPLETE");
	free(rec);
}

static void test_blank_syscalls_are_no_evidence(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	for (int i = 0; i < 2 * KS_HTTP_PROBE_SYSCALLS; i++) {
		feed(rec, "\r\n", (uint64_t)i);
		/* Nothing captured says nothing either. */
		feed_cut(rec, "", 0, 100, (uint64_t)i);
	}
	feed(rec, "GET / HTTP/1.1\r\n\r\n", 9);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	free(rec);
}

static void test_attach_in_the_middle_of_a_body(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "ody of an earlier request", 1);
	feed(rec, "GET / HTTP/1.1\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	free(rec);
}

static void test_garbage_between_messages(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "GET /a HTTP/1.1\r\n\r\n\x01\x02junk", 1);
	feed(rec, "more junk", 2);
	feed(rec, "GET /b HTTP/1.1\r\n\r\n", 3);
	assert_string_equal(kinds(rec), "HEAD COMPLETE DESYNC HEAD COMPLETE");
	assert_string_equal(msg_at(rec, 3)->target, "/b");
	free(rec);
}

static void test_malformed_head_aborts(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	/* Whitespace before the colon must be rejected (RFC 9112 5.1). */
	feed(rec, "GET /a HTTP/1.1\r\nHost : a\r\n\r\n", 1);
	feed(rec, "GET /b HTTP/1.1\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "ABORT HEAD COMPLETE");
	free(rec);
}

static bool edge_space(const char *value, size_t at)
{
	return (value[at] == '\t' || value[at] == ' ') &&
	       (!at || at + 1 == strlen(value));
}

/*
 * Field values are scanned a word at a time: a control byte or DEL
 * anywhere in a long value still aborts the head, and HTAB, obs-text and
 * the rest of the text anywhere in it are kept as they are.
 */
static void test_every_byte_of_a_long_value_is_checked(void **state)
{
	static const char bad[] = { '\x01', '\x1f', '\x7f', '\x0b' };
	static const char good[] = { '\t', ' ', '~', '\x80', '\xff' };
	char value[] = "a-value-of-twenty-four-b";
	char head[128];

	for (size_t at = 0; at < strlen(value); at++) {
		for (size_t i = 0; i < sizeof(bad) + sizeof(good); i++) {
			struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
			bool is_bad = i < sizeof(bad);
			char saved = value[at];

			value[at] = is_bad ? bad[i] : good[i - sizeof(bad)];
			snprintf(head, sizeof(head),
				 "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", value);
			feed(rec, head, 1);
			if (is_bad) {
				assert_string_equal(kinds(rec), "ABORT");
			} else {
				assert_string_equal(kinds(rec),
						    "HEAD COMPLETE");
				/* Whitespace around it is not the value's. */
				if (!edge_space(value, at))
					assert_string_equal(
						msg_at(rec, 0)->host, value);
			}
			value[at] = saved;
			free(rec);
		}
	}
}

static void test_head_cut_by_capture(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	static const char head[] = "GET /page HTTP/1.1\r\nHost: shop\r\n"
				   "Cookie: a-very-long-cookie";
	const struct ks_http_message *m;

	feed_cut(rec, head, strlen(head), 2000, 1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 0);
	assert_true(m->flags & KS_HTTP_MSG_HEAD_TRUNCATED);
	assert_string_equal(m->host, "shop");
	/* A POST may have a body after the cut: it ends at the next one. */
	feed_cut(rec, "POST /cart HTTP/1.1\r\nContent-Le", 31, 1500, 2);
	feed_cut(rec, "{\"item\":", 8, 4000, 3);
	feed(rec, "GET /done HTTP/1.1\r\n\r\n", 4);
	assert_string_equal(kinds(rec),
			    "HEAD COMPLETE HEAD COMPLETE HEAD COMPLETE");
	m = msg_at(rec, 3);
	assert_true(m->flags & KS_HTTP_MSG_END_GUESSED);
	assert_int_equal(m->end_ns, 3);
	free(rec);
}

static void test_request_line_cut_by_capture(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	const struct ks_http_message *m;

	feed_cut(rec, "GET /search?q=aaaaaaaa", 22, 5000, 1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 0);
	assert_int_equal(m->path_len, strlen("/search"));
	assert_int_equal(m->version_minor, 1);
	/* Not even a whole method: nothing to report. */
	rec->n = 0;
	feed_cut(rec, "GE", 2, 5000, 2);
	assert_int_equal(rec->n, 0);
	free(rec);
}

static void test_status_line_cut_by_capture(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	feed_cut(rec, "HTTP/1.1 503 Service Unav", 25, 3000, 1);
	assert_string_equal(kinds(rec), "HEAD");
	assert_int_equal(msg_at(rec, 0)->status, 503);
	ks_http_parser_close(&rec->parser, 2);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	free(rec);
}

static void test_long_target_is_cut_not_rejected(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	char request[2048];
	const struct ks_http_message *m;

	memcpy(request, "GET /", 5);
	memset(request + 5, 'p', 1000);
	strcpy(request + 1005, " HTTP/1.0\r\n\r\n");
	feed(rec, request, 1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 0);
	assert_true(m->flags & KS_HTTP_MSG_TARGET_TRUNCATED);
	assert_int_equal(m->target_len, KS_HTTP_TARGET_MAX);
	assert_int_equal(m->path_len, KS_HTTP_TARGET_MAX);
	assert_int_equal(m->version_minor, 0);
	free(rec);
}

static void test_large_header_block(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	static char block[KS_HTTP_SECTION_MAX + 4096];
	size_t len = 0;

	len += (size_t)sprintf(block, "GET / HTTP/1.1\r\n");
	while (len < 20000)
		len += (size_t)sprintf(block + len, "X-Filler-%zu: %0200d\r\n",
				       len, 0);
	len += (size_t)sprintf(block + len,
			       "Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e47"
			       "36-00f067aa0ba902b7-01\r\n\r\n");
	/* Headers larger than any buffer, spread over syscalls. */
	for (size_t at = 0; at < len; at += 1000)
		feed_cut(rec, block + at, len - at < 1000 ? len - at : 1000,
			 len - at < 1000 ? len - at : 1000, at);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_true(msg_at(rec, 0)->flags & KS_HTTP_MSG_TRACEPARENT);
	free(rec);
}

static void test_oversized_header_block_aborts(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	static char block[KS_HTTP_SECTION_MAX + 4096];
	size_t len = 0;

	len += (size_t)sprintf(block, "GET / HTTP/1.1\r\n");
	while (len <= KS_HTTP_SECTION_MAX)
		len += (size_t)sprintf(block + len, "X-Filler: %0200d\r\n", 0);
	len += (size_t)sprintf(block + len, "\r\n");
	feed(rec, block, 1);
	feed(rec, "GET /next HTTP/1.1\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "ABORT HEAD COMPLETE");
	free(rec);
}

static void test_header_names_ignore_case(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);
	const struct ks_http_message *m;

	feed(rec,
	     "HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\n"
	     "TraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"
	     "00f067aa0ba902b7-00\r\n"
	     "TRACESTATE: k=v\r\nconnection: CLOSE\r\n\r\nok",
	     1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	m = msg_at(rec, 1);
	assert_int_equal(m->content_length, 2);
	assert_true(m->flags & KS_HTTP_MSG_TRACEPARENT);
	assert_int_equal(m->traceparent.flags, 0);
	assert_string_equal(m->tracestate, "k=v");
	assert_true(m->flags & KS_HTTP_MSG_CLOSE);
	free(rec);
}

static void test_trace_context_rules(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	/* tracestate without traceparent is dropped. */
	feed(rec, "GET / HTTP/1.1\r\ntracestate: k=v\r\n\r\n", 1);
	/* Two traceparents make it invalid, and tracestate with it. */
	feed(rec,
	     "GET / HTTP/1.1\r\n"
	     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	     "tracestate: k=v\r\n\r\n",
	     2);
	/* An invalid tracestate is dropped, traceparent kept. */
	feed(rec,
	     "GET / HTTP/1.1\r\n"
	     "traceparent: \t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \r\n"
	     "tracestate: k=v,k=w\r\n\r\n",
	     3);
	assert_string_equal(kinds(rec), "HEAD COMPLETE HEAD COMPLETE "
					"HEAD COMPLETE");
	assert_false(msg_at(rec, 0)->flags & KS_HTTP_MSG_TRACESTATE);
	assert_int_equal(msg_at(rec, 0)->tracestate_len, 0);
	assert_false(msg_at(rec, 2)->flags &
		     (KS_HTTP_MSG_TRACEPARENT | KS_HTTP_MSG_TRACESTATE));
	assert_true(msg_at(rec, 4)->flags & KS_HTTP_MSG_TRACEPARENT);
	assert_false(msg_at(rec, 4)->flags & KS_HTTP_MSG_TRACESTATE);
	free(rec);
}

static void test_tracestate_combined_too_long(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);
	char request[2048];
	char value[301];
	int len;

	memset(value, 'v', 300);
	value[300] = '\0';
	len = snprintf(request, sizeof(request),
		       "GET / HTTP/1.1\r\n"
		       "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"
		       "00f067aa0ba902b7-01\r\n"
		       "tracestate: a=%s\r\ntracestate: b=%s\r\n\r\n",
		       value, value);
	assert_true(len > 0 && (size_t)len < sizeof(request));
	feed(rec, request, 1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	/* Each is valid alone; together they pass the bound: dropped whole. */
	assert_true(msg_at(rec, 0)->flags & KS_HTTP_MSG_TRACEPARENT);
	assert_false(msg_at(rec, 0)->flags & KS_HTTP_MSG_TRACESTATE);
	assert_int_equal(msg_at(rec, 0)->tracestate_len, 0);
	free(rec);
}

static void test_bad_framing_headers(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	/* Differing lengths: the framing cannot be trusted. */
	feed(rec,
	     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	     "Content-Length: 6\r\n\r\nhello!",
	     1);
	feed(rec, "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", 2);
	assert_string_equal(kinds(rec), "HEAD DESYNC COMPLETE HEAD COMPLETE");
	assert_true(msg_at(rec, 2)->flags & KS_HTTP_MSG_END_GUESSED);
	assert_int_equal(msg_at(rec, 4)->body_len, 2);
	free(rec);
}

static void test_transfer_encoding_not_chunked(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	/* Transfer-Encoding overrides Content-Length; gzip alone: close. */
	feed(rec,
	     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	     "Transfer-Encoding: chunked, gzip\r\n\r\nabcdef",
	     1);
	ks_http_parser_close(&rec->parser, 2);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_true(msg_at(rec, 1)->flags & KS_HTTP_MSG_UNTIL_CLOSE);
	assert_int_equal(msg_at(rec, 1)->body_len, 6);
	free(rec);
}

static void test_request_transfer_encoding_not_chunked(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	/* RFC 9112 6.3: such a request cannot be framed at all. */
	feed(rec, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxyz", 1);
	feed(rec, "GET /next HTTP/1.1\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "HEAD DESYNC COMPLETE HEAD COMPLETE");
	assert_true(msg_at(rec, 2)->flags & KS_HTTP_MSG_END_GUESSED);
	free(rec);
}

static void test_content_length_list_must_agree(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_REQUESTS);

	feed(rec, "POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabc", 1);
	assert_string_equal(kinds(rec), "HEAD DESYNC");
	assert_false(msg_at(rec, 0)->flags & KS_HTTP_MSG_CONTENT_LENGTH);
	free(rec);
}

static void test_switching_protocols_ends_http(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	feed(rec,
	     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\n\r\n\x81\x05hello",
	     1);
	feed(rec, "HTTP/1.1 200 OK\r\n\r\n", 2);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_true(msg_at(rec, 1)->flags & KS_HTTP_MSG_TUNNEL);
	assert_false(ks_http_parser_is_http(&rec->parser));
	free(rec);
}

static void test_connect_tunnel(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	ks_http_parser_expect(&rec->parser, KS_HTTP_METHOD_CONNECT);
	feed(rec, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", 1);
	assert_string_equal(kinds(rec), "HEAD COMPLETE");
	assert_true(msg_at(rec, 1)->flags & KS_HTTP_MSG_TUNNEL);
	free(rec);
}

static void test_full_pipeline_frames_as_get(void **state)
{
	struct recorder *rec = new_recorder(KS_HTTP_RESPONSES);

	for (int i = 0; i < KS_HTTP_PIPELINE_MAX; i++)
		assert_true(ks_http_parser_expect(&rec->parser,
						  KS_HTTP_METHOD_GET));
	assert_false(ks_http_parser_expect(&rec->parser, KS_HTTP_METHOD_HEAD));
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_line_and_fields),
		cmocka_unit_test(test_other_header_values_never_stored),
		cmocka_unit_test(test_keep_alive_requests),
		cmocka_unit_test(test_next_message_strings_start_empty),
		cmocka_unit_test(test_pipelined_requests_in_one_read),
		cmocka_unit_test(test_requests_split_at_every_boundary),
		cmocka_unit_test(test_responses_split_at_every_boundary),
		cmocka_unit_test(test_start_line_over_syscalls_keeps_time),
		cmocka_unit_test(test_one_byte_per_syscall),
		cmocka_unit_test(test_content_length_body_partly_captured),
		cmocka_unit_test(test_content_length_body_over_syscalls),
		cmocka_unit_test(test_chunk_data_skipped_by_count),
		cmocka_unit_test(test_chunked_sync_lost_and_recovered),
		cmocka_unit_test(test_bad_chunk_size_desyncs),
		cmocka_unit_test(test_expect_100_continue),
		cmocka_unit_test(test_head_response_has_no_body),
		cmocka_unit_test(
			test_pipelined_responses_take_methods_in_order),
		cmocka_unit_test(test_statuses_without_body),
		cmocka_unit_test(test_response_until_close),
		cmocka_unit_test(test_connection_close_flag),
		cmocka_unit_test(test_close_mid_body_aborts),
		cmocka_unit_test(test_close_mid_head_aborts),
		cmocka_unit_test(test_reset_reuses_parser),
		cmocka_unit_test(test_tls_is_not_http),
		cmocka_unit_test(test_other_protocols_are_not_http),
		cmocka_unit_test(test_stream_start_decides_at_once),
		cmocka_unit_test(test_blank_syscalls_are_no_evidence),
		cmocka_unit_test(test_attach_in_the_middle_of_a_body),
		cmocka_unit_test(test_garbage_between_messages),
		cmocka_unit_test(test_malformed_head_aborts),
		cmocka_unit_test(test_every_byte_of_a_long_value_is_checked),
		cmocka_unit_test(test_head_cut_by_capture),
		cmocka_unit_test(test_request_line_cut_by_capture),
		cmocka_unit_test(test_status_line_cut_by_capture),
		cmocka_unit_test(test_long_target_is_cut_not_rejected),
		cmocka_unit_test(test_large_header_block),
		cmocka_unit_test(test_oversized_header_block_aborts),
		cmocka_unit_test(test_header_names_ignore_case),
		cmocka_unit_test(test_trace_context_rules),
		cmocka_unit_test(test_tracestate_combined_too_long),
		cmocka_unit_test(test_bad_framing_headers),
		cmocka_unit_test(test_transfer_encoding_not_chunked),
		cmocka_unit_test(test_request_transfer_encoding_not_chunked),
		cmocka_unit_test(test_content_length_list_must_agree),
		cmocka_unit_test(test_switching_protocols_ends_http),
		cmocka_unit_test(test_connect_tunnel),
		cmocka_unit_test(test_full_pipeline_frames_as_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
