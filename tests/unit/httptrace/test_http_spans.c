// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* HTTP spans as socket records from the kernel side assemble them. */
#include "unit.h"

#include <errno.h>

#include "httptrace/http_metrics.h"
#include "httptrace/http_semconv.h"
#include "httptrace/http_spans.h"
#include "sock_records.h"

#define MS 1000000ull

struct world {
	struct ks_http_spans *spans;
	struct ks_http_routes routes;
	struct ks_http_span got[32];
	size_t nr_got;
	uint64_t updated_pid_tgid;
	uint8_t updated_trace[16];
	unsigned int nr_updates;
	uint64_t retracted_pid_tgid;
	unsigned int nr_retracts;
	unsigned int nr_forgotten;
	struct ks_sampler sampler;
};

/* A connection end: tgid's fd, named conn_id by the kernel. */
struct end {
	uint64_t id;
	uint32_t tgid;
	int32_t fd;
};

static const struct end nginx = { 1, 100, 7 };
static const struct end curl = { 2, 200, 3 };

static void on_span(void *ctx, const struct ks_http_span *span)
{
	struct world *w = ctx;

	/* The first 32 are kept to look at; floods only count. */
	if (w->nr_got < 32)
		w->got[w->nr_got++] = *span;
}

static void on_update(void *ctx, uint64_t pid_tgid, const uint8_t span_id[8],
		      const uint8_t trace_id[16])
{
	struct world *w = ctx;

	w->updated_pid_tgid = pid_tgid;
	memcpy(w->updated_trace, trace_id, 16);
	w->nr_updates++;
}

static void on_retract(void *ctx, uint64_t pid_tgid, const uint8_t span_id[8])
{
	struct world *w = ctx;

	w->retracted_pid_tgid = pid_tgid;
	w->nr_retracts++;
}

static void on_forget(void *ctx, uint64_t sock, uint64_t conn_id)
{
	struct world *w = ctx;

	w->nr_forgotten++;
}

static const struct ks_http_hooks hooks = {
	.span_ready = on_span,
	.trace_ctx_update = on_update,
	.trace_ctx_retract = on_retract,
	.forget_sock = on_forget,
};

static struct world *make_world(bool keep_query, uint64_t unseen_wait_ns)
{
	struct world *w = calloc(1, sizeof(*w));
	struct ks_http_spans_config config = {
		.sampler = &w->sampler,
		.keep_query = keep_query,
		.routes = &w->routes,
		.join_wait_ns = 100 * MS,
		.unseen_wait_ns = unseen_wait_ns,
		.max_conns = 64,
		.max_exchanges = 64,
	};

	w->routes.templates[w->routes.nr++] = "/users/{id}";
	w->spans = ks_http_spans_new(&config, &hooks, w);
	return w;
}

static int setup(void **state)
{
	*state = make_world(false, 0);
	return 0;
}

/* As the agent runs: a client on this node not seen yet is waited for. */
static int setup_unseen_wait(void **state)
{
	*state = make_world(false, KS_HTTP_UNSEEN_WAIT_NS);
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_http_spans_free(w->spans, 0);
	free(w);
	return 0;
}

static void apply(struct world *w, void *record, size_t size)
{
	assert_int_equal(ks_http_spans_apply(w->spans, record, size), 0);
	free(record);
}

static void open_end(struct world *w, const struct end *e, uint8_t role,
		     uint16_t local_port, uint16_t remote_port, uint64_t ts)
{
	size_t size;
	void *rec = test_open(&size, e->id, e->tgid, 0x1000 + e->id, role,
			      local_port, remote_port, ts);

	apply(w, rec, size);
}

/* Server 127.0.0.1:80 <- client 127.0.0.1:40000, both ends traced. */
static void open_pair(struct world *w)
{
	open_end(w, &curl, KS_CONN_CLIENT, 40000, 80, 1);
	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 2);
}

static void io_full(struct world *w, const struct test_data *d)
{
	size_t size;
	void *rec = test_data_record(&size, d);

	apply(w, rec, size);
}

