/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A thread that keeps the pod cache (k8s_cache.h) in step with the API
 * server, as node agents and informers do: list the pods of this node
 * (fieldSelector=spec.nodeName=NODE, in pages), then watch them from the
 * list's resourceVersion, with bookmarks, again and again; list afresh
 * when the server says the version is gone (410).  The controllers of
 * the pods' ReplicaSets and Jobs are read once each (a GET), so that a
 * pod names its Deployment or CronJob.
 *
 * Failures never reach the traced programs nor the main loop: the thread
 * retries with exponential backoff (1 s to 30 s, with jitter), and
 * meanwhile what the cache does not know is named from cgroup paths and
 * pod log directories, as without the API.
 *
 * What the service account needs: list and watch on pods, get on
 * replicasets (apps) and jobs (batch).  Nothing else.
 */
#ifndef KS_K8S_WATCH_H
#define KS_K8S_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_cache.h"

/* A watch request ends after this long, and is made again. */
#define KS_K8S_WATCH_TIMEOUT_S 300

struct ks_k8s_watch_config {
	const char *api_url; /* NULL: in-cluster */
	const char *credentials; /* a service account directory */
	const char *node_name;
	struct ks_k8s_cache *cache;
};

enum ks_k8s_state {
	KS_K8S_STARTING, /* the first list has not come back yet */
	KS_K8S_SYNCED, /* listed, and watching */
	KS_K8S_UNREACHABLE, /* the last attempt failed; retrying */
};

struct ks_k8s_watch_stats {
	enum ks_k8s_state state;
	uint64_t lists; /* full lists read */
	uint64_t events; /* watch events applied */
	uint64_t owner_lookups;
	uint64_t failures; /* requests that failed */
	char last_error[160];
};

struct ks_k8s_watch;

/* Running when it returns; NULL with a message in err. */
struct ks_k8s_watch *ks_k8s_watch_start(const struct ks_k8s_watch_config *cfg,
					char *err, size_t err_size);
/* Ends the request in flight at once, joins the thread, frees. */
void ks_k8s_watch_stop(struct ks_k8s_watch *watch);
void ks_k8s_watch_stats(struct ks_k8s_watch *watch,
			struct ks_k8s_watch_stats *stats);
const char *ks_k8s_state_name(enum ks_k8s_state state);

#endif /* KS_K8S_WATCH_H */
