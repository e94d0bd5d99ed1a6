/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A pod's namespace and name from its UID (cgroup_meta.h finds the UID),
 * through the directory the kubelet keeps the pod's container logs in:
 * /var/log/pods/NAMESPACE_NAME_UID (the kubelet's BuildPodLogsDirectory,
 * since Kubernetes 1.14; the kubelet's podLogsDir setting moves the root).
 * Neither a namespace (a DNS label) nor a pod name (a DNS subdomain) may
 * hold '_', so the name splits one way only.
 *
 * Why this source, of those a node agent can read without the API server:
 * - /var/log/pods: one directory listing per pod, the same for every CRI
 *   runtime (containerd, CRI-O, cri-dockerd), and nothing to parse but the
 *   name.  The agent needs the directory mounted read-only from the host
 *   (log collectors mount it already), or reads it as
 *   /proc/1/root/var/log/pods with hostPID and CAP_SYS_PTRACE.
 * - The runtime's bundle of each container: containerd's
 *   /run/containerd/io.containerd.runtime.v2.task/k8s.io/ID/config.json
 *   carries the annotations io.kubernetes.cri.sandbox-name and
 *   io.kubernetes.cri.sandbox-namespace, CRI-O's config.json
 *   io.kubernetes.pod.name and io.kubernetes.pod.namespace: a JSON file of
 *   tens of KiB to parse per container, at a path and with keys that
 *   differ by runtime and distribution (k3s keeps containerd's under
 *   /run/k3s/containerd).
 * - /var/lib/kubelet/pods/UID/etc-hosts: the pod's host name, which is not
 *   its name when the spec sets hostname, and no namespace.
 * - The process's environment: the namespace is there only when the pod's
 *   spec puts it there (downward API), and reading it needs more than the
 *   cgroup file does.
 * - The API server: complete (labels, owners) but needs credentials, RBAC
 *   and a watch of every pod on the node: k8s_watch.h keeps that when the
 *   API can be reached, and these directories name what it does not know.
 */
#ifndef KS_POD_LOGS_H
#define KS_POD_LOGS_H

#include <stdbool.h>

#define KS_POD_LOGS_DIR "/var/log/pods"
/* A namespace is a DNS label, a pod name a DNS subdomain. */
#define KS_POD_NAMESPACE_MAX 63
#define KS_POD_NAME_MAX 253

struct ks_pod_names {
	char namespace_name[KS_POD_NAMESPACE_MAX + 1];
	char pod_name[KS_POD_NAME_MAX + 1];
};

/*
 * Splits dir_name, an entry of the pod logs directory, when it is the one
 * of the pod with UID pod_uid; false for any other name.
 */
bool ks_pod_names_from_log_dir(const char *dir_name, const char *pod_uid,
			       struct ks_pod_names *out);

/*
 * Looks the pod with UID pod_uid up in logs_dir (KS_POD_LOGS_DIR, or where
 * the host's is mounted).  Returns 0, -ENOENT when logs_dir has no entry
 * for the pod (it is not this kubelet's, or already gone), or the -errno of
 * listing logs_dir.
 */
int ks_pod_names_lookup(const char *logs_dir, const char *pod_uid,
			struct ks_pod_names *out);

#endif /* KS_POD_LOGS_H */