/* The bytes text, moved by thread tid on e at ts. */
static struct test_data data_of(const struct end *e, uint32_t tid,
				uint8_t direction, const char *text,
				uint64_t ts)
{
	struct test_data d = {
		.conn_id = e->id,
		.tgid = e->tgid,
		.tid = tid,
		.fd = e->fd,
		.direction = direction,
		.ts_ns = ts,
		.bytes = text,
		.captured = strlen(text),
	};

	return d;
}

static void io(struct world *w, const struct end *e, uint32_t tid,
	       uint8_t direction, const char *text, uint64_t ts)
{
	struct test_data d = data_of(e, tid, direction, text, ts);

	io_full(w, &d);
}

/* The kernel started a span at this read, with these ids. */
static void started_span(struct test_data *d, uint8_t trace, uint8_t span)
{
	d->flags = KS_SOCK_SPAN_STARTED | KS_SOCK_SPAN_PUBLISHED;
	d->trace_id[0] = trace;
	d->span_id[0] = span;
}

static void close_end(struct world *w, const struct end *e, uint64_t ts)
{
	size_t size;
	void *rec = test_close(&size, e->id, e->tgid, ts);

	apply(w, rec, size);
}

static const struct ks_http_span *
only_span(struct world *w, enum ks_http_span_kind kind, size_t nth)
{
	for (size_t i = 0; i < w->nr_got; i++)
		if (w->got[i].kind == kind && !nth--)
			return &w->got[i];
	fail_msg("no such span");
	return NULL;
}

static const struct ks_http_span *
span_of(struct world *w, enum ks_http_span_kind kind, uint32_t tgid)
{
	for (size_t i = 0; i < w->nr_got; i++)
		if (w->got[i].kind == kind && w->got[i].tgid == tgid)
			return &w->got[i];
	fail_msg("no such span");
	return NULL;
}

static const char ok_response[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void test_keep_alive(void **state)
{
	struct world *w = *state;
	const struct ks_http_span *s;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
	   10);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 12);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET /users/42?token=s3cret HTTP/1.1\r\nHost: example.com:8080"
	   "\r\n\r\n",
	   20);
	io(w, &nginx, 100, KS_SOCK_SEND,
	   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 25);
	io(w, &nginx, 100, KS_SOCK_RECV, "BREW /pot HTTP/1.1\r\n\r\n", 30);
	io(w, &nginx, 100, KS_SOCK_SEND,
	   "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", 31);
	assert_int_equal(w->nr_got, 3);

	s = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->target, "/a");
	assert_int_equal(s->status, 200);
	assert_int_equal(s->start_ns, 10);
	assert_int_equal(s->end_ns, 12);
	assert_int_equal(s->response_body_size, 5);
	assert_int_equal(s->parent, KS_HTTP_PARENT_NONE);
	assert_false(ks_http_span_failed(s));
	assert_null(s->route);

	/* The query is dropped before it is stored; the route matches. */
	s = only_span(w, KS_HTTP_SPAN_SERVER, 1);
	assert_string_equal(s->target, "/users/42");
	assert_string_equal(s->route, "/users/{id}");
	assert_int_equal(s->status, 404);
	assert_false(ks_http_span_failed(s)); /* 4xx: the client's fault */
	assert_memory_not_equal(s->trace_id,
				only_span(w, KS_HTTP_SPAN_SERVER, 0)->trace_id,
				16);

	/* The exchange before's text does not carry over. */
	s = only_span(w, KS_HTTP_SPAN_SERVER, 2);
	assert_string_equal(s->host, "");
	assert_string_equal(s->target, "/pot");
	assert_false(s->method_known);
	assert_string_equal(ks_http_method_attr(s), "_OTHER");
	assert_true(ks_http_span_failed(s));
}

static void test_query_kept_when_asked(void **state)
{
	struct world *w = make_world(true, 0);
	const struct ks_http_span *s;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET http://proxy.example/p/q?x=1 HTTP/1.1\r\n\r\n", 10);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 12);
	s = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	/* Absolute-form: the path is what follows the authority. */
	assert_string_equal(s->target, "/p/q?x=1");
	assert_int_equal(s->path_len, 4);
	ks_http_spans_free(w->spans, 0);
	free(w);
}

