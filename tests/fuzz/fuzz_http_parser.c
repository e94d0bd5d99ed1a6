// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Arbitrary byte streams through the HTTP parser, cut into syscalls at
 * arbitrary points, with arbitrary parts of each syscall not captured.
 *
 * Input: a mode byte, 8 bytes seeding the cuts, then the stream.  Each
 * input runs three times: cut with unseen bytes; cut with every byte seen;
 * whole.  All runs must report events in a valid order with sane fields,
 * and the last two, fed the same bytes, must agree on every event up to
 * the first one that says sync was lost: until then, where syscalls
 * begin must not matter.
 */
#include <string.h>

#include "fuzz.h"
#include "httptrace/http_parser.h"

#define HEADER_LEN 9

enum mode {
	MODE_RESPONSES = 1 << 0,
	/* The run with unseen bytes knows the stream starts at byte 0. */
	MODE_STREAM_START = 1 << 1,
	MODE_CLOSE = 1 << 2,
};

struct run {
	struct ks_http_parser parser;
	enum ks_http_direction direction;
	bool open; /* a HEAD without its COMPLETE or ABORT yet */
	bool ended; /* no event may follow */
	bool lost; /* sync was lost: later events depend on the cuts */
	uint64_t now_ns; /* the last syscall's timestamp */
	uint64_t last_end_ns; /* where the last message ended */
	uint64_t digest; /* of the events before sync was lost */
	size_t nr_digested;
};

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64: cheap, and a pure function of the input's seed. */
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void digest(struct run *run, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;

	/* FNV-1a */
	for (size_t i = 0; i < len; i++)
		run->digest = (run->digest ^ p[i]) * 0x100000001b3ull;
}

/* Everything but timestamps, which differ with the cuts. */
static void digest_event(struct run *run, enum ks_http_event event,
			 const struct ks_http_message *msg)
{
	digest(run, &event, sizeof(event));
	run->nr_digested++;
	if (!msg)
		return;
	digest(run, &msg->flags, sizeof(msg->flags));
	digest(run, &msg->status, sizeof(msg->status));
	digest(run, &msg->method, sizeof(msg->method));
	digest(run, &msg->version_minor, sizeof(msg->version_minor));
	digest(run, &msg->body_len, sizeof(msg->body_len));
	digest(run, &msg->content_length, sizeof(msg->content_length));
	digest(run, msg->method_name, strlen(msg->method_name));
	digest(run, msg->target, msg->target_len);
	digest(run, &msg->path_len, sizeof(msg->path_len));
	digest(run, msg->host, msg->host_len);
	digest(run, msg->tracestate, msg->tracestate_len);
	if (msg->flags & KS_HTTP_MSG_TRACEPARENT)
		digest(run, &msg->traceparent, sizeof(msg->traceparent));
}

static void check_message(const struct run *run, enum ks_http_event event,
			  const struct ks_http_message *msg)
{
	bool request = run->direction == KS_HTTP_REQUESTS;
	bool head_seen = msg->flags & KS_HTTP_MSG_HEAD_SEEN;

	CHECK(msg->method_name[KS_HTTP_METHOD_MAX] == '\0');
	CHECK(msg->target_len <= KS_HTTP_TARGET_MAX);
	CHECK(msg->target[msg->target_len] == '\0');
	CHECK(msg->path_len <= msg->target_len);
	CHECK(msg->host_len <= KS_HTTP_HOST_MAX);
	CHECK(strlen(msg->host) == msg->host_len);
	CHECK(msg->tracestate_len <= KS_TRACESTATE_MAX);
	CHECK(msg->start_ns <= msg->end_ns && msg->end_ns <= run->now_ns);
	CHECK(request ? !msg->status : !msg->method_name[0]);
	CHECK(msg->method <= KS_HTTP_METHOD_OTHER);
	if (head_seen || event == KS_HTTP_EV_INTERIM) {
		CHECK(msg->start_ns <= msg->head_end_ns);
		CHECK(msg->head_end_ns <= msg->end_ns);
		CHECK(request || (msg->status >= 100 && msg->status <= 999));
	}
	if (event == KS_HTTP_EV_INTERIM)
		CHECK(msg->status / 100 == 1 && msg->status != 101);
	/* Trace Context: tracestate only with a valid traceparent. */
	if (head_seen && (msg->flags & KS_HTTP_MSG_TRACESTATE)) {
		CHECK(msg->flags & KS_HTTP_MSG_TRACEPARENT);
		CHECK(ks_tracestate_valid(msg->tracestate,
					  msg->tracestate_len));
		CHECK(strlen(msg->tracestate) == msg->tracestate_len);
	} else if (head_seen) {
		CHECK(!msg->tracestate_len);
	}
	/* A body framed by length that completed in sync has that length. */
	if (event == KS_HTTP_EV_COMPLETE &&
	    (msg->flags & KS_HTTP_MSG_CONTENT_LENGTH) &&
	    !(msg->flags &
	      (KS_HTTP_MSG_CHUNKED | KS_HTTP_MSG_UNTIL_CLOSE |
	       KS_HTTP_MSG_END_GUESSED | KS_HTTP_MSG_HEAD_TRUNCATED)))
		CHECK(msg->body_len == msg->content_length || !msg->body_len);
}

