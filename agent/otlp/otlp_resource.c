// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/version.h"
#include "otlp/otlp_resource.h"

struct ks_otlp_resource {
	atomic_uint refs;
	OtlpResource *message;
	const char *schema_url;
};

/* Keeps the first of each key: the spec requires keys to be unique. */
static void ks_drop_duplicate_keys(struct ks_otlp_attrs *attrs)
{
	size_t kept = 0;

	for (size_t i = 0; i < attrs->nr; i++) {
		bool seen = false;

		for (size_t j = 0; j < kept && !seen; j++)
			seen = !strcmp(attrs->items[j]->key,
				       attrs->items[i]->key);
		/* The ones dropped go with the list's arena. */
		if (!seen)
			attrs->items[kept++] = attrs->items[i];
	}
	attrs->nr = kept;
}

struct ks_otlp_resource *ks_otlp_resource_new(struct ks_otlp_attrs *attrs,
					      const char *schema_url)
{
	struct ks_otlp_resource *res = calloc(1, sizeof(*res));

	if (!res)
		goto failed;
	ks_drop_duplicate_keys(attrs);
	res->message = ks_otlp_resource_message_new(attrs);
	if (!res->message)
		goto failed;
	atomic_init(&res->refs, 1);
	res->schema_url = schema_url;
	return res;
failed:
	ks_otlp_attrs_release(attrs);
	free(res);
	return NULL;
}

struct ks_otlp_resource *ks_otlp_resource_get(struct ks_otlp_resource *res)
{
	atomic_fetch_add_explicit(&res->refs, 1, memory_order_relaxed);
	return res;
}

void ks_otlp_resource_put(struct ks_otlp_resource *res)
{
	/* Release, then acquire before freeing: the usual refcount pairing. */
	if (!res ||
	    atomic_fetch_sub_explicit(&res->refs, 1, memory_order_release) != 1)
		return;
	atomic_thread_fence(memory_order_acquire);
	ks_otlp_message_free(res->message);
	free(res);
}

const OtlpResource *ks_otlp_resource_message(const struct ks_otlp_resource *res)
{
	return res->message;
}

const char *ks_otlp_resource_schema_url(const struct ks_otlp_resource *res)
{
	return res->schema_url;
}

void ks_otlp_attrs_add_sdk(struct ks_otlp_attrs *attrs)
{
	ks_otlp_attrs_str(attrs, "telemetry.sdk.name", "knotscope");
	ks_otlp_attrs_str(attrs, "telemetry.sdk.version", KS_VERSION);
}

int ks_otlp_attrs_add_configured(struct ks_otlp_attrs *attrs,
				 const struct ks_otlp_config *cfg)
{
	const struct ks_otlp_pairs *pairs = &cfg->resource_attrs;

	ks_otlp_attrs_str(attrs, "service.name", cfg->service_name);
	ks_otlp_attrs_add_sdk(attrs);
	for (size_t i = 0; i < pairs->nr; i++)
		ks_otlp_attrs_str(attrs, pairs->items[i].name,
				  pairs->items[i].value);
	return attrs->failed ? -ENOMEM : 0;
}
