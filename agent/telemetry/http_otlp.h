/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An HTTP span as an OTLP span, as the semantic conventions for HTTP want
 * it: "{method}" or "{method} {route}", SERVER or CLIENT, status ERROR for
 * 5xx on servers, 4xx and 5xx on clients and exchanges that broke off, and
 * their attributes.  No header value but traceparent and tracestate was
 * ever kept, so none can leave.
 */
#ifndef KS_HTTP_OTLP_H
#define KS_HTTP_OTLP_H

#include "httptrace/http_spans.h"
#include "otlp/otlp_build.h"

/* thread_name may be NULL.  NULL on ENOMEM. */
OtlpSpan *ks_http_span_otlp(const struct ks_http_span *span,
			    const char *thread_name);

#endif /* KS_HTTP_OTLP_H */