static void on_event(void *ctx, enum ks_http_event event,
		     const struct ks_http_message *msg)
{
	struct run *run = ctx;

	CHECK(!run->ended);
	if (!run->lost)
		digest_event(run, event, msg);
	if (msg)
		check_message(run, event, msg);
	switch (event) {
	case KS_HTTP_EV_HEAD:
		CHECK(msg && !run->open);
		CHECK(msg->flags & KS_HTTP_MSG_HEAD_SEEN);
		CHECK(msg->start_ns >= run->last_end_ns);
		run->open = true;
		break;
	case KS_HTTP_EV_INTERIM:
		CHECK(msg && !run->open);
		CHECK(run->direction == KS_HTTP_RESPONSES);
		break;
	case KS_HTTP_EV_COMPLETE:
		CHECK(msg && run->open);
		run->open = false;
		run->last_end_ns = msg->end_ns;
		run->ended = msg->flags & KS_HTTP_MSG_TUNNEL;
		break;
	case KS_HTTP_EV_ABORT:
		CHECK(msg);
		CHECK(run->open == !!(msg->flags & KS_HTTP_MSG_HEAD_SEEN));
		run->open = false;
		run->lost = true;
		break;
	case KS_HTTP_EV_DESYNC:
		if (msg)
			CHECK(run->open &&
			      (msg->flags & KS_HTTP_MSG_END_GUESSED));
		else
			CHECK(!run->open);
		run->lost = true;
		break;
	case KS_HTTP_EV_NOT_HTTP:
		CHECK(!msg && !run->open);
		run->ended = true;
		run->lost = true;
		break;
	}
}

static void start_run(struct run *run, enum ks_http_direction direction,
		      bool stream_start, uint64_t seed)
{
	memset(run, 0, sizeof(*run));
	run->direction = direction;
	run->digest = 0xcbf29ce484222325ull;
	ks_http_parser_init(&run->parser, direction, on_event, run);
	if (stream_start)
		ks_http_parser_stream_start(&run->parser);
	/* Requests in flight, told the same way to every run. */
	for (uint64_t n = seed >> 59; n; n--)
		ks_http_parser_expect(
			&run->parser,
			(enum ks_http_method)((seed >> (4 * n % 64)) % 11));
}

static void feed(struct run *run, const uint8_t *data, size_t captured,
		 size_t total)
{
	run->now_ns += 10;
	ks_http_parser_feed(&run->parser, data, captured, total, run->now_ns);
	CHECK(ks_http_parser_is_http(&run->parser) || run->ended);
}

static void end_run(struct run *run, bool close)
{
	static const uint8_t late[] = "GET / HTTP/1.1\r\n\r\n";

	if (!close)
		return;
	run->now_ns += 10;
	ks_http_parser_close(&run->parser, run->now_ns);
	CHECK(!run->open);
	/* Closed: nothing more may come out until a reset. */
	run->ended = true;
	feed(run, late, sizeof(late) - 1, sizeof(late) - 1);
}

/* The stream in syscalls cut by the seed, some bytes of them unseen. */
static void run_cut(struct run *run, const uint8_t *stream, size_t len,
		    uint64_t seed, bool unseen)
{
	uint64_t random = seed ? seed : 0x9e3779b97f4a7c15ull;
	size_t at = 0;

	while (at < len) {
		uint64_t r = next_random(&random);
		size_t total = 1 + r % ((r >> 8) % 4 ? 24 : 600);
		size_t captured;

		if (total > len - at)
			total = len - at;
		captured = unseen && (r >> 16) % 2 ? (r >> 24) % (total + 1) :
						     total;
		if (unseen && (r >> 40) % 8 == 0)
			ks_http_parser_expect(
				&run->parser,
				(enum ks_http_method)((r >> 44) % 11));
		/* A total below what was captured must be taken as no less. */
		feed(run, stream + at, captured,
		     unseen && captured == total && (r >> 48) % 16 == 0 ?
			     0 :
			     total);
		at += total;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run with_unseen, cut, whole;
	enum ks_http_direction direction;
	const uint8_t *stream = data + HEADER_LEN;
	size_t len = size - HEADER_LEN;
	uint64_t seed = 0;
	uint8_t mode;

	if (size < HEADER_LEN)
		return 0;
	mode = data[0];
	memcpy(&seed, data + 1, sizeof(seed));
	direction =
		mode & MODE_RESPONSES ? KS_HTTP_RESPONSES : KS_HTTP_REQUESTS;

	start_run(&with_unseen, direction, mode & MODE_STREAM_START, seed);
	run_cut(&with_unseen, stream, len, seed, true);
	end_run(&with_unseen, mode & MODE_CLOSE);

	start_run(&cut, direction, true, seed);
	run_cut(&cut, stream, len, seed, false);
	end_run(&cut, mode & MODE_CLOSE);

	start_run(&whole, direction, true, seed);
	feed(&whole, stream, len, len);
	end_run(&whole, mode & MODE_CLOSE);

	CHECK(cut.nr_digested == whole.nr_digested);
	CHECK(cut.digest == whole.digest);
	return 0;
}
