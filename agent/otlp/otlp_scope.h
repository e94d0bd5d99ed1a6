/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * An instrumentation scope: what produced a span, log record or metric
 * (InstrumentationScope), and the schema its attributes follow (the
 * scope's schema_url).  Scopes are static, owned by whoever defines
 * them; items are handed to the exporter with a pointer to theirs, and
 * each request groups a resource's items by scope.
 */
#ifndef KS_OTLP_SCOPE_H
#define KS_OTLP_SCOPE_H

struct ks_otlp_scope {
	const char *name;
	const char *version; /* NULL: none */
	const char *schema_url; /* NULL: none */
};

#endif /* KS_OTLP_SCOPE_H */
