/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attributes an HTTP span shares with other spans, encoded once and
 * kept, so that each request pays only for the attributes of its own:
 *
 * - those of its connection: url.scheme, server.address and server.port,
 *   the peer's address and port (and client.address on servers), the
 *   protocol version, thread.id and thread.name; kept in a fixed number
 *   of slots chosen by a hash of the connection and thread, and compared
 *   in full: a span whose values differ from its slot's (another
 *   connection, a new Host, another thread) encodes its own and takes
 *   the slot;
 * - http.request.method, for methods RFC 9110 names, and
 *   http.response.status_code, of which there are few;
 * - url.path and http.response.body.size, which repeat from request to
 *   request of a server's busy paths and static content: kept in slots
 *   chosen by the value, the latest of each slot's values.
 */
#ifndef KS_HTTP_SHARED_ATTRS_H
#define KS_HTTP_SHARED_ATTRS_H

#include <stdint.h>

#include "httptrace/http_span.h"
#include "otlp/otlp_build.h"

struct ks_http_shared_attrs;

/* NULL on ENOMEM. */
struct ks_http_shared_attrs *ks_http_shared_attrs_new(void);
/* NULL is fine. */
void ks_http_shared_attrs_free(struct ks_http_shared_attrs *shared);

/* Adds span's shared attributes to otlp; thread_name may be NULL.  -ENOMEM. */
int ks_http_shared_attrs_add(struct ks_http_shared_attrs *shared,
			     OtlpSpan *otlp, const struct ks_http_span *span,
			     const char *thread_name);

#endif /* KS_HTTP_SHARED_ATTRS_H */
