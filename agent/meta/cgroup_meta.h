/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The container and the Kubernetes pod a process runs in, from the paths
 * in /proc/PID/cgroup.  Container runtimes name a container's cgroup after
 * its 64-hex-digit id, and the kubelet a pod's cgroup after its UID, under
 * either cgroup driver (systemd or cgroupfs) and either cgroup version.
 * Containers nest (a kind node is a container running pods' containers):
 * the innermost container and pod on the path are the ones reported.
 *
 * The pod's namespace and name are not in the path: see pod_logs.h.
 */
#ifndef KS_CGROUP_META_H
#define KS_CGROUP_META_H

#include <stddef.h>
#include <stdint.h>

#define KS_CONTAINER_ID_LEN 64
/* A UUID with dashes; static pods have 32 hex digits instead. */
#define KS_POD_UID_MAX 36

enum ks_container_runtime {
	KS_RUNTIME_NONE = 0, /* not in a container */
	KS_RUNTIME_UNKNOWN, /* in a container whose path names no runtime */
	KS_RUNTIME_DOCKER,
	KS_RUNTIME_CONTAINERD,
	KS_RUNTIME_CRIO,
	KS_RUNTIME_PODMAN,
};

struct ks_cgroup_meta {
	/* Lower-case hex digits; empty outside containers. */
	char container_id[KS_CONTAINER_ID_LEN + 1];
	/* As in the pod's metadata.uid (dashes, not the systemd driver's
	 * underscores); empty outside Kubernetes pods. */
	char pod_uid[KS_POD_UID_MAX + 1];
	enum ks_container_runtime runtime;
};

/*
 * Parses the text of a /proc/PID/cgroup file, len bytes that need not end
 * in a NUL.  Every line is considered (cgroup v1 hierarchies, the v2
 * "0::" line, or both on hybrid hosts); the first line that tells the
 * most wins.  A process outside any container leaves *out all empty, and
 * lines that are not cgroup entries are skipped: neither is an error.
 */
void ks_cgroup_meta_parse(const char *text, size_t len,
			  struct ks_cgroup_meta *out);

/*
 * ks_cgroup_meta_parse() over /proc/PID/cgroup, under the proc root of
 * proc.h.  Returns 0, or -errno when the file cannot be read (the process
 * has exited, say), leaving *out all empty.
 */
int ks_cgroup_meta_read(uint32_t pid, struct ks_cgroup_meta *out);

/*
 * The runtime as OpenTelemetry's container.runtime.name spells it
 * ("docker", "containerd", "cri-o", "podman"); NULL when unknown or none.
 */
const char *ks_container_runtime_name(enum ks_container_runtime runtime);

#endif /* KS_CGROUP_META_H */
