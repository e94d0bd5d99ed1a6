// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "base/printable.h"
#include "meta/self_described.h"
#include "otlp/otlp_config.h"

static const char *const ks_observed_namespaces[] = {
	"container.", "host.",	    "k8s.",	  "os.",
	"process.",   "telemetry.", "knotscope.",
};

const char *ks_environ_get(const char *block, size_t len, const char *name)
{
	size_t name_len = strlen(name);
	const char *end = block + len;

	for (const char *p = block; p < end; p += strnlen(p, end - p) + 1) {
		if ((size_t)(end - p) > name_len &&
		    !strncmp(p, name, name_len) && p[name_len] == '=')
			return p + name_len + 1;
	}
	return NULL;
}

bool ks_process_may_set(const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(ks_observed_namespaces) /
				       sizeof(ks_observed_namespaces[0]);
	     i++)
		if (!strncmp(key, ks_observed_namespaces[i],
			     strlen(ks_observed_namespaces[i])))
			return false;
	return strlen(value) <= KS_SELF_DESCRIBED_VALUE_MAX &&
	       ks_is_printable(key) && ks_is_printable(value);
}

void ks_self_described(const char *block, size_t len, ks_attr_fn add, void *ctx)
{
	const char *service = ks_environ_get(block, len, "OTEL_SERVICE_NAME");
	const char *resource =
		ks_environ_get(block, len, "OTEL_RESOURCE_ATTRIBUTES");
	struct ks_otlp_pairs pairs = { 0 };
	char err[KS_OTLP_ERR_SIZE];
	unsigned int taken = 0;

	/* OTEL_SERVICE_NAME wins over service.name in the attributes. */
	if (service && *service && ks_process_may_set("service.name", service))
		add(ctx, "service.name", service);
	if (!resource || strlen(resource) > KS_SELF_DESCRIBED_TEXT_MAX ||
	    ks_otlp_pairs_parse("OTEL_RESOURCE_ATTRIBUTES", resource, &pairs,
				err, sizeof(err)))
		goto cleanup;
	for (size_t i = 0; i < pairs.nr && taken < KS_SELF_DESCRIBED_MAX_ATTRS;
	     i++) {
		if (!ks_process_may_set(pairs.items[i].name,
					pairs.items[i].value))
			continue;
		add(ctx, pairs.items[i].name, pairs.items[i].value);
		taken++;
	}
cleanup:
	ks_otlp_pairs_free(&pairs);
}
