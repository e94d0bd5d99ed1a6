/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The attributes an HTTP span shares with the other spans of its
 * connection: url.scheme, server.address and server.port, the peer's
 * address and port (and client.address on servers), the protocol version,
 * thread.id and thread.name.  They are encoded once and kept, so that each
 * request of a keep-alive connection pays only for its own attributes.
 *
 * Kept in a fixed number of slots chosen by a hash of the connection and
 * thread, compared in full: a span whose values differ from its slot's
 * (another connection, a new Host, another thread) encodes its own and
 * takes the slot.
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

/*
 * The span's shared attributes, encoded, with server_address and
 * server_port as ks_http_server_endpoint() found them and thread_name
 * (NULL: none).  Valid until the next call; NULL on ENOMEM.
 */
const struct ks_otlp_encoded_attrs *
ks_http_shared_attrs_of(struct ks_http_shared_attrs *shared,
			const struct ks_http_span *span,
			const char *server_address, uint16_t server_port,
			const char *thread_name);

#endif /* KS_HTTP_SHARED_ATTRS_H */
