/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * This node's pods as the API server last told, and the controllers of
 * their ReplicaSets and Jobs: written by the watch's thread (k8s_watch.h),
 * read by the main thread when it names a process's resource.  A mutex
 * guards both sides for the time of a copy; pods are parsed before it is
 * taken.  Bounded: at most max_pods pods (a node runs 110 by default),
 * beyond which new ones are counted and left out, and as many owners,
 * as each pod has one at most.
 */
#ifndef KS_K8S_CACHE_H
#define KS_K8S_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_pod.h"
#include "otlp/otlp_build.h"

#define KS_K8S_DEFAULT_MAX_PODS 1024

struct ks_k8s_cache_config {
	size_t max_pods;
	/* app.kubernetes.io/ labels may name services (opt-in). */
	bool well_known_labels;
};

struct ks_k8s_cache_stats {
	uint64_t pods; /* cached now */
	uint64_t owners; /* controllers of ReplicaSets and Jobs known */
	uint64_t pods_refused; /* over max_pods */
	uint64_t labels_dropped; /* over a pod's limits */
};

/* A ReplicaSet or Job whose own controller is not known yet. */
struct ks_k8s_owner_query {
	char namespace_name[64];
	char kind[16];
	char name[254];
};

struct ks_k8s_cache;

struct ks_k8s_cache *ks_k8s_cache_new(const struct ks_k8s_cache_config *cfg);
void ks_k8s_cache_free(struct ks_k8s_cache *cache);

/* --- The watch's side. */

/* Takes *pod (left empty) in place of the pod with its UID. */
void ks_k8s_cache_put(struct ks_k8s_cache *cache, struct ks_k8s_pod *pod);
void ks_k8s_cache_remove(struct ks_k8s_cache *cache, const char *uid);
/*
 * A full list replaces everything: pods not put between begin and end
 * are removed, as the API server no longer has them.
 */
void ks_k8s_cache_begin_list(struct ks_k8s_cache *cache);
void ks_k8s_cache_end_list(struct ks_k8s_cache *cache);
/*
 * Up to max owners (ReplicaSets, Jobs) of cached pods whose controllers
 * are not known yet; how many.
 */
size_t ks_k8s_cache_unresolved(struct ks_k8s_cache *cache,
			       struct ks_k8s_owner_query *out, size_t max);
/* What controls that owner: controller->kind NULL when nothing does. */
void ks_k8s_cache_set_owner(struct ks_k8s_cache *cache,
			    const struct ks_k8s_owner_query *query,
			    const struct ks_k8s_ref *controller);

/* --- The readers' side. */

enum ks_k8s_found {
	KS_K8S_UNKNOWN, /* no such pod cached */
	KS_K8S_POD, /* the pod, but not the container or its owner yet */
	KS_K8S_COMPLETE, /* the pod, the container and its owners */
};

/*
 * Adds those parts of the attributes of a process in that pod and
 * container (see ks_k8s_pod_add_attrs()); KS_K8S_UNKNOWN adds nothing.
 */
enum ks_k8s_found ks_k8s_cache_add_attrs(struct ks_k8s_cache *cache,
					 const char *pod_uid,
					 const char *container_id,
					 enum ks_k8s_part parts,
					 struct ks_otlp_attrs *attrs);
/*
 * Goes up, from 1, with every change: what was looked up while something
 * was missing is worth looking up again once it moved.
 */
uint64_t ks_k8s_cache_generation(struct ks_k8s_cache *cache);
void ks_k8s_cache_stats(struct ks_k8s_cache *cache,
			struct ks_k8s_cache_stats *stats);

#endif /* KS_K8S_CACHE_H */
