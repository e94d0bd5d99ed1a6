/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The bodies of OTLP/HTTP exchanges: a batch of spans, log records or
 * metrics encoded as one Export*ServiceRequest, and the partial success a
 * receiver may answer with.  The three signals share one shape (request ->
 * resource_* -> scope_* -> items, all at field numbers 1 and 2), so one
 * envelope (proto/knotscope/otlp/v1/envelope.proto) serves them all, with
 * items encoded once, when they are queued: building a request then copies
 * bytes instead of walking every item's tree again at each level.
 */
#ifndef KS_OTLP_PACK_H
#define KS_OTLP_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "knotscope/otlp/v1/envelope.pb-c.h"
#include "otlp/otlp_config.h"
#include "otlp/otlp_resource.h"
#include "otlp/otlp_scope.h"

/* The scope of items handed over without one. */
extern const struct ks_otlp_scope ks_otlp_default_scope;

/* One span, log record or metric, encoded, its resource and its scope. */
struct ks_otlp_record {
	const uint8_t *data;
	size_t len;
	const struct ks_otlp_resource *resource;
	const struct ks_otlp_scope *scope; /* NULL: the default */
};

/* An item as requests carry it: 0 with a malloc()ed encoding, or -ENOMEM. */
int ks_otlp_encode_item(const ProtobufCMessage *item, uint8_t **out,
			size_t *out_len);

/*
 * Encodes records as the signal's Export*ServiceRequest: one resource_*
 * entry per distinct resource, in the order resources first appear, each
 * with a scope_* entry per distinct scope of its items, in the order they
 * first appear, holding the items in their original order.  Resources and
 * scopes carry their schema URLs.
 * The encodings and resources are only read.  Returns 0 with a malloc()ed
 * encoding in *out, -E2BIG when it would exceed max_len (checked before
 * anything is encoded), or -ENOMEM.
 */
int ks_otlp_pack_request(enum ks_otlp_signal signal,
			 const struct ks_otlp_record *records, size_t nr,
			 size_t max_len, uint8_t **out, size_t *out_len);

/*
 * The items a 2xx response's body says were rejected (its partial_success):
 * 0 when there is none, -1 when the body does not decode.  The receiver's
 * explanation, if any, goes into message.
 */
int64_t ks_otlp_rejected_items(enum ks_otlp_signal signal, const uint8_t *body,
			       size_t len, char *message, size_t message_size);

#endif /* KS_OTLP_PACK_H */