static void test_head_split_across_reads(void **state)
{
	struct world *w = *state;
	const struct ks_http_span *s;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV, "POST /upl", 10);
	io(w, &nginx, 100, KS_SOCK_RECV, "oad HTTP/1.1\r\nContent-Le", 11);
	io(w, &nginx, 100, KS_SOCK_RECV, "ngth: 3\r\n\r\nab", 12);
	assert_int_equal(w->nr_got, 0);
	io(w, &nginx, 100, KS_SOCK_RECV, "c", 13);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 14);
	s = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	assert_string_equal(s->target, "/upload");
	assert_int_equal(s->start_ns, 10);
	assert_int_equal(s->request_body_size, 3);
}

static void test_pipelining_and_kernel_ids(void **state)
{
	struct world *w = *state;
	struct test_data d =
		data_of(&nginx, 101, KS_SOCK_RECV,
			"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 10);

	started_span(&d, 0xaa, 0xbb);
	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io_full(w, &d);
	io(w, &nginx, 101, KS_SOCK_SEND,
	   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	   "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
	   11);
	assert_int_equal(w->nr_got, 2);
	/* The first takes the ids the kernel drew and published... */
	assert_int_equal(w->got[0].status, 200);
	assert_memory_equal(w->got[0].trace_id, d.trace_id, 16);
	assert_memory_equal(w->got[0].span_id, d.span_id, 8);
	/* ... the second, read in the same call, gets its own. */
	assert_int_equal(w->got[1].status, 201);
	assert_string_equal(w->got[1].target, "/2");
	assert_memory_not_equal(w->got[1].span_id, d.span_id, 8);
	assert_int_equal(w->nr_updates, 0);
	/* The thread dies: what the kernel published for it must go. */
	ks_http_spans_thread_exit(w->spans, nginx.tgid, 101);
	assert_int_equal(w->nr_retracts, 1);
	assert_int_equal(w->retracted_pid_tgid, (uint64_t)100 << 32 | 101);
}

static void test_chunked_and_unseen_bytes(void **state)
{
	struct world *w = *state;
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			   "\r\n\r\n1000\r\n";
	struct test_data body = data_of(&nginx, 100, KS_SOCK_SEND, "xxxx", 12);

	/* A 4096-byte chunk and its CRLF, mostly not captured. */
	body.total = 4096 + 2;
	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /big HTTP/1.1\r\n\r\n", 10);
	io(w, &nginx, 100, KS_SOCK_SEND, head, 11);
	io_full(w, &body);
	assert_int_equal(w->nr_got, 0);
	io(w, &nginx, 100, KS_SOCK_SEND, "0\r\n\r\n", 13);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].response_body_size, 4096);
	assert_int_equal(w->got[0].end_ns, 13);
}

static void test_expect_continue(void **state)
{
	struct world *w = *state;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "PUT /f HTTP/1.1\r\nContent-Length: 4\r\n"
	   "Expect: 100-continue\r\n\r\n",
	   10);
	io(w, &nginx, 100, KS_SOCK_SEND, "HTTP/1.1 100 Continue\r\n\r\n", 11);
	io(w, &nginx, 100, KS_SOCK_RECV, "data", 12);
	io(w, &nginx, 100, KS_SOCK_SEND, "HTTP/1.1 204 No Content\r\n\r\n", 13);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].status, 204);
	assert_int_equal(w->got[0].request_body_size, 4);
	assert_int_equal(w->got[0].start_ns, 10);
	assert_int_equal(w->got[0].end_ns, 13);
}

static void test_closed_mid_exchange(void **state)
{
	struct world *w = *state;
	const struct ks_http_span *s;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\npart", 10);
	close_end(w, &nginx, 20);
	s = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	assert_int_equal(s->failure, KS_HTTP_CLOSED_BEFORE_RESPONSE);
	assert_int_equal(s->end_ns, 20);
	assert_true(ks_http_span_failed(s));

	open_end(w, &curl, KS_CONN_CLIENT, 40001, 80, 30);
	io(w, &curl, 200, KS_SOCK_SEND, "GET / HTTP/1.1\r\n\r\n", 31);
	io(w, &curl, 200, KS_SOCK_RECV,
	   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 32);
	close_end(w, &curl, 40);
	s = only_span(w, KS_HTTP_SPAN_CLIENT, 0);
	assert_int_equal(s->failure, KS_HTTP_CLOSED_DURING_RESPONSE);
	assert_int_equal(s->status, 200);
	assert_true(ks_http_span_failed(s));
	/* Closed connections are gone from the kernel already. */
	assert_int_equal(w->nr_forgotten, 0);
}

