/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Incremental HTTP/1.0 and 1.1 parser for one direction of one TCP
 * connection, fed with socket syscalls of which only a prefix of the bytes
 * was captured.  It finds where messages begin and end (RFC 9112 framing)
 * and reads a few header fields; bodies are skipped by count, never read.
 * All state is in struct ks_http_parser: nothing is allocated, whatever the
 * input, so it can watch every stream of a process, HTTP or not.
 *
 * Per connection the caller keeps two parsers: KS_HTTP_REQUESTS for the
 * bytes from client to server, KS_HTTP_RESPONSES for the way back.  On each
 * request HEAD it tells the response parser the method with
 * ks_http_parser_expect(); responses then take the methods in order, which
 * is how pipelined requests, HEAD and CONNECT are framed right.  The caller
 * matches final responses to its requests the same way, oldest first.
 *
 * Every byte of the stream must be fed, in order: bytes the kernel did not
 * copy (the rest of a large syscall, sendfile, splice) count in total_len
 * with no captured bytes for them.
 */
#ifndef KS_HTTP_PARSER_H
#define KS_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace/http_fields.h"
#include "httptrace/traceparent.h"

#define KS_HTTP_METHOD_MAX 20
/* Bytes of request-target kept; the rest is counted, not stored. */
#define KS_HTTP_TARGET_MAX 256
#define KS_HTTP_HOST_MAX 255
/* The longest field value kept is a tracestate. */
#define KS_HTTP_VALUE_MAX KS_TRACESTATE_MAX
/* A head (or chunk-size line, or trailer section) longer than this is junk. */
#define KS_HTTP_SECTION_MAX 65536
/* Requests awaiting a response whose method the response parser keeps. */
#define KS_HTTP_PIPELINE_MAX 16
/*
 * Syscalls without a plausible message start before a stream that never
 * showed HTTP is given up as something else.  More than one, because the
 * agent may attach to a connection in the middle of a body.
 */
#define KS_HTTP_PROBE_SYSCALLS 3

enum ks_http_direction {
	KS_HTTP_REQUESTS,
	KS_HTTP_RESPONSES,
};

enum ks_http_method {
	KS_HTTP_METHOD_UNKNOWN, /* a response whose request was not told */
	KS_HTTP_METHOD_GET,
	KS_HTTP_METHOD_HEAD,
	KS_HTTP_METHOD_POST,
	KS_HTTP_METHOD_PUT,
	KS_HTTP_METHOD_DELETE,
	KS_HTTP_METHOD_CONNECT,
	KS_HTTP_METHOD_OPTIONS,
	KS_HTTP_METHOD_TRACE,
	KS_HTTP_METHOD_PATCH,
	KS_HTTP_METHOD_OTHER, /* see method_name */
};

enum ks_http_message_flags {
	/* KS_HTTP_EV_HEAD was reported for this message. */
	KS_HTTP_MSG_HEAD_SEEN = 1u << 0,
	/* Part of the head was not captured: later fields are missing. */
	KS_HTTP_MSG_HEAD_TRUNCATED = 1u << 1,
	/*
	 * Framing was lost (unseen bytes where it was needed, bad chunk
	 * syntax, bad Content-Length): the message ended with the last
	 * syscall before the next plausible message start, or the close.
	 */
	KS_HTTP_MSG_END_GUESSED = 1u << 2,
	KS_HTTP_MSG_TARGET_TRUNCATED = 1u << 3,
	KS_HTTP_MSG_CONTENT_LENGTH = 1u << 4, /* content_length is valid */
	KS_HTTP_MSG_CHUNKED = 1u << 5,
	KS_HTTP_MSG_UNTIL_CLOSE = 1u << 6, /* the body ends with the close */
	/* The sender closes the connection after this message. */
	KS_HTTP_MSG_CLOSE = 1u << 7,
	/* 101 or a 2xx to CONNECT: the rest of the stream is not HTTP. */
	KS_HTTP_MSG_TUNNEL = 1u << 8,
	KS_HTTP_MSG_EXPECT_CONTINUE = 1u << 9,
	KS_HTTP_MSG_TRACEPARENT = 1u << 10, /* traceparent holds a valid one */
	/* tracestate holds a valid value that came with a valid traceparent. */
	KS_HTTP_MSG_TRACESTATE = 1u << 11,
};

