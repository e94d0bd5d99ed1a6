/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The dashboard's files, compiled into the agent from agent/serve/web/ and
 * the pinned graph and chart libraries at build time (scripts/embed-web.sh writes the
 * definitions under build/): nothing is fetched when the page loads, so it
 * works without a network.
 */
#ifndef KS_WEB_ASSETS_H
#define KS_WEB_ASSETS_H

#include <stddef.h>

struct ks_web_asset {
	const char *path; /* as requested: "/index.html", "/cytoscape.min.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

extern const struct ks_web_asset ks_web_assets[];
extern const size_t ks_nr_web_assets;

#endif /* KS_WEB_ASSETS_H */
