// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "httptrace/http_semconv.h"
#include "telemetry/http_otlp.h"

/*
 * "GET", "GET /users/{id}", "HTTP" for methods nobody knows: the template
 * is the route of a server, the url.template of a client.
 */
static const char *ks_span_name(const struct ks_http_span *span, char *buf,
				size_t size)
{
	const char *method = span->method_known ? span->method : "HTTP";

	if (!span->route)
		return method;
	snprintf(buf, size, "%s %s", method, span->route);
	return buf;
}

/*
 * What changes from one request to the next; the method, the status code,
 * the path, the response's size and the connection's attributes are
 * encoded once (http_shared_attrs).
 */
static void ks_add_request(const struct ks_http_span *span,
			   struct ks_otlp_attrs *attrs)
{
	if (!span->method_known)
		ks_otlp_attrs_str(attrs, "http.request.method_original",
				  span->method);
	/* Only there when --http-query kept it. */
	if (span->target_len > span->path_len + 1)
		ks_otlp_attrs_str(attrs, "url.query",
				  span->target + span->path_len + 1);
	/* http.route is the server's; a client's template is url.template. */
	if (span->route)
		ks_otlp_attrs_str(attrs,
				  span->kind == KS_HTTP_SPAN_SERVER ?
					  "http.route" :
					  "url.template",
				  span->route);
}

/* The target as sent, with the query only if it was kept. */
static void ks_add_url_full(const struct ks_http_span *span,
			    struct ks_otlp_attrs *attrs)
{
	char address[KS_HTTP_HOST_MAX + 1];
	char url[KS_HTTP_HOST_MAX + KS_HTTP_TARGET_MAX + 16];
	const char *authority = span->host;
	uint16_t port;

	if (!authority[0]) {
		ks_http_server_endpoint(span, address, sizeof(address), &port);
		authority = address;
	}
	snprintf(url, sizeof(url), "http://%s%s", authority, span->target);
	ks_otlp_attrs_str(attrs, "url.full", url);
}

static void ks_add_outcome(const struct ks_http_span *span,
			   struct ks_otlp_attrs *attrs)
{
	char buf[8];
	const char *error = ks_http_error_type(span, buf, sizeof(buf));

	if (error)
		ks_otlp_attrs_str(attrs, "error.type", error);
	if (span->request_body_size)
		ks_otlp_attrs_int(attrs, "http.request.body.size",
				  (int64_t)span->request_body_size);
}

static uint32_t ks_span_flags(const struct ks_http_span *span)
{
	uint32_t flags = span->trace_flags | KS_OTLP_SPAN_FLAGS_HAS_IS_REMOTE;

	/* A traceparent's parent, or a client span in another process. */
	if (span->parent == KS_HTTP_PARENT_PROPAGATED ||
	    span->parent == KS_HTTP_PARENT_PEER)
		flags |= KS_OTLP_SPAN_FLAGS_IS_REMOTE;
	return flags;
}

OtlpSpan *ks_http_span_otlp(const struct ks_http_span *span,
			    const char *thread_name,
			    struct ks_http_shared_attrs *shared)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char name[KS_HTTP_METHOD_MAX + KS_HTTP_TARGET_MAX + 2];
	OtlpSpan *otlp;

	otlp = ks_otlp_span_new(span->trace_id, span->span_id,
				ks_span_name(span, name, sizeof(name)),
				ks_mono_to_real_ns(span->start_ns),
				ks_mono_to_real_ns(span->end_ns));
	if (!otlp)
		return NULL;
	ks_otlp_span_set_kind(otlp, span->kind == KS_HTTP_SPAN_SERVER ?
					    KS_OTLP_SPAN_SERVER :
					    KS_OTLP_SPAN_CLIENT);
	ks_add_request(span, &attrs);
	if (span->kind == KS_HTTP_SPAN_CLIENT)
		ks_add_url_full(span, &attrs);
	ks_add_outcome(span, &attrs);
	if ((span->parent != KS_HTTP_PARENT_NONE &&
	     ks_otlp_span_set_parent(otlp, span->parent_span_id)) ||
	    ks_otlp_span_set_context(otlp, ks_span_flags(span),
				     span->tracestate) ||
	    (ks_http_span_failed(span) &&
	     ks_otlp_span_set_status(otlp, KS_OTLP_STATUS_ERROR,
				     ks_http_failure_message(span->failure))) ||
	    ks_otlp_span_add_attrs(otlp, &attrs) ||
	    ks_http_shared_attrs_add(shared, otlp, span, thread_name)) {
		ks_otlp_attrs_release(&attrs);
		ks_otlp_message_free(otlp);
		return NULL;
	}
	return otlp;
}
