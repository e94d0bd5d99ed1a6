// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket ring buffer records through everything that reads them: the
 * decoder, the connection table, the HTTP parsers and span assembly, with
 * joins, waits, thread and process ends.  The input is a script of
 * operations, so that most records are well formed and the fuzzer gets
 * deep into connections and exchanges; one operation hands over raw bytes
 * as a record, for the decoder.
 *
 * Every span handed over must be sane, and at the end everything must be
 * freed (the sanitizer checks for leaks).
 */
#include <errno.h>
#include <string.h>

#include "../unit/sock_records.h"
#include "fuzz.h"
#include "httptrace/http_metrics.h"
#include "httptrace/http_spans.h"

#define NR_SLOTS 8

enum op {
	OP_OPEN,
	OP_DATA,
	OP_CLOSE,
	OP_TICK,
	OP_THREAD_EXIT,
	OP_PROCESS_GONE,
	OP_RAW,
	NR_OPS,
};

struct script {
	const uint8_t *at;
	const uint8_t *end;
};

static uint8_t next_byte(struct script *s)
{
	return s->at < s->end ? *s->at++ : 0;
}

static uint16_t next_u16(struct script *s)
{
	return (uint16_t)(next_byte(s) | next_byte(s) << 8);
}

/* Slot i is socket 0x1000 + i, descriptor i of process 1 + i / 2: pairs of
 * processes. */
struct state {
	struct ks_http_spans *spans;
	uint64_t conn_ids[NR_SLOTS];
	uint64_t next_id;
	uint64_t now_ns;
	uint8_t buf[sizeof(struct ks_sock_data) + KS_SOCK_CAPTURE_MAX];
};

