/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about the node, gathered once, added to every resource. */
#ifndef KS_HOST_META_H
#define KS_HOST_META_H

#include "otlp/otlp_build.h"

struct ks_host_meta {
	char name[256]; /* host.name */
	char id[64]; /* host.id: the machine id, empty if unknown */
	char k8s_node_name[256]; /* from K8S_NODE_NAME, empty outside */
	/* The kernel's random id of this boot: what process instances of
	 * this host are told apart from others' with. */
	char boot_id[40];
};

void ks_host_meta_read(struct ks_host_meta *host);
void ks_host_meta_add(const struct ks_host_meta *host,
		      struct ks_otlp_attrs *attrs);

#endif /* KS_HOST_META_H */
