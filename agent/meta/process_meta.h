/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP resource of a watched process, with zero code in it: the
 * service name it would give itself (OTEL_SERVICE_NAME, or service.name in
 * OTEL_RESOURCE_ATTRIBUTES, from its environment at exec), else its
 * executable's name; its process.* identity; and its container and pod.
 *
 * With the Kubernetes API's pods (k8s_cache.h), a process in a pod gets
 * its workload, labels and container name among what is observed, and
 * after what it says itself, the service name its pod's annotations or
 * workload give it, ahead of its executable's name; without, or while the
 * API does not know the pod, the pod's namespace and name come from the
 * kubelet's log directories.  What was looked up while the API did not
 * know everything yet is "unsettled": worth looking up again once
 * ks_k8s_cache_generation() moved.
 */
#ifndef KS_PROCESS_META_H
#define KS_PROCESS_META_H

#include <stdbool.h>
#include <stdint.h>

#include "meta/host_meta.h"
#include "meta/k8s_cache.h"
#include "otlp/otlp_build.h"

/* Where the kubelet keeps pod log directories, seen through pid 1's root. */
#define KS_HOST_POD_LOGS "/proc/1/root/var/log/pods"

/*
 * Fills attrs for process tgid, started start_ticks after boot (0:
 * unknown, read from /proc): first what the agent observes (process.*,
 * its pod from the API, container, pod, host, telemetry.sdk.*), then what
 * the process says about itself in OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES, which may add attributes but never replace an
 * observed one (see self_described.h), then what its pod says and its
 * workload implies (service.*), then, if nothing named one, its
 * executable's name as service.name, and a derived service.instance.id
 * (below).  pods may be NULL.  Whether the result is settled: false while
 * the API may yet tell more about its pod.
 */
bool ks_process_meta_add(uint32_t tgid, const char *comm, uint64_t start_ticks,
			 const struct ks_host_meta *host,
			 struct ks_k8s_cache *pods,
			 struct ks_otlp_attrs *attrs);

/* A UUID as text, with its dashes. */
#define KS_UUID_TEXT_SIZE 37

/*
 * service.instance.id of process pid: a UUID v5 (in the namespace the
 * semantic conventions suggest for generated ids,
 * 4d63009a-8d0f-11ee-aad7-4c796ed8e320) of "BOOT_ID/PID/START", the
 * host's boot id, the pid and the process's start time in clock ticks
 * since boot (start_ticks, or 0 to read it from /proc).  The same
 * process gets the same id from every agent run; a pid reused later, or
 * on another boot or host, gets another.  0, or -1 when the start time
 * is unknown and the process gone.
 */
int ks_service_instance_id(const struct ks_host_meta *host, uint32_t pid,
			   uint64_t start_ticks, char id[KS_UUID_TEXT_SIZE]);

/*
 * The attributes of attrs as text, key then value, in a malloc()ed array
 * of malloc()ed strings (*nr of them), the first of each key only; attrs
 * is left as it was.  -ENOMEM.
 */
int ks_attrs_as_text(const struct ks_otlp_attrs *attrs, char ***pairs,
		     size_t *nr);
/* The value of key among what ks_attrs_as_text() made, or NULL. */
const char *ks_attrs_text_find(char *const *pairs, size_t nr, const char *key);
/* Frees what ks_attrs_as_text() made: nr strings, then the array. */
void ks_attrs_text_free(char **pairs, size_t nr);

#endif /* KS_PROCESS_META_H */
