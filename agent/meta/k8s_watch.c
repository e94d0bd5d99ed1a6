// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "meta/k8s_api.h"
#include "meta/k8s_watch.h"

#define KS_K8S_PAGE 500
#define KS_K8S_REQUEST_TIMEOUT_MS 30000L
#define KS_K8S_BACKOFF_MIN_MS 1000
#define KS_K8S_BACKOFF_MAX_MS 30000
/* Owners read between two looks at the watch stream. */
#define KS_K8S_OWNERS_PER_ROUND 32

struct ks_k8s_watch {
	struct ks_k8s_cache *cache;
	struct ks_k8s_api api;
	char *selector; /* fieldSelector's value, URL-encoded */
	char resource_version[128];
	bool must_list; /* no version to watch from, or it is gone */
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t wake;
	bool stopping;
	struct ks_k8s_watch_stats stats;
};

/* What one transfer read. */
struct ks_transfer {
	struct ks_k8s_watch *watch;
	json_object *document; /* a whole response: a list, an owner */
	bool watching; /* a watch stream: each object is an event */
	/* A pod of the stream names an owner not read yet: the stream is
	 * left, to be taken up again from its version once it is. */
	bool owners_pending;
};

const char *ks_k8s_state_name(enum ks_k8s_state state)
{
	switch (state) {
	case KS_K8S_STARTING:
		return "starting";
	case KS_K8S_SYNCED:
		return "synced";
	case KS_K8S_UNREACHABLE:
		break;
	}
	return "unreachable";
}

static bool ks_stopping(struct ks_k8s_watch *watch)
{
	bool stopping;

	pthread_mutex_lock(&watch->lock);
	stopping = watch->stopping;
	pthread_mutex_unlock(&watch->lock);
	return stopping;
}

/* A failure, once in the log per outage, always in the statistics. */
static void ks_failed(struct ks_k8s_watch *watch, const char *what,
		      const char *why)
{
	bool first;

	pthread_mutex_lock(&watch->lock);
	first = watch->stats.state != KS_K8S_UNREACHABLE;
	watch->stats.state = KS_K8S_UNREACHABLE;
	watch->stats.failures++;
	snprintf(watch->stats.last_error, sizeof(watch->stats.last_error),
		 "%s: %s", what, why);
	pthread_mutex_unlock(&watch->lock);
	if (first)
		ks_warn("kubernetes API %s: %s: %s; pods are named from cgroups "
			"and pod log directories until it answers\n",
			watch->api.base_url, what, why);
}

static void ks_synced(struct ks_k8s_watch *watch)
{
	enum ks_k8s_state was;

	pthread_mutex_lock(&watch->lock);
	was = watch->stats.state;
	watch->stats.state = KS_K8S_SYNCED;
	watch->stats.lists++;
	pthread_mutex_unlock(&watch->lock);
	if (was != KS_K8S_SYNCED)
		ks_info("kubernetes API %s: watching the pods of this node\n",
			watch->api.base_url);
}

static void ks_count(struct ks_k8s_watch *watch, uint64_t *counter)
{
	pthread_mutex_lock(&watch->lock);
	(*counter)++;
	pthread_mutex_unlock(&watch->lock);
}

static void ks_note_version(struct ks_k8s_watch *watch, json_object *obj)
{
	json_object *metadata, *version;

	if (json_object_object_get_ex(obj, "metadata", &metadata) &&
	    json_object_object_get_ex(metadata, "resourceVersion", &version) &&
	    json_object_is_type(version, json_type_string))
		snprintf(watch->resource_version,
			 sizeof(watch->resource_version), "%s",
			 json_object_get_string(version));
}

static void ks_put_pod(struct ks_k8s_watch *watch, json_object *obj)
{
	struct ks_k8s_pod pod;

	if (!ks_k8s_pod_parse(obj, &pod))
		ks_k8s_cache_put(watch->cache, &pod);
}

