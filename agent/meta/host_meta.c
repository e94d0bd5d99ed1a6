// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/small_file.h"
#include "meta/host_meta.h"

void ks_host_meta_read(struct ks_host_meta *host)
{
	const char *node = getenv("K8S_NODE_NAME");

	memset(host, 0, sizeof(*host));
	if (gethostname(host->name, sizeof(host->name) - 1))
		host->name[0] = '\0';
	/*
	 * In a pod, /etc is the image's: the node's machine id is in the
	 * root of pid 1, which hostPID makes the node's init.
	 */
	ks_read_first_line("/proc/1/root/etc/machine-id", host->id,
			   sizeof(host->id));
	if (!host->id[0])
		ks_read_first_line("/etc/machine-id", host->id,
				   sizeof(host->id));
	/* Not namespaced: the node's boot, in a container too. */
	ks_read_first_line("/proc/sys/kernel/random/boot_id", host->boot_id,
			   sizeof(host->boot_id));
	/* The DaemonSet sets it from the downward API (spec.nodeName). */
	if (node)
		snprintf(host->k8s_node_name, sizeof(host->k8s_node_name), "%s",
			 node);
}

void ks_host_meta_add(const struct ks_host_meta *host,
		      struct ks_otlp_attrs *attrs)
{
	if (host->name[0])
		ks_otlp_attrs_str(attrs, "host.name", host->name);
	if (host->id[0])
		ks_otlp_attrs_str(attrs, "host.id", host->id);
	ks_otlp_attrs_str(attrs, "os.type", "linux");
	if (host->k8s_node_name[0])
		ks_otlp_attrs_str(attrs, "k8s.node.name", host->k8s_node_name);
}
