/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP resource of a watched process, with zero code in it: the
 * service name it would give itself (OTEL_SERVICE_NAME, or service.name in
 * OTEL_RESOURCE_ATTRIBUTES, from its environment at exec), else its
 * executable's name; its process.* identity; and its container and pod.
 */
#ifndef KS_PROCESS_META_H
#define KS_PROCESS_META_H

#include <stdint.h>

#include "meta/host_meta.h"
#include "otlp/otlp_build.h"

/* Where the kubelet keeps pod log directories, seen through pid 1's root. */
#define KS_HOST_POD_LOGS "/proc/1/root/var/log/pods"

/*
 * Fills attrs for process tgid: first what the agent observes (process.*,
 * container, pod, host, telemetry.sdk.*), then what the process says about
 * itself in OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, which may add
 * attributes but never replace an observed one (see self_described.h),
 * then its executable's name as service.name if it gave none.
 */
void ks_process_meta_add(uint32_t tgid, const char *comm,
			 const struct ks_host_meta *host,
			 struct ks_otlp_attrs *attrs);

/*
 * Its service.name alone, as ks_process_meta_add() finds it, malloc()ed;
 * NULL on ENOMEM.
 */
char *ks_process_service_name(uint32_t tgid, const char *comm);

#endif /* KS_PROCESS_META_H */
