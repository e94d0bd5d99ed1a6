/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * http.route from the request path, by templates the user gives
 * (--http-route): syscalls carry the path a client sent, never the route
 * the server's framework matched it with.  A template is a path whose
 * segments may be "{name}" (any one non-empty segment) and whose last
 * segment may be "*" (anything, however deep, even nothing).
 */
#ifndef KS_HTTP_ROUTE_H
#define KS_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define KS_HTTP_MAX_ROUTES 64

struct ks_http_routes {
	const char *templates[KS_HTTP_MAX_ROUTES];
	size_t nr;
};

/* Whether template is one: starts with '/', "*" only as the last segment. */
bool ks_http_route_valid(const char *template);

/* The first template (in the order given) that path matches, or NULL. */
const char *ks_http_route_match(const struct ks_http_routes *routes,
				const char *path, size_t len);

#endif /* KS_HTTP_ROUTE_H */