static bool all_zero(const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

static void on_span(void *ctx, const struct ks_http_span *span)
{
	CHECK(span->kind == KS_HTTP_SPAN_SERVER ||
	      span->kind == KS_HTTP_SPAN_CLIENT);
	CHECK(span->start_ns <= span->end_ns);
	CHECK(!all_zero(span->trace_id, sizeof(span->trace_id)));
	CHECK(!all_zero(span->span_id, sizeof(span->span_id)));
	CHECK(span->parent <= KS_HTTP_PARENT_THREAD);
	CHECK(span->trace_flags & KS_TRACE_FLAG_SAMPLED);
	CHECK(span->method[KS_HTTP_METHOD_MAX] == '\0');
	CHECK(strlen(span->target) == span->target_len);
	CHECK(span->path_len <= span->target_len && span->target_len);
	CHECK(span->host[KS_HTTP_HOST_MAX] == '\0');
	CHECK(span->tracestate[KS_TRACESTATE_MAX] == '\0');
	CHECK(span->failure <= KS_HTTP_CLOSED_DURING_RESPONSE);
	CHECK(span->status < 1000);
}

static void on_update(void *ctx, uint64_t pid_tgid, const uint8_t span_id[8],
		      const uint8_t trace_id[16])
{
	CHECK(!all_zero(trace_id, 16));
}

static const struct ks_http_hooks hooks = {
	.span_ready = on_span,
	.trace_ctx_update = on_update,
};

/* Ports from a small set, so that tuples meet their other ends. */
static struct ks_endpoint endpoint(uint8_t which)
{
	static const uint16_t ports[] = { 80, 8080, 40000, 40001 };

	return test_endpoint(ports[which % 4]);
}

static void apply(struct state *st, const void *record, size_t size)
{
	int err = ks_http_spans_apply(st->spans, record, size);

	CHECK(!err || err == -EINVAL);
}

static void op_open(struct state *st, struct script *s)
{
	uint8_t slot = next_byte(s) % NR_SLOTS, ports = next_byte(s);
	struct ks_sock_open rec = { 0 };

	st->conn_ids[slot] = ++st->next_id;
	record_header(&rec.hdr, KS_EV_SOCK_OPEN, sizeof(rec), 1 + slot / 2,
		      1 + slot / 2, st->now_ns);
	rec.conn_id = st->conn_ids[slot];
	rec.sock = 0x1000 + slot;
	rec.role = ports & 0x80 ? KS_CONN_SERVER : KS_CONN_CLIENT;
	rec.family = 2;
	rec.tuple.local = endpoint(ports);
	rec.tuple.remote = endpoint(ports >> 2);
	apply(st, &rec, sizeof(rec));
}

static void op_data(struct state *st, struct script *s)
{
	uint8_t slot = next_byte(s) % NR_SLOTS, bits = next_byte(s);
	size_t captured = next_byte(s) % 64 * 8 + next_byte(s) % 8;
	uint16_t unseen = bits & 0x40 ? next_u16(s) : 0;
	struct ks_sock_data rec = { 0 };
	size_t left = (size_t)(s->end - s->at);

	if (captured > left)
		captured = left;
	record_header(&rec.hdr, KS_EV_SOCK_DATA, sizeof(rec) + captured,
		      1 + slot / 2, 100 + bits % 4, st->now_ns);
	rec.conn_id = st->conn_ids[slot];
	rec.total_len = captured + unseen;
	if (!rec.total_len)
		rec.total_len = 1;
	rec.fd = slot;
	rec.captured_len = (uint16_t)captured;
	rec.direction = bits & 0x10 ? KS_SOCK_RECV : KS_SOCK_SEND;
	rec.flags = bits >> 2 & (KS_SOCK_SPAN_STARTED | KS_SOCK_SPAN_PUBLISHED);
	rec.trace_id[0] = rec.span_id[0] = 1 + bits;
	memcpy(st->buf, &rec, sizeof(rec));
	memcpy(st->buf + sizeof(rec), s->at, captured);
	s->at += captured;
	apply(st, st->buf, sizeof(rec) + captured);
}

static void op_close(struct state *st, struct script *s)
{
	uint8_t slot = next_byte(s) % NR_SLOTS;
	struct ks_sock_close rec = { 0 };

	record_header(&rec.hdr, KS_EV_SOCK_CLOSE, sizeof(rec), 1 + slot / 2,
		      1 + slot / 2, st->now_ns);
	rec.conn_id = st->conn_ids[slot];
	apply(st, &rec, sizeof(rec));
}

static void op_raw(struct state *st, struct script *s)
{
	size_t len = next_u16(s) % sizeof(st->buf), left = s->end - s->at;

	if (len > left)
		len = left;
	memcpy(st->buf, s->at, len);
	s->at += len;
	apply(st, st->buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ks_http_routes routes = {
		.templates = { "/a/{b}", "/s/*" },
		.nr = 2,
	};
	struct ks_http_spans_config config = {
		.keep_query = size & 1,
		.routes = &routes,
		.join_wait_ns = 1000,
		.max_conns = 4,
		.max_exchanges = 6,
	};
	struct script s = { data, data + size };
	static struct state st;

	memset(&st, 0, sizeof(st));
	st.now_ns = 1000;
	st.spans = ks_http_spans_new(&config, &hooks, NULL);
	CHECK(st.spans);
	while (s.at < s.end) {
		st.now_ns += next_byte(&s) % 4 * 100;
		switch (next_byte(&s) % NR_OPS) {
		case OP_OPEN:
			op_open(&st, &s);
			break;
		case OP_DATA:
			op_data(&st, &s);
			break;
		case OP_CLOSE:
			op_close(&st, &s);
			break;
		case OP_TICK:
			ks_http_spans_tick(st.spans, st.now_ns);
			break;
		case OP_THREAD_EXIT:
			ks_http_spans_thread_exit(st.spans,
						  1 + next_byte(&s) % 4,
						  100 + next_byte(&s) % 4);
			break;
		case OP_PROCESS_GONE:
			ks_http_spans_process_gone(
				st.spans, 1 + next_byte(&s) % 4, st.now_ns);
			break;
		case OP_RAW:
			op_raw(&st, &s);
			break;
		}
	}
	ks_http_spans_free(st.spans, st.now_ns + 1);
	return 0;
}