static void test_traceparent(void **state)
{
	struct world *w = *state;
	const uint8_t trace[16] = { 0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd,
				    0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21,
				    0x1c, 0x80, 0x31, 0x9c };
	struct test_data d = data_of(
		&nginx, 100, KS_SOCK_RECV,
		"GET / HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
		"8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: v=1\r\n\r\n",
		10);
	const struct ks_http_span *s;

	started_span(&d, 5, 9);
	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io_full(w, &d);
	/* The kernel published a trace id of its own: corrected at once. */
	assert_int_equal(w->nr_updates, 1);
	assert_int_equal(w->updated_pid_tgid, (uint64_t)100 << 32 | 100);
	assert_memory_equal(w->updated_trace, trace, 16);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 11);
	s = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	assert_memory_equal(s->trace_id, trace, 16);
	assert_int_equal(s->parent, KS_HTTP_PARENT_PROPAGATED);
	assert_int_equal(s->parent_span_id[0], 0xb7);
	assert_string_equal(s->tracestate, "v=1");
	assert_int_equal(s->trace_flags, KS_TRACE_FLAG_SAMPLED);

	/* Malformed: ignored, a trace of its own. */
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET / HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
	   "8448eb211c80319c-0000000000000000-01\r\n\r\n",
	   20);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 21);
	s = only_span(w, KS_HTTP_SPAN_SERVER, 1);
	assert_int_equal(s->parent, KS_HTTP_PARENT_NONE);
	assert_memory_not_equal(s->trace_id, trace, 16);
	assert_string_equal(s->tracestate, "");

	/* Not sampled upstream: no span, as a parent-based sampler does. */
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET / HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
	   "8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n",
	   30);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 31);
	assert_int_equal(w->nr_got, 2);
}

static void client_request(struct world *w, uint64_t ts)
{
	io(w, &curl, 200, KS_SOCK_SEND, "GET /a HTTP/1.1\r\n\r\n", ts);
}

static void exchange_server_side(struct world *w, uint64_t ts)
{
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\n\r\n", ts);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, ts + 2);
}

static void assert_joined(struct world *w)
{
	const struct ks_http_span *client =
		span_of(w, KS_HTTP_SPAN_CLIENT, curl.tgid);
	const struct ks_http_span *server =
		only_span(w, KS_HTTP_SPAN_SERVER, 0);

	assert_int_equal(server->parent, KS_HTTP_PARENT_PEER);
	assert_memory_equal(server->parent_span_id, client->span_id, 8);
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	/* The client span holds the server span it caused. */
	assert_true(client->start_ns <= server->start_ns);
}

static void test_peer_join_client_first(void **state)
{
	struct world *w = *state;

	open_pair(w);
	client_request(w, 10);
	exchange_server_side(w, 11);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 14);
	assert_int_equal(w->nr_got, 2);
	assert_joined(w);
}

/* The server's records were consumed before the client's write. */
/* The server's records come first: its span is held, its trace depending
 * on a client request not seen yet. */
static void exchange_server_first(struct world *w)
{
	open_pair(w);
	ks_http_spans_tick(w->spans, 5);
	exchange_server_side(w, 11);
	assert_int_equal(w->nr_got, 0);
}

/* The client's request comes, then its response: the held server span
 * joins it. */
static void client_comes_and_joins(struct world *w)
{
	struct ks_http_stats stats;

	client_request(w, 10);
	assert_int_equal(w->nr_got, 1);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 14);
	assert_joined(w);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.joined, 1);
	assert_int_equal(stats.join_expired, 0);
}

static void test_peer_join_server_first(void **state)
{
	struct world *w = *state;

	exchange_server_first(w);
	ks_http_spans_tick(w->spans, 50 * MS);
	assert_int_equal(w->nr_got, 0);
	client_comes_and_joins(w);
}

