/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The entity telemetry describes: one per watched process and one for the
 * agent.  A resource is built once and then shared, read-only, by every
 * span, record and metric about that entity, queued or in flight: a
 * reference count decides when it goes, so the agent may drop its
 * reference to an exited process while the exporter still sends about it.
 */
#ifndef KS_OTLP_RESOURCE_H
#define KS_OTLP_RESOURCE_H

#include "otlp/otlp_build.h"
#include "otlp/otlp_config.h"

struct ks_otlp_resource;

/*
 * A resource with the attributes of attrs, which is left empty whatever the
 * result, and the schema they follow (schema_url, static; NULL: none).  Of
 * attributes with the same key the first one added wins, so callers add
 * what must take precedence first.  The caller holds the one reference.
 * NULL on ENOMEM, or when an add to attrs had failed.
 */
struct ks_otlp_resource *ks_otlp_resource_new(struct ks_otlp_attrs *attrs,
					      const char *schema_url);

/* Another reference; thread-safe. */
struct ks_otlp_resource *ks_otlp_resource_get(struct ks_otlp_resource *res);

/* Drops a reference, freeing on the last; thread-safe; NULL is fine. */
void ks_otlp_resource_put(struct ks_otlp_resource *res);

/* The message, owned by the resource, for encoding only. */
const OtlpResource *
ks_otlp_resource_message(const struct ks_otlp_resource *res);

/* Its schema URL, or NULL. */
const char *ks_otlp_resource_schema_url(const struct ks_otlp_resource *res);

/* Adds telemetry.sdk.name and .version: what produced the telemetry. */
void ks_otlp_attrs_add_sdk(struct ks_otlp_attrs *attrs);

/*
 * Adds service.name (OTEL_SERVICE_NAME, which wins over one in
 * OTEL_RESOURCE_ATTRIBUTES, as the spec says), the telemetry.sdk.*
 * attributes, then OTEL_RESOURCE_ATTRIBUTES: what the agent's own resource
 * starts with.
 */
int ks_otlp_attrs_add_configured(struct ks_otlp_attrs *attrs,
				 const struct ks_otlp_config *cfg);

#endif /* KS_OTLP_RESOURCE_H */