/* {"type": "ADDED", "object": {...}}: one change of one pod. */
static int ks_apply_event(struct ks_transfer *transfer, json_object *event)
{
	struct ks_k8s_watch *watch = transfer->watch;
	struct ks_k8s_owner_query query;
	json_object *type, *obj, *code;
	const char *kind;

	if (!json_object_object_get_ex(event, "type", &type) ||
	    !json_object_object_get_ex(event, "object", &obj))
		return -EBADMSG;
	kind = json_object_get_string(type);
	if (!strcmp(kind, "ERROR")) {
		/* A Status; 410 Gone: the version is too old to watch from. */
		if (json_object_object_get_ex(obj, "code", &code) &&
		    json_object_get_int(code) == 410)
			watch->must_list = true;
		return -ESTALE;
	}
	if (!strcmp(kind, "ADDED") || !strcmp(kind, "MODIFIED")) {
		ks_put_pod(watch, obj);
		transfer->owners_pending |=
			ks_k8s_cache_unresolved(watch->cache, &query, 1) > 0;
	} else if (!strcmp(kind, "DELETED")) {
		struct ks_k8s_pod pod;

		if (!ks_k8s_pod_parse(obj, &pod)) {
			ks_k8s_cache_remove(watch->cache, pod.uid);
			ks_k8s_pod_clear(&pod);
		}
	} else if (strcmp(kind, "BOOKMARK")) {
		return -EBADMSG;
	}
	ks_note_version(watch, obj);
	ks_count(watch, &watch->stats.events);
	return 0;
}

static int ks_on_object(void *ctx, json_object *obj)
{
	struct ks_transfer *transfer = ctx;

	if (transfer->watching)
		return ks_apply_event(transfer, obj);
	if (transfer->document)
		return -EBADMSG;
	transfer->document = json_object_get(obj);
	return 0;
}

/*
 * Runs one GET on the thread's multi handle until it ends or the watch
 * stops (-EINTR): 0 with *status, or -errno with a message in why.
 */