/* The server's exchange, its client's connection not seen yet: held. */
static void exchange_before_client_seen(struct world *w)
{
	ks_http_spans_tick(w->spans, 5);
	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 9);
	exchange_server_side(w, 11);
	assert_int_equal(w->nr_got, 0);
}

/*
 * The server read the request before the client's write returned and made
 * its connection known: the server's span waits for the connection.
 */
static void test_peer_join_before_the_client_is_seen(void **state)
{
	struct world *w = *state;

	exchange_before_client_seen(w);
	open_end(w, &curl, KS_CONN_CLIENT, 40000, 80, 10);
	client_comes_and_joins(w);
}

/* A client on this node that is not traced: a root, once the drain ends. */
static void test_untraced_local_client_waited_for_briefly(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	exchange_before_client_seen(w);
	ks_http_spans_tick(w->spans, 20 * MS);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].parent, KS_HTTP_PARENT_NONE);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.join_expired, 0);
}

/* A client elsewhere cannot be seen here: its server span is not held. */
static void test_remote_client_not_waited_for(void **state)
{
	struct world *w = *state;
	size_t size;
	struct ks_sock_open *open =
		test_open(&size, nginx.id, nginx.tgid, 0x1000 + nginx.id,
			  KS_CONN_SERVER, 80, 40000, 9);

	open->tuple.remote.addr[12] = 10;
	apply(w, open, size);
	exchange_server_side(w, 11);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].parent, KS_HTTP_PARENT_NONE);
}

static void test_peer_join_expires(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	exchange_server_first(w);
	ks_http_spans_tick(w->spans, 100 * MS);
	assert_int_equal(w->nr_got, 0);
	ks_http_spans_tick(w->spans, 106 * MS);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].parent, KS_HTTP_PARENT_NONE);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.join_expired, 1);
}

static void test_thread_nesting(void **state)
{
	struct world *w = *state;
	const struct end upstream = { 3, 100, 9 };
	const struct end other = { 4, 100, 8 };
	const struct ks_http_span *server, *call;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	open_end(w, &upstream, KS_CONN_CLIENT, 50000, 9000, 2);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\n\r\n", 10);
	/* While serving /a, thread 100 calls an upstream. */
	io(w, &upstream, 100, KS_SOCK_SEND, "GET /up HTTP/1.1\r\n\r\n", 11);
	io(w, &upstream, 100, KS_SOCK_RECV, ok_response, 12);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 13);
	server = only_span(w, KS_HTTP_SPAN_SERVER, 0);
	call = only_span(w, KS_HTTP_SPAN_CLIENT, 0);
	assert_int_equal(call->parent, KS_HTTP_PARENT_THREAD);
	assert_memory_equal(call->parent_span_id, server->span_id, 8);
	assert_memory_equal(call->trace_id, server->trace_id, 16);

	/* Serving two at once (an event loop): no guess. */
	open_end(w, &other, KS_CONN_SERVER, 80, 40002, 20);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /b HTTP/1.1\r\n\r\n", 21);
	io(w, &other, 100, KS_SOCK_RECV, "GET /c HTTP/1.1\r\n\r\n", 22);
	io(w, &upstream, 100, KS_SOCK_SEND, "GET /up HTTP/1.1\r\n\r\n", 23);
	io(w, &upstream, 100, KS_SOCK_RECV, ok_response, 24);
	assert_int_equal(only_span(w, KS_HTTP_SPAN_CLIENT, 1)->parent,
			 KS_HTTP_PARENT_NONE);
}

/*
 * curl -> nginx (proxy_pass) -> python, curl sending a traceparent that
 * nginx forwards: what is seen on the node wins over the header, so the
 * tree is the chain, not four siblings under the header's span.
 */
