// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "httptrace/http_route.h"

/* The segment at *at (after its '/'), and where the next one starts. */
static size_t ks_segment(const char *text, size_t len, size_t at)
{
	const char *slash = memchr(text + at, '/', len - at);

	return slash ? (size_t)(slash - text) - at : len - at;
}

static bool ks_is_param(const char *segment, size_t len)
{
	return len >= 2 && segment[0] == '{' && segment[len - 1] == '}';
}

bool ks_http_route_valid(const char *template)
{
	size_t len = strlen(template), at = 1, seg;

	if (template[0] != '/')
		return false;
	while (at <= len) {
		seg = ks_segment(template, len, at);
		if (seg == 1 && template[at] == '*' && at + seg != len)
			return false;
		at += seg + 1;
	}
	return true;
}

static bool ks_matches(const char *template, const char *path, size_t len)
{
	size_t tlen = strlen(template), t = 1, p = 1;

	if (!len || path[0] != '/')
		return false;
	while (t <= tlen) {
		size_t tseg = ks_segment(template, tlen, t), pseg;

		if (tseg == 1 && template[t] == '*')
			return true;
		if (p > len)
			return false;
		pseg = ks_segment(path, len, p);
		if (ks_is_param(template + t, tseg) ?
			    !pseg :
			    tseg != pseg ||
				    memcmp(template + t, path + p, tseg))
			return false;
		t += tseg + 1;
		p += pseg + 1;
	}
	return p > len;
}

const char *ks_http_route_match(const struct ks_http_routes *routes,
				const char *path, size_t len)
{
	for (size_t i = 0; routes && i < routes->nr; i++)
		if (ks_matches(routes->templates[i], path, len))
			return routes->templates[i];
	return NULL;
}
