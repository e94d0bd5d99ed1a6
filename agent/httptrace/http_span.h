/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One HTTP exchange as a span: what http_spans.c makes of a request and its
 * response, and what the semantic conventions (http_semconv.c), the RED
 * metrics (http_metrics.c) and the OTLP export read.
 */
#ifndef KS_HTTP_SPAN_H
#define KS_HTTP_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "httptrace/http_parser.h"
#include "knotscope_abi.h"

/* Long enough for any IPv6 text form, with a NUL. */
#define KS_IP_TEXT_MAX 46

/*
 * A connection's addresses as text (ks_http_tuple_text()): formatted once
 * when it opens, not again for each of its requests.
 */
struct ks_tuple_text {
	char local[KS_IP_TEXT_MAX];
	char remote[KS_IP_TEXT_MAX];
};

enum ks_http_span_kind {
	KS_HTTP_SPAN_SERVER = 1,
	KS_HTTP_SPAN_CLIENT = 2,
};

enum ks_http_parent {
	KS_HTTP_PARENT_NONE, /* a root */
	KS_HTTP_PARENT_PROPAGATED, /* from the request's traceparent */
	KS_HTTP_PARENT_PEER, /* the client span at the other end, on this node */
	KS_HTTP_PARENT_THREAD, /* the server span the thread was serving */
};

/* Why an exchange ended without its response. */
enum ks_http_failure {
	KS_HTTP_OK,
	KS_HTTP_CLOSED_BEFORE_RESPONSE,
	KS_HTTP_CLOSED_DURING_RESPONSE,
};

struct ks_http_span {
	enum ks_http_span_kind kind;
	uint32_t tgid;
	uint32_t tid; /* that read (server) or wrote (client) the request */
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* with parent != KS_HTTP_PARENT_NONE */
	enum ks_http_parent parent;
	uint8_t trace_flags; /* W3C: KS_TRACE_FLAG_SAMPLED */
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	bool method_known; /* one of RFC 9110's, or PATCH */
	/* Of target: the path, and the query only when the configuration
	 * keeps it. */
	uint16_t path_len;
	uint16_t target_len;
	const char *route; /* a --http-route template, or NULL */
	/* From this process's end: the server's own for SERVER spans. */
	struct ks_conn_tuple tuple;
	uint16_t status; /* 0: no response */
	uint8_t version_minor; /* HTTP/1.x, of the response when there is one */
	uint64_t request_body_size;
	uint64_t response_body_size;
	enum ks_http_failure failure;
	/*
	 * The text, last (most of the struct): a new exchange clears what
	 * comes before it, and its strings are written as they are known.
	 */
	struct ks_tuple_text tuple_text;
	char method[KS_HTTP_METHOD_MAX + 1]; /* as sent */
	char target[KS_HTTP_TARGET_MAX + 1];
	char host[KS_HTTP_HOST_MAX + 1]; /* the Host field, "" when absent */
	char tracestate[KS_TRACESTATE_MAX + 1];
};

#endif /* KS_HTTP_SPAN_H */