static void test_observed_parents_win_over_forwarded_headers(void **state)
{
	static const char request[] =
		"GET / HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
		"8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n";
	struct world *w = *state;
	const struct end upstream = { 3, 100, 9 };
	const struct end python = { 5, 300, 4 };
	const struct ks_http_span *c, *ns, *nc, *ps;

	open_pair(w);
	open_end(w, &upstream, KS_CONN_CLIENT, 50000, 9000, 3);
	open_end(w, &python, KS_CONN_SERVER, 9000, 50000, 4);
	io(w, &curl, 200, KS_SOCK_SEND, request, 10);
	io(w, &nginx, 100, KS_SOCK_RECV, request, 11);
	io(w, &upstream, 100, KS_SOCK_SEND, request, 12);
	io(w, &python, 300, KS_SOCK_RECV, request, 13);
	io(w, &python, 300, KS_SOCK_SEND, ok_response, 14);
	io(w, &upstream, 100, KS_SOCK_RECV, ok_response, 15);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 16);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 17);
	c = span_of(w, KS_HTTP_SPAN_CLIENT, curl.tgid);
	ns = span_of(w, KS_HTTP_SPAN_SERVER, nginx.tgid);
	nc = span_of(w, KS_HTTP_SPAN_CLIENT, nginx.tgid);
	ps = span_of(w, KS_HTTP_SPAN_SERVER, python.tgid);
	/* Only curl's span hangs from the header: its caller is unseen. */
	assert_int_equal(c->parent, KS_HTTP_PARENT_PROPAGATED);
	assert_int_equal(c->parent_span_id[0], 0xb7);
	assert_int_equal(ns->parent, KS_HTTP_PARENT_PEER);
	assert_memory_equal(ns->parent_span_id, c->span_id, 8);
	assert_int_equal(nc->parent, KS_HTTP_PARENT_THREAD);
	assert_memory_equal(nc->parent_span_id, ns->span_id, 8);
	assert_int_equal(ps->parent, KS_HTTP_PARENT_PEER);
	assert_memory_equal(ps->parent_span_id, nc->span_id, 8);
	assert_memory_equal(ps->trace_id, c->trace_id, 16);
	assert_int_equal(c->trace_id[0], 0x0a);
	assert_string_equal(ps->tracestate, "");
}

/* A header is still the fallback when the join does not come. */
static void test_header_when_the_peer_never_comes(void **state)
{
	struct world *w = *state;

	open_pair(w);
	ks_http_spans_tick(w->spans, 5);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET /a HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
	   "8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
	   11);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 13);
	assert_int_equal(w->nr_got, 0);
	ks_http_spans_tick(w->spans, 200 * MS);
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].parent, KS_HTTP_PARENT_PROPAGATED);
	assert_int_equal(w->got[0].parent_span_id[0], 0xb7);
}

/* OTEL_TRACES_SAMPLER: roots by trace id, children by their parent. */
static void test_sampler_decides_when_the_trace_is_final(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	ks_sampler_init(&w->sampler, KS_SAMPLER_PARENTBASED_ALWAYS_OFF, 1);
	open_pair(w);
	/* A root: dropped, and so is the server span under it. */
	client_request(w, 10);
	exchange_server_side(w, 11);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 14);
	assert_int_equal(w->nr_got, 0);
	/* A sampled parent in a header: kept, children too. */
	io(w, &curl, 200, KS_SOCK_SEND,
	   "GET /a HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
	   "8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
	   20);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\n\r\n", 21);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 22);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 23);
	assert_int_equal(w->nr_got, 2);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.unsampled, 2);
	/* always_on ignores an unsampled parent. */
	ks_sampler_init(&w->sampler, KS_SAMPLER_ALWAYS_ON, 1);
	io(w, &nginx, 100, KS_SOCK_RECV,
	   "GET /a HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd"
	   "8448eb211c80319c-b7ad6b7169203331-00\r\n\r\n",
	   30);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 31);
	/* Its client's request never comes: the header is the parent. */
	ks_http_spans_tick(w->spans, 200 * MS);
	assert_int_equal(w->nr_got, 3);
	assert_int_equal(w->got[2].parent, KS_HTTP_PARENT_PROPAGATED);
	assert_int_equal(w->got[2].trace_flags, KS_TRACE_FLAG_SAMPLED);
}