struct ks_http_message {
	/* Timestamps of the syscalls that carried these bytes. */
	uint64_t start_ns; /* the first byte */
	uint64_t head_end_ns; /* the end of the head */
	uint64_t end_ns; /* the last byte */
	uint64_t content_length;
	uint64_t body_len; /* body bytes, seen or not, without chunk framing */
	uint32_t flags; /* enum ks_http_message_flags */
	uint16_t status; /* responses */
	uint8_t version_minor; /* HTTP/1.x; 1 when the start line was cut */
	/* Requests: their method.  Responses: the one told for them. */
	uint8_t method; /* enum ks_http_method */
	/* path_len is the part of target before any '?', so the caller can
	 * drop the query, which may hold secrets. */
	uint16_t target_len;
	uint16_t path_len;
	uint16_t host_len;
	uint16_t tracestate_len;
	struct ks_traceparent traceparent;
	/*
	 * The text, last: a new message clears what comes before it and only
	 * the first byte of each string (most of the struct), and the parser
	 * keeps each string NUL-terminated as it grows.
	 */
	char method_name[KS_HTTP_METHOD_MAX + 1];
	char target[KS_HTTP_TARGET_MAX + 1]; /* the request-target as sent */
	char host[KS_HTTP_HOST_MAX + 1];
	char tracestate[KS_TRACESTATE_MAX + 1];
};

/*
 * What the parser reports, per message in this order: HEAD, then COMPLETE
 * or ABORT.  On the response side INTERIM reports a 1xx (but 101) before
 * the final response; it is not the response and opens no message.
 */
enum ks_http_event {
	/* The head is parsed (or cut short): msg opens. */
	KS_HTTP_EV_HEAD,
	/* An interim 1xx response such as 100 Continue. */
	KS_HTTP_EV_INTERIM,
	/* The open message's last byte went by: msg closes. */
	KS_HTTP_EV_COMPLETE,
	/*
	 * A message ends without completing: the connection closed first,
	 * or its head was malformed.  It was open only when msg->flags has
	 * KS_HTTP_MSG_HEAD_SEEN.
	 */
	KS_HTTP_EV_ABORT,
	/*
	 * The parser lost track of message boundaries and skips to the next
	 * plausible message start.  msg is the open message, which stays
	 * open and will end with KS_HTTP_MSG_END_GUESSED, or NULL.
	 */
	KS_HTTP_EV_DESYNC,
	/* The stream is not HTTP/1: all later bytes are ignored.  msg NULL. */
	KS_HTTP_EV_NOT_HTTP,
};

/* msg is only valid during the call. */
typedef void (*ks_http_event_fn)(void *ctx, enum ks_http_event event,
				 const struct ks_http_message *msg);

struct ks_http_parser {
	enum ks_http_direction direction;
	ks_http_event_fn on_event;
	void *ctx;

	/* The rest is private to http_parser.c. */
	uint8_t state;
	bool in_message; /* a valid start line went by, no end yet */
	bool probing; /* the message start was guessed while skipping */
	bool confirmed; /* some message start on this stream was valid */
	bool cr; /* a CR was seen; only an LF may follow */
	uint8_t probes; /* syscalls skipped before the stream was confirmed */
	uint8_t match; /* progress in the version literal or digit count */
	uint8_t field; /* enum ks_http_field of the current field line */
	uint8_t name_len;
	bool value_overflow;
	uint16_t value_len;
	uint32_t head_state; /* private flags for the head being parsed */
	uint32_t section_bytes;
	uint64_t remaining; /* of the body or chunk */
	uint8_t pending_methods[KS_HTTP_PIPELINE_MAX];
	uint8_t pending_first;
	uint8_t pending_count;
	char name[KS_HTTP_FIELD_NAME_MAX];
	char value[KS_HTTP_VALUE_MAX];
	struct ks_http_message msg;
};

void ks_http_parser_init(struct ks_http_parser *parser,
			 enum ks_http_direction direction,
			 ks_http_event_fn on_event, void *ctx);

/*
 * Forgets everything but direction and callback, for a new connection of
 * which the agent may have missed the start.
 */
void ks_http_parser_reset(struct ks_http_parser *parser);

/*
 * The next byte fed is the first of the stream: the caller saw the
 * connection open.  It must then start a message, so any other protocol is
 * given up at its first syscall rather than after a few.
 */
void ks_http_parser_stream_start(struct ks_http_parser *parser);

/*
 * Tells a response parser the method of the next request in flight.
 * Returns false when KS_HTTP_PIPELINE_MAX are already waiting; the
 * response to it will then be framed as if for a GET.
 */
bool ks_http_parser_expect(struct ks_http_parser *parser,
			   enum ks_http_method method);

/*
 * One syscall's worth of the stream: total_len bytes, of which the first
 * captured_len are in data.
 */
void ks_http_parser_feed(struct ks_http_parser *parser, const uint8_t *data,
			 size_t captured_len, size_t total_len, uint64_t ts_ns);

/*
 * The stream ended (FIN, close, reset).  Completes a body that runs until
 * the close, aborts any other message in progress, then ignores all input
 * until ks_http_parser_reset().
 */
void ks_http_parser_close(struct ks_http_parser *parser, uint64_t ts_ns);

/* False once the stream is known not to be (or no longer be) HTTP. */
bool ks_http_parser_is_http(const struct ks_http_parser *parser);

#endif /* KS_HTTP_PARSER_H */
