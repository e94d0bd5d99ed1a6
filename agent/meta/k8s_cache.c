// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "meta/k8s_cache.h"

struct ks_cached_pod {
	struct ks_k8s_pod pod;
	bool listed; /* seen in the list being read */
	UT_hash_handle hh;
};

/* "NAMESPACE/KIND/NAME" of a ReplicaSet or a Job, and its controller. */
struct ks_cached_owner {
	char key[sizeof(struct ks_k8s_owner_query)];
	struct ks_k8s_ref controller;
	UT_hash_handle hh;
};

struct ks_k8s_cache {
	pthread_mutex_t lock;
	struct ks_k8s_cache_config cfg;
	struct ks_cached_pod *pods;
	struct ks_cached_owner *owners;
	uint64_t generation;
	bool listing; /* between begin_list and end_list */
	uint64_t pods_refused;
	uint64_t labels_dropped;
};

/* Only these owners have owners worth naming: Deployments, CronJobs. */
static bool ks_has_parent(const struct ks_k8s_ref *ref)
{
	return ref->kind &&
	       (!strcmp(ref->kind, "ReplicaSet") || !strcmp(ref->kind, "Job"));
}

static void ks_owner_key(const char *namespace_name, const char *kind,
			 const char *name,
			 char key[sizeof(struct ks_k8s_owner_query)])
{
	snprintf(key, sizeof(struct ks_k8s_owner_query), "%s/%s/%s",
		 namespace_name, kind, name);
}

struct ks_k8s_cache *ks_k8s_cache_new(const struct ks_k8s_cache_config *cfg)
{
	struct ks_k8s_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	pthread_mutex_init(&cache->lock, NULL);
	cache->cfg = *cfg;
	cache->generation = 1;
	return cache;
}

static void ks_drop_pod(struct ks_k8s_cache *cache, struct ks_cached_pod *entry)
{
	HASH_DEL(cache->pods, entry);
	ks_k8s_pod_clear(&entry->pod);
	free(entry);
}

static void ks_drop_owner(struct ks_k8s_cache *cache,
			  struct ks_cached_owner *owner)
{
	HASH_DEL(cache->owners, owner);
	ks_k8s_ref_clear(&owner->controller);
	free(owner);
}