/* A child of a server span that waits for its client waits with it. */
static void test_children_wait_with_parent(void **state)
{
	struct world *w = *state;
	const struct end upstream = { 3, 100, 9 };
	const struct ks_http_span *call;

	open_pair(w);
	open_end(w, &upstream, KS_CONN_CLIENT, 50000, 9000, 3);
	ks_http_spans_tick(w->spans, 5);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\n\r\n", 11);
	io(w, &upstream, 100, KS_SOCK_SEND, "GET /up HTTP/1.1\r\n\r\n", 12);
	io(w, &upstream, 100, KS_SOCK_RECV, ok_response, 13);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 14);
	assert_int_equal(w->nr_got, 0);
	client_request(w, 10);
	io(w, &curl, 200, KS_SOCK_RECV, ok_response, 15);
	assert_int_equal(w->nr_got, 3);
	assert_joined(w);
	/* The upstream call, in the trace the join settled. */
	call = span_of(w, KS_HTTP_SPAN_CLIENT, nginx.tgid);
	assert_int_equal(call->parent, KS_HTTP_PARENT_THREAD);
	assert_memory_equal(
		call->trace_id,
		span_of(w, KS_HTTP_SPAN_CLIENT, curl.tgid)->trace_id, 16);
}

static void test_process_gone(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	open_pair(w);
	client_request(w, 10);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /a HTTP/1.1\r\n\r\n", 11);
	ks_http_spans_process_gone(w->spans, nginx.tgid, 20);
	/* Its server span ends, failed; the kernel forgets its socket. */
	assert_int_equal(w->nr_got, 1);
	assert_int_equal(w->got[0].failure, KS_HTTP_CLOSED_BEFORE_RESPONSE);
	assert_int_equal(w->nr_forgotten, 1);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.connections, 1);
	ks_http_spans_process_gone(w->spans, curl.tgid, 21);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.connections, 0);
	assert_int_equal(w->nr_got, 2);
}

static void test_not_http_is_forgotten(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	open_end(w, &nginx, KS_CONN_SERVER, 443, 40000, 1);
	/* A TLS ClientHello. */
	io(w, &nginx, 100, KS_SOCK_RECV, "\x16\x03\x01\x02\x00\x01", 10);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.not_http, 1);
	assert_int_equal(stats.connections, 0);
	assert_int_equal(w->nr_forgotten, 1);
	assert_int_equal(w->nr_got, 0);
}

static void test_malformed_records(void **state)
{
	struct world *w = *state;
	struct test_data d = data_of(&nginx, 100, KS_SOCK_RECV, "GET", 1);
	size_t size;
	struct ks_sock_data *rec = test_data_record(&size, &d);

	/* Fewer bytes than the record says it captured. */
	assert_int_equal(ks_http_spans_apply(w->spans, rec, size - 1), -EINVAL);
	rec->total_len = 2; /* less than captured */
	assert_int_equal(ks_http_spans_apply(w->spans, rec, size), -EINVAL);
	rec->total_len = 3;
	rec->direction = 3;
	assert_int_equal(ks_http_spans_apply(w->spans, rec, size), -EINVAL);
	free(rec);
}

struct series_count {
	unsigned int nr;
	uint64_t total;
};

/* Two sets: /users/{id} 200, and 500 with its error.type. */
static void check_series(void *ctx, uint32_t tgid,
			 const struct ks_http_series *series)
{
	struct series_count *count = ctx;

	count->nr++;
	count->total += series->summary.count;
	if (series->key.status == 200) {
		assert_string_equal(series->key.route, "/users/{id}");
		assert_int_equal(series->summary.count, 2);
		/* 20 ms and 1 ms: the (10, 25] ms and (0, 5] ms buckets. */
		assert_int_equal(series->buckets[2], 1);
		assert_int_equal(series->buckets[0], 1);
		return;
	}
	assert_int_equal(series->key.status, 500);
	assert_string_equal(series->key.error_type, "500");
	assert_int_equal(series->key.version_minor, 0);
}

static void test_metrics(void **state)
{
	struct world *w = *state;
	struct series_count count = { 0 };

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /users/1 HTTP/1.1\r\n\r\n", 0);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 20 * MS);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /users/2 HTTP/1.1\r\n\r\n",
	   30 * MS);
	io(w, &nginx, 100, KS_SOCK_SEND, ok_response, 31 * MS);
	io(w, &nginx, 100, KS_SOCK_RECV, "GET /x HTTP/1.0\r\n\r\n", 40 * MS);
	io(w, &nginx, 100, KS_SOCK_SEND, "HTTP/1.0 500 No\r\n\r\n", 41 * MS);
	close_end(w, &nginx, 42 * MS);
	ks_http_metrics_foreach(ks_http_spans_metrics(w->spans), check_series,
				&count);
	assert_int_equal(count.nr, 2);
	assert_int_equal(count.total, 3);
}

