/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The values the OpenTelemetry semantic conventions for HTTP ask for,
 * derived from a span one way for both its span attributes and its metric
 * attributes, so the two always agree.
 */
#ifndef KS_HTTP_SEMCONV_H
#define KS_HTTP_SEMCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httptrace/http_span.h"

/* http.request.method: the method, or "_OTHER" for unknown ones. */
const char *ks_http_method_attr(const struct ks_http_span *span);

/* A tuple's addresses as text: IPv4-mapped ones in dotted form. */
void ks_http_tuple_text(const struct ks_conn_tuple *tuple,
			struct ks_tuple_text *text);

/*
 * server.address and server.port: the host and port of the Host field
 * when it has them (the port defaults to 80), else the server's end of
 * the connection, from its tuple_text.
 */
void ks_http_server_endpoint(const struct ks_http_span *span, char *address,
			     size_t size, uint16_t *port);

/* Whether the span's status is ERROR: 5xx on servers, 4xx and 5xx on
 * clients, or no response at all. */
bool ks_http_span_failed(const struct ks_http_span *span);

/*
 * error.type for a failed span: its status code, or a short identifier of
 * why it has none; NULL when it did not fail.  buf holds at least 8.
 */
const char *ks_http_error_type(const struct ks_http_span *span, char *buf,
			       size_t size);

/* network.protocol.version of HTTP/1.minor: "1.0", "1.1"; static. */
const char *ks_http_protocol_version(uint8_t minor);

/* What went wrong, for a failed span's status message; NULL for 5xx. */
const char *ks_http_failure_message(enum ks_http_failure failure);

#endif /* KS_HTTP_SEMCONV_H */