static int ks_run(struct ks_k8s_watch *watch, const char *path, long timeout_ms,
		  struct ks_transfer *transfer, long *status, char *why,
		  size_t why_size)
{
	char error[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	struct ks_k8s_reader reader;
	CURL *easy = NULL;
	CURLMsg *msg;
	int running = 1, left, err = 0;
	CURLcode result = CURLE_OK;

	*status = 0;
	if (ks_k8s_reader_init(&reader, ks_on_object, transfer))
		goto no_memory;
	easy = ks_k8s_api_request(&watch->api, path, &headers);
	if (!easy)
		goto no_memory;
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, ks_k8s_reader_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reader);
	if (curl_multi_add_handle(watch->multi, easy))
		goto no_memory;
	while (running && !transfer->owners_pending) {
		if (ks_stopping(watch)) {
			err = -EINTR;
			break;
		}
		if (curl_multi_perform(watch->multi, &running) ||
		    (running &&
		     curl_multi_poll(watch->multi, NULL, 0, 1000, NULL))) {
			snprintf(why, why_size, "libcurl failed");
			err = -EIO;
			break;
		}
	}
	while ((msg = curl_multi_info_read(watch->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			result = msg->data.result;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
	curl_multi_remove_handle(watch->multi, easy);
	if (!err && reader.failed && *status == 200) {
		snprintf(why, why_size, "malformed response");
		err = -EBADMSG;
	} else if (!err && result != CURLE_OK && !reader.failed) {
		snprintf(why, why_size, "%s",
			 *error ? error : curl_easy_strerror(result));
		err = -EIO;
	} else if (!err && *status != 200) {
		snprintf(why, why_size, "HTTP status %ld", *status);
		err = -EPROTO;
	}
	goto cleanup;
no_memory:
	snprintf(why, why_size, "out of memory");
	err = -ENOMEM;
cleanup:
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
	ks_k8s_reader_clear(&reader);
	return err;
}

/* Every pod of the node, page by page, in place of what was cached. */
static int ks_list(struct ks_k8s_watch *watch)
{
	char why[CURL_ERROR_SIZE + 32], *path = NULL, *next = NULL;
	int err = 0;

	ks_k8s_cache_begin_list(watch->cache);
	do {
		struct ks_transfer transfer = { .watch = watch };
		json_object *items, *metadata, *token;
		char *escaped = next ? curl_easy_escape(NULL, next, 0) : NULL;
		long status;

		free(path);
		path = NULL;
		if (asprintf(&path,
			     "/api/v1/pods?fieldSelector=%s&limit=%d%s%s",
			     watch->selector, KS_K8S_PAGE,
			     escaped ? "&continue=" : "",
			     escaped ? escaped : "") < 0)
			path = NULL;
		curl_free(escaped);
		free(next);
		next = NULL;
		if (!path) {
			err = -ENOMEM;
			break;
		}
		err = ks_run(watch, path, KS_K8S_REQUEST_TIMEOUT_MS, &transfer,
			     &status, why, sizeof(why));
		if (!err && (!transfer.document ||
			     !json_object_object_get_ex(transfer.document,
							"items", &items) ||
			     !json_object_is_type(items, json_type_array))) {
			snprintf(why, sizeof(why), "not a list of pods");
			err = -EBADMSG;
		}
		if (err) {
			json_object_put(transfer.document);
			if (err != -EINTR)
				ks_failed(watch, "listing pods", why);
			break;
		}
		for (size_t i = 0; i < json_object_array_length(items); i++)
			ks_put_pod(watch, json_object_array_get_idx(items, i));
		ks_note_version(watch, transfer.document);
		if (json_object_object_get_ex(transfer.document, "metadata",
					      &metadata) &&
		    json_object_object_get_ex(metadata, "continue", &token) &&
		    json_object_get_string_len(token))
			next = strdup(json_object_get_string(token));
		json_object_put(transfer.document);
	} while (next);
	free(path);
	if (err)
		return err;
	ks_k8s_cache_end_list(watch->cache);
	watch->must_list = false;
	ks_synced(watch);
	return 0;
}

/* Changes from the listed version on, until the server ends the request. */
static int ks_watch(struct ks_k8s_watch *watch)
{
	struct ks_transfer transfer = { .watch = watch, .watching = true };
	char why[CURL_ERROR_SIZE + 32], *path = NULL;
	long status;
	int err;

	if (asprintf(&path,
		     "/api/v1/pods?fieldSelector=%s&watch=1"
		     "&allowWatchBookmarks=true&timeoutSeconds=%d"
		     "&resourceVersion=%s",
		     watch->selector, KS_K8S_WATCH_TIMEOUT_S,
		     watch->resource_version) < 0)
		return -ENOMEM;
	err = ks_run(watch, path, (KS_K8S_WATCH_TIMEOUT_S + 30) * 1000L,
		     &transfer, &status, why, sizeof(why));
	free(path);
	/* A stale version is no failure: list again. */
	if (watch->must_list)
		return 0;
	if (status == 410) {
		watch->must_list = true;
		return 0;
	}
	if (err && err != -EINTR)
		ks_failed(watch, "watching pods", why);
	return err;
}

/* Reads the controller of each ReplicaSet and Job the cache names. */
static int ks_resolve_owners(struct ks_k8s_watch *watch)
{
	struct ks_k8s_owner_query queries[KS_K8S_OWNERS_PER_ROUND];
	size_t nr = ks_k8s_cache_unresolved(watch->cache, queries,
					    KS_K8S_OWNERS_PER_ROUND);

	for (size_t i = 0; i < nr; i++) {
		struct ks_transfer transfer = { .watch = watch };
		bool job = !strcmp(queries[i].kind, "Job");
		char why[CURL_ERROR_SIZE + 32], *path = NULL;
		struct ks_k8s_ref controller = { 0 };
		json_object *metadata;
		long status;
		int err;

		if (asprintf(&path, "/apis/%s/namespaces/%s/%s/%s",
			     job ? "batch/v1" : "apps/v1",
			     queries[i].namespace_name,
			     job ? "jobs" : "replicasets", queries[i].name) < 0)
			return -ENOMEM;
		err = ks_run(watch, path, KS_K8S_REQUEST_TIMEOUT_MS, &transfer,
			     &status, why, sizeof(why));
		free(path);
		ks_count(watch, &watch->stats.owner_lookups);
		if (err == -EPROTO) {
			/* Gone, or not allowed: the pod keeps its own owner. */
			if (status == 403)
				ks_failed(watch, queries[i].kind,
					  "forbidden: the service account "
					  "may not get it");
		} else if (err) {
			if (err != -EINTR)
				ks_failed(watch, queries[i].kind, why);
			json_object_put(transfer.document);
			return err;
		} else if (json_object_object_get_ex(transfer.document,
						     "metadata", &metadata)) {
			ks_k8s_ref_parse(metadata, &controller);
		}
		ks_k8s_cache_set_owner(watch->cache, &queries[i], &controller);
		ks_k8s_ref_clear(&controller);
		json_object_put(transfer.document);
	}
	return 0;
}

/* Sleeps for the backoff, or until stopped. */
static void ks_back_off(struct ks_k8s_watch *watch, unsigned int *backoff_ms)
{
	struct timespec until;
	unsigned int wait_ms;

	*backoff_ms = *backoff_ms ? *backoff_ms * 2 : KS_K8S_BACKOFF_MIN_MS;
	if (*backoff_ms > KS_K8S_BACKOFF_MAX_MS)
		*backoff_ms = KS_K8S_BACKOFF_MAX_MS;
	/* Agents of a whole cluster must not come back all at once. */
	wait_ms =
		*backoff_ms / 2 + (unsigned int)rand() % (*backoff_ms / 2 + 1);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&watch->lock);
	while (!watch->stopping &&
	       pthread_cond_timedwait(&watch->wake, &watch->lock, &until) !=
		       ETIMEDOUT)
		;
	pthread_mutex_unlock(&watch->lock);
}

static void *ks_watch_thread(void *ctx)
{
	struct ks_k8s_watch *watch = ctx;
	unsigned int backoff_ms = 0;

	while (!ks_stopping(watch)) {
		int err = 0;

		if (watch->must_list)
			err = ks_list(watch);
		if (!err)
			err = ks_resolve_owners(watch);
		if (!err)
			err = ks_watch(watch);
		if (err == -EINTR)
			break;
		if (err)
			ks_back_off(watch, &backoff_ms);
		else
			backoff_ms = 0;
	}
	return NULL;
}

static void ks_watch_free(struct ks_k8s_watch *watch)
{
	if (watch->multi)
		curl_multi_cleanup(watch->multi);
	curl_free(watch->selector);
	ks_k8s_api_clear(&watch->api);
	pthread_cond_destroy(&watch->wake);
	pthread_mutex_destroy(&watch->lock);
	free(watch);
}

struct ks_k8s_watch *ks_k8s_watch_start(const struct ks_k8s_watch_config *cfg,
					char *err, size_t err_size)
{
	struct ks_k8s_watch *watch = calloc(1, sizeof(*watch));
	pthread_condattr_t attr;
	char *selector = NULL;

	if (!watch) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&watch->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&watch->wake, &attr);
	pthread_condattr_destroy(&attr);
	watch->cache = cfg->cache;
	watch->must_list = true;
	if (ks_k8s_api_init(&watch->api, cfg->api_url, cfg->credentials, err,
			    err_size))
		goto fail;
	if (asprintf(&selector, "spec.nodeName=%s", cfg->node_name) < 0)
		selector = NULL;
	watch->selector = selector ? curl_easy_escape(NULL, selector, 0) : NULL;
	free(selector);
	watch->multi = curl_multi_init();
	if (!watch->selector || !watch->multi) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (pthread_create(&watch->thread, NULL, ks_watch_thread, watch)) {
		snprintf(err, err_size, "cannot start a thread");
		goto fail;
	}
	return watch;
fail:
	ks_watch_free(watch);
	return NULL;
}

void ks_k8s_watch_stop(struct ks_k8s_watch *watch)
{
	if (!watch)
		return;
	pthread_mutex_lock(&watch->lock);
	watch->stopping = true;
	pthread_cond_broadcast(&watch->wake);
	pthread_mutex_unlock(&watch->lock);
	/* Out of curl_multi_poll() now, not at its next timeout. */
	curl_multi_wakeup(watch->multi);
	pthread_join(watch->thread, NULL);
	ks_watch_free(watch);
}

void ks_k8s_watch_stats(struct ks_k8s_watch *watch,
			struct ks_k8s_watch_stats *stats)
{
	pthread_mutex_lock(&watch->lock);
	*stats = watch->stats;
	pthread_mutex_unlock(&watch->lock);
}