/* Requests pipelined on one connection, none answered. */
static void pipeline(struct world *w, const struct end *e, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		io(w, e, 101, KS_SOCK_RECV, "GET /p HTTP/1.1\r\n\r\n", 10 + i);
}

static void test_one_connection_cannot_take_every_exchange(void **state)
{
	static const struct end other = { 3, 100, 8 };
	struct world *w = *state;
	struct ks_http_stats stats;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	open_end(w, &other, KS_CONN_SERVER, 80, 40001, 2);
	/* As many as there are exchanges in all: it gets its share. */
	pipeline(w, &nginx, 64);
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.exchanges_refused, 64 - KS_HTTP_MAX_PER_CONN);
	/* Another connection still gets its requests traced. */
	io(w, &other, 102, KS_SOCK_RECV, "GET /other HTTP/1.1\r\n\r\n", 200);
	io(w, &other, 102, KS_SOCK_SEND, ok_response, 201);
	assert_string_equal(span_of(w, KS_HTTP_SPAN_SERVER, 100)->target,
			    "/other");
}

static void test_threads_are_followed_only_while_it_matters(void **state)
{
	struct world *w = *state;
	struct ks_http_stats stats;

	open_end(w, &nginx, KS_CONN_SERVER, 80, 40000, 1);
	/* A hundred threads serve a request each, and are done with it. */
	for (uint32_t i = 0; i < 100; i++) {
		io(w, &nginx, 1000 + i, KS_SOCK_RECV, "GET / HTTP/1.1\r\n\r\n",
		   10 + 2 * i);
		io(w, &nginx, 1000 + i, KS_SOCK_SEND,
		   "HTTP/1.1 204 No Content\r\n\r\n", 11 + 2 * i);
	}
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.spans, 100);
	assert_int_equal(stats.threads, 0);
	/* Idle, they made room for one another: none was refused. */
	assert_int_equal(stats.threads_refused, 0);

	/*
	 * Threads the kernel published an id for stay until they exit, and
	 * their exits may be lost: no more than the table holds.
	 */
	for (uint32_t i = 0; i < 100; i++) {
		struct test_data d =
			data_of(&nginx, 2000 + i, KS_SOCK_RECV,
				"GET / HTTP/1.1\r\n\r\n", 1000 + 2 * i);

		started_span(&d, 0xaa, (uint8_t)(i + 1));
		io_full(w, &d);
		io(w, &nginx, 2000 + i, KS_SOCK_SEND,
		   "HTTP/1.1 204 No Content\r\n\r\n", 1001 + 2 * i);
	}
	ks_http_spans_stats(w->spans, &stats);
	assert_int_equal(stats.threads, 64);
	/* The other 36, twice each: for its published id, for its request. */
	assert_int_equal(stats.threads_refused, 2 * 36);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keep_alive, setup,
						teardown),
		cmocka_unit_test(test_query_kept_when_asked),
		cmocka_unit_test_setup_teardown(test_head_split_across_reads,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining_and_kernel_ids,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_and_unseen_bytes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_continue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_closed_mid_exchange, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_traceparent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_peer_join_client_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_join_server_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_join_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_peer_join_before_the_client_is_seen,
			setup_unseen_wait, teardown),
		cmocka_unit_test_setup_teardown(
			test_untraced_local_client_waited_for_briefly,
			setup_unseen_wait, teardown),
		cmocka_unit_test_setup_teardown(
			test_remote_client_not_waited_for, setup_unseen_wait,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_observed_parents_win_over_forwarded_headers, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_header_when_the_peer_never_comes, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sampler_decides_when_the_trace_is_final, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_thread_nesting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_children_wait_with_parent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_http_is_forgotten,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_one_connection_cannot_take_every_exchange, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_threads_are_followed_only_while_it_matters, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