void ks_k8s_cache_free(struct ks_k8s_cache *cache)
{
	struct ks_cached_pod *pod, *next_pod;
	struct ks_cached_owner *owner, *next_owner;

	if (!cache)
		return;
	HASH_ITER(hh, cache->pods, pod, next_pod)
		ks_drop_pod(cache, pod);
	HASH_ITER(hh, cache->owners, owner, next_owner)
		ks_drop_owner(cache, owner);
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

/*
 * While a list is read, a pod it has not named yet is either gone or
 * about to come again: it makes room for one the list names.
 */
static void ks_make_room(struct ks_k8s_cache *cache)
{
	struct ks_cached_pod *entry, *next;

	if (!cache->listing || HASH_COUNT(cache->pods) < cache->cfg.max_pods)
		return;
	HASH_ITER(hh, cache->pods, entry, next)
		if (!entry->listed) {
			ks_drop_pod(cache, entry);
			return;
		}
}

void ks_k8s_cache_put(struct ks_k8s_cache *cache, struct ks_k8s_pod *pod)
{
	struct ks_cached_pod *entry;

	pthread_mutex_lock(&cache->lock);
	HASH_FIND_STR(cache->pods, pod->uid, entry);
	if (!entry)
		ks_make_room(cache);
	if (entry) {
		ks_k8s_pod_clear(&entry->pod);
	} else if (HASH_COUNT(cache->pods) >= cache->cfg.max_pods ||
		   !(entry = calloc(1, sizeof(*entry)))) {
		cache->pods_refused++;
		ks_k8s_pod_clear(pod);
		goto out;
	} else {
		memcpy(entry->pod.uid, pod->uid, sizeof(pod->uid));
		HASH_ADD_STR(cache->pods, pod.uid, entry);
	}
	cache->labels_dropped += pod->nr_dropped;
	entry->pod = *pod;
	entry->listed = true;
	memset(pod, 0, sizeof(*pod));
	cache->generation++;
out:
	pthread_mutex_unlock(&cache->lock);
}

void ks_k8s_cache_remove(struct ks_k8s_cache *cache, const char *uid)
{
	struct ks_cached_pod *entry;

	pthread_mutex_lock(&cache->lock);
	HASH_FIND_STR(cache->pods, uid, entry);
	if (entry) {
		ks_drop_pod(cache, entry);
		cache->generation++;
	}
	pthread_mutex_unlock(&cache->lock);
}

void ks_k8s_cache_begin_list(struct ks_k8s_cache *cache)
{
	struct ks_cached_pod *pod, *next;

	pthread_mutex_lock(&cache->lock);
	HASH_ITER(hh, cache->pods, pod, next)
		pod->listed = false;
	cache->listing = true;
	pthread_mutex_unlock(&cache->lock);
}

/* Owners no cached pod names any more: gone with their pods. */
static void ks_sweep_owners(struct ks_k8s_cache *cache)
{
	struct ks_cached_owner *owner, *next;
	struct ks_cached_pod *pod, *next_pod;
	char key[sizeof(owner->key)];

	HASH_ITER(hh, cache->owners, owner, next) {
		bool named = false;

		HASH_ITER(hh, cache->pods, pod, next_pod) {
			if (!ks_has_parent(&pod->pod.controller))
				continue;
			ks_owner_key(pod->pod.namespace_name,
				     pod->pod.controller.kind,
				     pod->pod.controller.name, key);
			if (!strcmp(key, owner->key)) {
				named = true;
				break;
			}
		}
		if (!named)
			ks_drop_owner(cache, owner);
	}
}

void ks_k8s_cache_end_list(struct ks_k8s_cache *cache)
{
	struct ks_cached_pod *pod, *next;

	pthread_mutex_lock(&cache->lock);
	HASH_ITER(hh, cache->pods, pod, next)
		if (!pod->listed)
			ks_drop_pod(cache, pod);
	cache->listing = false;
	ks_sweep_owners(cache);
	cache->generation++;
	pthread_mutex_unlock(&cache->lock);
}

static struct ks_cached_owner *ks_find_owner(struct ks_k8s_cache *cache,
					     const struct ks_k8s_pod *pod)
{
	struct ks_cached_owner *owner;
	char key[sizeof(owner->key)];

	ks_owner_key(pod->namespace_name, pod->controller.kind,
		     pod->controller.name, key);
	HASH_FIND_STR(cache->owners, key, owner);
	return owner;
}

static bool ks_query_listed(const struct ks_k8s_owner_query *out, size_t nr,
			    const struct ks_k8s_owner_query *query)
{
	for (size_t i = 0; i < nr; i++)
		if (!memcmp(&out[i], query, sizeof(*query)))
			return true;
	return false;
}

size_t ks_k8s_cache_unresolved(struct ks_k8s_cache *cache,
			       struct ks_k8s_owner_query *out, size_t max)
{
	struct ks_cached_pod *entry, *next;
	size_t nr = 0;

	pthread_mutex_lock(&cache->lock);
	HASH_ITER(hh, cache->pods, entry, next) {
		const struct ks_k8s_pod *pod = &entry->pod;
		struct ks_k8s_owner_query query = { 0 };

		if (nr == max)
			break;
		if (!ks_has_parent(&pod->controller) ||
		    ks_find_owner(cache, pod))
			continue;
		snprintf(query.namespace_name, sizeof(query.namespace_name),
			 "%s", pod->namespace_name);
		snprintf(query.kind, sizeof(query.kind), "%s",
			 pod->controller.kind);
		snprintf(query.name, sizeof(query.name), "%s",
			 pod->controller.name);
		if (!ks_query_listed(out, nr, &query))
			out[nr++] = query;
	}
	pthread_mutex_unlock(&cache->lock);
	return nr;
}

void ks_k8s_cache_set_owner(struct ks_k8s_cache *cache,
			    const struct ks_k8s_owner_query *query,
			    const struct ks_k8s_ref *controller)
{
	struct ks_cached_owner *owner;
	char key[sizeof(owner->key)];

	ks_owner_key(query->namespace_name, query->kind, query->name, key);
	pthread_mutex_lock(&cache->lock);
	HASH_FIND_STR(cache->owners, key, owner);
	if (!owner) {
		/* Each pod names one owner: room is made by those gone. */
		if (HASH_COUNT(cache->owners) >= cache->cfg.max_pods)
			ks_sweep_owners(cache);
		owner = calloc(1, sizeof(*owner));
		if (!owner)
			goto out;
		memcpy(owner->key, key, sizeof(key));
		HASH_ADD_STR(cache->owners, key, owner);
	}
	ks_k8s_ref_clear(&owner->controller);
	if (controller->kind) {
		owner->controller.kind = strdup(controller->kind);
		owner->controller.name = strdup(controller->name);
		if (!owner->controller.kind || !owner->controller.name)
			ks_k8s_ref_clear(&owner->controller);
	}
	cache->generation++;
out:
	pthread_mutex_unlock(&cache->lock);
}

enum ks_k8s_found ks_k8s_cache_add_attrs(struct ks_k8s_cache *cache,
					 const char *pod_uid,
					 const char *container_id,
					 enum ks_k8s_part parts,
					 struct ks_otlp_attrs *attrs)
{
	enum ks_k8s_found found = KS_K8S_UNKNOWN;
	const struct ks_cached_owner *owner = NULL;
	struct ks_cached_pod *entry;
	bool complete;

	pthread_mutex_lock(&cache->lock);
	HASH_FIND_STR(cache->pods, pod_uid, entry);
	if (!entry)
		goto out;
	if (ks_has_parent(&entry->pod.controller))
		owner = ks_find_owner(cache, &entry->pod);
	ks_k8s_pod_add_attrs(&entry->pod, container_id,
			     owner ? &owner->controller : NULL,
			     cache->cfg.well_known_labels, parts, attrs);
	complete = (!ks_has_parent(&entry->pod.controller) || owner) &&
		   (!container_id || !*container_id ||
		    ks_k8s_pod_container(&entry->pod, container_id));
	found = complete ? KS_K8S_COMPLETE : KS_K8S_POD;
out:
	pthread_mutex_unlock(&cache->lock);
	return found;
}

uint64_t ks_k8s_cache_generation(struct ks_k8s_cache *cache)
{
	uint64_t generation;

	pthread_mutex_lock(&cache->lock);
	generation = cache->generation;
	pthread_mutex_unlock(&cache->lock);
	return generation;
}

void ks_k8s_cache_stats(struct ks_k8s_cache *cache,
			struct ks_k8s_cache_stats *stats)
{
	pthread_mutex_lock(&cache->lock);
	stats->pods = HASH_COUNT(cache->pods);
	stats->owners = HASH_COUNT(cache->owners);
	stats->pods_refused = cache->pods_refused;
	stats->labels_dropped = cache->labels_dropped;
	pthread_mutex_unlock(&cache->lock);
}
