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
#include "telemetry/http_shared_attrs.h"

/*
 * thread_name may be NULL.  The attributes the span shares with its
 * connection come from shared, and follow its own.  NULL on ENOMEM.
 */
OtlpSpan *ks_http_span_otlp(const struct ks_http_span *span,
			    const char *thread_name,
			    struct ks_http_shared_attrs *shared);

#endif /* KS_HTTP_OTLP_H */
